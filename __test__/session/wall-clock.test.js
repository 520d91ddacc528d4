'use strict'
// The wall clock decides expiry at every layer: a child process holding a Credential has its
// wall clock moved by libfaketime (its monotonic clock, and so its timers, run on) as a laptop's
// sleep, a VM migration or an NTP step would, and the first call after the jump must see it.
// For each session type: +2 h (past the expiry of a 1 h credential), into the refresh window,
// back 1 h during the backoff after a failed refresh, and a 10 s credential after an idle spell.
// And OAuth tokens written back to the CLI's config.json never replace newer ones (a new login,
// another tool's refresh): the process adopts the file's instead.
// Skipped, saying why, where libfaketime cannot be loaded (not in CI: there it must run).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, tempDir, randomKey } = require('../helpers')
const http = require('node:http')
const { startSts, startMetadata, startUri, listen, readBody } = require('../mocks')
const { findLibfaketime, WallClock, startChild } = require('./faketime')

clearAlibabaEnv()

const lib = findLibfaketime()
// In CI the library is installed (.ci/run): its absence there is a failure, not a skip.
const skip = lib.path || process.env.CI ? false : lib.why
if (skip) console.log(`# wall-clock tests skipped: ${skip}`)

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const HOUR = 3600_000
// The least a credential is handed out with (the safety margin of any lifetime over 4 s), less
// what the child's own call takes between the check and its Date.now().
const MIN_LEFT_MS = 2000 - 100
const REFUSED = { status: 403, body: { Code: 'NoPermission', Message: 'refused by the mock' } }
const dir = tempDir('acn-wall-')
const tokenFile = path.join(dir, 'oidc-token')
fs.writeFileSync(tokenFile, 'oidc-wall-token')

// Each session type: its mock and the Credential config (and environment) that uses it.
const TYPES = {
  async ram_role_arn() {
    const key = randomKey()
    const mock = await startSts({ tls: false, keys: { [key.id]: { secret: key.secret } } })
    const config = { type: 'ram_role_arn', accessKeyId: key.id, accessKeySecret: key.secret, roleArn: 'acs:ram::1:role/wall', roleSessionName: 'wall-clock', stsEndpoint: mock.endpoint }
    return { mock, config, env: {} }
  },
  async oidc_role_arn() {
    const mock = await startSts({ tls: false, oidcToken: 'oidc-wall-token' })
    const config = { type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/wall', oidcProviderArn: 'acs:ram::1:oidc-provider/wall', oidcTokenFilePath: tokenFile, stsEndpoint: mock.endpoint }
    return { mock, config, env: {} }
  },
  async ecs_ram_role() {
    const mock = await startMetadata()
    return { mock, config: { type: 'ecs_ram_role' }, env: { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: mock.url } }
  },
  async credentials_uri() {
    const mock = await startUri()
    return { mock, config: { type: 'credentials_uri', credentialsURI: mock.url }, env: {} }
  },
}
// The provider classes (`getCredentials()`) have a snapshot cache of their own.
const PROVIDER_TYPES = {
  async URICredentialsProvider() {
    const mock = await startUri()
    return { mock, config: { uriProvider: mock.url }, env: {} }
  },
}

// The n of a mock's n-th issued credential, from its AccessKey ID (`STS.issued-3`, `STS.ecs-3`).
const nth = (id) => Number(/(\d+)$/.exec(id)[1])

// Runs `fn` with a child holding a Credential of `type` whose mock issues credentials living
// `lifetimeMs` on the child's clock.
async function session(type, lifetimeMs, fn) {
  if (!lib.path) throw new Error(`libfaketime is required here: ${lib.why}`)
  const clock = new WallClock(lib.path)
  const { mock, config, env } = await (TYPES[type] ?? PROVIDER_TYPES[type])()
  const expiries = clock.drive(mock, lifetimeMs)
  const child = startChild(clock, config, env)
  // Milliseconds a served credential had left on the child's clock when its call returned.
  const left = (served) => {
    assert.ok(!served.error, `${type}: ${served.error}`)
    return expiries.get(nth(served.id)) - served.now
  }
  return runWith(child, mock, () => fn({ clock, mock, child, expiries, left }))
}

// Runs `fn`, then ends `child` and `mock`; a failure carries what the child wrote to stderr.
async function runWith(child, mock, fn) {
  try {
    await fn()
  } catch (e) {
    e.message += `\n(child stderr: ${child.stderr.slice(0, 1000)})`
    throw e
  } finally {
    await child.close()
    await mock.close()
  }
}

async function until(predicate, ms = 5000) {
  const end = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > end) return false
    await sleep(20)
  }
  return true
}

