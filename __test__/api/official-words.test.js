'use strict'
// The official package's words, case by case: each of our errors starts with the message the
// official package (node_modules/@alicloud/credentials, 2.4.7) gives in the same situation, and
// adds after it only detail without a secret. Where the official can reach a loopback server (a
// credentials URI, STS, a CloudSSO portal) both packages run in one child process against the same
// mock; where it cannot (the ECS metadata host and the OAuth sign-in site are fixed addresses
// there), the words are checked against its source.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const path = require('node:path')
const http = require('node:http')
const https = require('node:https')
const { clearAlibabaEnv, isolatedEnv, runNodeAsync, tempDir } = require('../helpers')
const { TEST_CA, listen, readBody, utc, tlsOptions, randomSecret, secretForms } = require('../mocks')

clearAlibabaEnv()

const OFFICIAL_SRC = path.join(__dirname, '..', '..', 'node_modules', '@alicloud', 'credentials', 'dist', 'src')
const officialSource = (file) => fs.readFileSync(path.join(OFFICIAL_SRC, file), 'utf8')

let answer = { status: 200, body: '{}', destroy: false }
let server, tlsServer
test.before(async () => {
  const handler = async (req, res) => {
    await readBody(req)
    if (answer.destroy) return req.socket.destroy()
    res.writeHead(answer.status, { 'content-type': 'application/json' })
    res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body))
  }
  server = await listen(http.createServer(handler))
  tlsServer = await listen(https.createServer(tlsOptions(), handler))
})
test.after(() => Promise.all([server.close(), tlsServer.close()]))

// Runs `expr` (a credential built from `C`, the package's default export, `Config` and
// `CLIProfileCredentialsProvider`) with the official
// package and with ours, one after the other, in a child process; returns both outcomes.
async function both(expr, env = {}, { official = true } = {}) {
  const code = `
const run = async (mod) => {
  const C = mod.default || mod
  const { Config, CLIProfileCredentialsProvider } = mod
  try {
    const c = ${expr}
    await (c.getCredential ? c.getCredential() : c.getCredentials())
    return { ok: true }
  } catch (e) {
    return { message: e.message, code: e.code }
  }
}
;(async () => {
  const official = ${official} ? await run(require('@alicloud/credentials')) : null
  const ours = await run(require('alicloud-credentials-native'))
  console.log(JSON.stringify({ official, ours }))
})()`
  const r = await runNodeAsync(code, { env: isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA, ...env }) })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}

const uriExpr = () => `new C(new Config({ type: 'credentials_uri', credentialsURI: 'http://127.0.0.1:${server.port}/creds' }))`
const roleExpr = () =>
  `new C(new Config({ type: 'ram_role_arn', accessKeyId: 'LTAI-words', accessKeySecret: 'words-secret-value', roleArn: 'acs:ram::1:role/r', stsEndpoint: '127.0.0.1:${tlsServer.port}' }))`

let oidcFile
function oidcExpr() {
  if (!oidcFile) {
    oidcFile = path.join(tempDir('acn-words-'), 'token')
    fs.writeFileSync(oidcFile, randomSecret('oidc'))
  }
  return `new C(new Config({ type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/r', oidcProviderArn: 'acs:ram::1:oidc-provider/p', oidcTokenFilePath: ${JSON.stringify(oidcFile)}, stsEndpoint: '127.0.0.1:${tlsServer.port}' }))`
}

/** Ours starts with the official's message, or with its part before the server's body (`cut`). */
function assertPrefix({ official, ours }, cut) {
  assert.ok(official.message, `the official failed: ${JSON.stringify(official)}`)
  const expected = cut === undefined ? official.message : official.message.slice(0, official.message.indexOf(cut) + cut.length)
  assert.ok(ours.message?.startsWith(expected), `ours ${JSON.stringify(ours.message)} does not start with the official ${JSON.stringify(expected)}`)
}

test('credentials URI: a bad or missing Expiration gives the official time-parsing message', async () => {
  const expirations = [
    undefined,
    '',
    'tomorrow',
    '2024/08/30T07:03:06Z',
    '2024-08-30T07:03:06,117Z',
    'abcd-08-30T07:03:06Z',
    '2024-xx-30T07:03:06Z',
    '2024-13-30T07:03:06Z',
    '2024-08-xxT07:03:06Z',
    '2024-08-32T07:03:06Z',
    '2024-08-30Txx:03:06Z',
    '2024-08-30T25:03:06Z',
    '2024-08-30T07:xx:06Z',
    '2024-08-30T07:61:06Z',
    '2024-08-30T07:03:xxZ',
    '2024-08-30T07:03:61Z',
    '2024-08-30T07:03:06.xxxZ',
  ]
  for (const Expiration of expirations) {
    answer = { status: 200, body: { Code: 'Success', AccessKeyId: 'STS.words', AccessKeySecret: randomSecret('words'), SecurityToken: randomSecret('words'), Expiration } }
    const r = await both(uriExpr())
    assert.equal(r.ours.message, r.official.message, `Expiration ${JSON.stringify(Expiration)}`)
    assert.match(r.ours.message, /^invalid (UTC format (time|date) string|\w+ (string|value))$/)
  }
})

