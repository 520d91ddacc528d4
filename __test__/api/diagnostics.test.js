'use strict'
// describe(), the `alicloud-credentials-native` command and DEBUG logging: useful, and never a secret.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { clearAlibabaEnv, withEnv, isolatedEnv, tempDir, ROOT } = require('../helpers')
const { TEST_CA, startSts, startMetadata } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

const SECRETS = ['diag-secret-value', 'diag-token-value', 'issued-secret-1', 'issued-token-1', 'ecs-secret-1', 'ecs-token-1', 'diag-bearer-value']
const clean = (text) => SECRETS.forEach((s) => assert.ok(!text.includes(s), `leaked ${s}: ${text}`))

let sts, metadata
test.before(async () => {
  sts = await startSts({ keys: { 'LTAI5tDIAGNOSTIC0001': { secret: 'diag-secret-value' } } })
  metadata = await startMetadata()
})
test.after(() => Promise.all([sts.close(), metadata.close()]))

test('describe(): static credentials', async () => {
  const d = await new Credential({ type: 'sts', accessKeyId: 'STS.DIAGNOSTIC9999', accessKeySecret: 'diag-secret-value', securityToken: 'diag-token-value' }).describe()
  assert.deepEqual(d, { type: 'sts', providerName: 'static_sts', accessKeyId: 'STS.****9999', steps: [] })
  clean(JSON.stringify(d))
  const b = await new Credential({ type: 'bearer', bearerToken: 'diag-bearer-value' }).describe()
  assert.deepEqual(b, { type: 'bearer', steps: [] })
})

test('describe(): session credentials say when they expire, refresh, and where they come from', async () => {
  sts.reset()
  const c = new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI5tDIAGNOSTIC0001', accessKeySecret: 'diag-secret-value', roleArn: 'acs:ram::1:role/diag', stsEndpoint: sts.endpoint })
  const d = await c.describe()
  assert.equal(d.providerName, 'ram_role_arn/static_ak')
  assert.equal(d.accessKeyId, 'STS.****ed-1')
  const expiration = Date.parse(d.expiration)
  const next = Date.parse(d.nextRefresh)
  assert.ok(expiration - next === 15 * 60_000, `${d.expiration} vs ${d.nextRefresh}`)
  assert.equal(d.endpoint, `${sts.url} (AssumeRole acs:ram::1:role/diag)`)
  assert.deepEqual(d.steps, [])
  clean(JSON.stringify(d))
})

test('describe(): the chain lists every step, why it was skipped or failed, and which was used', async () => {
  await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url, ALIBABA_CLOUD_CLI_PROFILE_DISABLED: 'true' }, async () => {
    const d = await new Credential().describe()
    assert.equal(d.providerName, 'default/ecs_ram_role')
    assert.match(d.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/latest\/meta-data\/ram\/security-credentials\/EcsRamRoleTest$/)
    assert.deepEqual(
      d.steps.map((s) => [s.provider, s.outcome]),
      [
        ['env', 'failed'],
        ['oidc_role_arn', 'skipped'],
        ['cli_profile', 'skipped'],
        ['profile', 'failed'],
        ['ecs_ram_role', 'used'],
        ['credential_uri', 'skipped'],
      ],
    )
    assert.match(d.steps[0].reason, /ALIBABA_CLOUD_ACCESS_KEY_ID/)
    assert.match(d.steps[2].reason, /the CLI profile is disabled \(ALIBABA_CLOUD_CLI_PROFILE_DISABLED\)/)
    assert.match(d.steps[3].reason, /reading credentials file/)
    assert.equal(d.steps[4].reason, undefined)
    clean(JSON.stringify(d))
  })
})

test('describe(): a chain that found nothing carries the error and never rejects', async () => {
  const d = await new Credential().describe()
  assert.equal(d.error.code, 'ERR_CREDENTIALS_NOT_FOUND')
  assert.ok(d.steps.every((s) => s.outcome === 'failed' || s.outcome === 'skipped'))
  assert.equal(d.accessKeyId, undefined)
})

test('describe() on providers and on JavaScript providers', async () => {
  const p = Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('LTAI5tPROVIDER00042').withAccessKeySecret('diag-secret-value').build()
  assert.deepEqual(await p.describe(), { providerName: 'static_ak', accessKeyId: 'LTAI****0042', steps: [] })
  const js = new Credential(null, { getCredentials: async () => ({ accessKeyId: 'LTAI5tFROMJS0007', accessKeySecret: 'diag-secret-value', providerName: 'vault' }), getProviderName: () => 'vault' })
  assert.deepEqual(await js.describe(), { type: 'vault', providerName: 'vault', accessKeyId: 'LTAI****0007', steps: [] })
})

