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
  const provider = b.providerCreate('static_ak', { accessKeyId: 'LTAI-panic', accessKeySecret: 'panic-secret' }, null)
  sync('credentialNew', () => b.credentialNew(config))
  sync('credentialKind', () => b.credentialKind(credential))
  sync('credentialBearerToken', () => b.credentialBearerToken(credential))
  set('nativeResolve'); report('nativeResolve', { outcome: (await b.nativeResolve(credential)).error?.code ?? null })
  set('nativeDescribe'); report('nativeDescribe', { outcome: (await b.nativeDescribe(provider)).error?.code ?? null })
  sync('nativeRelease', () => b.nativeRelease(b.credentialNew(config)))
  sync('providerCreate', () => b.providerCreate('static_ak', { accessKeyId: 'LTAI-panic', accessKeySecret: 'panic-secret' }, null))
  sync('providerFromJs', () => b.providerFromJs(() => Promise.resolve({}), 'js'))
  sync('providerName', () => b.providerName(provider))
  sync('providerClose', () => b.providerClose(provider))
  sync('debugEnabled', () => { if (b.debugEnabled('x') !== false) throw new Error('not false') })
  sync('debugLog', () => b.debugLog('x', 'y'))
  set('')
  report('after', { outcome: (await b.nativeResolve(credential)).value?.accessKeyId ?? null })
  report('after.provider', { outcome: (await b.nativeResolve(provider)).value?.accessKeyId ?? null })
  // A number that is not what an entry takes, or no longer anything: an internal error, never
  // another identity's keys.
  sync('credentialKind of a provider', () => b.credentialKind(provider))
  sync('providerName of a credential', () => b.providerName(credential))
  b.nativeRelease(credential)
  sync('released', () => b.credentialKind(credential))
  sync('released.resolve', () => b.nativeResolve(credential))
})()
`

const EXPECTED = {
  credentialNew: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  credentialKind: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  credentialBearerToken: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  nativeResolve: { outcome: 'ERR_CREDENTIALS_INTERNAL' },
  nativeDescribe: { outcome: 'ERR_CREDENTIALS_INTERNAL' },
  // close(), release (run from a FinalizationRegistry, where nobody could catch it) and the
  // logging entries have nothing to report: the panic is swallowed.
  nativeRelease: { threw: null },
  providerCreate: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  providerFromJs: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  providerName: { threw: 'ERR_CREDENTIALS_INTERNAL' },
  providerClose: { threw: null },
  debugEnabled: { threw: null },
  debugLog: { threw: null },
  // The addon still works afterwards.
  after: { outcome: 'LTAI-panic' },
  'after.provider': { outcome: 'LTAI-panic' },
  'credentialKind of a provider': { threw: 'ERR_CREDENTIALS_INTERNAL' },
  'providerName of a credential': { threw: 'ERR_CREDENTIALS_INTERNAL' },
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
