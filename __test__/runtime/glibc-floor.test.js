'use strict'
// The Linux binaries load where Node runs: the glibc builds need at most GLIBC_2.17 (what
// `npm run build` produces, read from the ELF file itself and cross-checked with readelf), the
// musl builds need no glibc at all; and every build path (npm run build, ensure-built, the
// release workflow, the matrix) goes through the build script that pins the floor.

const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const yaml = require('js-yaml')
const { ROOT } = require('../helpers')
const { elfNeeds, glibcNewer } = require('../../scripts/elf-needs')
const { napiArgs, GLIBC_FLOOR } = require('../../scripts/build')

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
const binaries = fs.readdirSync(ROOT).filter((f) => /\.linux-.*\.node$/.test(f))
const hasReadelf = spawnSync('readelf', ['--version']).status === 0

// readelf's "Version needs" section: { library: [version names] }, the independent reading.
function readelfVersions(file) {
  const out = spawnSync('readelf', ['-V', '-W', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).stdout
  const section = out.slice(out.indexOf("Version needs section '.gnu.version_r'"))
  const versions = {}
  let library = null
  for (const line of section.split('\n')) {
    const file = line.match(/File: (\S+)/)
    if (file) (library = file[1]), (versions[library] ??= [])
    const name = line.match(/Name: (\S+)/)
    if (name && library) versions[library].push(name[1])
  }
  for (const names of Object.values(versions)) names.sort()
  return versions
}

const sortedCopy = (versions) => Object.fromEntries(Object.entries(versions).map(([k, v]) => [k, [...v].sort()]))

test('the ELF reader agrees with readelf (on node itself and on every Linux binary here)', { skip: !hasReadelf && 'no readelf' }, () => {
  for (const file of [process.execPath, ...binaries.map((b) => path.join(ROOT, b))]) {
    if (fs.readFileSync(file).readUInt32BE(0) !== 0x7f454c46) continue // not ELF (a stand-in)
    assert.deepEqual(sortedCopy(elfNeeds(file).versions), readelfVersions(file), file)
  }
})

test(`the glibc builds need at most GLIBC_${GLIBC_FLOOR}`, { skip: process.platform !== 'linux' && 'not Linux' }, () => {
  const gnu = binaries.filter((b) => b.endsWith('-gnu.node'))
  if (process.report.getReport().header.glibcVersionRuntime) {
    assert.ok(gnu.includes(`${pkg.napi.binaryName}.linux-${process.arch}-gnu.node`), `this machine's build is here: ${binaries}`)
  }
  for (const b of gnu) {
    const { glibc, needed, versions } = elfNeeds(path.join(ROOT, b))
    assert.ok(glibc, `${b} asks for GLIBC_ versions`)
    assert.ok(!glibcNewer(glibc, GLIBC_FLOOR), `${b} needs GLIBC_${glibc}, above the ${GLIBC_FLOOR} floor (${JSON.stringify(versions)})`)
    // No C++ runtime or other library a minimal system may lack.
    for (const lib of needed) assert.match(lib, /^(libc\.so\.6|libm\.so\.6|libdl\.so\.2|libpthread\.so\.0|librt\.so\.1|libgcc_s\.so\.1|ld-linux-[\w-]+\.so\.\d)$/, `${b} needs ${lib}`)
  }
})

// Loading, not only the symbol versions: this node, its addon and the smoke suite under the
// dynamic loader and C library of a Debian 11 root (glibc 2.31), which .ci/run makes with
// debootstrap (as `npm run matrix` does).
const OLD_GLIBC_ROOT = path.join(ROOT, '.cache', 'debian11-root')
const hasOldRoot = fs.existsSync(path.join(OLD_GLIBC_ROOT, 'lib', 'x86_64-linux-gnu', 'libc.so.6'))
test('the x64 glibc build loads and passes the smoke suite under glibc 2.31', { skip: (process.arch !== 'x64' && 'x64 only') || (!hasOldRoot && 'no Debian 11 root in .cache/debian11-root (.ci/run and npm run matrix make it)') }, () => {
  const { oldGlibcSmoke } = require('../../scripts/matrix')
  const r = oldGlibcSmoke()
  assert.equal(r.glibc, '2.31')
  assert.ok(r.ok, r.summary)
})

const muslBinaries = binaries.filter((f) => f.endsWith('-musl.node'))
test('the musl builds here need musl only: no GLIBC_ version, no glibc library', { skip: muslBinaries.length === 0 && 'no musl build here (npm run matrix builds them)' }, () => {
  for (const b of muslBinaries) {
    const { glibc, needed } = elfNeeds(path.join(ROOT, b))
    assert.equal(glibc, null, b)
    assert.deepEqual(needed.filter((l) => /libc\.so\.6|ld-linux|libpthread|libdl\.so|libm\.so\.6/.test(l)), [], b)
    assert.ok(needed.some((l) => /^libc\.(so|musl)/.test(l)), `${b} names musl's libc (${needed})`)
  }
})

test('the build script pins the glibc targets to the floor through cargo-zigbuild, and only those', () => {
  const host = 'x86_64-unknown-linux-gnu'
  const cases = {
    'x86_64-unknown-linux-gnu': ['--cross-compile', '--target', `x86_64-unknown-linux-gnu.${GLIBC_FLOOR}`],
    'aarch64-unknown-linux-gnu': ['--cross-compile', '--target', `aarch64-unknown-linux-gnu.${GLIBC_FLOOR}`],
    'x86_64-unknown-linux-musl': ['--target', 'x86_64-unknown-linux-musl'],
    'aarch64-apple-darwin': ['--target', 'aarch64-apple-darwin'],
    'x86_64-pc-windows-msvc': ['--target', 'x86_64-pc-windows-msvc'],
  }
  const base = ['build', '--platform', '--release', '--js', 'binding.js', '--dts', 'binding.d.ts']
  for (const [target, tail] of Object.entries(cases)) {
    assert.deepEqual(napiArgs(['--target', target], host).args, [...base, ...tail], target)
    assert.deepEqual(napiArgs([`--target=${target}`], host).args, [...base, ...tail], target)
  }
  // No target: this machine's, pinned when it is a glibc one.
  assert.deepEqual(napiArgs([], host).args, [...base, ...cases[host]])
  assert.deepEqual(napiArgs(['--debug', '--strip'], 'aarch64-apple-darwin').args, [...base.filter((a) => a !== '--release'), '--strip'])
})

test('every build path goes through the build script', () => {
  assert.equal(pkg.scripts.build, 'node scripts/build.js')
  assert.equal(pkg.scripts['build:debug'], 'node scripts/build.js --debug')
  const ensure = fs.readFileSync(path.join(ROOT, 'scripts', 'ensure-built.js'), 'utf8')
  assert.match(ensure, /build\.js/)
  assert.doesNotMatch(ensure, /'napi', 'build'/)
  const matrix = fs.readFileSync(path.join(ROOT, 'scripts', 'matrix.js'), 'utf8')
  assert.match(matrix, /scripts', 'build\.js'|build\.js/)
  const workflow = yaml.load(fs.readFileSync(path.join(ROOT, '.github', 'workflows', 'ci.yml'), 'utf8'))
  const build = workflow.jobs.build.steps.find((s) => s.name === 'Build')
  assert.equal(build.run, 'npm run build -- --target ${{ matrix.target }}')
  assert.match(fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8'), /scripts\/build\.js --tools/)
})
