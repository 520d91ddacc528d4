'use strict'
// Which files `npm test` and `npm run test:deploy` run (scripts/run-tests.js): every test file
// under __test__/ at any depth, a new one dropped at the top included, except deploy/ (which is
// test:deploy's) and fixtures/; and each file in exactly one of the two.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { ROOT } = require('../helpers')
const { selectFiles } = require('../../scripts/run-tests')

const TESTS = path.join(ROOT, '__test__')
const rel = (files) => files.map((f) => path.relative(TESTS, f).split(path.sep).join('/'))

test('npm test takes every test file at any depth but deploy/ and fixtures/; test:deploy takes deploy/', () => {
  const all = selectFiles([])
  const deploy = selectFiles(['--deploy'])
  assert.equal(all.whole, true)
  assert.ok(rel(all.files).includes('runtime/test-runner.test.js'))
  assert.ok(rel(all.files).includes('api/module-shape.test.js'))
  assert.ok(!rel(all.files).some((f) => f.startsWith('deploy/') || f.startsWith('fixtures/')), rel(all.files).join(' '))
  assert.deepEqual(rel(deploy.files), ['deploy/bundlers.test.js', 'deploy/nextjs.test.js', 'deploy/packaging.test.js', 'deploy/registry-installs.test.js'])
  // Every test file of the tree is in exactly one of the two.
  const onDisk = []
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      if (e.isDirectory() && p !== path.join(TESTS, 'fixtures')) walk(p)
      else if (e.isFile() && /\.test\.[cm]?js$/.test(e.name)) onDisk.push(p)
    }
  }
  walk(TESTS)
  assert.deepEqual([...all.files, ...deploy.files].sort(), onDisk.sort())
})

test('a test file dropped directly into __test__/ is run by npm test', (t) => {
  const file = path.join(TESTS, `zz-dropped-${process.pid}.test.js`)
  fs.writeFileSync(file, '')
  t.after(() => fs.rmSync(file, { force: true }))
  assert.ok(selectFiles([]).files.includes(file))
  assert.ok(!selectFiles(['--deploy']).files.includes(file))
})

test('paths given run as given, folders searched at any depth', () => {
  const some = selectFiles([path.join(TESTS, 'secrets')])
  assert.equal(some.whole, false)
  assert.deepEqual(rel(some.files), ['secrets/audit.test.js', 'secrets/scrubbing.test.js', 'secrets/secrets.test.js'])
})
