'use strict'
// oidc_role_arn, ecs_ram_role and credentials_uri against loopback mocks, and background refresh
// that never keeps the process alive.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, withEnv, tempDir, runNodeAsync, isolatedEnv } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startUri } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const dir = tempDir('acn-oidc-')
const tokenFile = path.join(dir, 'token')
let oidcToken = 'oidc-token-v1'
const ROLE = 'acs:ram::1234567890:role/oidc-role'
const PROVIDER = 'acs:ram::1234567890:oidc-provider/ack-rrsa'

let sts
test.before(async () => {
  fs.writeFileSync(tokenFile, oidcToken)
  sts = await startSts({ oidcToken: () => oidcToken })
})
test.after(() => sts.close())

// ---- oidc_role_arn ----

function oidcConfig(extra = {}) {
  return { type: 'oidc_role_arn', roleArn: ROLE, oidcProviderArn: PROVIDER, oidcTokenFilePath: tokenFile, stsEndpoint: sts.endpoint, ...extra }
}

test('oidc_role_arn: result, provider name and the unsigned AssumeRoleWithOIDC request', async () => {
  sts.reset()
  const c = new Credential(oidcConfig({ roleSessionName: 'pod-1', policy: '{"Version":"1"}' }))
  const r = await c.getCredential()
  assert.deepEqual(r, {
    accessKeyId: 'STS.issued-1',
    accessKeySecret: 'issued-secret-1',
    securityToken: 'issued-token-1',
    type: 'oidc_role_arn',
    providerName: 'oidc_role_arn',
  })
  const { query, form } = sts.state.requests[0]
  assert.equal(query.Action, 'AssumeRoleWithOIDC')
  assert.equal(query.Signature, undefined)
  assert.deepEqual(form, {
    OIDCProviderArn: PROVIDER,
    OIDCToken: 'oidc-token-v1',
    RoleArn: ROLE,
    Policy: '{"Version":"1"}',
    RoleSessionName: 'pod-1',
    DurationSeconds: '3600',
  })
})

test('oidc_role_arn: the token file is re-read at each refresh', async () => {
  sts.reset()
  // Past its safety margin after 1.9 s: the next call refreshes.
  sts.set({ expiresInMs: 2000 })
  const c = new Credential(oidcConfig())
  await c.getCredential()
  oidcToken = 'oidc-token-v2'
  fs.writeFileSync(tokenFile, oidcToken)
  await sleep(1900)
  assert.equal((await c.getCredential()).accessKeyId, 'STS.issued-2')
  assert.equal(sts.state.requests[1].form.OIDCToken, 'oidc-token-v2')
})

test('oidc_role_arn: environment fallbacks', async () => {
  sts.reset()
  await withEnv(
    { ALIBABA_CLOUD_ROLE_ARN: ROLE, ALIBABA_CLOUD_OIDC_PROVIDER_ARN: PROVIDER, ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile, ALIBABA_CLOUD_STS_ENDPOINT: sts.endpoint },
    async () => {
      assert.equal((await new Credential({ type: 'oidc_role_arn' }).getCredential()).providerName, 'oidc_role_arn')
    },
  )
})

test('oidc_role_arn: the official messages for missing options', () => {
  assert.throws(() => new Credential({ type: 'oidc_role_arn' }), { message: 'roleArn does not exist and env ALIBABA_CLOUD_ROLE_ARN is null.' })
  assert.throws(() => new Credential({ type: 'oidc_role_arn', roleArn: ROLE }), {
    message: 'oidcProviderArn does not exist and env ALIBABA_CLOUD_OIDC_PROVIDER_ARN is null.',
  })
  assert.throws(() => new Credential({ type: 'oidc_role_arn', roleArn: ROLE, oidcProviderArn: PROVIDER }), {
    message: 'oidcTokenFilePath is not exists and env ALIBABA_CLOUD_OIDC_TOKEN_FILE is null.',
  })
})

