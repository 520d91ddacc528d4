'use strict'
// The session cache shared by one user's processes (ALICLOUD_CREDENTIALS_CACHE_DIR /
// sessionCacheDir): processes started together make one request, a process started later none,
// another secret is another identity, a holder killed mid-refresh does not block the others,
// hostile directories and entries are not used (and describe() says why), expired entries are
// not served, and with the variable unset nothing is written. Every child has a timeout.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { ROOT, isolatedEnv, tempDir, randomKey, forStderrAudit } = require('../helpers')
const { TEST_CA, startSts, startMetadata, startUri, secretForms } = require('../mocks')

const keys = { a: randomKey(), b: randomKey() }
// One temporary directory for the file (removed at exit), a fresh 0700 one inside it per use.
const BASE = tempDir('acn-shared-')
const freshDir = (prefix = 'd-') => fs.mkdtempSync(path.join(BASE, prefix))
const CHILD_TIMEOUT = 30_000

let sts
test.before(async () => {
  sts = await startSts({ keys: { [keys.a.id]: { secret: keys.a.secret }, [keys.b.id]: { secret: keys.b.secret } } })
})
test.after(() => sts.close())
test.beforeEach(() => sts.reset())

let identities = 0
function roleConfig(extra = {}) {
  return {
    type: 'ram_role_arn',
    accessKeyId: keys.a.id,
    accessKeySecret: keys.a.secret,
    roleArn: 'acs:ram::1:role/shared-cache',
    roleSessionName: `shared-cache-${process.pid}-${++identities}`,
    stsEndpoint: sts.endpoint,
    ...extra,
  }
}

// A child that makes one Credential of `config` and prints its first credential, how long that
// took, and describe(); `after` (ms) keeps it alive before it exits.
const CHILD = `
const Credential = require(${JSON.stringify(ROOT)})
const config = JSON.parse(process.env.ACN_TEST_CONFIG)
;(async () => {
  const started = performance.now()
  const c = config === null ? new Credential() : new Credential(config)
  try {
    const r = await c.getCredential()
    const ms = performance.now() - started
    const d = await c.describe()
    process.stdout.write(JSON.stringify({ id: r.accessKeyId, token: r.securityToken, ms, endpoint: d.endpoint }) + '\\n')
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: e.message }) + '\\n')
  }
})()
`

// Starts a child; resolves { status, out, stderr } (out: the parsed line), killed at the timeout.
// `cacheDir` undefined: the variable unset.
function child(config, { cacheDir, env = {}, cwd = ROOT, timeout = CHILD_TIMEOUT, onSpawn } = {}) {
  const vars = isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA, ACN_TEST_CONFIG: JSON.stringify(config), ...env })
  if (cacheDir === undefined) delete vars.ALICLOUD_CREDENTIALS_CACHE_DIR
  else vars.ALICLOUD_CREDENTIALS_CACHE_DIR = cacheDir
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', CHILD], { cwd, env: vars, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout)
    if (onSpawn) onSpawn(p)
    p.on('close', (status, signal) => {
      clearTimeout(timer)
      forStderrAudit(stderr)
      let out = null
      try {
        out = JSON.parse(stdout.trim().split('\n').pop())
      } catch {}
      resolve({ status, signal, out, stderr, stdout })
    })
  })
}

function entries(dir) {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.json'))
}

function mode(p) {
  return fs.lstatSync(p).mode & 0o777
}

function assertNoSourceSecret(dir) {
  for (const name of fs.readdirSync(dir)) {
    for (const form of secretForms(keys.a.secret).concat(secretForms(keys.b.secret))) {
      assert.ok(!name.includes(form), `a source secret in the name ${name}`)
    }
    const file = path.join(dir, name)
    if (!fs.lstatSync(file).isFile()) continue
    const text = fs.readFileSync(file, 'utf8')
    for (const form of secretForms(keys.a.secret).concat(secretForms(keys.b.secret))) {
      assert.ok(!text.includes(form), `a source secret in ${name}`)
    }
  }
}

