//! `credentials_uri`: credentials served by a local HTTP endpoint (a sidecar, a vault agent).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::credentials::{CredentialFields, Credentials};
use crate::description::{Kind, UriSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::session::{Policy, Refresher};

/// The provider name, as the official package gives it.
const NAME: &str = Kind::CredentialsUri.provider_name();

/// One per live identity: the URI once (boxed: no spare capacity), the timeouts in milliseconds
/// (saturating at 49 days, which no request waits for).
struct UriRefresher {
    uri: Box<str>,
    connect_ms: u32,
    read_ms: u32,
}

impl UriRefresher {
    fn connect_timeout(&self) -> Duration {
        Duration::from_millis(self.connect_ms.into())
    }

    fn read_timeout(&self) -> Duration {
        Duration::from_millis(self.read_ms.into())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UriCredentials {
    code: Option<String>,
    #[serde(flatten)]
    fields: CredentialFields,
}

impl Refresher for UriRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let request = Request::new(
                crate::http::Method::Get,
                self.uri.to_string(),
                self.connect_timeout(),
                self.read_timeout(),
            );
            let known = uri_secrets(&self.uri);
            let secrets: Vec<&str> = known.iter().map(String::as_str).collect();
            http::fetch(request, &secrets, parse_response).await
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(crate::http::redact_url(&self.uri))
    }

    fn budget(&self) -> Option<Duration> {
        Some(self.connect_timeout() + self.read_timeout())
    }
}

/// What the URI itself carries that is secret: its query's values (often a token) and its
/// password, as written, decoded, and as the `Authorization: Basic` value sent with it.
fn uri_secrets(uri: &str) -> Vec<String> {
    let Ok(u) = crate::http::Url::parse(uri) else {
        return Vec::new();
    };
    let mut found: Vec<String> = u.query_values();
    found.extend(u.password_secrets());
    found
}

/// The caching `credentials_uri` provider.
pub fn provider(spec: &UriSpec, shared: crate::shared_cache::Plan) -> Arc<dyn CredentialsProvider> {
    let refresher = UriRefresher {
        uri: spec.uri.as_str().into(),
        connect_ms: crate::time::millis_u32(spec.connect_timeout),
        read_ms: crate::time::millis_u32(spec.read_timeout),
    };
    crate::shared_cache::provider(refresher, shared, Policy::default())
}

/// Reads a credentials-URI answer: the status, then the document. Never quotes the body.
pub fn parse_response(response: &http::Response) -> Result<Credentials> {
    if response.status != 200 {
        return Err(http::refused(response, "."));
    }
    parse_credentials(&response.body)
}

/// Parses a credentials-URI document. The body is never echoed: it may hold the credentials.
pub fn parse_credentials(body: &[u8]) -> Result<Credentials> {
    let data: Option<UriCredentials> =
        crate::error::parse_json(body, "get sts token failed, json parse failed: ")?;
    const REQUIRED: &str = "error retrieving credentials from credentialsURI result: AccessKeyId, AccessKeySecret and SecurityToken are required";
    let data = data.ok_or_else(|| Error::new(ErrorKind::Response, REQUIRED))?;
    // The value of `Code` is not quoted: it is the server's text, like the rest of the body.
    if data.code.as_deref().is_some_and(|c| c != "Success") {
        return Err(Error::new(
            ErrorKind::Response,
            "error retrieving credentials from credentialsURI result: Code is not \"Success\"",
        ));
    }
    data.fields.into_credentials(NAME, REQUIRED)
}
