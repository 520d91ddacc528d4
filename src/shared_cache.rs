//! The session cache shared by one user's processes on one machine (opt-in:
//! `ALICLOUD_CREDENTIALS_CACHE_DIR=<dir>` or the `sessionCacheDir` option, which wins; an empty
//! value turns it off). Unset, nothing here runs and nothing is written.
//!
//! A decorator over a session source's fetch ([`Refresher`]), under the in-process session engine
//! (`crate::session`), which keeps its own window, margin, backoff and background refresh: the
//! engine asks this layer only when it would have asked the source.
//!
//! - Read: the identity's entry, when it is valid and outside its refresh window (the engine's
//!   [`Policy`] from the time it was fetched), is returned without a request: a process started
//!   later costs a file read.
//! - Otherwise the identity's lock (`flock` on `<key>.lock`, which the kernel releases when its
//!   holder dies), a second read (another process may have refreshed meanwhile), and only then the
//!   source; its answer is written to a temporary file (0600) renamed over the entry. N processes
//!   that need one identity at once make one request.
//! - Trust: the directory is created 0700 when missing. A directory or an entry (or lock) that is
//!   a symlink, that another user owns, or that group or others can access is not used: the
//!   source is asked as without the cache, and a DEBUG line (`alicloud-credentials:shared-cache`)
//!   and `describe()` (the endpoint) say why. A corrupt, truncated, foreign or expired entry is
//!   ignored and replaced. An entry is never served past its expiry minus the margin. A full disk
//!   or a read-only directory leaves the process working as without the cache.
//! - An entry holds the session credential only (id, secret, token, expiry, when fetched), never
//!   the source's secret. Its name is the SHA-256 of the whole description of the identity (see
//!   [`identity_key`]), so the same role with another source secret is another entry, and no
//!   secret is in a name. A plain hash, not a keyed one: the names are only visible to the user
//!   (the directory is 0700) and root, who can read the entries and the source's secret anyway;
//!   source secrets (AccessKey secrets, tokens) are long random strings no one guesses from a hash
//!   offline; and a key would have to be one more file, shared, created race-free and trusted.
//! - Only identities whose description holds their whole source are cached: a role over a source
//!   read at each call (environment variables, a profile file, the default chain, a caller's own
//!   provider) is not, since its secret is not part of the description.
//! - Windows: not supported (it compiles there, but locking, modes and owners are not tested
//!   there); the option is refused with an error naming the platform, the variable is ignored
//!   with a DEBUG line and a `describe()` note.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::credentials::BoxFuture;
use crate::credentials::Credentials;
use crate::description::ProviderSpec;
use crate::env::{vars, Env};
use crate::error::{Error, Result};
use crate::secret::Secret;
use crate::session::clock::{process_clock, Clock};
use crate::session::{Policy, Refresher};

/// The DEBUG topic of this module's lines.
const TOPIC: &str = "shared-cache";
/// The format of an entry, and of the names: a new one is another set of files.
const FORMAT: u32 = 1;
/// How long a process waits for another's refresh when the source has no time bound of its own.
const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// The cache directory this build runs under, from the `sessionCacheDir` option (already set
/// over `env`, see [`with_option`]) or `ALICLOUD_CREDENTIALS_CACHE_DIR`. A relative path is taken
/// from the current directory now.
pub fn dir_of(env: &Env) -> Option<PathBuf> {
    let dir = PathBuf::from(env.get(vars::SESSION_CACHE_DIR)?);
    Some(std::path::absolute(&dir).unwrap_or(dir))
}

/// `env` with the `sessionCacheDir` option set over the variable (an empty string turns the cache
/// off). Refused on platforms where the cache is not supported.
pub fn with_option(env: &Env, option: Option<&str>) -> Result<Env> {
    let Some(dir) = option else {
        return Ok(env.clone());
    };
    if !dir.is_empty() && !cfg!(unix) {
        return Err(Error::config(format!(
            "the sessionCacheDir option (the session cache shared across processes) is not supported on {}",
            std::env::consts::OS
        )));
    }
    Ok(env.with(vars::SESSION_CACHE_DIR, dir))
}

/// Whether and where a session layer uses the shared cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The cache is off: exactly the behaviour without it.
    Off,
    /// The entry `<key>.json` (and lock `<key>.lock`) in `dir`.
    Use { dir: PathBuf, key: String },
    /// Asked for, but not used for this identity, and why.
    NotUsed { dir: PathBuf, reason: String },
}

/// The plan of the session layer `spec` describes (a role chain up to this role, an OIDC role, ECS
/// metadata, a credentials URI) under `env`.
pub fn plan(spec: &ProviderSpec, env: &Env) -> Plan {
    let Some(dir) = dir_of(env) else {
        return Plan::Off;
    };
    if !cfg!(unix) {
        return Plan::NotUsed {
            dir,
            reason: format!("not supported on {}", std::env::consts::OS),
        };
    }
    if !whole(spec) {
        return Plan::NotUsed {
            dir,
            reason: "the role's source is read at each call (environment, profile file, default chain or a caller's provider), so its secret is not part of the identity".into(),
        };
    }
    Plan::Use {
        dir,
        key: identity_key(spec),
    }
}

/// True when `spec` describes its whole source, secrets included (see the module's notes).
fn whole(spec: &ProviderSpec) -> bool {
    match spec {
        ProviderSpec::StaticAk(_)
        | ProviderSpec::StaticSts(..)
        | ProviderSpec::Oidc(_)
        | ProviderSpec::Ecs(_)
        | ProviderSpec::Uri(_) => true,
        // The base of a chain is never itself a chain.
        ProviderSpec::AssumeRole(chain) => {
            !matches!(*chain.base, ProviderSpec::AssumeRole(_)) && whole(&chain.base)
        }
        _ => false,
    }
}

/// A `Hasher` feeding SHA-256: the registry's key material (the description's `Hash`, which covers
/// every field, secrets included) into a hash that is the same in every process of this build.
struct Sha256Writer(sha2::Sha256);

