//! `ram_role_arn`: AssumeRole with credentials from another provider (an AccessKey, an STS
//! token, a CLI profile, a custom provider, another role ...).

use std::sync::Arc;

use crate::credentials::Credentials;
use crate::credentials::{BoxFuture, CredentialsProvider};
use crate::description::{Kind, RoleSpec};
use crate::error::Result;
use crate::session::{Policy, Refresher};
use crate::shared_cache;
use crate::sts::{self, RoleRequest};

struct RamRoleArnRefresher {
    source: Arc<dyn CredentialsProvider>,
    request: RoleRequest,
}

impl Refresher for RamRoleArnRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let source = self.source.get_credentials().await?;
            sts::assume_role(&source, &self.request, &self.provider_name()).await
        })
    }

    fn provider_name(&self) -> String {
        format!(
            "{}/{}",
            Kind::RamRoleArn.provider_name(),
            self.source.provider_name()
        )
    }

    fn endpoint(&self) -> Option<String> {
        Some(format!(
            "{} (AssumeRole {})",
            self.request.endpoint().base(),
            self.request.role_arn()
        ))
    }

    fn budget(&self) -> Option<std::time::Duration> {
        Some(self.request.connect_timeout() + self.request.read_timeout())
    }
}

/// The caching provider that assumes `role` with the credentials of `source`, through the
/// shared cache when `shared` uses one.
pub fn provider(
    source: Arc<dyn CredentialsProvider>,
    role: &RoleSpec,
    shared: shared_cache::Plan,
) -> Arc<dyn CredentialsProvider> {
    let refresher = RamRoleArnRefresher {
        source,
        request: RoleRequest::new(role),
    };
    shared_cache::provider(refresher, shared, Policy::default())
}
