#!/usr/bin/env node
'use strict'

// `npx alicloud-credentials-native [--json] [--profile NAME]`: runs the default credential chain as
// this environment would and prints where the credentials come from, never a secret. Exit status 0
// when credentials were found, 1 otherwise.

const { parseArgs } = require('node:util')

const USAGE = `Usage: alicloud-credentials-native [--json] [--profile NAME]

Runs the Alibaba Cloud default credential chain (environment, OIDC, CLI profile, INI profile,
ECS metadata, credentials URI) as this environment would, and prints which credentials it picks
and why each step was used, skipped or failed. Never prints a secret.

  --json          print the description as JSON
  --profile NAME  use this CLI / INI profile (as ALIBABA_CLOUD_PROFILE=NAME would)
  -h, --help      show this help
  -v, --version   show the version

Exit status: 0 when credentials were found, 1 otherwise.
Debug logging: DEBUG=alicloud-credentials* (AccessKey IDs masked).`

function table(d, version) {
  const lines = [`alicloud-credentials-native ${version}: the default credential chain`, '']
  const row = (label, value) => lines.push(`  ${label.padEnd(13)} ${value ?? '-'}`)
  if (d.error) {
    row('result', `no credentials (${d.error.code})`)
  } else {
    row('provider', d.providerName)
    row('access key', d.accessKeyId)
    row('expiration', d.expiration)
    row('next refresh', d.nextRefresh)
    row('endpoint', d.endpoint)
  }
  if (d.steps.length) {
    lines.push('', '  chain')
    const width = Math.max(...d.steps.map((s) => s.provider.length), 4)
    lines.push(`    #  ${'step'.padEnd(width)}  ${'outcome'.padEnd(9)}  reason`)
    d.steps.forEach((s, i) => {
      lines.push(`    ${String(i + 1).padEnd(2)} ${s.provider.padEnd(width)}  ${s.outcome.padEnd(9)}  ${s.reason ?? ''}`.trimEnd())
    })
  }
  if (d.error && !d.steps.length) lines.push('', `  ${d.error.message}`)
  return lines.join('\n')
}

async function main(argv) {
  let args
  try {
    args = parseArgs({
      args: argv,
      options: {
        json: { type: 'boolean', default: false },
        profile: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
      strict: true,
    }).values
  } catch (e) {
    process.stderr.write(`${e.message}\n\n${USAGE}\n`)
    return 1
  }
  const { version } = require('./package.json')
  if (args.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (args.version) {
    process.stdout.write(`${version}\n`)
    return 0
  }
  if (args.profile !== undefined) {
    if (args.profile === '') {
      process.stderr.write(`--profile needs a name\n\n${USAGE}\n`)
      return 1
    }
    process.env.ALIBABA_CLOUD_PROFILE = args.profile
  }
  const Credential = require('./index.js')
  const description = await new Credential().describe()
  process.stdout.write(`${args.json ? JSON.stringify(description, null, 2) : table(description, version)}\n`)
  return description.error ? 1 : 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e) => {
    process.stderr.write(`alicloud-credentials-native: ${e && e.message}\n`)
    process.exitCode = 1
  },
)
