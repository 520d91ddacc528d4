'use strict'
// Shared helpers of the node tests.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')

// A temporary directory removed when the process exits.
function tempDir(prefix = 'acn-') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

// Profile paths that never exist: nothing creates this directory.
const NOWHERE = path.join(os.tmpdir(), 'acn-no-such-dir')

// A HOME for child processes (npm writes its cache there), one per test process, made on first
// use and removed with it.
let home = null
function childHome() {
  home ??= tempDir('acn-home-')
  return home
}

// The variables that keep a process away from the machine's own credentials and from any cloud
// address: the metadata service at a closed loopback port, the profile files at missing paths,
// loopback never through a proxy.
function isolatingVars() {
  return {
    ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
    ALIBABA_CLOUD_CONFIG_FILE: path.join(NOWHERE, 'config.json'),
    ALIBABA_CLOUD_CREDENTIALS_FILE: path.join(NOWHERE, 'credentials'),
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
  }
}

// This process's environment without any ALIBABA_CLOUD_* variable, isolated as above, with a
// home directory of its own, and `extra` on top: for child processes.
function isolatedEnv(extra = {}) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('ALIBABA_CLOUD_')) env[k] = v
  }
  // USERPROFILE too: the home directory on Windows.
  const home = childHome()
  return { ...env, ...isolatingVars(), HOME: home, USERPROFILE: home, ...extra }
}

// Under the secrets audit (ACN_AUDIT set), what child processes wrote to stderr is passed on, so
// their log lines and errors are audited too.
function forStderrAudit(stderr) {
  if (process.env.ACN_AUDIT && stderr) process.stderr.write(stderr)
}

// Runs `code` in a fresh node process (CommonJS, cwd = the repository) with `env`; returns
// { status, stdout, stderr }.
function runNode(code, { env = isolatedEnv(), args = [], cwd = ROOT, timeout = 30000 } = {}) {
  const r = spawnSync(process.execPath, [...args, '-e', code], { env, cwd, encoding: 'utf8', timeout })
  forStderrAudit(r.stderr)
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal }
}

// Like runNode, without blocking this process's event loop (for children that talk to mocks
// served by this process).
function runNodeAsync(code, { env = isolatedEnv(), args = [], cwd = ROOT, timeout = 30000 } = {}) {
  const { execFile } = require('node:child_process')
  return new Promise((resolve) => {
    execFile(process.execPath, [...args, '-e', code], { env, cwd, encoding: 'utf8', timeout }, (error, stdout, stderr) => {
      forStderrAudit(stderr)
      resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr, signal: error?.signal })
    })
  })
}

// Sets process.env entries for the duration of `fn` (sync or async) and restores them.
async function withEnv(vars, fn) {
  const saved = {}
  for (const k of Object.keys(vars)) {
    saved[k] = process.env[k]
    if (vars[k] === undefined) delete process.env[k]
    else process.env[k] = vars[k]
  }
  try {
    return await fn()
  } finally {
    for (const k of Object.keys(saved)) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
}

// Strips ALIBABA_CLOUD_* from this process so in-process tests start clean.
function clearAlibabaEnv() {
  for (const k of Object.keys(process.env)) {
    if (k.startsWith('ALIBABA_CLOUD_')) delete process.env[k]
  }
  Object.assign(process.env, isolatingVars())
}

// An AccessKey pair of random values, so no test secret is a fixed string an audit could miss;
// the secret is recorded for the secrets audit like every random secret of the suite.
function randomKey() {
  const crypto = require('node:crypto')
  const { auditSecret } = require('./mocks')
  return { id: `LTAI${crypto.randomBytes(8).toString('hex')}`, secret: auditSecret(crypto.randomBytes(18).toString('base64')) }
}

// A seeded pseudo-random generator for randomised tests (mulberry32): the seed is
// ACN_TEST_SEED when set, else random, and is printed so a failing run can be replayed.
function seededRandom(label) {
  let seed = process.env.ACN_TEST_SEED ? Number(process.env.ACN_TEST_SEED) >>> 0 : require('node:crypto').randomInt(2 ** 32)
  console.log(`# ${label}: seed ${seed} (replay with ACN_TEST_SEED=${seed})`)
  const next = () => {
    seed = (seed + 0x6d2b79f5) >>> 0
    let t = seed
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  // An integer in [min, max), as crypto.randomInt(min, max).
  next.int = (min, max) => (max === undefined ? Math.floor(next() * min) : min + Math.floor(next() * (max - min)))
  return next
}

// The package as a test installs it: its package.json, this machine's platform package
// (`linux-x64-gnu`: the install tests are written for Linux glibc) and that build's binary, and
// why a test that needs them is skipped (false when it can run).
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const linuxGlibc = process.platform === 'linux' && !!process.report.getReport().header.glibcVersionRuntime
const here = linuxGlibc ? `linux-${process.arch}-gnu` : null
const hereBinary = here && path.join(ROOT, `${pkg.napi.binaryName}.${here}.node`)
const noBuildHere = (!linuxGlibc && 'written for Linux glibc') || (!fs.existsSync(hereBinary) && 'no build here')

// The package as npm installs it into `dir`/node_modules under `name` (its own or an alias),
// replacing what was there, with this machine's platform package beside it.
function installInto(dir, name = pkg.name) {
  const main = path.join(dir, 'node_modules', name)
  fs.rmSync(main, { recursive: true, force: true })
  fs.mkdirSync(main, { recursive: true })
  for (const f of [...pkg.files, 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(main, f))
  const platform = path.join(dir, 'node_modules', `${pkg.name}-${here}`)
  fs.mkdirSync(platform, { recursive: true })
  fs.copyFileSync(path.join(ROOT, 'npm', here, 'package.json'), path.join(platform, 'package.json'))
  fs.copyFileSync(hereBinary, path.join(platform, `${pkg.napi.binaryName}.${here}.node`))
}

// Runs a command (npm, a bundler, a package manager) without blocking the event loop; resolves
// with { status, signal, stdout, stderr } (status 1 when it was killed).
function runCommand(cmd, args, { cwd, env, timeout = 180000 } = {}) {
  const { execFile } = require('node:child_process')
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : 1) : 0, signal: error?.signal, stdout, stderr })
    })
  })
}

// A loopback port free at the moment (for servers the test does not start itself).
function freePort() {
  const net = require('node:net')
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
    server.on('error', reject)
  })
}

module.exports = {
  ROOT,
  isolatedEnv,
  runNode,
  runNodeAsync,
  forStderrAudit,
  withEnv,
  tempDir,
  clearAlibabaEnv,
  randomKey,
  seededRandom,
  pkg,
  linuxGlibc,
  here,
  hereBinary,
  noBuildHere,
  installInto,
  runCommand,
  freePort,
}
