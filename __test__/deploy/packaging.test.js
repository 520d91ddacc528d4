'use strict'
// What ships: the release workflow agrees with package.json, the platform packages are right, the
// packed packages install and work with no Rust toolchain, and under the alias
// `@alicloud/credentials` a real client's internal require gets this package.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const yaml = require('js-yaml')
const { ROOT, tempDir, isolatedEnv, pkg, runCommand: run } = require('../helpers')
const { stage, stagePlatform, PLATFORM_OF_TARGET } = require('../../scripts/stage-packages')
const { startOpenApi } = require('../client-mocks')


// PATH with node and the system tools, without any Rust toolchain.
function pathWithoutRust() {
  return [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].filter((d) => !fs.existsSync(path.join(d, 'cargo'))).join(path.delimiter)
}

test('the workflow parses and builds every napi target, with scripts that exist', () => {
  const workflow = yaml.load(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8'))
  const matrix = workflow.jobs.build.strategy.matrix.include
  assert.deepEqual(matrix.map((m) => m.target).sort(), [...pkg.napi.targets].sort())
  const runs = Object.values(workflow.jobs).flatMap((job) => job.steps.map((s) => s.run).filter(Boolean))
  for (const r of runs) {
    for (const [, script] of r.matchAll(/npm run ([\w:-]+)/g)) assert.ok(pkg.scripts[script], `npm run ${script} exists`)
  }
  assert.ok(runs.some((r) => r.includes('npm ci')))
  // The same scripts as here: the portable suite on every build runner, the matrix on Linux x64.
  assert.ok(workflow.jobs.build.steps.some((s) => s.run === 'node __test__/portable/smoke.mjs' && !s.if), 'portable suite on every build runner')
  assert.ok(workflow.jobs.matrix.steps.some((s) => s.run === 'npm run matrix'), 'npm run matrix in CI')
  assert.ok([].concat(workflow.jobs.publish.needs).includes('matrix'), 'no release unless the matrix is green')
  assert.ok(runs.some((r) => r.includes('napi artifacts')))
  assert.ok(runs.some((r) => r.includes('napi prepublish')))
  assert.equal(workflow.jobs.publish.if, "startsWith(github.ref, 'refs/tags/v')")
  assert.deepEqual(workflow.on.push.tags, ['v*'])
  const uploads = workflow.jobs.build.steps.find((s) => s.uses && s.uses.startsWith('actions/upload-artifact'))
  assert.equal(uploads.with.path, '*.node')
})

test('the matrix musl check refuses a glibc binary (this machine\'s own build)', { skip: process.platform !== 'linux' || !fs.existsSync('/usr/bin/readelf') }, () => {
  const { glibcSymbols } = require('../../scripts/matrix')
  const binary = path.join(ROOT, `${pkg.napi.binaryName}.linux-${process.arch}-gnu.node`)
  const r = glibcSymbols(binary)
  assert.equal(r.ok, false)
  assert.match(r.why, /GLIBC_2\.\d+/)
})

test('the matrix gives every target a C compiler, and npm run matrix exists', () => {
  const { crossEnv, RUNTIME_PACKAGES } = require('../../scripts/matrix')
  assert.equal(pkg.scripts.matrix, 'node scripts/matrix.js')
  for (const target of pkg.napi.targets.filter((t) => t !== 'x86_64-unknown-linux-gnu')) {
    assert.ok(crossEnv(target)[`CC_${target.replace(/-/g, '_')}`], target)
  }
  // Runtimes come from the npm registry only.
  assert.deepEqual(Object.keys(RUNTIME_PACKAGES).sort(), ['bun', 'deno', 'node18', 'node22', 'node22-arm64', 'node24'])
})

test('targets: linux x64/arm64 (gnu and musl), macOS x64/arm64, Windows x64/arm64', () => {
  assert.deepEqual([...pkg.napi.targets].sort(), Object.keys(PLATFORM_OF_TARGET).sort())
})

test('one npm/<platform> package per target, named, versioned and constrained right', () => {
  for (const target of pkg.napi.targets) {
    const platform = PLATFORM_OF_TARGET[target]
    const p = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8'))
    const binary = `${pkg.napi.binaryName}.${platform}.node`
    assert.equal(p.name, `${pkg.name}-${platform}`)
    assert.equal(p.version, pkg.version)
    assert.equal(p.main, binary)
    assert.deepEqual(p.files, [binary])
    const [os, cpu, abi] = platform.split('-')
    assert.deepEqual(p.os, [os])
    assert.deepEqual(p.cpu, [cpu])
    if (os === 'linux') assert.deepEqual(p.libc, [abi === 'gnu' ? 'glibc' : 'musl'])
    else assert.equal(p.libc, undefined, `${platform}: libc only where npm can tell it apart`)
    assert.equal(p.scripts, undefined, `${platform}: no install scripts`)
  }
  const dirs = fs.readdirSync(path.join(ROOT, 'npm')).sort()
  assert.deepEqual(dirs, pkg.napi.targets.map((t) => PLATFORM_OF_TARGET[t]).sort())
})

let packed
const work = tempDir('acn-pack-')
test.before(() => {
  packed = stage(path.join(work, 'packages'))
})

test('every platform package, staged with its binary, packs exactly the binary, package.json and README', () => {
  const staging = path.join(work, 'platforms')
  for (const target of pkg.napi.targets) {
    const platform = PLATFORM_OF_TARGET[target]
    const name = `${pkg.napi.binaryName}.${platform}.node`
    // The binary built here where there is one, a stand-in of the same name for the others.
    let binary = path.join(ROOT, name)
    if (!fs.existsSync(binary)) {
      binary = path.join(work, name)
      fs.writeFileSync(binary, 'stand-in')
    }
    const packedFiles = stagePlatform(platform, staging, binary, { dryRun: true }).files
    assert.deepEqual(packedFiles, ['README.md', name, 'package.json'].sort(), platform)
    assert.equal(fs.readdirSync(staging).filter((f) => f.endsWith('.tgz')).length, 0, 'a dry run writes no tarball')
  }
})

test('the main package names all eight platform packages, at its own version, as optional', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(work, 'packages', 'main', 'package.json'), 'utf8'))
  const expected = Object.fromEntries(Object.values(PLATFORM_OF_TARGET).map((p) => [`${pkg.name}-${p}`, pkg.version]))
  assert.equal(Object.keys(expected).length, 8)
  assert.deepEqual(manifest.optionalDependencies, expected)
  assert.equal(manifest.dependencies, undefined, 'nothing else is installed with it')
  for (const name of Object.keys(expected)) {
    assert.equal(JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', name.slice(pkg.name.length + 1), 'package.json'), 'utf8')).version, pkg.version, name)
  }
})

