'use strict'
// The exported provider classes: builders, official messages, results, composition.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const util = require('node:util')
const { clearAlibabaEnv, withEnv, tempDir } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startUri } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')
const Official = require('@alicloud/credentials')

const NAMES = [
  'DefaultCredentialsProvider',
  'StaticAKCredentialsProvider',
  'StaticSTSCredentialsProvider',
  'RAMRoleARNCredentialsProvider',
  'OIDCRoleArnCredentialsProvider',
  'ECSRAMRoleCredentialsProvider',
  'URICredentialsProvider',
  'EnvironmentVariableCredentialsProvider',
  'ProfileCredentialsProvider',
  'CLIProfileCredentialsProvider',
]

const dir = tempDir('acn-providers-')
let sts
test.before(async () => {
  sts = await startSts({ keys: { 'LTAI-prov': { secret: 'prov-secret' }, 'LTAI-js': { secret: 'js-secret' } } })
})
test.after(() => sts.close())

test('every official provider class is exported with builder(), and the official setters', () => {
  for (const name of NAMES) {
    assert.equal(typeof Credential[name], 'function', name)
    assert.equal(typeof Credential[name].builder, 'function', name)
    const ours = Credential[name].builder()
    const theirs = Official[name].builder()
    const officialSetters = Object.getOwnPropertyNames(Object.getPrototypeOf(theirs)).filter((m) => m.startsWith('with'))
    for (const setter of officialSetters) assert.equal(typeof ours[setter], 'function', `${name}.builder().${setter}`)
    assert.equal(typeof ours.build, 'function')
  }
  assert.throws(() => new Credential.StaticAKCredentialsProvider({}), /use StaticAKCredentialsProvider\.builder\(\)\.build\(\)/)
})

test('builders throw the official messages for missing fields', async () => {
  const cases = [
    [() => Credential.StaticAKCredentialsProvider.builder().build(), () => Official.StaticAKCredentialsProvider.builder().build()],
    [() => Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('a').build(), () => Official.StaticAKCredentialsProvider.builder().withAccessKeyId('a').build()],
    [() => Credential.StaticSTSCredentialsProvider.builder().withAccessKeyId('a').withAccessKeySecret('b').build(), () => Official.StaticSTSCredentialsProvider.builder().withAccessKeyId('a').withAccessKeySecret('b').build()],
    [() => Credential.RAMRoleARNCredentialsProvider.builder().withRoleArn('r').build(), () => Official.RAMRoleARNCredentialsProvider.builder().withRoleArn('r').build()],
    [
      () => Credential.RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('a').withAccessKeySecret('b').build()).build(),
      () => Official.RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(Official.StaticAKCredentialsProvider.builder().withAccessKeyId('a').withAccessKeySecret('b').build()).build(),
    ],
    [
      () => Credential.RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('a').withAccessKeySecret('b').build()).withRoleArn('r').withDurationSeconds(100).build(),
      () => Official.RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(Official.StaticAKCredentialsProvider.builder().withAccessKeyId('a').withAccessKeySecret('b').build()).withRoleArn('r').withDurationSeconds(100).build(),
    ],
    [() => Credential.OIDCRoleArnCredentialsProvider.builder().build(), () => Official.OIDCRoleArnCredentialsProvider.builder().build()],
    [() => Credential.OIDCRoleArnCredentialsProvider.builder().withRoleArn('r').build(), () => { const b = Official.OIDCRoleArnCredentialsProvider.builder(); b.withRoleArn('r'); return b.build() }],
    [
      () => Credential.OIDCRoleArnCredentialsProvider.builder().withRoleArn('r').withOIDCProviderArn('p').build(),
      () => { const b = Official.OIDCRoleArnCredentialsProvider.builder(); b.withRoleArn('r'); b.withOIDCProviderArn('p'); return b.build() },
    ],
  ]
  for (const [ours, theirs] of cases) {
    let expected
    try {
      theirs()
    } catch (e) {
      expected = e.message
    }
    assert.ok(expected, 'the official builder throws')
    assert.throws(ours, (e) => {
      assert.equal(e.message, expected)
      assert.equal(typeof e.code, 'string')
      return true
    })
  }
  await withEnv({ ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true' }, () => {
    assert.throws(() => Credential.ECSRAMRoleCredentialsProvider.builder().build(), { message: 'IMDS credentials is disabled' })
  })
  await withEnv({ ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' }, () => {
    assert.throws(() => Credential.CLIProfileCredentialsProvider.builder().build(), { message: 'the CLI profile is disabled' })
  })
  assert.throws(() => Credential.URICredentialsProvider.builder().build(), /credentials URI is empty/)
  assert.throws(() => Credential.StaticAKCredentialsProvider.builder().withAccessKeyId(42), { name: 'TypeError', message: /withAccessKeyId\(\): "accessKeyId" must be of type string/ })
})

