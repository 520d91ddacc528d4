'use strict'
// Installs as users install, from a real registry: verdaccio on 127.0.0.1 (no uplink, so nothing
// comes from anywhere else) gets the main package and all eight platform packages, packed as the
// release packs them (this machine's binaries where they were built, stand-ins for the others).
// npm (--os/--cpu/--libc, npm ci from a lockfile made for another platform, --omit=optional),
// pnpm and yarn (supportedArchitectures) then install it into temporary apps, each with its own
// cache; every case must pick exactly the platform packages it should, and the app either loads
// the binary or fails with the load error that says why.
// The registry and the package managers (verdaccio, pnpm, yarn 4 at pinned versions) are
// installed from the npm registry into .cache/registry-tools on first use.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, tempDir, isolatedEnv, pkg, here, hereBinary, runCommand: run, freePort } = require('../helpers')
const { stage, stagePlatform, PLATFORM_OF_TARGET } = require('../../scripts/stage-packages')

const skip = (!here && 'written for a Linux glibc machine') || (!fs.existsSync(hereBinary) && 'no build here')

const TOOLS = path.join(ROOT, '.cache', 'registry-tools')
const TOOL_VERSIONS = { verdaccio: '6.8.0', pnpm: '10.34.9', '@yarnpkg/cli-dist': '4.18.1' }
const work = tempDir('acn-registry-')
const PLATFORMS = Object.values(PLATFORM_OF_TARGET)

function installTools() {
  const installed = (name) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(TOOLS, 'node_modules', name, 'package.json'), 'utf8')).version === TOOL_VERSIONS[name]
    } catch {
      return false
    }
  }
  if (Object.keys(TOOL_VERSIONS).every(installed)) return
  fs.mkdirSync(TOOLS, { recursive: true })
  fs.writeFileSync(path.join(TOOLS, 'package.json'), '{"name":"registry-tools","private":true}\n')
  const specs = Object.entries(TOOL_VERSIONS).map(([n, v]) => `${n}@${v}`)
  const r = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', ...specs], { cwd: TOOLS, encoding: 'utf8', timeout: 300000 })
  assert.equal(r.status, 0, `installing ${specs.join(' ')}: ${r.stderr}`)
}

// The environment of every package manager here: this test's registry and a cache of its own,
// none of the npm_* settings `npm test` passes down.
function managerEnv(registry, extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(isolatedEnv())) if (!/^npm_/i.test(k)) env[k] = v
  return {
    ...env,
    npm_config_registry: registry,
    npm_config_userconfig: path.join(work, 'npmrc'),
    npm_config_cache: path.join(work, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  }
}

