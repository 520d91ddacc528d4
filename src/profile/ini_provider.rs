//! `profile`: credentials from the INI file `~/.alibabacloud/credentials` (or
//! `ALIBABA_CLOUD_CREDENTIALS_FILE`), section `ALIBABA_CLOUD_PROFILE` or `default`. Read at the
//! first `getCredentials()`; a failure is retried at the next call.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::credentials::Credentials;
use crate::env::{vars, Env};
use crate::error::{Error, ErrorKind, Result};
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::providers::ecs::{self, EcsOptions};
use crate::providers::oidc::{self, OidcOptions};
use crate::providers::ram_role_arn::{self, RamRoleArnOptions, StsSettings};
use crate::providers::static_ak::StaticAkProvider;

/// Provider name of INI-profile credentials.
pub const NAME: &str = "profile";

/// Credentials from a section of the INI credentials file.
pub struct IniProfileProvider {
    path: Option<PathBuf>,
    section: String,
    env: Env,
    inner: super::LazyProvider,
}

impl std::fmt::Debug for IniProfileProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IniProfileProvider")
            .field("path", &self.path)
            .field("section", &self.section)
            .finish_non_exhaustive()
    }
}

/// The INI path: `ALIBABA_CLOUD_CREDENTIALS_FILE`, else `~/.alibabacloud/credentials`.
pub fn credentials_path(env: &Env) -> Option<PathBuf> {
    env.get(vars::CREDENTIALS_FILE)
        .map(PathBuf::from)
        .or_else(|| super::home_dir(env).map(|h| h.join(".alibabacloud").join("credentials")))
}

impl IniProfileProvider {
    /// The provider for `section` (else `ALIBABA_CLOUD_PROFILE`, else `default`).
    pub fn build(section: Option<String>, env: &Env) -> Self {
        IniProfileProvider {
            path: credentials_path(env),
            section: section
                .filter(|s| !s.is_empty())
                .or_else(|| env.get(vars::PROFILE))
                .unwrap_or_else(|| "default".to_owned()),
            env: env.clone(),
            inner: super::LazyProvider::default(),
        }
    }

    fn load(&self) -> Result<Arc<dyn CredentialsProvider>> {
        let path = self.path.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::Profile,
                "cannot find the home directory for ~/.alibabacloud/credentials",
            )
        })?;
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|e| {
            Error::new(
                ErrorKind::Profile,
                format!("reading credentials file '{shown}' failed: {e}"),
            )
        })?;
        let ini = super::ini::parse(&text).map_err(|e| {
            Error::new(
                ErrorKind::Profile,
                format!("parse credentials file '{shown}' failed: {e}"),
            )
        })?;
        let empty = HashMap::new();
        let section = ini.get(&self.section).unwrap_or(&empty);
        let get = |k: &str| section.get(k).filter(|v| !v.is_empty()).cloned();
        let require = |k: &str| {
            get(k).ok_or_else(|| {
                Error::new(
                    ErrorKind::Profile,
                    format!("profile \"{}\" in '{shown}' has no {k}", self.section),
                )
            })
        };
        let no_env = Env::from_pairs::<&str, &str>([]);
        let settings = || StsSettings {
            role_session_name: get("role_session_name"),
            policy: get("policy"),
            ..StsSettings::default()
        };
        let kind = get("type").ok_or_else(|| {
            Error::new(
                ErrorKind::Profile,
                format!(
                    "Can not find credential type for \"{}\" in '{shown}'",
                    self.section
                ),
            )
        })?;
        let built: Arc<dyn CredentialsProvider> = match kind.as_str() {
            "access_key" => Arc::new(StaticAkProvider::build(Some(require("access_key_id")?), Some(require("access_key_secret")?), &no_env)?),
            "ecs_ram_role" => Arc::new(ecs::build(EcsOptions { role_name: get("role_name"), ..EcsOptions::default() }, &self.env)?),
            "ram_role_arn" => {
                let source = Arc::new(StaticAkProvider::build(Some(require("access_key_id")?), Some(require("access_key_secret")?), &no_env)?);
                Arc::new(ram_role_arn::build(
                    source,
                    RamRoleArnOptions {
                        role_arn: Some(require("role_arn")?),
                        sts: settings(),
                        ..RamRoleArnOptions::default()
                    },
                    &self.env,
                )?)
            }
            "oidc_role_arn" => Arc::new(oidc::build(
                OidcOptions {
                    role_arn: Some(require("role_arn")?),
                    oidc_provider_arn: Some(require("oidc_provider_arn")?),
                    oidc_token_file_path: Some(require("oidc_token_file_path")?),
                    sts: settings(),
                },
                &self.env,
            )?),
            _ => {
                return Err(Error::new(
                    ErrorKind::Profile,
                    format!("Invalid type option, support: access_key, ecs_ram_role, ram_role_arn, oidc_role_arn (profile \"{}\" in '{shown}')", self.section),
                ))
            }
        };
        Ok(built)
    }
}

impl CredentialsProvider for IniProfileProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.inner.resolve(NAME, || self.load()))
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        let file = self.path.as_ref()?.display().to_string();
        let inner = self.inner.current().and_then(|p| p.endpoint());
        Some(match inner {
            Some(e) => format!("{file} [{}] via {e}", self.section),
            None => format!("{file} [{}]", self.section),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> String {
        let dir = std::env::temp_dir().join(format!(
            "acn-ini-{}-{}",
            std::process::id(),
            crate::sts::nonce()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials");
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }

    #[tokio::test]
    async fn sections_by_name_env_and_default() {
        let path = write("[default]\ntype = access_key\naccess_key_id = d-id\naccess_key_secret = d-s\n[other]\ntype = access_key\naccess_key_id = o-id\naccess_key_secret = o-s\n");
        let env = Env::from_pairs([(vars::CREDENTIALS_FILE, path.clone())]);
        let c = IniProfileProvider::build(None, &env)
            .get_credentials()
            .await
            .unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.provider_name.as_str()),
            ("d-id", "profile/static_ak")
        );
        let c = IniProfileProvider::build(Some("other".into()), &env)
            .get_credentials()
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "o-id");
        let env = Env::from_pairs([
            (vars::CREDENTIALS_FILE, path),
            (vars::PROFILE, "other".to_owned()),
        ]);
        assert_eq!(
            IniProfileProvider::build(None, &env)
                .get_credentials()
                .await
                .unwrap()
                .access_key_id,
            "o-id"
        );
    }

    #[tokio::test]
    async fn errors_name_file_and_problem() {
        let path = write("[default]\ntype = access_key\naccess_key_id = only\n");
        let env = Env::from_pairs([(vars::CREDENTIALS_FILE, path.clone())]);
        let e = IniProfileProvider::build(None, &env)
            .get_credentials()
            .await
            .unwrap_err();
        assert_eq!(
            e.message(),
            format!("profile \"default\" in '{path}' has no access_key_secret")
        );
        let e = IniProfileProvider::build(Some("nope".into()), &env)
            .get_credentials()
            .await
            .unwrap_err();
        assert!(e
            .message()
            .starts_with("Can not find credential type for \"nope\""));
        let env = Env::from_pairs([(vars::CREDENTIALS_FILE, "/nonexistent/acn/credentials")]);
        let e = IniProfileProvider::build(None, &env)
            .get_credentials()
            .await
            .unwrap_err();
        assert!(e
            .message()
            .starts_with("reading credentials file '/nonexistent/acn/credentials' failed"));
    }
}
