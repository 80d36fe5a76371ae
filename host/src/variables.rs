//! `fermyon:spin/variables@2.0.0` and application variable resolution.
//!
//! Resolution follows Spin (`crates/factor-variables`): explicitly given values (`spin up
//! --variable`), then runtime-config `[[variables_provider]]` entries in file order, then the
//! environment provider Spin always appends (`SPIN_VARIABLE_<NAME>`, falling back to a `.env`
//! file), then the manifest `default`. A `required` variable no provider can resolve fails start-up,
//! unless `up --dev` supplies it (`dev_secrets.rs`, ranked below every provider).
//! Component variables are templates over application variables, rendered on every `get`.

use crate::bindings::fermyon::spin2_0_0::variables::{self, Error};
use crate::manifest::{Template, VariableDecl};
use crate::runtime_config::VariablesProvider;
use crate::state::InstanceState;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;

/// One source of application variable values.
enum Provider {
    /// Fixed values: `--variable`, test-harness values, runtime-config `type = "static"`.
    Static(HashMap<String, String>),
    /// Environment variables `<PREFIX>_<UPPERCASED_NAME>`, then the same names in a dotenv file.
    Env {
        prefix: String,
        env: Arc<HashMap<String, String>>,
        dotenv: HashMap<String, String>,
    },
}

impl Provider {
    fn get(&self, name: &str) -> Option<String> {
        match self {
            Provider::Static(values) => values.get(name).cloned(),
            Provider::Env {
                prefix,
                env,
                dotenv,
            } => {
                let key = format!("{prefix}_{}", name.to_ascii_uppercase());
                env.get(&key).or_else(|| dotenv.get(&key)).cloned()
            }
        }
    }
}

/// `required variable `a` has no value (SPIN_VARIABLE_A): ...`, naming every missing one at
/// once so a fresh checkout learns the whole list from one failed start.
fn missing_message(names: &[String], hint: &str) -> String {
    let list = names
        .iter()
        .map(|name| format!("`{name}` (SPIN_VARIABLE_{})", name.to_ascii_uppercase()))
        .collect::<Vec<_>>()
        .join(", ");
    let (what, verb) = match names.len() {
        1 => ("variable", "has"),
        _ => ("variables", "have"),
    };
    format!(
        "required {what} {list} {verb} no value: set the environment variable, put it in `.env`, \
         give --variable name=value, or use a runtime-config variables provider{hint}"
    )
}

/// Application variables with their providers, shared by every component of the app.
pub struct AppVariables {
    decls: BTreeMap<String, VariableDecl>,
    providers: Vec<Provider>,
}

/// Errors found when the app starts.
#[derive(Debug, thiserror::Error)]
pub enum VariablesError {
    #[error("{}", missing_message(names, hint))]
    RequiredMissing {
        names: Vec<String>,
        /// How to get values locally (`dev_secrets::missing_hint`); may be empty.
        hint: String,
    },
    #[error("runtime config: variables provider type `{0}` is not supported by reen-host")]
    UnsupportedProvider(String),
    #[error("reading dotenv file {path}: {source}")]
    Dotenv {
        path: String,
        source: std::io::Error,
    },
}

