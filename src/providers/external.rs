//! `External` CLI profiles: run `process_command` (no shell, 60 s timeout, environment inherited)
//! and read credentials as JSON from its stdout; cached until 180 s before they expire and written
//! back to config.json.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::credentials::Credentials;
use crate::description::ExternalSpec;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::BoxFuture;
use crate::secret::Secret;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::time::parse_expiration;
use crate::writeback::WriteBack;

/// Provider name of external-process credentials.
pub const NAME: &str = "external";
const TIMEOUT: Duration = Duration::from_secs(60);
/// Credentials without an expiration are static: reused for this long (practically for ever).
const STATIC_LIFETIME: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

#[derive(Deserialize)]
struct Output {
    mode: Option<String>,
    access_key_id: Option<String>,
    access_key_secret: Option<String>,
    sts_token: Option<String>,
    expiration: Option<String>,
}

struct ExternalRefresher {
    argv: Vec<String>,
    timeout: Duration,
    write_back: Option<WriteBack>,
}

impl Refresher for ExternalRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let child = tokio::process::Command::new(&self.argv[0])
                .args(&self.argv[1..])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Provider,
                        format!("failed to execute external command: {e}"),
                    )
                })?;
            let output = match tokio::time::timeout(self.timeout, child.wait_with_output()).await {
                Ok(Ok(o)) => o,
                Ok(Err(e)) => {
                    return Err(Error::new(
                        ErrorKind::Provider,
                        format!("failed to execute external command: {e}"),
                    ))
                }
                Err(_) => {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!(
                            "failed to execute external command: timeout after {} ms",
                            self.timeout.as_millis()
                        ),
                    ))
                }
            };
            if !output.status.success() {
                return Err(Error::new(
                    ErrorKind::Provider,
                    format!(
                        "failed to execute external command: it exited with {}",
                        output.status
                    ),
                ));
            }
            let data: Output = serde_json::from_slice(&output.stdout).map_err(|e| {
                Error::new(
                    ErrorKind::Response,
                    format!(
                        "failed to parse external command output: {}",
                        crate::error::describe_json(&e)
                    ),
                )
            })?;
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
            let expiration = match data.expiration.filter(|v| !v.is_empty()) {
                Some(e) => Some(parse_expiration(&e)?),
                None => None,
            };
            let mut c = Credentials::access_key(id, Secret::new(secret), NAME);
            c.security_token = token.map(Secret::new);
            c.expiration = Some(expiration.unwrap_or_else(|| SystemTime::now() + STATIC_LIFETIME));
            if let Some(wb) = &self.write_back {
                let sts_expiration = expiration
                    .and_then(|e| e.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                wb.save("External", &c, sts_expiration, Vec::new()).await;
            }
            Ok(c)
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        // The program only: arguments may carry secrets.
        Some(format!("process_command {}", self.argv[0]))
    }
}

/// The caching external-process provider.
pub fn provider(spec: &ExternalSpec) -> SessionProvider {
    SessionProvider::new(
        Arc::new(ExternalRefresher {
            argv: spec.argv.clone(),
            timeout: TIMEOUT,
            write_back: spec.write_back.as_ref().map(WriteBack::from),
        }),
        Policy {
            stale_before: Duration::from_secs(180),
            prefetch_before: None,
            background: false,
        },
    )
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn refresher(argv: &[&str], timeout: Duration) -> ExternalRefresher {
        ExternalRefresher {
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
    async fn output_without_expiration_is_static() {
        let script = r#"echo '{"mode":"AK","access_key_id":"id","access_key_secret":"s"}'"#;
        let c = refresher(&["sh", "-c", script], TIMEOUT)
            .fetch()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "id");
        assert!(c.security_token.is_none());
        assert!(
            c.expiration.unwrap() > SystemTime::now() + Duration::from_secs(50 * 365 * 24 * 3600)
        );
    }
}