for (const type of Object.keys(TYPES)) {
  test(`${type}: wall clock +2 h past the expiry of a 1 h credential: the next call never gets it`, { skip, timeout: 60_000 }, () =>
    session(type, HOUR, async ({ clock, child, expiries, left }) => {
      const first = await child.get()
      assert.ok(left(first) > 3500_000, `fresh: ${left(first)} ms left`)
      clock.setNow(expiries.get(nth(first.id)) + HOUR)
      const next = await child.get()
      assert.ok(left(next) >= MIN_LEFT_MS, `${type}: after +2 h the first call got ${next.id} with ${left(next)} ms left`)
      assert.notEqual(next.id, first.id)
    }),
  )

  test(`${type}: wall clock moved into the refresh window: the first call starts the refresh, the next call after it lands gets its result`, { skip, timeout: 60_000 }, () =>
    session(type, HOUR, async ({ clock, mock, child, expiries, left }) => {
      const first = await child.get()
      // Ten minutes before expiry: inside every session type's window, far from the margin.
      clock.setNow(expiries.get(nth(first.id)) - 10 * 60_000)
      const next = await child.get()
      assert.ok(left(next) >= MIN_LEFT_MS, `${left(next)} ms left`)
      const started = await until(() => mock.state.issued >= 2)
      assert.ok(started, `${type}: no refresh within 5 s of the first call in the window (issued ${mock.state.issued})`)
      // The answer is sent; give the child a moment to read it, then the next call serves it.
      await sleep(300)
      const after = await child.get()
      assert.equal(nth(after.id), 2, `${type}: the call after the refresh landed got ${after.id}`)
    }),
  )

  test(`${type}: wall clock stepped back 1 h during the backoff after a failed refresh: the backoff is not stretched`, { skip, timeout: 60_000 }, () =>
    session(type, HOUR, async ({ clock, mock, child, left }) => {
      mock.set(REFUSED)
      const failed = await child.get()
      assert.ok(failed.error, `the first call fails: ${JSON.stringify(failed)}`)
      clock.set(-HOUR)
      mock.set({ status: 0 })
      // The first backoff is at most 1 s (jittered): within 8 s a call gets through.
      const end = Date.now() + 8000
      let last
      while (Date.now() < end) {
        last = await child.get()
        if (!last.error) break
        await sleep(200)
      }
      assert.ok(!last.error, `${type}: 8 s after the mock recovered, calls still get: ${last.error}`)
      assert.ok(left(last) > 3500_000, `${left(last)} ms left`)
    }),
  )

  test(`${type}: a 10 s credential after an idle spell is never handed out with under 2 s left`, { skip, timeout: 60_000 }, () =>
    session(type, 10_000, async ({ clock, child, expiries, left }) => {
      const first = await child.get()
      // Idle until 1.5 s before its expiry (a sleep of the machine, or just a quiet spell).
      clock.setNow(expiries.get(nth(first.id)) - 1500)
      const next = await child.get()
      assert.ok(left(next) >= MIN_LEFT_MS, `${type}: after the idle spell the call got ${next.id} with ${left(next)} ms left`)
    }),
  )
}

test('ram_role_arn: the deprecated getters: after the wall clock jumps inside the safety margin, a lone getAccessKeySecret() gets the next credential, never the pinned one', { skip, timeout: 60_000 }, () =>
  session('ram_role_arn', HOUR, async ({ clock, child, expiries }) => {
    const id = await child.call('getAccessKeyId')
    assert.equal(id.value, 'STS.issued-1', id.error)
    // 5 s before expiry: inside the 10 s margin of an hour-long credential, not past expiry.
    clock.setNow(expiries.get(1) - 5000)
    const secret = await child.call('getAccessKeySecret')
    assert.ok(!secret.error, secret.error)
    assert.ok(secret.value !== 'issued-secret-1', 'the pinned secret 5 s before its expiry')
    assert.equal(secret.value, 'issued-secret-2')
    assert.equal((await child.call('getAccessKeyId')).value, 'STS.issued-2')
  }),
)

