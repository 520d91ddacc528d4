//! `ecs_ram_role`: the instance RAM role from the ECS metadata service, IMDSv2 first (a session
//! token, reused until near its TTL) with a fallback to plain GETs unless IMDSv1 is disabled.
//! Never through a proxy. Base URL from `ALIBABA_CLOUD_ECS_METADATA_SERVICE_ENDPOINT`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde::Deserialize;

use crate::credentials::BoxFuture;
use crate::credentials::{CredentialFields, Credentials};
use crate::description::{EcsSpec, Kind};
use crate::error::{Error, ErrorKind, Result};
use crate::http::{self, Request};
use crate::secret::Secret;
use crate::session::{Policy, Refresher};

/// The provider name, as the official package gives it.
const NAME: &str = Kind::EcsRamRole.provider_name();

/// Lifetime asked for metadata tokens, seconds.
const TOKEN_TTL_SECONDS: u64 = 21_600;
/// A metadata token is replaced this long before its TTL runs out.
const TOKEN_MARGIN: Duration = Duration::from_secs(300);
const CREDENTIALS_PATH: &str = "/latest/meta-data/ram/security-credentials/";

struct EcsRefresher {
    base: String,
    role_name: Option<String>,
    disable_v1: bool,
    connect_timeout: Duration,
    read_timeout: Duration,
    /// The metadata token and when it was fetched, on both clocks: its TTL runs on the metadata
    /// service's clock, which moves on while this machine sleeps (the monotonic one does not).
    token: Mutex<Option<(Secret, Instant, SystemTime)>>,
    /// The role the metadata service named last, for `describe()`.
    discovered: Mutex<Option<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MetadataCredentials {
    code: Option<String>,
    #[serde(flatten)]
    fields: CredentialFields,
}

impl EcsRefresher {
    fn request(&self, method: crate::http::Method, path: &str) -> Request {
        let mut r = Request::new(
            method,
            format!("{}{path}", self.base),
            self.connect_timeout,
            self.read_timeout,
        );
        r.use_proxy = false;
        r
    }

    /// The metadata token, cached until near its TTL. `Ok(None)`: IMDSv2 is unavailable and
    /// IMDSv1 is allowed.
    async fn metadata_token(&self) -> Result<Option<Secret>> {
        if let Some((token, fetched, fetched_wall)) = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let usable =
                |age: Duration| age + TOKEN_MARGIN < Duration::from_secs(TOKEN_TTL_SECONDS);
            // A wall clock stepped back says nothing: the monotonic age decides alone then.
            let wall_age = SystemTime::now()
                .duration_since(*fetched_wall)
                .unwrap_or_default();
            if usable(fetched.elapsed()) && usable(wall_age) {
                return Ok(Some(token.clone()));
            }
        }
        let request = self
            .request(crate::http::Method::Put, "/latest/api/token")
            .header(
                "X-aliyun-ecs-metadata-token-ttl-seconds",
                TOKEN_TTL_SECONDS.to_string(),
            );
        let outcome = match http::send(request).await {
            Ok(r) if r.status == 200 && !r.body.is_empty() => {
                Ok(Secret::new(r.text().trim().to_owned()))
            }
            Ok(r) => Err(Error::new(
                ErrorKind::Http,
                format!("get metadata token failed with {}", r.status),
            )
            .with_answer(r.status, None)),
            Err(e) => Err(e.prefixed("get metadata token failed: ")),
        };
        match outcome {
            Ok(token) => {
                *self.token.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some((token.clone(), Instant::now(), SystemTime::now()));
                Ok(Some(token))
            }
            Err(e) if self.disable_v1 => Err(e),
            Err(_) => Ok(None),
        }
    }

    async fn get(&self, path: &str, token: Option<&Secret>) -> Result<http::Response> {
        let mut request = self.request(crate::http::Method::Get, path);
        if let Some(t) = token {
            request = request.header("X-aliyun-ecs-metadata-token", t.expose().to_owned());
        }
        http::send(request)
            .await
            .map_err(|e| e.scrubbed(&[token.map_or("", |t| t.expose())]))
    }

