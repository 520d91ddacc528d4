'use strict'
// ram_role_arn against the loopback mock STS over HTTPS (test CA through NODE_EXTRA_CA_CERTS):
// wire fields, signature (checked by the mock with Node's crypto), errors, caching, single-flight,
// refresh, serve-while-valid, no expired credential, timeouts.

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, withEnv, runNodeAsync, isolatedEnv } = require('../helpers')
const { TEST_CA, startSts, issued } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const KEYS = {
  'LTAI-source-ak': { secret: 'source-secret' },
  'STS.source-sts': { secret: 'sts-source-secret', token: 'sts-source-token' },
}
const ROLE = 'acs:ram::1234567890:role/test-role'

let sts
test.before(async () => {
  sts = await startSts({ keys: KEYS })
})
test.after(() => sts.close())
test.beforeEach(() => sts.reset())

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// Credentials of one identity share one cache in a process: each config gets a session name of
// its own unless the test names one (or asks for the default with `roleSessionName: undefined`).
let identities = 0
function akConfig(extra = {}) {
  return {
    type: 'ram_role_arn',
    accessKeyId: 'LTAI-source-ak',
    accessKeySecret: 'source-secret',
    roleArn: ROLE,
    stsEndpoint: sts.endpoint,
    roleSessionName: `test-identity-${++identities}`,
    ...extra,
  }
}

test('happy path from an AccessKey: result, provider name, wire fields', async () => {
  const c = new Credential(akConfig({ roleSessionName: undefined }))
  assert.equal(c.getType(), 'ram_role_arn')
  const r = await c.getCredential()
  assert.deepEqual(r, { ...issued(1), type: 'ram_role_arn', providerName: 'ram_role_arn/static_ak' })
  assert.equal(sts.state.requests.length, 1)
  const { method, query, form, headers } = sts.state.requests[0]
  assert.equal(method, 'POST')
  assert.deepEqual(Object.keys(query).sort(), [
    'AccessKeyId', 'Action', 'Format', 'Signature', 'SignatureMethod', 'SignatureNonce', 'SignatureVersion', 'Timestamp', 'Version',
  ])
  assert.equal(query.Action, 'AssumeRole')
  assert.equal(query.AccessKeyId, 'LTAI-source-ak')
  assert.equal(form.RoleArn, ROLE)
  assert.match(form.RoleSessionName, /^credentials-nodejs-\d{13}$/)
  assert.equal(form.DurationSeconds, '3600')
  assert.equal(form.Policy, undefined)
  assert.equal(form.ExternalId, undefined)
  assert.equal(headers['x-acs-credentials-provider'], 'static_ak')
  assert.match(headers['user-agent'], /^alicloud-credentials-native\/\d+\.\d+\.\d+ \(linux; x86_64\) Node\.js\/v\d+\.\d+\.\d+$/)
})

test('from an STS token: SecurityToken in the query and ram_role_arn/static_sts', async () => {
  const c = new Credential({
    type: 'ram_role_arn',
    accessKeyId: 'STS.source-sts',
    accessKeySecret: 'sts-source-secret',
    securityToken: 'sts-source-token',
    roleArn: ROLE,
    stsEndpoint: sts.endpoint,
  })
  const r = await c.getCredential()
  assert.equal(r.providerName, 'ram_role_arn/static_sts')
  assert.equal(sts.state.requests[0].query.SecurityToken, 'sts-source-token')
  assert.equal(sts.state.requests[0].headers['x-acs-credentials-provider'], 'static_sts')
})

test('policy, externalId, session name and expiration go into the signed form', async () => {
  const policy = '{"Statement":[{"Action":["oss:Get*"],"Effect":"Allow","Resource":["*"]}],"Version":"1"}'
  const c = new Credential(akConfig({ policy, externalId: 'ext-123', roleSessionName: 'my session/1', roleSessionExpiration: 1200 }))
  await c.getCredential()
  const { form } = sts.state.requests[0]
  assert.equal(form.Policy, policy)
  assert.equal(form.ExternalId, 'ext-123')
  assert.equal(form.RoleSessionName, 'my session/1')
  assert.equal(form.DurationSeconds, '1200')
})

