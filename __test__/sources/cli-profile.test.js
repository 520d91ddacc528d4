'use strict'
// The Alibaba Cloud CLI's config.json in all nine modes, against loopback mocks; write-back of
// OAuth and External tokens; bad files.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, withEnv, tempDir } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startSignIn } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')
const { CLIProfileCredentialsProvider } = Credential

const dir = tempDir('acn-cli-')
let sts, metadata, signIn
test.before(async () => {
  sts = await startSts({ keys: { 'LTAI-cli-ak': { secret: 'cli-secret' } }, oidcToken: 'cli-oidc-token' })
  metadata = await startMetadata({ roleName: 'CliEcsRole' })
  signIn = await startSignIn()
})
test.after(() => Promise.all([sts.close(), metadata.close(), signIn.close()]))

let fileCount = 0
function writeConfig(config, mode = 0o600) {
  const file = path.join(dir, `config-${++fileCount}.json`)
  fs.writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2), { mode })
  return file
}

async function resolve(config, { profile, env = {} } = {}) {
  const file = typeof config === 'string' && !config.trim().startsWith('{') ? config : writeConfig(config)
  return withEnv({ ALIBABA_CLOUD_CONFIG_FILE: file, ...env }, async () => {
    const builder = CLIProfileCredentialsProvider.builder()
    if (profile) builder.withProfileName(profile)
    return builder.build().getCredentials()
  })
}

const AK = { name: 'ak', mode: 'AK', access_key_id: 'LTAI-cli-ak', access_key_secret: 'cli-secret' }

test('AK and StsToken, selected by current, ALIBABA_CLOUD_PROFILE and explicit name', async () => {
  const config = {
    current: 'ak',
    profiles: [AK, { name: 'sts', mode: 'StsToken', access_key_id: 'STS.cli', access_key_secret: 's', sts_token: 'cli-token' }],
  }
  assert.deepEqual(await resolve(config), { accessKeyId: 'LTAI-cli-ak', accessKeySecret: 'cli-secret', securityToken: undefined, providerName: 'cli_profile/static_ak' })
  const viaEnv = await resolve(config, { env: { ALIBABA_CLOUD_PROFILE: 'sts' } })
  assert.equal(viaEnv.providerName, 'cli_profile/static_sts')
  assert.equal(viaEnv.securityToken, 'cli-token')
  const explicit = await resolve(config, { profile: 'sts', env: { ALIBABA_CLOUD_PROFILE: 'ak' } })
  assert.equal(explicit.accessKeyId, 'STS.cli')
})

test('RamRoleArn: AssumeRole signed with the profile keys, with its STS options', async () => {
  sts.reset()
  const profile = {
    name: 'role',
    mode: 'RamRoleArn',
    access_key_id: 'LTAI-cli-ak',
    access_key_secret: 'cli-secret',
    ram_role_arn: 'acs:ram::1:role/cli',
    ram_session_name: 'cli-session',
    expired_seconds: 1800,
    sts_region: 'cn-hangzhou',
    sts_endpoint: sts.endpoint,
    enable_vpc: true,
    policy: '{"Version":"1"}',
    external_id: 'cli-external',
  }
  const r = await resolve({ current: 'role', profiles: [profile] })
  assert.equal(r.providerName, 'cli_profile/ram_role_arn/static_ak')
  assert.equal(r.accessKeyId, 'STS.issued-1')
  const { form } = sts.state.requests[0]
  assert.deepEqual(
    { arn: form.RoleArn, name: form.RoleSessionName, duration: form.DurationSeconds, policy: form.Policy, ext: form.ExternalId },
    { arn: 'acs:ram::1:role/cli', name: 'cli-session', duration: '1800', policy: '{"Version":"1"}', ext: 'cli-external' },
  )
})

