'use strict'
// External CLI profiles (process_command) against the official package's behaviour
// (dist/src/providers/external.js, dist/src/utils/command.js): output without an expiration is not
// cached, so the command runs on every call; output with one is cached; process_command is split
// with the official's rules and its error messages.

const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, withEnv, tempDir } = require('../helpers')

clearAlibabaEnv()
const Credential = require('alicloud-credentials-native')
const { CLIProfileCredentialsProvider } = Credential

const dir = tempDir('acn-external-')
let count = 0

// A command that appends a line to its own count file at each run and prints credentials with a
// random secret, expiring in `expiresIn` seconds (no expiration when undefined).
function tool(expiresIn) {
  const n = ++count
  const script = path.join(dir, `tool-${n}.js`)
  const runs = path.join(dir, `runs-${n}`)
  const secret = crypto.randomBytes(12).toString('hex')
  const expiration = expiresIn === undefined ? '' : `, expiration: new Date(Date.now() + ${expiresIn * 1000}).toISOString()`
  fs.writeFileSync(
    script,
    `require('fs').appendFileSync(${JSON.stringify(runs)}, 'run\\n'); console.log(JSON.stringify({ mode: 'AK', access_key_id: 'ext-id', access_key_secret: ${JSON.stringify(secret)}${expiration} }))`,
  )
  const config = path.join(dir, `config-${n}.json`)
  const command = `"${process.execPath}" "${script}"`
  fs.writeFileSync(config, JSON.stringify({ current: 'ext', profiles: [{ name: 'ext', mode: 'External', process_command: command }] }), { mode: 0o600 })
  const runCount = () => (fs.existsSync(runs) ? fs.readFileSync(runs, 'utf8').split('\n').filter(Boolean).length : 0)
  return { config, secret, runCount }
}

test('no expiration in the output: the command runs again on every call (provider)', async () => {
  const t = tool()
  await withEnv({ ALIBABA_CLOUD_CONFIG_FILE: t.config }, async () => {
    const provider = CLIProfileCredentialsProvider.builder().build()
    for (let i = 0; i < 3; i++) assert.equal((await provider.getCredentials()).accessKeySecret, t.secret)
  })
  assert.equal(t.runCount(), 3)
})

test('no expiration in the output: the command runs again on every call (Credential, default chain)', async () => {
  const t = tool()
  await withEnv({ ALIBABA_CLOUD_CONFIG_FILE: t.config, ALIBABA_CLOUD_CREDENTIALS_FILE: path.join(dir, 'absent') }, async () => {
    const c = new Credential()
    for (let i = 0; i < 3; i++) assert.equal((await c.getCredential()).accessKeySecret, t.secret)
  })
  assert.equal(t.runCount(), 3)
})

test('an expiration an hour ahead: the command runs once for three calls', async () => {
  const t = tool(3600)
  await withEnv({ ALIBABA_CLOUD_CONFIG_FILE: t.config }, async () => {
    const provider = CLIProfileCredentialsProvider.builder().build()
    for (let i = 0; i < 3; i++) assert.equal((await provider.getCredentials()).accessKeySecret, t.secret)
    const c = new Credential()
    for (let i = 0; i < 3; i++) assert.equal((await c.getCredential()).accessKeySecret, t.secret)
  })
  // The provider and the Credential may build one shared provider or two: once each at most.
  assert.ok(t.runCount() >= 1 && t.runCount() <= 2, `ran ${t.runCount()} times`)
})

test('process_command: the official split errors, word for word', async () => {
  const cases = [
    ['tool\\', 'invalid process_command: trailing backslash'],
    ['tool --flag \\', 'invalid process_command: trailing backslash'],
    ['', 'process_command is empty'],
    ['   ', 'process_command is empty'],
    ['"" --flag', 'process_command is empty'],
    ["'' --flag", 'process_command is empty'],
    ['tool "unclosed', 'invalid process_command: unclosed quote'],
    ["tool 'unclosed", 'invalid process_command: unclosed quote'],
  ]
  for (const [command, message] of cases) {
    const config = path.join(dir, `split-${++count}.json`)
    fs.writeFileSync(config, JSON.stringify({ current: 'e', profiles: [{ name: 'e', mode: 'External', process_command: command }] }))
    await withEnv({ ALIBABA_CLOUD_CONFIG_FILE: config }, () =>
      assert.rejects(CLIProfileCredentialsProvider.builder().build().getCredentials(), (e) => {
        assert.ok(e.message.startsWith(message), `${JSON.stringify(command)}: ${e.message}`)
        return true
      }),
    )
  }
})
