'use strict'
// Hostile servers on loopback: every case ends in a rejected Promise with a clear message within
// its timeout; never a crash, a hang, an unhandled rejection, or credentials sent elsewhere.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, runNodeAsync, isolatedEnv } = require('../helpers')
const { TEST_CA, startSts, startUri, listen } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const unhandled = []
process.on('unhandledRejection', (e) => unhandled.push(e))
test.after(() => assert.deepEqual(unhandled, [], 'no unhandled rejection'))

// Each server gets a URL of its own (a query no other server here has): a credentials URI is an
// identity shared for a minute after use, and the OS may give a new server the port of one closed
// moments ago, whose answer would then still be cached.
let serverSerial = 0
const uniqueQuery = () => `?isolate=zq${++serverSerial}x` // a value no message contains (query values are scrubbed)

async function serve(handler, { tls = null } = {}) {
  const { port, close } = await listen(tls ? https.createServer(tls, handler) : http.createServer(handler))
  return { port, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/creds${uniqueQuery()}`, close }
}

// Raw TCP server for byte-level misbehaviour.
async function rawServer(onSocket) {
  const { port, close } = await listen(net.createServer(onSocket))
  return { url: `http://127.0.0.1:${port}/creds${uniqueQuery()}`, close }
}

const uri = (url, extra = {}) => new Credential({ type: 'credentials_uri', credentialsURI: url, timeout: 500, connectTimeout: 500, ...extra })

async function rejectsWithin(promise, ms, pattern, code) {
  const started = Date.now()
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error)
    assert.match(e.message, pattern)
    if (code) assert.equal(e.code, code)
    return true
  })
  const took = Date.now() - started
  assert.ok(took < ms, `settled after ${took} ms`)
}

test('accepts and never answers: the read timeout is honoured and the error says timeout', async () => {
  const s = await serve(() => {})
  try {
    await rejectsWithin(uri(s.url).getCredential(), 3000, /GET http:\/\/127\.0\.0\.1:\d+\/creds failed: timeout after 1000 ms/, 'ERR_CREDENTIALS_TIMEOUT')
  } finally {
    await s.close()
  }
})

test('trickles its headers one byte a second: cut off at the timeout', async () => {
  const s = await rawServer((socket) => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'
    let i = 0
    const timer = setInterval(() => {
      if (i >= head.length || socket.destroyed) return clearInterval(timer)
      socket.write(head[i++])
    }, 1000)
    socket.on('close', () => clearInterval(timer))
    socket.on('error', () => {})
  })
  try {
    await rejectsWithin(uri(s.url).getCredential(), 3000, /timeout after 1000 ms/, 'ERR_CREDENTIALS_TIMEOUT')
  } finally {
    await s.close()
  }
})

test('a 50 MiB body is capped: clear error, memory flat', async () => {
  const s = await serve((req, res) => {
    const chunk = Buffer.alloc(1024 * 1024, 'x')
    res.writeHead(200, { 'content-type': 'application/json' })
    let sent = 0
    const pump = () => {
      while (sent < 50 && res.write(chunk)) sent++
      if (sent < 50) res.once('drain', pump)
      else res.end()
    }
    res.on('error', () => {})
    pump()
  })
  try {
    const code = `
const Credential = require('alicloud-credentials-native')
const before = process.memoryUsage().rss
const runs = Array.from({ length: 5 }, () =>
  new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(s.url)}, timeout: 5000 }).getCredential().then(() => 'resolved', (e) => e.message))
Promise.all(runs).then((messages) => {
  console.log(JSON.stringify({ messages, growthMiB: (process.memoryUsage().rss - before) / 1048576 }))
})`
    const r = await runNodeAsync(code, { env: isolatedEnv() })
    assert.equal(r.status, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    for (const m of out.messages) assert.match(m, /response body larger than 1048576 bytes/)
    assert.ok(out.growthMiB < 40, `RSS grew ${out.growthMiB.toFixed(1)} MiB for 5 x 50 MiB answers`)
  } finally {
    await s.close()
  }
})

test('a redirect to another host is not followed: the credentials never go there', async () => {
  const elsewhere = await startUri()
  const s = await serve((req, res) => {
    res.writeHead(302, { location: elsewhere.url })
    res.end()
  })
  try {
    await rejectsWithin(uri(s.url).getCredential(), 3000, /get sts token failed, httpStatus: 302/, 'ERR_CREDENTIALS_HTTP')
    const sts = await startSts({ keys: { 'LTAI-h': { secret: 'hostile-secret' } } })
    const redirecting = await serve((req, res) => {
      res.writeHead(307, { location: `${sts.url}/` })
      res.end()
    })
    try {
      const role = new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-h', accessKeySecret: 'hostile-secret', roleArn: 'r', stsEndpoint: `http://127.0.0.1:${redirecting.port}` })
      await rejectsWithin(role.getCredential(), 3000, /refresh session token failed: HTTP 307/, 'ERR_CREDENTIALS_STS')
      assert.equal(sts.state.requests.length, 0, 'the signed request never reached the other host')
    } finally {
      await Promise.all([redirecting.close(), sts.close()])
    }
    assert.equal(elsewhere.state.requests.length, 0)
  } finally {
    await Promise.all([s.close(), elsewhere.close()])
  }
})

test('TLS: a certificate for another name, or from an untrusted CA, is refused with a TLS error', async () => {
  const dir = path.join(__dirname, '..', 'tls')
  for (const name of ['other', 'untrusted']) {
    const s = await serve((req, res) => res.end('{}'), { tls: { key: fs.readFileSync(path.join(dir, `${name}.key`)), cert: fs.readFileSync(path.join(dir, `${name}.pem`)) } })
    try {
      await rejectsWithin(uri(s.url).getCredential(), 3000, /GET https:\/\/127\.0\.0\.1:\d+\/creds failed: TLS error/, 'ERR_CREDENTIALS_TLS')
    } finally {
      await s.close()
    }
  }
})

test('429 / 500 / 503: the error carries the status and the error code, never the rest of the body', async () => {
  for (const status of [429, 500, 503]) {
    const s = await serve((req, res) => {
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '1' })
      res.end('{"Code":"Throttling","Detail":"body text never quoted"}')
    })
    try {
      await rejectsWithin(uri(s.url).getCredential(), 3000, new RegExp(`^get sts token failed, httpStatus: ${status}, message = Code: Throttling\\.$`), 'ERR_CREDENTIALS_HTTP')
    } finally {
      await s.close()
    }
  }
  const sts = await startSts({ keys: { 'LTAI-h': { secret: 'hostile-secret' } } })
  try {
    sts.set({ status: 429, body: { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } })
    const role = new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-h', accessKeySecret: 'hostile-secret', roleArn: 'r', stsEndpoint: sts.endpoint })
    await rejectsWithin(role.getCredential(), 3000, /refresh session token failed: HTTP 429, Code: Throttling\.User/, 'ERR_CREDENTIALS_STS')
  } finally {
    await sts.close()
  }
})

