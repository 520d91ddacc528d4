'use strict'
// A resolver that does not answer, for real: a child in its own user, mount and network
// namespaces (unshare -rmn, no root needed where user namespaces are allowed) whose
// /etc/resolv.conf names a DNS server on its own loopback that reads every query and never
// answers. Node's dns.lookup and this package look up the same name there and must both say
// EAI_AGAIN (a temporary failure), not ENOTFOUND. Where the namespaces cannot be made the test is
// skipped, saying why: it needs no change to the machine's own resolver.

const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync, execFile } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { clearAlibabaEnv, isolatedEnv, tempDir, ROOT } = require('../helpers')

clearAlibabaEnv()

// Why the sandbox cannot be made here, or null.
function unavailable() {
  if (process.platform !== 'linux') return 'Linux namespaces only'
  for (const tool of ['unshare', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' })
    } catch {
      return `${tool} is not installed`
    }
  }
  try {
    execFileSync('unshare', ['-r', '-m', '-n', 'sh', '-c', 'ip link set lo up && mount --bind /etc/hostname /etc/hostname'], { stdio: 'ignore', timeout: 10000 })
  } catch {
    return 'user namespaces (unshare -rmn) are not allowed here'
  }
  return null
}

const why = unavailable()
if (why) console.log(`# resolver-failure: skipped: ${why}`)

test('a resolver that never answers: EAI_AGAIN, as from dns.lookup', { skip: why || false, timeout: 60000 }, async () => {
  const dir = tempDir('acn-resolver-')
  const resolvConf = path.join(dir, 'resolv.conf')
  // One try of one second: the lookup fails quickly.
  fs.writeFileSync(resolvConf, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n')
  const child = path.join(dir, 'child.js')
  // A name no hosts file holds, so the lookup goes to the DNS server.
  const name = 'silent-resolver.invalid-acn-test'
  fs.writeFileSync(child, `
const dgram = require('node:dgram')
const dns = require('node:dns')
const Credential = require(${JSON.stringify(ROOT)})
const server = dgram.createSocket('udp4')
let queries = 0
server.on('message', () => { queries++ })
server.bind(53, '127.0.0.1', async () => {
  const node = await new Promise((resolve) => dns.lookup(${JSON.stringify(name)}, (e) => resolve(e ? e.code : 'resolved')))
  const afterNode = queries
  const ours = await new Credential({ type: 'credentials_uri', credentialsURI: 'http://${name}:8080/creds', timeout: 20000 }).getCredential()
    .then(() => ({ code: 'resolved' }), (e) => ({ code: e.code, message: e.message }))
  console.log(JSON.stringify({ node, ours, queriesByNode: afterNode, queriesByOurs: queries - afterNode }))
  server.close()
})
`)
  const script = `ip link set lo up && mount --bind "$1" /etc/resolv.conf && exec "$2" "$3"`
  const r = await new Promise((resolve) => {
    execFile('unshare', ['-r', '-m', '-n', 'sh', '-c', script, 'sh', resolvConf, process.execPath, child], { env: isolatedEnv(), encoding: 'utf8', timeout: 50000 }, (error, stdout, stderr) => resolve({ error, stdout, stderr }))
  })
  assert.equal(r.error, null, r.stderr)
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1))
  // The server saw both ask: the failure is the resolver's silence, not something else.
  assert.ok(result.queriesByNode > 0 && result.queriesByOurs > 0, JSON.stringify(result))
  assert.equal(result.node, 'EAI_AGAIN', JSON.stringify(result))
  assert.equal(result.ours.code, result.node, JSON.stringify(result))
  assert.match(result.ours.message, new RegExp(`^getaddrinfo EAI_AGAIN ${name.replaceAll('.', '\\.')} `))
})
