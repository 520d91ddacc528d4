//! The options of `new Config({...})`, as the core sees them once the binding has checked types.

use std::fmt;

/// Every option the official `Config` accepts. Absent options are `None`.
#[derive(Clone, Default, PartialEq)]
pub struct Config {
    pub r#type: Option<String>,
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub bearer_token: Option<String>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub role_session_expiration: Option<f64>,
    pub policy: Option<String>,
    pub external_id: Option<String>,
    pub sts_endpoint: Option<String>,
    pub sts_region_id: Option<String>,
    pub enable_vpc: Option<bool>,
    pub oidc_provider_arn: Option<String>,
    pub oidc_token_file_path: Option<String>,
    pub credentials_uri: Option<String>,
    pub role_name: Option<String>,
    pub disable_imds_v1: Option<bool>,
    pub async_credential_update_enabled: Option<bool>,
    /// Read timeout in milliseconds.
    pub timeout: Option<f64>,
    /// Connect timeout in milliseconds.
    pub connect_timeout: Option<f64>,
    pub public_key_id: Option<String>,
    pub private_key_file: Option<String>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("Config")
            .field("type", &self.r#type)
            .field(
                "access_key_id",
                &self.access_key_id.as_deref().map(crate::secret::mask_id),
            )
            .field("access_key_secret", &redacted(&self.access_key_secret))
            .field("security_token", &redacted(&self.security_token))
            .field("bearer_token", &redacted(&self.bearer_token))
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("role_session_expiration", &self.role_session_expiration)
            .field("policy", &self.policy.as_ref().map(|_| "<set>"))
            .field("external_id", &redacted(&self.external_id))
            .field("sts_endpoint", &self.sts_endpoint)
            .field("sts_region_id", &self.sts_region_id)
            .field("enable_vpc", &self.enable_vpc)
            .field("oidc_provider_arn", &self.oidc_provider_arn)
            .field("oidc_token_file_path", &self.oidc_token_file_path)
            .field(
                "credentials_uri",
                &self.credentials_uri.as_ref().map(|_| "<set>"),
            )
            .field("role_name", &self.role_name)
            .field("disable_imds_v1", &self.disable_imds_v1)
            .field(
                "async_credential_update_enabled",
                &self.async_credential_update_enabled,
            )
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_no_secret() {
        let c = Config {
            access_key_id: Some("LTAI5tSECRETIDVALUE".into()),
            access_key_secret: Some("cfg-secret".into()),
            security_token: Some("cfg-token".into()),
            bearer_token: Some("cfg-bearer".into()),
            external_id: Some("cfg-external".into()),
            credentials_uri: Some("http://h/creds?token=cfg-uri-token".into()),
            ..Config::default()
        };
        let text = format!("{c:?}");
        for secret in [
            "cfg-secret",
            "cfg-token",
            "cfg-bearer",
            "cfg-external",
            "cfg-uri-token",
            "LTAI5tSECRETIDVALUE",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
    }
}
