'use strict'
// The README's Next.js recipe, kept working: a minimal Next.js 15 App Router app whose route
// handler makes a Credential (credentials_uri against a 127.0.0.1 mock) and answers with
// getCredential()'s accessKeyId, built with `next build` and served by `next start` on 127.0.0.1,
// under the package's own name and under the alias (`@alicloud/credentials` installed as
// `npm:alicloud-credentials-native`); and the build without `serverExternalPackages`, which fails
// as the README says. next, react and react-dom are installed from the npm registry into a temp
// directory at test time (they are too large for devDependencies); the package is copied in as
// npm installs it, as in bundlers.test.js. Skipped only when the registry cannot be reached.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { tempDir, isolatedEnv, pkg, here, noBuildHere: skip, installInto, runCommand, freePort } = require('../helpers')
const { startUri } = require('../mocks')

// Pinned so a new Next.js release cannot change what this test sees unannounced.
const NEXT_VERSIONS = { next: '15.5.29', react: '19.3.1', 'react-dom': '19.3.1' }
const ALIAS = '@alicloud/credentials'
const app = tempDir('acn-nextjs-')

const run = (cmd, args, { env, timeout }) => runCommand(cmd, args, { cwd: app, env, timeout })

// Next's builds and servers: no telemetry, no credentials of this machine.
const nextEnv = (extra = {}) => isolatedEnv({ NEXT_TELEMETRY_DISABLED: '1', NODE_ENV: 'production', ...extra })
const nextBin = () => path.join(app, 'node_modules', 'next', 'dist', 'bin', 'next')

const ROUTE = (name) => `
import Credential, { Config } from '${name}'

export const dynamic = 'force-dynamic'

export async function GET() {
  const credential = new Credential(new Config({ type: 'credentials_uri', credentialsURI: process.env.CREDS_URI }))
  const { accessKeyId, providerName } = await credential.getCredential()
  return Response.json({ accessKeyId, providerName })
}
`

// The app: one route handler importing `name`, and next.config.js with `serverExternalPackages`
// (left out when null). A build leaves .next behind; each build starts without it.
function writeApp(name, serverExternalPackages) {
  fs.rmSync(path.join(app, '.next'), { recursive: true, force: true })
  fs.rmSync(path.join(app, 'app'), { recursive: true, force: true })
  fs.mkdirSync(path.join(app, 'app', 'api', 'creds'), { recursive: true })
  fs.writeFileSync(path.join(app, 'app', 'api', 'creds', 'route.js'), ROUTE(name))
  const config = { eslint: { ignoreDuringBuilds: true }, ...(serverExternalPackages && { serverExternalPackages }) }
  fs.writeFileSync(path.join(app, 'next.config.js'), `module.exports = ${JSON.stringify(config, null, 2)}\n`)
}

const build = () => run(process.execPath, [nextBin(), 'build'], { env: nextEnv(), timeout: 240000 })

// `next start` on 127.0.0.1 in a process group of its own (killed whole, by its id, afterwards);
// resolves with the route's status and body.
async function serveAndGet(urlPath) {
  const port = await freePort()
  const server = spawn(process.execPath, [nextBin(), 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: app,
    env: nextEnv({ CREDS_URI: uri.url }),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  server.stdout.on('data', (d) => (output += d))
  server.stderr.on('data', (d) => (output += d))
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`next start not ready in 60 s:\n${output}`)), 60000)
      const check = () => {
        if (/Ready in/.test(output)) {
          clearTimeout(timer)
          resolve()
        }
      }
      server.stdout.on('data', check)
      server.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`next start exited with ${code}:\n${output}`))
      })
    })
    const res = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(30000) })
    return { status: res.status, body: await res.text(), output }
  } finally {
    try {
      process.kill(-server.pid, 'SIGKILL')
    } catch {}
  }
}

let uri
let unreachable = null
test.before(async () => {
  if (skip) return
  uri = await startUri()
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'nextjs-app', private: true, dependencies: NEXT_VERSIONS }, null, 2))
  // The machine's own npm cache and registry: the one place this test reaches beyond loopback.
  const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
  const r = await run('npm', ['install', '--no-audit', '--no-fund', '--no-update-notifier'], { env, timeout: 300000 })
  if (r.status !== 0) {
    if (/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|network/i.test(r.stderr)) unreachable = `the npm registry cannot be reached (npm install: ${(r.stderr.match(/npm error code \S+/) || [r.stderr.slice(0, 200)])[0]})`
    else assert.fail(`npm install ${Object.entries(NEXT_VERSIONS).map(([n, v]) => `${n}@${v}`).join(' ')}: ${r.stderr}`)
  }
  // After npm install, which would remove packages its package.json does not name.
  installInto(app, pkg.name)
  installInto(app, ALIAS)
})
test.after(() => uri && uri.close())

// Builds and serves the app, and checks the route answered with the key the mock issued for
// the request it received.
async function buildsAndAnswers(t, name, serverExternalPackages) {
  if (unreachable) return t.skip(unreachable)
  writeApp(name, serverExternalPackages)
  const b = await build()
  assert.equal(b.status, 0, `next build:\n${b.stdout}\n${b.stderr}`)
  const before = uri.state.requests.length
  const r = await serveAndGet('/api/creds')
  assert.equal(r.status, 200, r.body + '\n' + r.output)
  const seen = uri.state.requests.slice(before)
  assert.equal(seen.length, 1)
  assert.equal(seen[0].path, '/creds')
  assert.deepEqual(JSON.parse(r.body), { accessKeyId: `STS.uri-${uri.state.issued}`, providerName: 'credential_uri' })
}

test('Next.js 15 recipe: serverExternalPackages with the package name; next start serves the route', { skip, timeout: 600000 }, async (t) => {
  await buildsAndAnswers(t, pkg.name, [pkg.name])
})

test('Next.js 15 recipe under the alias: serverExternalPackages with both names', { skip, timeout: 600000 }, async (t) => {
  await buildsAndAnswers(t, ALIAS, [ALIAS, pkg.name])
})

test('Next.js 15 without serverExternalPackages: next build stops at the .node file (why the README gives the recipe)', { skip, timeout: 600000 }, async (t) => {
  if (unreachable) return t.skip(unreachable)
  writeApp(pkg.name, null)
  const b = await build()
  const output = `${b.stdout}\n${b.stderr}`
  assert.equal(b.status, 1, output)
  assert.match(output, /Failed to compile/)
  assert.ok(output.includes(`./node_modules/${pkg.name}-${here}/${pkg.napi.binaryName}.${here}.node\nModule parse failed`), output)
  assert.ok(output.includes(`./node_modules/${pkg.name}/binding.js`), output)
  assert.ok(!fs.existsSync(path.join(app, '.next', 'BUILD_ID')), 'no build left to start')
})
