'use strict'
// access_key, sts and bearer: the official results, provider names, environment fallbacks and
// error messages, each compared with @alicloud/credentials@2.4.7 in the same process.

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, withEnv } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')
const Official = require('@alicloud/credentials')

const CONFIGS = {
  access_key: { type: 'access_key', accessKeyId: 'LTAI-ak-0001', accessKeySecret: 'ak-secret-0001' },
  sts: { type: 'sts', accessKeyId: 'STS.id-0001', accessKeySecret: 'sts-secret-0001', securityToken: 'sts-token-0001' },
  bearer: { type: 'bearer', bearerToken: 'bearer-token-0001' },
}

async function official(config) {
  const c = new Official.default(new Official.Config(config))
  return { model: { ...(await c.getCredential()) }, type: c.getType(), bearer: c.getBearerToken() }
}

async function ours(config) {
  const c = new Credential(new Credential.Config(config))
  return { model: await c.getCredential(), type: c.getType(), bearer: c.getBearerToken() }
}

for (const [name, config] of Object.entries(CONFIGS)) {
  test(`${name}: same result, type and bearer token as the official package`, async () => {
    const a = await ours(config)
    const b = await official(config)
    assert.deepEqual(a.model, b.model)
    assert.deepEqual(Object.keys(a.model), Object.keys(b.model), 'same own keys in the same order')
    assert.equal(a.type, b.type)
    assert.equal(a.bearer, b.bearer === '' ? undefined : b.bearer)
    assert.equal(Object.getPrototypeOf(a.model), Object.prototype, 'a plain object')
  })
}

test('getCredential() returns a fresh object each time; mutating it changes nothing', async () => {
  const c = new Credential(CONFIGS.sts)
  const first = await c.getCredential()
  first.accessKeyId = 'mutated'
  delete first.securityToken
  const second = await c.getCredential()
  assert.equal(second.accessKeyId, CONFIGS.sts.accessKeyId)
  assert.equal(second.securityToken, CONFIGS.sts.securityToken)
})

test('the separate getters return Promises; getType and getBearerToken are synchronous', async () => {
  const c = new Credential(CONFIGS.sts)
  const id = c.getAccessKeyId()
  const secret = c.getAccessKeySecret()
  const token = c.getSecurityToken()
  for (const p of [id, secret, token]) assert.ok(p instanceof Promise)
  assert.deepEqual(await Promise.all([id, secret, token]), ['STS.id-0001', 'sts-secret-0001', 'sts-token-0001'])
  assert.equal(c.getType(), 'sts')
  assert.equal(c.getBearerToken(), undefined)
  const b = new Credential(CONFIGS.bearer)
  assert.equal(b.getBearerToken(), 'bearer-token-0001')
  assert.equal(b.getType(), 'bearer')
  assert.equal(await b.getAccessKeyId(), '')
  const ak = new Credential(CONFIGS.access_key)
  assert.equal(await ak.getSecurityToken(), undefined)
})

test('static types fall back to the environment for empty fields', async () => {
  await withEnv(
    {
      ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id',
      ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret',
      ALIBABA_CLOUD_SECURITY_TOKEN: 'env-token',
    },
    async () => {
      for (const config of [{ type: 'access_key' }, { type: 'access_key', accessKeyId: '', accessKeySecret: '' }]) {
        const a = await new Credential(config).getCredential()
        const b = { ...(await new Official.default(new Official.Config(config)).getCredential()) }
        assert.deepEqual(a, b)
        assert.equal(a.accessKeyId, 'env-id')
      }
      const sts = await new Credential({ type: 'sts', accessKeyId: 'own-id' }).getCredential()
      assert.deepEqual(sts, {
        accessKeyId: 'own-id',
        accessKeySecret: 'env-secret',
        securityToken: 'env-token',
        type: 'sts',
        providerName: 'static_sts',
      })
    },
  )
})

// Error messages identical to the official package's, with a stable code.
const ERROR_CASES = [
  ['missing type', {}, 'Missing required type option', 'ERR_CREDENTIALS_INVALID_CONFIG'],
  ['empty type', { type: '' }, 'Missing required type option', 'ERR_CREDENTIALS_INVALID_CONFIG'],
  ['access_key without id', { type: 'access_key', accessKeySecret: 's' }, 'the access key id is empty', 'ERR_CREDENTIALS_INVALID_CONFIG'],
  ['access_key without secret', { type: 'access_key', accessKeyId: 'i' }, 'the access key secret is empty', 'ERR_CREDENTIALS_INVALID_CONFIG'],
  ['sts without token', { type: 'sts', accessKeyId: 'i', accessKeySecret: 's' }, 'the security token is empty', 'ERR_CREDENTIALS_INVALID_CONFIG'],
  ['bearer without token', { type: 'bearer' }, 'Missing required bearerToken option in config for bearer', 'ERR_CREDENTIALS_INVALID_CONFIG'],
]

for (const [name, config, message, code] of ERROR_CASES) {
  test(`error: ${name}`, () => {
    let officialMessage
    try {
      new Official.default(new Official.Config(config))
    } catch (e) {
      officialMessage = e.message
    }
    assert.equal(officialMessage, message, 'the official package says the same')
    assert.throws(() => new Credential(config), (e) => {
      assert.ok(e instanceof Error)
      assert.equal(e.message, message)
      assert.equal(e.code, code)
      return true
    })
  })
}

test('error: unknown type has the official message word for word', () => {
  const Official = require('@alicloud/credentials').default
  let official
  assert.throws(() => new Official({ type: 'magic' }), (e) => {
    official = e.message
    return true
  })
  assert.match(official, /^Invalid type option, support: /)
  assert.throws(() => new Credential({ type: 'magic' }), (e) => {
    assert.equal(e.message, official)
    assert.equal(e.code, 'ERR_CREDENTIALS_INVALID_CONFIG')
    return true
  })
})

test('error: rsa_key_pair is refused clearly (the official one is broken)', () => {
  assert.throws(() => new Credential({ type: 'rsa_key_pair', publicKeyId: 'p', privateKeyFile: '/x' }), (e) => {
    assert.match(e.message, /rsa_key_pair credential type is not supported/)
    assert.equal(e.code, 'ERR_CREDENTIALS_UNSUPPORTED')
    return true
  })
})
