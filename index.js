'use strict'

// The package entry: the `@alicloud/credentials` API over the native binding. `module.exports` is
// the Credential class itself, with every named export set as a static `module.exports.X = ...`
// line, so `require()`, `new Credential.default()`, TypeScript's esModuleInterop and Node ESM
// (`import Credential, { Config } from ...`) all see the same thing.

const { inspect } = require('node:util')
const { NativeCredential } = require('./load-binding.js')
const providers = require('./providers.js')

const { isCredentialsProvider, toDescription, describeJsProvider, SnapshotCache } = providers
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

/**
 * A credential client: `new Credential(config?, provider?)`. With no config it runs the default
 * chain; a provider (any object with `getCredentials()` and `getProviderName()`) wins over config.
 */
class Credential {
  #native = null
  #provider = null
  #type
  #bearerToken
  // The last resolved credential, served until the native side says to ask again.
  #cache = null
  // The snapshot the separate getters read, so id, secret and token always belong together.
  #pinned = null
  #pinnedUntil = 0

  constructor(config = null, provider = null) {
    if (isCredentialsProvider(provider)) {
      this.#provider = provider
      this.#type = provider.getProviderName()
      return
    }
    this.#native = new NativeCredential(config ? toNativeConfig(config) : null)
    this.#type = this.#native.kind
    this.#bearerToken = this.#native.bearerToken() ?? undefined
    const type = this.#type
    this.#cache = new SnapshotCache(this.#native, (snapshot) => providers.credentialShape(snapshot, type))
  }

  /** Resolves to the current credentials; cached ones are served without leaving JavaScript. */
  getCredential() {
    if (this.#native === null) return this.#fromProvider()
    return this.#cache.get()
  }

  async #fromProvider() {
    const credentials = await this.#provider.getCredentials()
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

  // A fresh snapshot for getAccessKeyId(); the pinned one, while unexpired, for the other getters.
  async #snapshot(repin) {
    if (!repin && this.#pinned !== null && Date.now() < this.#pinnedUntil) return this.#pinned
    const model = await this.getCredential()
    this.#pinned = model
    // A custom provider says nothing of expiry: pin its answer briefly, long enough for a signer's
    // id, secret, token sequence.
    this.#pinnedUntil = this.#native === null ? Date.now() + PROVIDER_PIN_MS : this.#cache.expiresAt
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
    if (this.#native === null) return describeJsProvider(this.#provider, { type: this.#type })
    return toDescription(await this.#native.describe(), { type: this.#type })
  }

  /** @deprecated Use getCredential() instead. Synchronous, as the official one. */
  getBearerToken() {
    return this.#bearerToken
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
      const left = (credential.#cache?.expiresAt ?? 0) - Date.now()
      options.stsToken = first.securityToken
      options.refreshSTSToken = () => credential.getCredential()
      // ali-oss keeps what it gets for this interval. The credential refreshes in the background
      // from a third of its life before expiry, and the call that starts that refresh still gets
      // the old keys: a sixth of the remaining life (1 s to 5 min) means ali-oss asks at least
      // once more after the refresh, well before the old keys expire.
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
