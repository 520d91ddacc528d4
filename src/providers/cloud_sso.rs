//! `CloudSSO` CLI profiles: STS credentials from the CloudSSO portal with the CLI's access token.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::credentials::BoxFuture;
use crate::credentials::{CredentialFields, Credentials};
use crate::description::{CloudSsoSpec, Kind};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::secret::Secret;
use crate::session::{Policy, Refresher};

/// The provider name, as the official package gives it.
const NAME: &str = Kind::CloudSso.provider_name();

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
    cloud_credential: Option<CredentialFields>,
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
                crate::http::Method::Post,
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
            http::fetch(request, &[self.access_token.expose()], parse_response).await
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!("{}/cloud-credentials", self.base))
    }
}

/// Reads the portal's answer: the status, then the document. Never quotes the body.
pub fn parse_response(response: &http::Response) -> Result<Credentials> {
    if response.status != 200 {
        return Err(http::status_error(
            ErrorKind::Http,
            "get session token from CloudSSO failed: ",
            response,
        ));
    }
    parse_credentials(&response.body)
}

/// Parses the portal's answer, `{"CloudCredential": {...}}`.
pub fn parse_credentials(body: &[u8]) -> Result<Credentials> {
    const FAILED: &str = "get session token from CloudSSO failed, fail to get credentials";
    let parsed: Option<CloudSsoResponse> = crate::error::parse_json(
        body,
        "get session token from CloudSSO failed, unmarshal fail: ",
    )?;
    parsed
        .and_then(|p| p.cloud_credential)
        .ok_or_else(|| Error::new(ErrorKind::Response, FAILED))?
        .into_credentials(NAME, FAILED)
}

/// The caching CloudSSO provider.
pub fn provider(spec: &CloudSsoSpec) -> Arc<dyn crate::credentials::CredentialsProvider> {
    crate::session::provider(
        CloudSsoRefresher {
            base: spec.base_url.clone(),
            account_id: spec.account_id.clone(),
            access_config: spec.access_config.clone(),
            access_token: spec.access_token.clone(),
            access_token_expire: spec.access_token_expire,
        },
        Policy::default(),
    )
}
