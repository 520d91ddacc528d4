'use strict'
// The backoff between failed refreshes, observed from Node below the JavaScript snapshot cache
// (native `resolve()` called directly) on a session clock running 50 times as fast as the
// system's (a test-only variable, read by this process only): waits of 1 s doubling, each
// jittered down to half, capped at 10 s with nothing cached and at 60 s while a valid credential
// is served; that credential is served until its safety margin and never after.

// 50: fast enough for a short test, slow enough that a busy machine's event-loop delays (tens of
// real milliseconds, with DEBUG logging on) stay within the tolerance below.
const SCALE = 50
const T0 = Date.now()
process.env.ALICLOUD_CREDENTIALS_NATIVE_TEST_CLOCK_SCALE = `${SCALE}@${T0}`

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, randomKey } = require('../helpers')
const { startSts } = require('../mocks')

clearAlibabaEnv()
const { credentialNew, nativeResolve } = require('../../binding.js')
const { toNativeConfig } = require('../../options.js')

// What the sessions' clock reads at system time `t` (ms).
const scaled = (t) => T0 + (t - T0) * SCALE
const { id: keyId, secret: keySecret } = randomKey()
const REFUSED = { status: 403, body: { Code: 'NoPermission', Message: 'refused (not retried, so one request per refresh)' } }
// Timing noise of a request and of the loop, 20 real milliseconds, in session seconds.
const TOLERANCE_S = (20 * SCALE) / 1000

let sts
test.before(async () => {
  sts = await startSts({ tls: false, keys: { [keyId]: { secret: keySecret } } })
})
test.after(() => sts.close())

function native(session) {
  const handle = credentialNew(toNativeConfig({ type: 'ram_role_arn', accessKeyId: keyId, accessKeySecret: keySecret, roleArn: 'acs:ram::1:role/backoff', roleSessionName: session, stsEndpoint: sts.endpoint }))
  return { resolve: () => nativeResolve(handle) }
}

// The waits between one answer and the next request, in session seconds: a backoff runs from the
// end of the failed exchange, whose own duration (a few real milliseconds on a busy machine, so
// hundreds of session milliseconds) is left out.
function gapsOf(requests) {
  return requests.slice(1).map((r, i) => (scaled(r.at) - scaled(requests[i].done)) / 1000)
}

function assertWithin(gap, lo, hi, what) {
  assert.ok(gap >= lo - TOLERANCE_S && gap <= hi + TOLERANCE_S, `${what}: ${gap.toFixed(2)} s, expected ${lo} to ${hi} s`)
}

test('nothing cached: waits of 1, 2, 4, 8 s jittered, then capped at 10 s', { timeout: 30_000 }, async () => {
  sts.reset()
  sts.set(REFUSED)
  const c = native('backoff-cold')
  const end = Date.now() + 120_000 / SCALE // two minutes of session time
  let calls = 0
  while (Date.now() < end) {
    const outcome = await c.resolve()
    assert.match(outcome.error.message, /NoPermission/)
    calls++
  }
  const gaps = gapsOf(sts.state.requests)
  console.log(`# ${calls} calls, ${sts.state.requests.length} requests; gaps (s): ${gaps.map((g) => g.toFixed(2)).join(' ')}`)
  assert.ok(gaps.length >= 8, `${gaps.length} gaps`)
  ;[[0.5, 1], [1, 2], [2, 4], [4, 8]].forEach(([lo, hi], i) => assertWithin(gaps[i], lo, hi, `wait ${i + 1}`))
  gaps.slice(4).forEach((g, i) => assertWithin(g, 5, 10, `capped wait ${i + 5}`))
})

test('a valid credential served meanwhile: waits doubling up to the 60 s cap, served until its margin only', { timeout: 60_000 }, async () => {
  sts.reset()
  // A credential living 900 session seconds (18 s here): its window opens after 600 s.
  const now = Date.now()
  sts.set({ expiresInMs: scaled(now) - now + 900_000 })
  const c = native('backoff-valid')
  const first = await c.resolve()
  assert.equal(first.value.accessKeyId, 'STS.issued-1')
  const expiration = first.value.expiration
  sts.set(REFUSED)
  let served = 0
  let lastServed = 0
  let refused = 0
  while (scaled(Date.now()) < expiration + 5000) {
    const outcome = await c.resolve()
    const at = scaled(Date.now())
    if (outcome.value) {
      assert.equal(outcome.value.accessKeyId, 'STS.issued-1')
      assert.ok(at < expiration, 'never after its expiry')
      served++
      lastServed = at
    } else {
      assert.match(outcome.error.message, /NoPermission/)
      refused++
    }
  }
  // The refreshes while the credential was served: before its margin, less a second for the
  // millisecond resolution of the mock's times (after the margin, callers start cold ones, and
  // the refresh the margin cut short is at the margin).
  const failing = sts.state.requests.slice(1).filter((r) => scaled(r.at) < expiration - 10_000 - 1000)
  const gaps = gapsOf(failing)
  console.log(`# served ${served}, refused ${refused}; first refresh ${((scaled(failing[0].at) - (expiration - 900_000)) / 1000).toFixed(1)} s in; gaps (s): ${gaps.map((g) => g.toFixed(2)).join(' ')}`)
  // The first refresh at the window (600 s into 900), then 1, 2, 4, ... 32 s, then at most 60 s.
  assertWithin((scaled(failing[0].at) - (expiration - 900_000)) / 1000, 600, 600, 'the window opens')
  ;[[0.5, 1], [1, 2], [2, 4], [4, 8], [8, 16], [16, 32]].forEach(([lo, hi], i) => assertWithin(gaps[i], lo, hi, `wait ${i + 1}`))
  // The capped waits (the one the safety margin cut short ends after it, so is not among them).
  const capped = gaps.slice(6)
  assert.ok(capped.length >= 2, `${capped.length} capped waits`)
  capped.forEach((g, i) => assertWithin(g, 30, 60, `capped wait ${i + 7}`))
  // Served until 10 s before expiry (the safety margin), not after.
  assert.ok(lastServed >= expiration - 10_000 - 1000 && lastServed < expiration - 10_000 + TOLERANCE_S * 1000, `last served ${(expiration - lastServed) / 1000} s before expiry`)
})
