'use strict'

// The provider classes the official package exports, each with `builder()`, the official
// `with...()` setters, `build()`, `getCredentials()` and `getProviderName()`, over native providers.
// They compose natively (a RAM role provider over a CLI profile provider) and accept any
// JavaScript object with `getCredentials()` / `getProviderName()` as a source.

const { inspect } = require('node:util')
const { providerCreate, providerFromJs, providerName, providerClose, nativeResolve, nativeDescribe, nativeRelease } = require('./load-binding.js')

// The native half of a Credential or a provider object is a number in the binding's table of its
// thread, freed here once the object is collected (the table goes with its thread, whatever was
// not yet freed): a native object per identity cost about 230 bytes more for each of thousands of
// live identities.
const nativeHalves = new FinalizationRegistry(nativeRelease)
const { typeError, nativeError, maskId, coerceSetter, setterOptionsOf } = require('./options.js')

const kNative = Symbol('alicloud-credentials-native.provider')

// The credential in JavaScript, in one place: `credentialShape` gives what callers get, and
// `copierOf` copies it on every cached call.
//
// With a `type` argument (even an undefined one, a custom provider's name), getCredential()'s
// model: the official key order, absent fields left out, `type` before `providerName`. Without,
// a provider's getCredentials() answer: `securityToken` always a key. `snapshot` is what the
// native side resolved (or a JavaScript provider's answer).
function credentialShape(snapshot, type) {
  if (arguments.length < 2) {
    return {
      accessKeyId: snapshot.accessKeyId,
      accessKeySecret: snapshot.accessKeySecret,
      securityToken: snapshot.securityToken ?? undefined,
      providerName: snapshot.providerName,
    }
  }
  const model = {
    accessKeyId: snapshot.accessKeyId,
    accessKeySecret: snapshot.accessKeySecret,
  }
  if (snapshot.securityToken !== undefined && snapshot.securityToken !== null) {
    model.securityToken = snapshot.securityToken
  }
  if (snapshot.bearerToken !== undefined && snapshot.bearerToken !== null) {
    model.bearerToken = snapshot.bearerToken
  }
  model.type = type
  if (snapshot.providerName) model.providerName = snapshot.providerName
  return model
}

// The function that copies a model of `model`'s keys (a `credentialShape`): one per key set,
// shared by every cache, so a live identity keeps its model (a compact literal the copier made)
// and no closure or context of its own. The shapes are object literals, which V8 builds several
// times faster than a spread copy: this is the hot path.
const copyAkType = (m) => ({ accessKeyId: m.accessKeyId, accessKeySecret: m.accessKeySecret, type: m.type, providerName: m.providerName })
const copyStsType = (m) => ({ accessKeyId: m.accessKeyId, accessKeySecret: m.accessKeySecret, securityToken: m.securityToken, type: m.type, providerName: m.providerName })
const copyBearer = (m) => ({ accessKeyId: m.accessKeyId, accessKeySecret: m.accessKeySecret, securityToken: m.securityToken, bearerToken: m.bearerToken, type: m.type })
const copySts = (m) => ({ accessKeyId: m.accessKeyId, accessKeySecret: m.accessKeySecret, securityToken: m.securityToken, providerName: m.providerName })
const copySpread = (m) => ({ ...m })
function copierOf(model) {
  switch (Object.keys(model).join(',')) {
    case 'accessKeyId,accessKeySecret,type,providerName': return copyAkType
    case 'accessKeyId,accessKeySecret,securityToken,type,providerName': return copyStsType
    case 'accessKeyId,accessKeySecret,securityToken,bearerToken,type': return copyBearer
    case 'accessKeyId,accessKeySecret,securityToken,providerName': return copySts
    default: return copySpread
  }
}

/**
 * The last snapshot of a native credential or provider, in the shape `shape(snapshot)` gives it,
 * served without a native call while the wall clock is before the `reuseUntil` the native side
 * set (`Infinity` for static credentials; the opening of the refresh window for session
 * credentials; now, that is not at all, for sources read on every call and for a credential
 * whose refresh window is open, so the refresh's result is served from the call after it lands).
 * `Date.now()` is read at every call: no timer and no monotonic deadline decides, so the first
 * call after a jump of the wall clock (a sleep, a migration, an NTP step) sees it. One native
 * call in flight at a time; the Rust session cache is single-flight as well.
 */
class SnapshotCache {
  #native
  #shape
  // The model served (a compact copy of `#shape(snapshot)`) and its key set's copier.
  #model = null
  #copy = null
  // -Infinity whenever there is no clone to serve, so that one comparison decides (and a wall
  // clock stepped back can never make a missing snapshot look reusable).
  #reuseUntil = -Infinity
  #serveUntil = 0
  #pending = null

  constructor(native, shape) {
    this.#native = native
    this.#shape = shape
  }

  /** Resolves to a fresh copy of the current snapshot. */
  get() {
    if (Date.now() < this.#reuseUntil) return Promise.resolve(this.#copy(this.#model))
    return this.#refresh().then(([copy, model]) => copy(model))
  }

  /**
   * Milliseconds since the epoch from when the native side stops handing the last snapshot out
   * (its safety margin before expiry); `Infinity` when it does not expire.
   */
  get serveUntil() {
    return this.#serveUntil
  }

  #keep(copy, model, reuseUntil, serveUntil) {
    this.#serveUntil = serveUntil
    if (reuseUntil > Date.now()) {
      this.#copy = copy
      this.#model = model
      this.#reuseUntil = reuseUntil
    } else {
      this.#copy = null
      this.#model = null
      this.#reuseUntil = -Infinity
    }
  }

