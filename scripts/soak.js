'use strict'
// `npm run soak`: one million cached getCredential() calls and a thousand refresh cycles against a
// loopback mock STS with short-lived credentials; reports RSS and open file descriptors before and
// after, and fails when either grows beyond noise. Bounded: about a minute.

const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { TEST_CA, startSts } = require('../__test__/mocks')

if (process.env.NODE_EXTRA_CA_CERTS !== TEST_CA) {
  const r = spawnSync(process.execPath, ['--expose-gc', __filename], { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA, NO_PROXY: '127.0.0.1', no_proxy: '127.0.0.1' } })
  process.exit(r.status ?? 1)
}

const Credential = require(path.join(__dirname, '..'))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

function sample() {
  if (global.gc) global.gc()
  const fds = process.platform === 'linux' ? fs.readdirSync('/proc/self/fd').length : NaN
  return { rssMiB: process.memoryUsage().rss / 1048576, fds }
}

async function main() {
  const started = Date.now()
  const sts = await startSts({ keys: { 'LTAI-soak': { secret: 'soak-secret' } }, expiresInMs: 40 })
  try {
    const ak = new Credential({ type: 'access_key', accessKeyId: 'LTAI-soak', accessKeySecret: 'soak-secret' })
    const role = new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-soak', accessKeySecret: 'soak-secret', roleArn: 'acs:ram::1:role/soak', stsEndpoint: sts.endpoint })
    // Warm up both paths so the baseline includes the runtime, the HTTP pool and JIT.
    for (let i = 0; i < 10000; i++) await ak.getCredential()
    for (let i = 0; i < 20; i++) {
      await role.getCredential()
      await sleep(25)
    }
    const before = sample()

    for (let i = 0; i < 1_000_000; i++) await ak.getCredential()
    const afterCached = sample()

    const requestsBefore = sts.state.requests.length
    const ids = new Set()
    for (let i = 0; i < 1000; i++) {
      await sleep(21) // past the stale point of a 40 ms credential
      ids.add((await role.getCredential()).accessKeyId)
    }
    const refreshes = sts.state.requests.length - requestsBefore
    const after = sample()

    const report = {
      cachedCalls: 1_000_000,
      refreshCycles: refreshes,
      distinctCredentials: ids.size,
      rssMiB: { before: +before.rssMiB.toFixed(1), afterCached: +afterCached.rssMiB.toFixed(1), after: +after.rssMiB.toFixed(1) },
      openFds: { before: before.fds, afterCached: afterCached.fds, after: after.fds },
      seconds: +((Date.now() - started) / 1000).toFixed(1),
    }
    console.log(JSON.stringify(report, null, 2))
    const problems = []
    if (refreshes < 900) problems.push(`only ${refreshes} refreshes`)
    if (after.rssMiB - before.rssMiB > 30) problems.push(`RSS grew ${(after.rssMiB - before.rssMiB).toFixed(1)} MiB`)
    if (Number.isFinite(before.fds) && after.fds - before.fds > 4) problems.push(`open fds grew by ${after.fds - before.fds}`)
    if (problems.length) {
      console.error(`soak failed: ${problems.join('; ')}`)
      process.exitCode = 1
    } else {
      console.log('soak ok: RSS and open file descriptors flat')
    }
  } finally {
    await sts.close()
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
