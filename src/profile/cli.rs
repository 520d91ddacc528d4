//! The Alibaba Cloud CLI's `config.json` (`~/.aliyun/config.json` or `ALIBABA_CLOUD_CONFIG_FILE`):
//! reads it and makes the spec of a profile, in every mode the CLI writes. Profile chains
//! (`ChainableRamRoleArn` → `source_profile`) are followed in a loop with a list of the profiles
//! visited: a loop, or a chain deeper than [`MAX_ROLE_CHAIN`], is an error naming the profiles.

use std::path::Path;

use serde_json::Value;

use crate::description::resolve::{
    self, CloudSsoOptions, EcsOptions, OAuthOptions, OidcOptions, RoleOptions, StsOptions,
};
use crate::description::{
    AccessKey, ExternalSpec, ProfileLocation, ProviderSpec, RoleChain, MAX_ROLE_CHAIN,
};
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};

/// The description config.json `text` holds for `profile` (else its `current`), without reading
/// any file or making any request: the parser the fuzzer drives.
pub fn spec_from_text(text: &str, profile: Option<&str>, env: &Env) -> Result<ProviderSpec> {
    let path = Path::new("config.json");
    let conf = parse_config(text, path)?;
    profile_spec(&conf, path, profile, env).map(|(spec, _)| spec)
}

/// Why a walk along `source_profile` links stopped short.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainError {
    /// No profile has this name.
    Missing(String),
    /// The names visited, the repeated one last.
    Cycle(Vec<String>),
    /// One more role would make the chain longer than [`MAX_ROLE_CHAIN`]; at this profile.
    TooLong(String),
}

/// The profiles a chain from `start` goes through, in order: each `ChainableRamRoleArn` profile
/// leads to its `source_profile`; the first profile of another mode ends it. The one walk over
/// a role chain (the reader of a profile and the write-back both take it), in a loop with the
/// names visited, with one limit: [`MAX_ROLE_CHAIN`] roles.
pub fn source_chain<'a>(profiles: &'a [Value], start: &str) -> SourceChain<'a> {
    SourceChain {
        profiles,
        next: Some(start.to_owned()),
        visited: Vec::new(),
        roles: 0,
    }
}

/// The iterator [`source_chain`] returns: `(name, profile)` pairs, or the error that ends it.
pub struct SourceChain<'a> {
    profiles: &'a [Value],
    next: Option<String>,
    visited: Vec<String>,
    roles: usize,
}

impl<'a> Iterator for SourceChain<'a> {
    type Item = std::result::Result<(String, &'a Value), ChainError>;

    fn next(&mut self) -> Option<Self::Item> {
        let name = self.next.take()?;
        if self.visited.contains(&name) {
            let mut names = std::mem::take(&mut self.visited);
            names.push(name);
            return Some(Err(ChainError::Cycle(names)));
        }
        let Some(p) = self
            .profiles
            .iter()
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name.as_str()))
        else {
            return Some(Err(ChainError::Missing(name)));
        };
        let mode = p.get("mode").and_then(Value::as_str).unwrap_or("");
        if mode == "ChainableRamRoleArn" || mode == "RamRoleArn" {
            if self.roles >= MAX_ROLE_CHAIN {
                return Some(Err(ChainError::TooLong(name)));
            }
            self.roles += 1;
        }
        if mode == "ChainableRamRoleArn" {
            self.next = text(p, "source_profile");
        }
        self.visited.push(name.clone());
        Some(Ok((name, p)))
    }
}

fn profile_error(path: &Path, what: String) -> Error {
    Error::new(
        ErrorKind::Profile,
        format!("{what} in '{}'", path.display()),
    )
}

