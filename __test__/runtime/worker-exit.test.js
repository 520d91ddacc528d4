'use strict'
// A worker thread that exits while its native calls are in flight must not take the process down:
// an asynchronous native call used to borrow its JavaScript object until the call finished, and a
// worker's exit frees that object (SIGSEGV on every run of this test before the fix).

const test = require('node:test')
const assert = require('node:assert/strict')
const { ROOT, isolatedEnv, runNodeAsync, randomKey } = require('../helpers')
const { TEST_CA } = require('../mocks')

test('workers terminated mid-call, 30 times, with debug logging on: the process lives', async () => {
  const { id: keyId, secret: keySecret } = randomKey()
  const code = `
const { Worker } = require('node:worker_threads')
const { startSts } = require(${JSON.stringify(`${ROOT}/__test__/mocks`)})
const Credential = require(${JSON.stringify(ROOT)})
async function main() {
  const sts = await startSts({ keys: { ${JSON.stringify(keyId)}: { secret: ${JSON.stringify(keySecret)} } } })
  sts.set({ delayMs: 100 })
  for (let i = 0; i < 30; i++) {
    const config = { type: 'ram_role_arn', accessKeyId: ${JSON.stringify(keyId)}, accessKeySecret: ${JSON.stringify(keySecret)},
      roleArn: 'acs:ram::1:role/worker-exit', roleSessionName: 'exit-' + i, stsEndpoint: sts.endpoint }
    const w = new Worker(\`const { workerData, parentPort } = require('node:worker_threads')
const C = require(workerData.root)
const c = new C(workerData.config)
for (let i = 0; i < 10; i++) { c.getCredential().catch(() => {}); c.describe().catch(() => {}) }
parentPort.postMessage('started')\`, { eval: true, workerData: { root: ${JSON.stringify(ROOT)}, config } })
    await new Promise((r) => w.once('message', r))
    const mine = new Credential(config).getCredential()
    await w.terminate()
    await mine
  }
  await sts.close()
  console.log('done')
}
main().catch((e) => { console.error(e); process.exit(1) })`
  const env = isolatedEnv({ DEBUG: 'alicloud-credentials*', NODE_EXTRA_CA_CERTS: TEST_CA })
  const r = await runNodeAsync(code, { env, timeout: 120000 })
  assert.ok(!r.signal, `killed by ${r.signal}`)
  assert.equal(r.status, 0, r.stderr.split('\n').filter((l) => !l.includes('alicloud-credentials:')).join('\n'))
  assert.equal(r.stdout.trim(), 'done')
})
