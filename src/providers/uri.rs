//! `credentials_uri`: credentials served by a local HTTP endpoint (a sidecar, a vault agent).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::config::non_empty;
use crate::credentials::{Credentials, SessionFields};
use crate::env::{vars, Env};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::provider::BoxFuture;
use crate::providers::ram_role_arn::millis;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::time::truncate;

/// Provider name of URI credentials (the official spelling).
pub const NAME: &str = "credential_uri";

/// The options of URI credentials, before environment fallbacks.
#[derive(Clone, Debug, Default)]
pub struct UriOptions {
    pub credentials_uri: Option<String>,
    pub connect_timeout: Option<f64>,
    pub read_timeout: Option<f64>,
}

struct UriRefresher {
    uri: String,
    connect_timeout: Duration,
    read_timeout: Duration,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UriCredentials {
    code: Option<String>,
    #[serde(flatten)]
    fields: SessionFields,
}

impl Refresher for UriRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let request = Request::new(
                reqwest::Method::GET,
                self.uri.clone(),
                self.connect_timeout,
                self.read_timeout,
            );
            let response = http::send(request).await?;
            if response.status != 200 {
                return Err(Error::new(
                    ErrorKind::Http,
                    format!(
                        "get sts token failed, httpStatus: {}, message = {}.",
                        response.status,
                        truncate(&response.text(), 200)
                    ),
                ));
            }
            // The body is never echoed from here on: it may hold the credentials themselves.
            parse_credentials(&response.body)
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(crate::http::redact_url(&self.uri))
    }
}

/// Builds the caching `credentials_uri` provider; the URI comes from the option or
/// `ALIBABA_CLOUD_CREDENTIALS_URI` and must be an http(s) URL.
pub fn build(options: UriOptions, env: &Env) -> Result<SessionProvider> {
    let uri = non_empty(&options.credentials_uri)
        .or_else(|| env.get(vars::CREDENTIALS_URI))
        .ok_or_else(|| {
            Error::config(
                "the credentials URI is empty: set credentialsURI or ALIBABA_CLOUD_CREDENTIALS_URI",
            )
        })?;
    match reqwest::Url::parse(&uri) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        _ => return Err(Error::config("the credentials URI is not an http(s) URL")),
    }
    Ok(SessionProvider::new(
        Arc::new(UriRefresher {
            uri,
            connect_timeout: millis(options.connect_timeout, crate::sts::DEFAULT_CONNECT_TIMEOUT),
            read_timeout: millis(options.read_timeout, crate::sts::DEFAULT_READ_TIMEOUT),
        }),
        Policy::default(),
    ))
}

/// Parses a credentials-URI answer. The body is never echoed: it may hold the credentials.
pub fn parse_credentials(body: &[u8]) -> Result<Credentials> {
    let data: UriCredentials = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Response,
            format!(
                "get sts token failed, json parse failed: {}",
                crate::error::describe_json(&e)
            ),
        )
    })?;
    if let Some(code) = data.code.as_deref().filter(|c| *c != "Success") {
        return Err(Error::new(
            ErrorKind::Response,
            format!("error retrieving credentials from credentialsURI result: Code is {:?}, not \"Success\"", truncate(code, 40)),
        ));
    }
    data.fields.into_credentials(NAME, "error retrieving credentials from credentialsURI result: AccessKeyId, AccessKeySecret, SecurityToken and Expiration are required")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_is_required_and_checked() {
        let env = Env::from_pairs::<&str, &str>([]);
        assert!(build(UriOptions::default(), &env)
            .unwrap_err()
            .message()
            .contains("credentials URI is empty"));
        let bad = UriOptions {
            credentials_uri: Some("file:///etc/passwd".into()),
            ..Default::default()
        };
        assert!(build(bad, &env)
            .unwrap_err()
            .message()
            .contains("not an http(s) URL"));
        let env = Env::from_pairs([(vars::CREDENTIALS_URI, "http://127.0.0.1:1/creds")]);
        assert!(build(UriOptions::default(), &env).is_ok());
    }
}