let registry, verdaccio, env
test.before(async () => {
  if (skip) return
  installTools()
  const port = await freePort()
  registry = `http://127.0.0.1:${port}/`
  const config = path.join(work, 'verdaccio.yaml')
  fs.writeFileSync(
    config,
    [
      `storage: ${path.join(work, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(work, 'htpasswd')}`,
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'log: { type: stdout, format: json, level: warn }',
      '',
    ].join('\n'),
  )
  verdaccio = spawn(process.execPath, [path.join(TOOLS, 'node_modules', 'verdaccio', 'bin', 'verdaccio'), '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: 'ignore', env: isolatedEnv() })
  const deadline = Date.now() + 60000
  for (;;) {
    try {
      if ((await fetch(`${registry}-/ping`)).ok) break
    } catch {}
    assert.ok(Date.now() < deadline, 'verdaccio did not start in 60 s')
    await new Promise((r) => setTimeout(r, 200))
  }
  // A user, and its token for npm publish (what `npm adduser` does).
  const user = await fetch(`${registry}-/user/org.couchdb.user:release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release', password: 'release-password', type: 'user', roles: [] }),
  })
  assert.ok(user.ok, `adduser: ${user.status}`)
  const { token } = await user.json()
  fs.writeFileSync(path.join(work, 'npmrc'), `//127.0.0.1:${port}/:_authToken=${token}\n`)
  env = managerEnv(registry)

  // What the release publishes: every platform package (a real binary where this machine built
  // one, a stand-in file elsewhere) and the main package naming them as optionalDependencies.
  const out = path.join(work, 'packages')
  const packed = stage(out)
  const tarballs = [packed.main.file]
  for (const platform of PLATFORMS) {
    if (platform === here) {
      tarballs.push(packed.platform.file)
      continue
    }
    let binary = path.join(ROOT, `${pkg.napi.binaryName}.${platform}.node`)
    if (!fs.existsSync(binary)) {
      binary = path.join(work, `${platform}.stand-in.node`)
      fs.writeFileSync(binary, `stand-in for ${platform}`)
    }
    tarballs.push(stagePlatform(platform, path.join(out, 'platforms'), binary).file)
  }
  for (const tarball of tarballs) {
    const r = await run('npm', ['publish', tarball, '--access', 'public', '--provenance=false', '--ignore-scripts'], { cwd: work, env })
    assert.equal(r.status, 0, `npm publish ${path.basename(tarball)}: ${r.stderr}`)
  }
})
test.after(() => verdaccio && verdaccio.kill())
process.on('exit', () => verdaccio && verdaccio.kill())

let apps = 0
function app(extra = {}) {
  const dir = path.join(work, `app${apps++}`)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `app${apps}`, version: '1.0.0', private: true, ...extra }, null, 2))
  return dir
}

// The platform packages present in the app's node_modules (followed through pnpm's symlinks).
function platformsIn(dir) {
  const nm = path.join(dir, 'node_modules')
  return fs
    .readdirSync(nm)
    .filter((n) => n.startsWith(`${pkg.name}-`) && fs.existsSync(path.join(nm, n, 'package.json')))
    .map((n) => n.slice(pkg.name.length + 1))
    .sort()
}

// pnpm does not hoist: what the main package itself resolves.
function platformsResolvableFromMain(dir) {
  const main = fs.realpathSync(path.join(dir, 'node_modules', pkg.name))
  return PLATFORMS.filter((p) => {
    try {
      require.resolve(`${pkg.name}-${p}/package.json`, { paths: [main] })
      return true
    } catch {
      return false
    }
  }).sort()
}

