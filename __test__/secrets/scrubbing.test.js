'use strict'
// No secret ever leaves through an error message or a DEBUG log line, whatever a server answers:
// double-encoded JSON, an echo of our request (the security token percent-encoded, form-encoded,
// JSON-escaped), credentials in an error body. Each case runs in a child process with DEBUG
// logging on; every secret is random and is looked for in every form it could take.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const http = require('node:http')
const https = require('node:https')
const { clearAlibabaEnv, isolatedEnv, runNodeAsync, tempDir } = require('../helpers')
const { TEST_CA, listen, readBody, utc, tlsOptions, randomSecret, secretForms, pct } = require('../mocks')

clearAlibabaEnv()

const secret = randomSecret
const forms = secretForms

function assertNoSecret(text, secrets) {
  for (const s of secrets) {
    for (const f of forms(s)) assert.ok(!text.includes(f), `leaked ${JSON.stringify(f)} in:\n${text}`)
  }
}

async function serve(handler, tls = false) {
  const server = tls ? https.createServer(tlsOptions(), handler) : http.createServer(handler)
  const { port, close } = await listen(server)
  return { port, base: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`, close }
}

function send(res, status, text, type = 'application/json') {
  res.writeHead(status, { 'content-type': type })
  res.end(text)
}

// Runs `expr` (an expression giving a credential-like object with getCredential or getCredentials)
// in a child with DEBUG on; returns the child's whole output and the error it printed.
async function failure(expr, env = {}) {
  const code = `
const Credential = require('alicloud-credentials-native')
Promise.resolve().then(() => { const c = ${expr}; return (c.getCredential || c.getCredentials).call(c) })
  .then(() => console.log(JSON.stringify({ ok: true })), (e) => console.log(JSON.stringify({ message: e.message, code: e.code })))`
  const r = await runNodeAsync(code, { env: isolatedEnv({ DEBUG: 'alicloud-credentials*', NODE_EXTRA_CA_CERTS: TEST_CA, ...env }) })
  assert.equal(r.status, 0, r.stderr)
  const line = r.stdout.trim().split('\n').at(-1)
  return { ...JSON.parse(line), all: `${r.stdout}\n${r.stderr}` }
}

function credentialsDoc(s) {
  return { Code: 'Success', AccessKeyId: 'STS.scrub', AccessKeySecret: s.secret, SecurityToken: s.token, Expiration: utc(3600_000) }
}

function someSecrets() {
  return { secret: secret('resp-secret'), token: secret('resp-token') }
}

test('credentials URI answering double-encoded JSON: no secret in the error or the logs', async () => {
  const s = someSecrets()
  const server = await serve((req, res) => send(res, 200, JSON.stringify(JSON.stringify(credentialsDoc(s)))))
  try {
    const r = await failure(`new Credential({ type: 'credentials_uri', credentialsURI: '${server.base}/creds' })`)
    assert.match(r.message, /^get sts token failed/)
    assertNoSecret(r.all, [s.secret, s.token])
  } finally {
    await server.close()
  }
})

test('ECS metadata answering double-encoded JSON: no secret in the error or the logs', async () => {
  const s = someSecrets()
  const server = await serve((req, res) => {
    if (req.method === 'PUT') return send(res, 200, 'md-token', 'text/plain')
    if (req.url.endsWith('/security-credentials/')) return send(res, 200, 'Role', 'text/plain')
    send(res, 200, JSON.stringify(JSON.stringify(credentialsDoc(s))))
  })
  try {
    const r = await failure(`new Credential({ type: 'ecs_ram_role' })`, { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: server.base })
    assert.match(r.message, /^get sts token failed/)
    assertNoSecret(r.all, [s.secret, s.token])
  } finally {
    await server.close()
  }
})

test('STS answering double-encoded JSON: no secret in the error or the logs', async () => {
  const s = someSecrets()
  const server = await serve(async (req, res) => {
    await readBody(req)
    send(res, 200, JSON.stringify(JSON.stringify({ RequestId: 'r', Credentials: credentialsDoc(s) })))
  })
  try {
    const r = await failure(`new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-scrub', accessKeySecret: 'x'.repeat(30), roleArn: 'acs:ram::1:role/r', stsEndpoint: '${server.base}' })`)
    assert.match(r.message, /^refresh RoleArn sts token err/)
    assertNoSecret(r.all, [s.secret, s.token])
  } finally {
    await server.close()
  }
})

