'use strict'
// Loopback mock services: STS (HTTPS with the test CA, or HTTP), the ECS metadata service and a
// credentials URI. Each verifies what it receives on its own (the STS signature with Node's
// crypto), counts requests, and can be told to fail, stall or return garbage.

const crypto = require('node:crypto')
const fs = require('node:fs')
const http = require('node:http')
const https = require('node:https')
const path = require('node:path')

const TLS_DIR = path.join(__dirname, 'tls')
const TEST_CA = path.join(TLS_DIR, 'ca.pem')

function tlsOptions(name = 'server') {
  return {
    key: fs.readFileSync(path.join(TLS_DIR, `${name}.key`)),
    cert: fs.readFileSync(path.join(TLS_DIR, `${name}.pem`)),
  }
}

// RFC 3986 encoding as the Alibaba Cloud RPC signature defines it, written independently of the
// package's Rust implementation.
function pct(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function stringToSign(method, params) {
  const canonical = Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort()
    .map((k) => `${pct(k)}=${pct(params[k])}`)
    .join('&')
  return `${method}&${pct('/')}&${pct(canonical)}`
}

function hmacSha1(secret, text) {
  return crypto.createHmac('sha1', `${secret}&`).update(text).digest('base64')
}

/**
 * A random secret with characters every encoding changes (`+`, `/`, space, quote, backslash, `&`,
 * `=`, `é`). Under the secrets audit (`ACN_AUDIT_SECRETS` names a directory) it is recorded there,
 * so the audit looks for it, in every form, in everything the suite prints.
 */
function randomSecret(tag = 'secret') {
  return auditSecret(`${tag}-${crypto.randomBytes(12).toString('base64')}+/ "\\&=é${crypto.randomBytes(6).toString('hex')}`)
}

/** Records `value` for the secrets audit (when one runs) and returns it. */
function auditSecret(value) {
  const dir = process.env.ACN_AUDIT_SECRETS
  if (dir) fs.appendFileSync(path.join(dir, `secrets-${process.pid}.txt`), `${JSON.stringify(value)}\n`)
  return value
}

/** Every form a secret can take in a text: raw, JSON-escaped (once, twice, `\/`), percent- and form-encoded. */
function secretForms(value) {
  const once = JSON.stringify(value).slice(1, -1)
  return [value, once, JSON.stringify(once).slice(1, -1), once.replace(/\//g, '\\/'), pct(value), encodeURIComponent(value), new URLSearchParams({ x: value }).toString().slice(2)]
}

/** The `n`th credentials the mock STS issues, as `getCredential()` returns them. */
function issued(n) {
  return { accessKeyId: `STS.issued-${n}`, accessKeySecret: `issued-secret-${n}`, securityToken: `issued-token-${n}` }
}

// An STS-style expiration: whole seconds (`...:06Z`), or with milliseconds (`...:06.117Z`) for
// lifetimes shorter than a second.
function utc(msFromNow, precise = false) {
  const iso = new Date(Date.now() + msFromNow).toISOString()
  return precise ? iso : iso.replace(/\.\d{3}Z$/, 'Z')
}

/** The whole request body as a Buffer. */
function readRaw(req) {
  return new Promise((resolve) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
  })
}

function readBody(req) {
  return readRaw(req).then((body) => body.toString('utf8'))
}

function json(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json;charset=utf-8', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

// Every port a mock server of this process has had. A server's URL (a credentials URI, an STS
// endpoint, the metadata service, a sign-in URL) is part of an identity the registry keeps for a
// linger (60 s) after its last use, and the OS readily gives a new server the port of one closed
// moments ago (within a few dozen servers here): the new server's clients would then be served
// the closed one's cached credentials, or its errors. The registry is per process, and so is this.
const usedPorts = new Set()

/**
 * Starts `server` (HTTP, HTTPS or raw TCP) on a free loopback port (`host`: `127.0.0.1`, or `::`
 * for both stacks) that no other mock server of this process has had; `close()` also ends the
 * connections still open, so a stalled client never keeps the test process alive.
 */
async function listen(server, host = '127.0.0.1') {
  const sockets = new Set()
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const bind = () =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, host, () => {
        server.off('error', reject)
        resolve(server.address().port)
      })
    })
  let port = await bind()
  for (let tries = 1; usedPorts.has(port); tries++) {
    if (tries === 100) throw new Error(`listen: 100 ports in a row were ones this process's mocks had (last ${port})`)
    await new Promise((resolve) => server.close(resolve))
    port = await bind()
  }
  usedPorts.add(port)
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

// Behaviour switches shared by all mocks: `stall` (accept and never answer), `status` + `body`
// (a canned answer), `garbage` (a non-JSON 200), `delayMs`; and blips, each for the next n
// requests only: `dropNext` (the connection closed without an answer), `failNext` (answered
// `failStatus`, default 503, with `failBody`).
async function applyFault(state, res) {
  if (state.delayMs) await new Promise((r) => setTimeout(r, state.delayMs))
  if (state.dropNext > 0) {
    state.dropNext--
    res.socket.destroy()
    return true
  }
  if (state.failNext > 0) {
    state.failNext--
    json(res, state.failStatus || 503, state.failBody ?? { Code: 'ServiceUnavailable', Message: 'a blip' })
    return true
  }
  if (state.stall) return true
  if (state.garbage) {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end('<html>not json</html>')
    return true
  }
  if (state.status) {
    json(res, state.status, state.body ?? { Code: 'ServiceUnavailable', Message: 'the mock was told to fail' })
    return true
  }
  return false
}

/**
 * A mock STS. `keys` maps AccessKeyId → secret (and optional token) it accepts. Each successful
 * AssumeRole issues `STS.<n>` keys that expire `expiresInMs` from now.
 */
async function startSts({ tls = true, keys = {}, oidcToken = null, expiresInMs = 3600_000, cert = 'server' } = {}) {
  const state = { requests: [], issued: 0, expiresInMs, nonces: new Set(), errors: [] }
  const handler = async (req, res) => {
    const body = await readBody(req)
    const url = new URL(req.url, 'http://x')
    const query = Object.fromEntries(url.searchParams)
    const form = Object.fromEntries(new URLSearchParams(body))
    const record = { method: req.method, path: url.pathname, query, form, headers: req.headers, at: Date.now() }
    // When the answer was sent: a backoff runs from the end of the exchange.
    res.on('finish', () => (record.done = Date.now()))
    state.requests.push(record)
    if (await applyFault(state, res)) return

    const fail = (status, Code, Message) => {
      state.errors.push(`${Code}: ${Message}`)
      json(res, status, { RequestId: `req-${state.requests.length}`, Code, Message })
    }
    if (req.method !== 'POST') return fail(400, 'InvalidMethod', 'POST expected')
    if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return fail(400, 'InvalidContentType', 'form expected')
    if (query.Version !== '2015-04-01' || query.Format !== 'JSON') return fail(400, 'InvalidParameter', 'Version/Format')
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(query.Timestamp || '')) return fail(400, 'InvalidTimeStamp.Format', 'Timestamp')
    if (!form.RoleArn || !form.RoleSessionName) return fail(400, 'MissingParameter', 'RoleArn/RoleSessionName')
    const duration = Number(form.DurationSeconds)
    if (!(duration >= 900)) return fail(400, 'InvalidParameter.DurationSeconds', 'DurationSeconds')

    if (query.Action === 'AssumeRole') {
      if (query.SignatureMethod !== 'HMAC-SHA1' || query.SignatureVersion !== '1.0') return fail(400, 'InvalidParameter', 'SignatureMethod')
      if (!query.SignatureNonce || state.nonces.has(query.SignatureNonce)) return fail(400, 'SignatureNonceUsed', 'nonce reused')
      state.nonces.add(query.SignatureNonce)
      const key = keys[query.AccessKeyId]
      if (!key) return fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.')
      if (key.token !== undefined && query.SecurityToken !== key.token) return fail(400, 'InvalidSecurityToken.Mismatch', 'token mismatch')
      const expected = stringToSign('POST', { ...query, ...form })
      if (hmacSha1(key.secret, expected) !== query.Signature) {
        return fail(400, 'SignatureDoesNotMatch', `Specified signature is not matched with our calculation. server string to sign is:${expected}`)
      }
    } else if (query.Action === 'AssumeRoleWithOIDC') {
      if (query.Signature || query.AccessKeyId) return fail(400, 'InvalidParameter', 'OIDC requests are unsigned')
      if (!form.OIDCProviderArn) return fail(400, 'MissingParameter', 'OIDCProviderArn')
      if (oidcToken !== null && form.OIDCToken !== (typeof oidcToken === 'function' ? oidcToken() : oidcToken)) {
        return fail(400, 'AuthenticationFail.OIDCToken.Invalid', 'bad OIDC token')
      }
    } else {
      return fail(400, 'InvalidAction', query.Action)
    }
    state.issued++
    const n = state.issued
    // Issued credentials can sign later AssumeRole calls (role chaining).
    keys[`STS.issued-${n}`] = { secret: `issued-secret-${n}`, token: `issued-token-${n}` }
    json(res, 200, {
      RequestId: `req-${state.requests.length}`,
      AssumedRoleUser: { Arn: `${form.RoleArn}/${form.RoleSessionName}`, AssumedRoleId: `id:${form.RoleSessionName}` },
      Credentials: {
        AccessKeyId: `STS.issued-${n}`,
        AccessKeySecret: `issued-secret-${n}`,
        SecurityToken: `issued-token-${n}`,
        Expiration: utc(state.expiresInMs, state.expiresInMs < 5000),
      },
    })
  }
  const server = tls ? https.createServer(tlsOptions(cert), handler) : http.createServer(handler)
  const { port, close } = await listen(server)
  return {
    state,
    port,
    endpoint: tls ? `127.0.0.1:${port}` : `http://127.0.0.1:${port}`,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    set(changes) {
      Object.assign(state, changes)
    },
    reset() {
      Object.assign(state, { requests: [], issued: 0, expiresInMs, stall: false, garbage: false, status: 0, body: undefined, delayMs: 0, errors: [], dropNext: 0, failNext: 0, failStatus: 0, failBody: undefined })
    },
    close,
  }
}

