//! The INI credentials file (`~/.alibabacloud/credentials` or `ALIBABA_CLOUD_CREDENTIALS_FILE`):
//! reads it and makes the spec of a section.

use std::collections::HashMap;
use std::path::Path;

use crate::description::resolve::{self, EcsOptions, OidcOptions, RoleOptions, StsOptions};
use crate::description::{AccessKey, Kind, ProviderSpec};
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};

/// Reads the file at `path` and makes the spec of its `section`.
pub fn load(path: &Path, section: &str, env: &Env) -> Result<ProviderSpec> {
    let shown = path.display().to_string();
    let text = crate::fsio::read_text(path, crate::fsio::PROFILE_FILE_LIMIT).map_err(|e| {
        Error::new(
            ErrorKind::Profile,
            format!("reading credentials file '{shown}' failed: {e}"),
        )
    })?;
    section_spec(&text, &shown, section, env)
}

/// Describes `section` of the INI `text` (`shown` names the file in errors).
pub fn section_spec(text: &str, shown: &str, section: &str, env: &Env) -> Result<ProviderSpec> {
    let ini = super::ini::parse(text).map_err(|e| {
        Error::new(
            ErrorKind::Profile,
            format!("parse credentials file '{shown}' failed: {e}"),
        )
    })?;
    let empty = HashMap::new();
    let values = ini.get(section).unwrap_or(&empty);
    let get = |k: &str| values.get(k).filter(|v| !v.is_empty()).cloned();
    let require = |k: &str| {
        get(k).ok_or_else(|| {
            Error::new(
                ErrorKind::Profile,
                format!("profile \"{section}\" in '{shown}' has no {k}"),
            )
        })
    };
    let key = || -> Result<AccessKey> {
        Ok(AccessKey {
            id: require("access_key_id")?,
            secret: require("access_key_secret")?.into(),
        })
    };
    let sts = || StsOptions {
        role_session_name: get("role_session_name"),
        policy: get("policy"),
        ..StsOptions::default()
    };
    let type_name = get("type").ok_or_else(|| {
        Error::new(
            ErrorKind::Profile,
            format!("Can not find credential type for \"{section}\" in '{shown}'"),
        )
    })?;
    Ok(match Kind::from_type(&type_name) {
        Some(Kind::AccessKey) => ProviderSpec::StaticAk(key()?),
        Some(Kind::EcsRamRole) => {
            let options = EcsOptions {
                role_name: get("role_name"),
                ..EcsOptions::default()
            };
            ProviderSpec::Ecs(resolve::ecs(options, env)?)
        }
        Some(Kind::RamRoleArn) => {
            let base = ProviderSpec::StaticAk(key()?);
            let role = resolve::role(
                RoleOptions {
                    role_arn: Some(require("role_arn")?),
                    sts: sts(),
                    // An option with no key in this file needs no line here.
                    ..RoleOptions::default()
                },
                env,
            )?;
            base.assume(role)?
        }
        Some(Kind::OidcRoleArn) => {
            // `..Default` though every field is named today: an option with no key in this file
            // needs no line here.
            #[allow(clippy::needless_update)]
            let options = OidcOptions {
                role_arn: Some(require("role_arn")?),
                provider_arn: Some(require("oidc_provider_arn")?),
                token_file: Some(require("oidc_token_file_path")?),
                sts: sts(),
                ..OidcOptions::default()
            };
            ProviderSpec::Oidc(resolve::oidc(options, env)?)
        }
        _ => {
            // The official message, then the type this package adds and where.
            return Err(Error::new(
                ErrorKind::Profile,
                format!("Invalid type option, support: access_key, ecs_ram_role, ram_role_arn, oidc_role_arn (profile \"{section}\" in '{shown}')"),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::no_env;

    fn spec(text: &str, section: &str) -> Result<ProviderSpec> {
        section_spec(text, "creds", section, &no_env())
    }

    #[test]
    fn sections_by_name() {
        let text = "[default]\ntype = access_key\naccess_key_id = d-id\naccess_key_secret = d-s\n[other]\ntype = access_key\naccess_key_id = o-id\naccess_key_secret = o-s\n";
        let ProviderSpec::StaticAk(key) = spec(text, "default").unwrap() else {
            panic!("not AK")
        };
        assert_eq!(key.id, "d-id");
        let ProviderSpec::StaticAk(key) = spec(text, "other").unwrap() else {
            panic!("not AK")
        };
        assert_eq!(key.id, "o-id");
    }

    #[test]
    fn errors_name_file_and_problem() {
        let text = "[default]\ntype = access_key\naccess_key_id = only\n";
        assert_eq!(
            spec(text, "default").unwrap_err().message(),
            "profile \"default\" in 'creds' has no access_key_secret"
        );
        assert!(spec(text, "nope")
            .unwrap_err()
            .message()
            .starts_with("Can not find credential type for \"nope\""));
        let e = load(
            Path::new("/nonexistent/acn/credentials"),
            "default",
            &no_env(),
        )
        .unwrap_err();
        assert!(e
            .message()
            .starts_with("reading credentials file '/nonexistent/acn/credentials' failed"));
    }
}
