'use strict'
// One session per identity per process: credentials and providers with the same effective
// description share one cache and one refresh in flight, across worker threads; different
// identities never share; one object's close() or a worker's exit never disturbs another.

const test = require('node:test')
const assert = require('node:assert/strict')
const { Worker } = require('node:worker_threads')
const { ROOT, clearAlibabaEnv, randomKey } = require('../helpers')
const { TEST_CA, startSts, startMetadata } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')
const { ECSRAMRoleCredentialsProvider } = Credential

const keys = { a: randomKey(), b: randomKey() }

let sts
test.before(async () => {
  sts = await startSts({ keys: { [keys.a.id]: { secret: keys.a.secret }, [keys.b.id]: { secret: keys.b.secret } } })
})
test.after(() => sts.close())
test.beforeEach(() => sts.reset())

let identities = 0
// A config no other test uses (its own session name), with the given overrides.
function roleConfig(extra = {}) {
  return {
    type: 'ram_role_arn',
    accessKeyId: keys.a.id,
    accessKeySecret: keys.a.secret,
    roleArn: 'acs:ram::1:role/shared',
    roleSessionName: `sharing-${++identities}`,
    stsEndpoint: sts.endpoint,
    ...extra,
  }
}

test('200 new Credentials with one config make one AssumeRole request', async () => {
  const config = roleConfig()
  const seen = new Set()
  for (let i = 0; i < 200; i++) {
    const r = await new Credential(config).getCredential()
    seen.add(r.accessKeyId)
  }
  assert.equal(sts.state.requests.length, 1)
  assert.equal(seen.size, 1)
})

test('different identities never share: another secret, role, session name or endpoint', async () => {
  const base = roleConfig()
  const variants = [
    base,
    { ...base, accessKeyId: keys.b.id, accessKeySecret: keys.b.secret },
    { ...base, roleArn: 'acs:ram::1:role/other' },
    { ...base, roleSessionName: `${base.roleSessionName}-other` },
    { ...base, policy: '{"Statement":[]}' },
  ]
  const ids = []
  for (const config of variants) ids.push((await new Credential(config).getCredential()).accessKeyId)
  assert.equal(sts.state.requests.length, variants.length)
  assert.equal(new Set(ids).size, variants.length)
  // The signed requests carry each identity's own source key.
  assert.equal(sts.state.requests[1].query.AccessKeyId, keys.b.id)
})

test('a Credential and a provider class of one identity share too', async () => {
  const config = roleConfig()
  await new Credential(config).getCredential()
  const { RAMRoleARNCredentialsProvider, StaticAKCredentialsProvider } = Credential
  const source = StaticAKCredentialsProvider.builder().withAccessKeyId(config.accessKeyId).withAccessKeySecret(config.accessKeySecret).build()
  const provider = RAMRoleARNCredentialsProvider.builder()
    .withCredentialsProvider(source)
    .withRoleArn(config.roleArn)
    .withRoleSessionName(config.roleSessionName)
    .withStsEndpoint(config.stsEndpoint)
    .build()
  await provider.getCredentials()
  assert.equal(sts.state.requests.length, 1)
})

function runWorker(config, callers, { exitEarly = false } = {}) {
  const src = `
const { workerData, parentPort } = require('node:worker_threads')
const Credential = require(workerData.root)
const c = new Credential(workerData.config)
const all = Promise.all(Array.from({ length: workerData.callers }, () => c.getCredential()))
if (workerData.exitEarly) parentPort.postMessage({ started: true })
else all.then((rs) => parentPort.postMessage({ ids: [...new Set(rs.map((r) => r.accessKeyId))] }), (e) => parentPort.postMessage({ error: e.message }))
`
  const worker = new Worker(src, { eval: true, workerData: { root: ROOT, config, callers, exitEarly } })
  const message = new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  return { worker, message }
}

test('8 worker threads x 100 cold callers make one AssumeRole request', async () => {
  sts.set({ delayMs: 200 })
  try {
    const config = roleConfig()
    const workers = Array.from({ length: 8 }, () => runWorker(config, 100))
    const answers = await Promise.all(workers.map((w) => w.message))
    await Promise.all(workers.map((w) => w.worker.terminate()))
    for (const a of answers) assert.equal(a.error, undefined, a.error)
    assert.equal(new Set(answers.flatMap((a) => a.ids)).size, 1)
    assert.equal(sts.state.requests.length, 1)
  } finally {
    sts.set({ delayMs: 0 })
  }
})

test("a worker's exit, even with the shared refresh in flight, does not disturb the others", async () => {
  sts.set({ delayMs: 400 })
  try {
    const config = roleConfig()
    const early = runWorker(config, 10, { exitEarly: true })
    await early.message
    // The worker started the one refresh; it goes away while the request is in flight.
    // This thread's credential lives to the end: an identity is shared while someone holds it.
    const mine = new Credential(config)
    const waiting = mine.getCredential()
    await early.worker.terminate()
    const r = await waiting
    assert.match(r.accessKeyId, /^STS\.issued-\d+$/)
    const later = runWorker(config, 5)
    const answer = await later.message
    await later.worker.terminate()
    assert.deepEqual(answer.ids, [r.accessKeyId])
    assert.equal(sts.state.requests.length, 1)
    assert.equal((await mine.getCredential()).accessKeyId, r.accessKeyId)
  } finally {
    sts.set({ delayMs: 0 })
  }
})

test("one provider's close() does not stop another's credentials", async () => {
  const md = await startMetadata({ roleName: 'SharedRole' })
  const saved = process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT
  process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = md.url
  try {
    const build = () => ECSRAMRoleCredentialsProvider.builder().withRoleName('SharedRole').build()
    const first = build()
    const second = build()
    const a = await first.getCredentials()
    first.close()
    const b = await second.getCredentials()
    assert.equal(b.accessKeyId, a.accessKeyId)
    const credentialRequests = md.state.requests.filter((r) => r.path.endsWith('/SharedRole'))
    assert.equal(credentialRequests.length, 1)
  } finally {
    process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = saved
    await md.close()
  }
})

test('the default chain shares what it resolved: same OIDC environment, one request; another session name, another', async () => {
  const { tempDir, withEnv } = require('../helpers')
  const tokenFile = require('node:path').join(tempDir('acn-share-oidc-'), 'token')
  require('node:fs').writeFileSync(tokenFile, require('node:crypto').randomBytes(24).toString('base64url'))
  const oidcEnv = (session) => ({
    ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1:role/chain-shared',
    ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1:oidc-provider/chain',
    ALIBABA_CLOUD_OIDC_TOKEN_FILE: tokenFile,
    ALIBABA_CLOUD_ROLE_SESSION_NAME: session,
    ALIBABA_CLOUD_STS_ENDPOINT: sts.endpoint,
  })
  await withEnv(oidcEnv(`chain-${++identities}`), async () => {
    const a = await new Credential().getCredential()
    const b = await new Credential().getCredential()
    assert.equal(sts.state.requests.length, 1)
    assert.equal(a.accessKeyId, b.accessKeyId)
  })
  await withEnv(oidcEnv(`chain-${++identities}`), async () => {
    await new Credential().getCredential()
    assert.equal(sts.state.requests.length, 2, 'another session name is another identity')
  })
})
