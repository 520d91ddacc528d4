'use strict'
// Debug logging with stderr unwritable (a full device, a pipe whose reader has gone) must not take
// the process down: the first log line used to panic and abort it (SIGABRT).

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const { spawn } = require('node:child_process')
const { ROOT, isolatedEnv } = require('../helpers')

// Fails over a closed port, so the native side logs the request, the failure and the error.
const code = `
const Credential = require(${JSON.stringify(ROOT)})
const c = new Credential({ type: 'credentials_uri', credentialsURI: 'http://127.0.0.1:9/creds' })
c.getCredential().then(() => console.log('resolved'), (e) => console.log('rejected ' + e.code))`

function run(stderr, { closeStderr = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', code], {
      env: isolatedEnv({ DEBUG: 'alicloud-credentials*' }),
      stdio: ['ignore', 'pipe', stderr],
    })
    if (closeStderr) child.stderr.destroy()
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.on('close', (status, signal) => resolve({ status, signal, out: out.trim() }))
  })
}

test('stderr on /dev/full: the call rejects as usual, the process lives', { skip: !fs.existsSync('/dev/full') }, async () => {
  const fd = fs.openSync('/dev/full', 'w')
  try {
    const r = await run(fd)
    assert.equal(r.signal, null)
    assert.equal(r.status, 0)
    assert.equal(r.out, 'rejected ECONNREFUSED') // Node's code for a refused connection
  } finally {
    fs.closeSync(fd)
  }
})

test('stderr a pipe whose reader has gone: the call rejects as usual, the process lives', async () => {
  const r = await run('pipe', { closeStderr: true })
  assert.equal(r.signal, null)
  assert.equal(r.status, 0)
  assert.equal(r.out, 'rejected ECONNREFUSED') // Node's code for a refused connection
})
