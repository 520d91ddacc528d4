//! `CloudSSO` CLI profiles: STS credentials from the CloudSSO portal with the CLI's access token.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::{Credentials, SessionFields};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::provider::BoxFuture;
use crate::secret::Secret;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::time::truncate;

/// Provider name of CloudSSO credentials.
pub const NAME: &str = "cloud_sso";

/// What a CloudSSO profile holds.
#[derive(Clone, Debug, Default)]
pub struct CloudSsoOptions {
    pub sign_in_url: Option<String>,
    pub account_id: Option<String>,
    pub access_config: Option<String>,
    pub access_token: Option<String>,
    /// Seconds since the epoch.
    pub access_token_expire: Option<i64>,
}

struct CloudSsoRefresher {
    base: String,
    account_id: String,
    access_config: String,
    access_token: Secret,
    access_token_expire: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CloudSsoResponse {
    cloud_credential: Option<SessionFields>,
}

fn now_seconds() -> i64 {
    (crate::time::epoch_millis() / 1000) as i64
}

const EXPIRED: &str = "CloudSSO access token is empty or expired, please re-login with cli.";

impl Refresher for CloudSsoRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            if self.access_token_expire <= now_seconds() {
                return Err(Error::new(ErrorKind::Profile, EXPIRED));
            }
            let body = serde_json::json!({ "AccountId": self.account_id, "AccessConfigurationId": self.access_config });
            let mut request = Request::new(
                reqwest::Method::POST,
                format!("{}/cloud-credentials", self.base),
                Duration::from_millis(5000),
                Duration::from_millis(10_000),
            )
            .header("Accept", "application/json")
            .header("Content-Type", "application/json")
            .header(
                "Authorization",
                format!("Bearer {}", self.access_token.expose()),
            );
            request.body = Some(body.to_string().into_bytes());
            let response = http::send(request).await?;
            if response.status != 200 {
                return Err(Error::new(
                    ErrorKind::Http,
                    format!(
                        "get session token from CloudSSO failed: HTTP {}, {}",
                        response.status,
                        truncate(
                            &response
                                .text()
                                .replace(self.access_token.expose(), "<redacted>"),
                            200
                        )
                    ),
                ));
            }
            parse_credentials(&response.body)
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!("{}/cloud-credentials", self.base))
    }
}

/// Parses the portal's answer, `{"CloudCredential": {...}}`.
pub fn parse_credentials(body: &[u8]) -> Result<Credentials> {
    const FAILED: &str = "get session token from CloudSSO failed, fail to get credentials";
    let parsed: CloudSsoResponse = serde_json::from_slice(body).map_err(|e| {
        Error::new(
            ErrorKind::Response,
            format!(
                "get session token from CloudSSO failed, unmarshal fail: {}",
                crate::error::describe_json(&e)
            ),
        )
    })?;
    parsed
        .cloud_credential
        .ok_or_else(|| Error::new(ErrorKind::Response, FAILED))?
        .into_credentials(NAME, FAILED)
}

/// `scheme://host[:port]` of a URL.
pub(crate) fn origin(url: &str) -> Option<String> {
    let u = reqwest::Url::parse(url).ok()?;
    let host = u.host_str()?;
    Some(match u.port() {
        Some(p) => format!("{}://{host}:{p}", u.scheme()),
        None => format!("{}://{host}", u.scheme()),
    })
}

/// Builds the caching CloudSSO provider; refuses a missing or expired access token.
pub fn build(options: CloudSsoOptions) -> Result<SessionProvider> {
    let token = options.access_token.filter(|t| !t.is_empty());
    let expire = options.access_token_expire.unwrap_or(0);
    let Some(token) = token.filter(|_| expire > now_seconds()) else {
        return Err(Error::new(ErrorKind::Profile, EXPIRED));
    };
    let (Some(url), Some(account_id), Some(access_config)) = (
        options.sign_in_url.filter(|v| !v.is_empty()),
        options.account_id.filter(|v| !v.is_empty()),
        options.access_config.filter(|v| !v.is_empty()),
    ) else {
        return Err(Error::new(
            ErrorKind::Profile,
            "CloudSSO sign in url, account id, and access config cannot be empty.",
        ));
    };
    let base = origin(&url).ok_or_else(|| {
        Error::new(
            ErrorKind::Profile,
            "CloudSSO sign in url is not a valid URL",
        )
    })?;
    Ok(SessionProvider::new(
        Arc::new(CloudSsoRefresher {
            base,
            account_id,
            access_config,
            access_token: Secret::new(token),
            access_token_expire: expire,
        }),
        Policy::default(),
    ))
}
