'use strict'
// URLs judged by Node's `new URL` (the WHATWG URL standard): tricky URLs (userinfo with `@` and
// `:`, backslashes, tabs and newlines, upper-case schemes, percent-encoded and numeric hosts, IPv6
// literals, ports out of range, dot segments) given as credentialsURI, stsEndpoint and the
// metadata endpoint. Each request must go to the host, port and path `new URL` names (with the
// Authorization its userinfo gives, as Node's http.request sends), or the value must be refused
// with an error naming the option.
//
// credentialsURI and stsEndpoint requests go through a recording forward proxy on loopback
// (HTTP_PROXY), which sees the whole URL of each request and no host is ever resolved; the
// metadata service is never proxied, so its endpoints name loopback in every form.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { clearAlibabaEnv, withEnv } = require('../helpers')
const { utc, listen } = require('../mocks')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')

const credentials = () => JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.whatwg', AccessKeySecret: 'whatwg-secret', SecurityToken: 'whatwg-token', Expiration: utc(3600_000) })

// Listens on `::` (IPv4 too, dual stack) so that every loopback form reaches it, on a port no
// other server of this process had (mocks.js listen()).
async function serve(handler) {
  const server = http.createServer(handler)
  server.on('connect', (req, socket) => {
    handler(req, null, socket)
  })
  return listen(server, '::')
}

// The URL standard added `^` to the path percent-encode set after the version Node 20 implements;
// the url crate follows the current standard. The one difference of spelling, applied to Node's.
const nowEncoded = (target) => {
  const q = target.indexOf('?')
  return q < 0 ? target.replace(/\^/g, '%5E') : target.slice(0, q).replace(/\^/g, '%5E') + target.slice(q)
}

// What Node makes of `input`: the request it names, or null for a refusal.
function nodeReads(input) {
  let u
  try {
    u = new URL(input)
  } catch {
    return null
  }
  if (!['http:', 'https:'].includes(u.protocol) || !u.hostname) return null
  let auth
  try {
    // Node's http.request decodes the userinfo so, and throws where it does not decode.
    auth = u.username || u.password ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined
  } catch {
    return null
  }
  return { protocol: u.protocol, host: u.host, hostname: u.hostname, port: u.port || (u.protocol === 'https:' ? '443' : '80'), target: `${u.pathname}${u.search}`, auth }
}

const HOSTS = [
  'example.test',
  'EXAMPLE.Test',
  'example.test.',
  'ex%61mple.test',
  'xn--nxasmq6b.test',
  'bücher.test',
  '127.0.0.1',
  '0x7f.1',
  '0x7F000001',
  '2130706433',
  '127.1',
  '0177.0.0.1',
  '127.0.0.1.',
  '１２７.0.0.1',
  '256.1.1.1',
  '1.2.3.4.5',
  '0x100000000',
  '[::1]',
  '[0:0:0:0:0:0:0:1]',
  '[::FFFF:127.0.0.1]',
  '[fe80::1%25eth0]',
  '[::1',
  '[zz]',
  'a b',
  'a<b',
  'a%00b',
  'a%2fb',
  'exa_mple.test',
  '',
]
const PORTS = ['', ':', ':8080', ':08080', ':80', ':443', ':65535', ':65536', ':99999', ':-1', ':8x', ': 80']
const USERINFO = ['', 'user@', 'user:pass@', ':@', ':pass@', 'u@x:p@', 'u:p:q@', 'us%40er:p%3Ass@', 'user:p%zzss@', '@']
const PATHS = [
  '/creds',
  '',
  '/a/./b/../c',
  '/a/%2e%2E/c',
  '/a/.%2e/c',
  '/..',
  '/a\\b\\..\\c',
  '/a b/é',
  '/{x}|^`',
  '/p?q=1&r=a b#frag',
  '/p?q=%zz&s="x"',
  '?only=query',
  '#only-fragment',
  '/a\t/b\n/c\r',
  '/%0d%0aX-Injected:%201',
]
const SCHEMES = ['http://', 'HTTP://', 'hTTp://', 'http:/', 'http:\\\\', 'http:', ' http://', 'ht\ttp://', 'https://', 'ftp://', 'file://', 'javascript://']