test('environment fallbacks: role ARN, session name, STS endpoint, external id, source keys', async () => {
  await withEnv(
    {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'LTAI-source-ak',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'source-secret',
      ALIBABA_CLOUD_ROLE_ARN: ROLE,
      ALIBABA_CLOUD_ROLE_SESSION_NAME: 'env-session',
      ALIBABA_CLOUD_STS_ENDPOINT: sts.endpoint,
      ALIBABA_CLOUD_EXTERNAL_ID: 'env-external',
    },
    async () => {
      const r = await new Credential({ type: 'ram_role_arn' }).getCredential()
      assert.equal(r.accessKeyId, 'STS.issued-1')
    },
  )
  const { form } = sts.state.requests[0]
  assert.equal(form.RoleSessionName, 'env-session')
  assert.equal(form.ExternalId, 'env-external')
})

test('errors before any request: missing role ARN, short session', () => {
  assert.throws(() => new Credential(akConfig({ roleArn: undefined })), { message: 'the RoleArn is empty', code: 'ERR_CREDENTIALS_INVALID_CONFIG' })
  assert.throws(() => new Credential(akConfig({ roleSessionExpiration: 899 })), {
    message: 'session duration should be in the range of 900s - max session duration',
  })
  assert.throws(() => new Credential(akConfig({ accessKeyId: '' })), { message: 'the access key id is empty' })
  assert.equal(sts.state.requests.length, 0)
})

test('a wrong secret is reported as such (server string-to-sign equals ours)', async () => {
  const c = new Credential(akConfig({ accessKeySecret: 'not-the-secret' }))
  await assert.rejects(c.getCredential(), (e) => {
    assert.equal(e.message, 'the access key secret is invalid')
    assert.equal(e.code, 'ERR_CREDENTIALS_INVALID_SECRET')
    return true
  })
})

test('other STS errors carry the STS Code and Message', async () => {
  const c = new Credential(akConfig({ accessKeyId: 'LTAI-unknown' }))
  await assert.rejects(c.getCredential(), (e) => {
    assert.match(e.message, /^refresh session token failed: HTTP 404, Code: InvalidAccessKeyId\.NotFound, Message: Specified access key is not found\., RequestId: req-1$/)
    assert.equal(e.code, 'ERR_CREDENTIALS_STS')
    return true
  })
})

test('a non-JSON answer is an error that says so', async () => {
  sts.set({ garbage: true })
  await assert.rejects(new Credential(akConfig()).getCredential(), /refresh RoleArn sts token err, unmarshal fail: not valid JSON/)
})

test('100 concurrent cold callers make exactly one AssumeRole request', async () => {
  sts.set({ delayMs: 100 })
  const c = new Credential(akConfig())
  const results = await Promise.all(Array.from({ length: 100 }, () => c.getCredential()))
  assert.equal(sts.state.requests.length, 1)
  assert.ok(results.every((r) => r.accessKeyId === results[0].accessKeyId))
})

test('100 concurrent cold callers share one failure too', async () => {
  sts.set({ delayMs: 100, status: 500 })
  const c = new Credential(akConfig())
  const outcomes = await Promise.allSettled(Array.from({ length: 100 }, () => c.getCredential()))
  assert.ok(outcomes.every((o) => o.status === 'rejected'))
  // One refresh: its first attempt and the two retries a 500 gets.
  assert.equal(sts.state.requests.length, 3)
})

test('the cached credential is served without new requests', async () => {
  const c = new Credential(akConfig())
  for (let i = 0; i < 50; i++) await c.getCredential()
  await c.getAccessKeyId()
  assert.equal(sts.state.requests.length, 1)
})

// Sleeps until `ms` before the expiry of the credential the mock issued last (to the millisecond:
// the mock sends milliseconds for lifetimes under 5 s; describe() gives whole seconds).
async function sleepUntilBeforeExpiry(ms) {
  const expiry = sts.state.requests.at(-1).at + sts.state.expiresInMs
  await sleep(expiry - ms - Date.now())
}

test('refreshes in the background once its window opens', async () => {
  // 4.5 s credentials: the window opens 3 s before expiry, the safety margin 2 s before.
  sts.set({ expiresInMs: 4500 })
  const c = new Credential(akConfig())
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  await sleepUntilBeforeExpiry(3300)
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  assert.equal(sts.state.requests.length, 1, 'not before the window')
  await sleepUntilBeforeExpiry(2600)
  // The window is open: served from cache at once while one refresh runs behind it.
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  // (A busy machine may take a second or more over the TLS handshake.)
  for (let i = 0; i < 500 && sts.state.issued < 2; i++) await sleep(10)
  assert.equal(sts.state.issued, 2, 'the refresh was answered')
  await sleep(100)
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-2', 'served from the call after the refresh landed')
  assert.equal(sts.state.requests.length, 2)
})

