'use strict'
// A panic injected at every N-API entry point becomes an error with the code
// ERR_CREDENTIALS_INTERNAL (or, for the logging entries, nothing): never an abort of the process.
// Runs a test build of the addon (cargo, debug, feature `test-panics`), in a child process that
// sets ALICLOUD_CREDENTIALS_NATIVE_TEST_PANIC to each entry point in turn.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { ROOT, runNodeAsync, isolatedEnv, tempDir } = require('../helpers')

const LIB = { linux: 'libalicloud_credentials_native.so', darwin: 'libalicloud_credentials_native.dylib', win32: 'alicloud_credentials_native.dll' }[process.platform]

// Each entry point, and what calling it looks like when it panics.
const CHILD = (addon) => `
const b = require(${JSON.stringify(addon)})
const set = (entry) => { process.env.ALICLOUD_CREDENTIALS_NATIVE_TEST_PANIC = entry }
const config = { type: 'access_key', accessKeyId: 'LTAI-panic', accessKeySecret: 'panic-secret' }
const report = (entry, r) => console.log(JSON.stringify({ entry, ...r }))
const sync = (entry, fn) => {
  set(entry)
  try { fn(); report(entry, { threw: null }) } catch (e) { report(entry, { threw: e.code || String(e) }) }
}
;(async () => {
  set('')
  const credential = b.credentialNew(config)
  const provider = b.NativeProvider.create('static_ak', { accessKeyId: 'LTAI-panic', accessKeySecret: 'panic-secret' }, null)
  sync('credentialNew', () => b.credentialNew(config))
  sync('credentialKind', () => b.credentialKind(credential))
  sync('credentialBearerToken', () => b.credentialBearerToken(credential))
  set('credentialResolve'); report('credentialResolve', { outcome: (await b.credentialResolve(credential)).error?.code ?? null })
  set('credentialDescribe'); report('credentialDescribe', { outcome: (await b.credentialDescribe(credential)).error?.code ?? null })
  sync('credentialRelease', () => b.credentialRelease(b.credentialNew(config)))
  sync('NativeProvider.create', () => b.NativeProvider.create('static_ak', { accessKeyId: 'LTAI-panic', accessKeySecret: 'panic-secret' }, null))
  sync('NativeProvider.fromJs', () => b.NativeProvider.fromJs(() => Promise.resolve({}), 'js'))
  sync('NativeProvider.name', () => provider.name)
  sync('NativeProvider.close', () => provider.close())
  set('NativeProvider.resolve'); report('NativeProvider.resolve', { outcome: (await provider.resolve()).error?.code ?? null })
  set('NativeProvider.describe'); report('NativeProvider.describe', { outcome: (await provider.describe()).error?.code ?? null })
  sync('debugEnabled', () => { if (b.debugEnabled('x') !== false) throw new Error('not false') })
  sync('debugLog', () => b.debugLog('x', 'y'))
  set('')
  report('after', { outcome: (await b.credentialResolve(credential)).value?.accessKeyId ?? null })
  // A number no live credential has (freed, or never made): an internal error, not another's keys.
  b.credentialRelease(credential)
  sync('released', () => b.credentialKind(credential))
  sync('released.resolve', () => b.credentialResolve(credential))
})()
`

const EXPECTED = {
  credentialNew: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  credentialKind: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  credentialBearerToken: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  credentialResolve: { outcome: 'ERR_CREDENTIALS_INTERNAL' },
  credentialDescribe: { outcome: 'ERR_CREDENTIALS_INTERNAL' },
  // Swallowed: it runs from a FinalizationRegistry, where nobody could catch it.
  credentialRelease: { threw: null },
  'NativeProvider.create': { threw: 'ERR_CREDENTIALS_INTERNAL' },
  'NativeProvider.fromJs': { threw: 'ERR_CREDENTIALS_INTERNAL' },
  'NativeProvider.name': { threw: 'ERR_CREDENTIALS_INTERNAL' },
  // close() and the logging entries have nothing to report: the panic is swallowed.
  'NativeProvider.close': { threw: null },
  'NativeProvider.resolve': { outcome: 'ERR_CREDENTIALS_INTERNAL' },
  'NativeProvider.describe': { outcome: 'ERR_CREDENTIALS_INTERNAL' },
  debugEnabled: { threw: null },
  debugLog: { threw: null },
  // The addon still works afterwards.
  after: { outcome: 'LTAI-panic' },
  released: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  'released.resolve': { threw: 'ERR_CREDENTIALS_INTERNAL' },
}

test('a panic at every N-API entry point becomes ERR_CREDENTIALS_INTERNAL, never an abort', { timeout: 900_000 }, async () => {
  // The test build: debug (fast to build, panics unwind), its own feature, outside the package.
  execFileSync('cargo', ['build', '--quiet', '--lib', '--features', 'test-panics'], { cwd: ROOT, stdio: 'inherit', timeout: 850_000 })
  const dir = tempDir('acn-panics-')
  const addon = path.join(dir, 'panics.node')
  fs.copyFileSync(path.join(ROOT, 'target', 'debug', LIB), addon)
  const { status, stdout, stderr, signal } = await runNodeAsync(CHILD(addon), { env: isolatedEnv(), timeout: 60_000 })
  fs.rmSync(dir, { recursive: true, force: true })
  const seen = Object.fromEntries(
    stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .map(({ entry, ...r }) => [entry, r]),
  )
  assert.deepEqual(seen, EXPECTED, `exit ${status} ${signal ?? ''}\n${stderr.split('\n').filter((l) => !/injected panic|^note: /.test(l)).join('\n')}`)
  assert.equal(status, 0)
})
