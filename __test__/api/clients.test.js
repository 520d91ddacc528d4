'use strict'
// The real clients, against loopback servers that verify their signatures: ali-oss (with
// refreshSTSToken and ossOptions), @alicloud/openapi-client and @alicloud/openapi-core (RPC,
// ACS3-HMAC-SHA256, bearer), @alicloud/pop-core (credentialsProvider).

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv } = require('../helpers')
const { TEST_CA, startSts } = require('../mocks')
const { startOpenApi, startOss } = require('../client-mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')
const OSS = require('ali-oss')
const OpenApi = require('@alicloud/openapi-client')
const OpenApiCore = require('@alicloud/openapi-core')
const Util = require('@alicloud/tea-util')
const RPCClient = require('@alicloud/pop-core').RPCClient

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const KEYS = {
  'LTAI-static': { secret: 'static-secret' },
  'STS.static': { secret: 'sts-static-secret', token: 'sts-static-token' },
  'LTAI-role-source': { secret: 'role-source-secret' },
}
const BEARERS = new Set(['bearer-token-1'])

let sts, openapi, oss
test.before(async () => {
  sts = await startSts({ keys: KEYS })
  openapi = await startOpenApi({ keys: KEYS, bearers: BEARERS })
  oss = await startOss({ keys: KEYS })
})
test.after(() => Promise.all([sts.close(), openapi.close(), oss.close()]))

let identities = 0
const credentials = {
  sts: () => new Credential({ type: 'sts', accessKeyId: 'STS.static', accessKeySecret: 'sts-static-secret', securityToken: 'sts-static-token' }),
  // A session credential whose upstream rotates: fresh for ~1.5 s, then the next AssumeRole. Each
  // test's credential is an identity of its own (credentials of one identity share one cache).
  rotating: () =>
    new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-role-source', accessKeySecret: 'role-source-secret', roleArn: 'acs:ram::1:role/client', stsEndpoint: sts.endpoint, roleSessionName: `client-${++identities}` }),
  bearer: () => new Credential({ type: 'bearer', bearerToken: 'bearer-token-1' }),
}

// ---- @alicloud/openapi-client and @alicloud/openapi-core ----

const PARAMS = (Params, style) =>
  new Params({ action: 'DescribeThings', version: '2020-01-01', protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style, reqBodyType: 'formData', bodyType: 'json' })

for (const [label, Client, Config, Params, Request] of [
  ['openapi-client', OpenApi.default, OpenApi.Config, OpenApi.Params, OpenApi.OpenApiRequest],
  ['openapi-core', OpenApiCore.default, OpenApiCore.$OpenApiUtil.Config, OpenApiCore.$OpenApiUtil.Params, OpenApiCore.$OpenApiUtil.OpenApiRequest],
]) {
  const runtime = () => new Util.RuntimeOptions({})
  const client = (credential) => new Client(new Config({ credential, endpoint: openapi.endpoint, protocol: 'HTTP' }))

  test(`${label}: RPC (doRPCRequest) and ACS3 (callApi) with an STS credential`, async () => {
    openapi.state.requests.length = 0
    const c = client(credentials.sts())
    await c.doRPCRequest('DescribeThings', '2020-01-01', 'HTTP', 'POST', 'AK', 'json', new Request({ query: { Name: 'a b*c' } }), runtime())
    await c.callApi(PARAMS(Params, 'RPC'), new Request({ query: { Name: 'x' }, body: { Field: 'v' } }), runtime())
    const seen = openapi.state.requests.map((r) => [r.scheme, r.accessKeyId, r.ok, r.why])
    assert.deepEqual(seen, [
      ['rpc', 'STS.static', true, ''],
      ['acs3', 'STS.static', true, ''],
    ])
    assert.equal(openapi.state.requests[0].headers['x-acs-credentials-provider'], 'static_sts')
  })

  test(`${label}: a rotating session credential signs with the new keys after a refresh`, async () => {
    sts.reset()
    // Two-second credentials: past their safety margin (0.2 s before expiry) after 1.9 s, so the
    // next call refreshes.
    sts.set({ expiresInMs: 2000 })
    openapi.state.requests.length = 0
    const c = client(credentials.rotating())
    await c.callApi(PARAMS(Params, 'RPC'), new Request({ query: { N: '1' } }), runtime())
    await sleep(1900)
    await c.callApi(PARAMS(Params, 'RPC'), new Request({ query: { N: '2' } }), runtime())
    await c.doRPCRequest('DescribeThings', '2020-01-01', 'HTTP', 'GET', 'AK', 'json', new Request({ query: {} }), runtime())
    const seen = openapi.state.requests.map((r) => [r.accessKeyId, r.ok])
    assert.deepEqual(seen, [
      ['STS.issued-1', true],
      ['STS.issued-2', true],
      ['STS.issued-2', true],
    ])
    assert.equal(openapi.state.requests[0].headers['x-acs-credentials-provider'], 'ram_role_arn/static_ak')
    sts.reset()
  })

  test(`${label}: bearer credentials use the bearer scheme, no AccessKey`, async () => {
    openapi.state.requests.length = 0
    const c = client(credentials.bearer())
    await c.callApi(PARAMS(Params, 'RPC'), new Request({ query: {} }), runtime())
    await c.doRPCRequest('DescribeThings', '2020-01-01', 'HTTP', 'POST', 'AK', 'json', new Request({ query: {} }), runtime())
    assert.deepEqual(
      openapi.state.requests.map((r) => [r.scheme, r.ok, r.why]),
      [
        ['bearer', true, ''],
        ['bearer', true, ''],
      ],
    )
    assert.equal(openapi.state.requests[0].headers['x-acs-credentials-provider'], undefined, 'no provider name for bearer')
  })
}