/// Reads and checks config.json.
pub fn load(path: &Path) -> Result<Value> {
    let text = crate::fsio::read_text(path, crate::fsio::PROFILE_FILE_LIMIT).map_err(|e| {
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

/// The description of `profile` (else the file's `current`) in `conf`, with the profile name used.
pub fn profile_spec(
    conf: &Value,
    path: &Path,
    profile: Option<&str>,
    env: &Env,
) -> Result<(ProviderSpec, String)> {
    let name = match profile {
        Some(n) => n.to_owned(),
        None => conf
            .get("current")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                profile_error(
                    path,
                    "no profile name given and no 'current' profile".into(),
                )
            })?
            .to_owned(),
    };
    let spec = Profiles { conf, path, env }.flatten(&name)?;
    Ok((spec, name))
}

struct Profiles<'a> {
    conf: &'a Value,
    path: &'a Path,
    env: &'a Env,
}

impl Profiles<'_> {
    fn require(&self, p: &Value, name: &str, key: &str) -> Result<String> {
        text(p, key)
            .ok_or_else(|| profile_error(self.path, format!("profile '{name}' has no {key}")))
    }

    fn key(&self, p: &Value, name: &str) -> Result<AccessKey> {
        Ok(AccessKey {
            id: self.require(p, name, "access_key_id")?,
            secret: self.require(p, name, "access_key_secret")?.into(),
        })
    }

    fn sts(p: &Value) -> StsOptions {
        StsOptions {
            role_session_name: text(p, "ram_session_name"),
            duration_seconds: number(p, "expired_seconds")
                .or_else(|| number(p, "duration_seconds")),
            policy: text(p, "policy"),
            sts_endpoint: text(p, "sts_endpoint"),
            sts_region_id: text(p, "sts_region"),
            enable_vpc: flag(p, "enable_vpc"),
            ..StsOptions::default()
        }
    }

    fn role(&self, p: &Value, name: &str) -> Result<crate::description::RoleSpec> {
        // `..Default` though every field is named today: an option with no key in config.json
        // needs no line here.
        #[allow(clippy::needless_update)]
        let options = RoleOptions {
            role_arn: Some(self.require(p, name, "ram_role_arn")?),
            external_id: text(p, "external_id"),
            sts: Self::sts(p),
            ..RoleOptions::default()
        };
        resolve::role(options, self.env)
    }

    /// The description of the chain from `start` ([`source_chain`]): each `ChainableRamRoleArn`
    /// profile adds a role, the first profile of another mode is the base.
    fn flatten(&self, start: &str) -> Result<ProviderSpec> {
        let profiles: &[Value] = self
            .conf
            .get("profiles")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice);
        let mut roles = Vec::new();
        let mut base = None;
        for step in source_chain(profiles, start) {
            let (name, p) = step.map_err(|e| self.chain_error(start, e))?;
            match p.get("mode").and_then(Value::as_str).unwrap_or("") {
                "ChainableRamRoleArn" => {
                    self.require(p, &name, "source_profile")?;
                    roles.push(self.role(p, &name)?);
                }
                "RamRoleArn" => {
                    let key = self.key(p, &name)?;
                    roles.push(self.role(p, &name)?);
                    base = Some(ProviderSpec::StaticAk(key));
                }
                mode => base = Some(self.base(p, &name, mode)?),
            }
        }
        let base = base.expect("a chain ends at a base or with an error");
        if roles.is_empty() {
            return Ok(base);
        }
        // Collected from the outermost role in; they are assumed from the base out.
        roles.reverse();
        Ok(ProviderSpec::AssumeRole(RoleChain {
            base: Box::new(base),
            roles,
        }))
    }

    fn chain_error(&self, start: &str, e: ChainError) -> Error {
        profile_error(
            self.path,
            match e {
                ChainError::Missing(name) => format!("unable to get profile with '{name}'"),
                ChainError::Cycle(names) => format!("source_profile cycle: {}", names.join(" -> ")),
                ChainError::TooLong(at) => format!(
                    "the source_profile chain from '{start}' assumes more than {MAX_ROLE_CHAIN} roles (at '{at}')"
                ),
            },
        )
    }

    fn location(&self, name: &str) -> Option<ProfileLocation> {
        Some(ProfileLocation {
            path: self.path.to_path_buf(),
            profile: name.to_owned(),
        })
    }

    /// A profile of a mode that uses no other profile.
    fn base(&self, p: &Value, name: &str, mode: &str) -> Result<ProviderSpec> {
        Ok(match mode {
            "AK" => ProviderSpec::StaticAk(self.key(p, name)?),
            "StsToken" => {
                let key = self.key(p, name)?;
                ProviderSpec::StaticSts(key, self.require(p, name, "sts_token")?.into())
            }
            "EcsRamRole" => {
                let options = EcsOptions {
                    role_name: text(p, "ram_role_name"),
                    ..EcsOptions::default()
                };
                ProviderSpec::Ecs(resolve::ecs(options, self.env)?)
            }
            "OIDC" => {
                #[allow(clippy::needless_update)] // as in `role`
                let options = OidcOptions {
                    role_arn: Some(self.require(p, name, "ram_role_arn")?),
                    provider_arn: Some(self.require(p, name, "oidc_provider_arn")?),
                    token_file: Some(self.require(p, name, "oidc_token_file")?),
                    sts: Self::sts(p),
                    ..OidcOptions::default()
                };
                ProviderSpec::Oidc(resolve::oidc(options, self.env)?)
            }
            "CloudSSO" => ProviderSpec::CloudSso(resolve::cloud_sso(CloudSsoOptions {
                sign_in_url: text(p, "cloud_sso_sign_in_url"),
                account_id: text(p, "cloud_sso_account_id"),
                access_config: text(p, "cloud_sso_access_config"),
                access_token: text(p, "access_token"),
                access_token_expire: number(p, "cloud_sso_access_token_expire").map(|v| v as i64),
            })?),
            "OAuth" => {
                let options = OAuthOptions {
                    site_type: text(p, "oauth_site_type"),
                    access_token: text(p, "oauth_access_token"),
                    refresh_token: text(p, "oauth_refresh_token"),
                    access_token_expire: number(p, "oauth_access_token_expire").map(|v| v as i64),
                    write_back: self.location(name),
                };
                ProviderSpec::OAuth(
                    resolve::oauth(options, self.env)
                        .map_err(|e| profile_error(self.path, e.message().to_owned()))?,
                )
            }
            "External" => {
                // Empty or missing is the splitter's `process_command is empty`, as the official says.
                let command = text(p, "process_command").unwrap_or_default();
                let argv = super::command::split(&command, cfg!(windows))
                    .map_err(|e| Error::new(ErrorKind::Profile, e))?;
                ProviderSpec::External(ExternalSpec {
                    argv,
                    write_back: self.location(name),
                })
            }
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
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::ProviderSpec as S;
    use crate::testing::no_env;

    fn spec(text: &str, profile: Option<&str>) -> Result<ProviderSpec> {
        spec_from_text(text, profile, &no_env())
    }

    #[test]
    fn ak_and_sts_modes_and_selection() {
        let conf = r#"{"current":"a","profiles":[
            {"name":"a","mode":"AK","access_key_id":"id-a","access_key_secret":"s-a"},
            {"name":"b","mode":"StsToken","access_key_id":"id-b","access_key_secret":"s-b","sts_token":"t-b"}]}"#;
        let S::StaticAk(key) = spec(conf, None).unwrap() else {
            panic!("not AK")
        };
        assert_eq!(key.id, "id-a");
        let S::StaticSts(key, token) = spec(conf, Some("b")).unwrap() else {
            panic!("not STS")
        };
        assert_eq!((key.id.as_str(), token.expose()), ("id-b", "t-b"));
    }

    #[test]
    fn bad_files_give_clear_errors() {
        let e = spec("{ not json", None).unwrap_err();
        assert!(
            e.message()
                .starts_with("parse aliyun cli config from 'config.json' failed"),
            "{e}"
        );
        assert!(!e.message().contains("not json"));
        assert!(spec(r#"{"profiles":[]}"#, None)
            .unwrap_err()
            .message()
            .starts_with("no any configured profiles in"));
        let conf = r#"{"current":"x","profiles":[{"name":"a","mode":"AK"}]}"#;
        assert!(spec(conf, None)
            .unwrap_err()
            .message()
            .starts_with("unable to get profile with 'x' in"));
        assert!(spec(conf, Some("a"))
            .unwrap_err()
            .message()
            .starts_with("profile 'a' has no access_key_id in"));
        let conf = r#"{"current":"a","profiles":[{"name":"a","mode":"Magic"}]}"#;
        assert!(spec(conf, None)
            .unwrap_err()
            .message()
            .starts_with("unsupported profile mode 'Magic' in profile 'a'"));
        let e = load(Path::new("/nonexistent/acn/config.json")).unwrap_err();
        assert!(e
            .message()
            .starts_with("reading aliyun cli config from '/nonexistent/acn/config.json' failed"));
    }

    /// `n` ChainableRamRoleArn profiles p0 -> p1 -> ... -> p{n-1}, then `last`.
    fn chain(n: usize, last: &str) -> String {
        let mut profiles: Vec<String> = (0..n)
            .map(|i| {
                format!(
                    r#"{{"name":"p{i}","mode":"ChainableRamRoleArn","source_profile":"p{}","ram_role_arn":"role-{i}"}}"#,
                    i + 1
                )
            })
            .collect();
        profiles.push(last.replace("NAME", &format!("p{n}")));
        format!(r#"{{"current":"p0","profiles":[{}]}}"#, profiles.join(","))
    }

    #[test]
    fn chains_are_flat_and_assumed_from_the_base_out() {
        let base = r#"{"name":"NAME","mode":"RamRoleArn","access_key_id":"i","access_key_secret":"s","ram_role_arn":"base-role"}"#;
        let S::AssumeRole(c) = spec(&chain(2, base), None).unwrap() else {
            panic!("not a role chain")
        };
        let arns: Vec<&str> = c.roles.iter().map(|r| r.sts.role_arn.as_str()).collect();
        assert_eq!(arns, ["base-role", "role-1", "role-0"]);
        assert!(matches!(*c.base, S::StaticAk(_)));
    }

    #[test]
    fn deep_chains_are_refused_without_recursion() {
        let base = r#"{"name":"NAME","mode":"AK","access_key_id":"i","access_key_secret":"s"}"#;
        let S::AssumeRole(c) = spec(&chain(MAX_ROLE_CHAIN, base), None).unwrap() else {
            panic!("not a role chain")
        };
        assert_eq!(c.roles.len(), MAX_ROLE_CHAIN);
        for n in [MAX_ROLE_CHAIN + 1, 1000, 20_000] {
            let e = spec(&chain(n, base), None).unwrap_err();
            assert!(
                e.message().starts_with(&format!(
                    "the source_profile chain from 'p0' assumes more than {MAX_ROLE_CHAIN} roles (at 'p{MAX_ROLE_CHAIN}')"
                )),
                "{e}"
            );
        }
    }

    #[test]
    fn chain_cycles_are_errors_not_overflows() {
        let conf = r#"{"current":"a","profiles":[
            {"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"r"},
            {"name":"b","mode":"ChainableRamRoleArn","source_profile":"c","ram_role_arn":"r"},
            {"name":"c","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"r"}]}"#;
        let e = spec(conf, None).unwrap_err();
        assert!(
            e.message()
                .starts_with("source_profile cycle: a -> b -> c -> a in"),
            "{e}"
        );
        let conf = r#"{"current":"a","profiles":[{"name":"a","mode":"ChainableRamRoleArn","source_profile":"a","ram_role_arn":"r"}]}"#;
        assert!(spec(conf, None)
            .unwrap_err()
            .message()
            .contains("cycle: a -> a"));
    }
}