impl std::hash::Hasher for Sha256Writer {
    fn write(&mut self, bytes: &[u8]) {
        sha2::Digest::update(&mut self.0, bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

/// The entry name of the identity `spec` describes: hex SHA-256 of the format, the package version
/// and the whole description. Another version or build may name the same identity otherwise (one
/// more request), never two identities alike.
pub fn identity_key(spec: &ProviderSpec) -> String {
    use sha2::Digest;
    use std::hash::Hash;
    let mut w = Sha256Writer(sha2::Sha256::new());
    w.0.update(format!(
        "alicloud-credentials-native shared session cache {FORMAT} {}\0",
        env!("CARGO_PKG_VERSION")
    ));
    spec.hash(&mut w);
    w.0.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The caching provider over `refresher`, with the shared cache between them when `plan` uses
/// one (`refresher` then behind the decorator; otherwise in the provider's own allocation).
pub fn provider<R: Refresher + 'static>(
    refresher: R,
    plan: Plan,
    policy: Policy,
) -> Arc<dyn crate::credentials::CredentialsProvider> {
    match plan {
        Plan::Off => crate::session::provider(refresher, policy),
        plan => crate::session::provider(over(Arc::new(refresher), plan, policy), policy),
    }
}

/// `refresher` with the shared cache over it when `plan` uses one.
pub fn over(refresher: Arc<dyn Refresher>, plan: Plan, policy: Policy) -> Arc<dyn Refresher> {
    over_with_clock(refresher, plan, policy, process_clock())
}

/// [`over`] reading the time from `clock`.
pub fn over_with_clock(
    refresher: Arc<dyn Refresher>,
    plan: Plan,
    policy: Policy,
    clock: Arc<dyn Clock>,
) -> Arc<dyn Refresher> {
    match plan {
        Plan::Off => refresher,
        Plan::NotUsed { dir, reason } => {
            crate::log::debug(TOPIC, || {
                format!(
                    "{}: not using {}: {reason}",
                    refresher.provider_name(),
                    dir.display()
                )
            });
            Arc::new(SharedRefresher {
                inner: refresher,
                dir,
                key: None,
                policy,
                clock,
                served: AtomicBool::new(false),
                not_used: Mutex::new(Some(reason)),
            })
        }
        Plan::Use { dir, key } => Arc::new(SharedRefresher {
            inner: refresher,
            dir,
            key: Some(key),
            policy,
            clock,
            served: AtomicBool::new(false),
            not_used: Mutex::new(None),
        }),
    }
}

/// The decorator.
struct SharedRefresher {
    inner: Arc<dyn Refresher>,
    dir: PathBuf,
    /// `None`: not used for this identity (`not_used` says why).
    key: Option<String>,
    policy: Policy,
    clock: Arc<dyn Clock>,
    /// This process has been handed a credential through here.
    served: AtomicBool,
    /// Why the cache was not used at the last fetch, for `describe()`.
    not_used: Mutex<Option<String>>,
}

/// What an entry read found.
enum Read {
    /// Valid and outside its refresh window: use it.
    Fresh(Credentials),
    /// Servable (before its expiry minus the margin) but in its refresh window.
    Stale(Credentials),
    /// None, or one to ignore and replace (corrupt, truncated, foreign, expired).
    Nothing,
}

impl SharedRefresher {
    fn set_not_used(&self, reason: Option<String>) {
        if let Some(r) = &reason {
            crate::log::debug(TOPIC, || {
                format!(
                    "{}: not using {}: {r}",
                    self.inner.provider_name(),
                    self.dir.display()
                )
            });
        }
        *self.not_used.lock().unwrap_or_else(|e| e.into_inner()) = reason;
    }

    /// The source, as without the cache, for `reason`.
    async fn bypass(&self, reason: String) -> Result<Credentials> {
        self.set_not_used(Some(reason));
        self.inner.fetch().await
    }

    /// `c`, read from `entry`.
    fn hit(&self, c: Credentials, entry: &Path, how: &str) -> Credentials {
        crate::log::debug(TOPIC, || {
            format!(
                "{}: from {}{how}",
                self.inner.provider_name(),
                entry.display()
            )
        });
        self.set_not_used(None);
        c
    }

    async fn fetch_shared(&self, key: &str) -> Result<Credentials> {
        let dir = match imp::open_dir(&self.dir) {
            Ok(dir) => dir,
            Err(reason) => return self.bypass(reason).await,
        };
        let entry_name = format!("{key}.json");
        let entry = self.dir.join(&entry_name);
        let name = self.inner.provider_name();
        let stale = match self.read(&dir, &entry_name, key) {
            Ok(Read::Fresh(c)) => return Ok(self.hit(c, &entry, "")),
            Ok(Read::Stale(c)) => Some(c),
            Ok(Read::Nothing) => None,
            Err(reason) => return self.bypass(reason).await,
        };
        let wait = self
            .inner
            .budget()
            .map_or(DEFAULT_LOCK_WAIT, |b| b + Duration::from_secs(2));
        let lock = match dir.lock(&format!("{key}.lock"), wait).await {
            Ok(lock) => lock,
            Err(reason) => return self.bypass(reason).await,
        };
        if lock.is_none() {
            crate::log::debug(TOPIC, || {
                format!(
                    "{name}: no lock within {} ms, asking the source",
                    wait.as_millis()
                )
            });
        }
        // Another process may have refreshed while this one waited.
        let stale = match self.read(&dir, &entry_name, key) {
            Ok(Read::Fresh(c)) => {
                return Ok(self.hit(c, &entry, " (refreshed by another process)"))
            }
            Ok(Read::Stale(c)) => Some(c),
            Ok(Read::Nothing) => stale,
            Err(reason) => return self.bypass(reason).await,
        };
        // A refresh that failed moments ago in any process: its error, without a request, until
        // its backoff ends (the engine's, from the failures in a row the note counts).
        let failure_name = format!("{key}.fail");
        let note = self.read_failure(&dir, &failure_name, key);
        let now = self.clock.now();
        let shared_failure = note
            .as_ref()
            .filter(|n| n.pid != std::process::id())
            .filter(|n| now < UNIX_EPOCH + Duration::from_millis(n.until_ms))
            .map(Failure::error);
        let fetched = match shared_failure {
            Some(e) => {
                crate::log::debug(TOPIC, || {
                    format!(
                        "{name}: a refresh failed moments ago ({}); not asking again yet",
                        e.message()
                    )
                });
                Err(e)
            }
            None => {
                let fetched = self.inner.fetch().await;
                self.note_outcome(&dir, &failure_name, key, note, fetched.as_ref().err());
                fetched
            }
        };
        let mut fetched = fetched;
        // The entry's time, to the millisecond it keeps.
        let written_at = UNIX_EPOCH + Duration::from_millis(millis(self.clock.now()));
        match &mut fetched {
            Ok(c) => match dir.write(&entry_name, key, c, written_at) {
                Ok(()) => {
                    // Scheduled from the time the entry says, as every other process does.
                    c.fetched_at = Some(written_at);
                    crate::log::debug(TOPIC, || format!("{name}: wrote {}", entry.display()));
                    self.set_not_used(None);
                }
                Err(reason) => self.set_not_used(Some(reason)),
            },
            Err(e) => {
                // A process that has nothing yet takes a servable entry over the error; one that
                // has a credential keeps it under the engine's backoff.
                if let Some(c) = stale.filter(|_| !self.served.load(Ordering::Relaxed)) {
                    crate::log::debug(TOPIC, || {
                        format!(
                            "{name}: the refresh failed ({}); serving {} until its margin",
                            e.message(),
                            entry.display()
                        )
                    });
                    drop(lock);
                    return Ok(c);
                }
            }
        }
        drop(lock);
        fetched
    }

    /// The failure note `name`, when there is a usable one.
    fn read_failure(&self, dir: &imp::Dir, name: &str, key: &str) -> Option<Failure> {
        let text = dir.read_entry(name).ok().flatten()?;
        serde_json::from_str::<Failure>(&text)
            .ok()
            .filter(|f| f.version == FORMAT && f.identity == key)
    }

    /// Records a failed refresh (one more in a row) or clears the note after a success.
    fn note_outcome(
        &self,
        dir: &imp::Dir,
        name: &str,
        key: &str,
        note: Option<Failure>,
        error: Option<&Error>,
    ) {
        let Some(e) = error else {
            if note.is_some() {
                dir.remove(name);
            }
            return;
        };
        let now = self.clock.now();
        // In a row: a note whose backoff ended long ago (the source was left alone since) starts
        // the count again.
        let recent = |n: &Failure| {
            UNIX_EPOCH + Duration::from_millis(n.until_ms) + crate::session::COLD_BACKOFF_CAP > now
        };
        let failures = note
            .filter(recent)
            .map_or(0, |n| n.failures)
            .saturating_add(1);
        let until = now + crate::session::backoff(failures, crate::session::COLD_BACKOFF_CAP);
        let failure = Failure {
            version: FORMAT,
            identity: key.to_owned(),
            failures,
            pid: std::process::id(),
            until_ms: millis(until),
            code: e.kind().code().to_owned(),
            message: e.message().to_owned(),
            http_status: e.http_status(),
            server_code: e.server_code().map(str::to_owned),
        };
        if let Ok(text) = serde_json::to_string(&failure) {
            let _ = dir.write_text(name, key, &text);
        }
    }

    /// Reads the entry `name`; `Err` when it is one not to touch (a symlink, another user's,
    /// readable by others), with why.
    fn read(&self, dir: &imp::Dir, name: &str, key: &str) -> std::result::Result<Read, String> {
        let Some(text) = dir.read_entry(name)? else {
            return Ok(Read::Nothing);
        };
        let Some(entry) = serde_json::from_str::<Entry>(&text)
            .ok()
            .filter(|e| e.version == FORMAT && e.identity == key)
        else {
            crate::log::debug(TOPIC, || format!("ignoring {name}: corrupt or foreign"));
            return Ok(Read::Nothing);
        };
        let now = self.clock.now();
        let expiration = UNIX_EPOCH + Duration::from_millis(entry.expiration_ms);
        let fetched_at = UNIX_EPOCH + Duration::from_millis(entry.fetched_at_ms);
        // Fetched "in the future" (a clock stepped back, a forged entry): not trusted.
        if fetched_at > now + Duration::from_secs(5) {
            return Ok(Read::Nothing);
        }
        let Some(schedule) = self.policy.schedule(fetched_at.min(now), expiration) else {
            return Ok(Read::Nothing);
        };
        if now >= schedule.serve_until {
            return Ok(Read::Nothing);
        }
        let mut c = Credentials::access_key(
            entry.access_key_id,
            Secret::new(entry.access_key_secret),
            self.inner.provider_name(),
        );
        c.security_token = Some(Secret::new(entry.security_token));
        c.expiration = Some(expiration);
        // The engine schedules it from there, as the process that fetched it did.
        c.fetched_at = Some(fetched_at.min(now));
        if now < schedule.refresh_at {
            return Ok(Read::Fresh(c));
        }
        // In its window: refreshed under the lock, or handed to a process whose refresh failed,
        // whose engine serves it until the entry's own margin (it schedules from `fetched_at`).
        Ok(Read::Stale(c))
    }
}

impl Refresher for SharedRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let outcome = match &self.key {
                Some(key) => self.fetch_shared(key).await,
                None => self.inner.fetch().await,
            };
            if outcome.is_ok() {
                self.served.store(true, Ordering::Relaxed);
            }
            outcome
        })
    }

    fn provider_name(&self) -> String {
        self.inner.provider_name()
    }

    fn endpoint(&self) -> Option<String> {
        let note = match &*self.not_used.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(reason) => format!("shared cache {} not used: {reason}", self.dir.display()),
            None => format!("shared cache {}", self.dir.display()),
        };
        Some(match self.inner.endpoint() {
            Some(e) => format!("{e}; {note}"),
            None => note,
        })
    }

    fn budget(&self) -> Option<Duration> {
        self.inner.budget()
    }
}

