'use strict'
// The default chain: order, each step, provider names, disabling, the all-fail error, stickiness;
// and the INI profile file.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, withEnv, tempDir } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startUri } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const dir = tempDir('acn-chain-')
let sts, metadata, uri
test.before(async () => {
  sts = await startSts({ oidcToken: 'chain-oidc-token' })
  metadata = await startMetadata({ roleName: 'ChainRole' })
  uri = await startUri()
})
test.after(() => Promise.all([sts.close(), metadata.close(), uri.close()]))

const missing = (name) => path.join(dir, 'missing', name)

function file(name, text) {
  const p = path.join(dir, name)
  fs.writeFileSync(p, text)
  return p
}

const CLI = () => file('config.json', JSON.stringify({ current: 'c', profiles: [{ name: 'c', mode: 'AK', access_key_id: 'cli-id', access_key_secret: 'cli-secret' }] }))
const INI = () => file('credentials', '[default]\ntype = access_key\naccess_key_id = ini-id\naccess_key_secret = ini-secret\n')
const OIDC_ENV = () => ({
  ALIBABA_CLOUD_ROLE_ARN: 'acs:ram::1:role/chain',
  ALIBABA_CLOUD_OIDC_PROVIDER_ARN: 'acs:ram::1:oidc-provider/chain',
  ALIBABA_CLOUD_OIDC_TOKEN_FILE: file('oidc-token', 'chain-oidc-token'),
  ALIBABA_CLOUD_STS_ENDPOINT: sts.endpoint,
})

// Everything empty: no env keys, no files, a metadata service that refuses connections.
const NOTHING = {
  ALIBABA_CLOUD_CONFIG_FILE: missing('config.json'),
  ALIBABA_CLOUD_CREDENTIALS_FILE: missing('credentials'),
  ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
}

async function chain(env) {
  return withEnv({ ...NOTHING, ...env }, async () => {
    const c = new Credential()
    const r = await c.getCredential()
    assert.equal(c.getType(), 'default')
    assert.equal(r.type, 'default')
    return r
  })
}

test('each step on its own, with its provider name', async () => {
  assert.equal((await chain({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's' })).providerName, 'default/env')
  assert.equal((await chain(OIDC_ENV())).providerName, 'default/oidc_role_arn')
  const cli = await chain({ ALIBABA_CLOUD_CONFIG_FILE: CLI() })
  assert.deepEqual([cli.providerName, cli.accessKeyId], ['default/cli_profile', 'cli-id'])
  const ini = await chain({ ALIBABA_CLOUD_CREDENTIALS_FILE: INI() })
  assert.deepEqual([ini.providerName, ini.accessKeyId], ['default/profile', 'ini-id'])
  const ecs = await chain({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url })
  assert.equal(ecs.providerName, 'default/ecs_ram_role')
  const viaUri = await chain({ ALIBABA_CLOUD_CREDENTIALS_URI: uri.url })
  assert.equal(viaUri.providerName, 'default/credential_uri')
})

test('order: env > OIDC > CLI > INI > ECS > URI', async () => {
  const all = {
    ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id',
    ALIBABA_CLOUD_ACCESS_KEY_SECRET: 's',
    ...OIDC_ENV(),
    ALIBABA_CLOUD_CONFIG_FILE: CLI(),
    ALIBABA_CLOUD_CREDENTIALS_FILE: INI(),
    ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url,
    ALIBABA_CLOUD_CREDENTIALS_URI: uri.url,
  }
  const order = ['default/env', 'default/oidc_role_arn', 'default/cli_profile', 'default/profile', 'default/ecs_ram_role', 'default/credential_uri']
  const env = { ...all }
  for (const expected of order) {
    assert.equal((await chain(env)).providerName, expected)
    // Remove the step that answered to reveal the next one.
    if (expected === 'default/env') Object.assign(env, { ALIBABA_CLOUD_ACCESS_KEY_ID: undefined, ALIBABA_CLOUD_ACCESS_KEY_SECRET: undefined })
    if (expected === 'default/oidc_role_arn') env.ALIBABA_CLOUD_ROLE_ARN = undefined
    if (expected === 'default/cli_profile') env.ALIBABA_CLOUD_CONFIG_FILE = missing('config.json')
    if (expected === 'default/profile') env.ALIBABA_CLOUD_CREDENTIALS_FILE = missing('credentials')
    if (expected === 'default/ecs_ram_role') env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:9'
  }
})