test('credentials URI: missing fields give the official "error retrieving credentials" words; statuses the official prefix', async () => {
  const s = randomSecret('words')
  for (const body of [null, { Code: 'Success', AccessKeyId: 'a', AccessKeySecret: s }, {}]) {
    answer = { status: 200, body: JSON.stringify(body) }
    const r = await both(uriExpr())
    assertPrefix(r, 'credentialsURI result: ')
    for (const f of secretForms(s)) assert.ok(!r.ours.message.includes(f), r.ours.message)
  }
  answer = { status: 503, body: { Code: 'ServiceUnavailable', Detail: s } }
  const r = await both(uriExpr())
  assertPrefix(r, 'message = ')
  assert.equal(r.ours.message, 'get sts token failed, httpStatus: 503, message = Code: ServiceUnavailable.')
})

test('ram_role_arn: STS bodies without credentials give the official words exactly', async () => {
  for (const body of ['null', '{}', '{"Credentials":{}}', '{"Credentials":{"AccessKeyId":"a"}}']) {
    answer = { status: 200, body }
    const r = await both(roleExpr())
    assert.equal(r.official.message, 'refresh RoleArn sts token err, fail to get credentials', body)
    assert.equal(r.ours.message, r.official.message, body)
  }
  answer = { status: 200, body: '<html>' }
  assertPrefix(await both(roleExpr()), 'unmarshal fail: ')
})

test('oidc_role_arn: STS bodies without credentials give the official words exactly', async () => {
  for (const body of ['null', '{}', '{"Credentials":{}}', '{"Credentials":{"AccessKeyId":"a"}}']) {
    answer = { status: 200, body }
    const r = await both(oidcExpr())
    assert.equal(r.official.message, 'get sts token failed with OIDC', body)
    assert.equal(r.ours.message, r.official.message, body)
  }
  answer = { status: 200, body: '<html>' }
  assertPrefix(await both(oidcExpr()), 'unmarshal fail: ')
})

test('STS 4xx: the official "refresh session token failed: " / "get sts token failed with OIDC: " comes first', async () => {
  answer = { status: 403, body: { RequestId: 'R-1', Code: 'NoPermission', Message: 'You are not authorized to do this action.' } }
  const role = await both(roleExpr())
  assertPrefix(role, 'failed: ')
  assert.equal(role.ours.message, 'refresh session token failed: HTTP 403, Code: NoPermission, Message: You are not authorized to do this action., RequestId: R-1')
  const oidc = await both(oidcExpr())
  assertPrefix(oidc, 'with OIDC: ')
  assert.equal(oidc.ours.message, 'get sts token failed with OIDC: HTTP 403, Code: NoPermission, Message: You are not authorized to do this action., RequestId: R-1')
})

test('CloudSSO 4xx: `get session token from CloudSSO failed: <message>`, no status inserted first', async () => {
  const home = tempDir('acn-words-home-')
  fs.mkdirSync(path.join(home, '.aliyun'))
  const file = path.join(home, '.aliyun', 'config.json')
  const profile = {
    name: 'sso',
    mode: 'CloudSSO',
    cloud_sso_sign_in_url: `https://127.0.0.1:${tlsServer.port}/login`,
    cloud_sso_account_id: '1',
    cloud_sso_access_config: 'ac',
    access_token: randomSecret('sso'),
    cloud_sso_access_token_expire: Math.floor(Date.now() / 1000) + 3600,
  }
  fs.writeFileSync(file, JSON.stringify({ current: 'sso', profiles: [profile] }), { mode: 0o600 })
  answer = { status: 400, body: { Code: 'InvalidToken', Message: 'the token is invalid' } }
  const r = await both(`CLIProfileCredentialsProvider.builder().withProfileName('sso').build()`, { HOME: home, ALIBABA_CLOUD_CONFIG_FILE: file })
  assertPrefix(r, 'failed: ')
  assert.equal(r.ours.message, 'get session token from CloudSSO failed: Code: InvalidToken, Message: the token is invalid (HTTP 400)')
  for (const body of ['null', '{}', '{"CloudCredential":{}}']) {
    answer = { status: 200, body }
    const r = await both(`CLIProfileCredentialsProvider.builder().withProfileName('sso').build()`, { HOME: home, ALIBABA_CLOUD_CONFIG_FILE: file })
    assert.equal(r.official.message, 'get session token from CloudSSO failed, fail to get credentials', body)
    assert.equal(r.ours.message, r.official.message, body)
  }
})