/// An entry as written: the session credential only.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    version: u32,
    /// The entry's own name: an entry copied or renamed to another identity's name is ignored.
    identity: String,
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration_ms: u64,
    fetched_at_ms: u64,
}

/// The last refresh failure of an identity, shared by its processes: messages hold no secret
/// (`crate::error`), so the note holds none either.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Failure {
    version: u32,
    identity: String,
    /// Failures in a row.
    failures: u32,
    /// The process that wrote it: its own engine already backs off (and retries a blip), so the
    /// note is for the others.
    pid: u32,
    /// No new request before this.
    until_ms: u64,
    code: String,
    message: String,
    http_status: Option<u16>,
    server_code: Option<String>,
}

impl Failure {
    fn error(&self) -> Error {
        let kind = crate::error::ErrorKind::from_code(&self.code)
            .unwrap_or(crate::error::ErrorKind::Response);
        let e = Error::new(kind, self.message.clone());
        match self.http_status {
            Some(status) => e.with_answer(status, self.server_code.as_deref()),
            None => e,
        }
    }
}

fn millis(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis().min(u64::MAX as u128) as u64)
}

#[cfg(unix)]
mod imp {
    //! The directory is opened once per fetch (not following a symlink) and checked on its
    //! handle; every file in it is then opened, renamed and removed relative to that handle
    //! (`openat`, `renameat`, `unlinkat`), so the directory checked is the one used even if its
    //! path is swapped meanwhile.
    use std::ffi::CString;
    use std::fs::{self, File, OpenOptions};
    use std::io::{self, Read as _, Write as _};
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;
    use std::time::{Duration, Instant, SystemTime};

