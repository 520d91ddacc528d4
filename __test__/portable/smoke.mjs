// The portable smoke suite: the public surface of the package, checked with no test framework so
// the same file runs under Node (18 and later), Bun and Deno, on any CPU the addon is built for.
//
//   node __test__/portable/smoke.mjs
//   bun __test__/portable/smoke.mjs
//   deno run --allow-all __test__/portable/smoke.mjs
//
// Every remote service is a loopback mock this script starts itself (../mocks.js): STS over HTTPS
// with the test CA, the ECS metadata service and a credentials URI. It prints one line per case,
// then `N passed, N failed`, and exits non-zero on any failure.
//
// The file name matches none of `node --test`'s patterns, so `npm test` does not run it twice;
// __test__/portable.test.js runs it once under the default node.

import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { spawn } from 'node:child_process'
import process from 'node:process'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.join(here, '..', '..')
const ENTRY = path.join(ROOT, 'index.js')
const { TEST_CA, startSts, startMetadata, startUri } = require('../mocks.js')

const runtime = globalThis.Deno ? `deno ${globalThis.Deno.version.deno}` : process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`

// The environment the addon reads (NODE_EXTRA_CA_CERTS, ALIBABA_CLOUD_*): no machine credentials,
// profile files that do not exist, the metadata service on a closed port.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'acn-portable-'))
const BASE_ENV = {
  NODE_EXTRA_CA_CERTS: TEST_CA,
  ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
  ALIBABA_CLOUD_CONFIG_FILE: path.join(tmp, 'none', 'config.json'),
  ALIBABA_CLOUD_CREDENTIALS_FILE: path.join(tmp, 'none', 'credentials'),
  HOME: path.join(tmp, 'home'),
  USERPROFILE: path.join(tmp, 'home'),
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
}
for (const k of Object.keys(process.env)) if (k.startsWith('ALIBABA_CLOUD_')) delete process.env[k]
Object.assign(process.env, BASE_ENV)

// This runtime's command line for a script, and a way to run one with a given environment.
const runtimeArgv = (file) => (globalThis.Deno ? [globalThis.Deno.execPath(), 'run', '--allow-all', file] : [process.execPath, file])
function runScript(file, env, stdio = 'pipe') {
  return new Promise((resolve, reject) => {
    const [cmd, ...args] = runtimeArgv(file)
    const child = spawn(cmd, args, { env, stdio: stdio === 'inherit' ? 'inherit' : ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d) => (stdout += d))
    child.stderr?.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

const secret = () => randomBytes(18).toString('base64url')

function check(condition, message) {
  if (!condition) throw new Error(message)
}
function equal(actual, expected, what) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  check(a === e, `${what}: got ${a}, expected ${e}`)
}
async function rejects(promise, pattern, what) {
  let error
  try {
    await promise
  } catch (e) {
    error = e
  }
  check(error, `${what}: resolved, expected a rejection`)
  check(pattern.test(String(error && error.message)), `${what}: message ${JSON.stringify(error.message)} does not match ${pattern}`)
  return error
}
function throws(fn, pattern, what) {
  let error
  try {
    fn()
  } catch (e) {
    error = e
  }
  check(error, `${what}: returned, expected a throw`)
  check(pattern.test(String(error.message)), `${what}: message ${JSON.stringify(error.message)} does not match ${pattern}`)
  return error
}
// Sets process.env entries for the duration of `fn`, then restores them.
async function withEnv(vars, fn) {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const apply = (v) => {
    for (const [k, value] of Object.entries(v)) {
      if (value === undefined) delete process.env[k]
      else process.env[k] = value
    }
  }
  apply(vars)
  try {
    return await fn()
  } finally {
    apply(saved)
  }
}

const cases = []
const test = (name, fn) => cases.push({ name, fn })

let Credential
try {
  Credential = require(ENTRY)
} catch (e) {
  // A binary that does not load (wrong platform, missing symbol) is a failure like any other.
  console.log(`FAIL loading the package\n     ${String((e && e.stack) || e).split('\n').join('\n     ')}`)
  console.log(`${runtime} ${process.platform}-${process.arch}: 0 passed, 1 failed`)
  fs.rmSync(tmp, { recursive: true, force: true })
  process.exit(1)
}
const { Config } = Credential

// Whether process.env changes made at run time reach the addon, which reads the environment with
// the C library (getenv): Node and Deno write them through, Bun 1.x keeps them in JavaScript.
async function envReachesAddon() {
  const id = `probe-${secret()}`
  const probe = () => Credential.EnvironmentVariableCredentialsProvider.builder().build().getCredentials()
  const r = await withEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: secret() }, () => probe().catch(() => null))
  return Boolean(r && r.accessKeyId === id)
}
let envInProcess = true

// Resolves `what` ({ config } for a Credential, or { provider } for a provider class built with no
// options) with `vars` added to the environment: in this process, or where run-time changes do
// not reach the addon, in a child process started with them.
async function resolveWithEnv(vars, what) {
  const resolve = () => (what.provider ? Credential[what.provider].builder().build().getCredentials() : new Credential(what.config).getCredential())
  if (envInProcess) return withEnv(vars, resolve)
  const file = path.join(tmp, 'env-case.cjs')
  fs.writeFileSync(
    file,
    `const Credential = require(process.env.ACN_ENTRY)
