//! Writing new tokens back into the CLI's `config.json`, safely:
//!
//! - symlinks are followed: when config.json is a link (dotfiles kept in a repository, a mounted
//!   secret), the file it points to is updated and the link stays a link;
//! - atomic: a temporary file in the target's directory, flushed to disk, then renamed over the
//!   target, so a reader (or a crash) sees the old file or the new one, never a torn one;
//! - the target's permission bits are kept (config.json holds secrets and is usually 0600);
//! - an advisory lock on `<target>.lock` serialises read-modify-write cycles, so two processes
//!   updating different profiles never lose each other's update; [`lock`] holds it
//!   across a longer cycle (OAuth: re-read, refresh, write);
//! - never over newer values: under the lock, the file is re-read and a group of fields (the STS
//!   credentials, the OAuth tokens) is written only if the file's generation of it (its
//!   `sts_expiration`, its `oauth_access_token_expire`) is not later than ours: after the user
//!   logged in again, or another tool refreshed (and so spent our refresh token), the file keeps
//!   its tokens, and the caller gets them back to adopt ([`GENERATIONS`]);
//! - every other profile and every field we do not know is kept as it was, in its order;
//! - a failure is logged (`DEBUG=alicloud-credentials:profile`, the path and the cause, never a
//!   token) and never raised: the fresh credentials are still returned.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::credentials::Credentials;
use crate::description::ProfileLocation;
use crate::error::{Error, ErrorKind, Result};
use crate::profile::cli::source_chain;

