'use strict'
// `npm run size`: packed and unpacked size of what an install of this package brings (the main
// package and this platform's binary package) beside the installed size of @alicloud/credentials
// (its whole node_modules tree, dependencies included).

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { stage } = require('./stage-packages')

function treeBytes(dir) {
  let total = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name)
    if (entry.isDirectory()) total += treeBytes(p)
    else if (entry.isFile()) total += fs.statSync(p).size
  }
  return total
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'acn-size-'))
try {
  const packed = stage(path.join(work, 'packages'))
  const official = path.join(work, 'official')
  fs.mkdirSync(official)
  fs.writeFileSync(path.join(official, 'package.json'), '{"name":"size-probe","private":true}')
  const version = require('@alicloud/credentials/package.json').version
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', `@alicloud/credentials@${version}`], { cwd: official, stdio: 'ignore' })
  const officialBytes = treeBytes(path.join(official, 'node_modules'))
  const kb = (n) => `${(n / 1024).toFixed(0)} KiB`
  const ours = packed.main.unpackedSize + packed.platform.unpackedSize
  console.log('| package | packed | installed |')
  console.log('|---|---:|---:|')
  console.log(`| alicloud-credentials-native (main) | ${kb(packed.main.size)} | ${kb(packed.main.unpackedSize)} |`)
  console.log(`| ${packed.platformName} | ${kb(packed.platform.size)} | ${kb(packed.platform.unpackedSize)} |`)
  console.log(`| **alicloud-credentials-native, total** | ${kb(packed.main.size + packed.platform.size)} | **${kb(ours)}** |`)
  console.log(`| @alicloud/credentials@${version} with its dependencies | | **${kb(officialBytes)}** |`)
  console.log(`\nratio (installed): ${(ours / officialBytes).toFixed(2)}x`)
} finally {
  fs.rmSync(work, { recursive: true, force: true })
}