test('getCredentials() and getProviderName() match the official shape', async () => {
  const ours = Credential.StaticSTSCredentialsProvider.builder().withAccessKeyId('i').withAccessKeySecret('s').withSecurityToken('t').build()
  const theirs = Official.StaticSTSCredentialsProvider.builder().withAccessKeyId('i').withAccessKeySecret('s').withSecurityToken('t').build()
  assert.deepEqual(await ours.getCredentials(), { ...(await theirs.getCredentials()) })
  assert.equal(ours.getProviderName(), theirs.getProviderName())
  const ak = Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('i').withAccessKeySecret('s').build()
  const akOfficial = Official.StaticAKCredentialsProvider.builder().withAccessKeyId('i').withAccessKeySecret('s').build()
  assert.deepEqual(Object.keys(await ak.getCredentials()), Object.keys(await akOfficial.getCredentials()))
  await withEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-i', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 'env-s' }, async () => {
    const env = Credential.EnvironmentVariableCredentialsProvider.builder().build()
    assert.deepEqual(await env.getCredentials(), { accessKeyId: 'env-i', accessKeySecret: 'env-s', securityToken: undefined, providerName: 'env' })
    const chain = Credential.DefaultCredentialsProvider.builder().build()
    assert.equal((await chain.getCredentials()).providerName, 'default/env')
    assert.equal(chain.getProviderName(), 'default')
  })
  assert.equal(util.inspect(ours), "StaticSTSCredentialsProvider { providerName: 'static_sts' }")
  assert.equal(JSON.stringify(ours), '{"providerName":"static_sts"}')
})

test('a RAM role provider over a CLI profile provider, natively', async () => {
  sts.reset()
  const config = path.join(dir, 'config.json')
  fs.writeFileSync(config, JSON.stringify({ current: 'p', profiles: [{ name: 'p', mode: 'AK', access_key_id: 'LTAI-prov', access_key_secret: 'prov-secret' }] }))
  await withEnv({ ALIBABA_CLOUD_CONFIG_FILE: config }, async () => {
    const cli = Credential.CLIProfileCredentialsProvider.builder().withProfileName('p').build()
    const role = Credential.RAMRoleARNCredentialsProvider.builder()
      .withCredentialsProvider(cli)
      .withRoleArn('acs:ram::1:role/over-cli')
      .withRoleSessionName('over-cli')
      .withStsEndpoint(sts.endpoint)
      .withExternalId('ext')
      .build()
    assert.equal(role.getProviderName(), 'ram_role_arn/cli_profile')
    const r = await role.getCredentials()
    assert.equal(r.providerName, 'ram_role_arn/cli_profile')
    assert.equal(sts.state.requests[0].headers['x-acs-credentials-provider'], 'cli_profile/static_ak')
    const credential = new Credential(null, role)
    const model = await credential.getCredential()
    assert.equal(model.type, 'ram_role_arn/cli_profile')
    assert.equal(model.accessKeyId, r.accessKeyId)
  })
})