const what = JSON.parse(process.env.ACN_CASE)
const p = what.provider ? Credential[what.provider].builder().build().getCredentials() : new Credential(what.config).getCredential()
p.then((r) => console.log(JSON.stringify({ r })), (e) => console.log(JSON.stringify({ error: String(e && e.message) })))
`,
  )
  const env = { ...process.env, ...vars, ACN_ENTRY: ENTRY, ACN_CASE: JSON.stringify(what) }
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete env[k]
  const out = await runScript(file, env)
  check(out.status === 0, `child exited ${out.status}: ${out.stderr}`)
  const { r, error } = JSON.parse(out.stdout.trim().split('\n').pop())
  if (error) throw new Error(error)
  return r
}

const KEYS = {}
const SOURCE_ID = `LTAI-${secret()}`
const SOURCE_SECRET = secret()
KEYS[SOURCE_ID] = { secret: SOURCE_SECRET }
const OIDC_TOKEN = secret()
let sts, metadata, uri

test('access_key', async () => {
  const s = secret()
  const c = new Credential(new Config({ type: 'access_key', accessKeyId: 'ak-id', accessKeySecret: s }))
  equal(c.getType(), 'access_key', 'type')
  equal(await c.getCredential(), { accessKeyId: 'ak-id', accessKeySecret: s, securityToken: undefined, bearerToken: undefined, type: 'access_key', providerName: 'static_ak' }, 'credential')
})

test('sts', async () => {
  const [s, t] = [secret(), secret()]
  const r = await new Credential({ type: 'sts', accessKeyId: 'sts-id', accessKeySecret: s, securityToken: t }).getCredential()
  equal([r.type, r.providerName, r.accessKeyId, r.accessKeySecret, r.securityToken], ['sts', 'static_sts', 'sts-id', s, t], 'credential')
})

test('bearer', async () => {
  const b = secret()
  const c = new Credential({ type: 'bearer', bearerToken: b })
  equal(c.getBearerToken(), b, 'getBearerToken')
  const r = await c.getCredential()
  equal([r.type, r.bearerToken], ['bearer', b], 'credential')
})

test('ram_role_arn over HTTPS (test CA through NODE_EXTRA_CA_CERTS)', async () => {
  const before = sts.state.requests.length
  const c = new Credential({ type: 'ram_role_arn', accessKeyId: SOURCE_ID, accessKeySecret: SOURCE_SECRET, roleArn: 'acs:ram::1:role/portable', stsEndpoint: sts.endpoint })
  const r = await c.getCredential()
  equal([r.type, r.providerName], ['ram_role_arn', 'ram_role_arn/static_ak'], 'credential')
  check(/^STS\.issued-\d+$/.test(r.accessKeyId), `issued id ${r.accessKeyId}`)
  equal(sts.state.requests.length - before, 1, 'STS requests')
  equal(sts.state.errors, [], 'STS errors')
  await c.getCredential()
  equal(sts.state.requests.length - before, 1, 'STS requests after a second call (cached)')
})

test('oidc_role_arn over HTTPS', async () => {
  const file = path.join(tmp, 'oidc-token')
  fs.writeFileSync(file, OIDC_TOKEN)
  const r = await new Credential({ type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/oidc', oidcProviderArn: 'acs:ram::1:oidc-provider/p', oidcTokenFilePath: file, stsEndpoint: sts.endpoint }).getCredential()
  equal([r.type, r.providerName], ['oidc_role_arn', 'oidc_role_arn'], 'credential')
  const last = sts.state.requests.at(-1)
  equal([last.query.Action, last.form.OIDCToken === OIDC_TOKEN], ['AssumeRoleWithOIDC', true], 'wire')
})

test('ecs_ram_role against the metadata mock (IMDSv2 token)', async () => {
  const r = await resolveWithEnv({ ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url }, { config: { type: 'ecs_ram_role', roleName: 'EcsRamRoleTest' } })
  equal([r.type, r.providerName], ['ecs_ram_role', 'ecs_ram_role'], 'credential')
  check(/^STS\.ecs-\d+$/.test(r.accessKeyId), `issued id ${r.accessKeyId}`)
  check(metadata.state.tokens >= 1, 'a metadata token was requested')
})

test('credentials_uri', async () => {
  const r = await new Credential({ type: 'credentials_uri', credentialsURI: uri.url }).getCredential()
  equal([r.type, r.providerName], ['credentials_uri', 'credential_uri'], 'credential')
  check(/^STS\.uri-\d+$/.test(r.accessKeyId), `issued id ${r.accessKeyId}`)
})

test('default chain: environment, then credentials URI, then ECS metadata', async () => {
  const s = secret()
  const r = await resolveWithEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-id', ALIBABA_CLOUD_ACCESS_KEY_SECRET: s }, { config: null })
  equal([r.providerName, r.accessKeyId, r.accessKeySecret], ['default/env', 'env-id', s], 'from the environment')
  const viaUri = await resolveWithEnv({ ALIBABA_CLOUD_CREDENTIALS_URI: uri.url }, { config: null })
  equal(viaUri.providerName, 'default/credential_uri', 'from ALIBABA_CLOUD_CREDENTIALS_URI')
  const viaEcs = await resolveWithEnv({ ALIBABA_CLOUD_ECS_METADATA: 'EcsRamRoleTest', ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url }, { config: null })
  equal(viaEcs.providerName, 'default/ecs_ram_role', 'from the metadata service')
})

test('ESM and CommonJS entry points are the same module', async () => {
  const esm = await import(pathToFileURL(ENTRY).href)
  check(esm.default === Credential, 'import default is the require() export')
  check(esm.Config === Config, 'named import Config')
  check(Credential.default === Credential, 'require().default')
  for (const name of ['Credential', 'Config', 'CredentialModel', 'ossOptions', 'DefaultCredentialsProvider', 'RAMRoleARNCredentialsProvider']) {
    check(typeof esm[name] === 'function', `named export ${name}`)
  }
  const pkg = require(path.join(ROOT, 'package.json'))
  equal(pkg.exports['.'].default, './index.js', 'package entry')
})

test('provider classes: builders, a native chain and a JavaScript provider', async () => {
  const s = secret()
  const ak = Credential.StaticAKCredentialsProvider.builder().withAccessKeyId('p-id').withAccessKeySecret(s).build()
  equal(ak.getProviderName(), 'static_ak', 'provider name')
  equal(await ak.getCredentials(), { accessKeyId: 'p-id', accessKeySecret: s, securityToken: undefined, providerName: 'static_ak' }, 'getCredentials')
  const role = Credential.RAMRoleARNCredentialsProvider.builder()
    .withCredentialsProvider(Credential.StaticAKCredentialsProvider.builder().withAccessKeyId(SOURCE_ID).withAccessKeySecret(SOURCE_SECRET).build())
    .withRoleArn('acs:ram::1:role/builder')
    .withStsEndpoint(sts.endpoint)
    .build()
  const r = await new Credential(null, role).getCredential()
  equal([r.type, r.providerName], ['ram_role_arn/static_ak', 'ram_role_arn/static_ak'], 'through a Credential')
  const js = { getProviderName: () => 'js', getCredentials: async () => ({ accessKeyId: 'js-id', accessKeySecret: s, providerName: 'js' }) }
  equal((await new Credential(null, js).getCredential()).accessKeyId, 'js-id', 'a JavaScript provider')
  const chain = await resolveWithEnv({ ALIBABA_CLOUD_ACCESS_KEY_ID: 'env-i', ALIBABA_CLOUD_ACCESS_KEY_SECRET: s }, { provider: 'DefaultCredentialsProvider' })
  equal(chain.providerName, 'default/env', 'DefaultCredentialsProvider')
})

test('worker_threads: the addon loads and resolves in a worker', async () => {
  const s = secret()
  const code = `
