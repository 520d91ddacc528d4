//! Alibaba Cloud credentials for Node.js: a Rust core (every module but `binding` knows nothing of
//! N-API) and a thin napi-rs binding that `index.js` wraps into the `@alicloud/credentials` API.

pub mod builder;
pub mod credential;
pub mod credentials;
pub mod description;
pub mod diagnostics;
pub mod encoding;
pub mod env;
pub mod error;
pub mod fsio;
pub mod http;
pub mod log;
pub mod paths;
pub mod profile;
pub mod providers;
pub mod registry;
pub mod secret;
pub mod session;
pub mod shared_cache;
pub mod sts;
#[cfg(test)]
pub(crate) mod testing;
pub mod time;
pub mod writeback;

#[cfg(feature = "node")]
mod binding;
