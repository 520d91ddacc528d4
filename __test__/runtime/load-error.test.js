'use strict'
// When no binary loads, `require` throws one actionable error: ERR_CREDENTIALS_NATIVE_MISSING
// (not installed) or ERR_CREDENTIALS_NATIVE_LOAD_FAILED (there but cannot load), naming the
// platform, the package and version, the probable why and the install command, with napi's load
// errors attached. Each case is a copy of the package as npm installs it (the published files, in
// a temporary node_modules) with binaries removed, swapped or broken, loaded by a fresh node.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, tempDir, isolatedEnv, runNode, pkg, linuxGlibc, here, hereBinary } = require('../helpers')

const work = tempDir('acn-load-error-')
let apps = 0

// An app whose node_modules holds the main package (its published files only, no binary) and the
// platform packages given as { platform: binaryFileOrBuffer }.
function app(platforms = {}) {
  const dir = path.join(work, `app${apps++}`)
  const main = path.join(dir, 'node_modules', pkg.name)
  fs.mkdirSync(main, { recursive: true })
  for (const f of [...pkg.files, 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(main, f))
  for (const [platform, binary] of Object.entries(platforms)) {
    const dirOf = path.join(dir, 'node_modules', `${pkg.name}-${platform}`)
    fs.mkdirSync(dirOf, { recursive: true })
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'npm', platform, 'package.json'), 'utf8'))
    fs.writeFileSync(path.join(dirOf, 'package.json'), JSON.stringify(manifest))
    const file = path.join(dirOf, manifest.main)
    if (Buffer.isBuffer(binary)) fs.writeFileSync(file, binary)
    else fs.copyFileSync(binary, file)
  }
  return dir
}

// Loads the package in `dir` with a fresh node; returns what was thrown (or that it loaded).
function load(dir, env = {}) {
  const code = `
try {
  const C = require('${pkg.name}')
  new C({ type: 'access_key', accessKeyId: 'id', accessKeySecret: 's' }).getCredential().then((r) => console.log(JSON.stringify({ loaded: r.providerName })))
} catch (e) {
  const causes = []
  for (let c = e.cause; c; c = c.cause) causes.push(String(c.message))
  console.log(JSON.stringify({ code: e.code, message: e.message, causes, platform: e.platform, packageName: e.packageName, packageVersion: e.packageVersion, binaryError: e.binaryError && e.binaryError.code }))
}`
  const r = runNode(code, { cwd: dir, env: isolatedEnv(env) })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout)
}

// An ELF header for another CPU: enough for the loader to refuse it and for us to say which.
function elfFor(machine) {
  const b = Buffer.alloc(64)
  b.writeUInt32BE(0x7f454c46, 0)
  b[4] = 2
  b[5] = 1
  b[6] = 1
  b.writeUInt16LE(3, 16) // ET_DYN
  b.writeUInt16LE(machine, 18)
  return b
}

const opts = { skip: !linuxGlibc && 'cases written for Linux glibc' }

