//! The one place that turns a description into a provider. Every path into the library (a
//! `Config`, a provider builder, a CLI profile, an INI section, the default chain) ends here.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::credentials::{CredentialsProvider, Step};
use crate::description::{ChainStep, CustomSource, Kind, ProfileFile, ProviderSpec, RoleChain};
use crate::env::Env;
use crate::error::{Error, ErrorKind, Result};
use crate::profile;
use crate::providers::{
    bearer::BearerProvider, chain::DefaultChain, cloud_sso, custom::CustomProvider, ecs,
    env::EnvProvider, external, fixed::FixedProvider, oauth, oidc, profile_file::Loaded,
    profile_file::ProfileFileProvider, ram_role_arn, uri,
};
use crate::registry;
use crate::shared_cache;

/// The provider `spec` describes: the live one of the same identity when there is one (see
/// [`crate::registry`]). `env` is what profile files read later are resolved against.
pub fn build(spec: &ProviderSpec, env: &Env) -> Arc<dyn CredentialsProvider> {
    if registry::shareable(spec) {
        registry_for(env).shared(spec, || build_new(spec, env))
    } else {
        build_new(spec, env)
    }
}

/// The registry of the providers built under `env`'s shared-cache setting, so a credential whose
/// option turns the cache off never shares a provider that writes to one (nor the reverse): the
/// process's (with its sweeper) for the setting of the process's environment, the common case;
/// one per other setting an option names, kept for the process's life (those sweep as they are
/// used, a few entries per call, without a sweeper task).
fn registry_for(env: &Env) -> &'static registry::Registry {
    let dir = shared_cache::dir_of(env);
    if dir == shared_cache::dir_of(&Env::process()) {
        return registry::process();
    }
    static BY_SETTING: OnceLock<Mutex<HashMap<Option<PathBuf>, &'static registry::Registry>>> =
        OnceLock::new();
    let mut by_setting = BY_SETTING
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    by_setting
        .entry(dir)
        .or_insert_with(|| Box::leak(Box::new(registry::Registry::default())))
}

/// The shared-cache plan of a session layer, its description made only when the cache is on.
fn shared_plan(env: &Env, spec: impl FnOnce() -> ProviderSpec) -> shared_cache::Plan {
    match shared_cache::dir_of(env) {
        None => shared_cache::Plan::Off,
        Some(_) => shared_cache::plan(&spec(), env),
    }
}

fn build_new(spec: &ProviderSpec, env: &Env) -> Arc<dyn CredentialsProvider> {
    match spec {
        ProviderSpec::StaticAk(key) => Arc::new(FixedProvider::access_key(key.clone())),
        ProviderSpec::StaticSts(key, token) => {
            Arc::new(FixedProvider::sts(key.clone(), token.clone()))
        }
        ProviderSpec::Bearer(token) => Arc::new(BearerProvider::new(token.clone())),
        ProviderSpec::Env => Arc::new(EnvProvider::new(env.clone())),
        ProviderSpec::AssumeRole(chain) => {
            // A loop, not recursion: the chain is as long as outside data makes it.
            let mut provider = match &*chain.base {
                // Many tenants' roles over one AccessKey share one (stateless) provider of it
                // through the registry, not a copy of the key each.
                base @ (ProviderSpec::StaticAk(_) | ProviderSpec::StaticSts(..)) => {
                    registry_for(env).shared(base, || build_new(base, env))
                }
                base => build(base, env),
            };
            for (i, role) in chain.roles.iter().enumerate() {
                // Each role's session is its own identity in the shared cache: the chain up to it.
                let layer = shared_plan(env, || {
                    ProviderSpec::AssumeRole(RoleChain {
                        base: chain.base.clone(),
                        roles: chain.roles[..=i].to_vec(),
                    })
                });
                provider = ram_role_arn::provider(provider, role, layer);
            }
            provider
        }
        ProviderSpec::Oidc(s) => oidc::provider(s, shared_cache::plan(spec, env)),
        ProviderSpec::Ecs(s) => ecs::provider(s, shared_cache::plan(spec, env)),
        ProviderSpec::Uri(s) => uri::provider(s, shared_cache::plan(spec, env)),
        ProviderSpec::CloudSso(s) => cloud_sso::provider(s),
        ProviderSpec::OAuth(s) => oauth::provider(s),
        ProviderSpec::External(s) => Arc::new(external::provider(s)),
        ProviderSpec::CliProfile(file) => Arc::new(cli_profile(file, env)),
        ProviderSpec::IniProfile(file) => Arc::new(ini_profile(file, env)),
        ProviderSpec::Default(steps) => Arc::new(default_chain(steps, env)),
        ProviderSpec::Custom(source) => custom_provider(source),
    }
}

