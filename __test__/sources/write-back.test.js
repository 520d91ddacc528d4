'use strict'
// Write-back of refreshed CLI credentials into config.json: a symlinked config.json updates its
// target (the link stays a link, the mode is kept); OAuth's read-refresh-write holds the file lock,
// so two processes sharing the file spend the refresh token once; a failed write-back is logged
// (without a secret) and the fresh credentials are still returned.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT, clearAlibabaEnv, isolatedEnv, runNodeAsync, withEnv, tempDir } = require('../helpers')
const { TEST_CA, startSignIn } = require('../mocks')

clearAlibabaEnv()
process.env.NODE_EXTRA_CA_CERTS = TEST_CA
const Credential = require('alicloud-credentials-native')
const { CLIProfileCredentialsProvider } = Credential

const unix = process.platform !== 'win32'
const dir = tempDir('acn-writeback-')
let count = 0

// An External profile whose command prints a random secret expiring in an hour.
function externalProfile() {
  const n = ++count
  const secret = crypto.randomBytes(12).toString('hex')
  const script = path.join(dir, `tool-${n}.js`)
  fs.writeFileSync(
    script,
    `console.log(JSON.stringify({ mode: 'AK', access_key_id: 'ext-id-${n}', access_key_secret: ${JSON.stringify(secret)}, expiration: new Date(Date.now() + 3600e3).toISOString() }))`,
  )
  return { secret, profile: { name: 'ext', mode: 'External', process_command: `"${process.execPath}" "${script}"` } }
}

test('a symlinked config.json: the target is updated, the link stays a link, the mode is kept', { skip: !unix }, async () => {
  const { secret, profile } = externalProfile()
  const realDir = path.join(dir, 'dotfiles')
  fs.mkdirSync(realDir, { recursive: true })
  const real = path.join(realDir, 'config.json')
  fs.writeFileSync(real, JSON.stringify({ current: 'ext', profiles: [profile] }), { mode: 0o640 })
  fs.chmodSync(real, 0o640)
  const link = path.join(dir, 'config.json')
  fs.symlinkSync(real, link)
  const r = await withEnv({ ALIBABA_CLOUD_CONFIG_FILE: link }, () => CLIProfileCredentialsProvider.builder().build().getCredentials())
  assert.equal(r.accessKeySecret, secret)
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'config.json is still a symlink')
  const saved = JSON.parse(fs.readFileSync(real, 'utf8')).profiles[0]
  assert.equal(saved.access_key_secret, secret, 'the target holds the new credentials')
  assert.equal(fs.statSync(real).mode & 0o777, 0o640, 'the target keeps its mode')
})

test('a failed write-back is logged without a secret; the fresh credentials are returned', async () => {
  const { secret, profile } = externalProfile()
  const file = path.join(dir, `failing-${count}.json`)
  fs.writeFileSync(file, JSON.stringify({ current: 'ext', profiles: [profile] }), { mode: 0o600 })
  // A directory where the lock file goes: the lock cannot be opened (even as root).
  fs.mkdirSync(`${file}.lock`)
  const code = `
const Credential = require(${JSON.stringify(ROOT)})
Credential.CLIProfileCredentialsProvider.builder().build().getCredentials()
  .then((c) => console.log(c.accessKeySecret), (e) => console.log('rejected: ' + e.message))`
  const r = await runNodeAsync(code, { env: isolatedEnv({ ALIBABA_CLOUD_CONFIG_FILE: file, DEBUG: 'alicloud-credentials*' }) })
  assert.equal(r.status, 0)
  assert.equal(r.stdout.trim(), secret, 'the fresh credentials are returned')
  const line = r.stderr.split('\n').find((l) => l.includes('write-back') && l.includes('failed'))
  assert.ok(line, `a write-back failure is logged:\n${r.stderr}`)
  assert.ok(line.includes(file), line)
  assert.ok(!r.stderr.includes(secret), 'no secret in the log')
})

test('OAuth: two processes refreshing the same config.json spend the refresh token once', async () => {
  const signIn = await startSignIn({ refreshToken: 'oauth-refresh-1' })
  try {
    // Slow answers, so the second process asks while the first one's refresh is in flight.
    signIn.state.delayMs = 700
    const file = path.join(dir, 'oauth.json')
    const profile = {
      name: 'oauth',
      mode: 'OAuth',
      oauth_site_type: 'CN',
      oauth_refresh_token: 'oauth-refresh-1',
      oauth_access_token: 'old-access',
      oauth_access_token_expire: Math.floor(Date.now() / 1000) + 600,
    }
    fs.writeFileSync(file, JSON.stringify({ current: 'oauth', profiles: [profile] }), { mode: 0o600 })
    const code = `
const Credential = require(${JSON.stringify(ROOT)})
Credential.CLIProfileCredentialsProvider.builder().build().getCredentials()
  .then((c) => console.log('ok ' + c.accessKeyId), (e) => console.log('rejected: ' + e.message))`
    const env = isolatedEnv({ ALIBABA_CLOUD_CONFIG_FILE: file, ALIBABA_CLOUD_OAUTH_SIGN_IN_URL: signIn.url, NODE_EXTRA_CA_CERTS: TEST_CA })
    const [a, b] = await Promise.all([runNodeAsync(code, { env }), runNodeAsync(code, { env })])
    assert.match(a.stdout, /^ok STS\.signin-/, a.stdout + a.stderr)
    assert.match(b.stdout, /^ok STS\.signin-/, b.stdout + b.stderr)
    const refreshes = signIn.state.requests.filter((q) => q.path === '/v1/token')
    assert.equal(refreshes.length, 1, 'one refresh for both processes')
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')).profiles[0]
    assert.equal(saved.oauth_refresh_token, signIn.state.refreshToken, 'the file holds the live refresh token')
  } finally {
    await signIn.close()
  }
})
