'use strict'
// `npm run bench`: this package against @alicloud/credentials@2.4.7 and against the floor (the least
// possible code: bench/floor.js, a bare https.get), in one run, on loopback mocks only.
//   node bench/bench.js [--quick] [--json] [--slow-source] [--shared-cache] [--tenants[=<n>]]

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync, execFile } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const { TEST_CA, startSts, startMetadata, startUri, countingRelay } = require('../__test__/mocks')

// Every package must trust the loopback mock STS's test CA; Node reads NODE_EXTRA_CA_CERTS only at
// startup, so re-run this script with it set.
if (process.env.NODE_EXTRA_CA_CERTS !== TEST_CA) {
  const r = spawnSync(process.execPath, [__filename, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
  })
  process.exit(r.status ?? 1)
}
const QUICK = process.argv.includes('--quick')
const JSON_OUT = process.argv.includes('--json')
// Only the slow-source latency section (a minute), for a quick look at refresh behaviour.
const SLOW_ONLY = process.argv.includes('--slow-source')
// Only the shared-cache section (bench/shared-cache.js): processes sharing one session on disk.
const SHARED_ONLY = process.argv.includes('--shared-cache')
const { sharedCacheSection } = require('./shared-cache')
// Only the tenants section (many live identities; connections), for a quick look at the cost
// per tenant.
// `--tenants=<n>`: n identities instead of 20,000, for the cost per identity in the long run (the
// official's first half grows its heap by more than it then uses, so 20,000 flatter it).
const TENANTS_ARG = process.argv.find((a) => a === '--tenants' || a.startsWith('--tenants='))
const TENANTS_ONLY = TENANTS_ARG !== undefined
const TENANTS_N = TENANTS_ARG?.startsWith('--tenants=') ? Number(TENANTS_ARG.slice('--tenants='.length)) : null
const PACKAGES = { official: '@alicloud/credentials', native: ROOT, floor: path.join(__dirname, 'floor.js') }
const SESSION_TYPES = ['ram_role_arn', 'oidc_role_arn', 'ecs_ram_role', 'credentials_uri']
// The official package reaches the metadata service only at 100.100.100.200, which no benchmark
// may contact: its ECS figures are left out.
const officialRuns = (type) => type !== 'ecs_ram_role'

// Clean environment for every child and for this process: no real credentials, no cloud address.
for (const k of Object.keys(process.env)) if (k.startsWith('ALIBABA_CLOUD_')) delete process.env[k]
process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:9'

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

function runChild(code, env = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', code], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').pop()))
    })
  })
}

// Module load: `require()` timed inside fresh processes, median of several runs, interleaved so
// every package sees the same machine state.
async function loadTimeMs(runs) {
  const times = { official: [], native: [], floor: [] }
  for (let i = 0; i < runs; i++) {
    for (const [name, spec] of Object.entries(PACKAGES)) {
      const code = `const t=process.hrtime.bigint();require(${JSON.stringify(spec)});console.log(Number(process.hrtime.bigint()-t)/1e6)`
      times[name].push(await runChild(code))
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
}

// Calls per second of `fn` (which returns a promise of `batch` calls) over `ms` milliseconds.
async function rate(fn, batch, ms) {
  for (let i = 0; i < 2000; i++) await fn() // warm up
  let calls = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(ms) * 1000000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 100; i++) await fn()
    calls += 100 * batch
    now = process.hrtime.bigint()
  }
  return calls / (Number(now - start) / 1e9)
}

// Best of `rounds` interleaved measurements, to damp noise from the other core.
async function compareRates(fns, batch, ms, rounds) {
  const best = {}
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(fns)) best[name] = Math.max(best[name] || 0, await rate(fn, batch, ms))
  }
  return best
}

function credentialFor(name, config) {
  const mod = require(PACKAGES[name])
  return new mod.default(new mod.Config(config))
}

