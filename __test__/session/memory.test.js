'use strict'
// Memory is flat under per-tenant churn: a Credential (from a config or the default chain) or a
// provider object made per request and dropped leaves nothing behind once collected and its identity's linger has passed. Run in a
// child with --expose-gc, which serves its own credentials URI (a counter, nothing kept per
// request, so the server adds nothing to the heap measured).

const test = require('node:test')
const assert = require('node:assert/strict')
const { runNodeAsync, isolatedEnv, ROOT } = require('../helpers')

const LINGER_MS = 2000

const CHILD = `
const http = require('node:http')
const Credential = require(${JSON.stringify(ROOT)})
const { URICredentialsProvider } = Credential
const N = 5000
let requests = 0
const server = http.createServer((req, res) => {
  requests++
  if (!req.url.startsWith('/creds?tenant=')) { res.writeHead(404); return res.end() }
  const n = req.url.slice('/creds?tenant='.length)
  const body = JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.tenant-' + n, AccessKeySecret: 'secret-' + n, SecurityToken: 'token-' + n, Expiration: new Date(Date.now() + 3600e3).toISOString().replace(/\\.\\d{3}Z$/, 'Z') })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
async function settle() {
  // Full collections, with turns of the event loop between them for finalizers to run.
  for (let i = 0; i < 6; i++) {
    global.gc()
    await new Promise((r) => setImmediate(r))
    await sleep(20)
  }
  return process.memoryUsage()
}
function uriOf(tenant) {
  return 'http://127.0.0.1:' + server.address().port + '/creds?tenant=' + tenant
}
async function round(r) {
  // Per-tenant objects made, used and dropped, 50 tenants at a time.
  for (let i = 0; i < N; i += 50) {
    const batch = []
    for (let j = i; j < i + 50; j++) {
      const tenant = r * N + j
      if (j % 3 === 0) batch.push(new Credential({ type: 'credentials_uri', credentialsURI: uriOf(tenant) }).getCredential())
      else if (j % 3 === 1) batch.push(URICredentialsProvider.builder().withCredentialsURI(uriOf(tenant)).build().getCredentials())
      else {
        // The default chain, reaching its credentials URI step (read when it is built).
        process.env.ALIBABA_CLOUD_CREDENTIALS_URI = uriOf(tenant)
        batch.push(new Credential().getCredential())
      }
    }
    for (const c of await Promise.all(batch)) if (!c.accessKeyId.startsWith('STS.tenant-')) throw new Error('wrong answer')
  }
}
server.listen(0, '127.0.0.1', async () => {
  const heaps = []
  const rss = []
  for (let r = 0; r < 3; r++) {
    await round(r)
    const m = await settle()
    heaps.push(m.heapUsed)
    rss.push(m.rss)
  }
  const keptPerObject = (heaps[2] - heaps[0]) / (2 * N)
  const roundRequests = requests
  // Within the linger the identity is shared (no request); after linger + 1 s it is gone.
  const tenant = 2 * N + N - 2
  let before = requests
  await new Credential({ type: 'credentials_uri', credentialsURI: uriOf(tenant) }).getCredential()
  const sharedWithinLinger = requests - before
  // Collected (a dropped Credential holds its identity until then), then the linger and a second.
  await settle()
  await sleep(${LINGER_MS} + 1000)
  before = requests
  await new Credential({ type: 'credentials_uri', credentialsURI: uriOf(tenant) }).getCredential()
  const afterLinger = requests - before
  console.log(JSON.stringify({ heaps, rss, keptPerObject, roundRequests, sharedWithinLinger, afterLinger }))
  server.close()
})
`

test('three rounds of 5,000 per-tenant credentials: heap flat, identities gone after the linger', { timeout: 240_000 }, async () => {
  const env = isolatedEnv({
    ALICLOUD_CREDENTIALS_NATIVE_TEST_LINGER_MS: String(LINGER_MS),
    ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true',
    ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true',
  })
  // Debug lines (the secrets audit runs the suite with DEBUG set) would be 15,000 refreshes' worth.
  delete env.DEBUG
  const { status, stdout, stderr } = await runNodeAsync(CHILD, {
    args: ['--expose-gc'],
    env,
    timeout: 200_000,
  })
  assert.equal(status, 0, stderr)
  const r = JSON.parse(stdout.trim().split('\n').at(-1))
  const mib = (b) => (b / 2 ** 20).toFixed(1)
  console.log(`heap ${r.heaps.map(mib).join(' -> ')} MiB, rss ${r.rss.map(mib).join(' -> ')} MiB, kept per dropped object ${r.keptPerObject.toFixed(0)} bytes`)
  assert.equal(r.roundRequests, 15_000, 'one request per tenant')
  assert.ok(r.keptPerObject < 250, `${r.keptPerObject.toFixed(0)} bytes kept per dropped object`)
  assert.equal(r.sharedWithinLinger, 0, 'shared within the linger')
  assert.equal(r.afterLinger, 1, 'gone after the linger and a second')
})

// A worker's Credentials go with the worker: their native halves are freed when its environment is
// torn down, collected or not (a worker that ends while its Credentials are still referenced runs
// no finalizer), so their identity leaves after the linger like any other.
const WORKER_CHILD = `
const http = require('node:http')
const { Worker } = require('node:worker_threads')
const Credential = require(${JSON.stringify(ROOT)})
let requests = 0
const server = http.createServer((req, res) => {
  requests++
  const body = JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.worker', AccessKeySecret: 'secret', SecurityToken: 'token', Expiration: new Date(Date.now() + 3600e3).toISOString().replace(/\\.\\d{3}Z$/, 'Z') })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const uriOf = (who) => 'http://127.0.0.1:' + server.address().port + '/creds?who=' + who
const WORKER = \`
const { parentPort, workerData } = require('node:worker_threads')
const Credential = require(workerData.root)
globalThis.kept = []
;(async () => {
  for (let i = 0; i < 200; i++) globalThis.kept.push(new Credential({ type: 'credentials_uri', credentialsURI: workerData.uri }))
  await Promise.all(globalThis.kept.map((c) => c.getCredential()))
  parentPort.postMessage('done')
})()
\`
server.listen(0, '127.0.0.1', async () => {
  // Held here for the whole run: its identity must stay (the control).
  const held = new Credential({ type: 'credentials_uri', credentialsURI: uriOf('main') })
  await held.getCredential()
  await new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { root: ${JSON.stringify(ROOT)}, uri: uriOf('worker') } })
    w.on('error', reject)
    w.on('exit', resolve)
  })
  const afterWorker = requests
  await sleep(${LINGER_MS} + 1000)
  let before = requests
  await new Credential({ type: 'credentials_uri', credentialsURI: uriOf('worker') }).getCredential()
  const workerIdentity = requests - before
  before = requests
  await new Credential({ type: 'credentials_uri', credentialsURI: uriOf('main') }).getCredential()
  const heldIdentity = requests - before
  console.log(JSON.stringify({ afterWorker, workerIdentity, heldIdentity }))
  server.close()
})
`

test("a worker's Credentials, still referenced when it ends, leave with it", { timeout: 60_000 }, async () => {
  const env = isolatedEnv({ ALICLOUD_CREDENTIALS_NATIVE_TEST_LINGER_MS: String(LINGER_MS) })
  const { status, stdout, stderr } = await runNodeAsync(WORKER_CHILD, { env, timeout: 45_000 })
  assert.equal(status, 0, stderr)
  const r = JSON.parse(stdout.trim().split('\n').at(-1))
  assert.deepEqual(r, { afterWorker: 2, workerIdentity: 1, heldIdentity: 0 })
})