test('8 processes started together make one AssumeRole request; a later one makes none', { timeout: 120_000 }, async () => {
  const dir = path.join(freshDir('d-'), 'cache', 'made-here')
  const config = roleConfig()
  sts.set({ delayMs: 150 })
  const runs = await Promise.all(Array.from({ length: 8 }, () => child(config, { cacheDir: dir })))
  for (const r of runs) assert.equal(r.status, 0, r.stderr)
  const ids = new Set(runs.map((r) => r.out.id))
  assert.deepEqual([...ids], ['STS.issued-1'], JSON.stringify(runs.map((r) => r.out)))
  assert.equal(sts.state.requests.length, 1)
  assert.equal(mode(dir), 0o700, 'the directory is created 0700')
  const files = entries(dir)
  assert.equal(files.length, 1)
  assert.match(files[0], /^[0-9a-f]{64}\.json$/)
  assert.equal(mode(path.join(dir, files[0])), 0o600)
  assertNoSourceSecret(dir)
  const entry = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'))
  assert.deepEqual(Object.keys(entry).sort(), ['accessKeyId', 'accessKeySecret', 'expirationMs', 'fetchedAtMs', 'identity', 'securityToken', 'version'])
  assert.equal(entry.accessKeyId, 'STS.issued-1')
  // No temporary file left behind.
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.startsWith('.')), [])
  // Later, while the credential is outside its refresh window: no request, a file read.
  sts.set({ delayMs: 0 })
  const later = await child(config, { cacheDir: dir })
  assert.equal(later.out.id, 'STS.issued-1')
  assert.equal(later.out.token, 'issued-token-1')
  assert.equal(sts.state.requests.length, 1, 'the later process made no request')
  assert.match(later.out.endpoint, new RegExp(`shared cache ${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))
})

test('another source secret is another identity, with its own entry and request', { timeout: 60_000 }, async () => {
  const dir = freshDir('d-')
  const a = roleConfig()
  const b = { ...a, accessKeyId: keys.b.id, accessKeySecret: keys.b.secret }
  const [ra, rb] = await Promise.all([child(a, { cacheDir: dir }), child(b, { cacheDir: dir })])
  assert.notEqual(ra.out.id, rb.out.id)
  assert.equal(sts.state.requests.length, 2)
  assert.equal(entries(dir).length, 2)
  assertNoSourceSecret(dir)
  // Each later process gets its own identity's credential.
  assert.equal((await child(a, { cacheDir: dir })).out.id, ra.out.id)
  assert.equal((await child(b, { cacheDir: dir })).out.id, rb.out.id)
  assert.equal(sts.state.requests.length, 2)
})

test('a process killed while it holds the lock does not hold up the next', { timeout: 60_000 }, async () => {
  const dir = freshDir('d-')
  // Long timeouts: were the lock not released, the next process would wait past its own timeout.
  const config = roleConfig({ timeout: 60_000, connectTimeout: 60_000 })
  sts.set({ stall: true })
  let holder
  const held = child(config, { cacheDir: dir, onSpawn: (p) => (holder = p) })
  for (let i = 0; i < 400 && sts.state.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25))
  assert.equal(sts.state.requests.length, 1, 'the first process is asking STS (and holds the lock)')
  holder.kill('SIGKILL')
  const killed = await held
  assert.equal(killed.signal, 'SIGKILL')
  sts.set({ stall: false })
  const next = await child(config, { cacheDir: dir, timeout: 20_000 })
  assert.equal(next.status, 0, next.stderr)
  assert.equal(next.out.id, 'STS.issued-1')
  assert.equal(sts.state.requests.length, 2)
})

test('an entry in its refresh window is refreshed, an expired one is not served', { timeout: 60_000 }, async () => {
  const dir = freshDir('d-')
  const config = roleConfig()
  // Six-second credentials: refresh window from 4 s, never served from 5.4 s.
  sts.set({ expiresInMs: 6000 })
  assert.equal((await child(config, { cacheDir: dir })).out.id, 'STS.issued-1')
  assert.equal((await child(config, { cacheDir: dir })).out.id, 'STS.issued-1')
  await new Promise((r) => setTimeout(r, 4200))
  assert.equal((await child(config, { cacheDir: dir })).out.id, 'STS.issued-2')
  assert.equal((await child(config, { cacheDir: dir })).out.id, 'STS.issued-2')
  assert.equal(sts.state.requests.length, 2)
  // Past its expiry: asked again, and the entry replaced.
  await new Promise((r) => setTimeout(r, 6200))
  assert.equal((await child(config, { cacheDir: dir })).out.id, 'STS.issued-3')
  assert.equal(sts.state.requests.length, 3)
  const [name] = entries(dir)
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')).accessKeyId, 'STS.issued-3')
})

test('a corrupt or truncated entry is ignored and replaced', { timeout: 60_000 }, async () => {
  const dir = freshDir('d-')
  fs.chmodSync(dir, 0o700)
  const config = roleConfig()
  await child(config, { cacheDir: dir })
  const [name] = entries(dir)
  const file = path.join(dir, name)
  const good = fs.readFileSync(file, 'utf8')
  let n = 1
  for (const garbage of ['', good.slice(0, good.length / 2), 'not json at all', '[]', good.replace('"version":1', '"version":99')]) {
    fs.writeFileSync(file, garbage, { mode: 0o600 })
    const r = await child(config, { cacheDir: dir })
    n++
    assert.equal(r.out.id, `STS.issued-${n}`, JSON.stringify(garbage))
    assert.equal(JSON.parse(fs.readFileSync(file, 'utf8')).accessKeyId, `STS.issued-${n}`)
    assert.equal(mode(file), 0o600)
  }
  assert.equal(sts.state.requests.length, n)
})

// A hostile directory or entry: every process asks the source, nothing is written through it,
// the DEBUG line and describe() say why.
async function assertNotUsed(dir, config, why, { cacheDir = dir } = {}) {
  const before = sts.state.requests.length
  const listing = fs.readdirSync(dir).sort()
  for (let i = 0; i < 2; i++) {
    const r = await child(config, { cacheDir, env: { DEBUG: 'alicloud-credentials:shared-cache' } })
    assert.equal(r.status, 0, r.stderr)
    assert.ok(r.out.id, JSON.stringify(r.out))
    assert.ok(r.out.endpoint.includes(`not used: ${why}`), r.out.endpoint)
    assert.ok(r.stderr.includes(`alicloud-credentials:shared-cache`) && r.stderr.includes(why), r.stderr)
  }
  assert.equal(sts.state.requests.length, before + 2, 'each process asked the source')
  assert.deepEqual(fs.readdirSync(dir).sort(), listing, 'nothing written')
}

test('hostile directories are not used: open to others, another owner, a symlink', { timeout: 120_000 }, async () => {
  const open = freshDir('d-')
  fs.chmodSync(open, 0o755)
  await assertNotUsed(open, roleConfig(), 'group or others can access the directory (mode 755)')
  const groupOnly = freshDir('d-')
  fs.chmodSync(groupOnly, 0o710)
  await assertNotUsed(groupOnly, roleConfig(), 'group or others can access the directory (mode 710)')
  const parent = freshDir('d-')
  const real = path.join(parent, 'real')
  fs.mkdirSync(real, { mode: 0o700 })
  fs.symlinkSync(real, path.join(parent, 'link'))
  await assertNotUsed(real, roleConfig(), 'the directory is a symlink', { cacheDir: path.join(parent, 'link') })
  if (process.getuid() === 0) {
    const foreign = freshDir('d-')
    fs.chmodSync(foreign, 0o700)
    fs.chownSync(foreign, 4242, 4242)
    await assertNotUsed(foreign, roleConfig(), 'the directory is owned by uid 4242, not this user (uid 0)')
  } else {
    test.diagnostic('not root: the foreign-owner case needs chown')
  }
})

test('hostile entries are not used and left alone: open to others, a symlink, another owner', { timeout: 120_000 }, async () => {
  const dir = freshDir('d-')
  fs.chmodSync(dir, 0o700)
  const config = roleConfig()
  await child(config, { cacheDir: dir })
  const [name] = entries(dir)
  const file = path.join(dir, name)
  const saved = path.join(dir, 'saved')
  fs.copyFileSync(file, saved)
  fs.chmodSync(file, 0o640)
  await assertNotUsed(dir, config, `group or others can access the entry ${name} (mode 640)`)
  assert.equal(mode(file), 0o640)
  fs.rmSync(file)
  fs.symlinkSync(saved, file)
  await assertNotUsed(dir, config, `the entry ${name} is a symlink`)
  if (process.getuid() === 0) {
    fs.rmSync(file)
    fs.copyFileSync(saved, file)
    fs.chmodSync(file, 0o600)
    fs.chownSync(file, 4242, 4242)
    await assertNotUsed(dir, config, `the entry ${name} is owned by uid 4242`)
  }
})

test('the variable unset: nothing is written; sessionCacheDir wins, and an empty one turns it off', { timeout: 60_000 }, async () => {
  const home = freshDir('home-')
  const cwd = freshDir('cwd-')
  const tmp = freshDir('tmp-')
  const config = roleConfig()
  const env = { HOME: home, TMPDIR: tmp }
  const run = async (extra) => (await child({ ...config, ...extra }, { cwd, env })).out
  await run({})
  await run({})
  assert.equal(sts.state.requests.length, 2, 'each process asked STS')
  assert.deepEqual([fs.readdirSync(home), fs.readdirSync(cwd), fs.readdirSync(tmp)], [[], [], []])
  // The option (and it wins over the variable; an empty one turns the variable off).
  const optionDir = path.join(freshDir('d-'), 'c')
  const varDir = path.join(freshDir('d-'), 'c')
  const withOption = { ...config, sessionCacheDir: optionDir }
  await child(withOption, { cacheDir: varDir })
  assert.equal((await child(withOption, { cacheDir: varDir })).out.id, 'STS.issued-3')
  assert.equal(sts.state.requests.length, 3)
  assert.equal(entries(optionDir).length, 1)
  assert.ok(!fs.existsSync(varDir))
  await child({ ...config, sessionCacheDir: '' }, { cacheDir: varDir })
  assert.equal(sts.state.requests.length, 4)
  assert.ok(!fs.existsSync(varDir), 'an empty sessionCacheDir turns the variable off')
})

// A small tmpfs (root only): full, then read-only.
function mountTmpfs(dir, options) {
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8', timeout: 10_000 })
  return r.status === 0
}

test('a full disk or a read-only directory: works as without the cache', { timeout: 60_000 }, async (t) => {
  const dir = path.join(freshDir('d-'), 'mnt')
  fs.mkdirSync(dir)
  if (!mountTmpfs(dir, 'size=8k,mode=0700')) return t.skip('cannot mount a tmpfs here (not root)')
  try {
    // Fill it.
    try {
      fs.writeFileSync(path.join(dir, 'fill'), Buffer.alloc(64 * 1024))
    } catch {}
    const config = roleConfig()
    for (let i = 1; i <= 2; i++) {
      const r = await child(config, { cacheDir: dir, env: { DEBUG: 'alicloud-credentials:shared-cache' } })
      assert.equal(r.out.id, `STS.issued-${i}`, r.stderr)
      assert.match(r.out.endpoint, /not used: cannot write the entry .*No space left on device/)
    }
    assert.equal(entries(dir).length, 0)
  } finally {
    spawnSync('umount', [dir], { timeout: 10_000 })
  }
  if (!mountTmpfs(dir, 'ro,mode=0700')) return t.skip('cannot mount a read-only tmpfs here')
  try {
    const config = roleConfig()
    const r = await child(config, { cacheDir: dir })
    assert.equal(r.out.id, 'STS.issued-3')
    assert.match(r.out.endpoint, /not used: cannot write the entry .*Read-only file system/)
  } finally {
    spawnSync('umount', [dir], { timeout: 10_000 })
  }
})

test('every session type and the profile modes built on them: processes at once make one request, a later one none', { timeout: 120_000 }, async () => {
  const metadata = await startMetadata({ roleName: 'SharedCacheRole' })
  const uri = await startUri()
  const work = freshDir('types-')
  const tokenFile = path.join(work, 'token')
  fs.writeFileSync(tokenFile, 'oidc-token')
  const cliFile = path.join(work, 'config.json')
  fs.writeFileSync(
    cliFile,
    JSON.stringify({
      current: 'p',
      profiles: [{ name: 'p', mode: 'RamRoleArn', access_key_id: keys.b.id, access_key_secret: keys.b.secret, ram_role_arn: 'acs:ram::1:role/cli', ram_session_name: `cli-${process.pid}`, sts_endpoint: sts.endpoint }],
    }),
  )
  const cases = [
    { name: 'oidc_role_arn', config: { type: 'oidc_role_arn', roleArn: 'acs:ram::1:role/oidc', oidcProviderArn: 'acs:ram::1:oidc-provider/p', oidcTokenFilePath: tokenFile, roleSessionName: `oidc-${process.pid}`, stsEndpoint: sts.endpoint }, issued: () => sts.state.issued },
    { name: 'ecs_ram_role', config: { type: 'ecs_ram_role', roleName: 'SharedCacheRole' }, env: { ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT: metadata.url }, issued: () => metadata.state.issued },
    { name: 'credentials_uri', config: { type: 'credentials_uri', credentialsURI: uri.url }, issued: () => uri.state.issued },
    { name: 'the default chain over a CLI RamRoleArn profile', config: null, env: { ALIBABA_CLOUD_CONFIG_FILE: cliFile }, issued: () => sts.state.issued },
  ]
  try {
    for (const c of cases) {
      const dir = freshDir()
      const before = c.issued()
      const runs = await Promise.all(Array.from({ length: 4 }, () => child(c.config, { cacheDir: dir, env: c.env })))
      for (const r of runs) assert.ok(r.out && r.out.id, `${c.name}: ${r.stdout} ${r.stderr}`)
      assert.equal(new Set(runs.map((r) => r.out.id)).size, 1, c.name)
      assert.equal(c.issued() - before, 1, `${c.name}: one request for 4 processes at once`)
      const later = await child(c.config, { cacheDir: dir, env: c.env })
      assert.equal(later.out.id, runs[0].out.id, c.name)
      assert.equal(c.issued() - before, 1, `${c.name}: none for a later process`)
      assert.equal(entries(dir).length, 1, c.name)
      assertNoSourceSecret(dir)
      for (const name of fs.readdirSync(dir)) assert.ok(!fs.readFileSync(path.join(dir, name), 'utf8').includes('oidc-token'), c.name)
    }
  } finally {
    await Promise.all([metadata.close(), uri.close()])
  }
})

test('processes at once share one failed refresh and its error, as callers in one process do', { timeout: 60_000 }, async () => {
  const dir = freshDir()
  const config = roleConfig()
  // Slow enough that every process is waiting on the lock when the first one's answer comes.
  sts.set({ delayMs: 300, status: 403, body: { Code: 'NoPermission', Message: 'You are not authorized to do this action.' } })
  const runs = await Promise.all(Array.from({ length: 4 }, () => child(config, { cacheDir: dir })))
  const errors = runs.map((r) => r.out && r.out.error)
  for (const e of errors) assert.match(String(e), /NoPermission|not authorized/, JSON.stringify(runs.map((r) => r.out)))
  assert.equal(new Set(errors).size, 1, JSON.stringify(errors))
  assert.equal(sts.state.requests.length, 1, 'one request for 4 processes')
  const note = fs.readdirSync(dir).filter((n) => n.endsWith('.fail'))
  assert.equal(note.length, 1)
  assert.equal(mode(path.join(dir, note[0])), 0o600)
  assertNoSourceSecret(dir)
  // The source is back and the note's backoff (at most a second) over: the next process asks, succeeds, and the note goes.
  sts.reset()
  await new Promise((r) => setTimeout(r, 1100))
  const ok = await child(config, { cacheDir: dir })
  assert.equal(ok.out.id, 'STS.issued-1')
  assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.fail')), [])
})

test('in one process, a credential with the cache off never shares a provider with one that has it on', { timeout: 60_000 }, async () => {
  const dir = path.join(freshDir(), 'c')
  const config = roleConfig()
  const code = `
const Credential = require(${JSON.stringify(ROOT)})
const config = JSON.parse(process.env.ACN_TEST_CONFIG)
;(async () => {
  const off = await new Credential({ ...config, sessionCacheDir: '' }).getCredential()
  const on = await new Credential(config).getCredential()
  const onAgain = await new Credential(config).getCredential()
  const offAgain = await new Credential({ ...config, sessionCacheDir: '' }).getCredential()
  console.log(JSON.stringify([off.accessKeyId, on.accessKeyId, onAgain.accessKeyId, offAgain.accessKeyId]))
})()
`
  const vars = isolatedEnv({ NODE_EXTRA_CA_CERTS: TEST_CA, ACN_TEST_CONFIG: JSON.stringify(config), ALICLOUD_CREDENTIALS_CACHE_DIR: dir })
  const out = await new Promise((resolve) => {
    const p = spawn(process.execPath, ['-e', code], { cwd: ROOT, env: vars, stdio: ['ignore', 'pipe', 'inherit'] })
    const timer = setTimeout(() => p.kill('SIGKILL'), CHILD_TIMEOUT)
    let stdout = ''
    p.stdout.on('data', (d) => (stdout += d))
    p.on('close', () => {
      clearTimeout(timer)
      resolve(JSON.parse(stdout.trim()))
    })
  })
  // The off one made its own request and wrote nothing; the on one its own, written; each shared within its setting.
  assert.deepEqual(out, ['STS.issued-1', 'STS.issued-2', 'STS.issued-2', 'STS.issued-1'])
  assert.equal(sts.state.requests.length, 2)
  const [name] = entries(dir)
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')).accessKeyId, 'STS.issued-2')
})
