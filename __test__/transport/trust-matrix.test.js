'use strict'
// Which server certificates are trusted, judged by Node: certificates made here with openssl, a
// NODE_EXTRA_CA_CERTS file holding a good root, an expired root, a CA:FALSE certificate, an
// intermediate whose root is not there and an intermediate whose root is; one loopback HTTPS
// server per case; a child process with that file runs Node's own https.get and this package on
// every server and must give the same verdict on each.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const https = require('node:https')
const path = require('node:path')
const { clearAlibabaEnv, isolatedEnv, runNodeAsync, tempDir } = require('../helpers')
const { listen, utc } = require('../mocks')

clearAlibabaEnv()

let hasOpenssl = true
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' })
} catch {
  hasOpenssl = false
}

const CONFIG = `
[ca]
default_ca = ca_default
[ca_default]
database = DIR/index.txt
new_certs_dir = DIR/issued
serial = DIR/serial
default_md = sha256
policy = any
unique_subject = no
email_in_dn = no
[any]
commonName = supplied
[root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf_ip]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
[leaf_other]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.test
`

// An openssl CA directory in `dir`: returns make(name, extensions, issuer, [start, end]).
function certificateMaker(dir, made) {
  fs.mkdirSync(path.join(dir, 'issued'))
  fs.writeFileSync(path.join(dir, 'index.txt'), '')
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n')
  const config = path.join(dir, 'openssl.cnf')
  fs.writeFileSync(config, CONFIG.replaceAll('DIR', dir))
  const valid = [stamp(Date.now() - DAY), stamp(Date.now() + 30 * DAY)]
  const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  // `issuer` null: self-signed.
  const make = (name, extensions, issuer, [start, end] = valid) => {
    const key = path.join(dir, `${name}.key`)
    const csr = path.join(dir, `${name}.csr`)
    const cert = path.join(dir, `${name}.pem`)
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key)
    openssl('req', '-new', '-key', key, '-subj', `/CN=matrix ${name}`, '-out', csr)
    const signer = issuer ? ['-cert', path.join(dir, `${issuer}.pem`), '-keyfile', path.join(dir, `${issuer}.key`)] : ['-selfsign', '-keyfile', key]
    openssl('ca', '-batch', '-config', config, '-notext', ...signer, '-in', csr, '-out', cert, '-extensions', extensions, '-startdate', start, '-enddate', end)
    made[name] = { cert: fs.readFileSync(cert, 'utf8'), key: fs.readFileSync(key, 'utf8') }
  }
  return make
}

const DAY = 86400_000
// openssl's time form: YYYYMMDDHHMMSSZ.
const stamp = (ms) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'

// Certificates for every case in `dir`: name -> { cert, key } (PEM).
function makeCertificates(dir) {
  const expired = ['20100101000000Z', '20110101000000Z']
  const made = {}
  const make = certificateMaker(dir, made)
  make('root', 'root', null)
  make('expiredRoot', 'root', null, expired)
  make('notCa', 'leaf_ip', null)
  make('otherRoot', 'root', null)
  make('loneIntermediate', 'root', 'otherRoot')
  make('intermediate', 'root', 'root')
  make('good', 'leaf_ip', 'root')
  make('wrongHost', 'leaf_other', 'root')
  make('selfSigned', 'leaf_ip', null)
  make('expiredLeaf', 'leaf_ip', 'root', expired)
  make('underExpiredRoot', 'leaf_ip', 'expiredRoot')
  make('underNotCa', 'leaf_ip', 'notCa')
  make('underLoneIntermediate', 'leaf_ip', 'loneIntermediate')
  make('underIntermediate', 'leaf_ip', 'intermediate')
  return made
}

