'use strict'
// The module shape importers rely on (behaviour.md §1): CommonJS, `.default`, ESM and classes.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { clearAlibabaEnv } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')

const AK = { type: 'access_key', accessKeyId: 'LTAI-test-id-0001', accessKeySecret: 'test-secret-0001' }

test('require() gives the Credential class, with .default and .Credential', async () => {
  assert.equal(typeof Credential, 'function')
  assert.equal(Credential.default, Credential)
  assert.equal(Credential.Credential, Credential)
  const viaDefault = new Credential.default(new Credential.Config(AK))
  const direct = new Credential(AK)
  assert.ok(viaDefault instanceof Credential)
  assert.deepEqual(await viaDefault.getCredential(), await direct.getCredential())
})

test('new Credential.Config({...}) builds a config', () => {
  const config = new Credential.Config(AK)
  assert.ok(config instanceof Credential.Config)
  assert.equal(config.type, 'access_key')
  assert.equal(config.accessKeyId, AK.accessKeyId)
})

test('every official named export is there; no static names()/types()', () => {
  const official = Object.keys(require('@alicloud/credentials')).filter((k) => k !== '__esModule')
  for (const name of [...official, 'Credential']) {
    assert.equal(typeof Credential[name], 'function', name)
  }
  assert.equal(Credential.__esModule, true)
  assert.equal(Object.keys(Credential).includes('__esModule'), false, '__esModule is not enumerable')
  assert.equal(Credential.names, undefined)
  assert.equal(Credential.types, undefined)
})

test('calling Credential without new throws a TypeError', () => {
  assert.throws(() => Credential(AK), TypeError)
  assert.throws(() => Credential.default(AK), TypeError)
})

test('Node ESM: default and named imports work (official issue #140)', () => {
  const file = path.join(__dirname, '..', 'fixtures', 'esm-import.mjs')
  const r = spawnSync(process.execPath, [file], { encoding: 'utf8' })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), {
    isClass: true,
    sameDefault: true,
    configIsClass: true,
    type: 'access_key',
    providerName: 'static_ak',
    accessKeyId: 'LTAI-esm-0001',
  })
})
