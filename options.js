'use strict'

// Every option the package takes, in one table: `new Config({...})` / `new Credential({...})`
// options and the provider builders' `with...()` setters are checked, converted and handed to
// the native side from it, and `__test__/options-table.test.js` checks that `index.d.ts` and the
// binding agree with it. To add an option: one row here and its documented field in
// `NativeOptions` (`src/binding/options.rs`, which hands it to the resolver that reads it; the
// Config options of `index.d.ts` extend it), and for a builder setter its line in `index.d.ts`.

const { debugEnabled, debugLog } = require('./load-binding.js')

// `DEBUG=alicloud-credentials*` also logs every error this package creates (messages hold no
// secrets), so a whole run can be audited.
const logErrors = debugEnabled('error')

/**
 * One row an option:
 * - `name`: the JavaScript key, in a Config and in the object the native side takes;
 * - `type`: the JavaScript type it takes (`ts`: the wider type `index.d.ts` gives the Config option);
 * - `config`: `'native'` when a Config option the native side reads, `'ignored'` when a Config
 *   option accepted and dropped (as the official code does), absent when builder-only;
 * - `setter` and `builders`: the builder setter and the provider kinds whose builders have it;
 * - `rust`: the field of `NativeOptions` in `src/binding/options.rs`, the one object both a Config
 *   and a builder hand over (the key is `name`, which differs from the field's camelCase for
 *   `credentialsURI` and `disableIMDSv1`);
 * - `shown`: how `util.inspect(config)` shows it: `'redacted'`, `'set'`, `'uri'`, else as is.
 */
const ROLE = ['ram_role_arn', 'oidc_role_arn']
const TIMED = [...ROLE, 'ecs_ram_role', 'credential_uri']
const OPTIONS = [
  { name: 'type', type: 'string', config: 'native', rust: 'kind' },
  { name: 'accessKeyId', type: 'string', config: 'native', setter: 'withAccessKeyId', builders: ['static_ak', 'static_sts'], rust: 'access_key_id' },
  { name: 'accessKeySecret', type: 'string', config: 'native', setter: 'withAccessKeySecret', builders: ['static_ak', 'static_sts'], rust: 'access_key_secret', shown: 'redacted' },
  { name: 'securityToken', type: 'string', config: 'native', setter: 'withSecurityToken', builders: ['static_sts'], rust: 'security_token', shown: 'redacted' },
  { name: 'bearerToken', type: 'string', config: 'native', rust: 'bearer_token', shown: 'redacted' },
  { name: 'roleArn', type: 'string', config: 'native', setter: 'withRoleArn', builders: ROLE, rust: 'role_arn' },
  { name: 'roleSessionName', type: 'string', config: 'native', setter: 'withRoleSessionName', builders: ROLE, rust: 'role_session_name' },
  { name: 'roleSessionExpiration', type: 'number', config: 'native', rust: 'role_session_expiration' },
  { name: 'policy', type: 'string', config: 'native', setter: 'withPolicy', builders: ROLE, rust: 'policy', shown: 'set' },
  { name: 'externalId', type: 'string', config: 'native', setter: 'withExternalId', builders: ['ram_role_arn'], rust: 'external_id', shown: 'redacted' },
  { name: 'stsEndpoint', type: 'string', config: 'native', setter: 'withStsEndpoint', builders: ROLE, rust: 'sts_endpoint' },
  { name: 'stsRegionId', type: 'string', config: 'native', setter: 'withStsRegionId', builders: ROLE, rust: 'sts_region_id' },
  { name: 'enableVpc', type: 'boolean', ts: 'boolean | string', config: 'native', setter: 'withEnableVpc', builders: ROLE, rust: 'enable_vpc' },
  { name: 'oidcProviderArn', type: 'string', config: 'native', setter: 'withOIDCProviderArn', builders: ['oidc_role_arn'], rust: 'oidc_provider_arn' },
  { name: 'oidcTokenFilePath', type: 'string', config: 'native', setter: 'withOIDCTokenFilePath', builders: ['oidc_role_arn'], rust: 'oidc_token_file_path' },
  { name: 'credentialsURI', type: 'string', config: 'native', setter: 'withCredentialsURI', builders: ['credential_uri'], rust: 'credentials_uri', shown: 'uri' },
  { name: 'roleName', type: 'string', config: 'native', setter: 'withRoleName', builders: ['ecs_ram_role'], rust: 'role_name' },
  { name: 'disableIMDSv1', type: 'boolean', config: 'native', setter: 'withDisableIMDSv1', builders: ['ecs_ram_role'], rust: 'disable_imds_v1' },
  { name: 'asyncCredentialUpdateEnabled', type: 'boolean', config: 'native', setter: 'withAsyncCredentialUpdateEnabled', builders: ['ecs_ram_role'], rust: 'async_credential_update_enabled' },
  { name: 'timeout', type: 'number', config: 'native', rust: 'timeout' },
  // The builders' read timeout; a Config calls it `timeout`.
  { name: 'readTimeout', type: 'number', setter: 'withReadTimeout', builders: TIMED, rust: 'read_timeout' },
  { name: 'connectTimeout', type: 'number', config: 'native', setter: 'withConnectTimeout', builders: TIMED, rust: 'connect_timeout' },
  // rsa_key_pair is refused before they could be read.
  { name: 'publicKeyId', type: 'string', config: 'ignored' },
  { name: 'privateKeyFile', type: 'string', config: 'ignored' },
  // A Config ignores it (as the official one does); the role builders pass it to STS.
  { name: 'durationSeconds', type: 'number', config: 'ignored', setter: 'withDurationSeconds', builders: ROLE, rust: 'duration_seconds' },
  { name: 'enableIMDSv2', type: 'boolean', config: 'ignored' },
  { name: 'metadataTokenDuration', type: 'number', config: 'ignored' },
  { name: 'profileName', type: 'string', setter: 'withProfileName', builders: ['profile', 'cli_profile'], rust: 'profile_name' },
  // This package's own: the session cache shared by the user's processes (README).
  { name: 'sessionCacheDir', type: 'string', config: 'native', rust: 'session_cache_dir' },
]

