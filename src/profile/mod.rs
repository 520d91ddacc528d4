//! Profile files, read and turned into descriptions: the Alibaba Cloud CLI's `config.json` and the
//! INI credentials file. Nothing here builds a provider.

pub mod cli;
pub mod command;
pub mod ini;
pub mod ini_profile;