let unique = 0
// The config of `type` against the mocks; `fresh` gives it an identity of its own (a session name
// no other credential uses), so nothing cached by an earlier credential serves it.
function configOf(type, mocks, fresh = false) {
  const session = fresh ? { roleSessionName: `bench-${process.pid}-${++unique}` } : {}
  switch (type) {
    case 'access_key':
      return { type, accessKeyId: 'LTAI-bench-id', accessKeySecret: 'bench-secret' }
    case 'ram_role_arn':
      return { type, accessKeyId: 'LTAI-bench-source', accessKeySecret: 'bench-source-secret', roleArn: 'acs:ram::1:role/bench', stsEndpoint: mocks.sts.endpoint, ...session }
    case 'oidc_role_arn':
      return { type, roleArn: 'acs:ram::1:role/bench', oidcProviderArn: 'acs:ram::1:oidc-provider/bench', oidcTokenFilePath: mocks.oidcTokenFile, stsEndpoint: mocks.sts.endpoint, ...session }
    case 'ecs_ram_role':
      // ECS has no session name; its first-credential runs are fresh processes anyway.
      return { type, roleName: 'BenchRole' }
    case 'credentials_uri':
      return { type, credentialsURI: fresh ? `${mocks.uri.url}?n=${++unique}` : mocks.uri.url }
  }
  throw new Error(type)
}

// Where a bare client sends its one request for `type`.
function floorUrl(type, mocks) {
  if (type === 'ecs_ram_role') return `${mocks.metadata.url}/latest/meta-data/ram/security-credentials/BenchRole`
  if (type === 'credentials_uri') return mocks.uri.url
  return `https://${mocks.sts.endpoint}/`
}

// First credential of a fresh process (module already loaded), median of `runs`, per package; the
// floor is one bare https.get / http.get to the same server from a fresh process.
async function firstCredentialMs(type, mocks, runs) {
  const times = { official: [], native: [], floor: [] }
  for (let i = 0; i < runs; i++) {
    for (const name of Object.keys(times)) {
      if (name === 'official' && !officialRuns(type)) continue
      let code
      if (name === 'floor') {
        const url = floorUrl(type, mocks)
        const lib = url.startsWith('https') ? 'https' : 'http'
        code = `const t=process.hrtime.bigint();require('${lib}').get(${JSON.stringify(url)},(r)=>{r.resume();r.on('end',()=>console.log(Number(process.hrtime.bigint()-t)/1e6))})`
      } else {
        code = `const m=require(${JSON.stringify(PACKAGES[name])});const c=new m.default(new m.Config(${JSON.stringify(configOf(type, mocks, true))}));
const t=process.hrtime.bigint();c.getCredential().then(()=>console.log(Number(process.hrtime.bigint()-t)/1e6),(e)=>{console.error(e);process.exit(1)})`
      }
      const env = { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: mocks.metadata.url }
      times[name].push(await runChild(code, env))
    }
  }
  return Object.fromEntries(Object.entries(times).filter(([, v]) => v.length).map(([k, v]) => [k, median(v)]))
}

function requestsTo(type, mocks) {
  const server = type === 'ecs_ram_role' ? mocks.metadata : type === 'credentials_uri' ? mocks.uri : mocks.sts
  return server.state.requests.length
}

// Upstream requests when `n` new credentials with one config each ask once, one after another.
async function requestsForNewObjects(name, mocks, n) {
  const config = configOf('ram_role_arn', mocks, true)
  mocks.sts.reset()
  for (let i = 0; i < n; i++) {
    // The official package's HTTP client may reuse a keep-alive socket the mock server has closed
    // while the benchmark was busy elsewhere: that first request is retried.
    await credentialFor(name, config)
      .getCredential()
      .catch((e) => (e.code === 'ECONNRESET' ? credentialFor(name, config).getCredential() : Promise.reject(e)))
  }
  return mocks.sts.state.requests.length
}

// Upstream requests when `workers` worker threads each build one credential with one config and
// call it `callers` times at once, cold.
async function requestsForWorkers(name, mocks, workers, callers) {
  const config = configOf('ram_role_arn', mocks, true)
  const code = `
const { Worker } = require('node:worker_threads')
const src = ${JSON.stringify(`
const { workerData, parentPort } = require('node:worker_threads')
const m = require(workerData.pkg)
const c = new m.default(new m.Config(workerData.config))
Promise.all(Array.from({ length: workerData.callers }, () => c.getCredential())).then(() => parentPort.postMessage('done'))
`)}
let done = 0
for (let i = 0; i < ${workers}; i++) {
  const w = new Worker(src, { eval: true, workerData: { pkg: ${JSON.stringify(PACKAGES[name])}, config: ${JSON.stringify(config)}, callers: ${callers} } })
  w.on('message', () => { if (++done === ${workers}) console.log(JSON.stringify(done)) })
  w.on('error', (e) => { console.error(e); process.exit(1) })
}`
  mocks.sts.reset()
  await runChild(code)
  return mocks.sts.state.requests.length
}

