//! `OAuth` CLI profiles: refresh the CLI's OAuth access token when it has 20 minutes or less left,
//! exchange it for STS credentials, and write the new tokens back to config.json.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::credentials::BoxFuture;
use crate::credentials::{CredentialFields, Credentials};
use crate::description::{Kind, OAuthSpec, ProfileLocation};
use crate::encoding::form;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::secret::Secret;
use crate::session::{Policy, Refresher};
use crate::time::utc_timestamp;

/// The provider name, as the official package gives it.
const NAME: &str = Kind::OAuth.provider_name();

use crate::writeback::{self, LockedProfile};

struct Tokens {
    access_token: Secret,
    refresh_token: Secret,
    access_token_expire: i64,
}

struct OAuthRefresher {
    base: String,
    client_id: String,
    tokens: Mutex<Tokens>,
    write_back: Option<ProfileLocation>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<i64>,
}

fn now_seconds() -> i64 {
    (crate::time::epoch_millis() / 1000) as i64
}

impl OAuthRefresher {
    /// The tokens this provider holds, for the scrubber.
    fn known_secrets(&self) -> [Secret; 2] {
        let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        [t.access_token.clone(), t.refresh_token.clone()]
    }

    fn timeouts() -> (Duration, Duration) {
        (Duration::from_millis(5000), Duration::from_millis(10_000))
    }

    async fn refresh_access_token(&self) -> Result<()> {
        let refresh = self
            .tokens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .refresh_token
            .clone();
        let fields = [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.expose().to_owned()),
            ("client_id", self.client_id.clone()),
            ("Timestamp", utc_timestamp()),
        ];
        let body = form(fields);
        let (connect, read) = Self::timeouts();
        let mut request = Request::new(
            crate::http::Method::Post,
            format!("{}/v1/token", self.base),
            connect,
            read,
        )
        .header("Content-Type", "application/x-www-form-urlencoded");
        request.body = Some(body.into_bytes());
        let known = self.known_secrets();
        let known: Vec<&str> = known.iter().map(|s| s.expose()).collect();
        let (access, refresh, expires_in) =
            http::fetch(request, &known, parse_token_response).await?;
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        t.access_token = Secret::new(access);
        t.refresh_token = Secret::new(refresh);
        t.access_token_expire = now_seconds() + expires_in;
        Ok(())
    }

    fn needs_refresh(&self) -> bool {
        let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        !t.refresh_token.is_empty()
            && (t.access_token.is_empty()
                || t.access_token_expire.saturating_sub(now_seconds()) <= 1200)
    }

    /// Takes tokens from the file when they are newer than ours: another process refreshed them
    /// (and so spent the refresh token we hold) before it released the lock.
    fn adopt_file_tokens(&self, locked: &LockedProfile) {
        if let Ok(profile) = locked.read("OAuth") {
            self.adopt_tokens(&profile);
        }
    }

    /// Takes the tokens of `profile` (as config.json holds it) when they are newer than ours (a
    /// later `oauth_access_token_expire`): the user logged in again, or another process or tool
    /// refreshed them and so spent the refresh token we hold.
    fn adopt_tokens(&self, profile: &serde_json::Map<String, Value>) {
        let text = |k: &str| {
            profile
                .get(k)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let (Some(access), Some(refresh), Some(expire)) = (
            text("oauth_access_token"),
            text("oauth_refresh_token"),
            profile
                .get("oauth_access_token_expire")
                .and_then(Value::as_i64),
        ) else {
            return;
        };
        let mut t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if expire > t.access_token_expire {
            t.access_token = Secret::new(access.to_owned());
            t.refresh_token = Secret::new(refresh.to_owned());
            t.access_token_expire = expire;
        }
    }

    /// The OAuth tokens as config.json fields.
    fn token_fields(&self) -> Vec<(&'static str, Value)> {
        let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        vec![
            ("oauth_refresh_token", t.refresh_token.expose().into()),
            ("oauth_access_token", t.access_token.expose().into()),
            ("oauth_access_token_expire", t.access_token_expire.into()),
        ]
    }

    /// Writes the tokens and `c` back, under `locked` when given (then releases it), else under a
    /// lock taken for the write alone; never over newer tokens in the file, which are adopted
    /// instead.
    async fn write_back(&self, c: &Credentials, locked: Option<LockedProfile>) {
        let Some(wb) = self.write_back.as_ref() else {
            return;
        };
        let sts_expire = c
            .expiration
            .and_then(|e| e.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let tokens = self.token_fields();
        let in_file = match locked {
            Some(l) => l.save("OAuth", c, sts_expire, tokens).await,
            None => writeback::save(wb, "OAuth", c, sts_expire, tokens).await,
        };
        if let Some(profile) = in_file {
            self.adopt_tokens(&profile);
        }
    }
}

impl Refresher for OAuthRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            // A refresh spends the refresh token (the server rotates it). With write-back, the file
            // lock is held from the re-read of the file, through the refresh and the exchange, to
            // the write: of processes sharing config.json, one refreshes and the others, once
            // they get the lock, read its new tokens instead of spending the old refresh token;
            // and no write is based on a file read before another process's write.
            // The file is re-read at every refresh, so tokens written since (a new login, another
            // tool's refresh) are used instead of ours; the lock is kept only for a refresh.
            let mut locked = match &self.write_back {
                Some(wb) => writeback::lock(wb).await.ok(),
                None => None,
            };
            if let Some(l) = &locked {
                self.adopt_file_tokens(l);
            }
            if !self.needs_refresh() {
                locked = None;
            }
            if self.needs_refresh() {
                self.refresh_access_token().await?;
                // The old refresh token is spent: record the new tokens at once, so a failed
                // exchange does not leave a spent token in the file for the next process.
                if let Some(l) = locked.take() {
                    locked = l.write("OAuth", self.token_fields()).await;
                }
            }
            let access = self
                .tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .access_token
                .clone();
            let (connect, read) = Self::timeouts();
            let request = Request::new(
                crate::http::Method::Post,
                format!("{}/v1/exchange", self.base),
                connect,
                read,
            )
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {}", access.expose()));
            let known = self.known_secrets();
            let known: Vec<&str> = known.iter().map(|s| s.expose()).collect();
            let credentials = http::fetch(request, &known, parse_exchange_response).await?;
            self.write_back(&credentials, locked).await;
            Ok(credentials)
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!("{}/v1/exchange", self.base))
    }
}

