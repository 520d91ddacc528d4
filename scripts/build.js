'use strict'
// `npm run build` (and ensure-built, the release jobs and the matrix): `napi build` with the
// project's options, the Linux glibc targets linked against glibc 2.17 through cargo-zigbuild (napi's
// `--cross-compile`), so the binary built and tested here is the one released and loads on every
// glibc Node runs on (Node 18+ itself needs 2.28), not only on one as new as this machine's.
// Other targets build as napi builds them.
//
//   node scripts/build.js [--debug] [--target <triple>] [other napi build options]
//   node scripts/build.js --tools      (only installs zig and cargo-zigbuild where missing)
//
// The glibc targets need zig and cargo-zigbuild. Those on PATH (or zig as python3's ziglang
// module) are used; missing ones are installed into .cache/zig-tools (git-ignored) from PyPI and
// crates.io, at pinned versions, so a fresh clone still builds with `npm install && npm test`.

const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')
const GLIBC_FLOOR = '2.17'
const GLIBC_TARGETS = ['x86_64-unknown-linux-gnu', 'aarch64-unknown-linux-gnu']
const ZIGLANG = 'ziglang==0.17.1'
const CARGO_ZIGBUILD = 'cargo-zigbuild@0.24.1'
const SETUP = `python3 -m pip install ${ZIGLANG} && cargo install --locked ${CARGO_ZIGBUILD}`
const TOOLS = path.join(ROOT, '.cache', 'zig-tools')

function hostTriple() {
  const r = spawnSync('rustc', ['-vV'], { encoding: 'utf8' })
  const line = (r.stdout || '').split('\n').find((l) => l.startsWith('host: '))
  if (!line) throw new Error(`rustc -vV failed: ${r.stderr || r.error}`)
  return line.slice('host: '.length).trim()
}

const works = (cmd, argv, env) => spawnSync(cmd, argv, { encoding: 'utf8', env, stdio: 'ignore' }).status === 0

// zig as cargo-zigbuild finds it: `zig` on PATH, else the ziglang module of python3.
const zigFound = (env) => works('zig', ['version'], env) || works('python3', ['-m', 'ziglang', 'version'], env)

// The environment napi build runs in: PATH with zig and cargo-zigbuild, installed here if missing.
function zigEnv() {
  const env = { ...process.env }
  const prepend = (dir) => (env.PATH = `${dir}${path.delimiter}${env.PATH || ''}`)
  if (!zigFound(env)) {
    const dir = path.join(TOOLS, 'python')
    if (!fs.existsSync(path.join(dir, 'ziglang', 'zig'))) {
      console.error(`zig not found: installing ${ZIGLANG} from PyPI into ${path.relative(ROOT, dir)}`)
      const pip = (...extra) => spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--target', dir, ...extra, ZIGLANG], { stdio: 'inherit' }).status === 0
      // A distribution's own python refuses pip (PEP 668) even into a directory of ours.
      if (!pip()) pip('--break-system-packages')
    }
    prepend(path.join(dir, 'ziglang'))
  }
  if (!works('cargo', ['zigbuild', '--help'], env)) {
    const dir = path.join(TOOLS, 'cargo')
    if (!fs.existsSync(path.join(dir, 'bin', 'cargo-zigbuild'))) {
      console.error(`cargo-zigbuild not found: installing ${CARGO_ZIGBUILD} from crates.io into ${path.relative(ROOT, dir)}`)
      spawnSync('cargo', ['install', '--quiet', '--locked', '--root', dir, CARGO_ZIGBUILD], { stdio: 'inherit' })
    }
    prepend(path.join(dir, 'bin'))
  }
  const missing = [!zigFound(env) && 'zig', !works('cargo', ['zigbuild', '--help'], env) && 'cargo-zigbuild'].filter(Boolean)
  if (missing.length > 0) throw new Error(`the glibc ${GLIBC_FLOOR} build needs ${missing.join(' and ')}, which could not be installed; install them with: ${SETUP}`)
  return env
}

/** The `napi build` arguments for `argv` (this script's own). */
function napiArgs(argv, host = hostTriple()) {
  const rest = [...argv]
  const debug = rest.includes('--debug')
  const passed = rest.filter((a) => a !== '--debug')
  let target = host
  const at = passed.findIndex((a) => a === '--target' || a === '-t' || a.startsWith('--target='))
  if (at !== -1) {
    if (passed[at].startsWith('--target=')) {
      target = passed[at].slice('--target='.length)
      passed.splice(at, 1)
    } else {
      target = passed[at + 1]
      passed.splice(at, 2)
    }
  }
  const pinned = GLIBC_TARGETS.includes(target)
  const args = ['build', '--platform', ...(debug ? [] : ['--release']), '--js', 'binding.js', '--dts', 'binding.d.ts']
  if (pinned) args.push('--cross-compile', '--target', `${target}.${GLIBC_FLOOR}`)
  else if (target !== host) args.push('--target', target)
  return { args: [...args, ...passed], pinned, target }
}

function main() {
  // --tools: only make sure zig and cargo-zigbuild are there (.ci/run, before the tests build).
  if (process.argv.includes('--tools')) {
    zigEnv()
    return
  }
  const { args, pinned } = napiArgs(process.argv.slice(2))
  let env = process.env
  if (pinned) {
    try {
      env = zigEnv()
    } catch (e) {
      console.error(e.message)
      process.exit(1)
    }
  }
  // The CLI's own bin (its package exports hide dist/), as npx would run it.
  const napi = path.join(ROOT, 'node_modules', '@napi-rs', 'cli', 'dist', 'cli.js')
  const r = spawnSync(process.execPath, [napi, ...args], { cwd: ROOT, stdio: 'inherit', env })
  process.exit(r.status === null ? 1 : r.status)
}

module.exports = { napiArgs, zigEnv, GLIBC_FLOOR, GLIBC_TARGETS, SETUP }

if (require.main === module) main()
