'use strict'
// Lifecycle: the addon in worker_threads (several at once, unloading cleanly), a process that
// made credentials of every type with background refresh on exits by itself, and a process whose
// refresh is still in flight (a server that never answers) when it exits, is closed or runs out
// of work ends at once, with no unhandled rejection.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const { clearAlibabaEnv, runNodeAsync, isolatedEnv, tempDir, randomKey } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startUri } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA

let sts, metadata, uri
test.before(async () => {
  sts = await startSts({ keys: { 'LTAI-life': { secret: 'life-secret' } }, expiresInMs: 60 * 60_000 + 2000 })
  metadata = await startMetadata({ expiresInMs: 60 * 60_000 + 2000 })
  uri = await startUri()
})
test.after(() => Promise.all([sts.close(), metadata.close(), uri.close()]))

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const Credential = require(workerData.root)
;(async () => {
  const results = []
  for (let i = 0; i < 3; i++) {
    const c = new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-life', accessKeySecret: 'life-secret', roleArn: 'acs:ram::1:role/w' + workerData.n, stsEndpoint: workerData.sts })
    results.push((await c.getCredential()).providerName)
    const s = new Credential({ type: 'sts', accessKeyId: 'w' + workerData.n, accessKeySecret: 's', securityToken: 't' })
    results.push((await s.getCredential()).accessKeyId)
  }
  parentPort.postMessage(results)
})().catch((e) => parentPort.postMessage({ error: e.message }))
`

function runWorker(n) {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { root: path.join(__dirname, '..', '..'), sts: sts.endpoint, n } })
    let message
    w.on('message', (m) => (message = m))
    w.on('error', reject)
    w.on('exit', (code) => resolve({ code, message }))
  })
}

test('works in several worker threads at once, and they exit cleanly', async () => {
  const outcomes = await Promise.all([1, 2, 3, 4].map(runWorker))
  for (const [i, { code, message }] of outcomes.entries()) {
    assert.equal(code, 0)
    assert.deepEqual(message, ['ram_role_arn/static_ak', `w${i + 1}`, 'ram_role_arn/static_ak', `w${i + 1}`, 'ram_role_arn/static_ak', `w${i + 1}`])
  }
  // Loaded again after every worker unloaded it.
  const again = await runWorker(5)
  assert.equal(again.code, 0)
  assert.equal(again.message[1], 'w5')
})

test('a worker terminated while a refresh is in flight does not crash the process', async () => {
  sts.set({ delayMs: 300 })
  const before = sts.state.requests.length
  const w = new Worker(WORKER, { eval: true, workerData: { root: path.join(__dirname, '..', '..'), sts: sts.endpoint, n: 9 } })
  // Terminate only once the AssumeRole request is at the server, unanswered: a refresh in flight.
  for (let i = 0; i < 250 && sts.state.requests.length === before; i++) await new Promise((r) => setTimeout(r, 20))
  assert.equal(sts.state.requests.length, before + 1, 'the refresh was in flight')
  await w.terminate()
  sts.set({ delayMs: 0 })
  const after = await runWorker(10)
  assert.equal(after.code, 0)
})

test('a process with credentials of every type and background refresh on exits by itself', async () => {
  const dir = tempDir('acn-life-')
  const token = path.join(dir, 'token')
  fs.writeFileSync(token, 'life-oidc-token')
  const config = path.join(dir, 'config.json')
  fs.writeFileSync(config, JSON.stringify({ current: 'c', profiles: [{ name: 'c', mode: 'AK', access_key_id: 'LTAI-life', access_key_secret: 'life-secret' }] }))
  const code = `
const Credential = require('alicloud-credentials-native')
const role = { accessKeyId: 'LTAI-life', accessKeySecret: 'life-secret', roleArn: 'acs:ram::1:role/x', stsEndpoint: ${JSON.stringify(sts.endpoint)} }
const all = [
  new Credential({ type: 'access_key', accessKeyId: 'a', accessKeySecret: 'b' }),
  new Credential({ type: 'sts', accessKeyId: 'a', accessKeySecret: 'b', securityToken: 't' }),
  new Credential({ type: 'bearer', bearerToken: 'x' }),
  new Credential({ type: 'ram_role_arn', ...role }),
  new Credential({ type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/o', oidcProviderArn: 'p', oidcTokenFilePath: ${JSON.stringify(token)}, stsEndpoint: ${JSON.stringify(sts.endpoint)} }),
  new Credential({ type: 'ecs_ram_role', asyncCredentialUpdateEnabled: true }),
  new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(uri.url)} }),
  new Credential(),
  new Credential(null, Credential.CLIProfileCredentialsProvider.builder().build()),
  new Credential(null, Credential.ECSRAMRoleCredentialsProvider.builder().withAsyncCredentialUpdateEnabled(true).build()),
]
Promise.all(all.map((c) => c.getCredential())).then((r) => console.log(r.map((x) => x.type).join(',')))`
  const started = Date.now()
  const r = await runNodeAsync(code, {
    env: isolatedEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url, ALIBABA_CLOUD_CONFIG_FILE: config, NODE_EXTRA_CA_CERTS: TEST_CA }),
    timeout: 20000,
  })
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.stdout.trim(), 'access_key,sts,bearer,ram_role_arn,oidc_role_arn,ecs_ram_role,credentials_uri,default,cli_profile,ecs_ram_role')
  assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`)
})

