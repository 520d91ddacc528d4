//! `oidc_role_arn`: AssumeRoleWithOIDC with a token file (Kubernetes RRSA), re-read at every refresh
//! because the kubelet rotates it.

use std::sync::Arc;

use crate::credentials::BoxFuture;
use crate::credentials::Credentials;
use crate::description::{Kind, OidcSpec};
use crate::error::{Error, ErrorKind, Result};
use crate::session::{Policy, Refresher};
use crate::sts::{self, RoleRequest};

/// The provider name, as the official package gives it.
const NAME: &str = Kind::OidcRoleArn.provider_name();

struct OidcRefresher {
    provider_arn: String,
    token_file: String,
    request: RoleRequest,
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
            sts::assume_role_with_oidc(&self.provider_arn, token, &self.request, NAME).await
        })
    }

    fn provider_name(&self) -> String {
        NAME.to_owned()
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!(
            "{} (AssumeRoleWithOIDC {}, token file {})",
            self.request.endpoint().base(),
            self.request.role_arn(),
            self.token_file
        ))
    }

    fn budget(&self) -> Option<std::time::Duration> {
        Some(self.request.connect_timeout() + self.request.read_timeout())
    }
}

/// The caching `oidc_role_arn` provider.
pub fn provider(
    spec: &OidcSpec,
    shared: crate::shared_cache::Plan,
) -> Arc<dyn crate::credentials::CredentialsProvider> {
    let refresher = OidcRefresher {
        provider_arn: spec.provider_arn.clone(),
        token_file: spec.token_file.clone(),
        request: RoleRequest::with_oidc(&spec.sts),
    };
    crate::shared_cache::provider(refresher, shared, Policy::default())
}
