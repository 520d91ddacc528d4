//! `credentials_uri`: credentials served by a local HTTP endpoint (a sidecar, a vault agent).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::{Credentials, SessionFields};
use crate::description::UriSpec;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::provider::BoxFuture;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::time::truncate;

/// Provider name of URI credentials (the official spelling).
pub const NAME: &str = "credential_uri";

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

/// The caching `credentials_uri` provider.
pub fn provider(spec: &UriSpec) -> SessionProvider {
    SessionProvider::new(
        Arc::new(UriRefresher {
            uri: spec.uri.clone(),
            connect_timeout: spec.connect_timeout,
            read_timeout: spec.read_timeout,
        }),
        Policy::default(),
    )
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