test('a refresh that meets 503 keeps serving the valid credential and backs off', async () => {
  const u = await startUri({ expiresInMs: 15 * 60_000 + 1200 })
  try {
    const c = uri(u.url)
    assert.equal((await c.getCredential()).accessKeyId, 'STS.uri-1')
    await new Promise((r) => setTimeout(r, 1300))
    u.set({ status: 503 })
    assert.equal((await c.getCredential()).accessKeyId, 'STS.uri-1')
    const after = u.state.requests.length
    for (let i = 0; i < 10; i++) await c.getCredential()
    assert.equal(u.state.requests.length, after, 'no retry storm inside the backoff')
  } finally {
    await u.close()
  }
})

test('closes mid-body: a clear error', async () => {
  const s = await rawServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"Code":"Succ')
      setTimeout(() => socket.destroy(), 50)
    })
  })
  try {
    // Node's code for a connection cut short, as Node's own error would carry.
    await rejectsWithin(uri(s.url).getCredential(), 3000, /^read ECONNRESET \(GET http:\/\/127\.0\.0\.1:\d+\/creds failed: /, 'ECONNRESET')
  } finally {
    await s.close()
  }
})

test('JSON with wrong types, huge numbers, deep nesting or odd dates: clear errors, no crash', async () => {
  // Each pattern is the whole message: what was wrong and where, never a value of the body.
  const parse = 'get sts token failed, json parse failed: '
  const bodies = [
    ['{"Code":"Success","AccessKeyId":123,"AccessKeySecret":"s","SecurityToken":"t","Expiration":"2030-01-01T00:00:00Z"}', new RegExp(`^${parse}unexpected JSON \\(invalid type: integer, expected a string\\) at line 1 column \\d+$`)],
    ['{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t","Expiration":1e400}', new RegExp(`^${parse}not valid JSON \\(number out of range\\) at line 1 column \\d+$`)],
    ['{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"99999-01-01T00:00:00Z"}', /^invalid UTC format time string$/],
    ['{"Code":"Success","AccessKeyId":"a","AccessKeySecret":"s","SecurityToken":"t","Expiration":"2000-01-01T00:00:00Z"}', /^the credentials credential_uri returned expired at 2000-01-01T00:00:00Z$/],
    [`${'['.repeat(100000)}${']'.repeat(100000)}`, new RegExp(`^${parse}unexpected JSON \\(invalid type: sequence, expected a JSON object\\) at line 1 column \\d+$`)],
    [`{"Ignored":${'['.repeat(100000)}${']'.repeat(100000)}}`, new RegExp(`^${parse}not valid JSON \\(recursion limit exceeded\\) at line 1 column \\d+$`)],
    ['null', /^error retrieving credentials from credentialsURI result: AccessKeyId, AccessKeySecret and SecurityToken are required$/],
    ['{"Code":["Success"]}', new RegExp(`^${parse}unexpected JSON \\(invalid type: sequence, expected a string\\) at line 1 column 8$`)],
  ]
  for (const [body, pattern] of bodies) {
    const s = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
    })
    try {
      await rejectsWithin(uri(s.url).getCredential(), 3000, pattern)
    } finally {
      await s.close()
    }
  }
})
