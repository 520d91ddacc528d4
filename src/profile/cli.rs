//! `cli_profile`: credentials from the Alibaba Cloud CLI's `~/.aliyun/config.json` (or
//! `ALIBABA_CLOUD_CONFIG_FILE`), in every mode the CLI writes. The file is read at the first
//! `getCredentials()`; a failure is retried at the next call.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::credentials::Credentials;
use crate::env::{vars, Env};
use crate::error::{Error, ErrorKind, Result};
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::providers::cloud_sso::{self, CloudSsoOptions};
use crate::providers::ecs::{self, EcsOptions};
use crate::providers::external;
use crate::providers::oauth::{self, OAuthOptions, WriteBack};
use crate::providers::oidc::{self, OidcOptions};
use crate::providers::ram_role_arn::{self, RamRoleArnOptions, StsSettings};
use crate::providers::static_ak::StaticAkProvider;
use crate::providers::static_sts::StaticStsProvider;

/// Provider name of CLI-profile credentials.
pub const NAME: &str = "cli_profile";
/// Overrides the OAuth sign-in base URL (private deployments, tests).
pub const OAUTH_SIGN_IN_URL_VAR: &str = "ALIBABA_CLOUD_OAUTH_SIGN_IN_URL";

/// Credentials from a CLI profile.
pub struct CliProfileProvider {
    path: Option<PathBuf>,
    profile_name: Option<String>,
    env: Env,
    inner: super::LazyProvider,
    /// The profile the file's `current` named, once read.
    resolved: Mutex<Option<String>>,
}

impl std::fmt::Debug for CliProfileProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CliProfileProvider")
            .field("path", &self.path)
            .field("profile_name", &self.profile_name)
            .finish_non_exhaustive()
    }
}

/// The config.json path: `ALIBABA_CLOUD_CONFIG_FILE`, else `~/.aliyun/config.json`.
pub fn config_path(env: &Env) -> Option<PathBuf> {
    env.get(vars::CONFIG_FILE)
        .map(PathBuf::from)
        .or_else(|| super::home_dir(env).map(|h| h.join(".aliyun").join("config.json")))
}

impl CliProfileProvider {
    /// The provider for `profile_name` (else `ALIBABA_CLOUD_PROFILE`, else the file's `current`);
    /// refused when `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`.
    pub fn build(profile_name: Option<String>, env: &Env) -> Result<Self> {
        if env.flag(vars::CLI_PROFILE_DISABLED) {
            return Err(Error::new(
                ErrorKind::Disabled,
                "the CLI profile is disabled",
            ));
        }
        Ok(CliProfileProvider {
            path: config_path(env),
            profile_name: profile_name
                .filter(|n| !n.is_empty())
                .or_else(|| env.get(vars::PROFILE)),
            env: env.clone(),
            inner: super::LazyProvider::default(),
            resolved: Mutex::new(None),
        })
    }

    fn load(&self) -> Result<Arc<dyn CredentialsProvider>> {
        let path = self.path.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::Profile,
                "cannot find the home directory for ~/.aliyun/config.json",
            )
        })?;
        let conf = load(&path)?;
        let name = match &self.profile_name {
            Some(n) => n.clone(),
            None => conf
                .get("current")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| {
                    profile_error(
                        &path,
                        "no profile name given and no 'current' profile".into(),
                    )
                })?
                .to_owned(),
        };
        *self.resolved.lock().unwrap_or_else(|e| e.into_inner()) = Some(name.clone());
        let built = Modes {
            conf: &conf,
            path: &path,
            env: &self.env,
        }
        .provider(&name, &mut Vec::new())?;
        Ok(built)
    }
}

impl CredentialsProvider for CliProfileProvider {
    fn get_credentials(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(self.inner.resolve(NAME, || self.load()))
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        let file = self.path.as_ref()?.display().to_string();
        let resolved = self
            .resolved
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let profile = resolved
            .or_else(|| self.profile_name.clone())
            .unwrap_or_else(|| "<current>".to_owned());
        let inner = self.inner.current().and_then(|p| p.endpoint());
        Some(match inner {
            Some(e) => format!("{file} (profile {profile}) via {e}"),
            None => format!("{file} (profile {profile})"),
        })
    }
}

