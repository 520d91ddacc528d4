'use strict'
// No failure turns into a request storm: a caller looping on a failing source, or on a source that
// hands out expired credentials, makes a handful of requests, not one per call; once the source is
// back, the first call after the backoff window succeeds.

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, randomKey } = require('../helpers')
const { TEST_CA, startSts, startUri } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const { id: keyId, secret: keySecret } = randomKey()
let sts
test.before(async () => {
  sts = await startSts({ keys: { [keyId]: { secret: keySecret } } })
})
test.after(() => sts.close())

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('STS answering 503: 2000 sequential calls make a handful of requests, then recover', async () => {
  sts.reset()
  sts.set({ status: 503, body: { Code: 'ServiceUnavailable', Message: 'try later' } })
  const c = new Credential({ type: 'ram_role_arn', accessKeyId: keyId, accessKeySecret: keySecret, roleArn: 'acs:ram::1:role/storm', roleSessionName: 'storm-503', stsEndpoint: sts.endpoint })
  let failures = 0
  for (let i = 0; i < 2000; i++) {
    await c.getCredential().catch((e) => {
      assert.match(e.message, /503/)
      failures++
    })
  }
  assert.equal(failures, 2000)
  // One refresh (a 503 is retried twice inside it), perhaps a second after the first backoff.
  assert.ok(sts.state.requests.length <= 6, `${sts.state.requests.length} requests`)
  // The source is back: after the window (at most a few seconds here), a call succeeds.
  sts.set({ status: 0, body: undefined })
  let ok = null
  for (let i = 0; i < 100 && ok === null; i++) {
    await sleep(100)
    ok = await c.getCredential().catch(() => null)
  }
  assert.ok(ok, 'recovered')
  assert.match(ok.accessKeyId, /^STS\.issued-\d+$/)
  assert.ok(sts.state.requests.length <= 20, `${sts.state.requests.length} requests`)
})

test('a server handing out expired credentials: 500 calls make a handful of requests', async () => {
  const uri = await startUri({ expiresInMs: -60_000 })
  try {
    const c = new Credential({ type: 'credentials_uri', credentialsURI: uri.url })
    for (let i = 0; i < 500; i++) {
      await assert.rejects(c.getCredential(), /expired/)
    }
    assert.ok(uri.state.requests.length <= 3, `${uri.state.requests.length} requests`)
    // The server hands out valid credentials again: after the window, a call succeeds.
    uri.set({ expiresInMs: 3600_000 })
    let ok = null
    for (let i = 0; i < 100 && ok === null; i++) {
      await sleep(100)
      ok = await c.getCredential().catch(() => null)
    }
    assert.ok(ok, 'recovered')
    assert.match(ok.accessKeyId, /^STS\.uri-\d+$/)
    assert.ok(uri.state.requests.length <= 10, `${uri.state.requests.length} requests`)
  } finally {
    await uri.close()
  }
})

test('STS answering 503 to 200 concurrent cold callers: one refresh, and every caller gets its error', async () => {
  sts.reset()
  sts.set({ status: 503, body: { Code: 'ServiceUnavailable', Message: 'try later' } })
  const c = new Credential({ type: 'ram_role_arn', accessKeyId: keyId, accessKeySecret: keySecret, roleArn: 'acs:ram::1:role/storm', roleSessionName: 'storm-concurrent', stsEndpoint: sts.endpoint })
  const outcomes = await Promise.allSettled(Array.from({ length: 200 }, () => c.getCredential()))
  assert.ok(outcomes.every((o) => o.status === 'rejected' && /503/.test(o.reason.message)))
  // One refresh: the first attempt and its two retries.
  assert.equal(sts.state.requests.length, 3)
  sts.reset()
})

test('ten-minute credentials: 500 calls make one request', async () => {
  // Ten minutes left: the window opens after 400 s.
  const uri = await startUri({ expiresInMs: 10 * 60_000 })
  try {
    const c = new Credential({ type: 'credentials_uri', credentialsURI: uri.url })
    for (let i = 0; i < 500; i++) {
      assert.equal((await c.getCredential()).accessKeyId, 'STS.uri-1')
    }
    assert.equal(uri.state.requests.length, 1)
  } finally {
    await uri.close()
  }
})

test('native single flight, below the JavaScript snapshot cache: 100 objects of one identity called at once', async () => {
  // Each Credential has its own snapshot cache, so all 100 calls reach the native session of
  // their shared identity at once: only its single flight keeps them to one request.
  sts.reset()
  sts.set({ delayMs: 200 })
  const config = { type: 'ram_role_arn', accessKeyId: keyId, accessKeySecret: keySecret, roleArn: 'acs:ram::1:role/storm', roleSessionName: 'storm-native-flight', stsEndpoint: sts.endpoint }
  const results = await Promise.all(Array.from({ length: 100 }, () => new Credential(config).getCredential()))
  assert.ok(results.every((r) => r.accessKeyId === 'STS.issued-1'))
  assert.equal(sts.state.requests.length, 1)
  // A refusal is shared the same way: one request, every caller gets the error.
  sts.reset()
  sts.set({ delayMs: 200, status: 403, body: { Code: 'NoPermission', Message: 'no' } })
  const failing = { ...config, roleSessionName: 'storm-native-flight-refused' }
  const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => new Credential(failing).getCredential()))
  assert.ok(outcomes.every((o) => o.status === 'rejected' && /NoPermission/.test(o.reason.message)))
  assert.equal(sts.state.requests.length, 1)
  sts.reset()
})
