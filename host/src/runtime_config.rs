//! Reads a Spin `runtime-config.toml` (`spin up --runtime-config-file`) into typed settings.
//!
//! Spin reads the file section by section and finally fails on any top-level key that no
//! section consumed (`validate_all_keys_used`, `crates/runtime-config/src/lib.rs`). This module
//! does the same in one pass: every top-level key is either read here, or is a section Spin
//! knows that reen-host does not implement (accepted, with a note in
//! [`RuntimeConfig::warnings`]), or is an error naming the key.
//!
//! Store and provider types that Spin supports but reen-host does not (libSQL, Cosmos DB,
//! DynamoDB, Vault, ...) are kept as `Unsupported` so the app loader can refuse them by label, and only
//! when a component actually uses them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A parsed runtime config. `RuntimeConfig::default()` is what Spin uses without a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// The file it came from, if any.
    pub path: Option<PathBuf>,
    /// `state_dir`; `None` when the key is absent (Spin then uses `<app dir>/.spin`).
    /// See [`RuntimeConfig::resolved_state_dir`].
    pub state_dir: Option<StateDirSetting>,
    /// `log_dir`; `None` when absent (Spin then uses `<state dir>/logs`).
    /// See [`RuntimeConfig::resolved_log_dir`].
    pub log_dir: Option<DirSetting>,
    /// `max_instance_memory`, in bytes.
    pub max_instance_memory: Option<u64>,
    /// `[key_value_store.<label>]`.
    pub key_value_stores: BTreeMap<String, KvStoreConfig>,
    /// `[sqlite_database.<label>]`.
    pub sqlite_databases: BTreeMap<String, SqliteConfig>,
    /// `[[variables_provider]]` (or its older name `[[config_provider]]`), in file order.
    /// Spin always adds an environment provider after these: see
    /// [`RuntimeConfig::effective_variables_providers`].
    pub variables_providers: Vec<VariablesProvider>,
    /// Sections that were accepted but have no effect in reen-host, for the caller to log.
    pub warnings: Vec<String>,
}

/// A directory key whose empty-string value means "unset" rather than "current directory".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirSetting {
    /// `""`: no directory. For `state_dir` the default stores become in-memory; for `log_dir`
    /// component output is not written to files.
    Unset,
    /// A path as written. Spin makes a relative one absolute against the working directory of
    /// `spin up`, not against the runtime-config file.
    Path(PathBuf),
}

/// The `state_dir` setting.
pub type StateDirSetting = DirSetting;

/// One `[key_value_store.<label>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvStoreConfig {
    /// `type = "spin"`: a SQLite file holding the store.
    Spin {
        /// `path`, already resolved against the runtime-config file's directory (Spin's rule for
        /// key-value stores). `None` means an in-memory store, as in Spin; it does not fall back
        /// to the state directory.
        path: Option<PathBuf>,
    },
    /// `type = "redis"`: the store's keys in a Redis database (Spin's `redis` provider).
    Redis {
        /// `url`, e.g. `redis://:password@host:6379/1` (the number is the Redis database).
        url: String,
    },
    /// `azure_cosmos` or `aws_dynamo`: valid Spin, not implemented by reen-host.
    Unsupported {
        /// The `type` value.
        kind: String,
    },
}

/// One `[sqlite_database.<label>]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteConfig {
    /// `type = "spin"`: a local SQLite database.
    Spin {
        /// `path` as written; `None` means in-memory (as in Spin). A relative path is relative
        /// to the working directory of `spin up`: use [`SqliteConfig::resolve`].
        path: Option<PathBuf>,
        /// `allow_attach_file`: whether SQL may `ATTACH` an existing file.
        allow_attach_file: bool,
    },
    /// `libsql`: valid Spin, not implemented by reen-host.
    Unsupported {
        /// The `type` value.
        kind: String,
    },
}

impl SqliteConfig {
    /// Makes a relative `path` absolute against `cwd`, the directory Spin resolves it from.
    pub fn resolve(&self, cwd: &Path) -> SqliteConfig {
        match self {
            SqliteConfig::Spin {
                path: Some(path),
                allow_attach_file,
            } => SqliteConfig::Spin {
                path: Some(cwd.join(path)),
                allow_attach_file: *allow_attach_file,
            },
            other => other.clone(),
        }
    }
}

