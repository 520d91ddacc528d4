'use strict'
// Builds the native addon when it is missing, older than the Rust sources, or (Linux glibc) asks
// for a newer glibc than the release floor (a build made before the floor, or by hand with plain
// cargo), so `npm test`, `npm run demo` and `npm run bench` work from a fresh clone with one
// command and test what a release ships. The build is `npm run build` (scripts/build.js).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { GLIBC_FLOOR } = require('./build')
const { elfNeeds, glibcNewer } = require('./elf-needs')

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

// The glibc this machine's build asks for, when above the floor.
function aboveFloor() {
  const report = process.platform === 'linux' && process.report.getReport().header
  if (!report || !report.glibcVersionRuntime) return null
  const file = path.join(root, `${require('../package.json').napi.binaryName}.linux-${process.arch}-gnu.node`)
  if (!fs.existsSync(file)) return null
  const { glibc } = elfNeeds(file)
  return glibc && glibcNewer(glibc, GLIBC_FLOOR) ? glibc : null
}

const stale = builtAddon() < newestSource()
const glibc = stale ? null : aboveFloor()
if (process.env.FORCE_BUILD || stale || glibc) {
  console.log(`building the native addon (npm run build)${glibc ? `: the present one needs glibc ${glibc}, above the ${GLIBC_FLOOR} floor` : ''}...`)
  execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit' })
}
