'use strict'
// The secrets audit: what `scripts/run-tests.js` checks in everything the suite printed while it
// ran with `DEBUG=alicloud-credentials*` (every log line, every error this package creates, every
// warning, the stderr of the child processes tests start, the test names and failure messages):
// no secret, token or bearer value of the suite appears in any of it, and AccessKey IDs in log
// lines are masked. `secrets/audit.test.js` feeds it planted leaks.

const fs = require('node:fs')
const path = require('node:path')
const { secretForms } = require('./mocks')

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

// The log topics a whole run must have printed lines of (so the audit is known to have seen them).
const TOPICS = ['session', 'http', 'chain', 'error', 'profile']

/** The random secrets every process of the run recorded in `dir`. */
function recordedSecrets(dir) {
  return fs
    .readdirSync(dir)
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter(Boolean)
    .map((line) => JSON.parse(line))
}

/**
 * The problems found in `lines` (everything printed), given the `random` secrets recorded.
 * `whole`: the lines are a whole `npm test` run, which must also show that the audit saw log lines
 * of every topic, random secrets and masked refresh lines. Returns a list of messages; empty: clean.
 */
function audit(lines, random, { whole = false } = {}) {
  const problems = []
  const randomForms = random.flatMap(secretForms).filter(Boolean)
  const leaks = lines.filter((l) => ISSUED.test(l) || FIXED.some((s) => l.includes(s)) || randomForms.some((f) => l.includes(f)))
  if (leaks.length) problems.push(`secrets in the output:\n${leaks.map((l) => `  ${l}`).join('\n')}`)
  const logLines = lines.filter((l) => l.includes('alicloud-credentials:'))
  const unmasked = logLines.filter((l) => /\bSTS\.(issued|ecs|uri|signin)-\d+\b|LTAI-[\w-]+/.test(l) && l.includes('alicloud-credentials:session'))
  if (unmasked.length) problems.push(`AccessKey IDs not masked in log lines:\n${unmasked.map((l) => `  ${l}`).join('\n')}`)
  if (whole) {
    for (const topic of TOPICS) {
      if (!logLines.some((l) => l.includes(`alicloud-credentials:${topic} `))) problems.push(`no alicloud-credentials:${topic} line was logged`)
    }
    if (random.length < 10) problems.push(`the suite recorded ${random.length} random secrets, fewer than 10`)
    if (!logLines.some((l) => /alicloud-credentials:session refresh \S+ ok in \d+ ms: STS\.\*\*\*\*/.test(l))) problems.push('no refresh line with a masked ID was logged')
  }
  return problems
}

module.exports = { audit, recordedSecrets, ISSUED, FIXED }