// Runs `code` in a child that reports unhandled rejections and how it ended; returns the result
// and how long it ran.
async function runTimed(code, env) {
  const prelude = `
process.on('unhandledRejection', (e) => { console.error('unhandled rejection: ' + (e && e.message)); process.exitCode = 3 })
process.on('exit', (code) => console.log('exit ' + code))
const Credential = require('alicloud-credentials-native')
`
  const started = Date.now()
  const r = await runNodeAsync(prelude + code, { env: isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA, ...env }), timeout: 30000 })
  return { ...r, ms: Date.now() - started }
}

// The request timeouts are a minute, so a child that waited for its refresh would run until the
// runner's 30 s limit: ending well before that means it did not wait.
function assertEndedAtOnce(r, what) {
  assert.ok(!r.signal, `${what}: killed by ${r.signal} after ${r.ms} ms (it waited for the refresh)`)
  assert.equal(r.status, 0, `${what}: ${r.stderr}`)
  assert.doesNotMatch(r.stderr, /unhandled rejection|panic/i, what)
  assert.equal(r.stdout.trim().split('\n').at(-1), 'exit 0', what)
  assert.ok(r.ms < 15000, `${what}: ended after ${r.ms} ms`)
}

test('process.exit() while a caller awaits a refresh from a server that never answers: the process ends at once', async (t) => {
  const { id, secret } = randomKey()
  const slow = await startSts({ keys: { [id]: { secret } } })
  t.after(() => slow.close())
  slow.set({ stall: true })
  const r = await runTimed(
    `
const c = new Credential({ type: 'ram_role_arn', accessKeyId: ${JSON.stringify(id)}, accessKeySecret: ${JSON.stringify(secret)},
  roleArn: 'acs:ram::1:role/in-flight', stsEndpoint: ${JSON.stringify(slow.endpoint)}, timeout: 60000, connectTimeout: 60000 })
c.getCredential().then(() => console.log('resolved'), (e) => console.log('rejected: ' + e.message))
setTimeout(() => process.exit(0), 1500)`,
  )
  assert.equal(slow.state.requests.length, 1, 'the AssumeRole request was at the server, unanswered')
  assertEndedAtOnce(r, 'process.exit()')
  assert.doesNotMatch(r.stdout, /resolved|rejected/)
})

for (const close of [false, true]) {
  test(`a background refresh in flight against a server that never answers${close ? ', then close()' : ''}: the process exits by itself at once`, async (t) => {
    const md = await startMetadata()
    t.after(() => md.close())
    md.set({ stall: true })
    const r = await runTimed(
      `
const p = Credential.ECSRAMRoleCredentialsProvider.builder().withRoleName('EcsRamRoleTest').withAsyncCredentialUpdateEnabled(true)
  .withReadTimeout(60000).withConnectTimeout(60000).build()
// Stay a moment so the background refresher's request reaches the server, then run out of work.
setTimeout(() => { ${close ? 'p.close()' : ''} }, 1500)`,
      { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url },
    )
    assert.ok(md.state.requests.length >= 1, 'the background request was at the server, unanswered')
    assertEndedAtOnce(r, close ? 'close()' : 'no more work')
  })
}

test('a window refresh in flight behind a cached credential against a server that never answers: the process exits by itself at once', async (t) => {
  const { id, secret } = randomKey()
  // 4.9-second credentials: the window opens after 1.9 s (3 s before expiry), the safety margin
  // retires them after 2.9 s, and the second call (at 2.2 s) starts a background refresh, which the
  // server then never answers.
  const slow = await startSts({ keys: { [id]: { secret } }, expiresInMs: 4900 })
  t.after(() => slow.close())
  const child = runTimed(
    `
const c = new Credential({ type: 'ram_role_arn', accessKeyId: ${JSON.stringify(id)}, accessKeySecret: ${JSON.stringify(secret)},
  roleArn: 'acs:ram::1:role/window-exit', stsEndpoint: ${JSON.stringify(slow.endpoint)}, timeout: 60000, connectTimeout: 60000 })
c.getCredential().then(() => setTimeout(() => c.getCredential().then((r) => console.log('served ' + r.accessKeyId)), 2200))`,
  )
  for (let i = 0; i < 250 && slow.state.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
  slow.set({ stall: true })
  const r = await child
  assert.equal(slow.state.requests.length, 2, 'the background request was at the server, unanswered')
  assert.match(r.stdout, /served STS\.issued-1/, 'the caller got the cached credential at once')
  assertEndedAtOnce(r, 'no more work')
})