test('oidc_role_arn: a missing token file and an STS refusal are clear errors', async () => {
  await assert.rejects(new Credential(oidcConfig({ oidcTokenFilePath: path.join(dir, 'nope') })).getCredential(), /cannot read the OIDC token file .*nope/)
  sts.reset()
  fs.writeFileSync(tokenFile, 'forged-token')
  // An identity of its own: a credential of the same config earlier in this file holds a cache.
  await assert.rejects(new Credential(oidcConfig({ roleSessionName: 'forged-token-case' })).getCredential(), (e) => {
    assert.match(e.message, /^get sts token failed with OIDC: HTTP 400, Code: AuthenticationFail\.OIDCToken\.Invalid/)
    assert.ok(!e.message.includes('forged-token'))
    return true
  })
  fs.writeFileSync(tokenFile, oidcToken)
})

// ---- ecs_ram_role ----

async function withMetadata(options, fn) {
  const md = await startMetadata(options)
  try {
    return await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }, () => fn(md))
  } finally {
    await md.close()
  }
}

test('ecs_ram_role: IMDSv2 token, role discovery, credentials', async () => {
  await withMetadata({ imdsv2: 'required' }, async (md) => {
    const c = new Credential({ type: 'ecs_ram_role' })
    const r = await c.getCredential()
    assert.deepEqual(r, {
      accessKeyId: 'STS.ecs-1',
      accessKeySecret: 'ecs-secret-1',
      securityToken: 'ecs-token-1',
      type: 'ecs_ram_role',
      providerName: 'ecs_ram_role',
    })
    const calls = md.state.requests.map((q) => `${q.method} ${q.path}`)
    assert.deepEqual(calls, [
      'PUT /latest/api/token',
      'GET /latest/meta-data/ram/security-credentials/',
      'GET /latest/meta-data/ram/security-credentials/EcsRamRoleTest',
    ])
    assert.equal(md.state.requests[1].headers['x-aliyun-ecs-metadata-token'], 'metadata-token-1')
    assert.equal(md.state.tokens, 1, 'the metadata token is reused, not fetched again')
  })
})

test('ecs_ram_role: roleName / ALIBABA_CLOUD_ECS_METADATA skip discovery', async () => {
  await withMetadata({}, async (md) => {
    await new Credential({ type: 'ecs_ram_role', roleName: 'EcsRamRoleTest' }).getCredential()
    assert.ok(!md.state.requests.some((q) => q.path === '/latest/meta-data/ram/security-credentials/'))
    await withEnv({ ALIBABA_CLOUD_ECS_METADATA: 'EcsRamRoleTest' }, async () => {
      await new Credential({ type: 'ecs_ram_role' }).getCredential()
    })
    assert.equal(md.state.requests.filter((q) => q.path === '/latest/meta-data/ram/security-credentials/').length, 0)
  })
})

test('ecs_ram_role: falls back to IMDSv1 when the token call fails, unless disabled', async () => {
  await withMetadata({ imdsv2: 'off' }, async (md) => {
    const r = await new Credential({ type: 'ecs_ram_role' }).getCredential()
    assert.equal(r.accessKeyId, 'STS.ecs-1')
    assert.equal(md.state.requests[1].headers['x-aliyun-ecs-metadata-token'], undefined)
    await assert.rejects(new Credential({ type: 'ecs_ram_role', disableIMDSv1: true }).getCredential(), /get metadata token failed with 404/)
    await withEnv({ ALIBABA_CLOUD_IMDSV1_DISABLED: 'true' }, async () => {
      await assert.rejects(new Credential({ type: 'ecs_ram_role' }).getCredential(), /get metadata token failed/)
    })
  })
})

test('ecs_ram_role: ALIBABA_CLOUD_ECS_METADATA_DISABLED refuses', async () => {
  await withEnv({ ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }, () => {
    assert.throws(() => new Credential({ type: 'ecs_ram_role' }), { message: 'IMDS credentials is disabled', code: 'ERR_CREDENTIALS_DISABLED' })
  })
})

