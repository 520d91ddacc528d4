'use strict'
// The secrets audit: runs the whole node test suite again with `DEBUG=alicloud-credentials*`,
// collects everything it prints (every log line, every error this package creates, every warning,
// the stderr of the child processes tests start) and checks that no secret, token or bearer value
// of the suite appears in any of it, and that AccessKey IDs in log lines are masked.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { ROOT, tempDir } = require('./helpers')
const { secretForms } = require('./mocks')

// The packaging and registry tests install real packages and print nothing of ours (static keys
// only): left out to save two minutes.
const SKIP = new Set(['zz-secrets-audit.test.js', 'packaging.test.js', 'registry-installs.test.js'])

// Every secret value the suite uses: the random ones (recorded by `randomSecret()` in the
// directory named by ACN_AUDIT_SECRETS, by every process of the run), those the mocks issue, and
// the fixed ones of the test files.
const ISSUED = /\b(issued|ecs|uri|signin)-(secret|token)-\d+\b|\bmetadata-token-\d+\b|\boauth-(access|refresh)-\d+\b/
const FIXED = [
  'source-secret', 'sts-source-secret', 'sts-source-token', 'cli-secret', 'cli-token', 'prov-secret', 'js-secret',
  'static-secret', 'sts-static-secret', 'sts-static-token', 'role-source-secret', 'bearer-token-1', 'hostile-secret',
  'ak-secret-0001', 'sts-secret-0001', 'sts-token-0001', 'bearer-token-0001', 'SECRET-ak-secret-7d1f',
  'SECRET-sts-token-99aa', 'SECRET-bearer-3c3c', 'SECRET-ext-0b0b', 'env-secret', 'env-token', 'ini-secret',
  'late-secret', 'proj-secret', 'def # secret', 'ext-secret', 'ext-token', 'cli-oidc-token', 'chain-oidc-token',
  'oidc-token-v1', 'oidc-token-v2', 'sso-access-token', 'forged-token', 'test-secret-0001', 'very-secret-value',
  'vault-secret', 'assigned-secret', 'prov-secret', 'ext-external', 'cli-external', 'intl-access', 'intl-refresh',
  'diag-secret-value', 'diag-token-value', 'diag-bearer-value', 'life-secret', 'life-oidc-token', 'soak-secret', 'wrong-value',
]

test('no secret in anything the suite prints with debug logging on; IDs in logs are masked', { skip: Boolean(process.env.ACN_AUDIT), timeout: 600000 }, async () => {
  const files = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js') && !SKIP.has(f)).map((f) => path.join(__dirname, f))
  const recorded = tempDir('acn-audit-')
  const env = { ...process.env, DEBUG: 'alicloud-credentials*', ACN_AUDIT: '1', ACN_AUDIT_SECRETS: recorded }
  delete env.NODE_TEST_CONTEXT // a nested runner, not a child of this one
  const { status, output } = await new Promise((resolve) => {
    execFile(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=600000', '--test-reporter=tap', ...files], { cwd: ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 590000 }, (error, stdout, stderr) => {
      resolve({ status: error ? error.code : 0, output: `${stdout}\n${stderr}` })
    })
  })
  assert.equal(status, 0, `the suite passes with debug logging on:\n${output.split('\n').filter((l) => l.startsWith('not ok')).join('\n')}`)
  const logLines = output.split('\n').filter((l) => l.includes('alicloud-credentials:'))
  for (const topic of ['session', 'http', 'chain', 'error', 'profile']) {
    assert.ok(logLines.some((l) => l.includes(`alicloud-credentials:${topic} `)), `some ${topic} lines were logged`)
  }
  const random = fs
    .readdirSync(recorded)
    .flatMap((f) => fs.readFileSync(path.join(recorded, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line))
  fs.rmSync(recorded, { recursive: true, force: true })
  assert.ok(random.length >= 10, `the suite used random secrets (${random.length} recorded)`)
  const randomForms = random.flatMap(secretForms)
  const leaks = output.split('\n').filter((l) => ISSUED.test(l) || FIXED.some((s) => l.includes(s)) || randomForms.some((f) => l.includes(f)))
  assert.deepEqual(leaks, [], 'no secret in the output')
  const unmasked = logLines.filter((l) => /\bSTS\.(issued|ecs|uri|signin)-\d+\b|LTAI-[\w-]+/.test(l) && l.includes('alicloud-credentials:session'))
  assert.deepEqual(unmasked, [], 'AccessKey IDs are masked in log lines')
  assert.ok(logLines.some((l) => /alicloud-credentials:session refresh \S+ ok in \d+ ms: STS\.\*\*\*\*/.test(l)), 'refresh lines show masked IDs')
})
