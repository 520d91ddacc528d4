'use strict'
// The refresh window from Node: sized to the credential's lifetime with no cliff (a 900 s
// credential is not fetched again every second when STS's clock is a second ahead), refreshed
// in the background so no caller waits after the first, and blips retried inside one refresh.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, randomKey, withEnv, tempDir } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startUri } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const { id: keyId, secret: keySecret } = randomKey()
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
let sessions = 0
const roleConfig = (sts, extra = {}) => ({
  type: 'ram_role_arn',
  accessKeyId: keyId,
  accessKeySecret: keySecret,
  roleArn: 'acs:ram::1:role/window',
  roleSessionName: `window-${process.pid}-${++sessions}`,
  stsEndpoint: sts.endpoint,
  ...extra,
})

test('a 900 s credential is used for about 600 s whether STS is a second ahead or behind', { timeout: 60_000 }, async () => {
  for (const skewMs of [1000, 700, 0, -1000]) {
    const sts = await startSts({ keys: { [keyId]: { secret: keySecret } }, expiresInMs: 900_000 + skewMs })
    try {
      const c = new Credential(roleConfig(sts))
      const fetchedAt = Date.now()
      // Three seconds of steady calls: one request (before, 900.7 s credentials were fetched
      // again every 0.7 s).
      const until = Date.now() + 3000
      while (Date.now() < until) {
        await c.getCredential()
        await sleep(5)
      }
      assert.equal(sts.state.requests.length, 1, `STS ${skewMs} ms off: ${sts.state.requests.length} requests in 3 s`)
      // The next refresh is about two thirds into the life: 600 s after the fetch.
      const d = await c.describe()
      const next = Date.parse(d.nextRefresh) - fetchedAt
      assert.ok(next > 595_000 && next < 605_000, `STS ${skewMs} ms off: next refresh in ${next} ms`)
    } finally {
      await sts.close()
    }
  }
})

test('a credential living 3 s is never handed out within 0.3 s of its expiry', { timeout: 30_000 }, async () => {
  const sts = await startSts({ keys: { [keyId]: { secret: keySecret } }, expiresInMs: 3000 })
  try {
    const c = new Credential(roleConfig(sts))
    const expiries = new Map()
    const until = Date.now() + 5000
    while (Date.now() < until) {
      const r = await c.getCredential()
      const n = Number(r.accessKeyId.split('-')[1])
      // Issued at (just after) the nth request, for 3 s: a lower bound of its expiry.
      if (!expiries.has(n)) expiries.set(n, sts.state.requests[n - 1].at + 3000)
      const left = expiries.get(n) - Date.now()
      assert.ok(left >= 300 - 50, `handed out with ${left} ms left`)
      await sleep(10)
    }
    assert.ok(sts.state.requests.length >= 2)
  } finally {
    await sts.close()
  }
})

// A slow source (400 ms) of credentials living 3 s, called every 20 ms for 7 s: refreshed in the
// background, so only the first call waits. A call that waited for the network takes at least
// the source's 400 ms; one served from the cache takes well under a millisecond.
async function slowestAfterFirst(credential, ms) {
  const first = Date.now()
  await credential.getCredential()
  const firstMs = Date.now() - first
  let slowest = 0
  let calls = 0
  const until = Date.now() + ms
  while (Date.now() < until) {
    const t = Date.now()
    await credential.getCredential()
    slowest = Math.max(slowest, Date.now() - t)
    calls++
    await sleep(20)
  }
  return { firstMs, slowest, calls }
}

