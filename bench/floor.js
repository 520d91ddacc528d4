'use strict'
// The floor of the benchmark: the least a correct JavaScript credentials cache can do. Loading it
// costs one tiny file; each call reads the wall clock (a cached credential must be checked against
// it at every call: timers and monotonic deadlines do not see a machine's sleep or a clock step)
// and resolves a fresh five-field object while the cached one may still be reused.

// An hour-long credential's cached life before its refresh window opens (45 minutes).
const REUSE_MS = 45 * 60_000

class FloorCredential {
  constructor(config) {
    this.config = config
    this.reuseUntil = Date.now() + REUSE_MS
  }

  getCredential() {
    if (Date.now() < this.reuseUntil) {
      return Promise.resolve({ accessKeyId: 'id', accessKeySecret: 'secret', securityToken: 'token', type: 'sts', providerName: 'floor' })
    }
    // A refresh, as the floor has no source: a new hour-long credential at once.
    this.reuseUntil = Date.now() + REUSE_MS
    return this.getCredential()
  }
}

module.exports = FloorCredential
module.exports.default = FloorCredential
module.exports.Config = class Config {
  constructor(c) {
    Object.assign(this, c)
  }
}