// A slow source (answering in 400 ms) of short-lived credentials (30 s), every session type of
// both packages called steadily and concurrently for `ms`: the slowest getCredential() after the
// first says whether callers wait for the network once something is cached.
async function slowSourceLatency(ms, oidcTokenFile) {
  const LIFE_MS = 30_000
  const DELAY_MS = 400
  const slow = {
    sts: await startSts({ keys: { 'LTAI-bench-source': { secret: 'bench-source-secret' } }, oidcToken: 'bench-oidc-token', expiresInMs: LIFE_MS }),
    metadata: await startMetadata({ roleName: 'BenchRole', expiresInMs: LIFE_MS }),
    uri: await startUri({ expiresInMs: LIFE_MS }),
    oidcTokenFile,
  }
  for (const m of [slow.sts, slow.metadata, slow.uri]) m.set({ delayMs: DELAY_MS })
  const saved = process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT
  process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = slow.metadata.url
  const sleep = (t) => new Promise((r) => setTimeout(r, t))
  const steady = async (c) => {
    let t = process.hrtime.bigint()
    await c.getCredential()
    const first = Number(process.hrtime.bigint() - t) / 1e6
    let slowest = 0
    let calls = 0
    let errors = 0
    const end = Date.now() + ms
    while (Date.now() < end) {
      t = process.hrtime.bigint()
      await c.getCredential().catch(() => errors++)
      slowest = Math.max(slowest, Number(process.hrtime.bigint() - t) / 1e6)
      calls++
      await sleep(10)
    }
    return { first, slowest, calls, errors }
  }
  try {
    const runs = []
    for (const type of SESSION_TYPES) {
      for (const name of ['official', 'native']) {
        if (name === 'official' && !officialRuns(type)) continue
        const c = credentialFor(name, configOf(type, slow, true))
        runs.push(steady(c).then((r) => ({ type, name, ...r })))
      }
    }
    process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = saved
    const done = await Promise.all(runs)
    return SESSION_TYPES.map((type) => {
      const of = (name) => done.find((r) => r.type === type && r.name === name)
      const values = {}
      for (const name of ['official', 'native']) if (of(name)) values[name] = of(name).slowest
      return { type, values, detail: done.filter((r) => r.type === type) }
    })
  } finally {
    process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = saved
    await Promise.all([slow.sts.close(), slow.metadata.close(), slow.uri.close()])
  }
}

