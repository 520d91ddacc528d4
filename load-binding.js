'use strict'
// Loads the native binding through napi's generated loader (binding.js) and, when no binary loads,
// throws one error that says what happened and what to do instead of napi's generic advice:
//   ERR_CREDENTIALS_NATIVE_MISSING      no binary for this platform is installed (or bundled);
//   ERR_CREDENTIALS_NATIVE_LOAD_FAILED  a binary is there but cannot load (glibc too old, another
//                                       CPU or OS, a bundler that turned the .node file into a path).
// The platform it detected, the package and version it needs, why it is probably missing and the
// install command are in the message; napi's load errors stay attached as `cause`.

const fs = require('node:fs')
const path = require('node:path')
const { createRequire } = require('node:module')
const pkg = require('./package.json')

const { PLATFORM_OF_TARGET } = require('./platforms.js')
const PUBLISHED = pkg.napi.targets.map((t) => PLATFORM_OF_TARGET[t]).filter(Boolean)

/** What this process runs on: { os, cpu, libc, glibcVersion, platform: 'linux-x64-gnu' }. */
function detectPlatform() {
  const os = process.platform
  const cpu = process.arch
  let libc = null
  let glibcVersion = null
  if (os === 'linux') {
    // Node's report names the glibc it runs on; where there is no report (other runtimes), what
    // /usr/bin/ldd is, as napi's loader and npm tell.
    let reported = false
    try {
      glibcVersion = process.report.getReport().header.glibcVersionRuntime || null
      reported = true
    } catch {}
    let ldd = ''
    if (!glibcVersion) {
      try {
        ldd = fs.readFileSync('/usr/bin/ldd', 'latin1')
      } catch {}
    }
    libc = glibcVersion || (!ldd.includes('musl') && ldd.includes('GNU C Library')) ? 'glibc' : ldd.includes('musl') || reported ? 'musl' : 'glibc'
  }
  const abi = libc === 'glibc' ? 'gnu' : libc === 'musl' ? 'musl' : os === 'win32' ? 'msvc' : null
  return { os, cpu, libc, glibcVersion, platform: [os, cpu, abi].filter(Boolean).join('-') }
}

function describe({ os, cpu, libc, glibcVersion }) {
  return [os, cpu, libc && (glibcVersion ? `${libc} ${glibcVersion}` : libc)].filter(Boolean).join(' ')
}

// npm's flags that install a platform's packages from another machine.
function npmFlags(platform) {
  const [os, cpu, abi] = platform.split('-')
  return [`--os=${os}`, `--cpu=${cpu}`, ...(os === 'linux' ? [`--libc=${abi === 'musl' ? 'musl' : 'glibc'}`] : [])].join(' ')
}

// What kind of binary a file is, from its first bytes (for "this binary is for another CPU").
function binaryKind(file) {
  let head
  try {
    const fd = fs.openSync(file, 'r')
    head = Buffer.alloc(20)
    fs.readSync(fd, head, 0, 20, 0)
    fs.closeSync(fd)
  } catch {
    return null
  }
  if (head.readUInt32BE(0) === 0x7f454c46) {
    const machine = { 0x3e: 'x64', 0xb7: 'arm64', 0x03: 'ia32', 0x28: 'arm' }[head[5] === 1 ? head.readUInt16LE(18) : head.readUInt16BE(18)]
    return { os: 'linux', cpu: machine || 'unknown CPU' }
  }
  if ([0xcffaedfe, 0xcefaedfe, 0xcafebabe].includes(head.readUInt32BE(0))) return { os: 'darwin', cpu: head.readUInt32LE(4) === 0x0100000c ? 'arm64' : 'x64' }
  if (head.toString('latin1', 0, 2) === 'MZ') return { os: 'win32', cpu: null }
  return { os: null, cpu: null }
}

function nativeError(code, lines, cause, fields) {
  const error = new Error(lines.filter(Boolean).join('\n'))
  error.code = code
  if (cause !== undefined) error.cause = cause
  Object.assign(error, fields)
  return error
}