test('the main package holds the entry, the loader and the types, nothing else', () => {
  assert.deepEqual(packed.main.files.sort(), ['README.md', 'binding.d.ts', 'binding.js', 'cli.js', 'index.d.ts', 'index.js', 'load-binding.js', 'options.js', 'package.json', 'platforms.js', 'providers.js'])
  const manifest = JSON.parse(fs.readFileSync(path.join(work, 'packages', 'main', 'package.json'), 'utf8'))
  assert.equal(Object.keys(manifest.optionalDependencies).length, pkg.napi.targets.length)
  assert.equal(manifest.scripts, undefined, 'no install scripts: nothing builds on the user machine')
  assert.deepEqual(packed.platform.files.sort(), ['README.md', `${pkg.napi.binaryName}.${packed.platformName.slice(pkg.name.length + 1)}.node`, 'package.json'])
})

test('installed from the tarballs with no Rust toolchain: require, resolve, type-check', async () => {
  const app = path.join(work, 'app')
  fs.mkdirSync(app, { recursive: true })
  fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","private":true}')
  const env = { ...isolatedEnv(), PATH: pathWithoutRust() }
  assert.notEqual((await run('sh', ['-c', 'command -v cargo rustc'], { env })).status, 0, 'no Rust on PATH')
  const install = await run('npm', ['install', '--offline', '--no-audit', '--no-fund', packed.main.file, packed.platform.file], { cwd: app, env })
  assert.equal(install.status, 0, install.stderr)
  const code = `
const Credential = require('alicloud-credentials-native')
const c = new Credential({ type: 'sts', accessKeyId: 'pack-id', accessKeySecret: 'pack-secret', securityToken: 'pack-token' })
c.getCredential().then((r) => console.log(JSON.stringify([r.providerName, r.accessKeyId, require.resolve('${packed.platformName}')])))`
  const r = await run(process.execPath, ['-e', code], { cwd: app, env })
  assert.equal(r.status, 0, r.stderr)
  const [provider, id, binary] = JSON.parse(r.stdout)
  assert.deepEqual([provider, id], ['static_sts', 'pack-id'])
  assert.ok(binary.startsWith(path.join(app, 'node_modules')), 'the binary comes from the installed platform package')
  fs.writeFileSync(
    path.join(app, 'check.ts'),
    "import Credential, { Config, ossOptions, RAMRoleARNCredentialsProvider } from 'alicloud-credentials-native';\n" +
      "const c = new Credential(new Config({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b' }));\n" +
      "const p: Promise<string> = c.getCredential().then((m) => m.accessKeyId ?? '');\n" +
      "void ossOptions(c); void RAMRoleARNCredentialsProvider.builder(); void p;\n",
  )
  const tsc = await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--strict', '--esModuleInterop', '--noEmit', 'check.ts'], { cwd: app, env })
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr)
})

