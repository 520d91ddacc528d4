'use strict'
// The JavaScript snapshot cache serves a cached session credential without reading the clock; it
// must still let go of it when the native side said it may no longer be reused: by a timer when
// the event loop turns, and within 1024 calls when a loop starves the timers.

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, randomKey } = require('../helpers')
const { TEST_CA, startSts } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const { id: keyId, secret: keySecret } = randomKey()
// Credentials living 4.5 s: due for refresh (the window opens) after 3 s.
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

test('a timer lets go of the snapshot when it is due for refresh', async () => {
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

test('a loop of awaits that starves the timers still asks the native side within 1024 calls', async () => {
  sts.reset()
  const c = credential()
  const first = (await c.getCredential()).accessKeyId
  block(3100)
  // The window is open. Within 1025 calls the snapshot cache reads the clock and asks the native
  // side, which starts the refresh in the background (served from cache meanwhile).
  for (let i = 0; i < 1025; i++) assert.equal((await c.getCredential()).accessKeyId, first)
  for (let i = 0; i < 100 && sts.state.requests.length < 2; i++) await sleep(10)
  assert.equal(sts.state.requests.length, 2, 'the refresh started from the loop')
  await sleep(1100)
  assert.notEqual((await c.getCredential()).accessKeyId, first)
})
