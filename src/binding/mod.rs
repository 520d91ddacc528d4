// napi-derive registers the exported functions with Node; a test build has no registry, so
// rustc sees free `#[napi]` functions as unused there.
#![cfg_attr(test, allow(dead_code))]

//! The N-API layer: converts JavaScript values to core types and core errors to JavaScript errors
//! carrying the official message and a stable `code`. No credential logic lives here.
//!
//! - `options`: the option objects JavaScript passes, converted to core types;
//! - `outcome`: what goes back (snapshots, failures, descriptions) and the panic guard;
//! - `table`: the native halves of JavaScript objects, a table per thread that JavaScript refers
//!   to by number, and the calls every half takes (resolve, describe, release);
//! - `credential`: the native half of `Credential`;
//! - `provider`: the native half of the exported provider classes;
//! - `allocator`: the addon's allocator on Linux glibc (why: there).

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod allocator;
mod credential;
mod options;
mod outcome;
mod provider;
mod table;

use napi_derive::napi;

/// In builds with the `test-panics` feature only: panics when
/// `ALICLOUD_CREDENTIALS_NATIVE_TEST_PANIC` names `entry`, so a test can check that every entry
/// point turns a panic into `ERR_CREDENTIALS_INTERNAL` (or, for logging, into nothing).
fn injected_panic(entry: &str) {
    #[cfg(feature = "test-panics")]
    if std::env::var("ALICLOUD_CREDENTIALS_NATIVE_TEST_PANIC").is_ok_and(|v| v == entry) {
        panic!("injected panic at {entry}");
    }
    #[cfg(not(feature = "test-panics"))]
    let _ = entry;
}

/// True when `DEBUG` enables `alicloud-credentials:<topic>`.
#[napi]
pub fn debug_enabled(topic: String) -> bool {
    outcome::guard(|| {
        injected_panic("debugEnabled");
        Ok(crate::log::enabled(&topic))
    })
    .unwrap_or(false)
}

/// Prints a debug line for `topic` (when enabled), in the format of the core's own lines.
#[napi]
pub fn debug_log(topic: String, message: String) {
    let _ = outcome::guard(|| {
        injected_panic("debugLog");
        crate::log::debug(&topic, || message);
        Ok(())
    });
}

/// Records, once per process, the runtime for the User-Agent of every request (whichever entry
/// point is used first) and whether its command line asks Node to trust the OS certificate store.
fn record_runtime(env: &napi::Env) {
    static RECORDED: std::sync::Once = std::sync::Once::new();
    RECORDED.call_once(|| {
        if let Ok(v) = env.get_node_version() {
            crate::http::set_runtime(format!("Node.js/v{}.{}.{}", v.major, v.minor, v.patch));
        }
        use napi::bindgen_prelude::JsObjectValue;
        let exec_argv: Vec<String> = env
            .get_global()
            .and_then(|g| g.get_named_property::<napi::bindgen_prelude::Object>("process"))
            .and_then(|p| p.get_named_property::<Vec<String>>("execArgv"))
            .unwrap_or_default();
        crate::http::set_node_flags(&exec_argv);
    });
}