function cli(args, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'cli.js'), ...args], { env, encoding: 'utf8', timeout: 30000 }, (error, stdout, stderr) => {
      resolve({ status: error ? error.code : 0, stdout, stderr })
    })
  })
}

test('the command prints a table, --json, honours --profile, exits 0 / 1, never prints a secret', async () => {
  const dir = tempDir('acn-cli-cmd-')
  const config = path.join(dir, 'config.json')
  fs.writeFileSync(config, JSON.stringify({ current: 'a', profiles: [{ name: 'a', mode: 'AK', access_key_id: 'LTAI5tPROFILEA00001', access_key_secret: 'diag-secret-value' }, { name: 'b', mode: 'AK', access_key_id: 'LTAI5tPROFILEB00002', access_key_secret: 'diag-secret-value' }] }))
  const base = isolatedEnv({ ALIBABA_CLOUD_CONFIG_FILE: config })
  for (const debug of [undefined, 'alicloud-credentials*']) {
    const env = debug ? { ...base, DEBUG: debug } : base
    const table = await cli([], env)
    assert.equal(table.status, 0, table.stderr)
    assert.match(table.stdout, /provider\s+default\/cli_profile/)
    assert.match(table.stdout, /access key\s+LTAI\*\*\*\*0001/)
    assert.match(table.stdout, /3\s+cli_profile\s+used/)
    const json = await cli(['--json', '--profile', 'b'], env)
    assert.equal(json.status, 0)
    const d = JSON.parse(json.stdout)
    assert.equal(d.accessKeyId, 'LTAI****0002')
    const failing = await cli(['--json'], isolatedEnv(debug ? { DEBUG: debug } : {}))
    assert.equal(failing.status, 1)
    assert.equal(JSON.parse(failing.stdout).error.code, 'ERR_CREDENTIALS_NOT_FOUND')
    const bad = await cli(['--nope'], env)
    assert.equal(bad.status, 1)
    assert.match(bad.stderr, /Usage: alicloud-credentials-native/)
    for (const r of [table, json, failing, bad]) clean(r.stdout + r.stderr)
    if (debug) assert.match(table.stderr, /alicloud-credentials:chain using cli_profile/)
  }
  const help = await cli(['--help'], base)
  assert.equal(help.status, 0)
  assert.match(help.stdout, /--profile NAME/)
})

test('DEBUG=alicloud-credentials* logs each refresh with timing and outcome, IDs masked', async () => {
  sts.reset()
  const code = `
const Credential = require('alicloud-credentials-native')
const c = new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI5tDIAGNOSTIC0001', accessKeySecret: 'diag-secret-value', roleArn: 'r', stsEndpoint: ${JSON.stringify(sts.endpoint)} })
c.getCredential().then(() => new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI5tDIAGNOSTIC0001', accessKeySecret: 'wrong-value', roleArn: 'r', stsEndpoint: ${JSON.stringify(sts.endpoint)} }).getCredential()).catch(() => {})`
  const r = await new Promise((resolve) => {
    execFile(process.execPath, ['-e', code], { cwd: ROOT, env: isolatedEnv({ DEBUG: 'alicloud-credentials*', NODE_EXTRA_CA_CERTS: TEST_CA }), encoding: 'utf8' }, (e, stdout, stderr) => resolve({ stdout, stderr }))
  })
  const lines = r.stderr.split('\n')
  assert.ok(lines.some((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z alicloud-credentials:session refresh ram_role_arn\/static_ak ok in \d+ ms: STS\.\*\*\*\*ed-1, expires \S+Z, refresh from \S+Z$/.test(l)), r.stderr)
  assert.ok(lines.some((l) => /alicloud-credentials:session refresh ram_role_arn\/static_ak failed in \d+ ms \(failure 1, next try in \d+ ms\): the access key secret is invalid/.test(l)), r.stderr)
  assert.ok(lines.some((l) => /alicloud-credentials:http POST https:\/\/127\.0\.0\.1:\d+\/ -> 200 \(\d+ bytes\) in \d+ ms/.test(l)))
  assert.ok(lines.some((l) => /alicloud-credentials:error ERR_CREDENTIALS_INVALID_SECRET: the access key secret is invalid/.test(l)))
  clean(r.stderr + r.stdout)
  assert.ok(!r.stderr.includes('LTAI5tDIAGNOSTIC0001'), 'source id masked too')
  assert.ok(!r.stderr.includes('wrong-value'))
})