async function loads(dir) {
  const code = `
try {
  const C = require('${pkg.name}')
  new C({ type: 'access_key', accessKeyId: 'id', accessKeySecret: 's' }).getCredential().then((r) => console.log(JSON.stringify({ loaded: r.providerName })))
} catch (e) {
  console.log(JSON.stringify({ code: e.code, probably: (e.message.match(/^probably: .*/m) || [''])[0], message: e.message }))
}`
  const r = await run(process.execPath, ['-e', code], { cwd: dir, env: isolatedEnv() })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const npmInstall = (dir, ...args) => run('npm', ['install', ...args], { cwd: dir, env })
const sorted = (a) => [...a].sort()

test('npm install on this machine: exactly its platform package, and it loads', { skip }, async () => {
  const dir = app()
  const r = await npmInstall(dir, pkg.name)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(platformsIn(dir), [here])
  assert.deepEqual(await loads(dir), { loaded: 'static_ak' })
  // The lockfile names every platform package, with what npm needs to choose among them later.
  const lock = JSON.parse(fs.readFileSync(path.join(dir, 'package-lock.json'), 'utf8'))
  for (const p of PLATFORMS) {
    const entry = lock.packages[`node_modules/${pkg.name}-${p}`]
    assert.ok(entry && entry.optional, `${p} in the lockfile, optional`)
    const [os, cpu, abi] = p.split('-')
    assert.deepEqual([entry.os, entry.cpu, entry.libc], [[os], [cpu], os === 'linux' ? [abi === 'gnu' ? 'glibc' : 'musl'] : undefined], p)
  }
})

test('npm install under the alias @alicloud/credentials: the same platform package, and it loads', { skip }, async () => {
  const dir = app()
  const r = await npmInstall(dir, `@alicloud/credentials@npm:${pkg.name}@${pkg.version}`)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(platformsIn(dir), [here])
  const l = await run(process.execPath, ['-e', "require('@alicloud/credentials'); console.log('ok')"], { cwd: dir, env: isolatedEnv() })
  assert.equal(l.stdout.trim(), 'ok', l.stderr)
})

for (const [flags, expected] of [
  [['--os=linux', '--cpu=arm64', '--libc=glibc'], 'linux-arm64-gnu'],
  [['--os=linux', '--cpu=x64', '--libc=musl'], 'linux-x64-musl'],
  [['--os=darwin', '--cpu=arm64'], 'darwin-arm64'],
  [['--os=win32', '--cpu=x64'], 'win32-x64-msvc'],
]) {
  test(`npm install ${flags.join(' ')}: exactly ${expected}; here it fails with the load error that says so`, { skip }, async () => {
    const dir = app()
    const r = await npmInstall(dir, ...flags, pkg.name)
    assert.equal(r.status, 0, r.stderr)
    assert.deepEqual(platformsIn(dir), [expected])
    const l = await loads(dir)
    assert.equal(l.code, 'ERR_CREDENTIALS_NATIVE_MISSING', l.message)
    if (expected.startsWith(`linux-${process.arch}-`)) assert.match(l.probably, new RegExp(`${expected} is installed instead: node_modules was installed for musl`))
    else assert.ok(l.probably.includes(`node_modules holds the binary for ${expected}: it was installed on another OS or CPU`), l.probably)
    assert.ok(l.message.includes(`npm install --os=linux --cpu=${process.arch} --libc=glibc`), l.message)
  })
}

// The trap of a Function Compute zip made on a Mac: npm finds the libc of --os=linux from
// /usr/bin/ldd or the process report, a Mac has neither, and --os/--cpu alone then skip every
// package that names a libc. npm is run under a preload that takes both away, as on a Mac.
test('npm on macOS (simulated): --os=linux --cpu=x64 alone installs no Linux binary; with --libc=glibc it does', { skip }, async () => {
  const preload = path.join(work, 'as-darwin.js')
  fs.writeFileSync(
    preload,
    [
      "const fs = require('node:fs')",
      "Object.defineProperty(process, 'platform', { value: 'darwin' })",
      'const readFileSync = fs.readFileSync',
      "fs.readFileSync = function (file, ...rest) { if (file === '/usr/bin/ldd') throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); return readFileSync.call(this, file, ...rest) }",
      'const getReport = process.report.getReport.bind(process.report)',
      'process.report.getReport = (...a) => { const r = getReport(...a); delete r.header.glibcVersionRuntime; r.sharedObjects = []; return r }',
      '',
    ].join('\n'),
  )
  const asMac = { ...env, NODE_OPTIONS: `--require ${preload}` }
  const trap = app()
  const r = await run('npm', ['install', '--os=linux', '--cpu=x64', pkg.name], { cwd: trap, env: asMac })
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(platformsIn(trap), [], 'exits 0 with no binary')
  const recipe = app()
  const ok = await run('npm', ['install', '--os=linux', '--cpu=x64', '--libc=glibc', pkg.name], { cwd: recipe, env: asMac })
  assert.equal(ok.status, 0, ok.stderr)
  assert.deepEqual(platformsIn(recipe), ['linux-x64-gnu'])
})

test('npm install --omit=optional: no platform package; the error says optional dependencies were omitted', { skip }, async () => {
  const dir = app()
  const r = await npmInstall(dir, '--omit=optional', pkg.name)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(platformsIn(dir), [])
  const l = await loads(dir)
  assert.equal(l.code, 'ERR_CREDENTIALS_NATIVE_MISSING')
  assert.match(l.probably, /^probably: optional dependencies were not installed/)
})

test('npm ci from a lockfile made for macOS arm64: this machine\'s package, and it loads', { skip }, async () => {
  const dir = app()
  const made = await npmInstall(dir, '--os=darwin', '--cpu=arm64', pkg.name)
  assert.equal(made.status, 0, made.stderr)
  assert.deepEqual(platformsIn(dir), ['darwin-arm64'])
  fs.rmSync(path.join(dir, 'node_modules'), { recursive: true })
  const ci = await run('npm', ['ci'], { cwd: dir, env })
  assert.equal(ci.status, 0, ci.stderr)
  assert.deepEqual(platformsIn(dir), [here])
  assert.deepEqual(await loads(dir), { loaded: 'static_ak' })
})

for (const [flags, expected] of [
  [['--os=linux', '--cpu=arm64', '--libc=glibc'], 'linux-arm64-gnu'],
  // The Docker recipe: a glibc build stage installing for the Alpine stage.
  [['--os=linux', '--cpu=x64', '--libc=musl'], 'linux-x64-musl'],
]) {
  test(`npm ci ${flags.join(' ')} from a lockfile made here: ${expected} only`, { skip }, async () => {
    const dir = app()
    assert.equal((await npmInstall(dir, pkg.name)).status, 0)
    fs.rmSync(path.join(dir, 'node_modules'), { recursive: true })
    const ci = await run('npm', ['ci', '--omit=dev', ...flags], { cwd: dir, env })
    assert.equal(ci.status, 0, ci.stderr)
    assert.deepEqual(platformsIn(dir), [expected])
  })
}

test('pnpm with supportedArchitectures: the listed platforms, resolvable by the package; loads here', { skip }, async () => {
  const dir = app({
    dependencies: { [pkg.name]: pkg.version },
    pnpm: { supportedArchitectures: { os: ['current', 'darwin'], cpu: ['current', 'arm64'], libc: ['current'] } },
  })
  const pnpm = path.join(TOOLS, 'node_modules', 'pnpm', 'bin', 'pnpm.cjs')
  const r = await run(process.execPath, [pnpm, 'install', '--registry', registry, '--store-dir', path.join(work, 'pnpm-store'), '--config.confirmModulesPurge=false'], { cwd: dir, env })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  // current = linux, x64 (here) and glibc: linux x64/arm64 gnu and darwin arm64 (darwin has no libc).
  const expected = sorted([here, 'linux-arm64-gnu', 'darwin-arm64', ...(process.arch === 'x64' ? ['darwin-x64'] : [])])
  assert.deepEqual(platformsResolvableFromMain(dir), expected)
  assert.deepEqual(await loads(dir), { loaded: 'static_ak' })
})

test('yarn 4 with supportedArchitectures (node-modules linker): the listed platforms; loads here', { skip }, async () => {
  const dir = app({ dependencies: { [pkg.name]: pkg.version } })
  fs.writeFileSync(
    path.join(dir, '.yarnrc.yml'),
    [
      'nodeLinker: node-modules',
      `npmRegistryServer: "${registry.replace(/\/$/, '')}"`,
      'unsafeHttpWhitelist: ["127.0.0.1"]',
      'enableGlobalCache: false',
      'enableTelemetry: false',
      // Yarn holds back versions published less than a day ago; these were published a moment ago.
      'npmMinimalAgeGate: 0',
      'supportedArchitectures:',
      '  os: [current, darwin]',
      '  cpu: [current, arm64]',
      '  libc: [current]',
      '',
    ].join('\n'),
  )
  const yarn = path.join(TOOLS, 'node_modules', '@yarnpkg', 'cli-dist', 'bin', 'yarn.js')
  const r = await run(process.execPath, [yarn, 'install'], { cwd: dir, env: { ...env, YARN_ENABLE_IMMUTABLE_INSTALLS: 'false', YARN_GLOBAL_FOLDER: path.join(work, 'yarn-global') } })
  assert.equal(r.status, 0, r.stdout + r.stderr)
  const expected = sorted([here, 'linux-arm64-gnu', 'darwin-arm64', ...(process.arch === 'x64' ? ['darwin-x64'] : [])])
  assert.deepEqual(platformsIn(dir), expected)
  assert.deepEqual(await loads(dir), { loaded: 'static_ak' })
})