    use super::{millis, Entry, FORMAT};
    use crate::credentials::Credentials;

    /// Largest entry read: an entry is a few hundred bytes.
    const ENTRY_LIMIT: u64 = 64 * 1024;

    fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    /// Why `meta` (of `what`) must not be used, if it must not.
    fn distrust(meta: &fs::Metadata, what: &str) -> Option<String> {
        let me = euid();
        if meta.uid() != me {
            return Some(format!(
                "{what} is owned by uid {}, not this user (uid {me})",
                meta.uid()
            ));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Some(format!("group or others can access {what} (mode {mode:o})"));
        }
        None
    }

    /// The cache directory, open.
    pub struct Dir(File);

    fn c_name(name: &str) -> io::Result<CString> {
        CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    }

    /// Opens the directory, creating it 0700 when missing; `Err` with why when it is not to be
    /// used.
    pub fn open_dir(dir: &Path) -> Result<Dir, String> {
        let open = || {
            OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(dir)
        };
        let opened = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)
                    .map_err(|e| format!("cannot create the directory: {e}"))?;
                open()
            }
            other => other,
        };
        let file = opened.map_err(|e| {
            // O_DIRECTORY | O_NOFOLLOW fails alike (ENOTDIR, or ELOOP) on a symlink and a file.
            match fs::symlink_metadata(dir) {
                Ok(m) if m.file_type().is_symlink() => "the directory is a symlink".to_owned(),
                Ok(m) if !m.is_dir() => "it is not a directory".to_owned(),
                _ => format!("cannot open the directory: {e}"),
            }
        })?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read the directory: {e}"))?;
        match distrust(&meta, "the directory") {
            Some(reason) => Err(reason),
            None => Ok(Dir(file)),
        }
    }

    impl Dir {
        /// `openat` relative to the directory, never following a symlink.
        fn open_at(&self, name: &str, flags: libc::c_int) -> io::Result<File> {
            let c = c_name(name)?;
            let flags = flags | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC;
            // SAFETY: a valid directory descriptor, a NUL-terminated name, and a mode argument
            // (read only with O_CREAT); the returned descriptor is owned by the File.
            let fd = unsafe {
                libc::openat(self.0.as_raw_fd(), c.as_ptr(), flags, 0o600 as libc::c_uint)
            };
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            // SAFETY: `fd` was just opened and nothing else owns it.
            Ok(unsafe { File::from_raw_fd(fd) })
        }

        /// Opens `name` with `flags` and checks it on its handle; `Ok(None)` when it does not exist.
        fn open_checked(
            &self,
            name: &str,
            flags: libc::c_int,
            what: &str,
        ) -> Result<Option<File>, String> {
            let file = match self.open_at(name, flags) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
                Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                    return Err(format!("{what} {name} is a symlink"))
                }
                Err(e) => return Err(format!("cannot open {what} {name}: {e}")),
            };
            let meta = file
                .metadata()
                .map_err(|e| format!("cannot read {what} {name}: {e}"))?;
            if !meta.is_file() {
                return Err(format!("{what} {name} is not a regular file"));
            }
            if let Some(reason) = distrust(&meta, &format!("{what} {name}")) {
                return Err(reason);
            }
            Ok(Some(file))
        }

        /// The entry's text; `Ok(None)` when there is none or it cannot be read as text (ignored
        /// and replaced); `Err` when it is one not to touch.
        pub fn read_entry(&self, name: &str) -> Result<Option<String>, String> {
            let Some(file) = self.open_checked(name, libc::O_RDONLY, "the entry")? else {
                return Ok(None);
            };
            let mut text = String::new();
            match file.take(ENTRY_LIMIT).read_to_string(&mut text) {
                Ok(_) => Ok(Some(text)),
                Err(_) => Ok(None),
            }
        }

        /// Writes `c` as the entry `name` of identity `key`.
        pub fn write(
            &self,
            name: &str,
            key: &str,
            c: &Credentials,
            now: SystemTime,
        ) -> Result<(), String> {
            let (Some(token), Some(expiration)) = (&c.security_token, c.expiration) else {
                return Err("the credential has no token or no expiration".into());
            };
            let entry = Entry {
                version: FORMAT,
                identity: key.to_owned(),
                access_key_id: c.access_key_id.clone(),
                access_key_secret: c.access_key_secret.expose().to_owned(),
                security_token: token.expose().to_owned(),
                expiration_ms: millis(expiration),
                fetched_at_ms: millis(now),
            };
            let text = serde_json::to_string(&entry).map_err(|e| e.to_string())?;
            self.write_text(name, key, &text)
        }

        /// Writes `text` as `name`: a temporary file (0600) renamed over it.
        pub fn write_text(&self, name: &str, key: &str, text: &str) -> Result<(), String> {
            let tmp = format!(
                ".{key}.{}.{}.tmp",
                std::process::id(),
                crate::encoding::nonce()
            );
            let written = (|| {
                let mut file = self.open_at(&tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL)?;
                file.write_all(text.as_bytes())?;
                drop(file);
                let (from, to) = (c_name(&tmp)?, c_name(name)?);
                let fd = self.0.as_raw_fd();
                // SAFETY: a valid directory descriptor and NUL-terminated names.
                if unsafe { libc::renameat(fd, from.as_ptr(), fd, to.as_ptr()) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            })();
            written.map_err(|e| {
                self.remove(&tmp);
                format!("cannot write the entry {name}: {e}")
            })
        }

        /// Removes `name`, if it is there.
        pub fn remove(&self, name: &str) {
            if let Ok(c) = c_name(name) {
                // SAFETY: a valid directory descriptor and a NUL-terminated name.
                unsafe { libc::unlinkat(self.0.as_raw_fd(), c.as_ptr(), 0) };
            }
        }

        /// The lock `name`, waiting up to `wait` for another process's refresh. `Ok(None)`: not
        /// had in time, or the lock file cannot be made (a read-only directory): go on without
        /// it. `Err`: a lock file not to touch.
        pub async fn lock(&self, name: &str, wait: Duration) -> Result<Option<File>, String> {
            let file = match self.open_checked(name, libc::O_RDWR | libc::O_CREAT, "the lock") {
                Ok(Some(f)) => f,
                Ok(None) => return Ok(None),
                Err(reason) if reason.starts_with("cannot open") => {
                    // A read-only directory: an existing lock can still be taken read-only.
                    match self.open_checked(name, libc::O_RDONLY, "the lock")? {
                        Some(f) => f,
                        None => return Ok(None),
                    }
                }
                Err(reason) => return Err(reason),
            };
            let deadline = Instant::now() + wait;
            let mut pause = Duration::from_millis(2);
            loop {
                match file.try_lock() {
                    Ok(()) => return Ok(Some(file)),
                    Err(std::fs::TryLockError::WouldBlock) => {}
                    Err(std::fs::TryLockError::Error(_)) => return Ok(None),
                }
                if Instant::now() + pause > deadline {
                    return Ok(None);
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(10));
            }
        }
    }
}

