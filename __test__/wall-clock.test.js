'use strict'
// The wall clock decides expiry at every layer: a child process holding a Credential has its
// wall clock moved by libfaketime (its monotonic clock, and so its timers, run on) as a laptop's
// sleep, a VM migration or an NTP step would, and the first call after the jump must see it.
// For each session type: +2 h (past the expiry of a 1 h credential), into the refresh window,
// back 1 h during the backoff after a failed refresh, and a 10 s credential after an idle spell.
// Skipped, saying why, where libfaketime cannot be loaded (not in CI: there it must run).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, tempDir, randomKey } = require('./helpers')
const { startSts, startMetadata, startUri } = require('./mocks')
const { findLibfaketime, WallClock, startChild } = require('./faketime')

clearAlibabaEnv()

const lib = findLibfaketime()
// In CI the library is installed (.ci/run): its absence there is a failure, not a skip.
const skip = lib.path || process.env.CI ? false : lib.why
if (skip) console.log(`# wall-clock tests skipped: ${skip}`)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const HOUR = 3600_000
// The least a credential is handed out with (the safety margin of any lifetime over 4 s), less
// what the child's own call takes between the check and its Date.now().
const MIN_LEFT_MS = 2000 - 100
const REFUSED = { status: 403, body: { Code: 'NoPermission', Message: 'refused by the mock' } }
const dir = tempDir('acn-wall-')
const tokenFile = path.join(dir, 'oidc-token')
fs.writeFileSync(tokenFile, 'oidc-wall-token')

// Each session type: its mock and the Credential config (and environment) that uses it.
const TYPES = {
  async ram_role_arn() {
    const key = randomKey()
    const mock = await startSts({ tls: false, keys: { [key.id]: { secret: key.secret } } })
    const config = { type: 'ram_role_arn', accessKeyId: key.id, accessKeySecret: key.secret, roleArn: 'acs:ram::1:role/wall', roleSessionName: 'wall-clock', stsEndpoint: mock.endpoint }
    return { mock, config, env: {} }
  },
  async oidc_role_arn() {
    const mock = await startSts({ tls: false, oidcToken: 'oidc-wall-token' })
    const config = { type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/wall', oidcProviderArn: 'acs:ram::1:oidc-provider/wall', oidcTokenFilePath: tokenFile, stsEndpoint: mock.endpoint }
    return { mock, config, env: {} }
  },
  async ecs_ram_role() {
    const mock = await startMetadata()
    return { mock, config: { type: 'ecs_ram_role' }, env: { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: mock.url } }
  },
  async credentials_uri() {
    const mock = await startUri()
    return { mock, config: { type: 'credentials_uri', credentialsURI: mock.url }, env: {} }
  },
}

// The n of a mock's n-th issued credential, from its AccessKey ID (`STS.issued-3`, `STS.ecs-3`).
const nth = (id) => Number(/(\d+)$/.exec(id)[1])

// Runs `fn` with a child holding a Credential of `type` whose mock issues credentials living
// `lifetimeMs` on the child's clock.
async function session(type, lifetimeMs, fn) {
  if (!lib.path) throw new Error(`libfaketime is required here: ${lib.why}`)
  const clock = new WallClock(lib.path)
  const { mock, config, env } = await TYPES[type]()
  const expiries = clock.drive(mock, lifetimeMs)
  const child = startChild(clock, config, env)
  // Seconds a served credential had left on the child's clock when its call returned.
  const left = (served) => {
    assert.ok(!served.error, `${type}: ${served.error}`)
    return expiries.get(nth(served.id)) - served.now
  }
  try {
    await fn({ clock, mock, child, expiries, left })
  } catch (e) {
    e.message += `\n(child stderr: ${child.stderr.slice(0, 1000)})`
    throw e
  } finally {
    await child.close()
    await mock.close()
  }
}

async function until(what, predicate, ms = 5000) {
  const end = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > end) return false
    await sleep(20)
  }
  return true
}

for (const type of Object.keys(TYPES)) {
  test(`${type}: wall clock +2 h past the expiry of a 1 h credential: the next call never gets it`, { skip, timeout: 60_000 }, () =>
    session(type, HOUR, async ({ clock, child, expiries, left }) => {
      const first = await child.get()
      assert.ok(left(first) > 3500_000, `fresh: ${left(first)} ms left`)
      clock.setNow(expiries.get(nth(first.id)) + HOUR)
      const next = await child.get()
      assert.ok(left(next) >= MIN_LEFT_MS, `${type}: after +2 h the first call got ${next.id} with ${left(next)} ms left`)
      assert.notEqual(next.id, first.id)
    }),
  )

  test(`${type}: wall clock moved into the refresh window: the first call starts the refresh, the next call after it lands gets its result`, { skip, timeout: 60_000 }, () =>
    session(type, HOUR, async ({ clock, mock, child, expiries, left }) => {
      const first = await child.get()
      // Ten minutes before expiry: inside every session type's window, far from the margin.
      clock.setNow(expiries.get(nth(first.id)) - 10 * 60_000)
      const next = await child.get()
      assert.ok(left(next) >= MIN_LEFT_MS, `${left(next)} ms left`)
      const started = await until('the refresh', () => mock.state.issued >= 2)
      assert.ok(started, `${type}: no refresh within 5 s of the first call in the window (issued ${mock.state.issued})`)
      // The answer is sent; give the child a moment to read it, then the next call serves it.
      await sleep(300)
      const after = await child.get()
      assert.equal(nth(after.id), 2, `${type}: the call after the refresh landed got ${after.id}`)
    }),
  )

  test(`${type}: wall clock stepped back 1 h during the backoff after a failed refresh: the backoff is not stretched`, { skip, timeout: 60_000 }, () =>
    session(type, HOUR, async ({ clock, mock, child, left }) => {
      mock.set(REFUSED)
      const failed = await child.get()
      assert.ok(failed.error, `the first call fails: ${JSON.stringify(failed)}`)
      clock.set(-HOUR)
      mock.set({ status: 0 })
      // The first backoff is at most 1 s (jittered): within 8 s a call gets through.
      const end = Date.now() + 8000
      let last
      while (Date.now() < end) {
        last = await child.get()
        if (!last.error) break
        await sleep(200)
      }
      assert.ok(!last.error, `${type}: 8 s after the mock recovered, calls still get: ${last.error}`)
      assert.ok(left(last) > 3500_000, `${left(last)} ms left`)
    }),
  )

  test(`${type}: a 10 s credential after an idle spell is never handed out with under 2 s left`, { skip, timeout: 60_000 }, () =>
    session(type, 10_000, async ({ clock, child, expiries, left }) => {
      const first = await child.get()
      // Idle until 1.5 s before its expiry (a sleep of the machine, or just a quiet spell).
      clock.setNow(expiries.get(nth(first.id)) - 1500)
      const next = await child.get()
      assert.ok(left(next) >= MIN_LEFT_MS, `${type}: after the idle spell the call got ${next.id} with ${left(next)} ms left`)
    }),
  )
}