test('URICredentialsProvider: wall clock +2 h, then into the window: the provider classes see the wall clock at every call', { skip, timeout: 60_000 }, () =>
  session('URICredentialsProvider', HOUR, async ({ clock, mock, child, expiries, left }) => {
    const first = await child.get()
    clock.setNow(expiries.get(nth(first.id)) + HOUR)
    const next = await child.get()
    assert.ok(left(next) >= MIN_LEFT_MS, `after +2 h the first call got ${next.id} with ${left(next)} ms left`)
    clock.setNow(expiries.get(nth(next.id)) - 10 * 60_000)
    await child.get()
    assert.ok(await until(() => mock.state.issued >= 3), `no refresh within 5 s of the first call in the window (issued ${mock.state.issued})`)
    await sleep(300)
    assert.equal(nth((await child.get()).id), 3, 'the refresh is served from the call after it lands')
  }),
)

test('ecs_ram_role with asyncCredentialUpdateEnabled: after a jump past expiry, the background refresher refreshes within 10 s without any call', { skip, timeout: 60_000 }, async () => {
  if (!lib.path) throw new Error(`libfaketime is required here: ${lib.why}`)
  const clock = new WallClock(lib.path)
  const mock = await startMetadata()
  const expiries = clock.drive(mock, HOUR)
  const child = startChild(clock, { type: 'ecs_ram_role', asyncCredentialUpdateEnabled: true }, { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: mock.url })
  await runWith(child, mock, async () => {
    const first = await child.get()
    assert.ok(!first.error, first.error)
    // Let the refresher go to sleep on the monotonic clock, then move the wall clock past expiry.
    await sleep(500)
    const issued = mock.state.issued
    clock.setNow(expiries.get(nth(first.id)) + HOUR)
    const refreshed = await until(() => mock.state.issued > issued, 12_000)
    assert.ok(refreshed, 'the background refresher did not notice the jump within 12 s')
  })
})

test('ecs_ram_role: after the wall clock jumps past the metadata token\'s TTL (6 h), the next refresh fetches a new token', { skip, timeout: 60_000 }, () =>
  session('ecs_ram_role', HOUR, async ({ clock, mock, child, expiries, left }) => {
    const first = await child.get()
    assert.equal(mock.state.tokens, 1)
    // Seven hours on (a VM suspended overnight): the monotonic clock says minutes.
    clock.setNow(expiries.get(nth(first.id)) + 6 * HOUR)
    const next = await child.get()
    assert.ok(left(next) > 3500_000, `${left(next)} ms left`)
    assert.equal(mock.state.tokens, 2, 'a new metadata token for the refresh after the jump')
  }),
)

// ---- OAuth write-back ----