// The corpus: every host and every port once (with a path), every userinfo, path and scheme once
// (on a plain host), and a few combinations.
function corpus() {
  const list = new Set()
  for (const host of HOSTS) list.add(`http://${host}:1/creds`)
  for (const port of PORTS) list.add(`http://example.test${port}/creds`)
  for (const userinfo of USERINFO) list.add(`http://${userinfo}example.test/creds`)
  for (const path of PATHS) list.add(`http://example.test${path}`)
  for (const scheme of SCHEMES) list.add(`${scheme}example.test/creds`)
  for (const host of ['0x7f.1', '[::1]', 'EXAMPLE.Test.', 'bücher.test']) {
    for (const port of [':8080', ':']) list.add(`HTTP://user:pa%20ss@${host}${port}/a/../b?c=d#e`)
  }
  for (const host of ['2130706433', '[::FFFF:127.0.0.1]', 'ex%61mple.test', '127.0.0.1.']) {
    for (const path of ['/a/./b/../c', '/a\\b', '?q=1#f', '/%2e%2e/x']) list.add(`http://${host}:8080${path}`)
  }
  for (const userinfo of ['u@x:p@', ':@', 'user:p%zzss@', 'us%40er:p%3Ass@']) {
    for (const port of [':8080', ':80', ':99999']) list.add(`http://${userinfo}example.test${port}/creds`)
  }
  list.add('http://example.test\t:8\n080/cr\teds')
  list.add('  http://example.test/creds  ')
  list.add('http://ex\nample.test/creds')
  list.add('http://example.test:8080\\creds')
  list.add('http://example.test//double//slash')
  list.add('http://user:pass@example.test@other.test/creds')
  return [...list]
}

test('credentialsURI: at least 100 tricky URLs, each requested as new URL reads it or refused naming the option', { timeout: 120000 }, async () => {
  const seen = []
  const proxy = await serve((req, res, socket) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host, auth: req.headers.authorization })
    if (socket) return socket.end('HTTP/1.1 403 No\r\nContent-Length: 0\r\n\r\n')
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(credentials())
  })
  const urls = corpus()
  assert.ok(urls.length >= 100, `${urls.length} URLs`)
  const differences = []
  let accepted = 0
  try {
    await withEnv({ HTTP_PROXY: `http://127.0.0.1:${proxy.port}`, HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: '', http_proxy: undefined, https_proxy: undefined, no_proxy: undefined, ALL_PROXY: undefined, all_proxy: undefined }, async () => {
      for (const [i, input] of urls.entries()) {
        const expected = nodeReads(input)
        seen.length = 0
        let outcome
        try {
          // A timeout of its own: providers with equal configurations share their credentials.
          await new Credential({ type: 'credentials_uri', credentialsURI: input, timeout: 2000, connectTimeout: 1000 + i }).getCredential()
          outcome = 'resolved'
        } catch (e) {
          outcome = e.message
        }
        if (!expected) {
          if (seen.length !== 0 || !/credentials URI is not an http\(s\) URL/.test(outcome)) differences.push({ input, node: 'refused', ours: outcome, seen: [...seen] })
          continue
        }
        accepted++
        if (expected.protocol === 'https:') {
          const want = `${expected.hostname}:${expected.port}`
          if (seen.length !== 1 || seen[0].method !== 'CONNECT' || seen[0].url !== want) differences.push({ input, node: want, ours: outcome, seen: [...seen] })
          continue
        }
        const want = { url: `http://${expected.host}${nowEncoded(expected.target)}`, host: expected.host, auth: expected.auth }
        const got = seen.length === 1 ? { url: seen[0].url, host: seen[0].host, auth: seen[0].auth } : { outcome, seen: [...seen] }
        if (outcome !== 'resolved' || JSON.stringify(got) !== JSON.stringify(want)) differences.push({ input, node: want, ours: got, outcome })
      }
    })
  } finally {
    await proxy.close()
  }
  console.log(`# ${urls.length} URLs, ${accepted} of them valid http(s) URLs for Node`)
  assert.ok(accepted >= 50, `${accepted} of the URLs are valid http(s) URLs for Node`)
  assert.deepEqual(differences, [])
})