impl AppVariables {
    /// Builds the provider chain: `explicit` values (`--variable`) first, then `configured` —
    /// the runtime config's providers including Spin's trailing environment provider
    /// (`RuntimeConfig::effective_variables_providers`). `env` is the environment those
    /// providers read, captured at start-up (tests pass their own map, never racing on globals).
    /// Required variables are checked apart ([`Self::check_required`]), after `--dev` has had
    /// its say.
    pub fn new(
        decls: BTreeMap<String, VariableDecl>,
        explicit: HashMap<String, String>,
        configured: &[VariablesProvider],
        env: Arc<HashMap<String, String>>,
        working_dir: &Path,
    ) -> Result<Self, VariablesError> {
        let mut providers = vec![Provider::Static(explicit)];
        for provider in configured {
            providers.push(match provider {
                VariablesProvider::Static { values } => {
                    Provider::Static(values.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                }
                VariablesProvider::Env {
                    prefix,
                    dotenv_path,
                } => Provider::Env {
                    prefix: prefix.clone().unwrap_or_else(|| "SPIN_VARIABLE".into()),
                    env: env.clone(),
                    // Only a provider that names a dotenv file reads one (Spin's default
                    // environment provider names `.env`).
                    dotenv: match dotenv_path {
                        Some(path) => read_dotenv(&working_dir.join(path))?,
                        None => HashMap::new(),
                    },
                },
                VariablesProvider::Unsupported { kind } => {
                    return Err(VariablesError::UnsupportedProvider(kind.clone()));
                }
            });
        }
        Ok(Self { decls, providers })
    }

    /// Required variables that no provider resolves, in name order, with their declarations.
    pub fn missing_required(&self) -> Vec<(&str, &VariableDecl)> {
        self.decls
            .iter()
            .filter(|(name, decl)| {
                decl.required && self.providers.iter().all(|p| p.get(name).is_none())
            })
            .map(|(name, decl)| (name.as_str(), decl))
            .collect()
    }

    /// Adds values ranked below every provider (the secrets `--dev` supplies).
    pub fn add_fallback(&mut self, values: HashMap<String, String>) {
        self.providers.push(Provider::Static(values));
    }

    /// Fails naming every required variable without a value; `hint` ends the message.
    pub fn check_required(&self, hint: &str) -> Result<(), VariablesError> {
        let names: Vec<String> = self
            .missing_required()
            .into_iter()
            .map(|(name, _)| name.to_owned())
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        Err(VariablesError::RequiredMissing {
            names,
            hint: hint.to_owned(),
        })
    }

    /// The value of an application variable, or `None` when it is undeclared or unresolved.
    pub fn resolve(&self, name: &str) -> Option<String> {
        let decl = self.decls.get(name)?;
        self.providers
            .iter()
            .find_map(|p| p.get(name))
            .or_else(|| decl.default.clone())
    }

    /// Renders a manifest template (`"{{ redis_host }}:6379"`) over the application variables.
    pub fn render(&self, template: &Template) -> Result<String, String> {
        template.render(|name| self.resolve(name))
    }
}

/// Parses `KEY=value` lines; a missing file is simply empty (as in Spin).
fn read_dotenv(path: &Path) -> Result<HashMap<String, String>, VariablesError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(source) => {
            return Err(VariablesError::Dotenv {
                path: path.display().to_string(),
                source,
            });
        }
    };
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let (k, v) = l.strip_prefix("export ").unwrap_or(l).split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_owned(), v.to_owned()))
        })
        .collect())
}

/// One component's variables: its templates over the shared application variables.
pub struct ComponentVariables {
    app: Arc<AppVariables>,
    templates: BTreeMap<String, Template>,
}

impl ComponentVariables {
    pub fn new(app: Arc<AppVariables>, templates: BTreeMap<String, Template>) -> Self {
        Self { app, templates }
    }

    fn get(&self, name: &str) -> Result<String, Error> {
        if !is_valid_name(name) {
            return Err(Error::InvalidName(format!(
                "invalid variable name `{name}`: must be lower_snake_case"
            )));
        }
        let template = self
            .templates
            .get(name)
            .ok_or_else(|| Error::Undefined(format!("no variable for \"{name}\"")))?;
        self.app
            .render(template)
            .map_err(|var| Error::Undefined(format!("no value for application variable \"{var}\"")))
    }
}

/// Spin's variable name rule: `[a-z][a-z0-9_]*`, no `__`, not ending in `_`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
        && !name.contains("__")
        && !name.ends_with('_')
}

