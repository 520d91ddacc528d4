'use strict'
// TypeScript users: `import Credential, { Config } from ...` compiles under `tsc --strict` for
// `module: commonjs` and `module: nodenext`, the documentation's examples compile unchanged, and
// the compiled output runs.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { ROOT, tempDir, isolatedEnv } = require('../helpers')

const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

// A project that has the package installed (a symlink, as `npm link` makes) and @types/node.
function project() {
  const dir = tempDir('acn-ts-')
  fs.mkdirSync(path.join(dir, 'node_modules', '@types'), { recursive: true })
  fs.symlinkSync(ROOT, path.join(dir, 'node_modules', 'alicloud-credentials-native'), 'dir')
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(dir, 'node_modules', '@types', 'node'), 'dir')
  for (const f of fs.readdirSync(path.join(__dirname, '..', 'fixtures', 'ts'))) {
    fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'ts', f), path.join(dir, f))
  }
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"ts-user","private":true}')
  return dir
}

function compileAndRun(moduleKind) {
  const dir = project()
  const args = [TSC, '--strict', '--esModuleInterop', '--target', 'es2020', '--module', moduleKind, '--outDir', 'out', 'main.ts']
  if (moduleKind === 'nodenext') args.push('--moduleResolution', 'nodenext')
  const tsc = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' })
  assert.equal(tsc.status, 0, `tsc --module ${moduleKind} failed:\n${tsc.stdout}${tsc.stderr}`)
  const env = isolatedEnv({
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-secret',
    ALIBABA_CLOUD_SECURITY_TOKEN: 'env-token',
  })
  const run = spawnSync(process.execPath, [path.join(dir, 'out', 'main.js')], { cwd: dir, env, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout)
}

const EXPECTED = {
  results: [
    ['access_key', 'static_ak', 'env-id'],
    ['access_key', 'static_ak', 'env-id'],
    ['sts', 'static_sts', 'id'],
    ['access_key', 'static_ak', 'assigned-id'],
    ['custom', 'custom', 'p-id'],
  ],
  id: 'assigned-id',
  type: 'access_key',
}

test('compiles with tsc --strict --module commonjs and runs', () => {
  assert.deepEqual(compileAndRun('commonjs'), EXPECTED)
})

test('compiles with tsc --strict --module nodenext and runs', () => {
  assert.deepEqual(compileAndRun('nodenext'), EXPECTED)
})

test('a type error in user code is still reported (the types are not any)', () => {
  const dir = project()
  fs.writeFileSync(
    path.join(dir, 'bad.ts'),
    "import Credential from 'alicloud-credentials-native';\nconst n: number = new Credential().getType();\n",
  )
  const tsc = spawnSync(process.execPath, [TSC, '--strict', '--esModuleInterop', '--noEmit', 'bad.ts'], { cwd: dir, encoding: 'utf8' })
  assert.notEqual(tsc.status, 0)
  assert.match(tsc.stdout, /TS2322/)
})
