//! One module per credential source. Providers are built from descriptions by
//! [`crate::builder::build`]; nothing here reads a profile file.

pub mod bearer;
pub mod chain;
pub mod cloud_sso;
pub mod custom;
pub mod ecs;
pub mod env;
pub mod external;
pub mod fixed;
pub mod oauth;
pub mod oidc;
pub mod profile_file;
pub mod ram_role_arn;
pub mod uri;
