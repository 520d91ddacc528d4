'use strict'
// Connections are pooled, as Node's keep-alive agent pools them: refreshes of different
// identities to one origin reuse one connection; a pooled connection the server closed or reset
// never fails a refresh; new connections resume a TLS session; a process with nothing else to do
// exits at once with pooled connections open, and worker threads come and go around the pool.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const { ROOT, clearAlibabaEnv, randomKey, seededRandom, isolatedEnv, runNodeAsync } = require('../helpers')
const { TEST_CA, startSts, listen, tlsOptions, utc, countingRelay } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require(ROOT)

let identities = 0
const unique = () => `${process.pid}-${++identities}`

/**
 * A credentials URI server (http or https) that numbers its answers and treats each connection
 * as `after` says once it has answered: `keep` (keep-alive, Node's 5 s), `close` or `reset` at
 * once (no `Connection: close` header), `close-idle` / `reset-idle` when no request came within
 * 50 ms. Counts connections, and on https the ones that resumed a TLS session.
 */
async function credentialsServer({ tls = false, after = 'keep' } = {}) {
  const state = { requests: 0, connections: 0, resumed: 0 }
  const handler = (req, res) => {
    const socket = req.socket
    clearTimeout(socket.idleTimer)
    state.requests++
    const n = state.requests
    const body = JSON.stringify({ Code: 'Success', AccessKeyId: `STS.pool-${n}`, AccessKeySecret: `pool-secret-${n}`, SecurityToken: `pool-token-${n}`, Expiration: utc(3600_000) })
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
    res.end(body)
    // A reset goes through the TCP socket under a TLS one (a TLS socket cannot be reset itself).
    const tcp = socket._parent ?? socket
    res.on('finish', () => {
      if (after === 'close') socket.destroy()
      else if (after === 'reset') tcp.resetAndDestroy()
      else if (after === 'close-idle') socket.idleTimer = setTimeout(() => socket.destroy(), 50)
      else if (after === 'reset-idle') socket.idleTimer = setTimeout(() => tcp.resetAndDestroy(), 50)
    })
  }
  const server = tls ? https.createServer(tlsOptions(), handler) : http.createServer(handler)
  server.on(tls ? 'secureConnection' : 'connection', (socket) => {
    state.connections++
    if (tls && socket.isSessionReused()) state.resumed++
  })
  const open = new Set()
  server.on('connection', (socket) => {
    open.add(socket)
    socket.on('close', () => open.delete(socket))
  })
  const { port, close } = await listen(server)
  return { state, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/creds`, close, openConnections: () => open.size }
}

// One refresh of a new identity (its own URI query) of `server`.
function refreshNewIdentity(server) {
  return new Credential({ type: 'credentials_uri', credentialsURI: `${server.url}?tenant=${unique()}` }).getCredential()
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

test('100 sequential refreshes of distinct ram_role_arn identities over https open at most 2 connections', { timeout: 60_000 }, async () => {
  const key = randomKey()
  const sts = await startSts({ keys: { [key.id]: { secret: key.secret } } })
  const relay = await countingRelay(sts.port)
  try {
    for (let i = 0; i < 100; i++) {
      const c = new Credential({ type: 'ram_role_arn', accessKeyId: key.id, accessKeySecret: key.secret, roleArn: 'acs:ram::1:role/pool', roleSessionName: `pool-${unique()}`, stsEndpoint: `127.0.0.1:${relay.port}` })
      const got = await c.getCredential()
      assert.match(got.accessKeyId, /^STS\.issued-\d+$/)
    }
    assert.equal(sts.state.requests.length, 100)
    assert.deepEqual(sts.state.errors, [])
    assert.ok(relay.state.connections <= 2, `${relay.state.connections} connections for 100 refreshes`)
  } finally {
    await relay.close()
    await sts.close()
  }
})

test('100 sequential refreshes of distinct credentials_uri identities over http open at most 2 connections', { timeout: 60_000 }, async () => {
  const server = await credentialsServer()
  try {
    for (let i = 0; i < 100; i++) await refreshNewIdentity(server)
    assert.equal(server.state.requests, 100)
    assert.ok(server.state.connections <= 2, `${server.state.connections} connections for 100 refreshes`)
  } finally {
    await server.close()
  }
})

for (const after of ['close', 'reset', 'close-idle', 'reset-idle']) {
  test(`a server that ${after.replace('-idle', 's idle connections after 50 ms,').replace(/^(close|reset)$/, '$1s after every response,')} never fails a refresh`, { timeout: 60_000 }, async () => {
    const random = seededRandom(`connection-pool ${after}`)
    for (const tls of [false, true]) {
      const server = await credentialsServer({ tls, after })
      try {
        const refreshes = 40
        for (let i = 0; i < refreshes; i++) {
          // Back to back, and gaps on both sides of the server's 50 ms.
          const gap = [0, 0, 2, 10, 30, 80, 120][random.int(7)]
          if (gap) await sleep(gap)
          const got = await refreshNewIdentity(server)
          assert.match(got.accessKeyId, /^STS\.pool-\d+$/, `refresh ${i} after ${gap} ms`)
        }
        assert.ok(server.state.connections > 1, `${tls ? 'https' : 'http'}: the server's ${after} was never met`)
      } finally {
        await server.close()
      }
    }
  })
}