test('nothing installed (--omit=optional): MISSING, with platform, package@version, why and the commands', opts, () => {
  const r = load(app())
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_MISSING', r.message)
  const [first] = r.message.split('\n')
  assert.equal(first, `${pkg.name}: no native binary for this platform; it needs the package ${pkg.name}-${here}@${pkg.version}`)
  const glibc = process.report.getReport().header.glibcVersionRuntime
  assert.match(r.message, new RegExp(`detected platform: linux ${process.arch} glibc ${glibc.replace('.', '\\.')}`))
  assert.match(r.message, /probably: optional dependencies were not installed \(npm --omit=optional/)
  assert.ok(r.message.includes(`npm install ${pkg.name}-${here}@${pkg.version}`), r.message)
  assert.ok(r.message.includes(`npm install --os=linux --cpu=${process.arch} --libc=glibc`), r.message)
  assert.doesNotMatch(r.message, /npm has a bug|removing both package-lock\.json/, 'not napi\'s generic advice')
  assert.deepEqual([r.platform, r.packageName, r.packageVersion], [here, `${pkg.name}-${here}`, pkg.version])
  // napi's own errors stay attached: the package it looked for is among them.
  assert.match(r.causes[0], /Cannot find native binding/)
  assert.ok(r.causes.some((c) => c.includes(`Cannot find module '${pkg.name}-${here}'`)), r.causes.join('\n'))
})

test('installed on a Mac and copied here: MISSING, says so and gives npm --os/--cpu/--libc', opts, () => {
  const macho = Buffer.alloc(64)
  macho.writeUInt32BE(0xcffaedfe, 0)
  const r = load(app({ 'darwin-arm64': macho, 'darwin-x64': macho }))
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_MISSING', r.message)
  assert.match(r.message, /probably: node_modules holds the binary for darwin-x64, darwin-arm64: it was installed on another OS or CPU/)
  assert.match(r.message, new RegExp(`install for this platform with: npm install --os=linux --cpu=${process.arch} --libc=glibc`))
})

test('a musl install copied to glibc: MISSING, names the libc mix-up', opts, () => {
  const r = load(app({ [`linux-${process.arch}-musl`]: Buffer.from('stand-in') }))
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_MISSING', r.message)
  assert.match(r.message, new RegExp(`probably: ${pkg.name}-linux-${process.arch}-musl is installed instead: node_modules was installed for musl \\(Alpine\\) and this system uses glibc`))
})

test('a binary for another CPU where this one belongs: LOAD_FAILED, says which CPU it is for', opts, () => {
  const other = process.arch === 'arm64' ? { machine: 0x3e, name: 'x64' } : { machine: 0xb7, name: 'arm64' }
  const r = load(app({ [here]: elfFor(other.machine) }))
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_LOAD_FAILED', r.message)
  assert.match(r.message.split('\n')[0], /is present but cannot be loaded: /)
  assert.match(r.message, new RegExp(`probably: the file is a linux ${other.name} binary, and this is linux ${process.arch}`))
  assert.match(r.causes[0], /Cannot find native binding/, 'napi\'s errors stay attached')
  assert.ok(r.causes.some((c) => c.includes(r.message.split('cannot be loaded: ')[1].split('\n')[0])), r.causes.join('\n'))
  assert.equal(r.binaryError, 'ERR_DLOPEN_FAILED', 'and Node\'s own error for the file')
})

test('a binary that needs a newer glibc: LOAD_FAILED with the real loader error and the glibc versions', { skip: opts.skip || (!fs.existsSync(hereBinary) && 'no build here') }, () => {
  // This machine's build with one needed version renamed to a glibc from the future: the dynamic
  // loader refuses it exactly as an old system refuses a binary built against a new glibc.
  const binary = fs.readFileSync(hereBinary)
  const at = binary.indexOf(Buffer.from('GLIBC_2.17\0'))
  assert.notEqual(at, -1)
  Buffer.from('GLIBC_2.99').copy(binary, at)
  const r = load(app({ [here]: binary }))
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_LOAD_FAILED', r.message)
  assert.match(r.message, /version `GLIBC_2\.99' not found/)
  const glibc = process.report.getReport().header.glibcVersionRuntime
  assert.ok(r.message.includes(`probably: this system's glibc ${glibc} is older than the GLIBC_2.99 the binary needs`), r.message)
})

test('the right binary installed: it loads (the error path costs nothing when all is well)', { skip: opts.skip || (!fs.existsSync(hereBinary) && 'no build here') }, () => {
  assert.deepEqual(load(app({ [here]: hereBinary })), { loaded: 'static_ak' })
})

test('NAPI_RS_NATIVE_LIBRARY_PATH still works, and a wrong one is named', { skip: opts.skip || (!fs.existsSync(hereBinary) && 'no build here') }, () => {
  const dir = app()
  assert.deepEqual(load(dir, { NAPI_RS_NATIVE_LIBRARY_PATH: hereBinary }), { loaded: 'static_ak' })
  const missing = path.join(work, 'nowhere.node')
  const r = load(dir, { NAPI_RS_NATIVE_LIBRARY_PATH: missing })
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_MISSING', r.message)
  assert.ok(r.message.startsWith(`${pkg.name}: NAPI_RS_NATIVE_LIBRARY_PATH names ${missing}, which does not exist`), r.message)
  const broken = path.join(work, 'broken.node')
  fs.writeFileSync(broken, elfFor(process.arch === 'arm64' ? 0x3e : 0xb7))
  const b = load(dir, { NAPI_RS_NATIVE_LIBRARY_PATH: broken })
  assert.equal(b.code, 'ERR_CREDENTIALS_NATIVE_LOAD_FAILED', b.message)
  assert.match(b.message, /it was named by NAPI_RS_NATIVE_LIBRARY_PATH/)
})

test('a platform no binary is published for: MISSING, lists the published ones', opts, () => {
  // Node reports the platform; a preload makes this one look like linux riscv64.
  const dir = app()
  const preload = path.join(dir, 'riscv.js')
  fs.writeFileSync(preload, "Object.defineProperty(process, 'arch', { value: 'riscv64' })\n")
  const r = load(dir, { NODE_OPTIONS: `--require ${preload}` })
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_MISSING', r.message)
  assert.match(r.message, /probably: no binary is published for linux-riscv64-gnu; published: linux-x64-gnu, linux-arm64-gnu/)
})

test('a runtime without process.report: the libc comes from /usr/bin/ldd, as napi and npm tell it', { skip: opts.skip || (!fs.existsSync('/usr/bin/ldd') && 'no /usr/bin/ldd') }, () => {
  const dir = app()
  const preload = path.join(dir, 'no-report.js')
  fs.writeFileSync(preload, "process.report.getReport = () => { throw new Error('no report here') }\n")
  const r = load(dir, { NODE_OPTIONS: `--require ${preload}` })
  assert.equal(r.code, 'ERR_CREDENTIALS_NATIVE_MISSING', r.message)
  const libc = fs.readFileSync('/usr/bin/ldd', 'latin1').includes('musl') ? 'musl' : 'glibc'
  assert.match(r.message, new RegExp(`^detected platform: linux ${process.arch} ${libc}$`, 'm'))
})
