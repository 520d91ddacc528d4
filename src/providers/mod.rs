//! One module per credential source.

pub mod bearer;
pub mod chain;
pub mod cloud_sso;
pub mod ecs;
pub mod env;
pub mod external;
pub mod oauth;
pub mod oidc;
pub mod ram_role_arn;
pub mod static_ak;
pub mod static_sts;
pub mod uri;