test('connection refused: the message names ECONNREFUSED and the error carries the code, as the official', async () => {
  const closed = await listen(net.createServer())
  const port = closed.port
  await closed.close()
  const r = await both(`new C(new Config({ type: 'credentials_uri', credentialsURI: 'http://127.0.0.1:${port}/creds' }))`)
  assert.equal(r.official.code, 'ECONNREFUSED')
  assert.equal(r.ours.code, r.official.code)
  // The official's message is Node's (`connect ECONNREFUSED 127.0.0.1:<port>`) with httpx's
  // `GET <url> failed.` glued on; ours starts with Node's words too.
  assertPrefix(r, `ECONNREFUSED 127.0.0.1:${port}`)
})

test('connection reset: the error carries ECONNRESET, as the official', async () => {
  answer = { destroy: true }
  const r = await both(uriExpr())
  assert.equal(r.official.code, 'ECONNRESET')
  assert.equal(r.ours.code, r.official.code)
  assertPrefix(r, 'socket hang up')
})

// The official reaches these only at fixed addresses: its source holds the words.
test('ECS metadata and OAuth: the words of the official source', async () => {
  const ecs = officialSource('providers/ecs_ram_role.js')
  const oauth = officialSource('providers/oauth.js')
  assert.ok(ecs.includes('`get metadata token failed with ${response.statusCode}`'))
  assert.ok(ecs.includes("throw new Error('get sts token failed')"))
  assert.ok(ecs.includes("throw new Error('refresh Ecs sts token err, Code is not Success')"))
  assert.ok(oauth.includes('`get session token from OAuth failed: ${response.body'))
  assert.ok(oauth.includes('`failed to refresh OAuth token, status code: ${response.statusCode}`'))

  const md = { token: { status: 200, body: 'md-token' }, creds: { status: 200, body: 'null' } }
  const mdServer = await listen(
    http.createServer((req, res) => {
      const a = req.method === 'PUT' ? md.token : req.url.endsWith('/security-credentials/') ? { status: 200, body: 'Role' } : md.creds
      res.writeHead(a.status, { 'content-type': 'text/plain' })
      res.end(a.body)
    }),
  )
  const ecsRun = () => both(`new C(new Config({ type: 'ecs_ram_role', disableIMDSv1: true }))`, { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${mdServer.port}` })
  try {
    md.token = { status: 403, body: 'forbidden' }
    assert.equal((await ecsRun()).ours.message, 'get metadata token failed with 403')
    md.token = { status: 200, body: 'md-token' }
    for (const body of ['null', '{}', '{"Code":"Success"}']) {
      md.creds = { status: 200, body }
      assert.equal((await ecsRun()).ours.message, 'get sts token failed', body)
    }
    md.creds = { status: 200, body: JSON.stringify({ Code: 'Failure', AccessKeyId: 'a', AccessKeySecret: 'b', SecurityToken: 'c', Expiration: utc(3600_000) }) }
    assert.equal((await ecsRun()).ours.message, 'refresh Ecs sts token err, Code is not Success')
  } finally {
    await mdServer.close()
  }
})

test('OAuth 4xx: `get session token from OAuth failed: <message>` and `failed to refresh OAuth token, status code: <n>`', async () => {
  // Ours only: the official reaches OAuth at its fixed sign-in site (checked against its source above).
  const home = tempDir('acn-words-home-')
  const file = path.join(home, 'config.json')
  const far = Math.floor(Date.now() / 1000) + 3600
  const profiles = [
    { name: 'exchange', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: randomSecret('r'), oauth_access_token: randomSecret('a'), oauth_access_token_expire: far },
    { name: 'refresh', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: randomSecret('r'), oauth_access_token: randomSecret('a'), oauth_access_token_expire: far - 3500 },
  ]
  fs.writeFileSync(file, JSON.stringify({ current: 'exchange', profiles }), { mode: 0o600 })
  const env = { ALIBABA_CLOUD_CONFIG_FILE: file, ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: `https://127.0.0.1:${tlsServer.port}` }
  answer = { status: 401, body: { error: 'invalid_token', error_description: 'the token expired' } }
  const exchange = await both(`CLIProfileCredentialsProvider.builder().withProfileName('exchange').build()`, env, { official: false })
  assert.equal(exchange.ours.message, 'get session token from OAuth failed: error: invalid_token, error_description: the token expired (HTTP 401)')
  const refresh = await both(`CLIProfileCredentialsProvider.builder().withProfileName('refresh').build()`, env, { official: false })
  assert.equal(refresh.ours.message, 'failed to refresh OAuth token, status code: 401')
})