#[cfg(not(unix))]
mod imp {
    //! Never reached: [`super::plan`] does not use the cache off unix.
    use std::fs::File;
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    use crate::credentials::Credentials;

    const UNSUPPORTED: &str = "not supported on this platform";

    pub struct Dir;

    pub fn open_dir(_: &Path) -> Result<Dir, String> {
        Err(UNSUPPORTED.into())
    }

    impl Dir {
        pub fn read_entry(&self, _: &str) -> Result<Option<String>, String> {
            Err(UNSUPPORTED.into())
        }
        pub fn write(
            &self,
            _: &str,
            _: &str,
            _: &Credentials,
            _: SystemTime,
        ) -> Result<(), String> {
            Err(UNSUPPORTED.into())
        }
        pub fn write_text(&self, _: &str, _: &str, _: &str) -> Result<(), String> {
            Err(UNSUPPORTED.into())
        }
        pub fn remove(&self, _: &str) {}
        pub async fn lock(&self, _: &str, _: Duration) -> Result<Option<File>, String> {
            Err(UNSUPPORTED.into())
        }
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::description::{from_config, Options, UriSpec};
    use crate::error::ErrorKind;
    use crate::session::ManualClock;
    use crate::testing::{no_env, TempDir};
    use std::os::unix::fs::PermissionsExt;
    use std::sync::atomic::AtomicUsize;

    const HOUR: Duration = Duration::from_secs(3600);

    /// A source handing out `id-<n>` living `lifetime` from the clock's now, after `delay`.
    struct Source {
        clock: Arc<dyn Clock>,
        calls: AtomicUsize,
        lifetime: Duration,
        delay: Duration,
        fail: AtomicBool,
    }

    impl Refresher for Source {
        fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
            Box::pin(async move {
                tokio::time::sleep(self.delay).await;
                let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
                if self.fail.load(Ordering::SeqCst) {
                    return Err(Error::new(ErrorKind::Sts, format!("down {n}")));
                }
                let mut c = Credentials::access_key(
                    format!("id-{n}"),
                    Secret::new(format!("session-secret-{n}")),
                    "fake",
                );
                c.security_token = Some(Secret::new(format!("token-{n}")));
                c.expiration = Some(self.clock.now() + self.lifetime);
                Ok(c)
            })
        }
        fn provider_name(&self) -> String {
            "fake".into()
        }
        fn endpoint(&self) -> Option<String> {
            Some("http://127.0.0.1:9".into())
        }
    }

    fn source(clock: &Arc<ManualClock>, lifetime: Duration, delay: Duration) -> Arc<Source> {
        Arc::new(Source {
            clock: clock.clone(),
            calls: AtomicUsize::new(0),
            lifetime,
            delay,
            fail: AtomicBool::new(false),
        })
    }

    fn uri_spec(n: u32) -> ProviderSpec {
        ProviderSpec::Uri(UriSpec {
            uri: format!("http://127.0.0.1:9/creds?n={n}"),
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
        })
    }

    /// A "process": its own decorator over the shared source, as each process has its own.
    fn process(dir: &Path, src: &Arc<Source>, clock: &Arc<ManualClock>) -> Arc<dyn Refresher> {
        let env = Env::from_pairs([(vars::SESSION_CACHE_DIR, dir.to_str().unwrap())]);
        over_with_clock(
            src.clone(),
            plan(&uri_spec(0), &env),
            Policy::default(),
            clock.clone(),
        )
    }

    /// A temporary directory only this user can access, as the cache wants it.
    fn private_tmp() -> TempDir {
        let tmp = TempDir::new("shared-cache");
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        tmp
    }

    fn mode(path: &Path) -> u32 {
        std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    }

    fn entry_path(dir: &Path) -> PathBuf {
        dir.join(format!("{}.json", identity_key(&uri_spec(0))))
    }

