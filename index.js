'use strict'

// The package entry: the `@alicloud/credentials` API over the native binding. `module.exports` is
// the Credential class itself, with every named export set as a static `module.exports.X = ...`
// line, so `require()`, `new Credential.default()`, TypeScript's esModuleInterop and Node ESM
// (`import Credential, { Config } from ...`) all see the same thing.

const { inspect } = require('node:util')
const { credentialNew, credentialKind, credentialBearerToken, nativeDescribe } = require('./load-binding.js')
const providers = require('./providers.js')

const { isCredentialsProvider, toDescription, describeJsProvider, SnapshotCache, nativeHalves } = providers
const { typeError, CONFIG_OPTIONS, eachConfigOption, toNativeConfig, shownOptions } = require('./options.js')

const PROVIDER_PIN_MS = 10_000

/** The options of a credential; see the README for each. Fields may be assigned after construction. */
class Config {
  constructor(config) {
    if (config === undefined || config === null) return
    // Checked as the native side will take them, kept as given.
    eachConfigOption(config, (option, value) => {
      this[option.name] = value
    })
  }

  /** The set options as a plain object (tea-typescript models have this). */
  toMap() {
    const map = {}
    for (const { name } of CONFIG_OPTIONS) {
      if (this[name] !== undefined && this[name] !== null) map[name] = this[name]
    }
    return map
  }

  // Secrets redacted, the credentials URI without its query and the policy as `<set>`.
  [inspect.custom](depth, options, inspectFn = inspect) {
    return `Config ${inspectFn(shownOptions(this), options)}`
  }
}

/** The credential model of the official package; `getCredential()` resolves to the same fields. */
class CredentialModel {
  constructor(map) {
    if (!map) return
    for (const name of ['accessKeyId', 'accessKeySecret', 'securityToken', 'bearerToken', 'type', 'providerName']) {
      if (map[name] !== undefined && map[name] !== null) this[name] = map[name]
    }
  }

  toMap() {
    return { ...this }
  }
}

const OSS_DEFAULT_INTERVAL_MS = 300_000
let ossOptionsOf

// One shape function per type, shared by every Credential of that type: a closure per Credential
// would cost a closure and a context for each of thousands of live identities.
const modelShapes = new Map()
function modelShapeOf(type) {
  let shape = modelShapes.get(type)
  if (shape === undefined) {
    shape = (snapshot) => {
      const model = providers.credentialShape(snapshot, type)
      if (model.providerName) model.providerName = interned(model.providerName)
      return model
    }
    modelShapes.set(type, shape)
  }
  return shape
}

// One copy of each type and provider name that live Credentials hold (the native side makes a new
// string each time); a few dozen at most, and past INTERNED_MAX (custom provider names) new ones
// are kept as they come.
const INTERNED_MAX = 256
const internedNames = new Map()
function interned(name) {
  const known = internedNames.get(name)
  if (known !== undefined) return known
  if (internedNames.size < INTERNED_MAX) internedNames.set(name, name)
  return name
}

/**
 * A credential client: `new Credential(config?, provider?)`. With no config it runs the default
 * chain; a provider (any object with `getCredentials()` and `getProviderName()`) wins over config.
 */
class Credential {
  // What a live Credential holds, lean for many tenants: its native half (a number in the
  // binding's table; null for a JavaScript provider), the cache of its last snapshot, and its
  // type; the rest (the JavaScript provider, the deprecated getters' pinned snapshot) only when used.
  #native = null
  // The last resolved credential, served until the native side says to ask again.
  #cache = null
  #type
  // `{ provider }` for a JavaScript provider; `{ pinned, pinnedUntil }` once a deprecated getter
  // ran: the snapshot the separate getters read, so id, secret and token always belong together.
  #extra = null

  constructor(config = null, provider = null) {
    if (isCredentialsProvider(provider)) {
      this.#extra = { provider, pinned: null, pinnedUntil: 0 }
      this.#type = provider.getProviderName()
      return
    }
    this.#native = credentialNew(config ? toNativeConfig(config) : null)
    nativeHalves.register(this, this.#native)
    this.#type = interned(credentialKind(this.#native))
    this.#cache = new SnapshotCache(this.#native, modelShapeOf(this.#type))
  }

  /** Resolves to the current credentials; cached ones are served without leaving JavaScript. */
  getCredential() {
    if (this.#native === null) return this.#fromProvider()
    return this.#cache.get()
  }

  async #fromProvider() {
    const credentials = await this.#extra.provider.getCredentials()
    return providers.credentialShape(
      {
        accessKeyId: credentials.accessKeyId,
        accessKeySecret: credentials.accessKeySecret,
        securityToken: credentials.securityToken,
        providerName: credentials.providerName,
      },
      this.#type,
    )
  }

  // A fresh snapshot for getAccessKeyId(); the pinned one, while the native side still
  // hands it out, for the other getters.
  async #snapshot(repin) {
    const extra = this.#extra
    if (!repin && extra !== null && extra.pinned !== null && Date.now() < extra.pinnedUntil) return extra.pinned
    const model = await this.getCredential()
    this.#extra ??= { provider: null, pinned: null, pinnedUntil: 0 }
    this.#extra.pinned = model
    // Pinned until the native side stops handing it out (its safety margin before expiry), so a
    // lone getter near expiry gets the next credential, never one about to expire. A custom
    // provider says nothing of expiry: pin its answer briefly, long enough for a signer's id,
    // secret, token sequence.
    this.#extra.pinnedUntil = this.#native === null ? Date.now() + PROVIDER_PIN_MS : this.#cache.serveUntil
    return model
  }

