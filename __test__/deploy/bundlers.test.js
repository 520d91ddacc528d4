'use strict'
// The README's bundler recipes, kept working: a small app (a Credential and an ali-oss client
// built from ossOptions) bundled with esbuild, webpack 5 and Vite SSR (devDependencies) from an app whose
// node_modules holds the package as npm installs it, then run from another directory against a
// credentials URI and an OSS bucket on 127.0.0.1 (the bucket checks ali-oss's signature). A
// bundle that leaves the binary out, or esbuild's file loader, fails with the load error.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { ROOT, tempDir, isolatedEnv, pkg, here, noBuildHere: skip, installInto } = require('../helpers')
const { startUri } = require('../mocks')
const { startOss } = require('../client-mocks')

const work = tempDir('acn-bundlers-')
const esbuild = require('esbuild')
const webpack = require('webpack')

// ali-oss's HTTP client (urllib) requires proxy-agent only when a proxy is configured, and does
// not depend on it: every recipe leaves it external, as an ali-oss app must.
const ALI_OSS_EXTERNALS = ['proxy-agent']

const APP = (name) => `
const Credential = require('${name}')
const OSS = require('ali-oss')
async function main() {
  const credential = new Credential.default(new Credential.Config({ type: 'credentials_uri', credentialsURI: process.env.CREDS_URI }))
  const client = new OSS({ endpoint: process.env.OSS_ENDPOINT, bucket: 'bundle-bucket', ...(await Credential.ossOptions(credential)) })
  const put = await client.put('bundled.txt', Buffer.from('from a bundle'))
  console.log(JSON.stringify({ status: put.res.status, providerName: (await credential.getCredential()).providerName }))
}
main().catch((e) => { console.error(e); process.exit(1) })
`

let apps = 0
function makeApp(name = pkg.name) {
  const dir = path.join(work, `app${apps++}`)
  installInto(dir, name)
  fs.writeFileSync(path.join(dir, 'app.js'), APP(name))
  return dir
}

async function bundleEsbuild(app, options) {
  const outdir = path.join(app, 'dist')
  await esbuild.build({
    entryPoints: [path.join(app, 'app.js')],
    bundle: true,
    platform: 'node',
    outdir,
    logLevel: 'silent',
    nodePaths: [path.join(ROOT, 'node_modules')],
    ...options,
    external: [...ALI_OSS_EXTERNALS, ...(options.external || [])],
  })
  return outdir
}

function bundleWebpack(app, options) {
  const outdir = path.join(app, 'dist')
  return new Promise((resolve, reject) => {
    webpack(
      {
        mode: 'production',
        target: 'node',
        context: app,
        entry: path.join(app, 'app.js'),
        output: { path: outdir, filename: 'app.js' },
        resolve: { modules: ['node_modules', path.join(ROOT, 'node_modules')] },
        resolveLoader: { modules: [path.join(ROOT, 'node_modules')] },
        optimization: { minimize: false },
        ...options,
        externals: { ...Object.fromEntries(ALI_OSS_EXTERNALS.map((m) => [m, `commonjs ${m}`])), ...options.externals },
      },
      (err, stats) => {
        if (err) return reject(err)
        const { errors } = stats.toJson({ all: false, errors: true })
        if (errors.length > 0) return reject(new Error(errors.map((e) => e.message).join('\n')))
        resolve(outdir)
      },
    )
  })
}

// Copies the bundle to a directory of its own (with `nodeModulesFrom`'s node_modules when the
// recipe keeps the package external) and runs it there.
function deploy(outdir, nodeModulesFrom) {
  const dir = path.join(work, `deploy${apps++}`)
  fs.cpSync(outdir, dir, { recursive: true })
  if (nodeModulesFrom) {
    // Only what the recipe leaves external: the package and its platform package, not ali-oss.
    for (const entry of fs.readdirSync(path.join(nodeModulesFrom, 'node_modules'))) {
      fs.cpSync(path.join(nodeModulesFrom, 'node_modules', entry), path.join(dir, 'node_modules', entry), { recursive: true })
    }
  }
  return dir
}