/**
 * A mock ECS metadata service for `roleName`. `imdsv2: 'required' | 'optional' | 'off'` decides
 * whether GETs need the token and whether PUT /latest/api/token works.
 */
async function startMetadata({ roleName = 'EcsRamRoleTest', imdsv2 = 'optional', expiresInMs = 6 * 3600_000 } = {}) {
  const state = { requests: [], issued: 0, tokens: 0, expiresInMs, imdsv2, code: 'Success' }
  const server = http.createServer(async (req, res) => {
    await readBody(req)
    const record = { method: req.method, path: req.url, headers: req.headers, at: Date.now() }
    state.requests.push(record)
    if (await applyFault(state, res)) return
    if (req.method === 'PUT' && req.url === '/latest/api/token') {
      if (state.imdsv2 === 'off') return json(res, 404, 'not found')
      if (req.headers['x-aliyun-ecs-metadata-token-ttl-seconds'] !== '21600') return json(res, 400, 'bad ttl')
      state.tokens++
      res.writeHead(200, { 'content-type': 'text/plain' })
      return res.end(`metadata-token-${state.tokens}`)
    }
    const token = req.headers['x-aliyun-ecs-metadata-token']
    if (token !== undefined && !/^metadata-token-\d+$/.test(token)) return json(res, 401, 'bad token')
    if (state.imdsv2 === 'required' && token === undefined) return json(res, 401, 'token required')
    if (req.method !== 'GET') return json(res, 405, 'method')
    if (req.url === '/latest/meta-data/ram/security-credentials/') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      return res.end(roleName)
    }
    if (req.url === `/latest/meta-data/ram/security-credentials/${roleName}`) {
      state.issued++
      const n = state.issued
      return json(res, 200, {
        Code: state.code,
        AccessKeyId: `STS.ecs-${n}`,
        AccessKeySecret: `ecs-secret-${n}`,
        SecurityToken: `ecs-token-${n}`,
        Expiration: utc(state.expiresInMs),
        LastUpdated: utc(0),
      })
    }
    json(res, 404, 'not found')
  })
  const { port, close } = await listen(server)
  return {
    state,
    port,
    url: `http://127.0.0.1:${port}`,
    set(changes) {
      Object.assign(state, changes)
    },
    close,
  }
}

