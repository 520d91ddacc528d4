'use strict'
// The HTTP client on the wire: proxies from the environment (absolute-form requests for http URLs,
// CONNECT tunnels for https, Proxy-Authorization from the proxy URL, NO_PROXY), the framing of
// responses (chunked, read to the end, interim 1xx), and what it refuses to send.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const http = require('node:http')
const https = require('node:https')
const net = require('node:net')
const { clearAlibabaEnv, withEnv, randomKey, tempDir } = require('../helpers')
const { TEST_CA, startSts, startUri, startMetadata, listen, utc, tlsOptions } = require('../mocks')

clearAlibabaEnv()
// Both test CAs: the RSA one of every mock and an ECDSA one (tls/README.md).
const TLS_DIR = path.join(__dirname, '..', 'tls')
const bundle = path.join(tempDir('acn-ca-'), 'bundle.pem')
fs.writeFileSync(bundle, fs.readFileSync(TEST_CA, 'utf8') + fs.readFileSync(path.join(TLS_DIR, 'ec-ca.pem'), 'utf8'))
process.env.NODE_EXTRA_CA_CERTS = bundle
const Credential = require('alicloud-credentials-native')

// A forward proxy on loopback: absolute-form requests are relayed, CONNECT opens a tunnel. Both
// need `Proxy-Authorization` for `auth` when given; every request is recorded.
async function startProxy({ auth = null, tls = false } = {}) {
  const state = { requests: [] }
  const authorized = (req) => !auth || req.headers['proxy-authorization'] === `Basic ${Buffer.from(auth).toString('base64')}`
  const server = (tls ? https : http).createServer(tls ? tlsOptions() : {}, (req, res) => {
    state.requests.push({ method: req.method, url: req.url, headers: req.headers })
    if (!authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic' })
      return res.end()
    }
    const target = new URL(req.url)
    const headers = { ...req.headers }
    delete headers['proxy-authorization']
    const upstream = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  server.on('connect', (req, socket, head) => {
    state.requests.push({ method: req.method, url: req.url, headers: req.headers })
    socket.on('error', () => {})
    if (!authorized(req)) return socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n')
    const [host, port] = req.url.split(':')
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(socket)
      socket.pipe(upstream)
    })
    upstream.on('error', () => socket.destroy())
  })
  const { port, close } = await listen(server)
  return { state, port, url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, close }
}

const NO_PROXY_VARS = { HTTP_PROXY: undefined, http_proxy: undefined, HTTPS_PROXY: undefined, https_proxy: undefined, ALL_PROXY: undefined, all_proxy: undefined, NO_PROXY: undefined, no_proxy: undefined }
const unique = () => crypto.randomBytes(6).toString('hex')

test('an http credentials URI goes through HTTP_PROXY, with the proxy password as Proxy-Authorization', async () => {
  const [proxyUser, proxyPassword] = [unique(), crypto.randomBytes(12).toString('base64url')]
  const proxy = await startProxy({ auth: `${proxyUser}:${proxyPassword}` })
  const uri = await startUri()
  try {
    await withEnv({ ...NO_PROXY_VARS, HTTP_PROXY: `http://${proxyUser}:${proxyPassword}@127.0.0.1:${proxy.port}` }, async () => {
      const url = `${uri.url}?n=${unique()}`
      const r = await new Credential({ type: 'credentials_uri', credentialsURI: url }).getCredential()
      assert.match(r.accessKeyId, /^STS\.uri-\d+$/)
      assert.equal(proxy.state.requests.length, 1)
      assert.equal(proxy.state.requests[0].method, 'GET')
      assert.equal(proxy.state.requests[0].url, url, 'absolute-form request line')
      assert.equal(uri.state.requests.length, 1)
      assert.equal(uri.state.requests[0].headers['proxy-authorization'], undefined, 'the proxy credential stops at the proxy')
    })
  } finally {
    await Promise.all([proxy.close(), uri.close()])
  }
})