// Config options in the table's order, the official one (toMap() and inspect show them so).
const CONFIG_OPTIONS = OPTIONS.filter((o) => o.config)

function typeError(message) {
  const error = new TypeError(message)
  error.code = 'ERR_INVALID_ARG_TYPE'
  if (logErrors) debugLog('error', `${error.code}: ${message}`)
  return error
}

function nativeError(failure) {
  const error = new Error(failure.message)
  error.code = failure.code
  if (logErrors) debugLog('error', `${failure.code}: ${failure.message}`)
  return error
}

function describeType(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `type ${typeof value}`
}

// Checks one value against `option` and returns it in the type the native side takes. Numbers
// also accept numeric strings and booleans the strings 'true' / 'false', the forms
// environment-derived values take. `subject` starts the message, `received` describes the value's
// type: the message never holds the value (it may be a secret).
function coerce(option, value, subject, received) {
  const expected = option.type
  const actual = typeof value
  if (actual === expected) {
    if (expected === 'number' && !Number.isFinite(value)) throw typeError(`${subject} must be a finite number`)
    return value
  }
  if (actual === 'string' && expected === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value)
  }
  if (actual === 'string' && expected === 'boolean' && (value === 'true' || value === 'false')) {
    return value === 'true'
  }
  throw typeError(`${subject} must be of type ${expected}, received ${received(value)}`)
}

// Calls `use(option, value, coerced)` for each set Config option of `config`, after checking it.
function eachConfigOption(config, use) {
  if (typeof config !== 'object') {
    throw typeError(`The "config" argument must be an object, received ${describeType(config)}`)
  }
  for (const option of CONFIG_OPTIONS) {
    const value = config[option.name]
    if (value === undefined || value === null) continue
    use(option, value, coerce(option, value, `The "${option.name}" option`, describeType))
  }
}

/** A Config instance or a plain object, checked and reduced to the options the native side reads. */
function toNativeConfig(config) {
  const native = {}
  eachConfigOption(config, (option, value, coerced) => {
    if (option.config === 'native') native[option.name] = coerced
  })
  return native
}

/** The value a builder setter of `option` stores (`undefined` to unset), checked; throws a TypeError naming it. */
function coerceSetter(option, value) {
  if (value === undefined || value === null) return undefined
  return coerce(option, value, `${option.setter}(): "${option.name}"`, (v) => `type ${typeof v}`)
}

/** The options whose setters the builder of provider `kind` has, in table order. */
function setterOptionsOf(kind) {
  return OPTIONS.filter((o) => o.builders && o.builders.includes(kind))
}

/** An AccessKey ID as logs and descriptions show it: first and last four characters. */
function maskId(id) {
  if (typeof id !== 'string' || id === '') return undefined
  const chars = [...id]
  if (chars.length <= 8) return '*'.repeat(chars.length)
  return `${chars.slice(0, 4).join('')}****${chars.slice(-4).join('')}`
}

// `scheme://host[:port]/path` of a URI, without the userinfo, query and fragment where tokens are
// usually passed (as the native side shows endpoints).
function maskUri(uri) {
  try {
    const u = new URL(String(uri))
    return `${u.protocol}//${u.host}${u.pathname}`
  } catch {
    return '<invalid url>'
  }
}

const SHOWN = {
  redacted: () => '<redacted>',
  set: () => '<set>',
  uri: maskUri,
}

/** The set Config options of `config` as `util.inspect` shows them: no secret, token or policy. */
function shownOptions(config) {
  const shown = {}
  for (const option of CONFIG_OPTIONS) {
    const value = config[option.name]
    if (value === undefined || value === null) continue
    shown[option.name] = option.shown ? SHOWN[option.shown](value) : value
  }
  return shown
}

module.exports = {
  OPTIONS,
  CONFIG_OPTIONS,
  typeError,
  nativeError,
  eachConfigOption,
  toNativeConfig,
  coerceSetter,
  setterOptionsOf,
  maskId,
  shownOptions,
}