test('stsEndpoint: tricky authorities reach the host and port new URL names, or are refused naming the option', { timeout: 120000 }, async () => {
  const seen = []
  const proxy = await serve((req, res, socket) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host })
    if (socket) return socket.end('HTTP/1.1 403 No\r\nContent-Length: 0\r\n\r\n')
    res.writeHead(400, { 'content-type': 'application/json' })
    res.end('{"Code":"Recorded"}')
  })
  const endpoints = [...HOSTS.map((h) => `http://${h}:1`), ...PORTS.map((p) => `http://example.test${p}`), ...USERINFO.map((u) => `http://${u}example.test`), 'HTTP://EXAMPLE.test', 'http:\\\\example.test', 'http:example.test', 'example.test', 'example.test:8443', 'https://example.test:8443', 'http://example.test/', 'ht\ttp://exa\nmple.test']
  const differences = []
  try {
    await withEnv({ HTTP_PROXY: `http://127.0.0.1:${proxy.port}`, HTTPS_PROXY: `http://127.0.0.1:${proxy.port}`, NO_PROXY: '', http_proxy: undefined, https_proxy: undefined, no_proxy: undefined, ALL_PROXY: undefined, all_proxy: undefined }, async () => {
      for (const [i, endpoint] of endpoints.entries()) {
        // The package's rule: no scheme means https; requests go to `<endpoint>/?<query>`.
        const withScheme = endpoint.includes('://') ? endpoint : `https://${endpoint}`
        const expected = nodeReads(`${withScheme.replace(/\/+$/, '')}/`)
        seen.length = 0
        let outcome
        try {
          await new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-url', accessKeySecret: 'url-secret', roleArn: 'acs:ram::1:role/u', roleSessionName: `s${i}`, stsEndpoint: endpoint, timeout: 2000, connectTimeout: 1000 }).getCredential()
          outcome = 'resolved'
        } catch (e) {
          outcome = e.message
        }
        if (!expected) {
          if (seen.length !== 0 || !/STS endpoint is not an http\(s\) URL/.test(outcome)) differences.push({ endpoint, node: 'refused', ours: outcome, seen: [...seen] })
          continue
        }
        const got = seen.length === 1 ? seen[0] : { outcome, seen: [...seen] }
        const ok =
          expected.protocol === 'https:'
            ? got.method === 'CONNECT' && got.url === `${expected.hostname}:${expected.port}`
            : got.method === 'POST' && got.host === expected.host && new URL(got.url).pathname === expected.target && new URL(got.url).host === expected.host
        if (!ok) differences.push({ endpoint, node: expected, ours: got })
      }
    })
  } finally {
    await proxy.close()
  }
  assert.deepEqual(differences, [])
})

test('the metadata endpoint: loopback in every form is reached at the host and path new URL names, never through the proxy', { timeout: 120000 }, async () => {
  const seen = []
  const metadata = await serve((req, res) => {
    seen.push({ method: req.method, url: req.url, host: req.headers.host })
    if (req.method === 'PUT') return res.end('md-token')
    if (req.url.endsWith('/security-credentials/')) return res.end('Role')
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(credentials())
  })
  const p = metadata.port
  const bases = [
    `http://127.0.0.1:${p}`,
    `127.0.0.1:${p}`,
    `HTTP://LOCALHOST:${p}`,
    `http://%6c%6fcalhost:${p}`,
    `http://0x7f.1:${p}`,
    `http://0x7F000001:${p}`,
    `http://2130706433:${p}`,
    `http://127.1:${p}`,
    `http://0177.0.0.1:${p}`,
    `http://127.0.0.1.:${p}`,
    `http://１２７.0.0.1:${p}`,
    `http://[::1]:${p}`,
    `http://[0:0:0:0:0:0:0:1]:${p}`,
    `http://[::ffff:127.0.0.1]:${p}`,
    `http://127.0.0.1:0${p}`,
    `http://u:p@127.0.0.1:${p}`,
    `http://127.0.0.1:${p}/prefix/../base/`,
    `http://127.0.0.1:${p}\\prefix`,
    `ht\ttp://127.0.\n0.1:${p}`,
    `http://256.0.0.1:${p}`,
    `http://127.0.0.1:${p + 65536}`,
    `http://[::1:${p}`,
    `ftp://127.0.0.1:${p}`,
  ]
  const differences = []
  try {
    await withEnv({ HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '' }, async () => {
      for (const base of bases) {
        const withScheme = base.includes('://') ? base : `http://${base}`
        const expected = nodeReads(`${withScheme.replace(/\/+$/, '')}/latest/api/token`)
        seen.length = 0
        let outcome
        try {
          await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: base }, () =>
            // A role of its own: providers with one configuration share their credentials.
            new Credential({ type: 'ecs_ram_role', roleName: `Role${bases.indexOf(base)}`, timeout: 2000, connectTimeout: 1000 }).getCredential(),
          )
          outcome = 'resolved'
        } catch (e) {
          outcome = e.message
        }
        if (!expected) {
          if (seen.length !== 0 || !/ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT\) is not an http\(s\) URL/.test(outcome)) differences.push({ base, node: 'refused', ours: outcome })
          continue
        }
        const first = seen[0]
        if (outcome !== 'resolved' || !first || first.method !== 'PUT' || first.url !== expected.target || first.host !== expected.host) {
          differences.push({ base, node: expected, ours: { outcome, first } })
        }
      }
    })
  } finally {
    await metadata.close()
  }
  assert.deepEqual(differences, [])
})