/// Reads a `/v1/token` answer: the status (never the body; the answer is recorded for the
/// retry), then [`parse_token`].
pub fn parse_token_response(response: &http::Response) -> Result<(String, String, i64)> {
    if response.status != 200 {
        return Err(Error::new(
            ErrorKind::Http,
            format!(
                "failed to refresh OAuth token, status code: {}",
                response.status
            ),
        )
        .answered(response));
    }
    parse_token(&response.body)
}

/// Reads a `/v1/exchange` answer: the status (with the error fields only), then
/// [`parse_exchange`].
pub fn parse_exchange_response(response: &http::Response) -> Result<Credentials> {
    if response.status != 200 {
        return Err(http::status_error(
            ErrorKind::Http,
            "get session token from OAuth failed: ",
            response,
        ));
    }
    parse_exchange(&response.body)
}

/// Parses a `/v1/token` answer into (access token, refresh token, lifetime in seconds).
pub fn parse_token(body: &[u8]) -> Result<(String, String, i64)> {
    let parsed: Option<TokenResponse> =
        crate::error::parse_json(body, "failed to refresh OAuth token, unmarshal fail: ")?;
    let parsed = parsed.unwrap_or(TokenResponse {
        access_token: None,
        refresh_token: None,
        expires_in: None,
    });
    match (parsed.access_token, parsed.refresh_token) {
        (Some(access), Some(refresh)) if !access.is_empty() && !refresh.is_empty() => {
            let lifetime = parsed
                .expires_in
                .filter(|s| *s > 0 && *s < 10 * 365 * 86_400)
                .unwrap_or(3600);
            Ok((access, refresh, lifetime))
        }
        _ => Err(Error::new(
            ErrorKind::Response,
            "failed to refresh OAuth token: access_token or refresh_token missing",
        )),
    }
}