/// The provider config.json `text` describes for `profile` (else its `current`), without reading
/// any file or making any request: the parser and mode builder the fuzzer drives.
pub fn provider_from_text(
    text: &str,
    profile: Option<&str>,
    env: &Env,
) -> Result<Arc<dyn CredentialsProvider>> {
    let path = Path::new("config.json");
    let conf = parse_config(text, path)?;
    let name = match profile {
        Some(n) => n.to_owned(),
        None => conf
            .get("current")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
    };
    Modes {
        conf: &conf,
        path,
        env,
    }
    .provider(&name, &mut Vec::new())
}

fn profile_error(path: &Path, what: String) -> Error {
    Error::new(
        ErrorKind::Profile,
        format!("{what} in '{}'", path.display()),
    )
}

/// Reads and checks config.json.
pub fn load(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::new(
            ErrorKind::Profile,
            format!(
                "reading aliyun cli config from '{}' failed: {e}",
                path.display()
            ),
        )
    })?;
    parse_config(&text, path)
}

/// Parses and checks the text of config.json (`path` only names it in errors).
pub fn parse_config(text: &str, path: &Path) -> Result<Value> {
    // The serde message gives line and column only, never the file's content (it holds secrets).
    let conf: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            ErrorKind::Profile,
            format!(
                "parse aliyun cli config from '{}' failed: {}",
                path.display(),
                crate::error::describe_json(&e)
            ),
        )
    })?;
    let has_profiles = conf
        .get("profiles")
        .and_then(Value::as_array)
        .is_some_and(|p| !p.is_empty());
    if !has_profiles {
        return Err(Error::new(
            ErrorKind::Profile,
            format!("no any configured profiles in '{}'", path.display()),
        ));
    }
    Ok(conf)
}

struct Modes<'a> {
    conf: &'a Value,
    path: &'a Path,
    env: &'a Env,
}

// Field readers: the CLI writes strings, numbers and booleans; accept each where it makes sense.
fn text(p: &Value, key: &str) -> Option<String> {
    match p.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn number(p: &Value, key: &str) -> Option<f64> {
    match p.get(key)? {
        Value::Number(n) => n.as_f64().filter(|v| *v != 0.0),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|v| *v != 0.0),
        _ => None,
    }
}

fn flag(p: &Value, key: &str) -> Option<bool> {
    match p.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(s.eq_ignore_ascii_case("true")),
        _ => None,
    }
}

