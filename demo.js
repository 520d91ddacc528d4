'use strict'
// `npm run demo`: shows what each credential source returns, without printing a secret. Everything
// is local: fake keys, and (for session types) mock services on 127.0.0.1.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { TEST_CA, startSts, startMetadata, startUri } = require('./__test__/mocks')

// The session types talk to mock services over HTTPS signed by a test CA, which Node and the
// addon trust through NODE_EXTRA_CA_CERTS, read at startup: re-run with it set.
if (process.env.NODE_EXTRA_CA_CERTS !== TEST_CA) {
  const r = spawnSync(process.execPath, [__filename], {
    stdio: 'inherit',
    env: { ...process.env, NODE_EXTRA_CA_CERTS: TEST_CA, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
  })
  process.exit(r.status ?? 1)
}

const Credential = require('alicloud-credentials-native')

for (const k of Object.keys(process.env)) if (k.startsWith('ALIBABA_CLOUD_')) delete process.env[k]
process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:9'

function mask(value) {
  if (value === undefined) return undefined
  if (value === '') return "''"
  return value.length <= 8 ? '*'.repeat(value.length) : `${value.slice(0, 4)}****${value.slice(-4)}`
}

function show(label, result) {
  const shown = {
    type: result.type,
    providerName: result.providerName,
    accessKeyId: mask(result.accessKeyId),
    accessKeySecret: result.accessKeySecret === undefined ? undefined : `<${result.accessKeySecret.length} chars>`,
    securityToken: result.securityToken === undefined ? undefined : `<${result.securityToken.length} chars>`,
    bearerToken: result.bearerToken === undefined ? undefined : `<${result.bearerToken.length} chars>`,
  }
  for (const k of Object.keys(shown)) if (shown[k] === undefined) delete shown[k]
  console.log(`${label.padEnd(28)} ${JSON.stringify(shown)}`)
}

async function main() {
  console.log('alicloud-credentials-native demo (fake keys, nothing leaves this machine)\n')
  const { Config } = Credential
  show('access_key', await new Credential(new Config({ type: 'access_key', accessKeyId: 'LTAI5tDemoAccessKey01', accessKeySecret: 'demo-secret-value' })).getCredential())
  show('sts', await new Credential(new Config({ type: 'sts', accessKeyId: 'STS.DemoAccessKeyId02', accessKeySecret: 'demo-secret', securityToken: 'demo-security-token' })).getCredential())
  const bearer = new Credential(new Config({ type: 'bearer', bearerToken: 'demo-bearer-token' }))
  show('bearer', await bearer.getCredential())

  process.env.ALIBABA_CLOUD_ACCESS_KEY_ID = 'LTAI5tFromEnvironment3'
  process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET = 'env-secret'
  show('default chain (env)', await new Credential().getCredential())
  delete process.env.ALIBABA_CLOUD_ACCESS_KEY_ID
  delete process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET

  const vault = {
    getCredentials: async () => ({ accessKeyId: 'LTAI5tFromCustomVault4', accessKeySecret: 'vault-secret', providerName: 'vault' }),
    getProviderName: () => 'vault',
  }
  show('custom provider', await new Credential(null, vault).getCredential())

  console.log('\nsession types, against mock STS / metadata / URI services on 127.0.0.1:')
  const sts = await startSts({ keys: { LTAI5tDemoSourceKey05: { secret: 'demo-source-secret' } }, oidcToken: 'demo-oidc-token' })
  const metadata = await startMetadata()
  const uri = await startUri()
  const tokenFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'acn-demo-')), 'token')
  fs.writeFileSync(tokenFile, 'demo-oidc-token')
  try {
    show('ram_role_arn', await new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI5tDemoSourceKey05', accessKeySecret: 'demo-source-secret', roleArn: 'acs:ram::1:role/demo', stsEndpoint: sts.endpoint }).getCredential())
    show('oidc_role_arn', await new Credential({ type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/demo', oidcProviderArn: 'acs:ram::1:oidc-provider/demo', oidcTokenFilePath: tokenFile, stsEndpoint: sts.endpoint }).getCredential())
    process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = metadata.url
    show('ecs_ram_role', await new Credential({ type: 'ecs_ram_role' }).getCredential())
    show('credentials_uri', await new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential())
    // A session name of its own: the same config as above would share that credential's cache.
    const cold = { type: 'ram_role_arn', accessKeyId: 'LTAI5tDemoSourceKey05', accessKeySecret: 'demo-source-secret', roleArn: 'acs:ram::1:role/demo', roleSessionName: 'demo-cold', stsEndpoint: sts.endpoint }
    let before = sts.state.requests.length
    const one = new Credential(cold)
    await Promise.all(Array.from({ length: 100 }, () => one.getCredential()))
    console.log(`${'100 concurrent cold calls'.padEnd(28)} ${sts.state.requests.length - before} AssumeRole request(s)`)
    before = sts.state.requests.length
    for (let i = 0; i < 200; i++) await new Credential(cold).getCredential()
    console.log(`${'200 more new Credentials'.padEnd(28)} ${sts.state.requests.length - before} AssumeRole request(s): one session per identity`)
  } finally {
    process.env.ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT = 'http://127.0.0.1:9'
    fs.rmSync(path.dirname(tokenFile), { recursive: true, force: true })
    await Promise.all([sts.close(), metadata.close(), uri.close()])
  }

  try {
    await new Credential().getCredential()
  } catch (e) {
    console.log(`${'default chain (nothing set)'.padEnd(28)} ${e.code}: ${e.message.slice(0, 110)}...`)
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