    fn role(secret: &str) -> ProviderSpec {
        let mut c = Options {
            type_name: Some("ram_role_arn".into()),
            ..Options::default()
        };
        c.key.access_key_id = Some("id".into());
        c.key.access_key_secret = Some(secret.into());
        c.role.role_arn = Some("acs:ram::1:role/r".into());
        c.role.sts.sts_endpoint = Some("http://127.0.0.1:9".into());
        from_config(Some(c), &no_env()).unwrap()
    }

    #[test]
    fn the_key_hashes_the_whole_identity_and_holds_no_secret() {
        let secret = format!("secret-{}", crate::encoding::nonce());
        let a = identity_key(&role(&secret));
        assert_eq!(a, identity_key(&role(&secret)), "stable");
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(a, identity_key(&role("another-secret")));
        assert_ne!(identity_key(&uri_spec(1)), identity_key(&uri_spec(2)));
        assert!(!a.contains(&secret));
    }

    #[test]
    fn plans() {
        assert_eq!(plan(&uri_spec(0), &no_env()), Plan::Off);
        let env = Env::from_pairs([(vars::SESSION_CACHE_DIR, "/tmp/x")]);
        assert!(matches!(plan(&uri_spec(0), &env), Plan::Use { .. }));
        assert_eq!(
            plan(&uri_spec(0), &env.with(vars::SESSION_CACHE_DIR, "")),
            Plan::Off
        );
        // A role over the environment's keys: the secret is not in the description.
        let over_env = ProviderSpec::Env
            .assume(match role("s") {
                ProviderSpec::AssumeRole(c) => c.roles[0].clone(),
                _ => unreachable!(),
            })
            .unwrap();
        assert!(matches!(plan(&over_env, &env), Plan::NotUsed { .. }));
        assert!(matches!(plan(&role("s"), &env), Plan::Use { .. }));
    }

