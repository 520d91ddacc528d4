'use strict'
// The JavaScript snapshot cache serves a cached session credential without a native call while
// the wall clock, read at every call, is before the time the native side said it may be reused
// until; the first call after that asks the native side, however long the event loop was
// starved, and once the refresh window is open every call asks, so a refresh's result is served
// from the call after it lands. (A wall clock that jumps: __test__/wall-clock.test.js.)

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, randomKey } = require('../helpers')
const { TEST_CA, startSts } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const { id: keyId, secret: keySecret } = randomKey()
// Credentials living 4.5 s (the mock sends milliseconds under 5 s): the window opens 3 s before
// expiry, the safety margin retires them 2 s before.
const LIFE_MS = 4500
let sts
test.before(async () => {
  sts = await startSts({ keys: { [keyId]: { secret: keySecret } }, expiresInMs: LIFE_MS })
})
test.after(() => sts.close())

let identities = 0
const credential = () =>
  new Credential({ type: 'ram_role_arn', accessKeyId: keyId, accessKeySecret: keySecret, roleArn: 'acs:ram::1:role/snap', roleSessionName: `snap-${++identities}`, stsEndpoint: sts.endpoint })
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
// Blocks this thread without turning the event loop: no timer can fire meanwhile.
const block = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
// The expiry of the credential the mock issued last, to within the time its answer took.
const lastExpiry = () => sts.state.requests.at(-1).at + LIFE_MS

test('the snapshot is let go of when it is due for refresh', { timeout: 30_000 }, async () => {
  sts.reset()
  const c = credential()
  const first = (await c.getCredential()).accessKeyId
  let next = first
  for (let i = 0; i < 60 && next === first; i++) {
    await sleep(100)
    next = (await c.getCredential()).accessKeyId
  }
  assert.notEqual(next, first, 'refreshed after the snapshot was due')
  assert.equal(sts.state.requests.length, 2)
})

test('a loop of awaits that starves the timers: the first call once the window is open asks the native side, and the refresh is served from the call after it lands', { timeout: 30_000 }, async () => {
  sts.reset()
  const c = credential()
  const first = (await c.getCredential()).accessKeyId
  const expiry = lastExpiry()
  // Between the window and the margin, without turning the event loop.
  block(expiry - 2500 - Date.now())
  assert.equal((await c.getCredential()).accessKeyId, first, 'served from cache meanwhile')
  // The refresh started from that one call (no other call until it was answered: the timers
  // turn here only so that the mock, in this process, can answer); the loop of awaits then sees
  // its result as soon as it lands.
  for (let i = 0; i < 500 && sts.state.issued < 2; i++) await sleep(10)
  assert.equal(sts.state.issued, 2, 'the refresh started from the first call in the window')
  let served = first
  let calls = 0
  const end = Date.now() + 5000
  while (served === first && Date.now() < end) {
    served = (await c.getCredential()).accessKeyId
    calls++
  }
  assert.equal(sts.state.requests.length, 2, 'one refresh for all those calls')
  assert.notEqual(served, first, `the refresh's result after ${calls} calls`)
})

test('the event loop blocked from before the window to past the safety margin: the first call after never gets the old credential', { timeout: 30_000 }, async () => {
  // Blocked from before the window to past the margin: the first call after sees the clock.
  sts.reset()
  const c = credential()
  const first = (await c.getCredential()).accessKeyId
  const expiry = lastExpiry()
  block(expiry - 1000 - Date.now())
  const next = (await c.getCredential()).accessKeyId
  assert.notEqual(next, first, 'a credential within its safety margin is never handed out')
  assert.equal(sts.state.requests.length, 2)
})

test('the deprecated getters: a lone getAccessKeySecret() within the safety margin never gets the pinned secret of a credential about to expire', { timeout: 30_000 }, async () => {
  sts.reset()
  const c = credential()
  assert.equal(await c.getAccessKeyId(), 'STS.issued-1')
  const expiry = lastExpiry()
  // Past the native side's safety margin (2 s before expiry), without turning the event loop:
  // no timer can end the pin, only the wall clock read at the call.
  block(expiry - 1500 - Date.now())
  const secret = await c.getAccessKeySecret()
  assert.notEqual(secret, 'issued-secret-1', 'the pin ends where the native side stops handing the credential out')
  // The next credential, whole: the pin taken by that call holds the new secret and token.
  assert.equal(secret, 'issued-secret-2')
  assert.equal(await c.getSecurityToken(), 'issued-token-2')
  assert.equal(await c.getAccessKeyId(), 'STS.issued-2')
  assert.equal(sts.state.requests.length, 2)
})