    /// GET `path` with the token, retried without it when IMDSv1 is allowed (the official fallback).
    async fn get_with_fallback(&self, path: &str) -> Result<http::Response> {
        let token = self.metadata_token().await?;
        let first = self.get(path, token.as_ref()).await;
        match (&first, &token) {
            (Ok(r), Some(_)) if r.status != 200 && !self.disable_v1 => {
                if r.status == 401 || r.status == 403 {
                    // The token was refused: forget it.
                    *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
                self.get(path, None).await
            }
            (Err(_), Some(_)) if !self.disable_v1 => self.get(path, None).await,
            _ => first,
        }
    }

    async fn role_name(&self) -> Result<String> {
        if let Some(name) = &self.role_name {
            return Ok(name.clone());
        }
        let response = self.get_with_fallback(CREDENTIALS_PATH).await?;
        if response.status != 200 {
            return Err(Error::new(
                ErrorKind::Http,
                format!(
                    "get role name failed: GET {}{CREDENTIALS_PATH} {}",
                    self.base, response.status
                ),
            )
            .with_answer(response.status, None));
        }
        let name = response.text().trim().to_owned();
        if name.is_empty() || name.contains(['/', '\n', '?', '#']) {
            return Err(Error::new(
                ErrorKind::Response,
                "get role name failed: the metadata service returned no usable role name",
            ));
        }
        *self.discovered.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.clone());
        Ok(name)
    }
}

impl Refresher for EcsRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let role = self.role_name().await?;
            let path = format!(
                "{CREDENTIALS_PATH}{}",
                crate::encoding::percent_encode(&role)
            );
            let response = self.get_with_fallback(&path).await?;
            let token = self.token.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let token = token.as_ref().map_or("", |(t, _, _)| t.expose());
            http::finish(&response, &[token], parse_response)
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!(
            "{}{CREDENTIALS_PATH}{}",
            self.base,
            self.role_name
                .clone()
                .or_else(|| self
                    .discovered
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .clone())
                .unwrap_or_else(|| "<discovered>".to_owned())
        ))
    }

    fn budget(&self) -> Option<Duration> {
        Some(self.connect_timeout + self.read_timeout)
    }
}

/// The caching `ecs_ram_role` provider (refreshed in the background from up to 60 minutes before
/// expiration).
pub fn provider(
    spec: &EcsSpec,
    shared: crate::shared_cache::Plan,
) -> Arc<dyn crate::credentials::CredentialsProvider> {
    let refresher = EcsRefresher {
        base: spec.base_url.clone(),
        role_name: spec.role_name.clone(),
        disable_v1: spec.disable_imds_v1,
        connect_timeout: spec.connect_timeout,
        read_timeout: spec.read_timeout,
        token: Mutex::new(None),
        discovered: Mutex::new(None),
    };
    let policy = Policy {
        refresh_before: Duration::from_secs(60 * 60),
        background: spec.background,
    };
    crate::shared_cache::provider(refresher, shared, policy)
}

/// Reads the metadata service's answer for the role: the status, then the document. Never
/// quotes the body.
pub fn parse_response(response: &http::Response) -> Result<Credentials> {
    if response.status != 200 {
        return Err(http::refused(response, ""));
    }
    parse_credentials(&response.body)
}

/// Parses the metadata service's credentials document (`Code`, `AccessKeyId`, ...), with the
/// official's checks in its order: the JSON, then the three fields, then `Code`.
pub fn parse_credentials(body: &[u8]) -> Result<Credentials> {
    const FAILED: &str = "get sts token failed";
    let data: Option<MetadataCredentials> =
        crate::error::parse_json(body, "get sts token failed, json parse failed: ")?;
    let data = data.ok_or_else(|| Error::new(ErrorKind::Response, FAILED))?;
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    let f = &data.fields;
    if !(present(&f.access_key_id) && present(&f.access_key_secret) && present(&f.security_token)) {
        return Err(Error::new(ErrorKind::Response, FAILED));
    }
    if data.code.as_deref() != Some("Success") {
        return Err(Error::new(
            ErrorKind::Response,
            "refresh Ecs sts token err, Code is not Success",
        ));
    }
    data.fields.into_credentials(NAME, FAILED)
}
