'use strict'
// Builds the native addon when it is missing or older than the Rust sources, so `npm test`,
// `npm run demo` and `npm run bench` work from a fresh clone with one command.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

function newestSource() {
  let newest = 0
  const visit = (p) => {
    const st = fs.statSync(p)
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(p)) visit(path.join(p, name))
    } else {
      newest = Math.max(newest, st.mtimeMs)
    }
  }
  for (const p of ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs']) visit(path.join(root, p))
  return newest
}

function builtAddon() {
  const addons = fs.readdirSync(root).filter((f) => f.endsWith('.node'))
  if (addons.length === 0) return 0
  return Math.max(...addons.map((f) => fs.statSync(path.join(root, f)).mtimeMs))
}

if (process.env.FORCE_BUILD || builtAddon() < newestSource()) {
  console.log('building the native addon (napi build --release)...')
  execFileSync('npx', ['napi', 'build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts'], {
    cwd: root,
    stdio: 'inherit',
  })
}