  #refresh() {
    if (this.#pending === null) {
      this.#pending = nativeResolve(this.#native).then(
        (outcome) => {
          this.#pending = null
          if (outcome.error) {
            // Nothing servable on the native side: nor here, whatever the clock does next.
            this.#copy = null
            this.#model = null
            this.#reuseUntil = -Infinity
            throw nativeError(outcome.error)
          }
          const snapshot = outcome.value
          const shaped = this.#shape(snapshot)
          const copy = copierOf(shaped)
          // Kept as the copier makes it: its keys in the object itself, no property array.
          const model = copy(shaped)
          this.#keep(copy, model, snapshot.reuseUntil, snapshot.serveUntil ?? snapshot.expiration ?? Infinity)
          return [copy, model]
        },
        (error) => {
          this.#pending = null
          throw error
        },
      )
    }
    return this.#pending
  }
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
// Its native half's number, and whether it was made for this call (and is freed after it).
function nativeSourceOf(provider) {
  if (provider instanceof NativeBackedProvider) return { handle: provider[kNative], made: false }
  const name = String(provider.getProviderName())
  const handle = providerFromJs(
    () =>
      Promise.resolve(provider.getCredentials()).then((c) => ({
        accessKeyId: optionalString(c && c.accessKeyId),
        accessKeySecret: optionalString(c && c.accessKeySecret),
        securityToken: optionalString(c && c.securityToken),
        providerName: optionalString(c && c.providerName),
      })),
    name,
  )
  return { handle, made: true }
}

// What only a builder hands the provider classes' constructor: the native half it made.
class Built {
  constructor(handle) {
    this.handle = handle
  }
}

/** Base of the exported providers: a native provider with a JavaScript-side cache. */
class NativeBackedProvider {
  #native
  #cache

  constructor(built) {
    if (!(built instanceof Built)) {
      throw new TypeError(`use ${new.target.name}.builder().build() to create a provider`)
    }
    this.#native = built.handle
    nativeHalves.register(this, built.handle)
    this.#cache = new SnapshotCache(built.handle, (snapshot) => credentialShape(snapshot))
  }

  get [kNative]() {
    return this.#native
  }

  /** The official provider name. */
  getProviderName() {
    return providerName(this.#native)
  }

  /** Resolves to `{ accessKeyId, accessKeySecret, securityToken, providerName }`. */
  getCredentials() {
    return this.#cache.get()
  }

  /**
   * Resolves to a description of the current credentials without secrets: provider name, masked
   * AccessKey ID, expiration, next refresh, endpoint, and for a chain the steps of its last pass.
   */
  async describe() {
    return toDescription(await nativeDescribe(this.#native))
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `${this.constructor.name} ${inspectFn({ providerName: this.getProviderName() }, options)}`
  }

  toJSON() {
    return { providerName: this.getProviderName() }
  }
}

// Gives `ProviderClass` a static `builder()` whose builder has the setters the option table gives
// `kind` and, for role providers, `withCredentialsProvider()`. Builder state lives in a
// non-enumerable `_` property.
function makeBuilder(ProviderClass, kind, takesSource) {
  const Builder = class {
    constructor() {
      this._ = { options: {}, source: null }
      Object.defineProperty(this, '_', { enumerable: false })
    }

    build() {
      const { options, source } = this._
      const nativeSource = takesSource && source !== null ? nativeSourceOf(source) : null
      let handle
      try {
        handle = providerCreate(kind, options, nativeSource && nativeSource.handle)
      } finally {
        // The role's description keeps what it needs of a JavaScript source's half.
        if (nativeSource !== null && nativeSource.made) nativeRelease(nativeSource.handle)
      }
      return new ProviderClass(new Built(handle))
    }
  }
  Object.defineProperty(Builder, 'name', { value: `${ProviderClass.name}Builder` })
  for (const option of setterOptionsOf(kind)) {
    const { name, setter } = option
    Object.defineProperty(Builder.prototype, setter, {
      value(value) {
        const coerced = coerceSetter(option, value)
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
    providerClose(this[kNative])
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

makeBuilder(StaticAKCredentialsProvider, 'static_ak', false)
makeBuilder(StaticSTSCredentialsProvider, 'static_sts', false)
makeBuilder(RAMRoleARNCredentialsProvider, 'ram_role_arn', true)
makeBuilder(OIDCRoleArnCredentialsProvider, 'oidc_role_arn', false)
makeBuilder(ECSRAMRoleCredentialsProvider, 'ecs_ram_role', false)
makeBuilder(URICredentialsProvider, 'credential_uri', false)
makeBuilder(EnvironmentVariableCredentialsProvider, 'env', false)
makeBuilder(ProfileCredentialsProvider, 'profile', false)
makeBuilder(CLIProfileCredentialsProvider, 'cli_profile', false)
makeBuilder(DefaultCredentialsProvider, 'default', false)

module.exports = {
  SnapshotCache,
  nativeHalves,
  credentialShape,
  toDescription,
  describeJsProvider,
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