/// Parses a `/v1/exchange` answer (camelCase credential fields).
pub fn parse_exchange(body: &[u8]) -> Result<Credentials> {
    let data: Option<CredentialFields> = crate::error::parse_json(
        body,
        "get session token from OAuth failed, unmarshal fail: ",
    )?;
    data.unwrap_or_default().into_credentials(
        NAME,
        "refresh session token from OAuth failed, fail to get credentials",
    )
}

/// The caching OAuth provider.
pub fn provider(spec: &OAuthSpec) -> Arc<dyn crate::credentials::CredentialsProvider> {
    crate::session::provider(
        OAuthRefresher {
            base: spec.base_url.clone(),
            client_id: spec.client_id.clone(),
            tokens: Mutex::new(Tokens {
                access_token: spec.access_token.clone(),
                refresh_token: spec.refresh_token.clone(),
                access_token_expire: spec.access_token_expire,
            }),
            write_back: spec.write_back.clone(),
        },
        Policy::default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refresher(access_token_expire: i64) -> OAuthRefresher {
        OAuthRefresher {
            base: "https://127.0.0.1:9".into(),
            client_id: "c".into(),
            tokens: Mutex::new(Tokens {
                access_token: Secret::new("a".to_owned()),
                refresh_token: Secret::new("r".to_owned()),
                access_token_expire,
            }),
            write_back: None,
        }
    }

    /// A one-thread HTTP server: `/v1/token` issues new tokens, `/v1/exchange` answers 503.
    fn token_server_with_failing_exchange() -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        std::thread::spawn(move || {
            for stream in listener.incoming().take(2) {
                let Ok(mut stream) = stream else { return };
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let text = String::from_utf8_lossy(&request);
                let (status, body) = if text.starts_with("POST /v1/token") {
                    (
                        "200 OK",
                        r#"{"access_token":"new-access","refresh_token":"new-refresh","expires_in":7200}"#,
                    )
                } else {
                    ("503 Service Unavailable", "{}")
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        url
    }

    #[tokio::test]
    async fn a_failed_exchange_still_records_the_rotated_tokens() {
        let dir = crate::testing::TempDir::new("oauth-rotated");
        let path = dir.path().join("config.json");
        std::fs::write(
            &path,
            r#"{"current":"o","profiles":[{"name":"o","mode":"OAuth","oauth_refresh_token":"old-refresh","oauth_access_token":"old-access","oauth_access_token_expire":1}]}"#,
        )
        .unwrap();
        let mut r = refresher(1);
        r.base = token_server_with_failing_exchange();
        r.write_back = Some(ProfileLocation {
            path: path.clone(),
            profile: "o".into(),
        });
        assert!(r.fetch().await.is_err(), "the exchange fails");
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let p = &saved["profiles"][0];
        assert_eq!(p["oauth_refresh_token"], "new-refresh");
        assert_eq!(p["oauth_access_token"], "new-access");
    }

    #[test]
    fn the_services_answers_decide_the_retry() {
        let response = |status, body: &[u8]| http::Response {
            status,
            body: body.to_vec(),
        };
        let token = |status, body| parse_token_response(&response(status, body)).unwrap_err();
        let exchange = |status, body| parse_exchange_response(&response(status, body)).unwrap_err();
        for status in [500, 502, 503, 429] {
            assert!(crate::session::is_blip(&token(status, b"")), "{status}");
            assert!(
                crate::session::is_blip(&exchange(status, b"{}")),
                "{status}"
            );
        }
        for (status, body) in [(400, &br#"{"error":"invalid_grant"}"#[..]), (401, b"{}")] {
            assert!(!crate::session::is_blip(&token(status, body)), "{status}");
            assert!(
                !crate::session::is_blip(&exchange(status, body)),
                "{status}"
            );
        }
        let e = token(400, br#"{"error":"invalid_grant"}"#);
        assert_eq!(
            e.message(),
            "failed to refresh OAuth token, status code: 400"
        );
        assert_eq!(e.server_code(), Some("invalid_grant"));
    }

    #[test]
    fn any_expiry_in_the_file_is_compared_without_overflow() {
        // config.json may say anything: a huge negative expiry is long past, not an overflow.
        assert!(refresher(i64::MIN).needs_refresh());
        assert!(refresher(0).needs_refresh());
        assert!(!refresher(i64::MAX).needs_refresh());
        assert!(!refresher(now_seconds() + 7200).needs_refresh());
    }
}
