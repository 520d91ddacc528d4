'use strict'

// The provider classes the official package exports, each with `builder()`, the official
// `with...()` setters, `build()`, `getCredentials()` and `getProviderName()`, over native providers.
// They compose natively (a RAM role provider over a CLI profile provider) and accept any
// JavaScript object with `getCredentials()` / `getProviderName()` as a source.

const { inspect } = require('node:util')
const { NativeProvider, debugEnabled, debugLog } = require('./binding.js')

// `DEBUG=alicloud-credentials*` also logs every error this package creates (messages hold no
// secrets), so a whole run can be audited.
const logErrors = debugEnabled('error')

const kNative = Symbol('alicloud-credentials-native.provider')

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

// An AccessKey ID as logs and descriptions show it: first and last four characters.
function maskId(id) {
  if (typeof id !== 'string' || id === '') return undefined
  const chars = [...id]
  if (chars.length <= 8) return '*'.repeat(chars.length)
  return `${chars.slice(0, 4).join('')}****${chars.slice(-4).join('')}`
}

// The plain object describe() resolves to, absent fields left out.
function toDescription(native, extra = {}) {
  const d = { ...extra }
  if (native.providerName) d.providerName = native.providerName
  if (native.accessKeyId) d.accessKeyId = native.accessKeyId
  if (native.expiration) d.expiration = native.expiration
  if (native.nextRefresh) d.nextRefresh = native.nextRefresh
  if (native.endpoint) d.endpoint = native.endpoint
  d.steps = (native.steps || []).map((s) => (s.reason ? { provider: s.provider, outcome: s.outcome, reason: s.reason } : { provider: s.provider, outcome: s.outcome }))
  if (native.error) d.error = { code: native.error.code, message: native.error.message }
  return d
}

// describe() of a JavaScript provider: what its getCredentials() gives, masked.
async function describeJsProvider(provider, extra = {}) {
  const d = { ...extra, providerName: String(provider.getProviderName()) }
  try {
    const c = await provider.getCredentials()
    if (c && c.providerName) d.providerName = String(c.providerName)
    const id = maskId(c && c.accessKeyId)
    if (id) d.accessKeyId = id
  } catch (e) {
    d.steps = []
    d.error = { code: (e && e.code) || 'ERR_CREDENTIALS_PROVIDER', message: String((e && e.message) || e) }
    return d
  }
  d.steps = []
  return d
}

function isCredentialsProvider(value) {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof value.getCredentials === 'function' &&
    typeof value.getProviderName === 'function'
  )
}

function optionalString(value) {
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' ? value : String(value)
}

// A JavaScript provider as the native side calls it: its answer reduced to four strings.
function nativeSourceOf(provider) {
  if (provider instanceof NativeBackedProvider) return provider[kNative]
  const name = String(provider.getProviderName())
  return NativeProvider.fromJs(
    () =>
      Promise.resolve(provider.getCredentials()).then((c) => ({
        accessKeyId: optionalString(c && c.accessKeyId),
        accessKeySecret: optionalString(c && c.accessKeySecret),
        securityToken: optionalString(c && c.securityToken),
        providerName: optionalString(c && c.providerName),
      })),
    name,
  )
}

/** Base of the exported providers: a native provider with a JavaScript-side cache. */
class NativeBackedProvider {
  #native
  #result = null
  #reuseUntil = 0
  #pending = null

  constructor(native) {
    if (!(native instanceof NativeProvider)) {
      throw new TypeError(`use ${new.target.name}.builder().build() to create a provider`)
    }
    this.#native = native
  }

  get [kNative]() {
    return this.#native
  }

  /** The official provider name. */
  getProviderName() {
    return this.#native.name
  }