// The binding napi's loader could not give us: say which, why and what to do.
function loadError(cause) {
  const host = detectPlatform()
  const packageName = `${pkg.name}-${host.platform}`
  const wanted = `${packageName}@${pkg.version}`
  const fields = { platform: host.platform, packageName, packageVersion: pkg.version }
  const here = `detected platform: ${describe(host)}`
  let req
  try {
    req = createRequire(__filename)
  } catch {
    req = null
  }
  const resolve = (request) => {
    try {
      return req ? req.resolve(request) : null
    } catch {
      return null
    }
  }

  // A binary that is there but does not load: load it again for its own error.
  const override = process.env.NAPI_RS_NATIVE_LIBRARY_PATH
  const candidates = override ? [path.resolve(override)] : [path.join(__dirname, `${pkg.napi.binaryName}.${host.platform}.node`), resolve(packageName)]
  const present = candidates.find((f) => f && fs.existsSync(f))
  if (present) {
    let reason = null
    try {
      req(present)
    } catch (e) {
      reason = e
    }
    // No error the second time: napi's loader refused it for another reason (a version check).
    const firstCause = cause && cause.cause ? cause.cause : cause
    const message = String((reason || firstCause || {}).message).split('\n')[0]
    const kind = binaryKind(present)
    const glibc = /GLIBC_([\d.]+)'? not found/.exec(message)
    let why
    if (glibc) why = `this system's glibc ${host.glibcVersion || '(unknown)'} is older than the GLIBC_${glibc[1]} the binary needs: install ${wanted} from the registry (its binaries need glibc 2.17), not a build made on a newer system`
    else if (kind && kind.os && (kind.os !== host.os || (kind.cpu && kind.cpu !== host.cpu))) why = `the file is a ${[kind.os, kind.cpu].filter(Boolean).join(' ')} binary, and this is ${host.os} ${host.cpu}: node_modules was installed on (or copied from) another machine; reinstall here, or install for this platform with: npm install ${npmFlags(host.platform)}`
    else if (host.libc === 'musl' && /libc\.so\.6|ld-linux|GLIBC/.test(message)) why = 'a glibc binary on a musl system (Alpine): install the -musl package, e.g. run npm install in the musl image'
    else if (host.libc === 'glibc' && /musl/.test(message)) why = 'a musl binary on a glibc system: install the -gnu package'
    else why = 'the binary is damaged or incompatible with this system: reinstall it'
    return nativeError(
      'ERR_CREDENTIALS_NATIVE_LOAD_FAILED',
      [
        `${pkg.name}: the native binary ${present} is present but cannot be loaded: ${message}`,
        here,
        override ? 'it was named by NAPI_RS_NATIVE_LIBRARY_PATH' : `expected: ${wanted}`,
        `probably: ${why}`,
      ],
      cause,
      // The loader's own error object for this file (napi's chain keeps only the messages).
      { ...fields, binaryPath: present, binaryError: reason },
    )
  }

  if (override) {
    return nativeError(
      'ERR_CREDENTIALS_NATIVE_MISSING',
      [`${pkg.name}: NAPI_RS_NATIVE_LIBRARY_PATH names ${override}, which does not exist`, here, 'unset it to load the installed binary, or point it at a .node file'],
      cause,
      { ...fields, binaryPath: path.resolve(override) },
    )
  }

  // Missing: what is installed instead tells why.
  const others = PUBLISHED.filter((p) => p !== host.platform && resolve(`${pkg.name}-${p}/package.json`))
  const sameMachine = others.find((p) => p.startsWith(`${host.os}-${host.cpu}-`))
  const bundled = !fs.existsSync(path.join(__dirname, 'binding.js'))
  let why
  if (!PUBLISHED.includes(host.platform)) why = `no binary is published for ${host.platform}; published: ${PUBLISHED.join(', ')}`
  else if (bundled) why = `this code runs from a bundle (${__filename}) that left the binary out: keep ${pkg.name} external or copy its .node file beside the bundle (see "Bundlers" in the README)`
  else if (sameMachine) why = `${pkg.name}-${sameMachine} is installed instead: node_modules was installed for ${sameMachine.endsWith('musl') ? 'musl (Alpine)' : 'glibc'} and this system uses ${host.libc}; install in the image that runs it, or with npm install ${npmFlags(host.platform)}`
  else if (others.length > 0) why = `node_modules holds the binary for ${others.join(', ')}: it was installed on another OS or CPU (a zip or image built on a Mac, say) and copied here; reinstall here, or install for this platform with: npm install ${npmFlags(host.platform)}`
  else why = 'optional dependencies were not installed (npm --omit=optional or omit=optional in .npmrc, yarn --ignore-optional, pnpm --no-optional, or a lockfile made on another platform by an npm that dropped them)'
  const to = PUBLISHED.includes(host.platform)
    ? `to install: npm install ${wanted} (or reinstall with optional dependencies: npm install --include=optional); for node_modules built on another machine for this one: npm install ${npmFlags(host.platform)}`
    : null
  return nativeError('ERR_CREDENTIALS_NATIVE_MISSING', [`${pkg.name}: no native binary for this platform; it needs the package ${wanted}`, here, `probably: ${why}`, to], cause, fields)
}

let binding
try {
  binding = require('./binding.js')
} catch (e) {
  throw loadError(e)
}
// A bundler's file loader (esbuild --loader:.node=file) hands back the .node file's path instead
// of the addon: say so, rather than fail later on a missing function.
if (!binding || typeof binding.credentialNew !== 'function' || typeof binding.debugEnabled !== 'function') {
  const got = typeof binding === 'string' ? `the string ${JSON.stringify(binding)}` : `a ${typeof binding} without the native functions`
  throw nativeError(
    'ERR_CREDENTIALS_NATIVE_LOAD_FAILED',
    [
      `${pkg.name}: the native binding loaded as ${got}, not the addon`,
      `detected platform: ${describe(detectPlatform())}`,
      'probably: a bundler turned the .node file into something else (esbuild --loader:.node=file gives its path): use --loader:.node=copy, or keep the package external (see "Bundlers" in the README)',
    ],
    undefined,
    { platform: detectPlatform().platform },
  )
}

module.exports = binding
