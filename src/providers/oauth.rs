//! `OAuth` CLI profiles: refresh the CLI's OAuth access token when it has 20 minutes or less left,
//! exchange it for STS credentials, and write the new tokens back to config.json.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::{Credentials, SessionFields};
use crate::description::OAuthSpec;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::provider::BoxFuture;
use crate::secret::Secret;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::sts::percent_encode;
use crate::time::utc_timestamp;

/// Provider name of OAuth credentials.
pub const NAME: &str = "oauth";

use crate::writeback::WriteBack;

struct Tokens {
    access_token: Secret,
    refresh_token: Secret,
    access_token_expire: i64,
}

struct OAuthRefresher {
    base: String,
    client_id: String,
    tokens: Mutex<Tokens>,
    write_back: Option<WriteBack>,
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
        let form = [
            ("grant_type", "refresh_token".to_owned()),
            ("refresh_token", refresh.expose().to_owned()),
            ("client_id", self.client_id.clone()),
            ("Timestamp", utc_timestamp()),
        ]
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
        let (connect, read) = Self::timeouts();
        let mut request = Request::new(
            reqwest::Method::POST,
            format!("{}/v1/token", self.base),
            connect,
            read,
        )
        .header("Content-Type", "application/x-www-form-urlencoded");
        request.body = Some(form.into_bytes());
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

    async fn write_back(&self, c: &Credentials) {
        let Some(wb) = self.write_back.clone() else {
            return;
        };
        let (access, refresh, expire) = {
            let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
            (
                t.access_token.expose().to_owned(),
                t.refresh_token.expose().to_owned(),
                t.access_token_expire,
            )
        };
        let sts_expire = c
            .expiration
            .and_then(|e| e.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let tokens = vec![
            ("oauth_refresh_token", refresh.into()),
            ("oauth_access_token", access.into()),
            ("oauth_access_token_expire", expire.into()),
        ];
        wb.save("OAuth", c, sts_expire, tokens).await;
    }
}

impl Refresher for OAuthRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let needs_refresh = {
                let t = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
                !t.refresh_token.is_empty()
                    && (t.access_token.is_empty() || t.access_token_expire - now_seconds() <= 1200)
            };
            if needs_refresh {
                self.refresh_access_token().await?;
            }
            let access = self
                .tokens
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .access_token
                .clone();
            let (connect, read) = Self::timeouts();
            let request = Request::new(
                reqwest::Method::POST,
                format!("{}/v1/exchange", self.base),
                connect,
                read,
            )
            .header("Content-Type", "application/json")
            .header("Authorization", format!("Bearer {}", access.expose()));
            let known = self.known_secrets();
            let known: Vec<&str> = known.iter().map(|s| s.expose()).collect();
            let credentials = http::fetch(request, &known, parse_exchange_response).await?;
            self.write_back(&credentials).await;
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

/// Reads a `/v1/token` answer: the status (never the body), then [`parse_token`].
pub fn parse_token_response(response: &http::Response) -> Result<(String, String, i64)> {
    if response.status != 200 {
        return Err(Error::new(
            ErrorKind::Http,
            format!(
                "failed to refresh OAuth token, status code: {}",
                response.status
            ),
        ));
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
    let parsed: Option<TokenResponse> = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Response,
            format!(
                "failed to refresh OAuth token, unmarshal fail: {}",
                crate::error::describe_json(&e)
            ),
        )
    })?;
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
    let data: Option<SessionFields> = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Response,
            format!(
                "get session token from OAuth failed, unmarshal fail: {}",
                crate::error::describe_json(&e)
            ),
        )
    })?;
    data.unwrap_or_default().into_credentials(
        NAME,
        "refresh session token from OAuth failed, fail to get credentials",
    )
}

/// The caching OAuth provider.
pub fn provider(spec: &OAuthSpec) -> SessionProvider {
    SessionProvider::new(
        Arc::new(OAuthRefresher {
            base: spec.base_url.clone(),
            client_id: spec.client_id.clone(),
            tokens: Mutex::new(Tokens {
                access_token: spec.access_token.clone(),
                refresh_token: spec.refresh_token.clone(),
                access_token_expire: spec.access_token_expire,
            }),
            write_back: spec.write_back.as_ref().map(WriteBack::from),
        }),
        Policy::default(),
    )
}
