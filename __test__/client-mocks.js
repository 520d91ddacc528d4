'use strict'
// Loopback stand-ins for the services the real clients call: an OpenAPI endpoint that verifies
// the RPC (HMAC-SHA1), ACS3-HMAC-SHA256 and bearer schemes, and an OSS bucket that verifies
// ali-oss's V1 signature and its x-oss-security-token. Each checks what it receives with Node's
// crypto, written from the published algorithms, not from the clients' code.

const crypto = require('node:crypto')
const http = require('node:http')
const { stringToSign, hmacSha1, pct, listen, readRaw: readBody } = require('./mocks')

/**
 * `keys` maps AccessKeyId → { secret, token? } (shared with the mock STS, so issued keys work);
 * `bearers` is a set of accepted bearer tokens. Every request is recorded with its verdict.
 */
async function startOpenApi({ keys, bearers = new Set() }) {
  const state = { requests: [] }
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req)
    const url = new URL(req.url, 'http://x')
    const query = Object.fromEntries(url.searchParams)
    const record = { method: req.method, path: url.pathname, query, headers: req.headers, scheme: null, accessKeyId: null, ok: false, why: '' }
    state.requests.push(record)
    const reply = (status, payload) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ RequestId: `req-${state.requests.length}`, ...payload }))
    }
    const deny = (why) => {
      record.why = why
      reply(403, { Code: 'SignatureDoesNotMatch', Message: why })
    }
    const authorization = req.headers.authorization
    if (req.headers['x-acs-bearer-token'] || query.BearerToken) {
      record.scheme = 'bearer'
      const token = req.headers['x-acs-bearer-token'] || query.BearerToken
      if (!bearers.has(token)) return deny('unknown bearer token')
      if (query.SignatureType !== 'BEARERTOKEN' && req.headers['x-acs-signature-type'] !== 'BEARERTOKEN') return deny('SignatureType')
      if (authorization || query.Signature || query.AccessKeyId) return deny('a bearer request carries an AccessKey signature')
    } else if (authorization && authorization.startsWith('ACS3-HMAC-SHA256 ')) {
      record.scheme = 'acs3'
      const parts = Object.fromEntries(authorization.slice('ACS3-HMAC-SHA256 '.length).split(',').map((p) => p.split('=')))
      const key = keys[parts.Credential]
      record.accessKeyId = parts.Credential
      if (!key) return deny('unknown AccessKeyId')
      if (key.token !== undefined && req.headers['x-acs-security-token'] !== key.token) return deny('security token')
      const payloadHash = crypto.createHash('sha256').update(body).digest('hex')
      if (req.headers['x-acs-content-sha256'] !== payloadHash) return deny('payload hash')
      const signed = parts.SignedHeaders.split(';')
      for (const required of ['host', 'x-acs-action', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-version', 'x-acs-content-sha256']) {
        if (!signed.includes(required)) return deny(`unsigned header ${required}`)
      }
      const canonicalQuery = Object.keys(query).sort().map((k) => `${k}=${pct(query[k])}`).join('&')
      const canonicalHeaders = signed.map((h) => `${h}:${String(req.headers[h] ?? '').trim()}\n`).join('')
      const canonicalRequest = [req.method, url.pathname, canonicalQuery, canonicalHeaders, signed.join(';'), payloadHash].join('\n')
      const toSign = `ACS3-HMAC-SHA256\n${crypto.createHash('sha256').update(canonicalRequest).digest('hex')}`
      const expected = crypto.createHmac('sha256', key.secret).update(toSign).digest('hex')
      if (expected !== parts.Signature) return deny('ACS3 signature')
    } else if (query.Signature || /(^|&)Signature=/.test(body.toString())) {
      // RPC: the parameters may be in the query, the form body, or both (pop-core POSTs them all).
      record.scheme = 'rpc'
      const form = (req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded') ? Object.fromEntries(new URLSearchParams(body.toString())) : {}
      const params = { ...query, ...form }
      const key = keys[params.AccessKeyId]
      record.accessKeyId = params.AccessKeyId
      if (!key) return deny('unknown AccessKeyId')
      if (key.token !== undefined && params.SecurityToken !== key.token) return deny('security token')
      if (hmacSha1(key.secret, stringToSign(req.method, params)) !== params.Signature) return deny('RPC signature')
    } else {
      return deny('no credentials')
    }
    record.ok = true
    reply(200, { Echo: 'ok', Scheme: record.scheme })
  })
  const { port, close } = await listen(server)
  return { state, port, endpoint: `127.0.0.1:${port}`, close }
}

/** A bucket (`PUT` / `GET` objects, path style) that verifies ali-oss's V1 signature. */
async function startOss({ keys }) {
  const state = { requests: [], objects: new Map() }
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req)
    const url = new URL(req.url, 'http://x')
    const record = { method: req.method, path: url.pathname, headers: req.headers, accessKeyId: null, ok: false, why: '' }
    state.requests.push(record)
    const deny = (why) => {
      record.why = why
      res.writeHead(403, { 'content-type': 'application/xml', 'x-oss-request-id': 'mock' })
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message><RequestId>mock</RequestId></Error>`)
    }
    const match = /^OSS ([^:]+):(.+)$/.exec(req.headers.authorization || '')
    if (!match) return deny('no OSS authorization')
    const [, accessKeyId, signature] = match
    record.accessKeyId = accessKeyId
    const key = keys[accessKeyId]
    if (!key) return deny('unknown AccessKeyId')
    if (key.token !== undefined && req.headers['x-oss-security-token'] !== key.token) return deny('security token')
    const ossHeaders = Object.keys(req.headers)
      .filter((h) => h.startsWith('x-oss-'))
      .sort()
      .map((h) => `${h}:${req.headers[h]}\n`)
      .join('')
    // The date line is x-oss-date when the client sends it, else Date (OSS signature V1).
    const date = req.headers['x-oss-date'] || req.headers.date
    // The signed resource is /<bucket>/<object>: the bucket from a virtual-host Host header
    // (<bucket>.oss-<region>.aliyuncs.com), else already in the path.
    const bucket = /^([a-z0-9-]+)\.oss-/.exec(req.headers.host || '')
    const resource = `${bucket ? `/${bucket[1]}` : ''}${decodeURIComponent(url.pathname)}${url.search}`
    record.resource = resource
    const toSign = [req.method, req.headers['content-md5'] || '', req.headers['content-type'] || '', date, `${ossHeaders}${resource}`].join('\n')
    const expected = crypto.createHmac('sha1', key.secret).update(toSign).digest('base64')
    if (expected !== signature) return deny('OSS signature')
    record.ok = true
    if (req.method === 'PUT') {
      state.objects.set(resource, body)
      res.writeHead(200, { etag: '"mock"', 'x-oss-request-id': 'mock' })
      return res.end()
    }
    if (req.method === 'GET' && state.objects.has(resource)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-oss-request-id': 'mock' })
      return res.end(state.objects.get(resource))
    }
    res.writeHead(404, { 'content-type': 'application/xml', 'x-oss-request-id': 'mock' })
    res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>none</Message><RequestId>mock</RequestId></Error>')
  })
  const { port, close } = await listen(server)
  return { state, port, endpoint: `http://127.0.0.1:${port}`, close }
}

module.exports = { startOpenApi, startOss }