test('new connections resume TLS sessions, across transport settings too', { timeout: 60_000 }, async () => {
  // A Node (OpenSSL) server issues two TLS 1.3 tickets on a full handshake and none on a resumed
  // one, and rustls uses each ticket once (RFC 8446, C.4; Node's own client reuses one): when
  // every connection is new, two of three resume. With keep-alive, new connections are rare.
  const server = await credentialsServer({ tls: true, after: 'close' })
  try {
    for (let i = 0; i < 9; i++) await refreshNewIdentity(server)
    assert.equal(server.state.connections, 9)
    assert.equal(server.state.resumed, 6, `${server.state.resumed} of 9 connections resumed a session`)
    // Another connect timeout is another client, with the same session store.
    const before = server.state.resumed
    await refreshNewIdentity(server)
    await new Credential({ type: 'credentials_uri', credentialsURI: `${server.url}?tenant=${unique()}`, connectTimeout: 4321 }).getCredential()
    assert.equal(server.state.connections, 11)
    assert.equal(server.state.resumed - before, 1, 'the other client resumed the session of the first')
  } finally {
    await server.close()
  }
})

test('a process with nothing else to do exits at once with pooled connections open', { timeout: 60_000 }, async () => {
  for (const tls of [false, true]) {
    const server = await credentialsServer({ tls })
    let open = 0
    try {
      const code = `
const Credential = require(${JSON.stringify(ROOT)})
Promise.all([1, 2, 3].map((n) => new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(server.url)} + '?n=' + n }).getCredential()))
  .then(() => console.log('resolved'), (e) => { console.error(e); process.exit(1) })`
      const child = require('node:child_process').spawn(process.execPath, ['-e', code], { env: isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA }), stdio: ['ignore', 'pipe', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      let resolvedAt = 0
      child.stdout.on('data', (d) => {
        if (String(d).includes('resolved')) {
          resolvedAt = Date.now()
          open = server.openConnections()
        }
      })
      const status = await new Promise((r) => child.on('exit', (code, signal) => r(signal ?? code)))
      const exitedAfter = Date.now() - resolvedAt
      clearTimeout(timer)
      assert.equal(status, 0, stderr)
      assert.ok(resolvedAt > 0, 'the child resolved its credentials')
      assert.ok(open >= 1, 'connections were open when the child was done')
      console.log(`# ${tls ? 'https' : 'http'}: exited ${exitedAfter} ms after its last credential, ${open} pooled connection(s) open`)
      assert.ok(exitedAfter < 1000, `exited ${exitedAfter} ms after it was done`)
    } finally {
      await server.close()
    }
  }
})

test('worker threads that refresh over pooled connections and end, one after another and together: every refresh succeeds, the process exits', { timeout: 120_000 }, async () => {
  const server = await credentialsServer({ tls: true })
  try {
    // The main thread never loads the addon: each worker that ends may be the last user of the
    // native runtime, which then shuts down, and the next worker's refreshes start a new one.
    const code = `
const { Worker } = require('node:worker_threads')
const src = \`const { workerData, parentPort } = require('node:worker_threads')
const C = require(workerData.root)
;(async () => {
  for (let i = 0; i < 5; i++) await new C({ type: 'credentials_uri', credentialsURI: workerData.url + '?w=' + workerData.w + '-' + i }).getCredential()
  parentPort.postMessage('ok')
})().catch((e) => parentPort.postMessage(String(e && e.stack || e)))\`
function run(w) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(src, { eval: true, workerData: { root: ${JSON.stringify(ROOT)}, url: ${JSON.stringify(server.url)}, w } })
    worker.once('message', (m) => (m === 'ok' ? resolve() : reject(new Error(m))))
    worker.once('error', reject)
  })
}
;(async () => {
  for (let w = 0; w < 4; w++) await run(w)
  await Promise.all([4, 5, 6, 7].map(run))
  for (let w = 8; w < 10; w++) await run(w)
  console.log('done')
})().catch((e) => { console.error(e); process.exit(1) })`
    const r = await runNodeAsync(code, { env: isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA }), timeout: 90_000 })
    assert.ok(!r.signal, `killed by ${r.signal}: ${r.stderr}`)
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /done/)
    assert.equal(server.state.requests, 50)
  } finally {
    await server.close()
  }
})