test('ecs_ram_role: errors from the metadata service', async () => {
  // One metadata service per case: a failure is remembered for its identity during the backoff.
  await withMetadata({}, async (md) => {
    md.set({ code: 'Failure' })
    await assert.rejects(new Credential({ type: 'ecs_ram_role' }).getCredential(), /refresh Ecs sts token err, Code is not Success/)
  })
  // A garbage role name, then (the role given) a garbage credentials document: one error each.
  await withMetadata({}, async (md) => {
    md.set({ garbage: true })
    await assert.rejects(new Credential({ type: 'ecs_ram_role' }).getCredential(), { message: 'get role name failed: the metadata service returned no usable role name' })
  })
  await withMetadata({}, async (md) => {
    md.set({ garbage: true })
    await assert.rejects(new Credential({ type: 'ecs_ram_role', roleName: 'EcsRamRoleTest' }).getCredential(), {
      message: 'get sts token failed, json parse failed: not valid JSON (expected value) at line 1 column 1',
    })
  })
  await withMetadata({}, async (md) => {
    md.set({ stall: true })
    await assert.rejects(new Credential({ type: 'ecs_ram_role', timeout: 200, connectTimeout: 200, disableIMDSv1: true }).getCredential(), (e) => {
      assert.match(e.message, /timeout after 400 ms/)
      return true
    })
  })
})

test('ecs_ram_role: refreshes in the background in its window, serving the cached one', async () => {
  // Credentials living 3.5 to 4.5 s (the mock's expirations are whole seconds): the window opens
  // 3 s before expiry, the safety margin 2 s before; 2.5 s before expiry is between the two.
  await withMetadata({ expiresInMs: 4500 }, async (md) => {
    const c = new Credential({ type: 'ecs_ram_role' })
    assert.equal((await c.getCredential()).accessKeyId, 'STS.ecs-1')
    const expiry = Date.parse((await c.describe()).expiration)
    await sleep(expiry - 2500 - Date.now())
    assert.equal((await c.getCredential()).accessKeyId, 'STS.ecs-1', 'served at once from cache')
    for (let i = 0; i < 250 && md.state.issued < 2; i++) await sleep(20)
    assert.equal(md.state.issued, 2, 'the refresh was answered')
    await sleep(100)
    assert.equal((await c.getCredential()).accessKeyId, 'STS.ecs-2', 'served from the call after the refresh landed')
  })
})

test('ecs_ram_role: asyncCredentialUpdateEnabled refreshes with no caller', async () => {
  // Credentials living 4.5 s: the background loop refreshes after 3 s.
  await withMetadata({ expiresInMs: 4500 }, async (md) => {
    const c = new Credential({ type: 'ecs_ram_role', asyncCredentialUpdateEnabled: true })
    for (let i = 0; i < 150 && md.state.issued < 2; i++) await sleep(20)
    assert.ok(md.state.issued >= 1, 'fetched without a caller')
    for (let i = 0; i < 200 && md.state.issued < 2; i++) await sleep(20)
    assert.ok(md.state.issued >= 2, 'prefetched again in the background')
    assert.match((await c.getCredential()).accessKeyId, /^STS\.ecs-\d+$/)
  })
})

// ---- credentials_uri ----

test('credentials_uri: result and provider name (credential_uri, sic)', async () => {
  const uri = await startUri()
  try {
    const r = await new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential()
    assert.deepEqual(r, {
      accessKeyId: 'STS.uri-1',
      accessKeySecret: 'uri-secret-1',
      securityToken: 'uri-token-1',
      type: 'credentials_uri',
      providerName: 'credential_uri',
    })
    // The same URI from the environment is the same identity: it shares the cached credential.
    await withEnv({ ALIBABA_CLOUD_CREDENTIALS_URI: uri.url }, async () => {
      assert.equal((await new Credential({ type: 'credentials_uri' }).getCredential()).accessKeyId, 'STS.uri-1')
    })
    assert.equal(uri.state.requests.length, 1)
  } finally {
    await uri.close()
  }
})

