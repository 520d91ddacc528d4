'use strict'
// `node bench/cached-floor.js [rounds]`: the cached getCredential() of a session credential
// (credentials_uri against a loopback mock) and of static keys against the floor
// (bench/floor.js), in one process, interleaved in rounds of 300 ms (20 by default, the order
// turning each round), so that a busy machine slows all three alike. Prints each one's best and median rate and the median of
// the per-round ratios to the floor: a steadier comparison than `npm run bench`'s best of three.

const path = require('node:path')
for (const k of Object.keys(process.env)) if (k.startsWith('ALIBABA_CLOUD_')) delete process.env[k]
process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:9'
const { startUri } = require('../__test__/mocks.js')
const Native = require(path.join(__dirname, '..'))
const Floor = require('./floor.js')

const ROUNDS = Number(process.argv[2] || 20)

async function rate(fn, ms) {
  for (let i = 0; i < 2000; i++) await fn() // warm up
  let calls = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(ms) * 1000000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 100; i++) await fn()
    calls += 100
    now = process.hrtime.bigint()
  }
  return calls / (Number(now - start) / 1e9)
}

const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1]

async function main() {
  const uri = await startUri()
  try {
    const session = new Native({ type: 'credentials_uri', credentialsURI: uri.url })
    const keys = new Native({ type: 'access_key', accessKeyId: 'LTAI-bench', accessKeySecret: 'bench-secret' })
    const floor = new Floor.default(new Floor.Config({}))
    await session.getCredential()
    const fns = { credentials_uri: () => session.getCredential(), access_key: () => keys.getCredential(), floor: () => floor.getCredential() }
    const rates = Object.fromEntries(Object.keys(fns).map((k) => [k, []]))
    // The order turns each round, so that none is always measured first (or after the same one).
    const names = Object.keys(fns)
    for (let r = 0; r < ROUNDS; r++) {
      for (let i = 0; i < names.length; i++) {
        const k = names[(r + i) % names.length]
        rates[k].push(await rate(fns[k], 300))
      }
    }
    console.log(`node ${process.version}, ${ROUNDS} interleaved rounds of 300 ms`)
    for (const [k, v] of Object.entries(rates)) console.log(`${k}: best ${Math.round(Math.max(...v)).toLocaleString('en-US')} calls/s, median ${Math.round(median(v)).toLocaleString('en-US')}`)
    for (const k of ['credentials_uri', 'access_key']) {
      const ratios = rates[k].map((x, i) => x / rates.floor[i])
      console.log(`${k}/floor: median of per-round ratios ${median(ratios).toFixed(3)}, best/best ${(Math.max(...rates[k]) / Math.max(...rates.floor)).toFixed(3)}`)
    }
  } finally {
    await uri.close()
  }
}

main()