test('STS echoing the request (token percent-encoded, form-encoded, JSON-escaped): the token never shows', async () => {
  const token = secret('src-token')
  const akSecret = secret('src-secret')
  for (const status of [400, 403, 500]) {
    const server = await serve(async (req, res) => {
      const body = await readBody(req)
      const form = new URLSearchParams(body)
      form.set('Echo', token) // form-encoded: spaces as '+'
      const message = `echo of ${req.url} ${form.toString()} ${JSON.stringify(token)} ${token}`
      send(res, status, JSON.stringify({ RequestId: 'r-1', Code: 'Gateway.Echo', Message: message, Raw: `${req.url} ${akSecret}` }))
    })
    try {
      const r = await failure(
        `new Credential({ type: 'ram_role_arn', accessKeyId: 'STS.scrub', accessKeySecret: ${JSON.stringify(akSecret)}, securityToken: ${JSON.stringify(token)}, roleArn: 'acs:ram::1:role/r', stsEndpoint: '${server.base}' })`,
      )
      assert.match(r.message, new RegExp(`^refresh session token failed: HTTP ${status}, Code: Gateway\\.Echo`))
      assert.equal(r.code, 'ERR_CREDENTIALS_STS')
      assertNoSecret(r.all, [token, akSecret])
    } finally {
      await server.close()
    }
  }
})

test('STS echoing the token re-encoded by another encoder, or cut by the message length limit: no part of it shows', async () => {
  const token = secret('src-token')
  const akSecret = secret('src-secret')
  // Lower-case hex on every other escape: what a gateway's own encoder may write.
  const mixedCase = (s) => {
    let n = 0
    return pct(s).replace(/%[0-9A-F]{2}/g, (e) => (n++ % 2 ? e : e.toLowerCase()))
  }
  const variants = [
    ['encodeURI', (url) => encodeURI(token)],
    ['mixed-case hex', (url) => mixedCase(token)],
    ['our query encoded again', (url) => encodeURIComponent(url)],
    ['cut by the length limit', (url) => `${'x'.repeat(280)}${token}`],
  ]
  for (const [name, echo] of variants) {
    let shown = ''
    const server = await serve(async (req, res) => {
      await readBody(req)
      shown = echo(req.url)
      send(res, 400, JSON.stringify({ RequestId: 'r-2', Code: 'Gateway.Echo', Message: shown }))
    })
    try {
      const r = await failure(
        `new Credential({ type: 'ram_role_arn', accessKeyId: 'STS.scrub', accessKeySecret: ${JSON.stringify(akSecret)}, securityToken: ${JSON.stringify(token)}, roleArn: 'acs:ram::1:role/r', stsEndpoint: '${server.base}' })`,
      )
      assert.match(r.message, /^refresh session token failed: /, name)
      assertNoSecret(r.all, [token, akSecret])
      if (name.startsWith('cut')) {
        // The first characters of the random part (after the tag) must not survive the cut.
        assert.ok(!r.all.includes(token.slice(0, 'src-token-'.length + 8)), `${name}: ${r.message}`)
      } else if (name.startsWith('our query')) {
        assert.ok(shown.includes(encodeURIComponent(pct(token))), 'the echo holds the token')
        assert.ok(!r.all.includes(encodeURIComponent(pct(token))), `${name}: ${r.message}`)
      } else {
        assert.ok(!r.all.includes(shown), `${name}: ${r.message}`)
      }
    } finally {
      await server.close()
    }
  }
})

test('credentials URI with a password in it: the server echoing it (raw, decoded, in its Basic header) shows none of it', async () => {
  // Base64 and hex only: a URL's userinfo has its own escaping rules, not under test here.
  const password = `pw-${crypto.randomBytes(18).toString('hex')}`
  const query = secret('query')
  const server = await serve((req, res) => {
    const auth = req.headers.authorization || ''
    const basic = auth.replace(/^Basic /, '')
    const decoded = Buffer.from(basic, 'base64').toString('utf8')
    send(res, 401, JSON.stringify({ Code: 'Unauthorized', Message: `got ${auth} (${decoded}) for ${req.url}` }))
  })
  try {
    const uri = `http://agent:${password}@127.0.0.1:${server.port}/creds?token=${encodeURIComponent(query)}`
    const r = await failure(`new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(uri)} })`)
    assert.match(r.message, /^get sts token failed, httpStatus: 401, message = Code: Unauthorized/)
    const basic = Buffer.from(`agent:${password}`).toString('base64')
    assertNoSecret(r.all, [password, query, basic])
  } finally {
    await server.close()
  }
})

