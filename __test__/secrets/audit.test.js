'use strict'
// The secrets audit can fail: `audit()` finds a recorded secret in each form, the mocks' issued
// values, the fixed ones and unmasked IDs, and the runner (scripts/run-tests.js) fails a run whose
// files print a recorded secret, or whose tests fail, and passes a clean one.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { ROOT, isolatedEnv } = require('../helpers')
const { audit } = require('../audit')
const { secretForms } = require('../mocks')

test('audit() finds every form of a recorded secret, issued and fixed values, unmasked IDs', () => {
  const secret = 'planted-Zm9v+/ "\\&=é0a1b2c'
  assert.deepEqual(audit(['a clean line', 'alicloud-credentials:session refresh x ok in 3 ms: STS.****'], [secret]), [])
  for (const form of secretForms(secret)) {
    const problems = audit([`error: ${form}`], [secret])
    assert.equal(problems.length, 1, form)
    assert.match(problems[0], /^secrets in the output/)
  }
  assert.equal(audit(['got issued-secret-7'], []).length, 1)
  assert.equal(audit(['the very-secret-value leaked'], []).length, 1)
  assert.match(audit(['alicloud-credentials:session refresh ok: STS.issued-3'], [])[0], /not masked/)
})

test('audit() of a whole run asks for every log topic, ten random secrets and a masked refresh line', () => {
  const problems = audit(['nothing logged'], [], { whole: true })
  for (const topic of ['session', 'http', 'chain', 'error', 'profile']) assert.ok(problems.includes(`no alicloud-credentials:${topic} line was logged`), topic)
  assert.ok(problems.some((p) => p.includes('fewer than 10')))
  assert.ok(problems.includes('no refresh line with a masked ID was logged'))
})

function runner(file, extra = {}) {
  const env = isolatedEnv(extra)
  delete env.NODE_TEST_CONTEXT // a runner of its own, not a child of this one
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'scripts', 'run-tests.js'), path.join(__dirname, '..', 'fixtures', 'audit', file)], { cwd: ROOT, env, encoding: 'utf8', timeout: 60000 }, (error, stdout, stderr) =>
      resolve({ status: error ? error.code : 0, output: stdout + stderr }),
    )
  })
}

test('the runner fails a run that printed a recorded secret (raw, JSON-escaped, percent-encoded)', { timeout: 120000 }, async () => {
  for (const form of [0, 1, 4]) {
    const r = await runner('leaks.js', { ACN_LEAK_FORM: String(form) })
    assert.equal(r.status, 1, `form ${form}`)
    assert.match(r.output, /✖ secrets audit/)
    assert.match(r.output, /careless line/)
  }
})

test('the runner passes a clean run and fails one whose test fails', { timeout: 120000 }, async () => {
  const clean = await runner('clean.js')
  assert.equal(clean.status, 0, clean.output)
  assert.match(clean.output, /✔ secrets audit: \d+ lines, 1 random secrets, nothing leaked/)
  const failing = await runner('clean.js', { ACN_FAIL: '1' })
  assert.equal(failing.status, 1)
  assert.match(failing.output, /failing as asked/)
})