let uri, oss
test.before(async () => {
  uri = await startUri()
  const keys = {}
  for (let n = 1; n <= 50; n++) keys[`STS.uri-${n}`] = { secret: `uri-secret-${n}`, token: `uri-token-${n}` }
  oss = await startOss({ keys })
})
test.after(() => Promise.all([uri && uri.close(), oss && oss.close()]))

function run(dir) {
  return new Promise((resolve) => {
    const env = isolatedEnv({ CREDS_URI: uri.url, OSS_ENDPOINT: oss.endpoint, NODE_PATH: '' })
    execFile(process.execPath, ['app.js'], { cwd: dir, env, encoding: 'utf8', timeout: 60000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr })
    })
  })
}

// Runs the deployed bundle and checks the bucket saw a put signed with the issued STS keys.
async function runsAndSigns(dir) {
  const before = oss.state.requests.length
  const r = await run(dir)
  assert.equal(r.status, 0, r.stderr)
  assert.deepEqual(JSON.parse(r.stdout), { status: 200, providerName: 'credential_uri' })
  const puts = oss.state.requests.slice(before)
  assert.equal(puts.length, 1)
  assert.match(puts[0].accessKeyId, /^STS\.uri-\d+$/)
  assert.deepEqual([puts[0].ok, puts[0].why, puts[0].resource], [true, '', '/bundle-bucket/bundled.txt'])
  assert.equal(puts[0].headers['x-oss-security-token'], puts[0].accessKeyId.replace('STS.uri-', 'uri-token-'))
}

test('esbuild with no configuration stops at the .node file (why the README gives recipes)', { skip }, async () => {
  await assert.rejects(bundleEsbuild(makeApp(), {}), /No loader is configured for "\.node" files/)
})

test('esbuild recipe: --external:alicloud-credentials-native, node_modules deployed beside the bundle', { skip }, async () => {
  const app = makeApp()
  const outdir = await bundleEsbuild(app, { external: [pkg.name] })
  assert.deepEqual(fs.readdirSync(outdir), ['app.js'])
  await runsAndSigns(deploy(outdir, app))
})

test('esbuild recipe under the alias: --external:@alicloud/credentials', { skip }, async () => {
  const app = makeApp('@alicloud/credentials')
  const outdir = await bundleEsbuild(app, { external: ['@alicloud/credentials'] })
  await runsAndSigns(deploy(outdir, app))
})

test('esbuild recipe, self-contained: --loader:.node=copy puts the binary beside the bundle', { skip }, async () => {
  const outdir = await bundleEsbuild(makeApp(), { loader: { '.node': 'copy' } })
  assert.deepEqual(fs.readdirSync(outdir).map((f) => f.replace(/-[A-Z0-9]{8}\.node$/, '-HASH.node')).sort(), ['alicloud-credentials-native.linux-x64-gnu-HASH.node'.replace('linux-x64-gnu', here), 'app.js'])
  await runsAndSigns(deploy(outdir))
})

test('esbuild --loader:.node=file: the load error says what happened (was "debugEnabled is not a function")', { skip }, async () => {
  const outdir = await bundleEsbuild(makeApp(), { loader: { '.node': 'file' } })
  const r = await run(deploy(outdir))
  assert.notEqual(r.status, 0)
  assert.doesNotMatch(r.stderr, /is not a function/)
  assert.match(r.stderr, /code: 'ERR_CREDENTIALS_NATIVE_LOAD_FAILED'/)
  assert.match(r.stderr, /the native binding loaded as the string ".*\.node", not the addon/)
  assert.match(r.stderr, /use --loader:\.node=copy, or keep the package external/)
})

