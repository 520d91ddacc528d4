'use strict'
// What a live Credential holds in JavaScript, counted in a heap snapshot of a child process with
// 1,000 credentials_uri identities each called once: one handle and its snapshot (the model, copied
// by a copier shared per key set), no closure or context of its own, not a copy of its type or
// provider name, and the heap bytes of it all but strings (self sizes in the snapshot).

const test = require('node:test')
const assert = require('node:assert/strict')
const { ROOT, isolatedEnv, runNodeAsync } = require('../helpers')
const { startUri } = require('../mocks')

// A little above what was measured with the shared copiers (see the notes of this test's change).
const BYTES_MAX = 380

test('1,000 live credentials_uri identities: per identity no closure or context, one model and the native wrapper, shared type and provider name strings, and at most 380 B of heap beside its strings', { timeout: 120_000 }, async () => {
  const uri = await startUri()
  try {
    const code = `
const v8 = require('node:v8')
const Credential = require(${JSON.stringify(ROOT)})
const N = 1000
const STRUCTURE = new Set(['object', 'closure', 'hidden', 'number', 'object shape'])
// Nodes of the heap by type and name (strings by their text), with how many and their bytes.
function census() {
  global.gc(); global.gc()
  const snap = v8.getHeapSnapshot()
  const chunks = []
  return new Promise((resolve) => {
    snap.on('data', (c) => chunks.push(c))
    snap.on('end', () => {
      const s = JSON.parse(Buffer.concat(chunks).toString())
      const fields = s.snapshot.meta.node_fields.length
      const types = s.snapshot.meta.node_types[0]
      const selfSize = s.snapshot.meta.node_fields.indexOf('self_size')
      const counts = new Map([['bytes', 0]])
      for (let i = 0; i < s.nodes.length; i += fields) {
        const key = types[s.nodes[i]] + ':' + s.strings[s.nodes[i + 1]]
        counts.set(key, (counts.get(key) || 0) + 1)
        // Objects, contexts, closures, property arrays, heap numbers, shapes; not strings (the
        // credential's own are what any package holds, and this census's keys are strings too).
        if (STRUCTURE.has(types[s.nodes[i]])) counts.set('bytes', counts.get('bytes') + s.nodes[i + selfSize])
      }
      resolve(counts)
    })
  })
}
;(async () => {
  await new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(uri.url)} + '?warm' }).getCredential()
  const before = await census()
  const held = []
  for (let i = 0; i < N; i++) {
    const c = new Credential({ type: 'credentials_uri', credentialsURI: ${JSON.stringify(uri.url)} + '?tenant=' + i })
    held.push(c)
    await c.getCredential()
  }
  const after = await census()
  const per = (key) => ((after.get(key) || 0) - (before.get(key) || 0)) / N
  console.log(JSON.stringify({
    credentials: per('object:Credential'),
    bytes: per('bytes'),
    closures: [...after.keys()].filter((k) => k.startsWith('closure:')).reduce((n, k) => n + per(k), 0),
    contexts: per('object:system / Context'),
    objects: per('object:Object'),
    typeStrings: per('string:credentials_uri'),
    providerNameStrings: per('string:credential_uri'),
    held: held.length,
  }))
})().catch((e) => { console.error(e); process.exit(1) })`
    const r = await runNodeAsync(code, { args: ['--expose-gc'], env: isolatedEnv(), timeout: 100_000 })
    assert.equal(r.status, 0, r.stderr)
    const got = JSON.parse(r.stdout.trim().split('\n').pop())
    console.log(`# per identity: ${JSON.stringify(got)}`)
    assert.equal(got.credentials, 1)
    // None: the snapshot's cloner was a closure and a context per identity (a per-Credential
    // shape closure and its context, before, a second).
    assert.ok(got.closures <= 0.05, `${got.closures} closures per identity`)
    assert.ok(got.contexts <= 0.05, `${got.contexts} contexts per identity`)
    // napi's wrapper of the native half and the model served.
    assert.ok(got.objects <= 2.05, `${got.objects} plain objects per identity`)
    // All of it but strings: the Credential, its cache, the model, the native wrapper.
    assert.ok(got.bytes <= BYTES_MAX, `${got.bytes} B of heap per identity`)
    // One copy each for the whole process, not one per Credential.
    assert.ok(got.typeStrings < 0.05, `${got.typeStrings} copies of the type string per identity`)
    assert.ok(got.providerNameStrings < 0.05, `${got.providerNameStrings} copies of the provider name per identity`)
  } finally {
    await uri.close()
  }
})