test('an https STS goes through a CONNECT tunnel of HTTPS_PROXY; a refused tunnel is a clear error without the proxy password', async () => {
  const proxyPassword = crypto.randomBytes(12).toString('base64url')
  const proxy = await startProxy({ auth: `u:${proxyPassword}` })
  const { id, secret } = randomKey()
  const sts = await startSts({ keys: { [id]: { secret } } })
  const config = (session) => ({ type: 'ram_role_arn', accessKeyId: id, accessKeySecret: secret, roleArn: 'acs:ram::1:role/proxied', roleSessionName: session, stsEndpoint: sts.endpoint })
  try {
    await withEnv({ ...NO_PROXY_VARS, HTTPS_PROXY: `http://u:${proxyPassword}@127.0.0.1:${proxy.port}` }, async () => {
      const r = await new Credential(config(unique())).getCredential()
      assert.match(r.securityToken, /./)
      assert.deepEqual(
        proxy.state.requests.map((q) => [q.method, q.url]),
        [['CONNECT', sts.endpoint]],
      )
      assert.equal(sts.state.requests.length, 1)
    })
    await withEnv({ ...NO_PROXY_VARS, HTTPS_PROXY: `http://u:wrong-${proxyPassword}@127.0.0.1:${proxy.port}` }, async () => {
      await assert.rejects(new Credential(config(unique())).getCredential(), (e) => {
        assert.match(e.message, /POST https:\/\/127\.0\.0\.1:\d+\/ failed: the proxy refused the tunnel with HTTP 407/)
        assert.ok(!e.message.includes(proxyPassword))
        return true
      })
    })
  } finally {
    await Promise.all([proxy.close(), sts.close()])
  }
})

test('a proxy reached over TLS carries a CONNECT tunnel for an https STS (TLS inside TLS)', async () => {
  const proxy = await startProxy({ tls: true })
  const { id, secret } = randomKey()
  const sts = await startSts({ keys: { [id]: { secret } } })
  try {
    await withEnv({ ...NO_PROXY_VARS, HTTPS_PROXY: proxy.url }, async () => {
      const config = { type: 'ram_role_arn', accessKeyId: id, accessKeySecret: secret, roleArn: 'acs:ram::1:role/tls-proxy', roleSessionName: unique(), stsEndpoint: sts.endpoint }
      assert.match((await new Credential(config).getCredential()).securityToken, /./)
      assert.deepEqual(proxy.state.requests.map((q) => q.method), ['CONNECT'])
    })
  } finally {
    await Promise.all([proxy.close(), sts.close()])
  }
})

test('a proxy that is down or never answers the CONNECT: a clear error within the timeout, without the proxy password', async () => {
  const password = crypto.randomBytes(12).toString('base64url')
  const silent = await listen(net.createServer((socket) => socket.on('error', () => {})))
  const closed = await listen(net.createServer())
  const closedPort = closed.port
  await closed.close()
  const { id, secret } = randomKey()
  const config = () => ({ type: 'ram_role_arn', accessKeyId: id, accessKeySecret: secret, roleArn: 'acs:ram::1:role/down', roleSessionName: unique(), stsEndpoint: '127.0.0.1:9', timeout: 300, connectTimeout: 300 })
  try {
    await withEnv({ ...NO_PROXY_VARS, HTTPS_PROXY: `http://u:${password}@127.0.0.1:${closedPort}` }, async () => {
      await assert.rejects(new Credential(config()).getCredential(), (e) => {
        assert.match(e.message, new RegExp(`^connect ECONNREFUSED 127\\.0\\.0\\.1:${closedPort} \\(POST https://127\\.0\\.0\\.1:9/ failed\\)$`))
        assert.equal(e.code, 'ECONNREFUSED')
        assert.ok(!e.message.includes(password))
        return true
      })
    })
    await withEnv({ ...NO_PROXY_VARS, HTTPS_PROXY: `http://u:${password}@127.0.0.1:${silent.port}` }, async () => {
      await assert.rejects(new Credential(config()).getCredential(), (e) => {
        assert.equal(e.code, 'ERR_CREDENTIALS_TIMEOUT')
        assert.ok(!e.message.includes(password))
        return true
      })
    })
  } finally {
    await silent.close()
  }
})