impl Modes<'_> {
    fn require(&self, p: &Value, name: &str, key: &str) -> Result<String> {
        text(p, key)
            .ok_or_else(|| profile_error(self.path, format!("profile '{name}' has no {key}")))
    }

    fn provider(
        &self,
        name: &str,
        visiting: &mut Vec<String>,
    ) -> Result<Arc<dyn CredentialsProvider>> {
        if visiting.iter().any(|v| v == name) {
            visiting.push(name.to_owned());
            return Err(profile_error(
                self.path,
                format!("source_profile cycle: {}", visiting.join(" -> ")),
            ));
        }
        visiting.push(name.to_owned());
        let p = self
            .conf
            .get("profiles")
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter()
                    .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            })
            .ok_or_else(|| {
                profile_error(self.path, format!("unable to get profile with '{name}'"))
            })?;
        let mode = p.get("mode").and_then(Value::as_str).unwrap_or("");
        let no_env = Env::from_pairs::<&str, &str>([]);
        let settings = |p: &Value| StsSettings {
            role_session_name: text(p, "ram_session_name"),
            duration_seconds: number(p, "expired_seconds")
                .or_else(|| number(p, "duration_seconds")),
            policy: text(p, "policy"),
            sts_endpoint: text(p, "sts_endpoint"),
            sts_region_id: text(p, "sts_region"),
            enable_vpc: flag(p, "enable_vpc"),
            connect_timeout: None,
            read_timeout: None,
        };
        let role_options = |p: &Value| RamRoleArnOptions {
            role_arn: text(p, "ram_role_arn"),
            external_id: text(p, "external_id"),
            sts: settings(p),
        };
        let provider: Arc<dyn CredentialsProvider> = match mode {
            "AK" => Arc::new(StaticAkProvider::build(
                Some(self.require(p, name, "access_key_id")?),
                Some(self.require(p, name, "access_key_secret")?),
                &no_env,
            )?),
            "StsToken" => Arc::new(StaticStsProvider::build(
                Some(self.require(p, name, "access_key_id")?),
                Some(self.require(p, name, "access_key_secret")?),
                Some(self.require(p, name, "sts_token")?),
                &no_env,
            )?),
            "RamRoleArn" => {
                let source = Arc::new(StaticAkProvider::build(
                    Some(self.require(p, name, "access_key_id")?),
                    Some(self.require(p, name, "access_key_secret")?),
                    &no_env,
                )?);
                self.require(p, name, "ram_role_arn")?;
                Arc::new(ram_role_arn::build(source, role_options(p), self.env)?)
            }
            "ChainableRamRoleArn" => {
                let source_name = self.require(p, name, "source_profile")?;
                let source = self.provider(&source_name, visiting)?;
                self.require(p, name, "ram_role_arn")?;
                Arc::new(ram_role_arn::build(source, role_options(p), self.env)?)
            }
            "EcsRamRole" => Arc::new(ecs::build(
                EcsOptions {
                    role_name: text(p, "ram_role_name"),
                    ..EcsOptions::default()
                },
                self.env,
            )?),
            "OIDC" => Arc::new(oidc::build(
                OidcOptions {
                    role_arn: Some(self.require(p, name, "ram_role_arn")?),
                    oidc_provider_arn: Some(self.require(p, name, "oidc_provider_arn")?),
                    oidc_token_file_path: Some(self.require(p, name, "oidc_token_file")?),
                    sts: settings(p),
                },
                self.env,
            )?),
            "CloudSSO" => Arc::new(cloud_sso::build(CloudSsoOptions {
                sign_in_url: text(p, "cloud_sso_sign_in_url"),
                account_id: text(p, "cloud_sso_account_id"),
                access_config: text(p, "cloud_sso_access_config"),
                access_token: text(p, "access_token"),
                access_token_expire: number(p, "cloud_sso_access_token_expire").map(|v| v as i64),
            })?),
            "OAuth" => {
                let site_type = text(p, "oauth_site_type").unwrap_or_default();
                let (default_url, client_id) = oauth::site(&site_type).ok_or_else(|| {
                    profile_error(
                        self.path,
                        "invalid OAuth site type, support CN or INTL".into(),
                    )
                })?;
                let sign_in_url = self
                    .env
                    .get(OAUTH_SIGN_IN_URL_VAR)
                    .unwrap_or_else(|| default_url.to_owned());
                Arc::new(oauth::build(OAuthOptions {
                    sign_in_url,
                    client_id: client_id.to_owned(),
                    access_token: text(p, "oauth_access_token"),
                    refresh_token: text(p, "oauth_refresh_token"),
                    access_token_expire: number(p, "oauth_access_token_expire").map(|v| v as i64),
                    write_back: Some(WriteBack {
                        path: self.path.to_path_buf(),
                        profile: name.to_owned(),
                    }),
                })?)
            }
            "External" => Arc::new(external::build(
                &self.require(p, name, "process_command")?,
                Some(WriteBack {
                    path: self.path.to_path_buf(),
                    profile: name.to_owned(),
                }),
            )?),
            "" => {
                return Err(profile_error(
                    self.path,
                    format!("profile '{name}' has no mode"),
                ))
            }
            other => {
                return Err(profile_error(
                    self.path,
                    format!("unsupported profile mode '{other}' in profile '{name}'"),
                ))
            }
        };
        visiting.pop();
        Ok(provider)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(conf: &str) -> (PathBuf, Env) {
        let dir = std::env::temp_dir().join(format!(
            "acn-cli-{}-{}",
            std::process::id(),
            crate::sts::nonce()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.json");
        std::fs::write(&path, conf).unwrap();
        let env = Env::from_pairs([(vars::CONFIG_FILE, path.display().to_string())]);
        (path, env)
    }

    async fn get(env: &Env, profile: Option<&str>) -> Result<Credentials> {
        CliProfileProvider::build(profile.map(str::to_owned), env)?
            .get_credentials()
            .await
    }

    #[tokio::test]
    async fn ak_and_sts_modes_and_selection() {
        let (_, env) = write(
            r#"{"current":"a","profiles":[
            {"name":"a","mode":"AK","access_key_id":"id-a","access_key_secret":"s-a"},
            {"name":"b","mode":"StsToken","access_key_id":"id-b","access_key_secret":"s-b","sts_token":"t-b"}]}"#,
        );
        let c = get(&env, None).await.unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.provider_name.as_str()),
            ("id-a", "cli_profile/static_ak")
        );
        let c = get(&env, Some("b")).await.unwrap();
        assert_eq!(
            (c.access_key_id.as_str(), c.provider_name.as_str()),
            ("id-b", "cli_profile/static_sts")
        );
        let mut pairs = vec![(vars::PROFILE.to_owned(), "b".to_owned())];
        pairs.push((
            vars::CONFIG_FILE.to_owned(),
            env.get(vars::CONFIG_FILE).unwrap(),
        ));
        let c = get(&Env::from_pairs(pairs), None).await.unwrap();
        assert_eq!(c.access_key_id, "id-b");
    }

    #[tokio::test]
    async fn bad_files_give_clear_errors() {
        let (path, env) = write("{ not json");
        let e = get(&env, None).await.unwrap_err();
        assert!(
            e.message().starts_with(&format!(
                "parse aliyun cli config from '{}' failed",
                path.display()
            )),
            "{e}"
        );
        assert!(!e.message().contains("not json"));
        let (_, env) = write(r#"{"profiles":[]}"#);
        assert!(get(&env, None)
            .await
            .unwrap_err()
            .message()
            .starts_with("no any configured profiles in"));
        let (_, env) = write(r#"{"current":"x","profiles":[{"name":"a","mode":"AK"}]}"#);
        assert!(get(&env, None)
            .await
            .unwrap_err()
            .message()
            .starts_with("unable to get profile with 'x' in"));
        assert!(get(&env, Some("a"))
            .await
            .unwrap_err()
            .message()
            .starts_with("profile 'a' has no access_key_id in"));
        let (_, env) = write(r#"{"current":"a","profiles":[{"name":"a","mode":"Magic"}]}"#);
        assert!(get(&env, None)
            .await
            .unwrap_err()
            .message()
            .starts_with("unsupported profile mode 'Magic' in profile 'a'"));
        let env = Env::from_pairs([(vars::CONFIG_FILE, "/nonexistent/acn/config.json")]);
        assert!(get(&env, None)
            .await
            .unwrap_err()
            .message()
            .starts_with("reading aliyun cli config from '/nonexistent/acn/config.json' failed"));
    }

    #[tokio::test]
    async fn chain_cycles_are_errors_not_overflows() {
        let (_, env) = write(
            r#"{"current":"a","profiles":[
            {"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"r"},
            {"name":"b","mode":"ChainableRamRoleArn","source_profile":"c","ram_role_arn":"r"},
            {"name":"c","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"r"}]}"#,
        );
        let e = get(&env, None).await.unwrap_err();
        assert!(
            e.message()
                .starts_with("source_profile cycle: a -> b -> c -> a in"),
            "{e}"
        );
        let (_, env) = write(
            r#"{"current":"a","profiles":[{"name":"a","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"r"}]}"#,
        );
        assert!(get(&env, None)
            .await
            .unwrap_err()
            .message()
            .contains("cycle: a -> a"));
    }

    #[test]
    fn disabled_by_env() {
        let env = Env::from_pairs([(vars::CLI_PROFILE_DISABLED, "true")]);
        assert_eq!(
            CliProfileProvider::build(None, &env).unwrap_err().message(),
            "the CLI profile is disabled"
        );
    }
}