// Runs `code` in a fresh process with the collector exposed; resolves to its last line, parsed.
function runTenantChild(code) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '-e', code], { cwd: ROOT, env: process.env, encoding: 'utf8', maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`))
      else resolve(JSON.parse(stdout.trim().split('\n').pop()))
    })
  })
}

// `n` live identities of `type` (each its own: a URI query or a session name no other has), made
// and first-called `batch` at a time in a fresh process of package `name`, all kept: the time
// the batches took, and rss and heap (after a full collection) per identity over the whole run and
// over its second half. A warm-up identity first, so what the first request of a process loads
// (TLS, the runtime) is not counted per identity.
async function tenantsRun(name, type, mocks, n, batch) {
  const base = configOf(type, mocks)
  const code = `
const m = require(${JSON.stringify(PACKAGES[name])})
const base = ${JSON.stringify(base)}
const config = (i) => base.type === 'credentials_uri'
  ? { ...base, credentialsURI: base.credentialsURI + '?tenant=' + i }
  : { ...base, roleSessionName: 'tenant-' + i }
const memory = () => { global.gc(); global.gc(); const u = process.memoryUsage(); return { rss: u.rss, heap: u.heapUsed } }
;(async () => {
  await new m.default(new m.Config(config('warm'))).getCredential()
  const held = []
  const at = [memory()]
  let ns = 0n
  for (let i = 0; i < ${n}; i += ${batch}) {
    const t = process.hrtime.bigint()
    const calls = []
    for (let j = i; j < i + ${batch}; j++) {
      const c = new m.default(new m.Config(config(j)))
      held.push(c)
      calls.push(c.getCredential())
    }
    await Promise.all(calls)
    ns += process.hrtime.bigint() - t
    if (i + ${batch} === ${n / 2}) at.push(memory())
  }
  at.push(memory())
  console.log(JSON.stringify({ ms: Number(ns) / 1e6, at, held: held.length }))
})().catch((e) => { console.error(e); process.exit(1) })`
  const r = await runTenantChild(code)
  const [start, half, end] = r.at
  const kb = (a, b, count) => (b - a) / count / 1024
  return {
    seconds: r.ms / 1000,
    rss: kb(start.rss, end.rss, n),
    heap: kb(start.heap, end.heap, n),
    rssHalf: kb(half.rss, end.rss, n / 2),
    heapHalf: kb(half.heap, end.heap, n / 2),
  }
}

// Connections opened for `n` sequential refreshes of distinct ram_role_arn identities, in a fresh
// process of package `name`, counted by a relay in front of the mock STS.
async function tenantConnections(name, mocks, n) {
  const relay = await countingRelay(mocks.sts.port)
  try {
    const config = { ...configOf('ram_role_arn', mocks), stsEndpoint: relay.endpoint }
    const code = `
const m = require(${JSON.stringify(PACKAGES[name])})
;(async () => {
  for (let i = 0; i < ${n}; i++) await new m.default(new m.Config({ ...${JSON.stringify(config)}, roleSessionName: 'sequential-' + i })).getCredential()
  console.log(JSON.stringify(${n}))
})().catch((e) => { console.error(e); process.exit(1) })`
    await runTenantChild(code)
    return relay.state.connections
  } finally {
    await relay.close()
  }
}

// The tenants section: many live identities per process against the official package.
async function tenants(mocks, add) {
  const n = TENANTS_N ?? (QUICK ? 4000 : 20_000)
  if (!Number.isInteger(n / 1000) || n <= 0) throw new Error('--tenants=<n>: n a multiple of 1,000')
  const batch = 500
  const label = n.toLocaleString('en-US')
  for (const type of ['credentials_uri', 'ram_role_arn']) {
    const over = type === 'credentials_uri' ? 'http' : 'https'
    const runs = {}
    for (const name of ['official', 'native']) runs[name] = await tenantsRun(name, type, mocks, n, batch)
    const row = (key) => Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, v[key]]))
    add(`tenants: ${type} over ${over}, ${label} identities made and first-called ${batch} at a time (s)`, row('seconds'), type === 'ram_role_arn' ? 'native <= 0.7x official' : 'native <= official')
    add(`tenants: ${type}, rss per live identity (KB)`, row('rss'), 'native <= official (aim 0.5x)')
    add(`tenants: ${type}, rss per live identity, second half (KB)`, row('rssHalf'), 'native <= official (aim 0.5x)')
    add(`tenants: ${type}, heap per live identity (KB)`, row('heap'), 'native <= official (aim 0.5x)')
    add(`tenants: ${type}, heap per live identity, second half (KB)`, row('heapHalf'), 'native <= official (aim 0.5x)')
  }
  const sequential = 100
  add(`tenants: connections opened for ${sequential} sequential ram_role_arn refreshes of distinct identities`, { official: await tenantConnections('official', mocks, sequential), native: await tenantConnections('native', mocks, sequential), floor: 1 }, 'native <= 2')
}

async function main() {
  const ms = QUICK ? 300 : 1000
  const rounds = QUICK ? 1 : 3
  const runs = QUICK ? 3 : 9
  const results = []
  let shared = []
  const add = (name, values, target) => results.push({ name, ...values, target })

  const oidcTokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'acn-bench-')), 'token')
  fs.writeFileSync(oidcTokenFile, 'bench-oidc-token')
  const mocks = {
    sts: await startSts({ keys: { 'LTAI-bench-source': { secret: 'bench-source-secret' } }, oidcToken: 'bench-oidc-token' }),
    metadata: await startMetadata({ roleName: 'BenchRole' }),
    uri: await startUri(),
    oidcTokenFile,
  }
  process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = mocks.metadata.url
  try {
    if (!SLOW_ONLY && !TENANTS_ONLY) shared = await sharedCacheSection({ sts: mocks.sts, official: PACKAGES.official, runs: QUICK ? 5 : 10 })
    // A minute (15 s with --quick), all types and both packages at once.
    for (const r of SHARED_ONLY || TENANTS_ONLY ? [] : await slowSourceLatency(QUICK ? 15_000 : 60_000, oidcTokenFile)) {
      add(`${r.type}: slowest getCredential() after the first, source answering in 400 ms, 30 s credentials (ms)`, r.values, 'native < 400 (no caller waits)')
      if (!JSON_OUT) for (const d of r.detail) console.error(`  ${r.type} ${d.name}: first ${d.first.toFixed(1)} ms, slowest after ${d.slowest.toFixed(1)} ms, ${d.calls} calls, ${d.errors} errors`)
    }
    if (TENANTS_ONLY) {
      await tenants(mocks, add)
    } else if (!SLOW_ONLY && !SHARED_ONLY) {
      add('module load (ms)', await loadTimeMs(QUICK ? 5 : 15), 'native <= 0.2x official')
      for (const type of SESSION_TYPES) {
        add(`${type}: first credential in a fresh process (ms)`, await firstCredentialMs(type, mocks, runs), 'native <= 0.5x official')
      }

      // Every type's credentials are built and warmed before any is timed, and the rounds go over all
      // of them in turn, so no type is timed while its call sites still see one shape only.
      const cachedTypes = ['access_key', ...SESSION_TYPES]
      const fns = {}
      for (const type of cachedTypes) {
        fns[type] = {}
        for (const name of Object.keys(PACKAGES)) {
          if (name === 'official' && !officialRuns(type)) continue
          const c = credentialFor(name, configOf(type, mocks))
          await c.getCredential()
          fns[type][name] = () => c.getCredential()
        }
      }
      const cached = Object.fromEntries(cachedTypes.map((t) => [t, {}]))
      // Round 0 is not counted: it lets every call site see every type before anything is timed.
      for (let r = 0; r <= rounds; r++) {
        for (const type of cachedTypes) {
          const best = await compareRates(fns[type], 1, ms, 1)
          if (r === 0) continue
          for (const [name, v] of Object.entries(best)) cached[type][name] = Math.max(cached[type][name] || 0, v)
        }
      }
      for (const type of cachedTypes) {
        add(`${type}: cached getCredential() (calls/s)`, cached[type], type === 'access_key' ? 'native >= 3x official' : 'native within 10% of access_key')
      }

      const n = 200
      add(`ram_role_arn: AssumeRole requests for ${n} new objects with one config`, { official: await requestsForNewObjects('official', mocks, n), native: await requestsForNewObjects('native', mocks, n), floor: 1 }, 'native = 1')
      const [w, c] = [8, 100]
      add(`ram_role_arn: AssumeRole requests for ${w} workers x ${c} cold callers`, { official: await requestsForWorkers('official', mocks, w, c), native: await requestsForWorkers('native', mocks, w, c), floor: 1 }, 'native = 1')
      await tenants(mocks, add)
    }
  } finally {
    await Promise.all([mocks.sts.close(), mocks.metadata.close(), mocks.uri.close()])
    fs.rmSync(path.dirname(oidcTokenFile), { recursive: true, force: true })
  }

  if (JSON_OUT) {
    console.log(JSON.stringify(SHARED_ONLY ? shared : [...results, ...shared.map((r) => ({ ...r, section: 'shared-cache' }))], null, 2))
    return
  }
  const fmt = (v) => (v === undefined ? 'n/a' : v >= 1000 ? Math.round(v).toLocaleString('en-US') : Number.isInteger(v) ? String(v) : v.toFixed(2))
  const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? 'n/a' : `${(a / b).toFixed(2)}x`)
  console.log(`node ${process.version}, ${process.platform}-${process.arch}; native vs @alicloud/credentials@${require('@alicloud/credentials/package.json').version} vs the floor (bench/floor.js, a bare https.get)`)
  if (results.length) console.log('| measure | official | native | floor | native/official | native/floor | target |')
  if (results.length) console.log('|---|---:|---:|---:|---:|---:|---|')
  for (const r of results) {
    console.log(`| ${r.name} | ${fmt(r.official)} | ${fmt(r.native)} | ${fmt(r.floor)} | ${ratio(r.native, r.official)} | ${ratio(r.native, r.floor)} | ${r.target} |`)
  }
  if (shared.length) {
    console.log('\nShared session cache (ALICLOUD_CREDENTIALS_CACHE_DIR), loopback STS:')
    console.log('| measure | official | native | native + shared cache | shared/native | target |')
    console.log('|---|---:|---:|---:|---:|---|')
    for (const r of shared) console.log(`| ${r.name} | ${fmt(r.official)} | ${fmt(r.native)} | ${fmt(r.shared)} | ${ratio(r.shared, r.native)} | ${r.target} |`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