    #[tokio::test]
    async fn a_later_process_reads_the_entry_without_a_request() {
        let tmp = private_tmp();
        let dir = tmp.path().join("made/here");
        let clock = Arc::new(ManualClock::new());
        let src = source(&clock, HOUR, Duration::ZERO);
        let first = process(&dir, &src, &clock).fetch().await.unwrap();
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
        assert_eq!(mode(&dir), 0o700, "created 0700");
        let entry = entry_path(&dir);
        assert_eq!(mode(&entry), 0o600);
        let text = std::fs::read_to_string(&entry).unwrap();
        assert!(text.contains("session-secret-1") && text.contains("token-1"));
        // Later, outside the window: from the file.
        clock.advance(Duration::from_secs(40 * 60));
        let later = process(&dir, &src, &clock);
        let c = later.fetch().await.unwrap();
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
        assert_eq!(c.access_key_id, first.access_key_id);
        assert_eq!(c.access_key_secret, first.access_key_secret);
        assert_eq!(c.security_token, first.security_token);
        assert_eq!(
            millis(c.expiration.unwrap()),
            millis(first.expiration.unwrap())
        );
        assert_eq!(
            later.endpoint().unwrap(),
            format!("http://127.0.0.1:9; shared cache {}", dir.display())
        );
        // In the window (45 minutes of an hour): one refresh, which the next process reads.
        clock.advance(Duration::from_secs(5 * 60));
        assert_eq!(later.fetch().await.unwrap().access_key_id, "id-2");
        let third = process(&dir, &src, &clock);
        assert_eq!(third.fetch().await.unwrap().access_key_id, "id-2");
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[tokio::test]
    async fn a_process_picking_an_entry_up_mid_life_refreshes_when_the_first_would() {
        use crate::session::SessionCache;
        let tmp = private_tmp();
        let clock = Arc::new(ManualClock::new());
        let src = source(&clock, HOUR, Duration::ZERO);
        let engine = || {
            SessionCache::new(
                process(tmp.path(), &src, &clock),
                Policy::default(),
                clock.clone(),
            )
        };
        let first = engine().get().await.unwrap();
        // Before the window the engine lets its callers reuse the credential until it opens.
        let first_window = millis(first.reuse_until.unwrap());
        let first_margin = millis(first.serve_until.unwrap());
        assert_eq!(
            first_window,
            millis(first.expiration.unwrap() - Duration::from_secs(15 * 60))
        );
        for minutes in [1, 20, 40] {
            let clock_then = clock.now();
            clock.advance(Duration::from_secs(minutes * 60));
            let later = engine().get().await.unwrap();
            assert_eq!(src.calls.load(Ordering::SeqCst), 1, "read from the entry");
            assert_eq!(
                millis(later.reuse_until.unwrap()),
                first_window,
                "{minutes} min in: the window opens at the same wall-clock moment"
            );
            assert_eq!(millis(later.serve_until.unwrap()), first_margin);
            clock.step_wall(false, clock.now().duration_since(clock_then).unwrap());
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn processes_at_once_make_one_request() {
        let tmp = private_tmp();
        let clock = Arc::new(ManualClock::new());
        let src = source(&clock, HOUR, Duration::from_millis(200));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let p = process(tmp.path(), &src, &clock);
                tokio::spawn(async move { p.fetch().await.unwrap().access_key_id })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), "id-1");
        }
        assert_eq!(src.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn never_served_within_the_margin_and_garbage_is_replaced() {
        let tmp = private_tmp();
        let clock = Arc::new(ManualClock::new());
        let src = source(&clock, HOUR, Duration::ZERO);
        process(tmp.path(), &src, &clock).fetch().await.unwrap();
        // Ten seconds before expiry: not served, fetched again.
        clock.advance(HOUR - Duration::from_secs(10));
        assert_eq!(
            process(tmp.path(), &src, &clock)
                .fetch()
                .await
                .unwrap()
                .access_key_id,
            "id-2"
        );
        let entry = entry_path(tmp.path());
        for garbage in ["", "{", "{\"version\":1}", "null", "\u{0}\u{1}binary"] {
            std::fs::write(&entry, garbage).unwrap();
            let before = src.calls.load(Ordering::SeqCst);
            let c = process(tmp.path(), &src, &clock).fetch().await.unwrap();
            assert_eq!(src.calls.load(Ordering::SeqCst), before + 1, "{garbage:?}");
            assert_eq!(c.access_key_id, format!("id-{}", before + 1));
            // Replaced: the next process reads it.
            let next = process(tmp.path(), &src, &clock).fetch().await.unwrap();
            assert_eq!(next.access_key_id, c.access_key_id);
            assert_eq!(mode(&entry), 0o600);
        }
        // An entry of another identity copied over this one's name is ignored.
        let other =
            entry_path(tmp.path()).with_file_name(format!("{}.json", identity_key(&uri_spec(7))));
        std::fs::copy(&entry, &other).unwrap();
        std::fs::rename(&other, &entry).unwrap();
        let text = std::fs::read_to_string(&entry).unwrap();
        let forged = text.replace(&identity_key(&uri_spec(0)), &identity_key(&uri_spec(7)));
        std::fs::write(&entry, forged).unwrap();
        let before = src.calls.load(Ordering::SeqCst);
        process(tmp.path(), &src, &clock).fetch().await.unwrap();
        assert_eq!(src.calls.load(Ordering::SeqCst), before + 1);
    }

    #[tokio::test]
    async fn hostile_directories_and_entries_are_not_used() {
        let clock = Arc::new(ManualClock::new());
        // A directory group or others can read: the source each time, nothing written.
        let tmp = private_tmp();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let src = source(&clock, HOUR, Duration::ZERO);
        let p = process(tmp.path(), &src, &clock);
        p.fetch().await.unwrap();
        p.fetch().await.unwrap();
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
        assert!(
            p.endpoint()
                .unwrap()
                .ends_with("not used: group or others can access the directory (mode 755)"),
            "{}",
            p.endpoint().unwrap()
        );
        // A symlink to a good directory.
        let tmp = private_tmp();
        let real = tmp.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o700)).unwrap();
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let src = source(&clock, HOUR, Duration::ZERO);
        let p = process(&link, &src, &clock);
        p.fetch().await.unwrap();
        assert!(p
            .endpoint()
            .unwrap()
            .ends_with("not used: the directory is a symlink"));
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
        // Entries: readable by others, a symlink (to a good entry), another user's.
        let good = private_tmp();
        let src = source(&clock, HOUR, Duration::ZERO);
        process(good.path(), &src, &clock).fetch().await.unwrap();
        let entry = entry_path(good.path());
        let saved = good.path().join("saved");
        std::fs::copy(&entry, &saved).unwrap();
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o644)).unwrap();
        let p = process(good.path(), &src, &clock);
        assert_eq!(p.fetch().await.unwrap().access_key_id, "id-2");
        assert!(
            p.endpoint()
                .unwrap()
                .contains("group or others can access the entry"),
            "{}",
            p.endpoint().unwrap()
        );
        assert_eq!(mode(&entry), 0o644, "left alone");
        std::fs::remove_file(&entry).unwrap();
        std::os::unix::fs::symlink(&saved, &entry).unwrap();
        let p = process(good.path(), &src, &clock);
        assert_eq!(p.fetch().await.unwrap().access_key_id, "id-3");
        assert!(
            p.endpoint().unwrap().contains("is a symlink"),
            "{}",
            p.endpoint().unwrap()
        );
        if unsafe { libc::geteuid() } == 0 {
            std::fs::remove_file(&entry).unwrap();
            std::fs::copy(&saved, &entry).unwrap();
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(0o600)).unwrap();
            std::os::unix::fs::chown(&entry, Some(4242), Some(4242)).unwrap();
            let p = process(good.path(), &src, &clock);
            assert_eq!(p.fetch().await.unwrap().access_key_id, "id-4");
            assert!(
                p.endpoint().unwrap().contains("owned by uid 4242"),
                "{}",
                p.endpoint().unwrap()
            );
            std::os::unix::fs::chown(good.path(), Some(4242), Some(4242)).unwrap();
            let p = process(good.path(), &src, &clock);
            assert_eq!(p.fetch().await.unwrap().access_key_id, "id-5");
            assert!(p
                .endpoint()
                .unwrap()
                .contains("the directory is owned by uid 4242"));
        }
    }

    #[tokio::test]
    async fn a_failing_source_leaves_a_cold_process_the_servable_entry() {
        let tmp = private_tmp();
        let clock = Arc::new(ManualClock::new());
        let src = source(&clock, HOUR, Duration::ZERO);
        let warm = process(tmp.path(), &src, &clock);
        warm.fetch().await.unwrap();
        clock.advance(Duration::from_secs(50 * 60));
        src.fail.store(true, Ordering::SeqCst);
        // A process that has its credential gets the error (its engine keeps serving and backs off).
        assert!(warm.fetch().await.is_err());
        // A new one gets the entry until the entry's margin: its engine schedules it from the
        // entry's fetch time, so it never serves it closer to expiry than the first process.
        let cold = || process(tmp.path(), &src, &clock);
        assert_eq!(cold().fetch().await.unwrap().access_key_id, "id-1");
        clock.advance(Duration::from_secs(9 * 60 + 49));
        let engine = crate::session::SessionCache::new(cold(), Policy::default(), clock.clone());
        let c = engine.get().await.unwrap();
        assert_eq!(c.access_key_id, "id-1", "11 s left of an hour");
        assert_eq!(
            c.serve_until.unwrap(),
            c.expiration.unwrap() - Duration::from_secs(10),
            "the margin of an hour-long credential, not of 11 s"
        );
        // Within the margin: never.
        clock.advance(Duration::from_secs(2));
        assert!(cold().fetch().await.is_err());
        assert!(engine.get().await.is_err());
    }

    #[test]
    fn the_directory_checked_is_the_one_written_even_if_its_path_is_swapped() {
        let tmp = private_tmp();
        let checked = tmp.path().join("cache");
        let dir = imp::open_dir(&checked).unwrap();
        assert_eq!(mode(&checked), 0o700);
        // The path now names another directory (through a symlink): the handle still writes and
        // reads the one that was checked.
        let moved = tmp.path().join("moved");
        let other = tmp.path().join("other");
        std::fs::rename(&checked, &moved).unwrap();
        std::fs::create_dir(&other).unwrap();
        std::os::unix::fs::symlink(&other, &checked).unwrap();
        dir.write_text("e.json", "k", "{}").unwrap();
        assert_eq!(std::fs::read_to_string(moved.join("e.json")).unwrap(), "{}");
        assert_eq!(mode(&moved.join("e.json")), 0o600);
        assert_eq!(std::fs::read_dir(&other).unwrap().count(), 0);
        assert_eq!(dir.read_entry("e.json").unwrap().as_deref(), Some("{}"));
        dir.remove("e.json");
        assert!(!moved.join("e.json").exists());
        // Opened again by its path, it is refused.
        assert_eq!(
            imp::open_dir(&checked).err().unwrap(),
            "the directory is a symlink"
        );
        // A file where the directory should be.
        std::fs::write(tmp.path().join("file"), "").unwrap();
        assert_eq!(
            imp::open_dir(&tmp.path().join("file")).err().unwrap(),
            "it is not a directory"
        );
    }

    #[tokio::test]
    async fn a_lock_held_too_long_is_given_up_and_a_dead_holder_s_is_not_held() {
        let tmp = private_tmp();
        let dir = imp::open_dir(tmp.path()).unwrap();
        let path = tmp.path().join("k.lock");
        let held = dir
            .lock("k.lock", Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(mode(&path), 0o600);
        // Held (a hung holder): given up after the wait, to go on without it.
        let started = std::time::Instant::now();
        assert!(dir
            .lock("k.lock", Duration::from_millis(200))
            .await
            .unwrap()
            .is_none());
        assert!(started.elapsed() >= Duration::from_millis(150));
        // Released (closed, as when its holder dies): taken at once.
        drop(held);
        assert!(dir.lock("k.lock", Duration::ZERO).await.unwrap().is_some());
        // A lock that is a symlink is not touched.
        let link = tmp.path().join("l.lock");
        std::os::unix::fs::symlink(tmp.path().join("elsewhere"), &link).unwrap();
        let e = dir.lock("l.lock", Duration::ZERO).await.unwrap_err();
        assert!(e.ends_with("is a symlink"), "{e}");
        assert!(
            !tmp.path().join("elsewhere").exists(),
            "nothing created through the link"
        );
    }

    #[tokio::test]
    async fn another_process_failure_is_shared_until_its_backoff_ends() {
        let tmp = private_tmp();
        let clock = Arc::new(ManualClock::new());
        let src = source(&clock, HOUR, Duration::ZERO);
        src.fail.store(true, Ordering::SeqCst);
        let p = process(tmp.path(), &src, &clock);
        let e = p.fetch().await.unwrap_err();
        assert_eq!(e.message(), "down 1");
        // The note is for the other processes: this one's engine backs off (and retries blips).
        assert_eq!(p.fetch().await.unwrap_err().message(), "down 2");
        let note = tmp
            .path()
            .join(format!("{}.fail", identity_key(&uri_spec(0))));
        assert_eq!(mode(&note), 0o600);
        // As written by another process (pid 1 is never a test's): its error, no request.
        let text = std::fs::read_to_string(&note).unwrap();
        let mut failure: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(failure["failures"], 2);
        failure["pid"] = 1.into();
        std::fs::write(&note, failure.to_string()).unwrap();
        let other = process(tmp.path(), &src, &clock);
        let shared = other.fetch().await.unwrap_err();
        assert_eq!(
            (shared.kind(), shared.message()),
            (ErrorKind::Sts, "down 2")
        );
        assert_eq!(src.calls.load(Ordering::SeqCst), 2);
        // After its backoff (at most 2 s for the second failure): asked again; a success clears it.
        clock.advance(Duration::from_secs(2));
        src.fail.store(false, Ordering::SeqCst);
        assert_eq!(other.fetch().await.unwrap().access_key_id, "id-3");
        assert!(!note.exists());
    }

    #[test]
    fn a_noted_error_reads_back_with_its_kind() {
        for kind in ErrorKind::ALL {
            assert_eq!(ErrorKind::from_code(kind.code()), Some(kind));
        }
        let note = Failure {
            version: FORMAT,
            identity: "k".into(),
            failures: 1,
            pid: 1,
            until_ms: 0,
            code: "ERR_CREDENTIALS_STS".into(),
            message: "denied".into(),
            http_status: Some(403),
            server_code: Some("NoPermission".into()),
        };
        let e = note.error();
        assert_eq!((e.kind(), e.message()), (ErrorKind::Sts, "denied"));
        assert_eq!(
            (e.http_status(), e.server_code()),
            (Some(403), Some("NoPermission"))
        );
    }

    #[test]
    fn the_option_is_set_over_the_variable() {
        let env = Env::from_pairs([(vars::SESSION_CACHE_DIR, "/tmp/from-env")]);
        assert_eq!(dir_of(&env), Some(PathBuf::from("/tmp/from-env")));
        let over = with_option(&env, Some("/tmp/from-option")).unwrap();
        assert_eq!(dir_of(&over), Some(PathBuf::from("/tmp/from-option")));
        assert_eq!(dir_of(&with_option(&env, Some("")).unwrap()), None);
        assert_eq!(dir_of(&with_option(&env, None).unwrap()), dir_of(&env));
        let relative = Env::from_pairs([(vars::SESSION_CACHE_DIR, "rel")]);
        assert!(dir_of(&relative).unwrap().is_absolute());
    }
}

#[cfg(test)]
#[cfg(not(unix))]
mod unsupported_tests {
    use super::*;

    #[test]
    fn the_option_is_refused_naming_the_platform_and_the_variable_is_not_used() {
        let e = with_option(&Env::default(), Some("C:\\cache")).unwrap_err();
        assert!(e.message().ends_with(std::env::consts::OS), "{e}");
        assert!(with_option(&Env::default(), Some("")).is_ok());
        let env = Env::from_pairs([(vars::SESSION_CACHE_DIR, "C:\\cache")]);
        let spec = ProviderSpec::Ecs(crate::description::EcsSpec {
            base_url: "http://127.0.0.1:9".into(),
            role_name: None,
            disable_imds_v1: false,
            background: false,
            connect_timeout: Duration::from_secs(1),
            read_timeout: Duration::from_secs(1),
        });
        assert!(matches!(plan(&spec, &env), Plan::NotUsed { .. }));
    }
}
