'use strict'
// Moving the wall clock of a running child process while its monotonic clock runs on, as a
// laptop's sleep, a VM's live migration or an NTP step does: libfaketime (Debian `faketime`)
// preloaded into the child with DONT_FAKE_MONOTONIC=1 fakes CLOCK_REALTIME only (Date.now(),
// Rust's SystemTime), and FAKETIME_TIMESTAMP_FILE with FAKETIME_NO_CACHE=1 makes it read the
// offset from a file at every clock read, so the parent moves the child's clock by rewriting it.
// Mock servers in the parent read the same file to issue expirations in the child's time.

const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, tempDir, isolatedEnv, forStderrAudit } = require('../helpers')

// libfaketimeMT (the multi-threaded build: the addon's runtime reads the clock from its own
// threads), as the package installed it, or `null` with the reason.
function findLibfaketime() {
  if (process.platform !== 'linux') return { path: null, why: `libfaketime is Linux-only here (platform ${process.platform})` }
  const candidates = []
  for (const pkg of ['libfaketime', 'faketime']) {
    const r = spawnSync('dpkg', ['-L', pkg], { encoding: 'utf8' })
    if (r.status === 0) candidates.push(...r.stdout.split('\n').filter((l) => l.endsWith('/libfaketimeMT.so.1')))
  }
  for (const dir of ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime', '/usr/lib/faketime', '/usr/local/lib/faketime']) {
    candidates.push(path.join(dir, 'libfaketimeMT.so.1'))
  }
  const found = candidates.find((p) => fs.existsSync(p))
  if (!found) return { path: null, why: 'libfaketimeMT.so.1 not found (apt-get install faketime)' }
  // Proof that it loads into node and moves Date.now() by the file's offset.
  const clock = new WallClock(found)
  clock.set(3600_000)
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(Date.now()))'], { env: clock.env(isolatedEnv()), encoding: 'utf8', timeout: 20_000 })
  const ahead = Number(r.stdout) - Date.now()
  if (r.status !== 0 || !(ahead > 3590_000 && ahead < 3610_000)) {
    return { path: null, why: `libfaketime at ${found} did not move node's clock (status ${r.status}, ${ahead} ms ahead): ${(r.stderr || '').slice(0, 200)}` }
  }
  return { path: found, why: null }
}

/** A wall-clock offset shared by this process's mocks and the children it starts. */
class WallClock {
  constructor(library) {
    this.library = library
    this.file = path.join(tempDir('acn-faketime-'), 'offset')
    this.set(0)
  }

  /** Moves the children's wall clock to `offsetMs` from this process's (seconds, 3 decimals). */
  set(offsetMs) {
    const s = (Math.abs(offsetMs) / 1000).toFixed(3)
    fs.writeFileSync(`${this.file}.tmp`, `${offsetMs < 0 ? '-' : '+'}${s}\n`)
    fs.renameSync(`${this.file}.tmp`, this.file)
  }

  /** The offset as the file says now (what the children read). */
  offsetMs() {
    const text = fs.readFileSync(this.file, 'utf8').trim()
    return Math.round(Number(text) * 1000)
  }

  /** The children's wall clock, in ms since the epoch. */
  now() {
    return Date.now() + this.offsetMs()
  }

  /** Moves the children's clock so that it reads `childMs` now. */
  setNow(childMs) {
    this.set(childMs - Date.now())
  }

  env(base) {
    return { ...base, LD_PRELOAD: this.library, DONT_FAKE_MONOTONIC: '1', FAKETIME_TIMESTAMP_FILE: this.file, FAKETIME_NO_CACHE: '1' }
  }

  /**
   * Makes a mock (whose `state.expiresInMs` it reads at each issue, after counting it in
   * `state.issued`) issue credentials living `lifetimeMs` on the children's clock, their
   * expirations rounded up to a whole second so the mock's whole-second format is exact.
   * Returns a map of the n-th issued credential to its expiration (ms since the epoch, the same
   * instant on every clock: the children compare it with theirs).
   */
  drive(mock, lifetimeMs) {
    const expiries = new Map()
    const clock = this
    Object.defineProperty(mock.state, 'expiresInMs', {
      configurable: true,
      get() {
        const real = Date.now()
        const expiry = Math.ceil((real + clock.offsetMs() + lifetimeMs) / 1000) * 1000
        expiries.set(mock.state.issued, expiry)
        return expiry - real
      },
      set() {},
    })
    return expiries
  }
}

// What a child runs: a Credential of `ACN_WALL_CONFIG` (or, given `{ uriProvider: url }`, a
// URICredentialsProvider, the provider classes' path), answering one JSON line per command.
const CHILD = `
const Credential = require('./index.js')
const config = JSON.parse(process.env.ACN_WALL_CONFIG)
const credential = config && config.uriProvider
  ? { provider: Credential.URICredentialsProvider.builder().withCredentialsURI(config.uriProvider).build(), getCredential() { return this.provider.getCredentials() } }
  : new Credential(config)
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n')
require('node:readline').createInterface({ input: process.stdin }).on('line', async (line) => {
  const { op } = JSON.parse(line)
  if (op === 'get') {
    try {
      const c = await credential.getCredential()
      out({ id: c.accessKeyId, now: Date.now() })
    } catch (e) {
      out({ error: e.message, now: Date.now() })
    }
  } else if (op === 'getAccessKeyId' || op === 'getAccessKeySecret') {
    try {
      out({ value: await credential[op](), now: Date.now() })
    } catch (e) {
      out({ error: e.message, now: Date.now() })
    }
  }
})
`

/**
 * Starts a child holding a `new Credential(config)` on `clock`'s wall clock. `get()` resolves
 * to `{ id, now }` (the child's Date.now() after the call) or `{ error, now }`; `call(getter)`
 * runs a deprecated getter; `close()` ends it.
 */
function startChild(clock, config, extraEnv = {}) {
  const child = spawn(process.execPath, ['-e', CHILD], {
    cwd: ROOT,
    env: clock.env(isolatedEnv({ ...extraEnv, ACN_WALL_CONFIG: JSON.stringify(config) })),
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const waiting = []
  readline.createInterface({ input: child.stdout }).on('line', (line) => waiting.shift()?.resolve(JSON.parse(line)))
  child.on('exit', (code, signal) => {
    forStderrAudit(stderr)
    for (const w of waiting.splice(0)) w.reject(new Error(`the child exited (${code ?? signal}): ${stderr.slice(0, 500)}`))
  })
  // A kill timer, so a hung child never outlives its test.
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000)
  killer.unref()
  return {
    get() {
      return this.call('get')
    },
    /** A deprecated getter (`getAccessKeyId`, `getAccessKeySecret`): `{ value, now }` or `{ error, now }`. */
    call(op) {
      return new Promise((resolve, reject) => {
        waiting.push({ resolve, reject })
        child.stdin.write(JSON.stringify({ op }) + '\n')
      })
    },
    close() {
      clearTimeout(killer)
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.stdin.end()
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      })
    },
    get stderr() {
      return stderr
    },
  }
}

module.exports = { findLibfaketime, WallClock, startChild }