// A mock OAuth service (http: the sign-in URL is ours to set): `/v1/token` trades the live
// refresh token for a new pair (the old one is spent), `/v1/exchange` trades any live access
// token for STS credentials.
async function startOAuth() {
  const state = { accessTokens: new Set(), refreshToken: null, issued: 0, refreshed: 0, exchanges: [] }
  const send = (res, status, o) => {
    const text = JSON.stringify(o)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
  const server = http.createServer(async (req, res) => {
    const body = await readBody(req)
    if (req.method === 'POST' && req.url === '/v1/token') {
      const form = Object.fromEntries(new URLSearchParams(body))
      if (form.grant_type !== 'refresh_token' || form.refresh_token !== state.refreshToken) return send(res, 400, { error: 'invalid_grant' })
      state.refreshed++
      const n = state.refreshed + 1
      state.accessTokens.add(`access-${n}`)
      state.refreshToken = `refresh-${n}`
      return send(res, 200, { access_token: `access-${n}`, refresh_token: `refresh-${n}`, expires_in: 7200 })
    }
    if (req.method === 'POST' && req.url === '/v1/exchange') {
      const bearer = (req.headers.authorization || '').replace(/^Bearer /, '')
      state.exchanges.push(bearer)
      if (!state.accessTokens.has(bearer)) return send(res, 401, { error: 'invalid_token' })
      state.issued++
      const n = state.issued
      return send(res, 200, { accessKeyId: `STS.oauth-${n}`, accessKeySecret: `oauth-secret-${n}`, securityToken: `oauth-token-${n}`, expiration: new Date(Date.now() + state.expiresInMs).toISOString() })
    }
    send(res, 404, {})
  })
  const { close } = await listen(server)
  return { state, url: `http://127.0.0.1:${server.address().port}`, close }
}

// Runs `fn` with a child serving the default chain from an OAuth profile of a config.json whose
// tokens are `access-1` / `refresh-1`, the access token living `accessLifeMs` on the child's clock.
async function oauthSession(accessLifeMs, fn) {
  if (!lib.path) throw new Error(`libfaketime is required here: ${lib.why}`)
  const clock = new WallClock(lib.path)
  const mock = await startOAuth()
  mock.state.accessTokens.add('access-1')
  mock.state.refreshToken = 'refresh-1'
  const expiries = clock.drive(mock, HOUR)
  const file = path.join(tempDir('acn-wall-oauth-'), 'config.json')
  const profile = { name: 'o', mode: 'OAuth', oauth_site_type: 'CN', oauth_access_token: 'access-1', oauth_refresh_token: 'refresh-1', oauth_access_token_expire: Math.floor((clock.now() + accessLifeMs) / 1000) }
  fs.writeFileSync(file, JSON.stringify({ current: 'o', profiles: [profile] }, null, 4), { mode: 0o600 })
  const child = startChild(clock, null, { ALIBABA_CLOUD_CONFIG_FILE: file, ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: mock.url })
  const saved = () => JSON.parse(fs.readFileSync(file, 'utf8')).profiles[0]
  // Another writer of config.json: sets `fields` on the profile.
  const write = (fields) => fs.writeFileSync(file, JSON.stringify({ current: 'o', profiles: [{ ...saved(), ...fields }] }, null, 4))
  return runWith(child, mock, () => fn({ clock, mock, child, expiries, saved, write }))
}

test('OAuth: after the user logs in again, a running process adopts the new tokens at its next refresh and never writes its old ones back', { skip, timeout: 60_000 }, () =>
  oauthSession(3 * HOUR, async ({ clock, mock, child, expiries, saved, write }) => {
    const first = await child.get()
    assert.equal(first.id, 'STS.oauth-1', JSON.stringify(first))
    // `aliyun configure --mode OAuth`: new tokens, the old session revoked.
    mock.state.accessTokens = new Set(['access-9'])
    mock.state.refreshToken = 'refresh-9'
    write({ oauth_access_token: 'access-9', oauth_refresh_token: 'refresh-9', oauth_access_token_expire: Math.floor((clock.now() + 3 * HOUR) / 1000) + 60 })
    // An hour later (the STS credential expired; the old access token would still have 2 h).
    clock.setNow(expiries.get(1) + 60_000)
    const next = await child.get()
    assert.ok(!next.error, `after a new login the process got: ${next.error}`)
    assert.equal(mock.state.exchanges.at(-1), 'access-9', 'exchanged with the new login')
    const p = saved()
    assert.equal(p.oauth_access_token, 'access-9')
    assert.equal(p.oauth_refresh_token, 'refresh-9')
  }),
)

test('OAuth: after another tool refreshed the tokens (spending ours), a running process adopts them and never writes the spent refresh token back', { skip, timeout: 60_000 }, () =>
  oauthSession(90 * 60_000, async ({ clock, mock, child, expiries, saved, write }) => {
    const first = await child.get()
    assert.equal(first.id, 'STS.oauth-1', JSON.stringify(first))
    // Another tool refreshes with refresh-1 (now spent; access-1 stays valid until it expires)
    // and writes access-2 / refresh-2, living 2 h from now, to the file.
    const r = await fetch(`${mock.url}/v1/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=refresh-1&client_id=tool' })
    assert.equal(r.status, 200)
    write({ oauth_access_token: 'access-2', oauth_refresh_token: 'refresh-2', oauth_access_token_expire: Math.floor((clock.now() + 2 * HOUR) / 1000) })
    // An hour later: the STS credential expired; access-1 still has 29 minutes (no refresh due).
    clock.setNow(expiries.get(1) + 60_000)
    const next = await child.get()
    assert.ok(!next.error, next.error)
    const p = saved()
    assert.equal(p.oauth_refresh_token, 'refresh-2', 'the file keeps the live refresh token')
    assert.equal(p.oauth_access_token, 'access-2')
    assert.equal(mock.state.exchanges.at(-1), 'access-2', 'the process adopted the newer tokens')
  }),
)
