//! `ram_role_arn`: AssumeRole with credentials from another provider (an AccessKey, an STS
//! token, a CLI profile, a custom provider, another role ...).

use std::sync::Arc;

use crate::credentials::Credentials;
use crate::description::{Kind, RoleSpec, StsSpec};
use crate::error::Result;
use crate::provider::{BoxFuture, CredentialsProvider};
use crate::session::{Policy, Refresher, SessionProvider};
use crate::sts::{self, RoleOptions};

/// The request options of `spec`; the session name, when none is given, is
/// `credentials-nodejs-<ms since epoch>` as the official package makes it.
pub(crate) fn role_options(spec: &StsSpec) -> RoleOptions {
    RoleOptions {
        role_arn: spec.role_arn.clone(),
        role_session_name: spec
            .role_session_name
            .clone()
            .unwrap_or_else(|| format!("credentials-nodejs-{}", crate::time::epoch_millis())),
        duration_seconds: spec.duration_seconds,
        policy: spec.policy.clone(),
        endpoint: spec.endpoint.clone(),
        connect_timeout: spec.connect_timeout,
        read_timeout: spec.read_timeout,
    }
}

struct RamRoleArnRefresher {
    source: Arc<dyn CredentialsProvider>,
    options: RoleOptions,
    external_id: Option<String>,
}

impl Refresher for RamRoleArnRefresher {
    fn fetch(&self) -> BoxFuture<'_, Result<Credentials>> {
        Box::pin(async move {
            let source = self.source.get_credentials().await?;
            sts::assume_role(
                &source,
                &self.options,
                self.external_id.as_deref(),
                &self.provider_name(),
            )
            .await
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
            self.options.endpoint.base(),
            self.options.role_arn
        ))
    }

    fn budget(&self) -> Option<std::time::Duration> {
        Some(self.options.connect_timeout + self.options.read_timeout)
    }
}

/// The caching provider that assumes `role` with the credentials of `source`.
pub fn provider(source: Arc<dyn CredentialsProvider>, role: &RoleSpec) -> SessionProvider {
    SessionProvider::new(
        Arc::new(RamRoleArnRefresher {
            source,
            options: role_options(&role.sts),
            external_id: role.external_id.as_ref().map(|e| e.expose().to_owned()),
        }),
        Policy::default(),
    )
}