test('ChainableRamRoleArn: any source profile, two deep (the depth limit: profile-chains.test.js)', async () => {
  sts.reset()
  const config = {
    current: 'top',
    profiles: [
      AK,
      { name: 'middle', mode: 'ChainableRamRoleArn', source_profile: 'ak', ram_role_arn: 'acs:ram::1:role/middle', sts_endpoint: sts.endpoint },
      { name: 'top', mode: 'ChainableRamRoleArn', source_profile: 'middle', ram_role_arn: 'acs:ram::1:role/top', sts_endpoint: sts.endpoint },
    ],
  }
  const r = await resolve(config)
  assert.equal(r.providerName, 'cli_profile/ram_role_arn/ram_role_arn/static_ak')
  assert.equal(r.accessKeyId, 'STS.issued-2')
  assert.equal(sts.state.requests[0].query.AccessKeyId, 'LTAI-cli-ak')
  assert.equal(sts.state.requests[1].query.AccessKeyId, 'STS.issued-1')
  assert.equal(sts.state.requests[1].query.SecurityToken, 'issued-token-1')
})

test('ChainableRamRoleArn: a cycle is a clear error', async () => {
  const config = {
    current: 'a',
    profiles: [
      { name: 'a', mode: 'ChainableRamRoleArn', source_profile: 'b', ram_role_arn: 'r' },
      { name: 'b', mode: 'ChainableRamRoleArn', source_profile: 'a', ram_role_arn: 'r' },
    ],
  }
  await assert.rejects(resolve(config), { message: /^source_profile cycle: a -> b -> a in '.*config-\d+\.json'$/, code: 'ERR_CREDENTIALS_PROFILE' })
})

test('EcsRamRole: the metadata service with ram_role_name', async () => {
  const r = await resolve(
    { current: 'ecs', profiles: [{ name: 'ecs', mode: 'EcsRamRole', ram_role_name: 'CliEcsRole' }] },
    { env: { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url } },
  )
  assert.equal(r.providerName, 'cli_profile/ecs_ram_role')
  assert.match(r.accessKeyId, /^STS\.ecs-\d+$/)
})

test('OIDC: AssumeRoleWithOIDC with the token file', async () => {
  sts.reset()
  const tokenFile = path.join(dir, 'oidc-token')
  fs.writeFileSync(tokenFile, 'cli-oidc-token')
  const r = await resolve({
    current: 'oidc',
    profiles: [{ name: 'oidc', mode: 'OIDC', ram_role_arn: 'acs:ram::1:role/o', oidc_provider_arn: 'acs:ram::1:oidc-provider/p', oidc_token_file: tokenFile, ram_session_name: 'k8s', sts_endpoint: sts.endpoint }],
  })
  assert.equal(r.providerName, 'cli_profile/oidc_role_arn')
  assert.equal(sts.state.requests[0].form.RoleSessionName, 'k8s')
})

test('CloudSSO: credentials from the portal with the access token; an expired token is refused', async () => {
  const profile = {
    name: 'sso',
    mode: 'CloudSSO',
    cloud_sso_sign_in_url: `${signIn.url}/login`,
    cloud_sso_account_id: '1234',
    cloud_sso_access_config: 'ac-1',
    access_token: 'sso-access-token',
    cloud_sso_access_token_expire: Math.floor(Date.now() / 1000) + 3600,
  }
  const r = await resolve({ current: 'sso', profiles: [profile] })
  assert.equal(r.providerName, 'cli_profile/cloud_sso')
  const request = signIn.state.requests.at(-1)
  assert.equal(request.headers.authorization, 'Bearer sso-access-token')
  assert.deepEqual(JSON.parse(request.body), { AccountId: '1234', AccessConfigurationId: 'ac-1' })
  const expired = { ...profile, cloud_sso_access_token_expire: Math.floor(Date.now() / 1000) - 1 }
  await assert.rejects(resolve({ current: 'sso', profiles: [expired] }), /CloudSSO access token is empty or expired, please re-login with cli\./)
})