test('trust as Node: the same verdict as https.get for every certificate of the matrix', { skip: !hasOpenssl && !process.env.CI && 'openssl is not installed', timeout: 120000 }, async () => {
  const dir = tempDir('acn-trust-')
  const c = makeCertificates(dir)
  const trusted = path.join(dir, 'extra.pem')
  fs.writeFileSync(trusted, [c.root, c.expiredRoot, c.notCa, c.loneIntermediate, c.intermediate].map((x) => x.cert).join(''))
  // What each server presents: its certificate, and the intermediate where it has one.
  const cases = {
    'good leaf with an IP SAN': [c.good],
    'wrong host': [c.wrongHost],
    'self-signed, not in the file': [c.selfSigned],
    'expired leaf': [c.expiredLeaf],
    'leaf of an expired root': [c.underExpiredRoot],
    'leaf of a CA:FALSE certificate': [c.underNotCa],
    'leaf of an intermediate in the file without its root': [c.underLoneIntermediate],
    'the same, with the intermediate sent by the server': [c.underLoneIntermediate, c.loneIntermediate],
    'leaf of an intermediate in the file whose root is there': [c.underIntermediate],
    'a self-signed CA:FALSE certificate of the file, for its own server': [c.notCa],
  }
  const body = JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.matrix', AccessKeySecret: 'matrix-secret', SecurityToken: 'matrix-token', Expiration: utc(3600_000) })
  const servers = {}
  try {
    for (const [name, [leaf, ...chain]] of Object.entries(cases)) {
      const server = https.createServer({ key: leaf.key, cert: [leaf.cert, ...chain.map((x) => x.cert)].join('') }, (req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(body)
      })
      server.on('tlsClientError', () => {})
      servers[name] = await listen(server)
    }
    const urls = Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, `https://127.0.0.1:${s.port}/creds`]))
    const code = `
const https = require('node:https')
const Credential = require('alicloud-credentials-native')
const urls = ${JSON.stringify(urls)}
const node = (url) => new Promise((resolve) => {
  https.get(url, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200 ? 'trusted' : 'failed: ' + res.statusCode)) })
    .on('error', (e) => resolve(/CERT|SIGNED|ISSUER|INVALID_CA|ERR_TLS|UNABLE|UNSPECIFIED/.test(e.code || '') ? 'untrusted' : 'failed: ' + e.code))
})
const ours = (url, i) => new Credential({ type: 'credentials_uri', credentialsURI: url, timeout: 5000 + i }).getCredential()
  .then(() => 'trusted', (e) => (/TLS error/.test(e.message) ? 'untrusted' : 'failed: ' + e.message))
;(async () => {
  const verdicts = {}
  for (const [i, [name, url]] of Object.entries(urls).entries()) verdicts[name] = { node: await node(url), ours: await ours(url, i) }
  console.log(JSON.stringify(verdicts))
})()`
    const env = isolatedEnv({ NODE_EXTRA_CA_CERTS: trusted })
    for (const k of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_OPTIONS', 'NODE_USE_SYSTEM_CA']) delete env[k]
    const r = await runNodeAsync(code, { env, timeout: 60000 })
    assert.equal(r.status, 0, r.stderr)
    const verdicts = JSON.parse(r.stdout.trim().split('\n').at(-1))
    const differing = Object.entries(verdicts).filter(([, v]) => v.node !== v.ours)
    assert.deepEqual(differing, [], JSON.stringify(verdicts, null, 1))
    // The matrix is a real one: Node trusts some and refuses others.
    assert.equal(verdicts['good leaf with an IP SAN'].node, 'trusted')
    assert.equal(verdicts['leaf of an expired root'].node, 'untrusted')
    assert.equal(verdicts['leaf of a CA:FALSE certificate'].node, 'untrusted')
    assert.equal(verdicts['leaf of an intermediate in the file without its root'].node, 'untrusted')
  } finally {
    await Promise.all(Object.values(servers).map((s) => s.close()))
  }
})

