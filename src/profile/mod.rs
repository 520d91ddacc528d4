//! Profile files: the Alibaba Cloud CLI's `config.json` and the INI credentials file.

pub mod cli;
pub mod command;
pub mod ini;
pub mod ini_provider;
pub mod store;

use std::path::PathBuf;

use crate::env::Env;

/// The home directory: `HOME`, or `USERPROFILE` on Windows.
pub fn home_dir(env: &Env) -> Option<PathBuf> {
    env.get("HOME")
        .or_else(|| env.get("USERPROFILE"))
        .map(PathBuf::from)
}
