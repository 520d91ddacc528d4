'use strict'
// `npm run demo`: shows what each credential source returns, without printing a secret. Everything
// is local: fake keys, and (for session types) mock services on 127.0.0.1.

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
