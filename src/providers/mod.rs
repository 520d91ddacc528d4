//! One module per credential source.

pub mod bearer;
pub mod chain;
pub mod env;
pub mod static_ak;
pub mod static_sts;