/// One `[[variables_provider]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VariablesProvider {
    /// `type = "static"`: fixed values.
    Static {
        /// `values`: variable name → value.
        values: BTreeMap<String, String>,
    },
    /// `type = "env"`: environment variables `<PREFIX>_<NAME>` (Spin's default prefix is
    /// `SPIN_VARIABLE`), then the dotenv file if given.
    Env {
        /// `prefix`; `None` means `SPIN_VARIABLE`.
        prefix: Option<String>,
        /// `dotenv_path` as written (Spin reads it relative to the working directory).
        dotenv_path: Option<PathBuf>,
    },
    /// `vault` or `azure_key_vault`: valid Spin, not implemented by reen-host.
    Unsupported {
        /// The `type` value.
        kind: String,
    },
}

/// Why a runtime config was refused. Messages start with the file path and name the key.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the runtime config: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{}{message}", origin(.path.as_deref(), *.line))]
    Syntax {
        /// The file, if any.
        path: Option<PathBuf>,
        /// 1-based line, when known.
        line: Option<usize>,
        /// The `toml` crate's message.
        message: String,
    },
    /// Top-level keys that nothing reads; Spin refuses these too.
    #[error(
        "{}unknown runtime config key(s) {}: Spin refuses keys it does not use (known keys: {})",
        origin(.path.as_deref(), None),
        quoted(.keys),
        KNOWN_KEYS.join(", ")
    )]
    UnknownKeys {
        /// The file, if any.
        path: Option<PathBuf>,
        /// The unknown keys.
        keys: Vec<String>,
    },
    /// A known key with a value Spin would not accept.
    #[error("{}{key}: {message}", origin(.path.as_deref(), None))]
    Invalid {
        /// The file, if any.
        path: Option<PathBuf>,
        /// The key path, e.g. `sqlite_database.orders.path`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

fn origin(path: Option<&Path>, line: Option<usize>) -> String {
    let mut out = match path {
        Some(path) => path.display().to_string(),
        None => "runtime config".to_owned(),
    };
    if let Some(line) = line {
        out.push_str(&format!(":{line}"));
    }
    out.push_str(": ");
    out
}

fn quoted(keys: &[String]) -> String {
    keys.iter()
        .map(|key| format!("`{key}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Top-level keys Spin reads, for the unknown-key message.
const KNOWN_KEYS: &[&str] = &[
    "state_dir",
    "log_dir",
    "max_instance_memory",
    "key_value_store",
    "sqlite_database",
    "variables_provider",
    "config_provider",
    "outbound_http",
    "outbound_networking",
    "client_tls",
    "llm_compute",
    "outbound_redis",
    "outbound_pg",
    "outbound_mysql",
    "outbound_mqtt",
];

/// Sections real Spin reads that reen-host accepts without acting on them.
const IGNORED_SECTIONS: &[&str] = &[
    "outbound_http",
    "outbound_networking",
    "client_tls",
    "llm_compute",
    "outbound_redis",
    "outbound_pg",
    "outbound_mysql",
    "outbound_mqtt",
];

/// The label that exists for key-value and SQLite even without a runtime config.
const DEFAULT_LABEL: &str = "default";

impl RuntimeConfig {
    /// Reads and parses the runtime config at `path`.
    pub fn load(path: &Path) -> Result<RuntimeConfig, RuntimeConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| RuntimeConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        RuntimeConfig::parse(&text, Some(path))
    }

    /// Parses runtime-config `text`. `path` names the file in errors, and its directory is the
    /// base for relative key-value store paths.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<RuntimeConfig, RuntimeConfigError> {
        let reader = Reader { path };
        let table: toml::Table = toml::from_str(text).map_err(|error| {
            let line = error.span().map(|span| line_of(text, span.start));
            RuntimeConfigError::Syntax {
                path: path.map(Path::to_owned),
                line,
                message: error.message().trim_end().to_owned(),
            }
        })?;

        let unknown: Vec<String> = table
            .keys()
            .filter(|key| !KNOWN_KEYS.contains(&key.as_str()))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(RuntimeConfigError::UnknownKeys {
                path: path.map(Path::to_owned),
                keys: unknown,
            });
        }

        let mut config = RuntimeConfig {
            path: path.map(Path::to_owned),
            ..RuntimeConfig::default()
        };
        for (key, value) in &table {
            match key.as_str() {
                "state_dir" => config.state_dir = Some(reader.dir_setting(key, value)?),
                "log_dir" => config.log_dir = Some(reader.dir_setting(key, value)?),
                "max_instance_memory" => match value.as_integer() {
                    Some(bytes) if bytes >= 0 => config.max_instance_memory = Some(bytes as u64),
                    _ => {
                        return Err(reader.invalid(key, "must be a non-negative number of bytes"));
                    }
                },
                "key_value_store" => config.key_value_stores = reader.key_value_stores(value)?,
                "sqlite_database" => config.sqlite_databases = reader.sqlite_databases(value)?,
                "variables_provider" => {
                    config.variables_providers = reader.variables_providers(key, value)?;
                }
                "config_provider" => {
                    // Spin reads `variables_provider` or, failing that, `config_provider`; with
                    // both present the second is never read and so counts as unused.
                    if table.contains_key("variables_provider") {
                        return Err(reader.invalid(
                            key,
                            "cannot be combined with `variables_provider` (it is the older \
                             name of the same section); merge them under [[variables_provider]]",
                        ));
                    }
                    config.variables_providers = reader.variables_providers(key, value)?;
                }
                section if IGNORED_SECTIONS.contains(&section) => {
                    config.warnings.push(format!(
                        "{}[{section}] is valid Spin runtime config but reen-host ignores it",
                        origin(path, None)
                    ));
                }
                _ => unreachable!("unknown keys were rejected above"),
            }
        }
        Ok(config)
    }

    /// `state_dir` flattened: `None` when the key is absent, `Some(None)` for `""` (unset),
    /// `Some(Some(path))` for a path as written (relative to the working directory).
    pub fn state_dir(&self) -> Option<Option<&Path>> {
        self.state_dir.as_ref().map(|setting| match setting {
            DirSetting::Unset => None,
            DirSetting::Path(path) => Some(path.as_path()),
        })
    }

    /// Key-value store labels: those configured plus `default`, which always exists.
    pub fn kv_labels(&self) -> BTreeSet<String> {
        with_default(self.key_value_stores.keys())
    }

    /// SQLite database labels: those configured plus `default`, which always exists.
    pub fn sqlite_labels(&self) -> BTreeSet<String> {
        with_default(self.sqlite_databases.keys())
    }

    /// The providers Spin consults, in order: the configured ones, then the environment
    /// provider Spin always appends (prefix `SPIN_VARIABLE`, dotenv file `.env`).
    pub fn effective_variables_providers(&self) -> Vec<VariablesProvider> {
        let mut providers = self.variables_providers.clone();
        providers.push(VariablesProvider::Env {
            prefix: None,
            dotenv_path: Some(PathBuf::from(".env")),
        });
        providers
    }

    /// The state directory Spin would use: `state_dir` made absolute against `cwd`; without
    /// the key, `<app_dir>/.spin` for a local app; `None` when unset (or no local app).
    /// A `--state-dir` flag, where the caller has one, takes precedence over all of this.
    pub fn resolved_state_dir(&self, app_dir: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
        match &self.state_dir {
            Some(DirSetting::Path(path)) => Some(cwd.join(path)),
            Some(DirSetting::Unset) => None,
            None => app_dir.map(|dir| dir.join(".spin")),
        }
    }

    /// The log directory Spin would use: `log_dir` made absolute against `cwd`; without the
    /// key, `<state dir>/logs`; `None` when unset.
    pub fn resolved_log_dir(&self, app_dir: Option<&Path>, cwd: &Path) -> Option<PathBuf> {
        match &self.log_dir {
            Some(DirSetting::Path(path)) => Some(cwd.join(path)),
            Some(DirSetting::Unset) => None,
            None => self
                .resolved_state_dir(app_dir, cwd)
                .map(|dir| dir.join("logs")),
        }
    }
}

fn with_default<'a>(labels: impl Iterator<Item = &'a String>) -> BTreeSet<String> {
    labels
        .cloned()
        .chain(std::iter::once(DEFAULT_LABEL.to_owned()))
        .collect()
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Reads the sections of one file.
struct Reader<'a> {
    path: Option<&'a Path>,
}

