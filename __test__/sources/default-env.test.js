'use strict'
// new Credential() with no config: the environment step of the default chain.

const test = require('node:test')
const assert = require('node:assert/strict')
const { runNode, isolatedEnv } = require('../helpers')

const PRINT = `
const Credential = require('alicloud-credentials-native')
const c = new Credential()
c.getCredential().then(
  (r) => console.log(JSON.stringify({ type: c.getType(), r })),
  (e) => console.log(JSON.stringify({ type: c.getType(), error: e.message, code: e.code })),
)`

test('resolves from ALIBABA_CLOUD_ACCESS_KEY_ID / _SECRET as default/env', () => {
  const env = isolatedEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret' })
  const out = JSON.parse(runNode(PRINT, { env }).stdout)
  assert.deepEqual(out, {
    type: 'default',
    r: { accessKeyId: 'env-id', accessKeySecret: 'env-secret', type: 'default', providerName: 'default/env' },
  })
})

test('includes ALIBABA_CLOUD_SECURITY_TOKEN when set', () => {
  const env = isolatedEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret',
    ALIBABA_CLOUD_SECURITY_TOKEN: 'env-token',
  })
  const out = JSON.parse(runNode(PRINT, { env }).stdout)
  assert.equal(out.r.securityToken, 'env-token')
  assert.equal(out.r.providerName, 'default/env')
})

test('without credentials anywhere, fails with the chain message listing the env reason first', () => {
  const out = JSON.parse(runNode(PRINT).stdout)
  assert.equal(out.type, 'default')
  assert.equal(out.code, 'ERR_CREDENTIALS_NOT_FOUND')
  assert.match(
    out.error,
    /^unable to get credentials from any of the providers in the chain: unable to get credentials from enviroment variables, Access key ID must be specified via environment variable \(ALIBABA_CLOUD_ACCESS_KEY_ID\)/,
  )
})

test('an id without a secret names the missing secret variable', () => {
  const env = isolatedEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id' })
  const out = JSON.parse(runNode(PRINT, { env }).stdout)
  assert.match(out.error, /Access key secret must be specified via environment variable \(ALIBABA_CLOUD_ACCESS_KEY_SECRET\)/)
})

test('the environment is read when the credential is built, not at import', () => {
  const code = `
const Credential = require('alicloud-credentials-native')
process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'late-id'
process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'late-secret'
new Credential().getCredential().then((r) => console.log(r.accessKeyId))`
  assert.equal(runNode(code).stdout.trim(), 'late-id')
})

test('the default chain reads the environment variables on every call, as the official one does', () => {
  // Random keys: each round sets new ones in this one process and expects them back.
  const code = `
const crypto = require('node:crypto')
const Credential = require('alicloud-credentials-native')
const c = new Credential()
const seen = []
async function round(token) {
  const key = { id: crypto.randomBytes(8).toString('hex'), secret: crypto.randomBytes(16).toString('hex') }
  process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = key.id
  process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = key.secret
  if (token) process.env.ALIBABA_CLOUD_SECURITY_TOKEN = token
  else delete process.env.ALIBABA_CLOUD_SECURITY_TOKEN
  const r = await c.getCredential()
  seen.push(r.accessKeyId === key.id && r.accessKeySecret === key.secret && r.securityToken === token && r.providerName === 'default/env')
}
;(async () => {
  await round(undefined)
  await round(undefined)
  await round(crypto.randomBytes(16).toString('hex'))
  await round(undefined)
  console.log(JSON.stringify(seen))
})()`
  assert.deepEqual(JSON.parse(runNode(code).stdout), [true, true, true, true])
})