/// The fields written for credentials `c`: the `extra` ones, then `access_key_id`,
/// `access_key_secret`, `sts_token` and `sts_expiration`.
fn credential_fields(
    c: &Credentials,
    sts_expiration: u64,
    extra: Vec<(&'static str, Value)>,
) -> Vec<(&'static str, Value)> {
    let mut fields = extra;
    fields.push(("access_key_id", c.access_key_id.clone().into()));
    fields.push((
        "access_key_secret",
        c.access_key_secret.expose().to_owned().into(),
    ));
    let token = c
        .security_token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .unwrap_or_default();
    fields.push(("sts_token", token.into()));
    fields.push(("sts_expiration", sts_expiration.into()));
    fields
}

/// Writes `c` (as `access_key_id`, `access_key_secret`, `sts_token`, `sts_expiration`) and the
/// `extra` fields to the profile of `mode`, except groups the file holds newer ones of
/// ([`GENERATIONS`]). Returns the profile as the file holds it afterwards, for the caller to adopt
/// what is newer there; `None` on a failure, which is logged, never raised: the credentials stay
/// valid in memory.
pub async fn save(
    location: &ProfileLocation,
    mode: &'static str,
    c: &Credentials,
    sts_expiration: u64,
    extra: Vec<(&'static str, Value)>,
) -> Option<Map<String, Value>> {
    let fields = credential_fields(c, sts_expiration, extra);
    let target = location.clone();
    tokio::task::spawn_blocking(move || {
        let result = target_of(&target.path).and_then(|real| {
            let lock = FileLock::acquire(&real)?;
            let result = update_locked(&real, &target.profile, mode, fields);
            drop(lock);
            result
        });
        log_outcome(&target.path, &target.profile, mode, &result);
        result.ok()
    })
    .await
    .ok()
    .flatten()
}

/// Takes the file lock and holds it until the returned guard is saved or dropped: a
/// read-refresh-write cycle under it is never interleaved with another process's cycle on the
/// same file. A failure to lock is logged and returned.
pub async fn lock(location: &ProfileLocation) -> Result<LockedProfile> {
    let target = location.clone();
    let locked = tokio::task::spawn_blocking(move || {
        let real = target_of(&target.path)?;
        let lock = FileLock::acquire(&real)?;
        Ok(LockedProfile {
            real,
            profile: target.profile,
            lock,
        })
    })
    .await
    .unwrap_or_else(|e| {
        Err(Error::new(
            ErrorKind::Profile,
            format!("cannot update '{}': {e}", location.path.display()),
        ))
    });
    if let Err(e) = &locked {
        log_failure(&location.path, "lock", e);
    }
    locked
}

/// A profile of config.json with the file lock held (released on drop).
pub struct LockedProfile {
    real: PathBuf,
    profile: String,
    lock: FileLock,
}

impl LockedProfile {
    /// The current fields of the profile of `mode` reachable from the profile, read from the file
    /// now (under the lock: what another process wrote before it released the lock is seen).
    pub fn read(&self, mode: &str) -> Result<Map<String, Value>> {
        let config = read_config(&self.real)?;
        let profiles = config
            .get("profiles")
            .and_then(Value::as_array)
            .ok_or_else(|| profile_error(&self.real, "no profiles".into()))?;
        let index = find(profiles, &self.profile, mode).ok_or_else(|| {
            profile_error(
                &self.real,
                format!("no {mode} profile reachable from '{}'", self.profile),
            )
        })?;
        Ok(profiles[index].as_object().cloned().unwrap_or_default())
    }

    /// Sets `fields` on the profile of `mode` and keeps the lock (`None` if the blocking task
    /// could not run, the lock then released). A failure to write is logged, never raised.
    pub async fn write(
        self,
        mode: &'static str,
        fields: Vec<(&'static str, Value)>,
    ) -> Option<Self> {
        let this = self;
        tokio::task::spawn_blocking(move || {
            let result = update_locked(&this.real, &this.profile, mode, fields);
            log_outcome(&this.real, &this.profile, mode, &result);
            this
        })
        .await
        .ok()
    }

    /// Writes like [`save`], still under the lock, then releases it; returns what [`save`]
    /// returns. A failure is logged, never raised.
    pub async fn save(
        self,
        mode: &'static str,
        c: &Credentials,
        sts_expiration: u64,
        extra: Vec<(&'static str, Value)>,
    ) -> Option<Map<String, Value>> {
        let fields = credential_fields(c, sts_expiration, extra);
        tokio::task::spawn_blocking(move || {
            let result = update_locked(&self.real, &self.profile, mode, fields);
            log_outcome(&self.real, &self.profile, mode, &result);
            drop(self.lock);
            result.ok()
        })
        .await
        .ok()
        .flatten()
    }
}

fn profile_error(path: &Path, what: String) -> Error {
    Error::new(
        ErrorKind::Profile,
        format!("cannot update '{}': {what}", path.display()),
    )
}

fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// The file `path` names, symlinks followed: the one to update in place of the link.
fn target_of(path: &Path) -> Result<PathBuf> {
    fs::canonicalize(path).map_err(|e| profile_error(path, e.to_string()))
}

/// Longest wait for the lock held by another writer; then the write-back is given up (and logged).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// An advisory lock on `<file>.lock`, released when dropped (closing the file releases it too).
struct FileLock(File);

impl FileLock {
    fn acquire(real: &Path) -> Result<Self> {
        Self::acquire_within(real, LOCK_WAIT)
    }

    fn acquire_within(real: &Path, wait: std::time::Duration) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(lock_path(real))
            .map_err(|e| profile_error(real, format!("cannot open the lock file: {e}")))?;
        // Polled with a deadline rather than a blocking lock: a hung process holding the lock
        // must not hang every refresh of ours with it.
        let deadline = std::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(FileLock(file)),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(profile_error(
                        real,
                        format!(
                            "cannot lock: still held by another writer after {} ms",
                            wait.as_millis()
                        ),
                    ))
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(profile_error(real, format!("cannot lock: {e}")))
                }
            }
        }
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

// Error messages here hold paths and I/O or JSON-syntax causes only, never a field's value.
fn log_failure(path: &Path, step: &str, e: &Error) {
    crate::log::debug("profile", || {
        format!(
            "write-back to {} failed ({step}): {}",
            path.display(),
            e.message()
        )
    });
}

fn log_outcome<T>(path: &Path, profile: &str, mode: &str, result: &Result<T>) {
    match result {
        Ok(_) => crate::log::debug("profile", || {
            format!(
                "wrote {mode} tokens of profile '{profile}' back to {}",
                path.display()
            )
        }),
        Err(e) => log_failure(path, "write", e),
    }
}

/// Sets `fields` on the profile named `profile`, following `source_profile` links until a profile
/// of `mode`; the whole cycle runs under the advisory lock, on the file `path` links to. The
/// outcome is logged.
pub fn update_profile(
    path: &Path,
    profile: &str,
    mode: &str,
    fields: Vec<(&str, Value)>,
) -> Result<()> {
    let result = target_of(path).and_then(|real| {
        let lock = FileLock::acquire(&real)?;
        let result = update_locked(&real, profile, mode, fields);
        drop(lock);
        result
    });
    log_outcome(path, profile, mode, &result);
    result.map(|_| ())
}

fn read_config(path: &Path) -> Result<Value> {
    let text = crate::fsio::read_text(path, crate::fsio::PROFILE_FILE_LIMIT)
        .map_err(|e| profile_error(path, e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| {
        profile_error(
            path,
            format!("not JSON: {}", crate::error::describe_json(&e)),
        )
    })
}

/// Fields written together, each group with the field that says how new it is. A group is not
/// written over a profile whose value of that field is later than ours: another process, another
/// tool or the user (`aliyun configure`) wrote newer ones since we read the file, and replacing
/// them would bring back a spent refresh token or undo a new login.
pub const GENERATIONS: &[(&str, &[&str])] = &[
    (
        "sts_expiration",
        &[
            "access_key_id",
            "access_key_secret",
            "sts_token",
            "sts_expiration",
        ],
    ),
    (
        "oauth_access_token_expire",
        &[
            "oauth_access_token",
            "oauth_refresh_token",
            "oauth_access_token_expire",
        ],
    ),
];

/// `fields` without the groups `current` holds newer values of.
fn without_superseded<'a>(
    current: &Map<String, Value>,
    fields: Vec<(&'a str, Value)>,
) -> Vec<(&'a str, Value)> {
    let generation = |v: &Value| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    };
    let mut superseded: Vec<&str> = Vec::new();
    for (key, group) in GENERATIONS {
        let ours = fields
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| generation(v));
        let theirs = current.get(*key).and_then(generation);
        if let (Some(ours), Some(theirs)) = (ours, theirs) {
            if theirs > ours {
                superseded.extend_from_slice(group);
            }
        }
    }
    fields
        .into_iter()
        .filter(|(k, _)| !superseded.contains(k))
        .collect()
}

/// Re-reads the file (the caller holds the lock), sets `fields` on the profile of `mode` except
/// the groups it holds newer values of, writes it back if anything changed, and returns the
/// profile as the file now holds it.
fn update_locked(
    path: &Path,
    profile: &str,
    mode: &str,
    fields: Vec<(&str, Value)>,
) -> Result<Map<String, Value>> {
    let mut config = read_config(path)?;
    let profiles = config
        .get_mut("profiles")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| profile_error(path, "no profiles".into()))?;
    let index = find(profiles, profile, mode).ok_or_else(|| {
        profile_error(
            path,
            format!("no {mode} profile reachable from '{profile}'"),
        )
    })?;
    let target: &mut Map<String, Value> = profiles[index]
        .as_object_mut()
        .ok_or_else(|| profile_error(path, "a profile is not an object".into()))?;
    let offered = fields.len();
    let fields = without_superseded(target, fields);
    if fields.len() < offered {
        crate::log::debug("profile", || {
            format!(
                "{} holds newer {mode} values for '{profile}' than this process: kept them",
                path.display()
            )
        });
    }
    let mut changed = false;
    for (key, value) in fields {
        if target.get(key) != Some(&value) {
            target.insert(key.to_owned(), value);
            changed = true;
        }
    }
    let updated = target.clone();
    if !changed {
        return Ok(updated);
    }
    // Four-space indentation, as the official package writes the file.
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&config, &mut serializer)
        .map_err(|e| profile_error(path, e.to_string()))?;
    out.push(b'\n');
    write_atomic(path, &out).map_err(|e| profile_error(path, e.to_string()))?;
    Ok(updated)
}