test('credentials_uri: bad answers are errors that say what was wrong, without echoing secrets', async () => {
  const uri = await startUri()
  try {
    // A URI of its own per case: a failure is remembered for its identity during the backoff.
    let cases = 0
    const make = () => new Credential({ type: 'credentials_uri', credentialsURI: `${uri.url}?case=${++cases}` })
    uri.set({ code: 'Failure' })
    await assert.rejects(make().getCredential(), { message: 'error retrieving credentials from credentialsURI result: Code is not "Success"' })
    uri.set({ code: 'Success', garbage: true })
    await assert.rejects(make().getCredential(), /json parse failed/)
    uri.set({ garbage: false, status: 500, body: { Code: 'Oops' } })
    await assert.rejects(make().getCredential(), /get sts token failed, httpStatus: 500/)
    const secret = require('node:crypto').randomBytes(16).toString('hex')
    uri.set({ status: 200, body: { Code: 'Success', AccessKeyId: 'a', AccessKeySecret: secret } })
    await assert.rejects(make().getCredential(), (e) => {
      assert.equal(e.message, 'error retrieving credentials from credentialsURI result: AccessKeyId, AccessKeySecret and SecurityToken are required')
      assert.ok(!e.message.includes(secret))
      return true
    })
    assert.throws(() => new Credential({ type: 'credentials_uri' }), /credentials URI is empty/)
    assert.throws(() => new Credential({ type: 'credentials_uri', credentialsURI: 'ftp://x/y' }), /not an http\(s\) URL/)
  } finally {
    await uri.close()
  }
})

test('credentials_uri over HTTPS with the test CA', async () => {
  const uri = await startUri({ tls: true })
  try {
    assert.equal((await new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential()).accessKeyId, 'STS.uri-1')
  } finally {
    await uri.close()
  }
})

// ---- process lifetime ----

test('background refresh never keeps the process alive', async () => {
  const md = await startMetadata({ expiresInMs: 60 * 60_000 + 1000 })
  try {
    const code = `
const Credential = require('alicloud-credentials-native')
const c = new Credential({ type: 'ecs_ram_role', asyncCredentialUpdateEnabled: true })
c.getCredential().then((r) => console.log(r.accessKeyId))
const idle = new Credential({ type: 'ecs_ram_role', asyncCredentialUpdateEnabled: true })`
    const started = Date.now()
    const r = await runNodeAsync(code, { env: isolatedEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }), timeout: 20000 })
    assert.equal(r.status, 0, r.stderr)
    assert.equal(r.stdout.trim(), 'STS.ecs-1')
    assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`)
  } finally {
    await md.close()
  }
})

// ---- HTTP: proxies and body cap ----

test('proxies apply to credential URIs and STS, never to the metadata service', async () => {
  const md = await startMetadata()
  const uri = await startUri()
  try {
    const code = `
const Credential = require('alicloud-credentials-native')
const out = {}
Promise.allSettled([
  new Credential({ type: 'ecs_ram_role' }).getCredential(),
  new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(uri.url)} }).getCredential(),
]).then(([ecs, viaProxy]) => {
  console.log(JSON.stringify({ ecs: ecs.value && ecs.value.accessKeyId, proxied: viaProxy.reason && viaProxy.reason.message }))
})`
    // A proxy on a closed port: whatever goes through it fails; NO_PROXY is unset on purpose.
    const env = isolatedEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url, HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9' })
    delete env.NO_PROXY
    delete env.no_proxy
    const r = await runNodeAsync(code, { env })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.equal(out.ecs, 'STS.ecs-1', 'metadata reached directly')
    assert.match(out.proxied, /GET http:\/\/127\.0\.0\.1:\d+\/creds failed/, 'the URI request went to the proxy')
    assert.equal(uri.state.requests.length, 0)
  } finally {
    await Promise.all([md.close(), uri.close()])
  }
})

test('a response body over 1 MiB is refused', async () => {
  const uri = await startUri()
  try {
    uri.set({ status: 200, body: JSON.stringify({ Code: 'Success', Padding: 'x'.repeat(2 * 1024 * 1024) }) })
    await assert.rejects(new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential(), (e) => {
      assert.match(e.message, /response body larger than 1048576 bytes/)
      assert.equal(e.code, 'ERR_CREDENTIALS_RESPONSE')
      return true
    })
  } finally {
    await uri.close()
  }
})
