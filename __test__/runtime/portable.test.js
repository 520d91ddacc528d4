'use strict'
// The portable smoke suite (__test__/portable/smoke.mjs) under this node, once: `npm run matrix`
// runs it under the other runtimes and targets. Its name matches none of node --test's patterns,
// so it runs here and only here.

const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { ROOT, isolatedEnv } = require('../helpers')

test('the portable smoke suite passes under this node', async () => {
  const r = await new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, '__test__', 'portable', 'smoke.mjs')], { env: isolatedEnv(), encoding: 'utf8', timeout: 120000 }, (error, stdout, stderr) =>
      resolve({ status: error ? error.code : 0, stdout, stderr }),
    )
  })
  const summary = r.stdout.trim().split('\n').pop()
  assert.match(summary, /: \d+ passed, 0 failed/, r.stdout + r.stderr)
  assert.equal(r.status, 0, r.stdout + r.stderr)
  assert.ok(Number(summary.match(/(\d+) passed/)[1]) >= 12, summary)
})