impl variables::Host for InstanceState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(self.variables.get(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(default: Option<&str>, required: bool) -> VariableDecl {
        VariableDecl {
            default: default.map(str::to_owned),
            required,
            secret: false,
            description: None,
        }
    }

    fn app(
        explicit: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> Result<AppVariables, VariablesError> {
        let decls = BTreeMap::from([
            ("api_key".to_owned(), decl(None, true)),
            (
                "base_url".to_owned(),
                decl(Some("https://default.example"), false),
            ),
        ]);
        let to_map = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<HashMap<_, _>>()
        };
        let vars = AppVariables::new(
            decls,
            to_map(explicit),
            &crate::runtime_config::RuntimeConfig::default().effective_variables_providers(),
            Arc::new(to_map(env)),
            Path::new("/nonexistent"),
        )?;
        vars.check_required("")?;
        Ok(vars)
    }

    #[test]
    fn required_variable_without_a_value_fails_naming_it() {
        let err = app(&[], &[]).err().expect("must fail").to_string();
        assert!(
            err.contains("`api_key`") && err.contains("SPIN_VARIABLE_API_KEY"),
            "{err}"
        );
    }

    #[test]
    fn every_missing_required_variable_is_named_at_once() {
        let decls = BTreeMap::from([
            ("a_key".to_owned(), decl(None, true)),
            ("b_key".to_owned(), decl(None, true)),
        ]);
        let vars = AppVariables::new(
            decls,
            HashMap::new(),
            &[],
            Arc::new(HashMap::new()),
            Path::new("/nonexistent"),
        )
        .unwrap();
        let err = vars.check_required(". Try --dev.").unwrap_err().to_string();
        assert!(
            err.starts_with("required variables `a_key` (SPIN_VARIABLE_A_KEY), `b_key` (SPIN_VARIABLE_B_KEY) have no value")
                && err.ends_with(". Try --dev."),
            "{err}"
        );
    }

    #[test]
    fn a_fallback_fills_a_missing_variable_but_never_beats_a_provider() {
        let mut vars = AppVariables::new(
            BTreeMap::from([
                ("api_key".to_owned(), decl(None, true)),
                ("other".to_owned(), decl(None, true)),
            ]),
            HashMap::from([("api_key".to_owned(), "given".to_owned())]),
            &[],
            Arc::new(HashMap::new()),
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert_eq!(vars.missing_required().len(), 1);
        vars.add_fallback(HashMap::from([
            ("api_key".to_owned(), "generated".to_owned()),
            ("other".to_owned(), "generated".to_owned()),
        ]));
        vars.check_required("").unwrap();
        assert_eq!(vars.resolve("api_key").as_deref(), Some("given"));
        assert_eq!(vars.resolve("other").as_deref(), Some("generated"));
    }

    #[test]
    fn environment_overrides_the_default() {
        let vars = app(
            &[],
            &[
                ("SPIN_VARIABLE_API_KEY", "k"),
                ("SPIN_VARIABLE_BASE_URL", "http://env"),
            ],
        )
        .unwrap();
        assert_eq!(vars.resolve("base_url").as_deref(), Some("http://env"));
    }

    #[test]
    fn default_applies_when_no_provider_has_a_value() {
        let vars = app(&[], &[("SPIN_VARIABLE_API_KEY", "k")]).unwrap();
        assert_eq!(
            vars.resolve("base_url").as_deref(),
            Some("https://default.example")
        );
    }

    #[test]
    fn explicit_values_beat_the_environment() {
        let vars = app(
            &[("api_key", "explicit")],
            &[("SPIN_VARIABLE_API_KEY", "env")],
        )
        .unwrap();
        assert_eq!(vars.resolve("api_key").as_deref(), Some("explicit"));
    }

    #[test]
    fn undeclared_variables_never_resolve() {
        let vars = app(&[("other", "x")], &[("SPIN_VARIABLE_API_KEY", "k")]).unwrap();
        assert_eq!(vars.resolve("other"), None);
    }

    #[test]
    fn variable_names_follow_spin_rules() {
        assert!(is_valid_name("api_key2"));
        for bad in ["Api", "2key", "api__key", "api_", "", "api-key"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
    }
}
