//! `oidc_role_arn`: AssumeRoleWithOIDC with a token file (Kubernetes RRSA), re-read at every refresh
//! because the kubelet rotates it.

use std::sync::Arc;

use crate::credentials::Credentials;
use crate::description::OidcSpec;
use crate::error::{Error, ErrorKind, Result};
use crate::provider::BoxFuture;
use crate::providers::ram_role_arn::role_options;
use crate::session::{Policy, Refresher, SessionProvider};
use crate::sts::{self, RoleOptions};

/// Provider name of OIDC role credentials.
pub const NAME: &str = "oidc_role_arn";

struct OidcRefresher {
    provider_arn: String,
    token_file: String,
    options: RoleOptions,
}

impl Refresher for OidcRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let path = std::path::Path::new(&self.token_file);
            let token =
                crate::fsio::read_text(path, crate::fsio::TOKEN_FILE_LIMIT).map_err(|e| {
                    Error::new(
                        ErrorKind::NotFound,
                        format!("cannot read the OIDC token file {}: {e}", self.token_file),
                    )
                })?;
            let token = token.trim();
            if token.is_empty() {
                return Err(Error::new(
                    ErrorKind::NotFound,
                    format!("the OIDC token file {} is empty", self.token_file),
                ));
            }
            sts::assume_role_with_oidc(&self.provider_arn, token, &self.options, NAME).await
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!(
            "{} (AssumeRoleWithOIDC {}, token file {})",
            self.options.endpoint.base(),
            self.options.role_arn,
            self.token_file
        ))
    }

    fn budget(&self) -> Option<std::time::Duration> {
        Some(self.options.connect_timeout + self.options.read_timeout)
    }
}

/// The caching `oidc_role_arn` provider.
pub fn provider(spec: &OidcSpec) -> SessionProvider {
    SessionProvider::new(
        Arc::new(OidcRefresher {
            provider_arn: spec.provider_arn.clone(),
            token_file: spec.token_file.clone(),
            options: role_options(&spec.sts),
        }),
        Policy::default(),
    )
}