test('OAuth: refreshes a near-expiry access token, exchanges it, writes the new tokens back', async () => {
  const config = {
    current: 'oauth',
    profiles: [
      { name: 'oauth', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: 'oauth-refresh-1', oauth_access_token: 'old-access', oauth_access_token_expire: Math.floor(Date.now() / 1000) + 600, vendor_field: { keep: true } },
      AK,
    ],
    custom_top_level: 'kept',
  }
  const file = writeConfig(config, 0o600)
  const r = await resolve(file, { env: { ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: signIn.url } })
  assert.equal(r.providerName, 'cli_profile/oauth')
  const token = signIn.state.requests.find((q) => q.path === '/v1/token')
  const form = Object.fromEntries(new URLSearchParams(token.body))
  assert.equal(form.client_id, '4038181954557748008')
  assert.equal(form.refresh_token, 'oauth-refresh-1')
  const saved = JSON.parse(fs.readFileSync(file, 'utf8'))
  const p = saved.profiles[0]
  assert.equal(p.oauth_access_token, 'oauth-access-2')
  assert.equal(p.oauth_refresh_token, 'oauth-refresh-2')
  assert.ok(p.oauth_access_token_expire > Date.now() / 1000 + 7000)
  assert.equal(p.access_key_id, r.accessKeyId)
  assert.equal(p.sts_token, r.securityToken)
  assert.deepEqual(p.vendor_field, { keep: true })
  assert.deepEqual(saved.profiles[1], AK)
  assert.equal(saved.custom_top_level, 'kept')
  assert.equal(fs.statSync(file).mode & 0o777, 0o600, 'file mode kept')
  // INTL sign-in: its own client id; a token far from expiry is exchanged without a refresh.
  const intl = await startSignIn({ accessToken: 'intl-access', refreshToken: 'intl-refresh' })
  try {
    const far = Math.floor(Date.now() / 1000) + 7200
    const r2 = await resolve(
      { current: 'i', profiles: [{ name: 'i', mode: 'OAuth', oauth_site_type: 'intl', oauth_refresh_token: 'intl-refresh', oauth_access_token: 'intl-access', oauth_access_token_expire: far }] },
      { env: { ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: intl.url } },
    )
    assert.equal(r2.providerName, 'cli_profile/oauth')
    assert.deepEqual(intl.state.requests.map((q) => q.path), ['/v1/exchange'])
    const near = await resolve(
      { current: 'i', profiles: [{ name: 'i', mode: 'OAuth', oauth_site_type: 'INTL', oauth_refresh_token: 'intl-refresh', oauth_access_token: 'intl-access', oauth_access_token_expire: far - 7000 }] },
      { env: { ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: intl.url } },
    )
    assert.equal(near.providerName, 'cli_profile/oauth')
    const refresh = intl.state.requests.find((q) => q.path === '/v1/token')
    assert.equal(Object.fromEntries(new URLSearchParams(refresh.body)).client_id, '4103531455503354461')
  } finally {
    await intl.close()
  }
  await assert.rejects(
    resolve({ current: 'o', profiles: [{ name: 'o', mode: 'OAuth', oauth_site_type: 'MARS', oauth_refresh_token: 'x' }] }),
    /invalid OAuth site type, support CN or INTL/,
  )
})

// The portal and the OAuth service are refreshes like any other (issue 22): a 5xx, a 429 or a
// throttling Code is tried again inside the one refresh; a refusal (400, 401) never is. The mock
// counts every attempt.
test('CloudSSO: a 5xx, 429 or throttling answer is retried inside one refresh; a 400 or 401 never is', { timeout: 30_000 }, async () => {
  const portal = await startSignIn({ accessToken: 'retry-sso-token' })
  let accounts = 0
  // A new account id each time: a new identity, so no refresh shares another's outcome.
  const sso = (accessToken = 'retry-sso-token') => ({
    current: 'sso',
    profiles: [
      {
        name: 'sso',
        mode: 'CloudSSO',
        cloud_sso_sign_in_url: `${portal.url}/login`,
        cloud_sso_account_id: `retry-${++accounts}`,
        cloud_sso_access_config: 'ac-retry',
        access_token: accessToken,
        cloud_sso_access_token_expire: Math.floor(Date.now() / 1000) + 3600,
      },
    ],
  })
  const attempts = () => portal.state.requests.splice(0).map((q) => q.path)
  try {
    for (const blip of [
      { failNext: 1 },
      { failNext: 1, failStatus: 500, failBody: 'not json' },
      { failNext: 1, failStatus: 429, failBody: { Code: 'TooManyRequests' } },
      { failNext: 1, failStatus: 400, failBody: { Code: 'Throttling.User', Message: 'slow down' } },
      { failNext: 2, failStatus: 502, failBody: {} },
    ]) {
      portal.set(blip)
      const r = await resolve(sso())
      assert.equal(r.providerName, 'cli_profile/cloud_sso', JSON.stringify(blip))
      assert.match(r.accessKeyId, /^STS\.signin-\d+$/)
      assert.deepEqual(attempts(), Array(blip.failNext + 1).fill('/cloud-credentials'), JSON.stringify(blip))
    }
    // Three 503s in a row: two retries, then the caller gets the error.
    portal.set({ failNext: 3, failStatus: 503, failBody: undefined })
    await assert.rejects(resolve(sso()), { message: 'get session token from CloudSSO failed: Code: ServiceUnavailable, Message: a blip (HTTP 503)' })
    assert.equal(attempts().length, 3)
    // Refusals: asked once.
    await assert.rejects(resolve(sso('not-the-token')), /Code: InvalidToken \(HTTP 401\)/)
    assert.deepEqual(attempts(), ['/cloud-credentials'])
    portal.set({ failNext: 1, failStatus: 400, failBody: { Code: 'InvalidParameter.AccountId', Message: 'no' } })
    await assert.rejects(resolve(sso()), /Code: InvalidParameter\.AccountId, Message: no \(HTTP 400\)/)
    assert.deepEqual(attempts(), ['/cloud-credentials'])
  } finally {
    await portal.close()
  }
})