/** A mock credentials URI at `/creds`. */
async function startUri({ tls = false, expiresInMs = 3600_000 } = {}) {
  const state = { requests: [], issued: 0, expiresInMs, code: 'Success' }
  const handler = async (req, res) => {
    await readBody(req)
    state.requests.push({ method: req.method, path: req.url, headers: req.headers, at: Date.now() })
    if (await applyFault(state, res)) return
    if (req.method !== 'GET' || !req.url.startsWith('/creds')) return json(res, 404, { Code: 'NotFound' })
    state.issued++
    const n = state.issued
    json(res, 200, {
      Code: state.code,
      AccessKeyId: `STS.uri-${n}`,
      AccessKeySecret: `uri-secret-${n}`,
      SecurityToken: `uri-token-${n}`,
      Expiration: utc(state.expiresInMs),
    })
  }
  const server = tls ? https.createServer(tlsOptions(), handler) : http.createServer(handler)
  const { port, close } = await listen(server)
  return {
    state,
    port,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/creds`,
    set(changes) {
      Object.assign(state, changes)
    },
    close,
  }
}

/**
 * A mock CloudSSO portal (`POST /cloud-credentials`) and OAuth service (`POST /v1/token`,
 * `POST /v1/exchange`) on one HTTPS server. `accessToken` is what CloudSSO and the exchange accept;
 * `/v1/token` trades `refreshToken` for a new pair.
 */
async function startSignIn({ accessToken = 'sso-access-token', refreshToken = 'oauth-refresh-1', expiresInMs = 3600_000 } = {}) {
  const state = { requests: [], accessToken, refreshToken, issued: 0, refreshed: 0, expiresInMs }
  const server = https.createServer(tlsOptions(), async (req, res) => {
    const body = await readBody(req)
    const record = { method: req.method, path: req.url, headers: req.headers, body }
    state.requests.push(record)
    if (await applyFault(state, res)) return
    const bearer = (req.headers.authorization || '').replace(/^Bearer /, '')
    const issue = (shape) => {
      state.issued++
      const n = state.issued
      const c = { id: `STS.signin-${n}`, secret: `signin-secret-${n}`, token: `signin-token-${n}`, exp: new Date(Date.now() + state.expiresInMs).toISOString() }
      return shape(c)
    }
    if (req.method === 'POST' && req.url === '/cloud-credentials') {
      if (bearer !== state.accessToken) return json(res, 401, { Code: 'InvalidToken' })
      const parsed = JSON.parse(body || '{}')
      if (!parsed.AccountId || !parsed.AccessConfigurationId) return json(res, 400, { Code: 'MissingParameter' })
      return json(res, 200, issue((c) => ({ CloudCredential: { AccessKeyId: c.id, AccessKeySecret: c.secret, SecurityToken: c.token, Expiration: c.exp } })))
    }
    if (req.method === 'POST' && req.url === '/v1/token') {
      const form = Object.fromEntries(new URLSearchParams(body))
      if (form.grant_type !== 'refresh_token' || form.refresh_token !== state.refreshToken || !form.client_id) return json(res, 400, { error: 'invalid_grant' })
      state.refreshed++
      state.accessToken = `oauth-access-${state.refreshed + 1}`
      state.refreshToken = `oauth-refresh-${state.refreshed + 1}`
      return json(res, 200, { access_token: state.accessToken, refresh_token: state.refreshToken, expires_in: 7200 })
    }
    if (req.method === 'POST' && req.url === '/v1/exchange') {
      if (bearer !== state.accessToken) return json(res, 401, { error: 'invalid_token' })
      return json(res, 200, issue((c) => ({ accessKeyId: c.id, accessKeySecret: c.secret, securityToken: c.token, expiration: c.exp })))
    }
    json(res, 404, { Code: 'NotFound' })
  })
  const { port, close } = await listen(server)
  return {
    state,
    port,
    url: `https://127.0.0.1:${port}`,
    set(changes) {
      Object.assign(state, changes)
    },
    close,
  }
}

// A TCP relay to `port` on 127.0.0.1 counting the connections made through it (TLS passes through
// whole): `{ state: { connections }, port, endpoint, close }`.
async function countingRelay(port) {
  const net = require('node:net')
  const state = { connections: 0 }
  const server = net.createServer((client) => {
    state.connections++
    const upstream = net.connect(port, '127.0.0.1')
    client.pipe(upstream).pipe(client)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  const { port: relayPort, close } = await listen(server)
  return { state, port: relayPort, endpoint: `127.0.0.1:${relayPort}`, close }
}

module.exports = { countingRelay, TEST_CA, tlsOptions, randomSecret, auditSecret, secretForms, startSts, startMetadata, startUri, startSignIn, stringToSign, hmacSha1, utc, pct, listen, readRaw, readBody, issued }
