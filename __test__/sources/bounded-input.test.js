'use strict'
// Files and commands from outside are read with bounds: a FIFO (which blocks a plain open for
// ever) or an endless device (/dev/zero) given as the OIDC token file, the INI credentials file or
// the CLI's config.json is a clear error naming the path, and an external command printing without
// end is cut off. Each case runs in a child process with a timeout and a memory limit, so a hang
// or unbounded growth fails the test instead of hanging the suite or the machine.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile, execFileSync } = require('node:child_process')
const { ROOT, isolatedEnv, tempDir } = require('../helpers')

const unix = process.platform !== 'win32'
const dir = tempDir('acn-bounded-')
const fifo = path.join(dir, 'fifo')
const zero = path.join(dir, 'zero')
if (unix) {
  execFileSync('mkfifo', [fifo])
  fs.symlinkSync('/dev/zero', zero)
}

// Runs `code` (which gets `Credential`) in a child limited to 3 GB of address space and 20 s;
// resolves to { status, signal, out } where out is what it printed.
function child(code, env = {}) {
  const script = `const Credential = require(${JSON.stringify(ROOT)});\n${code}`
  return new Promise((resolve) => {
    execFile(
      '/bin/sh',
      ['-c', 'ulimit -v 3000000; exec "$0" -e "$1"', process.execPath, script],
      { env: isolatedEnv(env), timeout: 20000, encoding: 'utf8', maxBuffer: 1 << 20 },
      (error, stdout) => resolve({ status: error ? error.code : 0, signal: error?.signal ?? null, out: stdout.trim() }),
    )
  })
}

const REPORT = `.then(() => console.log('resolved'), (e) => console.log('rejected: ' + e.message))`

const OIDC = (file) => `new Credential(new Credential.Config({
  type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/r', oidcProviderArn: 'acs:ram::1:oidc-provider/p',
  oidcTokenFilePath: ${JSON.stringify(file)}, stsEndpoint: '127.0.0.1:9',
})).getCredential()${REPORT}`
const INI = `Credential.ProfileCredentialsProvider.builder().build().getCredentials()${REPORT}`
const CLI = `Credential.CLIProfileCredentialsProvider.builder().build().getCredentials()${REPORT}`

const cases = [
  ['the OIDC token file', (file) => [OIDC(file), {}]],
  ['ALIBABA_CLOUD_CREDENTIALS_FILE', (file) => [INI, { ALIBABA_CLOUD_CREDENTIALS_FILE: file }]],
  ['ALIBABA_CLOUD_CONFIG_FILE', (file) => [CLI, { ALIBABA_CLOUD_CONFIG_FILE: file }]],
]

for (const [name, make] of cases) {
  test(`a FIFO as ${name}: a clear error naming the path, no hang`, { skip: !unix }, async () => {
    const r = await child(...make(fifo))
    assert.equal(r.signal, null, 'the child was not killed at the timeout')
    assert.equal(r.status, 0)
    assert.match(r.out, /^rejected: .*is a FIFO, not a regular file/)
    assert.ok(r.out.includes(fifo), r.out)
  })

  test(`a symlink to /dev/zero as ${name}: a clear error naming the path, bounded memory`, { skip: !unix }, async () => {
    const r = await child(...make(zero))
    assert.equal(r.signal, null)
    assert.equal(r.status, 0)
    assert.match(r.out, /^rejected: .*is a device, not a regular file/)
    assert.ok(r.out.includes(zero), r.out)
  })
}

test('a profile file over the 1 MiB limit is refused, naming the path and the limit', async () => {
  const big = path.join(dir, 'big.json')
  fs.writeFileSync(big, JSON.stringify({ current: 'a', profiles: [{ name: 'a', mode: 'AK', access_key_id: 'x', access_key_secret: 'y' }], pad: 'p'.repeat(1024 * 1024) }))
  const r = await child(CLI, { ALIBABA_CLOUD_CONFIG_FILE: big })
  assert.equal(r.status, 0)
  assert.match(r.out, /^rejected: .*is larger than the limit of 1048576 bytes/)
  assert.ok(r.out.includes(big), r.out)
})

test('an external command printing without end: a clear error, bounded memory', { skip: !unix }, async () => {
  const config = path.join(dir, 'external.json')
  fs.writeFileSync(config, JSON.stringify({ current: 'ext', profiles: [{ name: 'ext', mode: 'External', process_command: 'yes' }] }), { mode: 0o600 })
  const r = await child(CLI, { ALIBABA_CLOUD_CONFIG_FILE: config })
  assert.equal(r.signal, null, 'the child was not killed at the timeout')
  assert.equal(r.status, 0)
  assert.match(r.out, /^rejected: failed to execute external command: its output is larger than the limit of \d+ bytes/)
})