test('OAuth: a 5xx or 429 from the token refresh or the exchange is retried inside one refresh; a 400 or 401 never is', { timeout: 30_000 }, async () => {
  const service = await startSignIn({ accessToken: 'retry-oauth-access', refreshToken: 'retry-oauth-refresh' })
  const now = () => Math.floor(Date.now() / 1000)
  // A new config file each time (the write-back target is part of the identity).
  const oauth = ({ access = service.state.accessToken, refresh = service.state.refreshToken, expire = now() + 7200 } = {}) =>
    resolve(
      { current: 'o', profiles: [{ name: 'o', mode: 'OAuth', oauth_site_type: 'CN', oauth_refresh_token: refresh, oauth_access_token: access, oauth_access_token_expire: expire }] },
      { env: { ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: service.url } },
    )
  const attempts = () => service.state.requests.splice(0).map((q) => q.path)
  try {
    // The exchange blips: only the exchange is asked again.
    for (const blip of [{ failNext: 1 }, { failNext: 1, failStatus: 429, failBody: { error: 'slow_down' } }, { failNext: 2, failStatus: 500, failBody: 'oops' }]) {
      service.set(blip)
      const r = await oauth()
      assert.equal(r.providerName, 'cli_profile/oauth', JSON.stringify(blip))
      assert.deepEqual(attempts(), Array(blip.failNext + 1).fill('/v1/exchange'), JSON.stringify(blip))
    }
    // The token refresh blips (an access token 10 minutes from expiry is refreshed first).
    service.set({ failNext: 1, failStatus: 503 })
    const r = await oauth({ expire: now() + 600 })
    assert.equal(r.providerName, 'cli_profile/oauth')
    assert.deepEqual(attempts(), ['/v1/token', '/v1/token', '/v1/exchange'])
    // Three 503s in a row: the caller gets the error after three attempts.
    service.set({ failNext: 3, failStatus: 503, failBody: undefined })
    await assert.rejects(oauth(), { message: 'get session token from OAuth failed: Code: ServiceUnavailable, Message: a blip (HTTP 503)' })
    assert.equal(attempts().length, 3)
    // Refusals: asked once.
    await assert.rejects(oauth({ access: 'not-the-access-token' }), /error: invalid_token \(HTTP 401\)/)
    assert.deepEqual(attempts(), ['/v1/exchange'])
    await assert.rejects(oauth({ refresh: 'a-spent-refresh-token', expire: now() + 600 }), { message: 'failed to refresh OAuth token, status code: 400' })
    assert.deepEqual(attempts(), ['/v1/token'])
    service.set({ failNext: 1, failStatus: 400, failBody: { error: 'invalid_request' } })
    await assert.rejects(oauth(), /error: invalid_request \(HTTP 400\)/)
    assert.deepEqual(attempts(), ['/v1/exchange'])
  } finally {
    await service.close()
  }
})