test('the mock OpenAPI server rejects a wrong secret (the test can fail)', async () => {
  openapi.state.requests.length = 0
  const wrong = new Credential({ type: 'access_key', accessKeyId: 'LTAI-static', accessKeySecret: 'not-it' })
  const c = new OpenApi.default(new OpenApi.Config({ credential: wrong, endpoint: openapi.endpoint, protocol: 'HTTP' }))
  await assert.rejects(c.callApi(PARAMS(OpenApi.Params, 'RPC'), new OpenApi.OpenApiRequest({}), new Util.RuntimeOptions({})), /SignatureDoesNotMatch/)
  assert.equal(openapi.state.requests[0].why, 'ACS3 signature')
})

// ---- @alicloud/pop-core ----

test('pop-core: credentialsProvider takes our exported providers', async () => {
  openapi.state.requests.length = 0
  sts.reset()
  const staticProvider = Credential.StaticSTSCredentialsProvider.builder().withAccessKeyId('STS.static').withAccessKeySecret('sts-static-secret').withSecurityToken('sts-static-token').build()
  const roleProvider = Credential.RAMRoleARNCredentialsProvider.builder()
    .withCredentialsProvider(Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('LTAI-role-source').withAccessKeySecret('role-source-secret').build())
    .withRoleArn('acs:ram::1:role/pop')
    .withStsEndpoint(sts.endpoint)
    .build()
  for (const provider of [staticProvider, roleProvider]) {
    const client = new RPCClient({ endpoint: `http://${openapi.endpoint}`, apiVersion: '2020-01-01', credentialsProvider: provider })
    const result = await client.request('DescribeThings', { Name: 'pop' }, { method: 'POST' })
    assert.equal(result.Echo, 'ok')
  }
  assert.deepEqual(
    openapi.state.requests.map((r) => [r.scheme, r.accessKeyId, r.ok]),
    [
      ['rpc', 'STS.static', true],
      ['rpc', 'STS.issued-1', true],
    ],
  )
})

// ---- ali-oss ----

test('ali-oss: put and get with a client built from getCredential(), refreshSTSToken rotates keys', async () => {
  sts.reset()
  // Two-second credentials: past their safety margin after 1.9 s, so the next call refreshes.
  sts.set({ expiresInMs: 2000 })
  oss.state.requests.length = 0
  const cred = credentials.rotating()
  const first = await cred.getCredential()
  const client = new OSS({
    endpoint: oss.endpoint,
    bucket: 'test-bucket',
    accessKeyId: first.accessKeyId,
    accessKeySecret: first.accessKeySecret,
    stsToken: first.securityToken,
    refreshSTSToken: () => cred.getCredential(),
    refreshSTSTokenInterval: 1000,
  })
  await client.put('dir/hello.txt', Buffer.from('hello native'))
  assert.equal((await client.get('dir/hello.txt')).content.toString(), 'hello native')
  await sleep(1900)
  await client.put('dir/later.txt', Buffer.from('later'))
  await client.put('dir/later.txt', Buffer.from('again'))
  const seen = oss.state.requests.map((r) => [r.method, r.accessKeyId, r.ok, r.why])
  assert.deepEqual(seen.slice(0, 2), [
    ['PUT', 'STS.issued-1', true, ''],
    ['GET', 'STS.issued-1', true, ''],
  ])
  assert.deepEqual(seen.at(-1), ['PUT', 'STS.issued-2', true, ''], 'later requests are signed with the new keys')
  assert.equal(oss.state.requests[0].headers['x-oss-security-token'], 'issued-token-1')
  sts.reset()
})

test('ali-oss: ossOptions() spreads into new OSS({...}); static keys have no STS parts', async () => {
  sts.reset()
  oss.state.requests.length = 0
  const options = await Credential.ossOptions(credentials.rotating())
  assert.deepEqual(Object.keys(options), ['accessKeyId', 'accessKeySecret', 'stsToken', 'refreshSTSToken', 'refreshSTSTokenInterval'])
  assert.ok(options.refreshSTSTokenInterval >= 1000 && options.refreshSTSTokenInterval <= 300000)
  const client = new OSS({ endpoint: oss.endpoint, bucket: 'test-bucket', ...options })
  await client.put('opts.txt', Buffer.from('x'))
  assert.deepEqual(oss.state.requests.map((r) => [r.accessKeyId, r.ok]), [['STS.issued-1', true]])
  const staticOptions = await Credential.ossOptions(new Credential({ type: 'access_key', accessKeyId: 'LTAI-static', accessKeySecret: 'static-secret' }))
  assert.deepEqual(staticOptions, { accessKeyId: 'LTAI-static', accessKeySecret: 'static-secret' })
  await new OSS({ endpoint: oss.endpoint, bucket: 'test-bucket', ...staticOptions }).put('static.txt', Buffer.from('y'))
  assert.deepEqual(oss.state.requests.at(-1).ok, true)
  // Short-lived credentials get a short interval, so the client refreshes before they expire.
  sts.set({ expiresInMs: 20_000 })
  const short = await Credential.ossOptions(credentials.rotating())
  assert.ok(short.refreshSTSTokenInterval <= 5000, String(short.refreshSTSTokenInterval))
  await assert.rejects(Credential.ossOptions({}), { name: 'TypeError' })
  sts.reset()
})
