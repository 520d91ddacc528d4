'use strict'
// A proxy's credentials are secrets: a proxy that echoes what it received (the
// Proxy-Authorization value, the decoded user and password, the password percent-encoded) in its
// answer's error fields never gets them into an error message or the DEBUG log. Each run is a
// child process with DEBUG on; everything it printed is searched for every form of the password.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')
const net = require('node:net')
const { clearAlibabaEnv, isolatedEnv, runNodeAsync } = require('../helpers')
const { listen, randomSecret, secretForms } = require('../mocks')

clearAlibabaEnv()

// A forward proxy that never forwards: every request (absolute-form or CONNECT) is answered with
// `status` and a JSON error body quoting the credentials it was given.
async function startEchoingProxy(status) {
  const seen = []
  const echo = (req) => {
    const auth = req.headers['proxy-authorization'] || ''
    const decoded = Buffer.from(auth.replace(/^Basic /, ''), 'base64').toString()
    seen.push(auth)
    const quoted = `got ${auth} = ${decoded} = ${encodeURIComponent(decoded)}`
    return JSON.stringify({ Code: 'ProxyEcho', Message: quoted, RequestId: quoted.slice(0, 60), error_description: quoted })
  }
  const server = http.createServer((req, res) => {
    const body = echo(req)
    res.writeHead(status, { 'content-type': 'application/json', 'proxy-authenticate': 'Basic' })
    res.end(body)
  })
  server.on('connect', (req, socket) => {
    socket.on('error', () => {})
    const body = echo(req)
    socket.end(`HTTP/1.1 ${status} Echo\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  })
  const { port, close } = await listen(server)
  return { port, seen, close }
}

async function runThrough(proxyUrl, config) {
  const code = `
const Credential = require('alicloud-credentials-native')
new Credential(${JSON.stringify(config)}).getCredential().then(
  () => console.log('resolved'),
  (e) => console.log('rejected: ' + e.message),
)`
  const env = isolatedEnv({ DEBUG: 'alicloud-credentials*', HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NO_PROXY: '' })
  return runNodeAsync(code, { env, timeout: 20000 })
}

for (const status of [407, 502]) {
  test(`a proxy answering ${status} and echoing its credentials: no form of the password is printed, DEBUG on`, { timeout: 60000 }, async () => {
    const user = `proxy-user-${crypto.randomBytes(4).toString('hex')}`
    const password = randomSecret('proxy-password')
    const basic = Buffer.from(`${user}:${password}`).toString('base64')
    const proxy = await startEchoingProxy(status)
    const proxyUrl = `http://${user}:${encodeURIComponent(password)}@127.0.0.1:${proxy.port}`
    try {
      const configs = [
        { type: 'credentials_uri', credentialsURI: 'http://credentials.invalid/creds', timeout: 3000 },
        { type: 'ram_role_arn', accessKeyId: 'LTAI-proxy', accessKeySecret: randomSecret('ak'), roleArn: 'acs:ram::1:role/p', stsEndpoint: 'http://sts.invalid', timeout: 3000 },
        { type: 'ram_role_arn', accessKeyId: 'LTAI-proxy', accessKeySecret: randomSecret('ak'), roleArn: 'acs:ram::1:role/p', stsEndpoint: 'https://sts.invalid', timeout: 3000 },
      ]
      const attempts = []
      for (const config of configs) {
        const before = proxy.seen.length
        const r = await runThrough(proxyUrl, config)
        attempts.push(proxy.seen.length - before)
        assert.equal(r.status, 0, r.stderr)
        assert.match(r.stdout, /^rejected: /, `${config.stsEndpoint || config.credentialsURI}: ${r.stdout}`)
        const printed = r.stdout + r.stderr
        for (const form of [...secretForms(password), encodeURIComponent(password), basic]) {
          assert.ok(!printed.includes(form), `${config.stsEndpoint || config.credentialsURI}: printed ${JSON.stringify(form)}:\n${printed}`)
        }
      }
      // Every request reached the proxy. An http URL's 502 is the answer's 5xx, a blip tried again
      // twice inside the refresh (src/session/retry.rs); the https tunnel's refusal is not retried.
      assert.deepEqual(attempts, status === 502 ? [3, 3, 1] : [1, 1, 1], 'every request reached the proxy')
      assert.ok(proxy.seen.every((auth) => auth === `Basic ${basic}`), 'the proxy got the credentials')
    } finally {
      await proxy.close()
    }
  })
}

test('a proxy that is a raw socket echoing the request back: no form of the password is printed', { timeout: 60000 }, async () => {
  const password = randomSecret('proxy-password')
  const basic = Buffer.from(`u:${password}`).toString('base64')
  const server = net.createServer((socket) => {
    socket.on('error', () => {})
    socket.once('data', (request) => {
      const quoted = JSON.stringify(request.toString())
      const body = `{"Code":"Echo","Message":${quoted}}`
      socket.end(`HTTP/1.1 400 Echo\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
    })
  })
  const { port, close } = await listen(server)
  try {
    const r = await runThrough(`http://u:${encodeURIComponent(password)}@127.0.0.1:${port}`, { type: 'credentials_uri', credentialsURI: 'http://credentials.invalid/creds', timeout: 3000 })
    assert.equal(r.status, 0, r.stderr)
    assert.match(r.stdout, /^rejected: get sts token failed, httpStatus: 400, message = Code: Echo, Message: /)
    const printed = r.stdout + r.stderr
    for (const form of [...secretForms(password), encodeURIComponent(password), basic]) {
      assert.ok(!printed.includes(form), `printed ${JSON.stringify(form)}:\n${printed}`)
    }
  } finally {
    await close()
  }
})