test('NO_PROXY exempts a host; ALL_PROXY applies when no scheme-specific proxy is named', async () => {
  const proxy = await startProxy()
  const uri = await startUri()
  try {
    await withEnv({ ...NO_PROXY_VARS, ALL_PROXY: proxy.url, NO_PROXY: 'example.invalid, 127.0.0.0/8' }, async () => {
      await new Credential({ type: 'credentials_uri', credentialsURI: `${uri.url}?n=${unique()}` }).getCredential()
      assert.equal(proxy.state.requests.length, 0, 'reached directly')
    })
    await withEnv({ ...NO_PROXY_VARS, ALL_PROXY: proxy.url, NO_PROXY: 'example.invalid' }, async () => {
      await new Credential({ type: 'credentials_uri', credentialsURI: `${uri.url}?n=${unique()}` }).getCredential()
      assert.equal(proxy.state.requests.length, 1, 'through ALL_PROXY')
    })
  } finally {
    await Promise.all([proxy.close(), uri.close()])
  }
})

// A server that answers every request with `respond(socket)`, raw.
async function rawServer(respond) {
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', () => respond(socket))
  })
  const { port, close } = await listen(server)
  return { url: `http://127.0.0.1:${port}/creds`, close }
}

const credentialsBody = () =>
  JSON.stringify({ Code: 'Success', AccessKeyId: `STS.${unique()}`, AccessKeySecret: crypto.randomBytes(12).toString('base64'), SecurityToken: unique(), Expiration: utc(3600_000) })

test('chunked bodies, bodies ended by the close, and interim 100 responses are read whole', async () => {
  const body = credentialsBody()
  const shapes = [
    (s) => {
      const half = Math.floor(body.length / 2)
      s.write(`HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n`)
      s.write(`${half.toString(16)};ext=1\r\n${body.slice(0, half)}\r\n`)
      s.end(`${(body.length - half).toString(16)}\r\n${body.slice(half)}\r\n0\r\nX-Trailer: 1\r\n\r\n`)
    },
    (s) => s.end(`HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n${body}`),
  ]
  for (const shape of shapes) {
    const s = await rawServer(shape)
    try {
      const r = await new Credential({ type: 'credentials_uri', credentialsURI: s.url }).getCredential()
      assert.equal(r.accessKeyId, JSON.parse(body).AccessKeyId)
    } finally {
      await s.close()
    }
  }
})

test('a metadata token with a line break is never sent as a header', async () => {
  const smuggled = `token\r\nX-Smuggled: ${unique()}`
  const md = await startMetadata({ roleName: 'SmuggleRole', imdsv2: 'optional' })
  const server = http.createServer((req, res) => {
    if (req.method === 'PUT') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      return res.end(smuggled)
    }
    // Anything else goes to the real mock, which records it.
    const up = http.request({ host: '127.0.0.1', port: md.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers)
      r.pipe(res)
    })
    req.pipe(up)
  })
  const front = await listen(server)
  try {
    await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${front.port}` }, async () => {
      const c = new Credential({ type: 'ecs_ram_role', roleName: 'SmuggleRole', disableIMDSv1: true })
      await assert.rejects(c.getCredential(), (e) => {
        assert.match(e.message, /failed: invalid value for the "X-aliyun-ecs-metadata-token" header$/)
        return true
      })
      assert.ok(md.state.requests.every((q) => q.headers['x-smuggled'] === undefined))
    })
  } finally {
    await Promise.all([front.close(), md.close()])
  }
})

test('TLS 1.2 and 1.3 handshakes with RSA and ECDSA server certificates', async () => {
  const ecdsa = { key: fs.readFileSync(path.join(TLS_DIR, 'ec-server.key')), cert: fs.readFileSync(path.join(TLS_DIR, 'ec-server.pem')) }
  for (const [keyType, credentials] of [['rsa', tlsOptions()], ['ecdsa', ecdsa]]) {
    for (const version of ['TLSv1.2', 'TLSv1.3']) {
      const body = credentialsBody()
      const seen = []
      const server = https.createServer({ ...credentials, minVersion: version, maxVersion: version }, (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(body)
      })
      server.on('secureConnection', (socket) => seen.push(socket.getProtocol()))
      const { port, close } = await listen(server)
      try {
        const r = await new Credential({ type: 'credentials_uri', credentialsURI: `https://127.0.0.1:${port}/creds` }).getCredential()
        assert.equal(r.accessKeyId, JSON.parse(body).AccessKeyId, `${keyType} ${version}`)
        assert.deepEqual(seen, [version])
      } finally {
        await close()
      }
    }
  }
})