test('OIDC: STS echoing the form: the OIDC token never shows', async () => {
  const dir = tempDir('acn-scrub-')
  const oidc = secret('oidc')
  const file = path.join(dir, 'token')
  fs.writeFileSync(file, oidc)
  const server = await serve(async (req, res) => {
    const body = await readBody(req)
    send(res, 400, JSON.stringify({ Code: 'AuthenticationFail.OIDCToken.Invalid', Message: `bad token in ${body} ${JSON.stringify(oidc)}` }))
  })
  try {
    const r = await failure(
      `new Credential({ type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/r', oidcProviderArn: 'acs:ram::1:oidc-provider/p', oidcTokenFilePath: ${JSON.stringify(file)}, stsEndpoint: '${server.base}' })`,
    )
    assert.match(r.message, /^get sts token failed with OIDC: /)
    assertNoSecret(r.all, [oidc])
  } finally {
    await server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('credentials URI and ECS: a non-200 body is never quoted', async () => {
  const s = someSecrets()
  const bodies = [
    ['application/json', JSON.stringify(credentialsDoc(s))],
    ['text/plain', `upstream said ${s.secret} and ${s.token}`],
    ['application/json', JSON.stringify({ Code: 'Oops', Message: 'try later', Detail: s.secret })],
  ]
  for (const [type, body] of bodies) {
    const server = await serve((req, res) => {
      if (req.method === 'PUT') return send(res, 200, 'md-token', 'text/plain')
      if (req.url.endsWith('/security-credentials/')) return send(res, 200, 'Role', 'text/plain')
      send(res, 500, body, type)
    })
    try {
      const u = await failure(`new Credential({ type: 'credentials_uri', credentialsURI: '${server.base}/creds' })`)
      assert.match(u.message, /^get sts token failed, httpStatus: 500, message = /)
      assertNoSecret(u.all, [s.secret, s.token])
      const e = await failure(`new Credential({ type: 'ecs_ram_role' })`, { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: server.base })
      assert.match(e.message, /^get sts token failed, httpStatus: 500, message = /)
      assertNoSecret(e.all, [s.secret, s.token])
    } finally {
      await server.close()
    }
  }
})

test('CloudSSO and OAuth: error bodies echoing the access token, or holding credentials, are scrubbed', async () => {
  const dir = tempDir('acn-scrub-')
  const access = secret('access')
  const refresh = secret('refresh')
  const s = someSecrets()
  let mode = 'echo'
  const server = await serve(async (req, res) => {
    const body = await readBody(req)
    if (mode === 'echo') {
      const auth = req.headers.authorization || ''
      return send(res, 400, JSON.stringify({ Code: 'InvalidToken', Message: `refused ${auth} ${encodeURIComponent(access)} ${body}`, error: 'invalid_grant', error_description: `bad ${body}` }))
    }
    if (mode === 'creds') return send(res, 500, JSON.stringify({ ...credentialsDoc(s), accessKeySecret: s.secret, securityToken: s.token }))
    return send(res, 200, JSON.stringify(JSON.stringify({ CloudCredential: credentialsDoc(s), ...credentialsDoc(s), access_token: s.secret, refresh_token: s.token })))
  }, true)
  const far = Math.floor(Date.now() / 1000) + 3600
  const profiles = [
    { name: 'sso', mode: 'CloudSSO', cloud_sso_sign_in_url: `${server.base}/login`, cloud_sso_account_id: '1', cloud_sso_access_config: 'ac', access_token: access, cloud_sso_access_token_expire: far },
    // access token near expiry: /v1/token first (sends the refresh token)
    { name: 'oauth-refresh', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: refresh, oauth_access_token: access, oauth_access_token_expire: far - 3500 },
    // access token fresh: /v1/exchange directly (sends the access token)
    { name: 'oauth-exchange', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: refresh, oauth_access_token: access, oauth_access_token_expire: far },
  ]
  const file = path.join(dir, 'config.json')
  fs.writeFileSync(file, JSON.stringify({ current: 'sso', profiles }), { mode: 0o600 })
  const expected = {
    sso: /^get session token from CloudSSO failed/,
    'oauth-refresh': /^failed to refresh OAuth token/,
    'oauth-exchange': /^get session token from OAuth failed|^refresh session token from OAuth failed/,
  }
  try {
    for (const m of ['echo', 'creds', 'double']) {
      mode = m
      for (const p of profiles) {
        const r = await failure(`Credential.CLIProfileCredentialsProvider.builder().withProfileName('${p.name}').build()`, {
          ALIBABA_CLOUD_CONFIG_FILE: file,
          ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: server.base,
        })
        assert.match(r.message || '', expected[p.name], `${m} ${p.name}: ${r.message}`)
        assertNoSecret(r.all, [access, refresh, s.secret, s.token])
      }
    }
  } finally {
    await server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('property: 60 random hostile answers from a credentials URI and STS never reveal a secret', async () => {
  // The URI's query token and the STS security token are secrets the package knows; the
  // credentials in a response are secrets it reads. A random answer plants them, in a random
  // form, in random places of a random document under a random status.
  const Credential = require('alicloud-credentials-native')
  const random = require('../helpers').seededRandom('hostile answers')
  const pick = (list) => list[random.int(list.length)]
  let answer = { status: 200, body: '' }
  const server = await serve(async (req, res) => {
    await readBody(req)
    send(res, answer.status, answer.body)
  })
  let n = 0
  const mixedCase = (s) => pct(s).replace(/%[0-9A-F]{2}/g, (e) => (n++ % 2 ? e : e.toLowerCase()))
  const asciiJson = (s) => JSON.stringify(s).slice(1, -1).replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
  const encodings = [
    (s) => s,
    (s) => JSON.stringify(s).slice(1, -1),
    (s) => encodeURIComponent(s),
    (s) => new URLSearchParams({ x: s }).toString().slice(2),
    (s) => JSON.stringify(JSON.stringify(s)).slice(1, -1),
    (s) => encodeURI(s),
    mixedCase,
    (s) => encodeURIComponent(pct(s)),
    asciiJson,
    // long enough that a quoted Message is cut in the middle of it
    (s) => `${'p'.repeat(random.int(240, 300))}${s}`,
  ]
  const shapes = [
    (p, c) => ({ Code: 'Success', AccessKeyId: 'STS.p', AccessKeySecret: c.secret, SecurityToken: c.token, Expiration: pick([p, 'bad', utc(3600_000), '']) }),
    (p, c) => JSON.stringify({ Credentials: { AccessKeySecret: c.secret, SecurityToken: c.token, AccessKeyId: p } }),
    (p) => ({ Code: pick([p, 'Err']), Message: `echo ${p}`, RequestId: p }),
    (p, c) => ({ Credentials: { AccessKeyId: 1, AccessKeySecret: c.secret, SecurityToken: [p], Expiration: p } }),
    (p) => `plain text ${p}`,
    (p, c) => [p, c.secret],
    (p) => ({ error: 'invalid_grant', error_description: p, Message: p }),
  ]
  try {
    for (let i = 0; i < 60; i++) {
      const query = secret('query')
      const token = secret('sts-token')
      const akSecret = secret('ak-secret')
      const c = { secret: secret('resp-secret'), token: secret('resp-token') }
      // Planted: a secret this credential was configured with (one it cannot know is just text).
      const configured = i % 2 ? [query] : [token, akSecret]
      const plantedSecret = pick(configured)
      const planted = pick(encodings)(plantedSecret)
      const shape = pick(shapes)(planted, c)
      const body = typeof shape === 'string' ? shape : JSON.stringify(shape)
      answer = { status: pick([200, 200, 400, 403, 404, 500, 503]), body: pick([body, JSON.stringify(body)]) }
      const credential = i % 2
        ? new Credential({ type: 'credentials_uri', credentialsURI: `${server.base}/creds?token=${encodeURIComponent(query)}&i=${i}` })
        : new Credential({ type: 'ram_role_arn', accessKeyId: `STS.p${i}`, accessKeySecret: akSecret, securityToken: token, roleArn: 'acs:ram::1:role/r', stsEndpoint: server.base })
      const known = [...configured, c.secret, c.token]
      try {
        await credential.getCredential()
      } catch (e) {
        assertNoSecret(`${e.message} ${e.code}`, known)
        // The planted form itself, and (where a limit cut it) its random beginning.
        assert.ok(!e.message.includes(planted.replace(/^p+/, '')), `planted ${JSON.stringify(planted)} shows in ${e.message}`)
        assert.ok(!e.message.includes(plantedSecret.slice(0, plantedSecret.lastIndexOf('-') + 9)), `the beginning of a secret shows in ${e.message}`)
        continue
      }
      assert.equal(answer.status, 200, 'only a 200 can succeed')
    }
  } finally {
    await server.close()
  }
})
