'use strict'
// Config: every official option is accepted, fields can be assigned later, plain objects work,
// unknown keys are ignored, and a wrong type is a TypeError naming the option (never a Rust type).

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')
const { Config } = Credential

// Every option of behaviour.md §2 with a value of its type.
const ALL_OPTIONS = {
  type: 'access_key',
  accessKeyId: 'id',
  accessKeySecret: 'secret',
  securityToken: 'token',
  bearerToken: 'bearer',
  roleArn: 'acs:ram::1:role/r',
  roleSessionName: 'session',
  roleSessionExpiration: 1200,
  policy: '{"Version":"1"}',
  externalId: 'ext',
  stsEndpoint: 'sts.example.test',
  stsRegionId: 'cn-hangzhou',
  enableVpc: true,
  oidcProviderArn: 'acs:ram::1:oidc-provider/p',
  oidcTokenFilePath: '/tmp/token',
  credentialsURI: 'http://127.0.0.1:1/creds',
  roleName: 'role',
  disableIMDSv1: true,
  asyncCredentialUpdateEnabled: false,
  timeout: 1000,
  connectTimeout: 1000,
  publicKeyId: 'pk',
  privateKeyFile: '/tmp/pk.pem',
  durationSeconds: 3600,
  enableIMDSv2: true,
  metadataTokenDuration: 21600,
}

test('every official option is accepted and kept', async () => {
  const config = new Config(ALL_OPTIONS)
  for (const [k, v] of Object.entries(ALL_OPTIONS)) assert.equal(config[k], v, k)
  const credential = new Credential(config)
  const r = await credential.getCredential()
  assert.equal(r.accessKeyId, 'id')
  assert.equal(r.providerName, 'static_ak')
})

test('fields can be assigned after construction (openapi-client does this)', async () => {
  const config = new Config({ type: 'sts', accessKeyId: 'id', accessKeySecret: 'secret' })
  config.securityToken = 'late-token'
  const r = await new Credential(config).getCredential()
  assert.equal(r.securityToken, 'late-token')
  const empty = new Config()
  empty.type = 'access_key'
  empty.accessKeyId = 'a'
  empty.accessKeySecret = 'b'
  assert.equal((await new Credential(empty).getCredential()).accessKeyId, 'a')
})

test('a plain object works in place of a Config', async () => {
  const r = await new Credential({ type: 'access_key', accessKeyId: 'plain', accessKeySecret: 's' }).getCredential()
  assert.equal(r.accessKeyId, 'plain')
})

test('unknown keys are ignored', async () => {
  const config = new Config({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b', region: 'cn', foo: { bar: 1 } })
  assert.equal(config.foo, undefined)
  const r = await new Credential({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b', foo: 42 }).getCredential()
  assert.equal(r.accessKeyId, 'a')
})

test('null and undefined options count as absent', async () => {
  const r = await new Credential({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b', securityToken: null, timeout: undefined }).getCredential()
  assert.equal(r.securityToken, undefined)
})

test('wrong types get a TypeError naming the option, in Config and in Credential', () => {
  const cases = [
    ['accessKeyId', 12345, /"accessKeyId" option must be of type string, received type number/],
    ['type', true, /"type" option must be of type string, received type boolean/],
    ['timeout', 'soon', /"timeout" option must be of type number, received type string/],
    ['timeout', Infinity, /"timeout" option must be a finite number/],
    ['disableIMDSv1', 1, /"disableIMDSv1" option must be of type boolean, received type number/],
    ['roleSessionExpiration', {}, /"roleSessionExpiration" option must be of type number, received type object/],
    ['policy', ['a'], /"policy" option must be of type string, received an array/],
  ]
  for (const [name, value, pattern] of cases) {
    const options = { type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b', [name]: value }
    for (const make of [() => new Config(options), () => new Credential(options)]) {
      assert.throws(make, (e) => {
        assert.ok(e instanceof TypeError, `${name}: ${e}`)
        assert.match(e.message, pattern)
        assert.equal(e.code, 'ERR_INVALID_ARG_TYPE')
        assert.doesNotMatch(e.message, /\bString\b|f64|Option<|napi|[Rr]ust/)
        return true
      })
    }
  }
})

test('a wrong type assigned after construction is caught when the credential is made', () => {
  const config = new Config({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b' })
  config.connectTimeout = 'never'
  assert.throws(() => new Credential(config), /"connectTimeout" option must be of type number/)
})

test('env-style strings are accepted for numbers and booleans', async () => {
  const config = new Config({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b', timeout: '3000', enableVpc: 'true' })
  assert.equal((await new Credential(config).getCredential()).accessKeyId, 'a')
})

test('a config that is not an object is a TypeError', () => {
  assert.throws(() => new Credential('access_key'), { name: 'TypeError', message: /"config" argument must be an object/ })
  assert.throws(() => new Config(42), { name: 'TypeError' })
})

test('toMap() returns the set options', () => {
  assert.deepEqual(new Config({ type: 'access_key', accessKeyId: 'a', junk: 1 }).toMap(), { type: 'access_key', accessKeyId: 'a' })
})