test('no caller waits after the first, for every session type', { timeout: 60_000 }, async () => {
  const LIFE = 3000
  const DELAY = 400
  const dir = tempDir('acn-window-')
  const tokenFile = path.join(dir, 'token')
  fs.writeFileSync(tokenFile, 'window-oidc-token')
  const sts = await startSts({ keys: { [keyId]: { secret: keySecret } }, expiresInMs: LIFE })
  const oidcSts = await startSts({ oidcToken: 'window-oidc-token', expiresInMs: LIFE })
  const md = await startMetadata({ expiresInMs: LIFE })
  const uri = await startUri({ expiresInMs: LIFE })
  for (const m of [sts, oidcSts, md, uri]) m.set({ delayMs: DELAY })
  try {
    const credentials = {
      ram_role_arn: new Credential(roleConfig(sts)),
      oidc_role_arn: new Credential({ type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/w', oidcProviderArn: 'acs:ram::1:oidc-provider/w', oidcTokenFilePath: tokenFile, roleSessionName: `w-${process.pid}`, stsEndpoint: oidcSts.endpoint }),
      ecs_ram_role: await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }, () => new Credential({ type: 'ecs_ram_role', roleName: 'EcsRamRoleTest', timeout: 2000 })),
      credentials_uri: new Credential({ type: 'credentials_uri', credentialsURI: uri.url }),
    }
    const results = await Promise.all(Object.entries(credentials).map(async ([type, c]) => [type, await slowestAfterFirst(c, 7000)]))
    for (const [type, r] of results) {
      assert.ok(r.firstMs >= DELAY - 50, `${type}: the first call waited for the source (${r.firstMs} ms)`)
      assert.ok(r.slowest < DELAY, `${type}: a call after the first waited ${r.slowest} ms for the network`)
    }
    // Every type refreshed meanwhile (3 s credentials over 7 s), one request at a time.
    assert.ok(sts.state.requests.length >= 3, `${sts.state.requests.length}`)
    assert.ok(oidcSts.state.requests.length >= 3, `${oidcSts.state.requests.length}`)
    assert.ok(md.state.issued >= 3, `${md.state.issued}`)
    assert.ok(uri.state.requests.length >= 3, `${uri.state.requests.length}`)
  } finally {
    await Promise.all([sts, oidcSts, md, uri].map((m) => m.close()))
  }
})

test('blips are retried inside one refresh: a dropped connection, a 503, STS throttling', { timeout: 30_000 }, async () => {
  const sts = await startSts({ keys: { [keyId]: { secret: keySecret } } })
  try {
    const blips = [
      { dropNext: 1 },
      { failNext: 1 },
      { failNext: 1, failStatus: 400, failBody: { Code: 'Throttling.User', Message: 'Request was denied due to user flow control.' } },
      { failNext: 2, failStatus: 500, failBody: { Code: 'InternalError', Message: 'twice' } },
    ]
    for (const blip of blips) {
      sts.reset()
      sts.set(blip)
      const r = await new Credential(roleConfig(sts)).getCredential()
      assert.match(r.accessKeyId, /^STS\.issued-1$/, JSON.stringify(blip))
      // Every attempt reached the mock: the blips, then the one that succeeded.
      assert.equal(sts.state.requests.length, (blip.dropNext || blip.failNext) + 1, JSON.stringify(blip))
    }
    // Three 503s in a row: two retries, then the caller gets the error.
    sts.reset()
    sts.set({ failNext: 3 })
    await assert.rejects(new Credential(roleConfig(sts)).getCredential(), /503/)
    assert.equal(sts.state.requests.length, 3)
    // A refusal is never retried.
    for (const [status, Code] of [
      [403, 'NoPermission'],
      [404, 'InvalidAccessKeyId.NotFound'],
      [400, 'InvalidParameter'],
    ]) {
      sts.reset()
      sts.set({ failNext: 1, failStatus: status, failBody: { Code, Message: 'no' } })
      await assert.rejects(new Credential(roleConfig(sts)).getCredential(), new RegExp(Code.replace('.', '\\.')))
      assert.equal(sts.state.requests.length, 1, Code)
    }
  } finally {
    await sts.close()
  }
})

test('blips are retried for credentials URIs and the metadata service too', { timeout: 30_000 }, async () => {
  const uri = await startUri()
  const md = await startMetadata({ imdsv2: 'required' })
  try {
    uri.set({ failNext: 1 })
    await new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential()
    assert.equal(uri.state.requests.length, 2)
    uri.set({ dropNext: 1 })
    await new Credential({ type: 'credentials_uri', credentialsURI: `${uri.url}?again` }).getCredential()
    assert.equal(uri.state.requests.length, 4)
    uri.set({ failNext: 1, failStatus: 403 })
    await assert.rejects(new Credential({ type: 'credentials_uri', credentialsURI: `${uri.url}?denied` }).getCredential(), /403/)
    assert.equal(uri.state.requests.length, 5)

    // The token request answers 503: the refresh is tried again and gets through.
    md.set({ failNext: 1 })
    const ecs = await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }, () => new Credential({ type: 'ecs_ram_role', roleName: 'EcsRamRoleTest', disableIMDSv1: true }))
    const r = await ecs.getCredential()
    assert.equal(r.accessKeyId, 'STS.ecs-1')
    assert.equal(md.state.requests.filter((q) => q.method === 'PUT').length, 2)
  } finally {
    await Promise.all([uri.close(), md.close()])
  }
})
