'use strict'
// The `shared-cache` section of `npm run bench` (alone: `node bench/bench.js --shared-cache`): the
// session cache shared by a user's processes (ALICLOUD_CREDENTIALS_CACHE_DIR) against the official
// package and against this package without it, on the loopback mock STS of bench.js.
// - 8 processes started at once with one ram_role_arn config: AssumeRole requests, and each
//   process's time to its first credential (from `new Credential` to the resolved getCredential).
// - A CLI-style run repeated: a fresh process per run, its first credential from the cache (after
//   the first run) against a fresh AssumeRole each run.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFile } = require('node:child_process')

const ROOT = path.join(__dirname, '..')

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

// One process: loads `pkg`, times its first credential (ms), prints it.
function firstCredential(pkg, config, env) {
  const code = `const m=require(${JSON.stringify(pkg)});const t=process.hrtime.bigint();const c=new m.default(new m.Config(${JSON.stringify(config)}));
c.getCredential().then((r)=>console.log(JSON.stringify({ms:Number(process.hrtime.bigint()-t)/1e6,id:r.accessKeyId})),(e)=>{console.error(e);process.exit(1)})`
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').pop()))
    })
  })
}

let identities = 0
function roleConfig(sts) {
  return {
    type: 'ram_role_arn',
    accessKeyId: 'LTAI-bench-source',
    accessKeySecret: 'bench-source-secret',
    roleArn: 'acs:ram::1:role/bench-shared-cache',
    roleSessionName: `bench-shared-${process.pid}-${++identities}`,
    stsEndpoint: sts.endpoint,
  }
}

/**
 * The section's rows: `{ name, official, native, shared }` (`shared`: this package with the cache),
 * measured with `sts` (bench.js's mock STS). `processes` at once; `runs` CLI-style runs.
 */
async function sharedCacheSection({ sts, official, processes = 8, runs = 10 }) {
  const dirs = []
  const cacheDir = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acn-bench-cache-'))
    dirs.push(dir)
    return path.join(dir, 'cache')
  }
  const variants = {
    official: { pkg: official, env: () => ({}) },
    native: { pkg: ROOT, env: () => ({}) },
    shared: { pkg: ROOT, dir: null, env() { return { ALICLOUD_CREDENTIALS_CACHE_DIR: this.dir } } },
  }
  const rows = { together: {}, togetherMs: {}, togetherSlowestMs: {}, cliFirstMs: {}, cliRequests: {} }
  try {
    // Processes started together.
    for (const [name, v] of Object.entries(variants)) {
      v.dir = cacheDir()
      const config = roleConfig(sts)
      sts.reset()
      const results = await Promise.all(Array.from({ length: processes }, () => firstCredential(v.pkg, config, v.env())))
      rows.together[name] = sts.state.requests.length
      rows.togetherMs[name] = median(results.map((r) => r.ms))
      rows.togetherSlowestMs[name] = Math.max(...results.map((r) => r.ms))
    }
    // A CLI run repeated: the first run of each variant is not timed (it fills the cache). Then
    // again with STS answering in 30 ms, a real network's round trip.
    rows.cliFirstMs30 = {}
    for (const [delayMs, target] of [[0, rows.cliFirstMs], [30, rows.cliFirstMs30]]) {
      for (const [name, v] of Object.entries(variants)) {
        v.dir = cacheDir()
        const config = roleConfig(sts)
        sts.reset()
        sts.set({ delayMs })
        const times = []
        for (let i = 0; i <= runs; i++) {
          const r = await firstCredential(v.pkg, config, v.env())
          if (i > 0) times.push(r.ms)
        }
        target[name] = median(times)
        if (delayMs === 0) rows.cliRequests[name] = sts.state.requests.length
      }
    }
    sts.reset()
  } finally {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
  }
  return [
    { name: `${processes} processes at once, one ram_role_arn identity: AssumeRole requests`, ...rows.together, target: 'shared = 1' },
    { name: `${processes} processes at once: time to first credential, median (ms)`, ...rows.togetherMs, target: 'shared <= native' },
    { name: `${processes} processes at once: time to first credential, slowest (ms)`, ...rows.togetherSlowestMs, target: 'report' },
    { name: `CLI-style run repeated ${runs + 1} times: AssumeRole requests`, ...rows.cliRequests, target: 'shared = 1' },
    { name: `CLI-style run: first credential of runs 2-${runs + 1}, median (ms)`, ...rows.cliFirstMs, target: 'shared < native (a file read, no AssumeRole)' },
    { name: `CLI-style run, STS answering in 30 ms: first credential of runs 2-${runs + 1}, median (ms)`, ...rows.cliFirstMs30, target: 'shared < native (a file read, no AssumeRole)' },
  ]
}

module.exports = { sharedCacheSection }