  /** Resolves to `{ accessKeyId, accessKeySecret, securityToken, providerName }`. */
  getCredentials() {
    const result = this.#result
    if (result !== null && (this.#reuseUntil === Infinity || Date.now() < this.#reuseUntil)) {
      return Promise.resolve({ ...result })
    }
    if (this.#pending === null) {
      this.#pending = this.#native.resolve().then(
        (outcome) => {
          this.#pending = null
          if (outcome.error) throw nativeError(outcome.error)
          const s = outcome.value
          this.#result = {
            accessKeyId: s.accessKeyId,
            accessKeySecret: s.accessKeySecret,
            securityToken: s.securityToken ?? undefined,
            providerName: s.providerName,
          }
          this.#reuseUntil = s.reuseUntil
          return this.#result
        },
        (error) => {
          this.#pending = null
          throw error
        },
      )
    }
    return this.#pending.then((r) => ({ ...r }))
  }

  /**
   * Resolves to a description of the current credentials without secrets: provider name, masked
   * AccessKey ID, expiration, next refresh, endpoint, and for a chain the steps of its last pass.
   */
  async describe() {
    return toDescription(await this.#native.describe())
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `${this.constructor.name} ${inspectFn({ providerName: this.getProviderName() }, options)}`
  }

  toJSON() {
    return { providerName: this.getProviderName() }
  }
}

// Builder setters: method name → [option name, JavaScript type].
const SETTERS = {
  withAccessKeyId: ['accessKeyId', 'string'],
  withAccessKeySecret: ['accessKeySecret', 'string'],
  withSecurityToken: ['securityToken', 'string'],
  withRoleArn: ['roleArn', 'string'],
  withRoleSessionName: ['roleSessionName', 'string'],
  withDurationSeconds: ['durationSeconds', 'number'],
  withPolicy: ['policy', 'string'],
  withExternalId: ['externalId', 'string'],
  withStsEndpoint: ['stsEndpoint', 'string'],
  withStsRegionId: ['stsRegionId', 'string'],
  withEnableVpc: ['enableVpc', 'boolean'],
  withOIDCProviderArn: ['oidcProviderArn', 'string'],
  withOIDCTokenFilePath: ['oidcTokenFilePath', 'string'],
  withRoleName: ['roleName', 'string'],
  withDisableIMDSv1: ['disableIMDSv1', 'boolean'],
  withAsyncCredentialUpdateEnabled: ['asyncCredentialUpdateEnabled', 'boolean'],
  withCredentialsURI: ['credentialsURI', 'string'],
  withProfileName: ['profileName', 'string'],
  withReadTimeout: ['readTimeout', 'number'],
  withConnectTimeout: ['connectTimeout', 'number'],
}

function coerce(setter, value) {
  const [name, expected] = SETTERS[setter]
  if (value === undefined || value === null) return undefined
  if (typeof value === expected) {
    if (expected === 'number' && !Number.isFinite(value)) throw typeError(`${setter}(): "${name}" must be a finite number`)
    return value
  }
  if (typeof value === 'string' && expected === 'number' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value)
  if (typeof value === 'string' && expected === 'boolean' && (value === 'true' || value === 'false')) return value === 'true'
  throw typeError(`${setter}(): "${name}" must be of type ${expected}, received type ${value === null ? 'null' : typeof value}`)
}

// Gives `ProviderClass` a static `builder()` whose builder has `setters` and, for role providers,
// `withCredentialsProvider()`. Builder state lives in a non-enumerable `_` property.
function makeBuilder(ProviderClass, kind, setters, takesSource) {
  const Builder = class {
    constructor() {
      this._ = { options: {}, source: null }
      Object.defineProperty(this, '_', { enumerable: false })
    }

    build() {
      const { options, source } = this._
      let nativeSource = null
      if (takesSource && source !== null) nativeSource = nativeSourceOf(source)
      return new ProviderClass(NativeProvider.create(kind, options, nativeSource))
    }
  }
  Object.defineProperty(Builder, 'name', { value: `${ProviderClass.name}Builder` })
  for (const setter of setters) {
    Object.defineProperty(Builder.prototype, setter, {
      value(value) {
        const coerced = coerce(setter, value)
        const name = SETTERS[setter][0]
        if (coerced === undefined) delete this._.options[name]
        else this._.options[name] = coerced
        return this
      },
      writable: true,
      configurable: true,
    })
  }
  if (takesSource) {
    Builder.prototype.withCredentialsProvider = function (provider) {
      if (provider !== undefined && provider !== null && !isCredentialsProvider(provider)) {
        throw typeError('withCredentialsProvider(): the provider must have getCredentials() and getProviderName()')
      }
      this._.source = provider ?? null
      return this
    }
  }
  ProviderClass.builder = function builder() {
    return new Builder()
  }
  return ProviderClass
}