test('drop-in: under the alias @alicloud/credentials, openapi-client gets this package and signs with it', async () => {
  const app = path.join(work, 'dropin')
  fs.mkdirSync(app, { recursive: true })
  const clientVersion = require('@alicloud/openapi-client/package.json').version
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'dropin', private: true, dependencies: { '@alicloud/credentials': `file:${packed.main.file}`, [packed.platformName]: `file:${packed.platform.file}`, '@alicloud/openapi-client': clientVersion } }),
  )
  const env = { ...isolatedEnv(), PATH: pathWithoutRust() }
  const install = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, env })
  assert.equal(install.status, 0, install.stderr)
  const keys = { 'LTAI-dropin': { secret: 'dropin-secret' } }
  const api = await startOpenApi({ keys })
  try {
    const code = `
const OpenApi = require('@alicloud/openapi-client')
const Util = require('@alicloud/tea-util')
const viaClient = require(require.resolve('@alicloud/credentials/package.json', { paths: [require.resolve('@alicloud/openapi-client')] }))
// openapi-client builds the credential itself, through its own require('@alicloud/credentials').
const client = new OpenApi.default(new OpenApi.Config({ accessKeyId: 'LTAI-dropin', accessKeySecret: 'dropin-secret', endpoint: '${api.endpoint}', protocol: 'HTTP' }))
const params = new OpenApi.Params({ action: 'A', version: '2020-01-01', protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' })
client.callApi(params, new OpenApi.OpenApiRequest({}), new Util.RuntimeOptions({})).then(
  (r) => console.log(JSON.stringify({ name: viaClient.name, echo: r.body.Echo, type: client._credential.getType(), ours: typeof require('@alicloud/credentials').ossOptions })),
  (e) => { console.error(e); process.exit(1) },
)`
    const r = await run(process.execPath, ['-e', code], { cwd: app, env })
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(JSON.parse(r.stdout), { name: 'alicloud-credentials-native', echo: 'ok', type: 'access_key', ours: 'function' })
    assert.deepEqual(api.state.requests.map((q) => [q.scheme, q.accessKeyId, q.ok]), [['acs3', 'LTAI-dropin', true]])
    assert.equal(api.state.requests[0].headers['x-acs-credentials-provider'], 'static_ak')
  } finally {
    await api.close()
  }
})

test('installed size: smaller than @alicloud/credentials with its dependencies', () => {
  const bytes = (dir) =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) return e.name === 'node_modules' ? n : n + bytes(p)
      return n + (e.isFile() ? fs.statSync(p).size : 0)
    }, 0)
  // The official package and the closure of its dependencies, as npm installed them here.
  const seen = new Map()
  const visit = (name, from) => {
    const manifest = require.resolve(`${name}/package.json`, { paths: [from] })
    const dir = path.dirname(manifest)
    if (seen.has(dir)) return
    seen.set(dir, bytes(dir))
    for (const dep of Object.keys(JSON.parse(fs.readFileSync(manifest, 'utf8')).dependencies || {})) visit(dep, dir)
  }
  visit('@alicloud/credentials', ROOT)
  const official = [...seen.values()].reduce((a, b) => a + b, 0)
  const ours = packed.main.unpackedSize + packed.platform.unpackedSize
  assert.ok(ours < official, `ours ${ours} bytes, official ${official} bytes`)
})