test('trust as Node: a root of NODE_EXTRA_CA_CERTS that expires between two requests of one process is refused at the second, as by https.get', { skip: !hasOpenssl && !process.env.CI && 'openssl is not installed', timeout: 120000 }, async () => {
  const dir = tempDir('acn-trust-expiring-')
  const made = {}
  const make = certificateMaker(dir, made)
  // A root valid for a few seconds from now; its leaf for a month (openssl lets a leaf outlive
  // its issuer; only the root's end is what this test is about).
  const rootEnd = Math.floor((Date.now() + 12_000) / 1000) * 1000
  make('shortRoot', 'root', null, [stamp(Date.now() - DAY), stamp(rootEnd)])
  make('leaf', 'leaf_ip', 'shortRoot', [stamp(Date.now() - DAY), stamp(Date.now() + 30 * DAY)])
  const trusted = path.join(dir, 'extra.pem')
  fs.writeFileSync(trusted, made.shortRoot.cert)
  const body = JSON.stringify({ Code: 'Success', AccessKeyId: 'STS.expiring', AccessKeySecret: 'expiring-secret', SecurityToken: 'expiring-token', Expiration: utc(3600_000) })
  let requests = 0
  // Two servers with the same certificate, one for the requests before the root's end and one
  // for those after: a new server knows no TLS session of the first, so the second requests make
  // a full handshake (a resumed session is not verified again, by OpenSSL nor by rustls).
  const servers = []
  for (let i = 0; i < 2; i++) {
    const server = https.createServer({ key: made.leaf.key, cert: made.leaf.cert }, (req, res) => {
      requests++
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
    })
    server.on('tlsClientError', () => {})
    servers.push(await listen(server))
  }
  try {
    const urls = servers.map((s) => `https://127.0.0.1:${s.port}/creds`)
    const code = `
const https = require('node:https')
const Credential = require('alicloud-credentials-native')
const urls = ${JSON.stringify(urls)}
const node = (i) => new Promise((resolve) => {
  https.get(urls[i], { agent: false }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200 ? 'trusted' : 'failed: ' + res.statusCode)) })
    .on('error', (e) => resolve(/CERT|SIGNED|ISSUER|INVALID_CA|ERR_TLS|UNABLE|UNSPECIFIED/.test(e.code || '') ? 'untrusted: ' + e.code : 'failed: ' + e.code))
})
// A new credential (and URL) each time: nothing is cached between the two.
const ours = (i) => new Credential({ type: 'credentials_uri', credentialsURI: urls[i], timeout: 5000 }).getCredential()
  .then(() => 'trusted', (e) => (/TLS error/.test(e.message) ? 'untrusted: ' + e.message : 'failed: ' + e.message))
;(async () => {
  const before = { at: Date.now(), node: await node(0), ours: await ours(0) }
  // Past the root's notAfter (second precision) with a margin.
  while (Date.now() < ${rootEnd} + 1500) await new Promise((r) => setTimeout(r, 250))
  const after = { at: Date.now(), node: await node(1), ours: await ours(1) }
  console.log(JSON.stringify({ before, after }))
})()`
    const env = isolatedEnv({ NODE_EXTRA_CA_CERTS: trusted })
    for (const k of ['SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_OPTIONS', 'NODE_USE_SYSTEM_CA']) delete env[k]
    const r = await runNodeAsync(code, { env, timeout: 60000 })
    assert.equal(r.status, 0, r.stderr)
    const { before, after } = JSON.parse(r.stdout.trim().split('\n').at(-1))
    assert.ok(before.at < rootEnd - 1000, `the first requests ran too late to test anything (${rootEnd - before.at} ms before the root's end)`)
    assert.equal(before.node, 'trusted')
    assert.equal(before.ours, 'trusted')
    assert.match(after.node, /^untrusted/)
    assert.match(after.ours, /^untrusted/, JSON.stringify({ before, after }))
    // The first two were answered: the certificates work, and only the time changed.
    assert.ok(requests >= 2, `the servers answered ${requests} requests`)
  } finally {
    await Promise.all(servers.map((s) => s.close()))
  }
})