/// The providers callers supplied, by the id their description holds. Weak: a provider lives as
/// long as something that uses it (its JavaScript object, a role assumed over it) holds it, never
/// because this table does.
fn custom_table() -> &'static Mutex<HashMap<u64, Weak<dyn CredentialsProvider>>> {
    static TABLE: OnceLock<Mutex<HashMap<u64, Weak<dyn CredentialsProvider>>>> = OnceLock::new();
    TABLE.get_or_init(Default::default)
}

/// The description of `provider`, a caller's own provider named `name`: an id into the table
/// [`build`] reads it back from. Entries no one holds any more are swept here.
pub fn custom(name: String, provider: &Arc<dyn CredentialsProvider>) -> ProviderSpec {
    static NEXT_ID: AtomicU64 = AtomicU64::new(1);
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let mut table = custom_table().lock().unwrap_or_else(|e| e.into_inner());
    table.retain(|_, p| p.strong_count() > 0);
    table.insert(id, Arc::downgrade(provider));
    ProviderSpec::Custom(CustomSource { name, id })
}

/// The caller's provider `source` names. Whoever holds its description also holds the provider,
/// so it is found; were it gone, the provider built fails at each call instead.
fn custom_provider(source: &CustomSource) -> Arc<dyn CredentialsProvider> {
    let table = custom_table().lock().unwrap_or_else(|e| e.into_inner());
    if let Some(provider) = table.get(&source.id).and_then(Weak::upgrade) {
        return provider;
    }
    Arc::new(CustomProvider::new(
        source.name.clone(),
        Box::new(|| Box::pin(async { Err("the provider is no longer held".to_owned()) })),
    ))
}

fn no_home(file: &str) -> Error {
    Error::new(
        ErrorKind::Profile,
        format!("cannot find the home directory for {file}"),
    )
}

/// A provider that reads config.json at its first call. Profiles are leaves of the description
/// tree: what a profile describes never names another profile file, so this never recurses.
fn cli_profile(file: &ProfileFile, env: &Env) -> ProfileFileProvider {
    let location =
        |path: &PathBuf, profile: &str| format!("{} (profile {profile})", path.display());
    let shown = file
        .path
        .as_ref()
        .map(|path| location(path, file.profile.as_deref().unwrap_or("<current>")));
    let (file, env) = (file.clone(), env.clone());
    ProfileFileProvider::new(Kind::CliProfile.provider_name(), shown, move || {
        let path = file
            .path
            .as_ref()
            .ok_or_else(|| no_home("~/.aliyun/config.json"))?;
        let conf = profile::cli::load(path)?;
        let (spec, name) = profile::cli::profile_spec(&conf, path, file.profile.as_deref(), &env)?;
        Ok(Loaded {
            provider: build(&spec, &env),
            location: location(path, &name),
        })
    })
}

/// A provider that reads the INI credentials file at its first call.
fn ini_profile(file: &ProfileFile, env: &Env) -> ProfileFileProvider {
    let section = file.profile.clone().unwrap_or_else(|| "default".to_owned());
    let shown = file
        .path
        .as_ref()
        .map(|path| format!("{} [{section}]", path.display()));
    let (path, env) = (file.path.clone(), env.clone());
    ProfileFileProvider::new(Kind::IniProfile.provider_name(), shown.clone(), move || {
        let path = path
            .as_ref()
            .ok_or_else(|| no_home("~/.alibabacloud/credentials"))?;
        let spec = profile::ini_profile::load(path, &section, &env)?;
        Ok(Loaded {
            provider: build(&spec, &env),
            location: shown.clone().unwrap_or_default(),
        })
    })
}

