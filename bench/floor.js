'use strict'
// The floor of the benchmark: the least a JavaScript credentials module can do. Loading it costs
// one tiny file; each call resolves a fresh five-field object.

class FloorCredential {
  constructor(config) {
    this.config = config
  }

  getCredential() {
    return Promise.resolve({ accessKeyId: 'id', accessKeySecret: 'secret', securityToken: 'token', type: 'sts', providerName: 'floor' })
  }
}

module.exports = FloorCredential
module.exports.default = FloorCredential
module.exports.Config = class Config {
  constructor(c) {
    Object.assign(this, c)
  }
}