test('a failed refresh serves the unexpired credential, then backs off', async () => {
  sts.set({ expiresInMs: 4500 })
  const c = new Credential(akConfig())
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  await sleepUntilBeforeExpiry(2700)
  sts.set({ status: 403, body: { Code: 'NoPermission', Message: 'no' } })
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1', 'in the window: served')
  for (let i = 0; i < 100 && sts.state.requests.length < 2; i++) await sleep(10)
  await sleep(100)
  assert.equal(sts.state.requests.length, 2, 'one refresh attempt')
  for (let i = 0; i < 20; i++) assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  assert.equal(sts.state.requests.length, 2, 'no retry inside the backoff')
})

test('never an expired credential: once expired, the refresh error is returned', async () => {
  sts.set({ expiresInMs: 1500 })
  const c = new Credential(akConfig())
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  sts.set({ status: 503 })
  await sleep(1700)
  await assert.rejects(c.getCredential(), /refresh session token failed: HTTP 503, Code: ServiceUnavailable/)
  await assert.rejects(c.getAccessKeyId(), /ServiceUnavailable/)
})

test('a stalling STS times out with the configured timeouts', async () => {
  sts.set({ stall: true })
  const c = new Credential(akConfig({ timeout: 300, connectTimeout: 300 }))
  const started = Date.now()
  await assert.rejects(c.getCredential(), (e) => {
    assert.match(e.message, /^POST https:\/\/127\.0\.0\.1:\d+\/ failed: timeout after 600 ms$/)
    assert.equal(e.code, 'ERR_CREDENTIALS_TIMEOUT')
    return true
  })
  assert.ok(Date.now() - started < 5000)
})

test('separate getters read one snapshot across a refresh', async () => {
  // 4.9 s credentials: the refresh window opens 3 s before expiry, the safety margin retires
  // them 2 s before; the pin lasts as long as the native side hands the credential out.
  sts.set({ expiresInMs: 4900 })
  const c = new Credential(akConfig())
  const id = await c.getAccessKeyId()
  const expiry = sts.state.requests.at(-1).at + 4900
  await sleep(expiry - 2800 - Date.now())
  // In the window: this call starts a refresh, and once it landed the next one gets it; the
  // pinned secret and token still match the id.
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-1')
  for (let i = 0; i < 50 && sts.state.issued < 2; i++) await sleep(10)
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-2')
  const secret = await c.getAccessKeySecret()
  const token = await c.getSecurityToken()
  assert.ok(Date.now() < expiry - 2000, 'still before the safety margin (a slow machine: run again)')
  assert.equal(id, 'STS.issued-1')
  assert.equal(secret, 'issued-secret-1')
  assert.equal(token, 'issued-token-1')
  assert.equal(await c.getAccessKeyId(), 'STS.issued-2')
  assert.equal(await c.getAccessKeySecret(), 'issued-secret-2')
})

test('an STS endpoint with a scheme is used as given (plain http here)', async () => {
  const plain = await startSts({ tls: false, keys: KEYS })
  try {
    const r = await new Credential(akConfig({ stsEndpoint: plain.endpoint })).getCredential()
    assert.equal(r.accessKeyId, 'STS.issued-1')
    assert.equal(plain.state.requests.length, 1)
  } finally {
    await plain.close()
  }
})

test('a server certificate from an untrusted CA is refused with a TLS error', async () => {
  const rogue = await startSts({ keys: KEYS, cert: 'untrusted' })
  try {
    await assert.rejects(new Credential(akConfig({ stsEndpoint: rogue.endpoint })).getCredential(), (e) => {
      assert.equal(e.code, 'ERR_CREDENTIALS_TLS')
      assert.match(e.message, /TLS error/)
      return true
    })
    assert.equal(rogue.state.requests.length, 0)
  } finally {
    await rogue.close()
  }
})

test('same result keys and provider name as the official package against the same mock', async () => {
  const code = `
const ours = require('alicloud-credentials-native')
const official = require('@alicloud/credentials')
const cfg = ${JSON.stringify(akConfig())}
Promise.all([new ours(cfg).getCredential(), new official.default(new official.Config(cfg)).getCredential()]).then(([a, b]) => {
  console.log(JSON.stringify({ a: Object.keys(a), b: Object.keys({ ...b }), pa: a.providerName, pb: b.providerName, ta: a.type, tb: b.type }))
}, (e) => { console.error(e); process.exit(1) })`
  const r = await runNodeAsync(code, { env: isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA, NO_PROXY: '127.0.0.1,localhost' }) })
  assert.equal(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout)
  assert.deepEqual(out.a, out.b)
  assert.equal(out.pa, out.pb)
  assert.equal(out.ta, out.tb)
})
