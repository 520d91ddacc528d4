//! Helpers shared by the Rust tests: an empty environment, and temporary directories that remove
//! themselves.

use std::path::{Path, PathBuf};

use crate::env::Env;

/// An environment with no variable set: no test reads the machine's own configuration.
pub fn no_env() -> Env {
    Env::from_pairs::<&str, &str>([])
}

/// A fresh directory under the system's temporary folder, removed with everything in it when
/// dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new directory whose name starts with `acn-<tag>-`.
    pub fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "acn-{tag}-{}-{}",
            std::process::id(),
            crate::encoding::nonce()
        ));
        std::fs::create_dir_all(&dir).expect("create a temporary directory");
        TempDir(dir)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
