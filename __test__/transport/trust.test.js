'use strict'
// Which certificate authorities an HTTPS request trusts: what Node trusts, as the official package
// (which uses Node's https) does. By default that is the bundled Mozilla roots and the PEM file
// named by NODE_EXTRA_CA_CERTS, not the operating system's store (nor SSL_CERT_FILE, which feeds
// it); with --use-openssl-ca / --use-system-ca (command line or NODE_OPTIONS) or
// NODE_USE_SYSTEM_CA=1, the OS store too. Both packages run in one child process against one
// loopback STS whose certificate only the test CA signs.

const test = require('node:test')
const assert = require('node:assert/strict')
const { clearAlibabaEnv, isolatedEnv, runNodeAsync, randomKey } = require('../helpers')
const { TEST_CA, startSts } = require('../mocks')

clearAlibabaEnv()

const { id, secret } = randomKey()
let sts
test.before(async () => {
  sts = await startSts({ keys: { [id]: { secret } } })
})
test.after(() => sts.close())

// Outcome of one ram_role_arn credential per package, with `env` on top of an environment that
// trusts nothing extra, and `args` before the script.
async function both(env, args = []) {
  const config = { type: 'ram_role_arn', accessKeyId: id, accessKeySecret: secret, roleArn: 'acs:ram::1:role/trust', stsEndpoint: sts.endpoint }
  const code = `
const run = async (mod) => {
  const C = mod.default || mod
  try {
    await new C(new mod.Config(${JSON.stringify(config)})).getCredential()
    return 'trusted'
  } catch (e) {
    return /certificate|self[- ]signed|issuer/i.test(e.message) ? 'untrusted' : 'failed: ' + e.message
  }
}
;(async () => {
  const official = await run(require('@alicloud/credentials'))
  const ours = await run(require('alicloud-credentials-native'))
  console.log(JSON.stringify({ official, ours }))
})()`
  const base = isolatedEnv(env)
  for (const k of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_OPTIONS', 'NODE_USE_SYSTEM_CA']) {
    if (!(k in env)) delete base[k]
  }
  const r = await runNodeAsync(code, { env: base, args })
  assert.equal(r.status, 0, r.stderr)
  return JSON.parse(r.stdout.trim().split('\n').at(-1))
}

test('NODE_EXTRA_CA_CERTS is trusted, as by Node', async () => {
  assert.deepEqual(await both({ NODE_EXTRA_CA_CERTS: TEST_CA }), { official: 'trusted', ours: 'trusted' })
})

test('without it, a CA only the OS store (SSL_CERT_FILE) holds is not trusted, as by Node', async () => {
  assert.deepEqual(await both({ SSL_CERT_FILE: TEST_CA }), { official: 'untrusted', ours: 'untrusted' })
})

test('--use-openssl-ca in NODE_OPTIONS: the OS store is trusted, as by Node', async () => {
  assert.deepEqual(await both({ SSL_CERT_FILE: TEST_CA, NODE_OPTIONS: '--use-openssl-ca' }), { official: 'trusted', ours: 'trusted' })
})

test('--use-openssl-ca on the command line: the OS store is trusted, as by Node', async () => {
  assert.deepEqual(await both({ SSL_CERT_FILE: TEST_CA }, ['--use-openssl-ca']), { official: 'trusted', ours: 'trusted' })
})

test('NODE_USE_SYSTEM_CA=1 adds the OS store to ours (Node 23.8 and later read it too)', async () => {
  const r = await both({ SSL_CERT_FILE: TEST_CA, NODE_USE_SYSTEM_CA: '1' })
  assert.equal(r.ours, 'trusted')
})