impl Reader<'_> {
    fn invalid(&self, key: &str, message: impl Into<String>) -> RuntimeConfigError {
        RuntimeConfigError::Invalid {
            path: self.path.map(Path::to_owned),
            key: key.to_owned(),
            message: message.into(),
        }
    }

    fn dir_setting(
        &self,
        key: &str,
        value: &toml::Value,
    ) -> Result<DirSetting, RuntimeConfigError> {
        match value {
            toml::Value::String(dir) if dir.is_empty() => Ok(DirSetting::Unset),
            toml::Value::String(dir) => Ok(DirSetting::Path(PathBuf::from(dir))),
            _ => Err(self.invalid(key, "must be a path string (\"\" means unset)")),
        }
    }

    /// `[section.<label>]` tables, each with a string `type`.
    fn labelled_tables<'v>(
        &self,
        section: &str,
        value: &'v toml::Value,
    ) -> Result<Vec<(&'v String, &'v str, &'v toml::Table)>, RuntimeConfigError> {
        let toml::Value::Table(labels) = value else {
            return Err(self.invalid(
                section,
                format!("must be a table of labels, e.g. [{section}.mine]"),
            ));
        };
        labels
            .iter()
            .map(|(label, entry)| {
                let key = format!("{section}.{label}");
                let toml::Value::Table(entry) = entry else {
                    return Err(self.invalid(&key, "must be a table with a `type`"));
                };
                match entry.get("type") {
                    Some(toml::Value::String(kind)) => Ok((label, kind.as_str(), entry)),
                    Some(_) => Err(self.invalid(&format!("{key}.type"), "must be a string")),
                    None => Err(self.invalid(&key, "missing field `type`")),
                }
            })
            .collect()
    }

    fn key_value_stores(
        &self,
        value: &toml::Value,
    ) -> Result<BTreeMap<String, KvStoreConfig>, RuntimeConfigError> {
        // Relative paths are relative to the runtime-config file (`key_value_config_resolver`
        // is given the file's directory).
        let base = self.path.and_then(Path::parent);
        let mut stores = BTreeMap::new();
        for (label, kind, entry) in self.labelled_tables("key_value_store", value)? {
            let key = format!("key_value_store.{label}");
            let store = match kind {
                "spin" => {
                    // Spin's `SpinKeyValueRuntimeConfig` is not `deny_unknown_fields`; other
                    // keys are ignored there, so only noted here.
                    if let Some(extra) = entry
                        .keys()
                        .find(|k| !["type", "path"].contains(&k.as_str()))
                    {
                        return Err(self.invalid(
                            &key,
                            format!(
                                "unknown field `{extra}`, expected `path` (Spin would ignore it; \
                                 reen-host refuses it so a typo cannot silently pick in-memory \
                                 storage)"
                            ),
                        ));
                    }
                    let path = match entry.get("path") {
                        None => None,
                        Some(toml::Value::String(path)) => Some(match base {
                            Some(base) => base.join(path),
                            None => PathBuf::from(path),
                        }),
                        Some(_) => {
                            return Err(self.invalid(&format!("{key}.path"), "must be a string"));
                        }
                    };
                    KvStoreConfig::Spin { path }
                }
                "redis" => {
                    // Spin's `RedisKeyValueRuntimeConfig` has `url` only (other keys are
                    // ignored there; refused here, as for `spin`).
                    if let Some(extra) = entry
                        .keys()
                        .find(|k| !["type", "url"].contains(&k.as_str()))
                    {
                        return Err(
                            self.invalid(&key, format!("unknown field `{extra}`, expected `url`"))
                        );
                    }
                    match entry.get("url") {
                        Some(toml::Value::String(url)) => KvStoreConfig::Redis { url: url.clone() },
                        Some(_) => {
                            return Err(self.invalid(&format!("{key}.url"), "must be a string"));
                        }
                        None => return Err(self.invalid(&key, "missing field `url`")),
                    }
                }
                "azure_cosmos" | "aws_dynamo" => KvStoreConfig::Unsupported {
                    kind: kind.to_owned(),
                },
                other => {
                    return Err(self.invalid(
                        &format!("{key}.type"),
                        format!(
                            "unknown key-value store type {other:?}: Spin knows \"spin\", \
                             \"redis\", \"azure_cosmos\" and \"aws_dynamo\""
                        ),
                    ));
                }
            };
            stores.insert(label.clone(), store);
        }
        Ok(stores)
    }

    fn sqlite_databases(
        &self,
        value: &toml::Value,
    ) -> Result<BTreeMap<String, SqliteConfig>, RuntimeConfigError> {
        let mut databases = BTreeMap::new();
        for (label, kind, entry) in self.labelled_tables("sqlite_database", value)? {
            let key = format!("sqlite_database.{label}");
            let database = match kind {
                "spin" => {
                    // Spin's `InProcDatabase` is `deny_unknown_fields`.
                    if let Some(extra) = entry
                        .keys()
                        .find(|k| !["type", "path", "allow_attach_file"].contains(&k.as_str()))
                    {
                        return Err(self.invalid(
                            &key,
                            format!(
                                "unknown field `{extra}`, expected `path` or `allow_attach_file`"
                            ),
                        ));
                    }
                    let path = match entry.get("path") {
                        None => None,
                        Some(toml::Value::String(path)) => Some(PathBuf::from(path)),
                        Some(_) => {
                            return Err(self.invalid(&format!("{key}.path"), "must be a string"));
                        }
                    };
                    let allow_attach_file = match entry.get("allow_attach_file") {
                        None => false,
                        Some(toml::Value::Boolean(allow)) => *allow,
                        Some(_) => {
                            return Err(self.invalid(
                                &format!("{key}.allow_attach_file"),
                                "must be `true` or `false`",
                            ));
                        }
                    };
                    SqliteConfig::Spin {
                        path,
                        allow_attach_file,
                    }
                }
                "libsql" => SqliteConfig::Unsupported {
                    kind: kind.to_owned(),
                },
                other => {
                    return Err(self.invalid(
                        &format!("{key}.type"),
                        format!(
                            "unknown database type {other:?}: Spin knows \"spin\" and \"libsql\""
                        ),
                    ));
                }
            };
            databases.insert(label.clone(), database);
        }
        Ok(databases)
    }

    fn variables_providers(
        &self,
        section: &str,
        value: &toml::Value,
    ) -> Result<Vec<VariablesProvider>, RuntimeConfigError> {
        let toml::Value::Array(entries) = value else {
            return Err(self.invalid(
                section,
                format!("must be an array of tables: write [[{section}]]"),
            ));
        };
        let mut providers = Vec::new();
        for (index, entry) in entries.iter().enumerate() {
            let key = format!("{section}[{index}]");
            let toml::Value::Table(entry) = entry else {
                return Err(self.invalid(&key, "must be a table with a `type`"));
            };
            let kind = match entry.get("type") {
                Some(toml::Value::String(kind)) => kind.as_str(),
                Some(_) => return Err(self.invalid(&format!("{key}.type"), "must be a string")),
                None => return Err(self.invalid(&key, "missing field `type`")),
            };
            let provider = match kind {
                "static" => {
                    // Spin's static provider is not `deny_unknown_fields` but `values` is
                    // required; as with key-value stores, extra keys are refused here.
                    if let Some(extra) = entry
                        .keys()
                        .find(|k| !["type", "values"].contains(&k.as_str()))
                    {
                        return Err(self
                            .invalid(&key, format!("unknown field `{extra}`, expected `values`")));
                    }
                    let Some(toml::Value::Table(values)) = entry.get("values") else {
                        return Err(self.invalid(
                            &key,
                            "a static provider needs `values = { name = \"value\", ... }`",
                        ));
                    };
                    let mut out = BTreeMap::new();
                    for (name, value) in values {
                        let toml::Value::String(value) = value else {
                            return Err(
                                self.invalid(&format!("{key}.values.{name}"), "must be a string")
                            );
                        };
                        out.insert(name.clone(), value.clone());
                    }
                    VariablesProvider::Static { values: out }
                }
                "env" => {
                    // `EnvVariablesConfig` is `deny_unknown_fields`.
                    if let Some(extra) = entry
                        .keys()
                        .find(|k| !["type", "prefix", "dotenv_path"].contains(&k.as_str()))
                    {
                        return Err(self.invalid(
                            &key,
                            format!("unknown field `{extra}`, expected `prefix` or `dotenv_path`"),
                        ));
                    }
                    let string = |field: &str| match entry.get(field) {
                        None => Ok(None),
                        Some(toml::Value::String(value)) => Ok(Some(value.clone())),
                        Some(_) => Err(self.invalid(&format!("{key}.{field}"), "must be a string")),
                    };
                    VariablesProvider::Env {
                        prefix: string("prefix")?,
                        dotenv_path: string("dotenv_path")?.map(PathBuf::from),
                    }
                }
                "vault" | "azure_key_vault" => VariablesProvider::Unsupported {
                    kind: kind.to_owned(),
                },
                other => {
                    return Err(self.invalid(
                        &format!("{key}.type"),
                        format!(
                            "unknown variables provider type {other:?}: Spin knows \"static\", \
                             \"env\", \"vault\" and \"azure_key_vault\""
                        ),
                    ));
                }
            };
            providers.push(provider);
        }
        Ok(providers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<RuntimeConfig, RuntimeConfigError> {
        RuntimeConfig::parse(text, Some(Path::new("conf/runtime-config.toml")))
    }

    fn error(text: &str) -> String {
        parse(text).expect_err("should be refused").to_string()
    }

    #[test]
    fn empty_config_has_only_the_default_labels() {
        let config = parse("").unwrap();
        assert_eq!(
            config,
            RuntimeConfig {
                path: Some(PathBuf::from("conf/runtime-config.toml")),
                ..RuntimeConfig::default()
            }
        );
        assert_eq!(config.kv_labels(), BTreeSet::from(["default".to_owned()]));
        assert_eq!(
            config.sqlite_labels(),
            BTreeSet::from(["default".to_owned()])
        );
    }

    #[test]
    fn unknown_top_level_key_is_refused_by_name() {
        let err = error("baz = \"/baz\"\n[qux]\n");
        assert!(
            err.starts_with("conf/runtime-config.toml: unknown runtime config key(s) `baz`, `qux`"),
            "{err}"
        );
    }

    #[test]
    fn syntax_errors_carry_the_line() {
        let err = error("state_dir = \".spin\"\n[key_value_store.a\n");
        assert!(err.starts_with("conf/runtime-config.toml:2: "), "{err}");
    }

    #[test]
    fn state_dir_empty_string_means_unset() {
        let config = parse("state_dir = \"\"").unwrap();
        assert_eq!(config.state_dir, Some(DirSetting::Unset));
        assert_eq!(config.state_dir(), Some(None));
        assert_eq!(
            config.resolved_state_dir(Some(Path::new("/app")), Path::new("/cwd")),
            None
        );
        assert_eq!(
            config.resolved_log_dir(Some(Path::new("/app")), Path::new("/cwd")),
            None
        );
    }

    #[test]
    fn state_dir_is_relative_to_the_working_directory() {
        let config = parse("state_dir = \"data\"").unwrap();
        assert_eq!(config.state_dir(), Some(Some(Path::new("data"))));
        assert_eq!(
            config.state_dir,
            Some(DirSetting::Path(PathBuf::from("data")))
        );
        assert_eq!(
            config.resolved_state_dir(Some(Path::new("/app")), Path::new("/cwd")),
            Some(PathBuf::from("/cwd/data"))
        );
        assert_eq!(
            config.resolved_log_dir(Some(Path::new("/app")), Path::new("/cwd")),
            Some(PathBuf::from("/cwd/data/logs"))
        );
    }

    #[test]
    fn without_state_dir_a_local_app_uses_its_dot_spin() {
        let config = parse("log_dir = \"/var/log/app\"").unwrap();
        assert_eq!(
            config.resolved_state_dir(Some(Path::new("/app")), Path::new("/cwd")),
            Some(PathBuf::from("/app/.spin"))
        );
        assert_eq!(
            config.resolved_log_dir(Some(Path::new("/app")), Path::new("/cwd")),
            Some(PathBuf::from("/var/log/app"))
        );
    }

    #[test]
    fn non_string_state_dir_is_refused() {
        assert!(error("state_dir = 5").contains("state_dir: must be a path string"));
    }

    #[test]
    fn max_instance_memory_is_read() {
        assert_eq!(
            parse("max_instance_memory = 1048576")
                .unwrap()
                .max_instance_memory,
            Some(1048576)
        );
        assert!(error("max_instance_memory = -1").contains("max_instance_memory: "));
    }

    #[test]
    fn spin_key_value_path_is_relative_to_the_config_file() {
        let config = parse(
            "[key_value_store.cache]\ntype = \"spin\"\npath = \"data/cache.db\"\n\
             [key_value_store.abs]\ntype = \"spin\"\npath = \"/tmp/abs.db\"\n\
             [key_value_store.mem]\ntype = \"spin\"\n",
        )
        .unwrap();
        assert_eq!(
            config.key_value_stores["cache"],
            KvStoreConfig::Spin {
                path: Some(PathBuf::from("conf/data/cache.db"))
            }
        );
        assert_eq!(
            config.key_value_stores["abs"],
            KvStoreConfig::Spin {
                path: Some(PathBuf::from("/tmp/abs.db"))
            }
        );
        assert_eq!(
            config.key_value_stores["mem"],
            KvStoreConfig::Spin { path: None }
        );
        assert_eq!(
            config.kv_labels(),
            ["abs", "cache", "default", "mem"].map(String::from).into()
        );
    }

    #[test]
    fn key_value_path_stays_as_written_without_a_file() {
        let config = RuntimeConfig::parse(
            "[key_value_store.c]\ntype = \"spin\"\npath = \"c.db\"\n",
            None,
        )
        .unwrap();
        assert_eq!(
            config.key_value_stores["c"],
            KvStoreConfig::Spin {
                path: Some(PathBuf::from("c.db"))
            }
        );
    }

    #[test]
    fn a_redis_key_value_store_has_a_url() {
        let config =
            parse("[key_value_store.r]\ntype = \"redis\"\nurl = \"redis://localhost/1\"\n")
                .unwrap();
        assert_eq!(
            config.key_value_stores["r"],
            KvStoreConfig::Redis {
                url: "redis://localhost/1".into()
            }
        );
        let err = error("[key_value_store.r]\ntype = \"redis\"\n");
        assert!(
            err.contains("key_value_store.r: missing field `url`"),
            "{err}"
        );
        let err =
            error("[key_value_store.r]\ntype = \"redis\"\nurl = \"redis://x\"\npath = \"p\"\n");
        assert!(
            err.contains("unknown field `path`, expected `url`"),
            "{err}"
        );
    }

    #[test]
    fn other_spin_key_value_types_are_kept_as_unsupported() {
        let config =
            parse("[key_value_store.d]\ntype = \"aws_dynamo\"\nregion = \"x\"\ntable = \"t\"\n")
                .unwrap();
        assert_eq!(
            config.key_value_stores["d"],
            KvStoreConfig::Unsupported {
                kind: "aws_dynamo".into()
            }
        );
    }

    #[test]
    fn unknown_key_value_type_is_refused_by_label() {
        let err = error("[key_value_store.x]\ntype = \"weird\"\n");
        assert!(
            err.contains("key_value_store.x.type: unknown key-value store type \"weird\""),
            "{err}"
        );
    }

    #[test]
    fn key_value_store_without_type_is_refused() {
        let err = error("[key_value_store.x]\npath = \"x.db\"\n");
        assert!(
            err.contains("key_value_store.x: missing field `type`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_in_a_spin_key_value_store_is_refused() {
        let err = error("[key_value_store.x]\ntype = \"spin\"\npth = \"x.db\"\n");
        assert!(
            err.contains("key_value_store.x: unknown field `pth`"),
            "{err}"
        );
    }

    #[test]
    fn spin_sqlite_path_stays_relative_until_resolved_against_cwd() {
        let config = parse(
            "[sqlite_database.orders]\ntype = \"spin\"\npath = \"db/orders.db\"\nallow_attach_file = true\n\
             [sqlite_database.mem]\ntype = \"spin\"\n",
        )
        .unwrap();
        let orders = &config.sqlite_databases["orders"];
        assert_eq!(
            orders,
            &SqliteConfig::Spin {
                path: Some(PathBuf::from("db/orders.db")),
                allow_attach_file: true
            }
        );
        assert_eq!(
            orders.resolve(Path::new("/work")),
            SqliteConfig::Spin {
                path: Some(PathBuf::from("/work/db/orders.db")),
                allow_attach_file: true
            }
        );
        assert_eq!(
            config.sqlite_databases["mem"],
            SqliteConfig::Spin {
                path: None,
                allow_attach_file: false
            }
        );
        assert_eq!(
            config.sqlite_labels(),
            ["default", "mem", "orders"].map(String::from).into()
        );
    }

    #[test]
    fn libsql_is_kept_as_unsupported() {
        let config =
            parse("[sqlite_database.r]\ntype = \"libsql\"\nurl = \"https://x\"\ntoken = \"t\"\n")
                .unwrap();
        assert_eq!(
            config.sqlite_databases["r"],
            SqliteConfig::Unsupported {
                kind: "libsql".into()
            }
        );
    }

    #[test]
    fn unknown_field_in_a_spin_sqlite_database_is_refused() {
        let err = error("[sqlite_database.y]\ntype = \"spin\"\nfoo = 1\n");
        assert!(
            err.contains(
                "sqlite_database.y: unknown field `foo`, expected `path` or `allow_attach_file`"
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_sqlite_type_is_refused() {
        let err = error("[sqlite_database.y]\ntype = \"postgres\"\n");
        assert!(
            err.contains("sqlite_database.y.type: unknown database type \"postgres\""),
            "{err}"
        );
    }

    #[test]
    fn variables_providers_are_read_in_order() {
        let config = parse(
            "[[variables_provider]]\ntype = \"static\"\nvalues = { api_key = \"k\" }\n\
             [[variables_provider]]\ntype = \"env\"\nprefix = \"REEN\"\ndotenv_path = \"x.env\"\n\
             [[variables_provider]]\ntype = \"vault\"\nurl = \"http://vault\"\n",
        )
        .unwrap();
        assert_eq!(
            config.variables_providers,
            [
                VariablesProvider::Static {
                    values: [("api_key".to_owned(), "k".to_owned())].into()
                },
                VariablesProvider::Env {
                    prefix: Some("REEN".into()),
                    dotenv_path: Some(PathBuf::from("x.env"))
                },
                VariablesProvider::Unsupported {
                    kind: "vault".into()
                },
            ]
        );
        let effective = config.effective_variables_providers();
        assert_eq!(
            effective.last(),
            Some(&VariablesProvider::Env {
                prefix: None,
                dotenv_path: Some(PathBuf::from(".env"))
            })
        );
    }

    #[test]
    fn config_provider_is_the_old_name_of_variables_provider() {
        let config = parse("[[config_provider]]\ntype = \"env\"\n").unwrap();
        assert_eq!(
            config.variables_providers,
            [VariablesProvider::Env {
                prefix: None,
                dotenv_path: None
            }]
        );
    }

    #[test]
    fn both_provider_names_at_once_are_refused() {
        let err =
            error("[[variables_provider]]\ntype = \"env\"\n[[config_provider]]\ntype = \"env\"\n");
        assert!(
            err.contains("config_provider: cannot be combined with `variables_provider`"),
            "{err}"
        );
    }

    #[test]
    fn a_single_provider_table_is_refused() {
        let err = error("[variables_provider]\ntype = \"env\"\n");
        assert!(
            err.contains("variables_provider: must be an array of tables"),
            "{err}"
        );
    }

    #[test]
    fn unknown_field_in_an_env_provider_is_refused() {
        let err = error("[[variables_provider]]\ntype = \"env\"\nbogus = 1\n");
        assert!(
            err.contains(
                "variables_provider[0]: unknown field `bogus`, expected `prefix` or `dotenv_path`"
            ),
            "{err}"
        );
    }

    #[test]
    fn static_provider_needs_values() {
        let err = error("[[variables_provider]]\ntype = \"static\"\n");
        assert!(
            err.contains("variables_provider[0]: a static provider needs `values"),
            "{err}"
        );
    }

    #[test]
    fn unknown_provider_type_is_refused() {
        let err = error("[[variables_provider]]\ntype = \"aws_secrets\"\n");
        assert!(
            err.contains("variables_provider[0].type: unknown variables provider type"),
            "{err}"
        );
    }

    #[test]
    fn other_spin_sections_are_accepted_with_a_note() {
        let config = parse(
            "[outbound_http]\nmax_concurrent_requests = 10\n[outbound_networking]\n\
             [[client_tls]]\ncomponent_ids = [\"a\"]\nhosts = [\"x\"]\n[llm_compute]\ntype = \"spin\"\n\
             [outbound_redis]\n[outbound_pg]\n[outbound_mysql]\n[outbound_mqtt]\n",
        )
        .unwrap();
        assert_eq!(config.warnings.len(), 8);
        assert!(
            config
                .warnings
                .iter()
                .any(|w| w.contains("[client_tls] is valid Spin runtime config"))
        );
    }

    #[test]
    fn errors_without_a_file_say_runtime_config() {
        let err = RuntimeConfig::parse("nope = 1", None)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("runtime config: unknown runtime config key(s) `nope`"),
            "{err}"
        );
    }
}