test('a bundle that leaves the binary out fails with ERR_CREDENTIALS_NATIVE_MISSING, naming the bundle', { skip }, async () => {
  const outdir = await bundleEsbuild(makeApp(), { external: [`${pkg.name}-${here}`] })
  const r = await run(deploy(outdir))
  assert.notEqual(r.status, 0)
  assert.match(r.stderr, /code: 'ERR_CREDENTIALS_NATIVE_MISSING'/)
  assert.ok(r.stderr.includes(`it needs the package ${pkg.name}-${here}@${pkg.version}`), r.stderr)
  assert.match(r.stderr, /probably: this code runs from a bundle \(.*app\.js\) that left the binary out/)
})

test('webpack 5 with no configuration fails to parse the .node file', { skip }, async () => {
  await assert.rejects(bundleWebpack(makeApp(), {}), /Module parse failed/)
})

test('webpack 5 recipe: externals, node_modules deployed beside the bundle', { skip }, async () => {
  const app = makeApp()
  const outdir = await bundleWebpack(app, { externals: { [pkg.name]: `commonjs ${pkg.name}` } })
  await runsAndSigns(deploy(outdir, app))
})

test('webpack 5 recipe, self-contained: node-loader emits the binary beside the bundle', { skip }, async () => {
  const outdir = await bundleWebpack(makeApp(), { module: { rules: [{ test: /\.node$/, loader: 'node-loader', options: { name: '[name].[ext]' } }] } })
  assert.deepEqual(fs.readdirSync(outdir).sort(), [`${pkg.napi.binaryName}.${here}.node`, 'app.js'])
  await runsAndSigns(deploy(outdir))
})

// ---- Vite SSR (an ES module app, as Vite builds them) ----

const ESM_APP = (name) => `
import Credential, { Config, ossOptions } from '${name}'
import OSS from 'ali-oss'
const credential = new Credential(new Config({ type: 'credentials_uri', credentialsURI: process.env.CREDS_URI }))
const client = new OSS({ endpoint: process.env.OSS_ENDPOINT, bucket: 'bundle-bucket', ...(await ossOptions(credential)) })
const put = await client.put('bundled.txt', Buffer.from('from a bundle'))
console.log(JSON.stringify({ status: put.res.status, providerName: (await credential.getCredential()).providerName }))
`

function makeEsmApp() {
  const dir = makeApp()
  fs.writeFileSync(path.join(dir, 'app.js'), ESM_APP(pkg.name))
  fs.writeFileSync(path.join(dir, 'package.json'), '{"name":"vite-app","private":true,"type":"module"}\n')
  // Vite resolves from the app's own node_modules: ali-oss as installed beside it.
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'ali-oss'), path.join(dir, 'node_modules', 'ali-oss'))
  return dir
}

async function bundleVite(app, ssr = {}) {
  const { build } = await import('vite')
  await build({ root: app, configFile: false, logLevel: 'silent', ssr, build: { ssr: 'app.js', outDir: 'dist' } })
  return path.join(app, 'dist')
}

// Deployed with the app's package.json (an ES module) and its node_modules.
function deployEsm(outdir, app) {
  const dir = deploy(outdir, app)
  fs.copyFileSync(path.join(app, 'package.json'), path.join(dir, 'package.json'))
  return dir
}

test('Vite SSR recipe: nothing to configure, dependencies stay external', { skip }, async () => {
  const app = makeEsmApp()
  const outdir = await bundleVite(app)
  assert.match(fs.readFileSync(path.join(outdir, 'app.js'), 'utf8'), new RegExp(`from "${pkg.name}"`))
  await runsAndSigns(deployEsm(outdir, app))
})

test('Vite SSR with ssr.noExternal: true needs ssr.external for the package; with it, it runs', { skip }, async () => {
  const app = makeEsmApp()
  await assert.rejects(bundleVite(app, { noExternal: true, external: ALI_OSS_EXTERNALS }), /\.node/)
  const outdir = await bundleVite(app, { noExternal: true, external: [pkg.name, ...ALI_OSS_EXTERNALS] })
  await runsAndSigns(deployEsm(outdir, app))
})
