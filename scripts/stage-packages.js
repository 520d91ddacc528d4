'use strict'
// Stages and packs what a release publishes, as the CI publish job would: the main package with
// the optionalDependencies `napi prepublish` adds, and the platform package of this machine with
// its binary. Used by the packaging tests, `npm run size` and `npm run matrix` (which stages every
// binary it builds with stagePlatform).
//   node scripts/stage-packages.js <out-dir>   → prints { main, platform, platformName } as JSON

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const ROOT = path.join(__dirname, '..')

const { PLATFORM_OF_TARGET } = require('../platforms.js')

function hostPlatform() {
  const libc = process.platform === 'linux' ? (process.report.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl') : process.platform === 'win32' ? '-msvc' : ''
  return `${process.platform}-${process.arch}${libc}`
}

function npmPack(dir, out, { dryRun = false } = {}) {
  const json = execFileSync('npm', ['pack', '--json', ...(dryRun ? ['--dry-run'] : []), '--pack-destination', out], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
  const [info] = JSON.parse(json)
  return { file: path.join(out, info.filename), size: info.size, unpackedSize: info.unpackedSize, files: info.files.map((f) => f.path).sort() }
}

/**
 * Stages npm/<platform> into `out`/<platform> with `binary` copied in under the name napi-rs gives
 * it (as `napi artifacts` would), then packs it (`dryRun`: lists what would be packed).
 */
function stagePlatform(platform, out, binary, { dryRun = false } = {}) {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const dir = path.join(out, platform)
  fs.rmSync(dir, { recursive: true, force: true })
  fs.mkdirSync(out, { recursive: true })
  fs.cpSync(path.join(ROOT, 'npm', platform), dir, { recursive: true })
  fs.copyFileSync(binary, path.join(dir, `${pkg.napi.binaryName}.${platform}.node`))
  return npmPack(dir, out, { dryRun })
}

function stage(out) {
  fs.mkdirSync(out, { recursive: true })
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'))
  const platform = hostPlatform()
  const binary = `${pkg.napi.binaryName}.${platform}.node`

  // The main package: its `files`, README, and package.json with optionalDependencies.
  const mainDir = path.join(out, 'main')
  fs.rmSync(mainDir, { recursive: true, force: true })
  fs.mkdirSync(mainDir)
  for (const f of [...pkg.files, 'README.md']) fs.copyFileSync(path.join(ROOT, f), path.join(mainDir, f))
  const published = { ...pkg }
  published.optionalDependencies = Object.fromEntries(pkg.napi.targets.map((t) => [`${pkg.name}-${PLATFORM_OF_TARGET[t]}`, pkg.version]))
  delete published.devDependencies
  delete published.overrides
  delete published.scripts
  fs.writeFileSync(path.join(mainDir, 'package.json'), JSON.stringify(published, null, 2))

  // This machine's platform package, with the binary `napi artifacts` would move into it.
  return { main: npmPack(mainDir, out), platform: stagePlatform(platform, out, path.join(ROOT, binary)), platformName: `${pkg.name}-${platform}` }
}

module.exports = { stage, stagePlatform, PLATFORM_OF_TARGET, hostPlatform }

if (require.main === module) {
  console.log(JSON.stringify(stage(path.resolve(process.argv[2] || path.join(ROOT, 'target', 'packages'))), null, 2))
}
