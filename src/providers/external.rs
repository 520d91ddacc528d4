//! `External` CLI profiles: run `process_command` (no shell, 60 s timeout, environment inherited)
//! and read credentials as JSON from its stdout (at most [`STDOUT_LIMIT`] bytes; stderr is drained
//! and dropped past [`STDERR_LIMIT`]). Credentials with an expiration are cached until 180 s
//! before it and written back to config.json; credentials without one are not cached: the command
//! runs again on every call, as the official provider does.

use std::process::Stdio;
use std::time::{Duration, SystemTime};

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::description::{ExternalSpec, Kind, ProfileLocation};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::Secret;
use crate::time::parse_expiration;
use crate::writeback;

/// The provider name, as the official package gives it.
const NAME: &str = Kind::External.provider_name();

const TIMEOUT: Duration = Duration::from_secs(60);
/// Largest stdout read from the command: its credentials JSON is a few hundred bytes.
pub const STDOUT_LIMIT: usize = 1024 * 1024;
/// Largest part of the command's stderr kept in memory (the rest is read and dropped, so the
/// command never blocks on a full pipe); it is never shown.
pub const STDERR_LIMIT: usize = 64 * 1024;
/// Cached credentials are run for again this long before they expire (the official slot).
const EXPIRATION_SLOT: Duration = Duration::from_secs(180);

#[derive(Deserialize)]
struct Output {
    mode: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    sts_token: Option<String>,
    expiration: Option<String>,
}

fn command_error(kind: ErrorKind, what: impl std::fmt::Display) -> Error {
    Error::new(kind, format!("failed to execute external command: {what}"))
}

/// Reads `reader` to its end keeping at most `limit` bytes; `Err(())` once more arrive when
/// `fail_over` is set, else the excess is read and dropped.
async fn read_capped<R: AsyncRead + Unpin>(
    mut reader: R,
    limit: usize,
    fail_over: bool,
) -> std::io::Result<std::result::Result<Vec<u8>, ()>> {
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(Ok(kept));
        }
        let room = limit - kept.len();
        if n > room {
            if fail_over {
                return Ok(Err(()));
            }
            kept.extend_from_slice(&buf[..room]);
        } else {
            kept.extend_from_slice(&buf[..n]);
        }
    }
}

struct ExternalRunner {
    argv: Vec<String>,
    timeout: Duration,
    write_back: Option<ProfileLocation>,
}

impl ExternalRunner {
    /// Runs the command once, within the timeout; the child is killed when this returns early.
    async fn output(&self) -> Result<Vec<u8>> {
        let (program, args) = self
            .argv
            .split_first()
            .ok_or_else(|| Error::new(ErrorKind::Profile, "process_command is empty"))?;
        let mut child = tokio::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| command_error(ErrorKind::Provider, e))?;
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(command_error(ErrorKind::Provider, "no pipe to the command"));
        };
        let run = async {
            let (out, _err) = tokio::try_join!(
                read_capped(stdout, STDOUT_LIMIT, true),
                read_capped(stderr, STDERR_LIMIT, false)
            )
            .map_err(|e| command_error(ErrorKind::Provider, e))?;
            let out = out.map_err(|()| {
                command_error(
                    ErrorKind::Response,
                    format!("its output is larger than the limit of {STDOUT_LIMIT} bytes"),
                )
            })?;
            let status = child
                .wait()
                .await
                .map_err(|e| command_error(ErrorKind::Provider, e))?;
            if !status.success() {
                return Err(command_error(
                    ErrorKind::Provider,
                    format!("it exited with {status}"),
                ));
            }
            Ok(out)
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(result) => result,
            Err(_) => Err(command_error(
                ErrorKind::Timeout,
                format!("timeout after {} ms", self.timeout.as_millis()),
            )),
        }
        // On every early return the child is dropped here and killed (`kill_on_drop`).
    }

    /// Runs the command and reads its credentials; `expiration` is set only when the output has
    /// one.
    async fn fetch(&self) -> Result<Credentials> {
        let stdout = self.output().await?;
        let data: Output =
            crate::error::parse_json(&stdout, "failed to parse external command output: ")?;
        let (Some(id), Some(secret)) = (
            data.access_key_id.filter(|v| !v.is_empty()),
            data.access_key_secret.filter(|v| !v.is_empty()),
        ) else {
            return Err(Error::new(
                ErrorKind::Response,
                "invalid credential response: access_key_id or access_key_secret is empty",
            ));
        };
        let token = data.sts_token.filter(|v| !v.is_empty());
        if data.mode.as_deref() == Some("StsToken") && token.is_none() {
            return Err(Error::new(
                ErrorKind::Response,
                "invalid StsToken credential response: sts_token is empty",
            ));
        }
        // As the official: an expiration that does not parse counts as none (not cached).
        let expiration =
            data.expiration
                .filter(|v| !v.is_empty())
                .and_then(|e| match parse_expiration(&e) {
                    Ok(t) => Some(t),
                    Err(err) => {
                        crate::log::debug("external", || {
                            format!("ignoring the command's expiration: {}", err.message())
                        });
                        None
                    }
                });
        let mut c = Credentials::access_key(id, Secret::new(secret), NAME);
        c.security_token = token.map(Secret::new);
        c.expiration = expiration;
        if let Some(wb) = &self.write_back {
            let sts_expiration = expiration
                .and_then(|e| e.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            writeback::save(wb, "External", &c, sts_expiration, Vec::new()).await;
        }
        Ok(c)
    }
}

