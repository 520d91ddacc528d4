'use strict'
// No secret in an error message, util.inspect(credential) or JSON.stringify(credential). (The
// Rust Debug output is checked by `cargo test`: credentials::tests, config::tests.)

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const util = require('node:util')
const { clearAlibabaEnv, withEnv } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')

const SECRETS = ['SECRET-ak-secret-7d1f', 'SECRET-sts-token-99aa', 'SECRET-bearer-3c3c', 'SECRET-ext-0b0b']

function assertClean(text, where) {
  for (const s of SECRETS) assert.ok(!String(text).includes(s), `${where} leaks ${s}: ${text}`)
}

const CONFIGS = [
  { type: 'access_key', accessKeyId: 'LTAI-id', accessKeySecret: SECRETS[0] },
  { type: 'sts', accessKeyId: 'STS.id', accessKeySecret: SECRETS[0], securityToken: SECRETS[1] },
  { type: 'bearer', bearerToken: SECRETS[2] },
]

test('util.inspect and JSON.stringify of a credential show no secret, before and after use', async () => {
  for (const config of CONFIGS) {
    const c = new Credential(config)
    for (let round = 0; round < 2; round++) {
      assertClean(util.inspect(c, { showHidden: true, depth: 10 }), 'util.inspect')
      assertClean(JSON.stringify(c), 'JSON.stringify')
      assertClean(String(c), 'String()')
      assertClean(Object.keys(c).join(','), 'Object.keys')
      await c.getCredential()
    }
    assert.match(util.inspect(c), new RegExp(`type: '${config.type}'`))
  }
})

test('util.inspect of a Config redacts secret fields', () => {
  const config = new Credential.Config({ ...CONFIGS[1], externalId: SECRETS[3] })
  const text = util.inspect(config)
  assertClean(text, 'util.inspect(config)')
  assert.match(text, /accessKeySecret: '<redacted>'/)
  assert.match(text, /accessKeyId: 'STS.id'/)
})

test('util.inspect of a Config shows the credentials URI without query or userinfo, and no policy', () => {
  const token = crypto.randomBytes(12).toString('hex')
  const password = crypto.randomBytes(12).toString('hex')
  const statement = crypto.randomBytes(12).toString('hex')
  const config = new Credential.Config({
    type: 'credentials_uri',
    credentialsURI: `http://user:${password}@127.0.0.1:8080/creds?token=${token}#${token}`,
    policy: `{"Statement":"${statement}"}`,
  })
  for (const text of [util.inspect(config), util.inspect(config, { depth: 10, showHidden: true }), util.format('%o', config)]) {
    for (const s of [token, password, statement]) assert.ok(!text.includes(s), `util.inspect(config) leaks ${s}: ${text}`)
    assert.match(text, /credentialsURI: 'http:\/\/127\.0\.0\.1:8080\/creds'/)
    assert.match(text, /policy: '<set>'/)
  }
  assert.equal(config.credentialsURI.includes(token), true, 'the option itself is kept as given')
  const unparsable = util.inspect(new Credential.Config({ credentialsURI: `not a url ${token}` }))
  assert.ok(!unparsable.includes(token), unparsable)
})

test('error messages never contain the secrets of the config', async () => {
  const failing = [
    { type: 'sts', accessKeyId: 'i', accessKeySecret: SECRETS[0] },
    { type: 'access_key', accessKeySecret: SECRETS[0] },
    { type: 'unknown', accessKeySecret: SECRETS[0], bearerToken: SECRETS[2] },
    { type: 'rsa_key_pair', accessKeySecret: SECRETS[0] },
    { type: 'access_key', accessKeyId: 7, accessKeySecret: SECRETS[0] },
    { type: 'access_key', accessKeyId: 'i', accessKeySecret: 12345 },
  ]
  for (const config of failing) {
    assert.throws(() => new Credential(config), (e) => {
      assertClean(e.message, 'error message')
      assertClean(e.stack, 'error stack')
      assertClean(util.inspect(e), 'inspected error')
      return true
    })
  }
  await withEnv({ ALIBABA_CLOUD_ACCESS_KEY_SECRET: SECRETS[0] }, async () => {
    await assert.rejects(new Credential().getCredential(), (e) => {
      assertClean(e.message, 'chain error')
      return true
    })
  })
})

test('a TypeError for a secret option names the option, not the value', () => {
  assert.throws(
    () => new Credential({ type: 'access_key', accessKeyId: 'i', accessKeySecret: { value: SECRETS[0] } }),
    (e) => {
      assert.match(e.message, /"accessKeySecret"/)
      assertClean(e.message, 'TypeError')
      return true
    },
  )
})
