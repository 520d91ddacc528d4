'use strict'
// new Credential(null, provider): any object with getCredentials() and getProviderName().

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')

function provider(overrides = {}) {
  let calls = 0
  return {
    get calls() {
      return calls
    },
    async getCredentials() {
      calls++
      return { accessKeyId: `id-${calls}`, accessKeySecret: `secret-${calls}`, securityToken: `token-${calls}`, providerName: 'vault' }
    },
    getProviderName: () => 'vault',
    ...overrides,
  }
}

test('the provider serves getCredential(), its name is the type', async () => {
  const p = provider()
  const c = new Credential(null, p)
  assert.equal(c.getType(), 'vault')
  assert.deepEqual(await c.getCredential(), {
    accessKeyId: 'id-1',
    accessKeySecret: 'secret-1',
    securityToken: 'token-1',
    type: 'vault',
    providerName: 'vault',
  })
})

test('a provider wins over a config', async () => {
  const c = new Credential({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b' }, provider())
  assert.equal((await c.getCredential()).accessKeyId, 'id-1')
})

test('absent fields are left out', async () => {
  const c = new Credential(null, provider({ getCredentials: async () => ({ accessKeyId: 'i', accessKeySecret: 's' }) }))
  assert.deepEqual(await c.getCredential(), { accessKeyId: 'i', accessKeySecret: 's', type: 'vault' })
})

test('its rejection reaches the caller as it was', async () => {
  class VaultError extends Error {}
  const original = new VaultError('vault sealed')
  original.code = 'VAULT_SEALED'
  const c = new Credential(null, provider({ getCredentials: () => Promise.reject(original) }))
  await assert.rejects(c.getCredential(), (e) => e === original)
  await assert.rejects(c.getAccessKeyId(), (e) => e === original)
})

test('an object without both functions is not a provider: the config is used', async () => {
  const c = new Credential({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b' }, { getCredentials: async () => ({}) })
  assert.equal((await c.getCredential()).accessKeyId, 'a')
})

test('getAccessKeyId then the other getters read one snapshot', async () => {
  const p = provider()
  const c = new Credential(null, p)
  const id = await c.getAccessKeyId()
  const secret = await c.getAccessKeySecret()
  assert.equal(id.split('-')[1], secret.split('-')[1])
})