  /** @deprecated Use getCredential() instead. */
  async getAccessKeyId() {
    return (await this.#snapshot(true)).accessKeyId
  }

  /** @deprecated Use getCredential() instead. */
  async getAccessKeySecret() {
    return (await this.#snapshot(false)).accessKeySecret
  }

  /** @deprecated Use getCredential() instead. */
  async getSecurityToken() {
    return (await this.#snapshot(false)).securityToken
  }

  /**
   * Resolves to a description without secrets (beyond the official package): the type, the
   * provider that served the credentials, the masked AccessKey ID, expiration and next refresh,
   * the endpoint or file they came from, and for the default chain every step of its last pass
   * with why it failed. `error` is set instead when no credentials could be had.
   */
  async describe() {
    if (this.#native === null) return describeJsProvider(this.#extra.provider, { type: this.#type })
    return toDescription(await nativeDescribe(this.#native), { type: this.#type })
  }

  /** @deprecated Use getCredential() instead. Synchronous, as the official one. */
  getBearerToken() {
    // Asked of the native side when called (only a `bearer` credential has one), not kept by
    // every Credential.
    if (this.#native === null) return undefined
    return credentialBearerToken(this.#native) ?? undefined
  }

  /** @deprecated Use getCredential() instead. Synchronous, as the official one. */
  getType() {
    return this.#type
  }

  [inspect.custom](depth, options, inspectFn = inspect) {
    return `Credential ${inspectFn({ type: this.#type }, options)}`
  }

  static {
    // ossOptions() reads the expiry of the last snapshot, which only this class can see.
    ossOptionsOf = async (credential) => {
      if (!(credential instanceof Credential)) {
        throw typeError('ossOptions(credential): credential must be a Credential')
      }
      const first = await credential.getCredential()
      const options = { accessKeyId: first.accessKeyId, accessKeySecret: first.accessKeySecret }
      if (!first.securityToken) return options
      const left = (credential.#cache?.serveUntil ?? 0) - Date.now()
      options.stsToken = first.securityToken
      options.refreshSTSToken = () => credential.getCredential()
      // ali-oss keeps what it gets for this interval. The credential refreshes in the background
      // from a third of its life before expiry, and the call that starts that refresh still gets
      // the old keys: a sixth of the life left until they stop being served (their expiry minus
      // the safety margin; 1 s to 5 min) means ali-oss asks at least once more after the
      // refresh, well before the old keys expire.
      options.refreshSTSTokenInterval = Number.isFinite(left)
        ? Math.min(OSS_DEFAULT_INTERVAL_MS, Math.max(1000, Math.floor(left / 6)))
        : OSS_DEFAULT_INTERVAL_MS
      return options
    }
  }

  toJSON() {
    return { type: this.#type }
  }
}

module.exports = Credential
module.exports.default = Credential
module.exports.Credential = Credential
module.exports.Config = Config
module.exports.CredentialModel = CredentialModel
module.exports.ossOptions = (credential) => ossOptionsOf(credential)
module.exports.DefaultCredentialsProvider = providers.DefaultCredentialsProvider
module.exports.StaticAKCredentialsProvider = providers.StaticAKCredentialsProvider
module.exports.StaticSTSCredentialsProvider = providers.StaticSTSCredentialsProvider
module.exports.RAMRoleARNCredentialsProvider = providers.RAMRoleARNCredentialsProvider
module.exports.OIDCRoleArnCredentialsProvider = providers.OIDCRoleArnCredentialsProvider
module.exports.ECSRAMRoleCredentialsProvider = providers.ECSRAMRoleCredentialsProvider
module.exports.URICredentialsProvider = providers.URICredentialsProvider
module.exports.EnvironmentVariableCredentialsProvider = providers.EnvironmentVariableCredentialsProvider
module.exports.ProfileCredentialsProvider = providers.ProfileCredentialsProvider
module.exports.CLIProfileCredentialsProvider = providers.CLIProfileCredentialsProvider
Object.defineProperty(module.exports, '__esModule', { value: true })