/// The index of the first profile of `mode` on the chain from `name`, as the reader walks it.
fn find(profiles: &[Value], name: &str, mode: &str) -> Option<usize> {
    let (_, found) = source_chain(profiles, name)
        .map_while(std::result::Result::ok)
        .find(|(_, p)| p.get("mode").and_then(Value::as_str) == Some(mode))?;
    profiles.iter().position(|p| std::ptr::eq(p, found))
}

/// Replaces the file `path` names (symlinks followed: a link stays a link) with `bytes`
/// atomically, keeping its permission bits.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let real = fs::canonicalize(path).ok();
    let path = real.as_deref().unwrap_or(path);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{name}.tmp-{}-{}",
        std::process::id(),
        crate::encoding::nonce()
    ));
    #[cfg(unix)]
    let permissions = fs::metadata(path).map(|m| m.permissions()).ok();
    let written = (|| {
        let mut file = File::create(&tmp)?;
        #[cfg(unix)]
        if let Some(p) = &permissions {
            fs::set_permissions(&tmp, p.clone())?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        #[cfg(not(windows))]
        fs::rename(&tmp, path)?;
        #[cfg(windows)]
        windows::replace(&tmp, path)?;
        #[cfg(unix)]
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Windows: permission bits do not exist (a new file takes the ACL of its directory, the user's
/// profile, which is what 0600 means on Unix), so none are copied; the file lock above is
/// `LockFileEx` through std. What differs is the replace.
#[cfg(windows)]
mod windows {
    use std::io;
    use std::path::Path;
    use std::time::Duration;

    /// `ERROR_SHARING_VIOLATION`: another process has the file open without `FILE_SHARE_DELETE`.
    const SHARING_VIOLATION: i32 = 32;

    /// Renames `from` over `to`. std's rename replaces atomically (POSIX semantics where the
    /// file system has them, `MoveFileExW(MOVEFILE_REPLACE_EXISTING)` otherwise), but fails while
    /// another process (a reader, an antivirus or indexing service) holds `to` open without
    /// sharing delete; those holds are short, so it retries for about a second before giving up.
    pub(super) fn replace(from: &Path, to: &Path) -> io::Result<()> {
        let mut delay = Duration::from_millis(10);
        let mut attempt = 0;
        loop {
            match std::fs::rename(from, to) {
                Err(e) if attempt < 7 && is_transient(&e) => {
                    std::thread::sleep(delay);
                    delay *= 2;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn is_transient(e: &io::Error) -> bool {
        e.kind() == io::ErrorKind::PermissionDenied || e.raw_os_error() == Some(SHARING_VIOLATION)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TempDir;
    use std::process::Command;

    const CONFIG: &str = r#"{
    "current": "ext",
    "profiles": [
        {"name": "ak", "mode": "AK", "access_key_id": "a", "access_key_secret": "b", "x_unknown": [1, 2]},
        {"name": "ext", "mode": "External", "process_command": "tool", "zeta": 1, "alpha": 2},
        {"name": "ext2", "mode": "External", "process_command": "tool2"},
        {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "ext"}
    ],
    "meta_path": "kept"
}"#;

    #[test]
    fn updates_one_profile_and_keeps_everything_else() {
        let dir = TempDir::new("store-keep");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        update_profile(
            &path,
            "chained",
            "External",
            vec![("access_key_id", Value::from("new-id"))],
        )
        .unwrap();
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["profiles"][1]["access_key_id"], "new-id");
        assert_eq!(v["profiles"][0]["x_unknown"], serde_json::json!([1, 2]));
        assert_eq!(v["meta_path"], "kept");
        let keys: Vec<&String> = v["profiles"][1].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "name",
                "mode",
                "process_command",
                "zeta",
                "alpha",
                "access_key_id"
            ]
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_config_updates_its_target_and_stays_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new("store-link");
        fs::create_dir(dir.path().join("dotfiles")).unwrap();
        let real = dir.path().join("dotfiles").join("config.json");
        fs::write(&real, CONFIG).unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("config.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        update_profile(
            &link,
            "ext",
            "External",
            vec![("access_key_id", Value::from("via-link"))],
        )
        .unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let v: Value = serde_json::from_str(&fs::read_to_string(&real).unwrap()).unwrap();
        assert_eq!(v["profiles"][1]["access_key_id"], "via-link");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // The lock sits next to the target, so writers through the link and direct ones share it.
        assert!(dir
            .path()
            .join("dotfiles")
            .join("config.json.lock")
            .exists());
    }

    #[test]
    fn newer_tokens_and_credentials_in_the_file_are_never_replaced() {
        let dir = TempDir::new("store-newer");
        let path = dir.path().join("config.json");
        fs::write(
            &path,
            r#"{"current":"o","profiles":[{"name":"o","mode":"OAuth","oauth_access_token":"file-access","oauth_refresh_token":"file-refresh","oauth_access_token_expire":2000,"access_key_id":"file-ak","sts_expiration":500}]}"#,
        )
        .unwrap();
        let offer = |access: &str, expire: i64, ak: &str, sts: u64| {
            vec![
                ("access_key_id", Value::from(ak)),
                ("sts_expiration", Value::from(sts)),
                ("oauth_access_token", Value::from(access)),
                (
                    "oauth_refresh_token",
                    Value::from(format!("{access}-refresh")),
                ),
                ("oauth_access_token_expire", Value::from(expire)),
            ]
        };
        let saved = || -> Value {
            serde_json::from_str::<Value>(&fs::read_to_string(&path).unwrap()).unwrap()["profiles"]
                [0]
            .clone()
        };
        // Older tokens (a long-running process after a new login): the file keeps its tokens;
        // its older STS credentials are replaced.
        let kept = update_locked(&path, "o", "OAuth", offer("old", 1000, "mine", 600)).unwrap();
        let p = saved();
        assert_eq!(p["oauth_access_token"], "file-access");
        assert_eq!(p["oauth_refresh_token"], "file-refresh");
        assert_eq!(p["oauth_access_token_expire"], 2000);
        assert_eq!(p["access_key_id"], "mine");
        assert_eq!(p["sts_expiration"], 600);
        assert_eq!(
            kept["oauth_access_token"], "file-access",
            "returned to adopt"
        );
        // Older STS credentials alone: not written either.
        update_locked(&path, "o", "OAuth", offer("x", 1, "older", 100)).unwrap();
        assert_eq!(saved()["access_key_id"], "mine");
        // Newer (or as new) tokens: written.
        update_locked(&path, "o", "OAuth", offer("new", 3000, "newest", 700)).unwrap();
        let p = saved();
        assert_eq!(p["oauth_access_token"], "new");
        assert_eq!(p["oauth_refresh_token"], "new-refresh");
        assert_eq!(p["access_key_id"], "newest");
        // A generation the file writes as a string is still compared.
        fs::write(
            &path,
            r#"{"profiles":[{"name":"o","mode":"OAuth","oauth_access_token_expire":"9000"}]}"#,
        )
        .unwrap();
        update_locked(&path, "o", "OAuth", offer("z", 5000, "z", 1)).unwrap();
        assert_eq!(saved()["oauth_access_token_expire"], "9000");
    }

    #[test]
    fn a_lock_that_cannot_be_taken_is_an_error() {
        let dir = TempDir::new("store-nolock");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        fs::create_dir(dir.path().join("config.json.lock")).unwrap();
        let e = update_profile(&path, "ext", "External", vec![]).unwrap_err();
        assert!(
            e.message().contains("cannot open the lock file"),
            "{}",
            e.message()
        );
    }

    #[tokio::test]
    async fn a_held_lock_makes_other_writers_wait() {
        let dir = TempDir::new("store-held");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        let wb = ProfileLocation {
            path: path.clone(),
            profile: "ext".into(),
        };
        let locked = lock(&wb).await.unwrap();
        assert_eq!(locked.read("External").unwrap()["process_command"], "tool");
        let other = path.clone();
        let writer = std::thread::spawn(move || {
            update_profile(&other, "ext", "External", vec![("round", Value::from(2))])
        });
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert!(!writer.is_finished(), "the other writer waits for the lock");
        let c = Credentials::access_key("id".into(), "s".to_owned().into(), "t");
        locked
            .save("External", &c, 0, vec![("round", Value::from(1))])
            .await;
        writer.join().unwrap().unwrap();
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            v["profiles"][1]["round"], 2,
            "the waiting writer wrote last"
        );
        assert_eq!(
            v["profiles"][1]["access_key_id"], "id",
            "and kept the first write"
        );
    }

    #[test]
    fn a_lock_held_too_long_is_given_up() {
        let dir = TempDir::new("store-stuck");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        let _held = FileLock::acquire(&path).unwrap();
        let e = FileLock::acquire_within(&path, std::time::Duration::from_millis(100))
            .err()
            .unwrap();
        assert!(
            e.message()
                .ends_with("cannot lock: still held by another writer after 100 ms"),
            "{}",
            e.message()
        );
    }

    /// The profile found is the one the reader of the chain ends at, within the reader's limit;
    /// a loop ends the walk.
    #[test]
    fn the_chain_is_walked_as_the_reader_walks_it() {
        use crate::description::MAX_ROLE_CHAIN;
        let dir = TempDir::new("store-chain");
        let path = dir.path().join("config.json");
        let config = |links: usize| {
            let mut profiles: Vec<String> = (0..links)
                .map(|i| {
                    format!(
                        r#"{{"name":"p{i}","mode":"ChainableRamRoleArn","source_profile":"p{}"}}"#,
                        i + 1
                    )
                })
                .collect();
            profiles.push(format!(
                r#"{{"name":"p{links}","mode":"External","process_command":"t"}}"#
            ));
            format!(r#"{{"profiles":[{}]}}"#, profiles.join(","))
        };
        fs::write(&path, config(MAX_ROLE_CHAIN)).unwrap();
        update_profile(&path, "p0", "External", vec![("round", Value::from(1))]).unwrap();
        let saved: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved["profiles"][MAX_ROLE_CHAIN]["round"], 1);
        fs::write(&path, config(MAX_ROLE_CHAIN + 1)).unwrap();
        let e = update_profile(&path, "p0", "External", vec![]).unwrap_err();
        assert!(e
            .message()
            .contains("no External profile reachable from 'p0'"));
        let cycle = r#"{"profiles":[{"name":"a","mode":"ChainableRamRoleArn","source_profile":"b"},{"name":"b","mode":"ChainableRamRoleArn","source_profile":"a"}]}"#;
        fs::write(&path, cycle).unwrap();
        let e = update_profile(&path, "a", "External", vec![]).unwrap_err();
        assert!(e
            .message()
            .contains("no External profile reachable from 'a'"));
    }

    #[test]
    fn unreachable_profile_is_an_error() {
        let dir = TempDir::new("store-missing");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        let e = update_profile(&path, "ak", "External", vec![]).unwrap_err();
        assert!(e
            .message()
            .contains("no External profile reachable from 'ak'"));
    }

    // Child-process helpers: the tests below re-run this test binary as writers.
    fn child(test: &str, envs: &[(&str, String)]) -> Command {
        let mut c = Command::new(std::env::current_exe().unwrap());
        c.args(["--exact", test, "--ignored", "--test-threads=1"]);
        c.stdout(std::process::Stdio::null());
        for (k, v) in envs {
            c.env(k, v);
        }
        c
    }

    /// Writer process: updates `ACN_PROFILE` `ACN_ROUNDS` times with its round number.
    #[test]
    #[ignore]
    fn writer_child() {
        let Ok(path) = std::env::var("ACN_CONFIG") else {
            return;
        };
        let profile = std::env::var("ACN_PROFILE").unwrap();
        let rounds: u64 = std::env::var("ACN_ROUNDS").unwrap().parse().unwrap();
        let padding = "p".repeat(200_000);
        for round in 1..=rounds {
            update_profile(
                Path::new(&path),
                &profile,
                "External",
                vec![
                    ("round", Value::from(round)),
                    ("padding", Value::from(padding.clone())),
                ],
            )
            .unwrap();
        }
    }

    #[test]
    fn concurrent_writers_never_lose_an_update() {
        let dir = TempDir::new("store-concurrent");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        let spawn = |profile: &str| {
            child(
                "writeback::tests::writer_child",
                &[
                    ("ACN_CONFIG", path.display().to_string()),
                    ("ACN_PROFILE", profile.into()),
                    ("ACN_ROUNDS", "40".into()),
                ],
            )
            .spawn()
            .unwrap()
        };
        let (mut a, mut b) = (spawn("ext"), spawn("ext2"));
        assert!(a.wait().unwrap().success());
        assert!(b.wait().unwrap().success());
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            v["profiles"][1]["round"], 40,
            "the last update of writer A is there"
        );
        assert_eq!(
            v["profiles"][2]["round"], 40,
            "the last update of writer B is there"
        );
    }

    #[test]
    fn a_killed_writer_leaves_the_old_or_the_new_file_whole() {
        let dir = TempDir::new("store-killed");
        let path = dir.path().join("config.json");
        fs::write(&path, CONFIG).unwrap();
        for delay_ms in [5u64, 20, 45, 80, 130] {
            let mut writer = child(
                "writeback::tests::writer_child",
                &[
                    ("ACN_CONFIG", path.display().to_string()),
                    ("ACN_PROFILE", "ext".into()),
                    ("ACN_ROUNDS", "100000".into()),
                ],
            )
            .spawn()
            .unwrap();
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            writer.kill().unwrap();
            writer.wait().unwrap();
            let text = fs::read_to_string(&path).unwrap();
            let v: Value = serde_json::from_str(&text).expect("config.json is whole after a kill");
            assert_eq!(v["profiles"].as_array().unwrap().len(), 4);
            assert_eq!(v["meta_path"], "kept");
        }
    }
}