fn default_chain(steps: &[ChainStep], env: &Env) -> DefaultChain {
    let mut built = Vec::with_capacity(steps.len());
    let mut skipped = Vec::new();
    for step in steps {
        match step {
            ChainStep::Try(spec) => built.push(build(spec, env)),
            ChainStep::Skipped { provider, reason } => skipped.push((
                built.len(),
                Step {
                    provider: provider.clone(),
                    outcome: "skipped",
                    reason: Some(reason.clone()),
                },
            )),
        }
    }
    DefaultChain::new(built, skipped)
}

/// The provider config.json `text` describes for `profile` (else its `current`), without reading
/// any file or making any request: what the fuzzer drives.
pub fn from_cli_text(
    text: &str,
    profile: Option<&str>,
    env: &Env,
) -> Result<Arc<dyn CredentialsProvider>> {
    let spec = profile::cli::spec_from_text(text, profile, env)?;
    Ok(build(&spec, env))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::description::{from_builder, from_config, Options};
    use crate::env::vars;

    const CLI_AK: &str = r#""access_key_id":"id","access_key_secret":"secret""#;

    fn env() -> Env {
        Env::from_pairs([(vars::ECS_METADATA_SERVICE_ENDPOINT, "http://127.0.0.1:9")])
    }

    fn config(kind: &str, fill: impl FnOnce(&mut Options)) -> ProviderSpec {
        let mut c = Options {
            type_name: Some(kind.into()),
            ..Options::default()
        };
        fill(&mut c);
        from_config(Some(c), &env()).unwrap()
    }

    fn builder(
        name: &str,
        fill: impl FnOnce(&mut Options),
        source: Option<ProviderSpec>,
    ) -> ProviderSpec {
        let mut o = Options::default();
        fill(&mut o);
        from_builder(name, o, source, &env()).unwrap()
    }

    fn cli(fields: &str) -> ProviderSpec {
        let text = format!(r#"{{"current":"p","profiles":[{{"name":"p",{fields}}}]}}"#);
        profile::cli::spec_from_text(&text, None, &env()).unwrap()
    }

    fn ini(lines: &str) -> ProviderSpec {
        let text = format!("[default]\n{lines}\n");
        profile::ini_profile::section_spec(&text, "credentials", "default", &env()).unwrap()
    }

    /// Every path gave the same description, and the provider built from it has `name`.
    fn same(name: &str, specs: &[ProviderSpec]) {
        for spec in specs {
            assert_eq!(spec, &specs[0], "{name}");
            assert_eq!(spec.provider_name(), name);
            assert_eq!(build(spec, &env()).provider_name(), name);
        }
    }

    fn key(o: &mut Options) {
        o.key.access_key_id = Some("id".into());
        o.key.access_key_secret = Some("secret".into());
    }

    #[test]
    fn every_type_through_every_entry_path() {
        same(
            "static_ak",
            &[
                config("access_key", key),
                builder("static_ak", key, None),
                cli(&format!(r#""mode":"AK",{CLI_AK}"#)),
                ini("type = access_key\naccess_key_id = id\naccess_key_secret = secret"),
            ],
        );
        same(
            "static_sts",
            &[
                config("sts", |c| {
                    key(c);
                    c.key.security_token = Some("token".into());
                }),
                builder(
                    "static_sts",
                    |o| {
                        key(o);
                        o.key.security_token = Some("token".into());
                    },
                    None,
                ),
                cli(&format!(
                    r#""mode":"StsToken",{CLI_AK},"sts_token":"token""#
                )),
            ],
        );
        let role = "acs:ram::1:role/r";
        same(
            "ram_role_arn/static_ak",
            &[
                config("ram_role_arn", |c| {
                    key(c);
                    c.role.role_arn = Some(role.into());
                    c.role.sts.role_session_name = Some("s".into());
                }),
                builder(
                    "ram_role_arn",
                    |o| {
                        o.role.role_arn = Some(role.into());
                        o.role.sts.role_session_name = Some("s".into());
                    },
                    Some(builder("static_ak", key, None)),
                ),
                cli(&format!(
                    r#""mode":"RamRoleArn",{CLI_AK},"ram_role_arn":"{role}","ram_session_name":"s""#
                )),
                ini(&format!("type = ram_role_arn\naccess_key_id = id\naccess_key_secret = secret\nrole_arn = {role}\nrole_session_name = s")),
            ],
        );
        same(
            "oidc_role_arn",
            &[
                config("oidc_role_arn", |c| {
                    c.oidc.role_arn = Some(role.into());
                    c.oidc.provider_arn = Some("p".into());
                    c.oidc.token_file = Some("/t".into());
                }),
                builder(
                    "oidc_role_arn",
                    |o| {
                        o.oidc.role_arn = Some(role.into());
                        o.oidc.provider_arn = Some("p".into());
                        o.oidc.token_file = Some("/t".into());
                    },
                    None,
                ),
                cli(&format!(
                    r#""mode":"OIDC","ram_role_arn":"{role}","oidc_provider_arn":"p","oidc_token_file":"/t""#
                )),
                ini(&format!("type = oidc_role_arn\nrole_arn = {role}\noidc_provider_arn = p\noidc_token_file_path = /t")),
            ],
        );
        same(
            "ecs_ram_role",
            &[
                config("ecs_ram_role", |c| c.ecs.role_name = Some("r".into())),
                builder("ecs_ram_role", |o| o.ecs.role_name = Some("r".into()), None),
                cli(r#""mode":"EcsRamRole","ram_role_name":"r""#),
                ini("type = ecs_ram_role\nrole_name = r"),
            ],
        );
        let uri = "http://127.0.0.1:9/creds";
        same(
            "credential_uri",
            &[
                config("credentials_uri", |c| c.uri.uri = Some(uri.into())),
                builder("credential_uri", |o| o.uri.uri = Some(uri.into()), None),
            ],
        );
        same(
            "bearer",
            &[config("bearer", |c| c.bearer_token = Some("b".into()))],
        );
        same("env", &[builder("env", |_| {}, None)]);
        same(
            "default",
            &[
                from_config(None, &env()).unwrap(),
                builder("default", |_| {}, None),
            ],
        );
        same("profile", &[builder("profile", |_| {}, None)]);
        same("cli_profile", &[builder("cli_profile", |_| {}, None)]);
    }

    #[test]
    fn cli_only_modes_and_role_chains() {
        let future = crate::time::epoch_millis() / 1000 + 3600;
        same(
            "cloud_sso",
            &[cli(&format!(
                r#""mode":"CloudSSO","cloud_sso_sign_in_url":"http://127.0.0.1:9/login","cloud_sso_account_id":"a","cloud_sso_access_config":"c","access_token":"t","cloud_sso_access_token_expire":{future}"#
            ))],
        );
        same(
            "oauth",
            &[cli(
                r#""mode":"OAuth","oauth_site_type":"CN","oauth_refresh_token":"r""#,
            )],
        );
        same(
            "external",
            &[cli(r#""mode":"External","process_command":"tool --json""#)],
        );
        let text = format!(
            r#"{{"current":"a","profiles":[
            {{"name":"a","mode":"ChainableRamRoleArn","source_profile":"b","ram_role_arn":"r1"}},
            {{"name":"b","mode":"AK",{CLI_AK}}}]}}"#
        );
        let chained = profile::cli::spec_from_text(&text, None, &env()).unwrap();
        let built = builder(
            "ram_role_arn",
            |o| o.role.role_arn = Some("r1".into()),
            Some(builder("static_ak", key, None)),
        );
        same("ram_role_arn/static_ak", &[chained, built]);
        // A role over a role stays one flat chain whichever path builds it.
        let inner = builder(
            "ram_role_arn",
            |o| o.role.role_arn = Some("r1".into()),
            Some(builder("static_ak", key, None)),
        );
        let outer = builder(
            "ram_role_arn",
            |o| o.role.role_arn = Some("r2".into()),
            Some(inner),
        );
        let ProviderSpec::AssumeRole(chain) = &outer else {
            panic!("not a chain")
        };
        assert_eq!(chain.roles.len(), 2);
        same("ram_role_arn/ram_role_arn/static_ak", &[outer]);
    }

    #[tokio::test]
    async fn default_chain_names_its_step() {
        let env = Env::from_pairs([(vars::ACCESS_KEY_ID, "i"), (vars::ACCESS_KEY_SECRET, "s")]);
        let spec = from_config(None, &env).unwrap();
        let c = build(&spec, &env).get_credentials().await.unwrap();
        assert_eq!(c.provider_name, "default/env");
    }
}

#[cfg(test)]
mod custom_tests {
    use super::*;
    use crate::description::AccessKey;
    use crate::providers::fixed::FixedProvider;
    use crate::testing::no_env;

    fn caller_provider() -> Arc<dyn CredentialsProvider> {
        Arc::new(FixedProvider::access_key(AccessKey {
            id: "id".into(),
            secret: "secret".into(),
        }))
    }

    #[tokio::test]
    async fn a_custom_description_is_an_id_that_builds_back_to_its_provider() {
        let provider = caller_provider();
        let spec = custom("mine".into(), &provider);
        let other = custom("mine".into(), &caller_provider());
        assert_ne!(spec, other, "another object is another description");
        assert_eq!(spec, spec.clone());
        assert!(Arc::ptr_eq(&build(&spec, &no_env()), &provider));
        drop(provider);
        let gone = build(&spec, &no_env());
        assert_eq!(gone.provider_name(), "mine");
        let e = gone.get_credentials().await.unwrap_err();
        assert_eq!(
            e.message(),
            "the mine provider failed: the provider is no longer held"
        );
        // A role assumed over a caller's provider holds it after the caller lets go.
        let provider = caller_provider();
        let spec = custom("held".into(), &provider);
        let role = crate::description::resolve::role(
            crate::description::resolve::RoleOptions {
                role_arn: Some("r".into()),
                ..Default::default()
            },
            &no_env(),
        )
        .unwrap();
        let over = build(&spec.clone().assume(role).unwrap(), &no_env());
        drop(provider);
        assert_eq!(over.provider_name(), "ram_role_arn/static_ak");
        assert_eq!(build(&spec, &no_env()).provider_name(), "static_ak");
    }
}

#[cfg(test)]
mod sharing_tests {
    use super::*;
    use crate::description::{from_config, Options};
    use crate::testing::no_env;

    fn role(secret: &str, role: &str) -> ProviderSpec {
        let mut c = Options {
            type_name: Some("ram_role_arn".into()),
            ..Options::default()
        };
        c.key.access_key_id = Some("id".into());
        c.key.access_key_secret = Some(secret.into());
        c.role.role_arn = Some(role.into());
        c.role.sts.sts_endpoint = Some("http://127.0.0.1:9".into());
        from_config(Some(c), &no_env()).unwrap()
    }

    #[test]
    fn the_process_registry_serves_the_process_environment_s_cache_setting() {
        // (Run without ALICLOUD_CREDENTIALS_CACHE_DIR in the test's environment.)
        let off = Env::from_pairs([("X", "1")]);
        assert!(std::ptr::eq(registry_for(&off), registry::process()));
        let on = Env::from_pairs([(crate::env::vars::SESSION_CACHE_DIR, "/tmp/acn-a")]);
        let again = Env::from_pairs([(crate::env::vars::SESSION_CACHE_DIR, "/tmp/acn-a")]);
        let other = Env::from_pairs([(crate::env::vars::SESSION_CACHE_DIR, "/tmp/acn-b")]);
        assert!(!std::ptr::eq(registry_for(&on), registry::process()));
        assert!(std::ptr::eq(registry_for(&on), registry_for(&again)));
        assert!(!std::ptr::eq(registry_for(&on), registry_for(&other)));
    }

    #[test]
    fn one_provider_per_identity() {
        let env = no_env();
        let secret = format!("secret-{}", crate::encoding::nonce());
        let a = build(&role(&secret, "r1"), &env);
        let b = build(&role(&secret, "r1"), &env);
        assert!(Arc::ptr_eq(&a, &b));
        let other_secret = build(&role("another-secret", "r1"), &env);
        let other_role = build(&role(&secret, "r2"), &env);
        assert!(!Arc::ptr_eq(&a, &other_secret));
        assert!(!Arc::ptr_eq(&a, &other_role));
    }
}