test('a RAM role provider over a JavaScript provider', async () => {
  sts.reset()
  let calls = 0
  const vault = {
    async getCredentials() {
      calls++
      return { accessKeyId: 'LTAI-js', accessKeySecret: 'js-secret', providerName: 'vault' }
    },
    getProviderName: () => 'vault',
  }
  const role = Credential.RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(vault).withRoleArn('acs:ram::1:role/js').withStsEndpoint(sts.endpoint).build()
  const r = await role.getCredentials()
  assert.equal(r.providerName, 'ram_role_arn/vault')
  assert.equal(calls, 1)
  assert.equal(sts.state.requests[0].query.AccessKeyId, 'LTAI-js')
  // The JavaScript provider's failure reaches the caller with its message.
  const broken = { getCredentials: () => Promise.reject(new Error('vault is sealed')), getProviderName: () => 'vault' }
  const failing = Credential.RAMRoleARNCredentialsProvider.builder().withCredentialsProvider(broken).withRoleArn('r').withStsEndpoint(sts.endpoint).build()
  await assert.rejects(failing.getCredentials(), { message: /vault is sealed/, code: 'ERR_CREDENTIALS_PROVIDER' })
})

test('EnvironmentVariableCredentialsProvider reads the variables on every call, as the official one does', async () => {
  const p = Credential.EnvironmentVariableCredentialsProvider.builder().build()
  for (const withToken of [false, false, true, false]) {
    const id = crypto.randomBytes(8).toString('hex')
    const secret = crypto.randomBytes(16).toString('hex')
    const token = withToken ? crypto.randomBytes(16).toString('hex') : undefined
    await withEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret, ALIBABA_CLOUD_SECURITY_TOKEN: token }, async () => {
      assert.deepEqual(await p.getCredentials(), { accessKeyId: id, accessKeySecret: secret, securityToken: token, providerName: 'env' })
    })
  }
  await assert.rejects(p.getCredentials(), /Access key ID must be specified via environment variable/)
})

// Requests for the role's credentials the metadata mock has answered.
function credentialRequests(md) {
  return md.state.requests.filter((r) => r.path.startsWith('/latest/meta-data/ram/security-credentials/EcsRamRoleTest')).length
}

async function until(condition, what) {
  for (let i = 0; i < 400 && !condition(); i++) await new Promise((r) => setTimeout(r, 25))
  assert.ok(condition(), what)
}

test('ECS close() stops the background refresh: no request reaches the metadata service after it', async (t) => {
  // Two-second credentials: the background refresher asks again every half second or so.
  const md = await startMetadata({ expiresInMs: 2000 })
  t.after(() => md.close())
  await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }, async () => {
    const background = Credential.ECSRAMRoleCredentialsProvider.builder().withRoleName('EcsRamRoleTest').withAsyncCredentialUpdateEnabled(true).build()
    await until(() => credentialRequests(md) >= 2, 'the background refresher fetches without any caller')
    background.close()
    // A request already in flight may still land; after that, nothing for several periods.
    await new Promise((r) => setTimeout(r, 200))
    const atClose = credentialRequests(md)
    await new Promise((r) => setTimeout(r, 2000))
    assert.equal(credentialRequests(md), atClose, 'no background request after close()')
  })
})

test('ECS, URI and OIDC providers resolve against the mocks', async () => {
  const md = await startMetadata()
  const u = await startUri()
  try {
    await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }, async () => {
      const ecs = Credential.ECSRAMRoleCredentialsProvider.builder().withRoleName('EcsRamRoleTest').withDisableIMDSv1(true).withReadTimeout(1000).withConnectTimeout(1000).build()
      assert.equal((await ecs.getCredentials()).providerName, 'ecs_ram_role')
    })
    const uri = Credential.URICredentialsProvider.builder().withCredentialsURI(u.url).build()
    assert.equal((await uri.getCredentials()).providerName, 'credential_uri')
    const token = path.join(dir, 'token')
    fs.writeFileSync(token, 'anything')
    const oidc = Credential.OIDCRoleArnCredentialsProvider.builder()
      .withRoleArn('acs:ram::1:role/o')
      .withOIDCProviderArn('acs:ram::1:oidc-provider/p')
      .withOIDCTokenFilePath(token)
      .withStsEndpoint(sts.endpoint)
      .build()
    assert.equal((await oidc.getCredentials()).providerName, 'oidc_role_arn')
  } finally {
    await Promise.all([md.close(), u.close()])
  }
})
