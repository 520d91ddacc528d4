#!/usr/bin/env node
'use strict'
// The node test runner of `npm test` and `npm run test:deploy`: one run of the test files, one
// process per file, one file at a time, with `DEBUG=alicloud-credentials*`, and the secrets audit
// (`__test__/audit.js`) over everything the run printed, checked after the last file.
//
//   node scripts/run-tests.js            every *.test.{js,cjs,mjs} under __test__/, at any depth,
//                                        except __test__/deploy/ and __test__/fixtures/ (npm test)
//   node scripts/run-tests.js --deploy   those under __test__/deploy/ (npm run test:deploy): they
//                                        install packages or build with bundlers
//   node scripts/run-tests.js PATH...    the test files under each PATH (a file is taken as given)
//
// Each file's stdout and stderr (the tests' own lines, the log lines, what child processes wrote:
// `helpers.forStderrAudit`) and the reporter's text (test names, failure messages) are audited.
// Log lines go to .cache/test-output.log rather than the console; every other line is shown.
// At the end it prints the slowest files. The exit status is 1 when a test failed or the audit
// found a problem.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { run } = require('node:test')
const { spec } = require('node:test/reporters')

const ROOT = path.join(__dirname, '..')
const TESTS = path.join(ROOT, '__test__')
const DEPLOY = path.join(TESTS, 'deploy')
const FIXTURES = path.join(TESTS, 'fixtures')
const TEST_FILE = /\.test\.[cm]?js$/

// The test files under `dir` at any depth, sorted, leaving out the directories in `skip`.
function testFiles(dir, skip = []) {
  if (skip.includes(dir)) return []
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((e) => {
      const p = path.join(dir, e.name)
      if (e.isDirectory()) return testFiles(p, skip)
      return e.isFile() && TEST_FILE.test(e.name) ? [p] : []
    })
}

function selectFiles(args) {
  const deploy = args.includes('--deploy')
  const paths = args.filter((a) => !a.startsWith('--'))
  if (paths.length) {
    const files = paths.flatMap((p) => (fs.statSync(p).isDirectory() ? testFiles(path.resolve(p), [FIXTURES]) : [path.resolve(p)]))
    return { files, whole: false }
  }
  if (deploy) return { files: testFiles(DEPLOY), whole: false }
  return { files: testFiles(TESTS, [DEPLOY, FIXTURES]), whole: true }
}

const isLogLine = (line) => /alicloud-credentials:\w+ /.test(line)

async function main() {
  const { files, whole } = selectFiles(process.argv.slice(2))
  if (!files.length) throw new Error('no test files selected')
  const { audit, recordedSecrets } = require(path.join(TESTS, 'audit'))

  // Every process of the run (each test file's and the children they start) inherits these.
  const recorded = fs.mkdtempSync(path.join(os.tmpdir(), 'acn-audit-'))
  process.env.DEBUG = 'alicloud-credentials*'
  process.env.ACN_AUDIT = '1'
  process.env.ACN_AUDIT_SECRETS = recorded

  const logFile = path.join(ROOT, '.cache', 'test-output.log')
  fs.mkdirSync(path.dirname(logFile), { recursive: true })
  const log = fs.createWriteStream(logFile)

  const printed = [] // every line printed or logged, for the audit
  const reporter = new spec()
  reporter.on('data', (chunk) => {
    const text = chunk.toString()
    printed.push(text)
    process.stdout.write(text)
  })
  const reporterDone = new Promise((resolve) => reporter.on('end', resolve))

  let failed = 0
  let passed = 0
  const lastEvent = new Map() // file -> time of its last event: files run one after another
  const started = Date.now()
  const stream = run({ files, concurrency: 1, timeout: 600000 })
  stream.on('data', (event) => {
    const { type, data } = event
    if (data?.file) lastEvent.set(data.file, Date.now())
    if (type === 'test:fail' && !data.todo) failed++
    if (type === 'test:pass' && data.nesting === 0) passed++
    if (type === 'test:stdout' || type === 'test:stderr') {
      printed.push(data.message)
      log.write(`[${path.relative(ROOT, data.file ?? '')}] ${data.message}`)
      // Log lines only in the file: a whole run prints tens of thousands.
      const shown = data.message
        .split(/(?<=\n)/)
        .filter((l) => !isLogLine(l))
        .join('')
      if (!shown) return
      reporter.write({ ...event, data: { ...data, message: shown } })
      return
    }
    reporter.write(event)
  })
  await new Promise((resolve) => stream.on('end', resolve))
  reporter.end()
  await reporterDone
  await new Promise((resolve) => log.end(resolve))

  const lines = printed.join('').split('\n')
  const random = recordedSecrets(recorded)
  fs.rmSync(recorded, { recursive: true, force: true })
  const problems = audit(lines, random, { whole })

  // Each file's time: from the previous file's last event to its own last one.
  const times = []
  let previous = started
  for (const [file, at] of [...lastEvent].sort((a, b) => a[1] - b[1])) {
    times.push([path.relative(ROOT, file), at - previous])
    previous = at
  }
  const slowest = times.sort((a, b) => b[1] - a[1]).slice(0, 10)
  console.log(`\n${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s; the slowest:`)
  for (const [file, ms] of slowest) console.log(`  ${(ms / 1000).toFixed(1).padStart(6)} s  ${file}`)
  console.log(`log lines and test output: ${path.relative(ROOT, logFile)}`)

  if (problems.length) {
    console.log(`\n✖ secrets audit (${lines.length} lines, ${random.length} random secrets):`)
    for (const p of problems) console.log(`  ${p}`)
  } else {
    console.log(`✔ secrets audit: ${lines.length} lines, ${random.length} random secrets, nothing leaked${whole ? ', every log topic seen' : ''}`)
  }
  if (!passed && !failed) console.log('✖ no test ran')
  process.exitCode = failed || problems.length || (!passed && !failed) ? 1 : 0
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e)
    process.exitCode = 1
  })
}

module.exports = { selectFiles }
