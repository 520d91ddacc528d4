'use strict'
// Test isolation: a mock server's URL is part of the identities of the Credentials made for it,
// which the registry keeps for a linger (60 s) after their last use; the OS gives a new server the
// port of one closed moments ago within a few dozen servers here. So no two mock servers of one
// process ever share a port (mocks.js listen()), and a Credential made for a new server asks that
// server, never the cache of a closed one that had its URL.

const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const net = require('node:net')
const { clearAlibabaEnv, randomKey, withEnv } = require('../helpers')
const { TEST_CA, listen, startSts, startMetadata, startUri, startSignIn } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')

test('a Credential for each of 300 credentials-URI mocks, started and closed in turn, is served by its own server', { timeout: 120_000 }, async () => {
  const portsSeen = new Map()
  for (let i = 0; i < 300; i++) {
    const uri = await startUri()
    try {
      const r = await new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential()
      const earlier = portsSeen.has(uri.port) ? `; server ${portsSeen.get(uri.port)} had port ${uri.port}` : ''
      assert.equal(uri.state.requests.length, 1, `server ${i} was not asked${earlier}`)
      assert.equal(r.accessKeyId, 'STS.uri-1')
      portsSeen.set(uri.port, i)
    } finally {
      await uri.close()
    }
  }
})

test('every kind of mock server, started and closed in turn, gets a port no other in the process had', { timeout: 120_000 }, async () => {
  const { id, secret } = randomKey()
  const starters = [
    () => startSts({ keys: { [id]: { secret } } }),
    () => startSts({ tls: false }),
    () => startMetadata(),
    () => startUri(),
    () => startUri({ tls: true }),
    () => startSignIn(),
    () => listen(net.createServer()),
    () => listen(http.createServer(), '::'),
  ]
  const owners = new Map()
  for (let i = 0; i < 400; i++) {
    const kind = i % starters.length
    const server = await starters[kind]()
    await server.close()
    assert.ok(!owners.has(server.port), `server ${i} (kind ${kind}) got port ${server.port}, which server ${owners.get(server.port)} had`)
    owners.set(server.port, `${owners.size} (kind ${kind})`)
  }
  // The same AssumeRole from a new STS server is asked of that server.
  for (let i = 0; i < 3; i++) {
    const sts = await startSts({ keys: { [id]: { secret } } })
    try {
      const config = { type: 'ram_role_arn', accessKeyId: id, accessKeySecret: secret, roleArn: 'acs:ram::1:role/isolation', roleSessionName: 'isolation', stsEndpoint: sts.endpoint }
      assert.equal((await new Credential(config).getCredential()).accessKeyId, 'STS.issued-1')
      assert.equal(sts.state.requests.length, 1)
    } finally {
      await sts.close()
    }
  }
  // And the metadata service's.
  for (let i = 0; i < 3; i++) {
    const md = await startMetadata()
    try {
      const c = await withEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: md.url }, () => new Credential({ type: 'ecs_ram_role', roleName: 'EcsRamRoleTest' }))
      assert.equal((await c.getCredential()).accessKeyId, 'STS.ecs-1')
    } finally {
      await md.close()
    }
  }
})