/// The external-process provider: caches credentials that expire, runs the command on every call
/// for those that do not.
pub struct ExternalProvider {
    runner: ExternalRunner,
    /// The last credentials with an expiration; the lock also makes concurrent callers share one
    /// run while they are fresh.
    cached: tokio::sync::Mutex<Option<Credentials>>,
}

impl ExternalProvider {
    fn fresh(c: &Credentials, now: SystemTime) -> Option<Credentials> {
        let until = c.expiration?.checked_sub(EXPIRATION_SLOT)?;
        (now < until).then(|| {
            let mut served = c.clone();
            served.reuse_until = Some(until);
            served.serve_until = Some(until);
            served
        })
    }

    async fn get(&self) -> Result<Credentials> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached
            .as_ref()
            .and_then(|c| Self::fresh(c, SystemTime::now()))
        {
            return Ok(c);
        }
        let mut c = self.runner.fetch().await?;
        match c.expiration {
            Some(expiration) => {
                if expiration <= SystemTime::now() {
                    *cached = None;
                    return Err(Error::new(
                        ErrorKind::Response,
                        "the external command returned credentials that have already expired",
                    ));
                }
                *cached = Some(c.clone());
                let until = expiration
                    .checked_sub(EXPIRATION_SLOT)
                    .unwrap_or(expiration)
                    .max(SystemTime::now());
                c.reuse_until = Some(until);
                c.serve_until = Some(until);
            }
            None => {
                // Not cacheable: every caller's cache (the JavaScript snapshot too) asks again.
                *cached = None;
                c.reuse_until = Some(SystemTime::now());
            }
        }
        Ok(c)
    }
}

impl CredentialsProvider for ExternalProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.get())
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        // The program only: arguments may carry secrets.
        Some(format!(
            "process_command {}",
            self.runner.argv.first().map_or("", String::as_str)
        ))
    }
}

/// The external-process provider of `spec`.
pub fn provider(spec: &ExternalSpec) -> ExternalProvider {
    ExternalProvider {
        runner: ExternalRunner {
            argv: spec.argv.clone(),
            timeout: TIMEOUT,
            write_back: spec.write_back.clone(),
        },
        cached: tokio::sync::Mutex::new(None),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn refresher(argv: &[&str], timeout: Duration) -> ExternalRunner {
        ExternalRunner {
            argv: argv.iter().map(|a| a.to_string()).collect(),
            timeout,
            write_back: None,
        }
    }

    #[tokio::test]
    async fn a_command_that_hangs_is_killed_at_the_timeout() {
        let started = std::time::Instant::now();
        let e = refresher(&["sleep", "30"], Duration::from_millis(300))
            .fetch()
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout);
        assert_eq!(
            e.message(),
            "failed to execute external command: timeout after 300 ms"
        );
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn output_without_expiration_has_none() {
        let script = r#"echo '{"mode":"AK","access_key_id":"id","access_key_secret":"s"}'"#;
        let c = refresher(&["sh", "-c", script], TIMEOUT)
            .fetch()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "id");
        assert!(c.security_token.is_none());
        assert!(c.expiration.is_none());
    }

    #[tokio::test]
    async fn an_expiration_that_does_not_parse_counts_as_none() {
        let script = r#"echo '{"access_key_id":"id","access_key_secret":"s","expiration":"soon"}'"#;
        let c = refresher(&["sh", "-c", script], TIMEOUT)
            .fetch()
            .await
            .unwrap();
        assert!(c.expiration.is_none());
    }

    #[tokio::test]
    async fn endless_output_is_cut_off_at_the_limit() {
        let e = refresher(&["yes"], TIMEOUT).fetch().await.unwrap_err();
        assert_eq!(
            e.message(),
            format!(
                "failed to execute external command: its output is larger than the limit of {STDOUT_LIMIT} bytes"
            )
        );
    }

    #[tokio::test]
    async fn endless_stderr_is_drained_and_dropped() {
        let script = r#"head -c 3000000 /dev/zero >&2; echo '{"access_key_id":"id","access_key_secret":"s"}'"#;
        let c = refresher(&["sh", "-c", script], TIMEOUT)
            .fetch()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "id");
    }
}