test('ALIBABA_CLOUD_CLI_PROFILE_DISABLED and ALIBABA_CLOUD_ECS_METADATA_DISABLED remove their steps', async () => {
  const r = await chain({ ALIBABA_CLOUD_CONFIG_FILE: CLI(), ALIBABA_CLOUD_CREDENTIALS_FILE: INI(), ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' })
  assert.equal(r.providerName, 'default/profile')
  const before = metadata.state.requests.length
  await assert.rejects(
    chain({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url, ALIBABA_CLOUD_ECS_METADATA_DISABLED: 'true', ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' }),
    (e) => {
      assert.doesNotMatch(e.message, /metadata|cli config/)
      return true
    },
  )
  assert.equal(metadata.state.requests.length, before, 'the metadata service was not asked')
})

test('when every step fails, one error lists each reason in order', async () => {
  await assert.rejects(chain({}), (e) => {
    assert.equal(e.code, 'ERR_CREDENTIALS_NOT_FOUND')
    const m = e.message
    assert.ok(m.startsWith('unable to get credentials from any of the providers in the chain: '), m)
    const positions = [
      m.indexOf('unable to get credentials from enviroment variables'),
      m.indexOf("reading aliyun cli config from '"),
      m.indexOf("reading credentials file '"),
      m.indexOf('http://127.0.0.1:9/latest/'),
    ]
    assert.ok(positions.every((p) => p > 0), m)
    assert.deepEqual([...positions].sort((a, b) => a - b), positions, 'in chain order')
    return true
  })
})

test('sticks to the step that succeeded; a chain that failed everywhere tries again', async () => {
  const iniPath = path.join(dir, 'late-credentials')
  fs.rmSync(iniPath, { force: true })
  await withEnv({ ...NOTHING, ALIBABA_CLOUD_CREDENTIALS_FILE: iniPath }, async () => {
    const c = new Credential()
    await assert.rejects(c.getCredential(), /unable to get credentials from any of the providers/)
    fs.writeFileSync(iniPath, '[default]\ntype = access_key\naccess_key_id = late-id\naccess_key_secret = late-secret\n')
    const r = await c.getCredential()
    assert.deepEqual([r.providerName, r.accessKeyId], ['default/profile', 'late-id'])
    // Environment credentials appear later: the chain keeps the provider that succeeded.
    process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'env-id'
    process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'env-secret'
    assert.equal((await c.getCredential()).providerName, 'default/profile')
    delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID
    delete process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET
  })
})

// ---- INI profiles ----

async function ini(text, { profile, env = {} } = {}) {
  return withEnv({ ALIBABA_CLOUD_CREDENTIALS_FILE: file(`ini-${Math.random()}`, text), ...env }, () => {
    const b = Credential.ProfileCredentialsProvider.builder()
    if (profile) b.withProfileName(profile)
    return b.build().getCredentials()
  })
}

test('INI: section by name, by ALIBABA_CLOUD_PROFILE, else default; comments, quotes, odd whitespace', async () => {
  const text = [
    '# Alibaba Cloud credentials',
    '[default]',
    'type = access_key',
    '  access_key_id=def-id   ; inline comment',
    'access_key_secret = "def # secret"',
    '',
    '[  project ]',
    "type\t=\taccess_key",
    "access_key_id = 'proj-id'",
    'access_key_secret = proj-secret',
  ].join('\r\n')
  const d = await ini(text)
  assert.deepEqual([d.accessKeyId, d.accessKeySecret, d.providerName], ['def-id', 'def # secret', 'profile/static_ak'])
  assert.equal((await ini(text, { env: { ALIBABA_CLOUD_PROFILE: 'project' } })).accessKeyId, 'proj-id')
  assert.equal((await ini(text, { profile: 'project', env: { ALIBABA_CLOUD_PROFILE: 'default' } })).accessKeyId, 'proj-id')
})

test('INI: ecs_ram_role, ram_role_arn and oidc_role_arn sections', async () => {
  const ecs = await ini('[default]\ntype = ecs_ram_role\nrole_name = ChainRole\n', { env: { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url } })
  assert.equal(ecs.providerName, 'profile/ecs_ram_role')
  const keyed = await startSts({ keys: { 'LTAI-ini': { secret: 'ini-secret' } } })
  try {
    const role = await ini(
      '[default]\ntype = ram_role_arn\naccess_key_id = LTAI-ini\naccess_key_secret = ini-secret\nrole_arn = acs:ram::1:role/ini\nrole_session_name = ini-session\npolicy = {"Version":"1"}\n',
      { env: { ALIBABA_CLOUD_STS_ENDPOINT: keyed.endpoint } },
    )
    assert.equal(role.providerName, 'profile/ram_role_arn/static_ak')
    assert.equal(keyed.state.requests[0].form.RoleSessionName, 'ini-session')
    assert.equal(keyed.state.requests[0].form.Policy, '{"Version":"1"}')
  } finally {
    await keyed.close()
  }
  const tokenFile = file('ini-oidc-token', 'chain-oidc-token')
  const oidc = await ini(
    `[default]\ntype = oidc_role_arn\nrole_arn = acs:ram::1:role/o\noidc_provider_arn = acs:ram::1:oidc-provider/p\noidc_token_file_path = ${tokenFile}\n`,
    { env: { ALIBABA_CLOUD_STS_ENDPOINT: sts.endpoint } },
  )
  assert.equal(oidc.providerName, 'profile/oidc_role_arn')
})

test('INI: errors name the file and the problem', async () => {
  await assert.rejects(ini('[default]\ntype = access_key\naccess_key_id = x\n'), /^Error: profile "default" in '.*' has no access_key_secret$/)
  await assert.rejects(ini('[other]\ntype = access_key\n'), /Can not find credential type for "default" in '/)
  await assert.rejects(ini('[default]\ntype = magic\n'), /Invalid type option, support: access_key, ecs_ram_role, ram_role_arn, oidc_role_arn/)
  await assert.rejects(ini('[default]\nthis line has no equals sign\n'), /parse credentials file '.*' failed: line 2: expected key = value/)
})