const { parentPort, workerData } = require('node:worker_threads')
const Credential = require(workerData.entry)
new Credential({ type: 'access_key', accessKeyId: 'w-id', accessKeySecret: workerData.s }).getCredential()
  .then((r) => parentPort.postMessage([r.accessKeyId, r.accessKeySecret === workerData.s, r.providerName]), (e) => parentPort.postMessage(['error', String(e)]))`
  const file = path.join(tmp, 'worker.cjs')
  fs.writeFileSync(file, code)
  const worker = new Worker(file, { workerData: { entry: ENTRY, s } })
  const answer = await new Promise((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })
  await worker.terminate()
  equal(answer, ['w-id', true, 'static_ak'], 'from the worker')
  // The addon still works here after the worker (and its copy of the module) is gone.
  equal((await new Credential({ type: 'access_key', accessKeyId: 'after', accessKeySecret: s }).getCredential()).accessKeyId, 'after', 'after the worker')
})

test('errors for bad input', async () => {
  throws(() => new Credential({ type: 'magic' }), /Invalid type option, support: /, 'unknown type')
  throws(() => new Credential({ type: 'access_key', accessKeyId: 12345 }), /"accessKeyId" option must be of type string, received type number/, 'wrong option type')
  throws(() => new Credential('access_key'), /"config" argument must be an object/, 'config not an object')
  throws(() => new Credential({ type: 'access_key', accessKeySecret: 'x' }), /access key id is empty/, 'missing accessKeyId')
  throws(() => Credential.URICredentialsProvider.builder().build(), /credentials URI is empty/, 'empty credentials URI')
  await rejects(
    new Credential({ type: 'ram_role_arn', accessKeyId: SOURCE_ID, accessKeySecret: secret(), roleArn: 'acs:ram::1:role/x', stsEndpoint: sts.endpoint }).getCredential(),
    /the access key secret is invalid/,
    'STS refuses a wrong secret',
  )
  await rejects(new Credential({ type: 'credentials_uri', credentialsURI: 'http://127.0.0.1:9/creds' }).getCredential(), /./, 'credentials URI on a closed port')
  const e = await rejects(new Credential({ type: 'ram_role_arn', accessKeyId: 'LTAI-unknown', accessKeySecret: 'not-a-real-secret', roleArn: 'acs:ram::1:role/x', stsEndpoint: sts.endpoint }).getCredential(), /InvalidAccessKeyId\.NotFound/, 'unknown AccessKey')
  check(!String(e.message).includes('not-a-real-secret'), 'the secret is not in the message')
})

async function main() {
  const started = Date.now()
  if (!(await envReachesAddon())) {
    envInProcess = false
    // The environment this script set at its start is not seen either: run again with it set.
    if (process.env.ACN_PORTABLE_CHILD !== '1') {
      console.log(`note: under ${runtime} process.env changes made at run time do not reach the addon; running again with the environment set at start`)
      const r = await runScript(fileURLToPath(import.meta.url), { ...process.env, ACN_PORTABLE_CHILD: '1' }, 'inherit')
      fs.rmSync(tmp, { recursive: true, force: true })
      process.exitCode = r.status === 0 ? 0 : 1
      return
    }
    console.log('note: the cases that change the environment run in child processes started with it')
  }
  ;[sts, metadata, uri] = await Promise.all([startSts({ keys: KEYS, oidcToken: OIDC_TOKEN }), startMetadata({ imdsv2: 'required' }), startUri()])
  let passed = 0
  let failed = 0
  try {
    for (const { name, fn } of cases) {
      try {
        await fn()
        passed++
        console.log(`ok   ${name}`)
      } catch (e) {
        failed++
        console.log(`FAIL ${name}\n     ${String((e && e.stack) || e).split('\n').join('\n     ')}`)
      }
    }
  } finally {
    await Promise.all([sts.close(), metadata.close(), uri.close()])
    fs.rmSync(tmp, { recursive: true, force: true })
  }
  console.log(`${runtime} ${process.platform}-${process.arch}: ${passed} passed, ${failed} failed (${Date.now() - started} ms)`)
  process.exitCode = failed === 0 && passed === cases.length ? 0 : 1
}

main().catch((e) => {
  console.log(`FAIL setup\n${(e && e.stack) || e}`)
  console.log(`${runtime}: 0 passed, 1 failed`)
  process.exit(1)
})