const TIMEOUTS = ['withReadTimeout', 'withConnectTimeout']
const ROLE = ['withRoleArn', 'withRoleSessionName', 'withDurationSeconds', 'withPolicy', 'withStsEndpoint', 'withStsRegionId', 'withEnableVpc', ...TIMEOUTS]

/** A fixed AccessKey (`static_ak`). */
class StaticAKCredentialsProvider extends NativeBackedProvider {}
/** A fixed STS token (`static_sts`). */
class StaticSTSCredentialsProvider extends NativeBackedProvider {}
/** AssumeRole over another provider (`ram_role_arn/<source>`). */
class RAMRoleARNCredentialsProvider extends NativeBackedProvider {}
/** AssumeRoleWithOIDC with a token file (`oidc_role_arn`). */
class OIDCRoleArnCredentialsProvider extends NativeBackedProvider {}
/** The ECS instance RAM role (`ecs_ram_role`). */
class ECSRAMRoleCredentialsProvider extends NativeBackedProvider {
  /** Stops the background refresh started by `withAsyncCredentialUpdateEnabled(true)`. */
  close() {
    this[kNative].close()
  }
}
/** Credentials served by a URI (`credential_uri`). */
class URICredentialsProvider extends NativeBackedProvider {}
/** `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN` (`env`). */
class EnvironmentVariableCredentialsProvider extends NativeBackedProvider {}
/** The INI file `~/.alibabacloud/credentials` (`profile`). */
class ProfileCredentialsProvider extends NativeBackedProvider {}
/** The Alibaba Cloud CLI's `~/.aliyun/config.json` (`cli_profile`). */
class CLIProfileCredentialsProvider extends NativeBackedProvider {}
/** The default chain (`default`). */
class DefaultCredentialsProvider extends NativeBackedProvider {}

makeBuilder(StaticAKCredentialsProvider, 'static_ak', ['withAccessKeyId', 'withAccessKeySecret'], false)
makeBuilder(StaticSTSCredentialsProvider, 'static_sts', ['withAccessKeyId', 'withAccessKeySecret', 'withSecurityToken'], false)
makeBuilder(RAMRoleARNCredentialsProvider, 'ram_role_arn', [...ROLE, 'withExternalId'], true)
makeBuilder(OIDCRoleArnCredentialsProvider, 'oidc_role_arn', [...ROLE, 'withOIDCProviderArn', 'withOIDCTokenFilePath'], false)
makeBuilder(ECSRAMRoleCredentialsProvider, 'ecs_ram_role', ['withRoleName', 'withDisableIMDSv1', 'withAsyncCredentialUpdateEnabled', ...TIMEOUTS], false)
makeBuilder(URICredentialsProvider, 'credential_uri', ['withCredentialsURI', ...TIMEOUTS], false)
makeBuilder(EnvironmentVariableCredentialsProvider, 'env', [], false)
makeBuilder(ProfileCredentialsProvider, 'profile', ['withProfileName'], false)
makeBuilder(CLIProfileCredentialsProvider, 'cli_profile', ['withProfileName'], false)
makeBuilder(DefaultCredentialsProvider, 'default', [], false)

module.exports = {
  toDescription,
  describeJsProvider,
  maskId,
  typeError,
  nativeError,
  isCredentialsProvider,
  StaticAKCredentialsProvider,
  StaticSTSCredentialsProvider,
  RAMRoleARNCredentialsProvider,
  OIDCRoleArnCredentialsProvider,
  ECSRAMRoleCredentialsProvider,
  URICredentialsProvider,
  EnvironmentVariableCredentialsProvider,
  ProfileCredentialsProvider,
  CLIProfileCredentialsProvider,
  DefaultCredentialsProvider,
}
