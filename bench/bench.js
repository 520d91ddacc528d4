'use strict'
// `npm run bench`: this package against @alicloud/credentials@2.4.7 in the same run, as ratios.
//   node bench/bench.js [--quick] [--json]

const path = require('node:path')
const { spawnSync } = require('node:child_process')

const ROOT = path.join(__dirname, '..')
const { TEST_CA, startSts } = require('../__test__/mocks')

// Both packages must trust the loopback mock STS's test CA; Node reads NODE_EXTRA_CA_CERTS only at
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
const PACKAGES = { native: ROOT, official: '@alicloud/credentials' }

// Clean environment for every child and for this process: no real credentials, no cloud address.
for (const k of Object.keys(process.env)) if (k.startsWith('ALIBABA_CLOUD_')) delete process.env[k]
process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:9'

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

// Module load: `require()` timed inside fresh processes, median of several runs each, interleaved
// so both packages see the same machine state.
function loadTimeMs(runs) {
  const times = { native: [], official: [] }
  for (let i = 0; i < runs; i++) {
    for (const [name, spec] of Object.entries(PACKAGES)) {
      const code = `const t=process.hrtime.bigint();require(${JSON.stringify(spec)});console.log(Number(process.hrtime.bigint()-t)/1e6)`
      const r = spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(r.stderr)
      times[name].push(Number(r.stdout))
    }
  }
  return { native: median(times.native), official: median(times.official) }
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
async function compareRates(makeFns, batch, ms, rounds) {
  const best = { native: 0, official: 0 }
  for (let r = 0; r < rounds; r++) {
    for (const name of Object.keys(PACKAGES)) {
      best[name] = Math.max(best[name], await rate(makeFns[name], batch, ms))
    }
  }
  return best
}

function credentialFor(name, config) {
  const mod = require(PACKAGES[name])
  const Credential = mod.default
  return new Credential(new mod.Config(config))
}

async function main() {
  const results = []
  const load = loadTimeMs(QUICK ? 5 : 15)
  results.push({ name: 'module load (ms, lower is better)', native: load.native, official: load.official, ratio: load.native / load.official, target: '<= 0.5x' })

  const ak = { type: 'access_key', accessKeyId: 'LTAI-bench-id', accessKeySecret: 'bench-secret' }
  const creds = { native: credentialFor('native', ak), official: credentialFor('official', ak) }
  const ms = QUICK ? 300 : 1000
  const rounds = QUICK ? 1 : 3
  const seq = await compareRates(
    { native: () => creds.native.getCredential(), official: () => creds.official.getCredential() },
    1,
    ms,
    rounds,
  )
  results.push({ name: 'access_key getCredential() sequential (calls/s)', ...seq, ratio: seq.native / seq.official, target: '>= 3x' })
  const hundred = (c) => () => Promise.all(Array.from({ length: 100 }, () => c.getCredential()))
  const par = await compareRates({ native: hundred(creds.native), official: hundred(creds.official) }, 100, ms, rounds)
  results.push({ name: 'access_key getCredential() 100 at a time (calls/s)', ...par, ratio: par.native / par.official, target: '>= 3x' })

  // ram_role_arn against the same loopback mock STS (HTTPS, test CA).
  const sts = await startSts({ keys: { 'LTAI-bench-source': { secret: 'bench-source-secret' } } })
  try {
    const role = (extra = {}) => ({
      type: 'ram_role_arn',
      accessKeyId: 'LTAI-bench-source',
      accessKeySecret: 'bench-source-secret',
      roleArn: 'acs:ram::1:role/bench',
      stsEndpoint: sts.endpoint,
      ...extra,
    })
    const warm = { native: credentialFor('native', role()), official: credentialFor('official', role()) }
    await warm.native.getCredential()
    await warm.official.getCredential()
    const cached = await compareRates(
      { native: () => warm.native.getCredential(), official: () => warm.official.getCredential() },
      1,
      ms,
      rounds,
    )
    results.push({ name: 'ram_role_arn cached getCredential() (calls/s)', ...cached, ratio: cached.native / cached.official, target: '>= 3x' })

    const cold = {}
    for (const name of Object.keys(PACKAGES)) {
      sts.reset()
      sts.set({ delayMs: 20 })
      const c = credentialFor(name, role())
      await Promise.all(Array.from({ length: 100 }, () => c.getCredential()))
      cold[name] = sts.state.requests.length
    }
    sts.reset()
    results.push({ name: 'AssumeRole requests for 100 concurrent cold callers', ...cold, ratio: cold.native / cold.official, target: 'native = 1' })

    const first = { native: [], official: [] }
    for (let i = 0; i < (QUICK ? 5 : 21); i++) {
      for (const name of Object.keys(PACKAGES)) {
        const c = credentialFor(name, role())
        const t = process.hrtime.bigint()
        await c.getCredential()
        first[name].push(Number(process.hrtime.bigint() - t) / 1e6)
      }
    }
    const lat = { native: median(first.native), official: median(first.official) }
    results.push({ name: 'ram_role_arn first getCredential() latency (ms, median)', ...lat, ratio: lat.native / lat.official, target: '<= 1x' })
  } finally {
    await sts.close()
  }

  if (JSON_OUT) {
    console.log(JSON.stringify(results, null, 2))
    return
  }
  console.log(`node ${process.version}, ${process.platform}-${process.arch}; native vs @alicloud/credentials@${require('@alicloud/credentials/package.json').version}`)
  console.log('| measure | native | official | ratio | target |')
  console.log('|---|---:|---:|---:|---|')
  for (const r of results) {
    const fmt = (v) => (v >= 1000 ? Math.round(v).toLocaleString('en-US') : Number.isInteger(v) ? String(v) : v.toFixed(2))
    console.log(`| ${r.name} | ${fmt(r.native)} | ${fmt(r.official)} | ${r.ratio.toFixed(2)}x | ${r.target} |`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