test('External: runs process_command without a shell, parses stdout, writes back', async () => {
  const script = path.join(dir, 'tool with space.js')
  fs.writeFileSync(
    script,
    `const [mode] = process.argv.slice(2); console.log(JSON.stringify({ mode, access_key_id: 'ext-id-' + process.env.ACN_MARK, access_key_secret: 'ext-secret', sts_token: 'ext-token', expiration: new Date(Date.now() + 3600e3).toISOString() }))`,
  )
  const command = `"${process.execPath}" "${script}" StsToken`
  const file = writeConfig({ current: 'ext', profiles: [{ name: 'ext', mode: 'External', process_command: command }, AK] })
  const r = await resolve(file, { env: { ACN_MARK: 'm1' } })
  assert.deepEqual(r, { accessKeyId: 'ext-id-m1', accessKeySecret: 'ext-secret', securityToken: 'ext-token', providerName: 'cli_profile/external' })
  const saved = JSON.parse(fs.readFileSync(file, 'utf8')).profiles[0]
  assert.equal(saved.access_key_id, 'ext-id-m1')
  assert.equal(saved.sts_token, 'ext-token')
  assert.ok(saved.sts_expiration > Date.now() / 1000)
  assert.equal(saved.process_command, command)
})

test('External: failures are clear', async () => {
  const bad = path.join(dir, 'bad.js')
  fs.writeFileSync(bad, 'console.log("not json")')
  const fails = path.join(dir, 'fails.js')
  fs.writeFileSync(fails, 'process.exit(3)')
  const one = (cmd) => ({ current: 'e', profiles: [{ name: 'e', mode: 'External', process_command: cmd }] })
  await assert.rejects(resolve(one(`"${process.execPath}" ${bad}`)), /failed to parse external command output/)
  await assert.rejects(resolve(one(`"${process.execPath}" ${fails}`)), /failed to execute external command: it exited with exit status: 3/)
  await assert.rejects(resolve(one('/nonexistent/tool --x')), /failed to execute external command/)
  await assert.rejects(resolve(one('tool "unterminated')), /invalid process_command: unclosed quote/)
})

test('a Windows-style path in config.json is read as written', async () => {
  const config = { current: 'w', profiles: [{ name: 'w', mode: 'External', process_command: '"C:\\\\Program Files\\\\Aliyun\\\\cred.exe" --json' }] }
  await assert.rejects(resolve(config), /failed to execute external command/)
  const tokenPath = 'C:\\Users\\me\\.kube\\token'
  const oidc = { current: 'o', profiles: [{ name: 'o', mode: 'OIDC', ram_role_arn: 'r', oidc_provider_arn: 'p', oidc_token_file: tokenPath, sts_endpoint: sts.endpoint }] }
  await assert.rejects(resolve(oidc), (e) => {
    assert.ok(e.message.includes(tokenPath), e.message)
    return true
  })
})

test('bad files: missing, not JSON, no profiles, unknown profile, unknown mode, missing fields', async () => {
  const cases = [
    [path.join(dir, 'absent.json'), /^reading aliyun cli config from '.*absent\.json' failed: No such file or directory/],
    ['{"profiles": [', /^parse aliyun cli config from '.*' failed: the JSON ends early at line 1 column \d+$/],
    [{ current: 'x', profiles: [] }, /^no any configured profiles in '/],
    [{ current: 'x', profiles: [AK] }, /^unable to get profile with 'x' in '/],
    [{ current: 'm', profiles: [{ name: 'm', mode: 'Telepathy' }] }, /^unsupported profile mode 'Telepathy' in profile 'm' in '/],
    [{ current: 'k', profiles: [{ name: 'k', mode: 'AK', access_key_id: 'only-id' }] }, /^profile 'k' has no access_key_secret in '/],
    [{ current: 'r', profiles: [{ name: 'r', mode: 'RamRoleArn', access_key_id: 'i', access_key_secret: 's' }] }, /^profile 'r' has no ram_role_arn in '/],
    [{ profiles: [AK] }, /^no profile name given and no 'current' profile in '/],
  ]
  for (const [config, pattern] of cases) {
    const file = typeof config === 'string' && config.startsWith('/') ? config : writeConfig(config)
    await assert.rejects(resolve(file), (e) => {
      assert.match(e.message, pattern)
      assert.equal(e.code, 'ERR_CREDENTIALS_PROFILE')
      return true
    })
  }
})

test('ALIBABA_CLOUD_CLI_PROFILE_DISABLED refuses the provider', async () => {
  await withEnv({ ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' }, () => {
    assert.throws(() => CLIProfileCredentialsProvider.builder().build(), { message: 'the CLI profile is disabled' })
  })
})
