'use strict'
// ChainableRamRoleArn chains from outside data: followed to the documented depth, refused beyond it
// and on loops without ever crashing the process (each hostile case runs in a child process, so a
// crash fails the test instead of the runner); the real User-Agent on every entry path.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { isolatedEnv, runNodeAsync, tempDir, randomKey } = require('../helpers')
const { TEST_CA, startSts } = require('../mocks')

const MAX_ROLE_CHAIN = 32
const dir = tempDir('acn-chains-')
const { id: keyId, secret: keySecret } = randomKey()

let sts
test.before(async () => {
  sts = await startSts({ keys: { [keyId]: { secret: keySecret } } })
})
test.after(() => sts.close())

// `depth` ChainableRamRoleArn profiles p0 -> p1 -> ... -> p{depth-1}, then an AK profile.
function chainConfig(depth) {
  const profiles = []
  for (let i = 0; i < depth; i++) {
    profiles.push({ name: `p${i}`, mode: 'ChainableRamRoleArn', source_profile: `p${i + 1}`, ram_role_arn: `acs:ram::1:role/r${i}`, sts_endpoint: sts.endpoint })
  }
  profiles.push({ name: `p${depth}`, mode: 'AK', access_key_id: keyId, access_key_secret: keySecret })
  const file = path.join(dir, `chain-${depth}.json`)
  fs.writeFileSync(file, JSON.stringify({ current: 'p0', profiles }), { mode: 0o600 })
  return file
}

// Runs `code` in a child with the config file; resolves to its exit, signal and printed JSON.
async function child(code, configFile) {
  const env = isolatedEnv({ ALIBABA_CLOUD_CONFIG_FILE: configFile, NODE_EXTRA_CA_CERTS: TEST_CA })
  const r = await runNodeAsync(code, { env, timeout: 60000 })
  return { ...r, out: r.stdout.trim() ? JSON.parse(r.stdout.trim().split('\n').pop()) : null }
}

const viaDefaultChain = `
const Credential = require('alicloud-credentials-native')
new Credential().getCredential().then(
  (c) => console.log(JSON.stringify({ ok: c.providerName })),
  (e) => console.log(JSON.stringify({ error: e.message, code: e.code })))`

const viaCliProvider = `
const { CLIProfileCredentialsProvider } = require('alicloud-credentials-native')
CLIProfileCredentialsProvider.builder().build().getCredentials().then(
  (c) => console.log(JSON.stringify({ ok: c.providerName })),
  (e) => console.log(JSON.stringify({ error: e.message, code: e.code })))`

test(`a chain of ${MAX_ROLE_CHAIN} roles is followed: each AssumeRole signed with the previous one's credentials`, async () => {
  sts.reset()
  const r = await child(viaCliProvider, chainConfig(MAX_ROLE_CHAIN))
  assert.ok(!r.signal, `killed by ${r.signal}`)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.out.ok, `cli_profile/${'ram_role_arn/'.repeat(MAX_ROLE_CHAIN)}static_ak`)
  const requests = sts.state.requests
  assert.equal(requests.length, MAX_ROLE_CHAIN)
  assert.equal(requests[0].query.AccessKeyId, keyId)
  assert.equal(requests[0].form.RoleArn, `acs:ram::1:role/r${MAX_ROLE_CHAIN - 1}`)
  for (let i = 1; i < MAX_ROLE_CHAIN; i++) {
    assert.equal(requests[i].query.AccessKeyId, `STS.issued-${i}`)
  }
  assert.equal(requests[MAX_ROLE_CHAIN - 1].form.RoleArn, 'acs:ram::1:role/r0')
})

for (const depth of [MAX_ROLE_CHAIN + 1, 1000]) {
  for (const [how, code] of [['the default chain', viaDefaultChain], ['CLIProfileCredentialsProvider', viaCliProvider]]) {
    test(`a chain ${depth} deep through ${how} is a clear error, not a crash, and sends nothing`, async () => {
      sts.reset()
      const r = await child(code, chainConfig(depth))
      assert.ok(!r.signal, `the process was killed by ${r.signal}`)
      assert.equal(r.status, 0, r.stderr)
      assert.match(r.out.error, new RegExp(`the source_profile chain from 'p0' assumes more than ${MAX_ROLE_CHAIN} roles \\(at 'p${MAX_ROLE_CHAIN}'\\)`))
      assert.equal(sts.state.requests.length, 0)
    })
  }
}

test('a loop of 500 profiles is an error naming the loop, not a crash', async () => {
  const profiles = []
  for (let i = 0; i < 500; i++) profiles.push({ name: `p${i}`, mode: 'ChainableRamRoleArn', source_profile: `p${(i + 1) % 500}`, ram_role_arn: 'r' })
  const file = path.join(dir, 'loop.json')
  fs.writeFileSync(file, JSON.stringify({ current: 'p0', profiles }))
  const r = await child(viaCliProvider, file)
  assert.ok(!r.signal, `killed by ${r.signal}`)
  assert.equal(r.status, 0, r.stderr)
  assert.equal(r.out.code, 'ERR_CREDENTIALS_PROFILE')
  assert.match(r.out.error, /^(source_profile cycle: p0 -> p1 -> |the source_profile chain from 'p0' assumes more than)/)
})

test('the User-Agent names the runtime when a provider builder is the first entry used', async () => {
  sts.reset()
  const code = `
const Credential = require('alicloud-credentials-native')
const { RAMRoleARNCredentialsProvider, StaticAKCredentialsProvider } = Credential
const source = StaticAKCredentialsProvider.builder().withAccessKeyId(${JSON.stringify(keyId)}).withAccessKeySecret(${JSON.stringify(keySecret)}).build()
const provider = RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(source)
  .withRoleArn('acs:ram::1:role/builder').withStsEndpoint(${JSON.stringify(sts.endpoint)}).build()
provider.getCredentials().then(async () => {
  const config = { type: 'ram_role_arn', accessKeyId: ${JSON.stringify(keyId)}, accessKeySecret: ${JSON.stringify(keySecret)},
    roleArn: 'acs:ram::1:role/config', stsEndpoint: ${JSON.stringify(sts.endpoint)} }
  await new Credential(config).getCredential()
  console.log(JSON.stringify({ ok: process.version }))
}, (e) => console.log(JSON.stringify({ error: e.message })))`
  const r = await child(code, path.join(dir, 'none.json'))
  assert.equal(r.status, 0, r.stderr)
  const version = r.out.ok
  assert.ok(version, JSON.stringify(r.out))
  assert.deepEqual(sts.state.requests.map((q) => q.form.RoleArn), ['acs:ram::1:role/builder', 'acs:ram::1:role/config'])
  for (const q of sts.state.requests) {
    assert.match(q.headers['user-agent'], new RegExp(`^alicloud-credentials-native/\\S+ \\(\\w+; \\w+\\) Node\\.js/${version.replace(/\./g, '\\.')}$`))
  }
})
