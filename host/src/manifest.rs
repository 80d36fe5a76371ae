//! Reads a Spin `spin.toml` (manifest v2) into typed values, rejecting what real Spin rejects.
//!
//! Spin checks a manifest in several places: the serde schema in `crates/manifest` (unknown keys,
//! id syntax), normalisation (`crates/manifest/src/normalize.rs`: trigger ids, inline components,
//! dependency rules), the loader (`crates/loader/src/local.rs`: variables), and each trigger and
//! factor at startup (`crates/http/src/config.rs`, `crates/trigger-redis`, variable templates,
//! store labels). reen-host has one entry point, so all of those checks live here and run at load
//! time, before anything is built or bound. Store labels are the exception: they depend on the
//! runtime config, so [`Manifest::check_labels`] runs once both files are read.
//!
//! Where Spin silently ignores a key (extra keys in `static_response`, extra keys on an `http`
//! executor) we accept it too and say so in [`Manifest::warnings`]; where Spin only fails later
//! (at request time) we fail at load, because failing early never accepts anything Spin accepts
//! on the happy path.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

// ---------------------------------------------------------------------------------------------
// Public model
// ---------------------------------------------------------------------------------------------

/// A loaded and validated `spin.toml`.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The manifest file, as given to [`Manifest::load`] or [`Manifest::parse`].
    pub path: PathBuf,
    /// The manifest's directory (`.` when the path has none): the base for relative paths.
    /// [`ComponentDecl::source`] is already joined onto it; `build.workdir`, `files` and
    /// `{ path = ... }` dependencies are kept as written, relative to it.
    pub dir: PathBuf,
    /// `[application]`.
    pub application: Application,
    /// `[variables]`: the application variables, by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[[trigger.http]]`, in declaration order.
    pub http_triggers: Vec<HttpTrigger>,
    /// `[[trigger.redis]]`, in declaration order.
    pub redis_triggers: Vec<RedisTrigger>,
    /// `[component.<id>]`, plus components written inline in a trigger (under the id Spin gives them).
    pub components: BTreeMap<String, ComponentDecl>,
    /// Things that load but deserve a mention (deprecated or ignored keys), for the caller to log.
    pub warnings: Vec<String>,
}

/// `[application]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// `name` (required).
    pub name: String,
    /// `version`, if given and non-empty.
    pub version: Option<String>,
    /// `description`, if given and non-empty.
    pub description: Option<String>,
    /// `authors`.
    pub authors: Vec<String>,
    /// `[application.trigger.redis] address`: the default address of every `[[trigger.redis]]`.
    /// Only read when the app has Redis triggers, as Spin only reads it then.
    pub redis_address: Option<Template>,
}

/// One `[variables]` entry. Exactly one of `default` and `required = true` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDecl {
    /// The value used when no provider supplies one.
    pub default: Option<String>,
    /// A provider must supply a value; Spin refuses to start otherwise.
    pub required: bool,
    /// Only affects display and logging.
    pub secret: bool,
    /// Free text.
    pub description: Option<String>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTrigger {
    /// `id`, as written (an empty id counts as none).
    pub id: Option<String>,
    /// The id Spin uses for this trigger: `id` if given, else the one Spin generates
    /// (`<component>-http-trigger`, or `http-trigger<N>`). Static responses are keyed by it.
    pub normalized_id: String,
    /// `route`.
    pub route: HttpRoute,
    /// `component` or `static_response`.
    pub target: HttpTarget,
}

/// An HTTP trigger's `route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpRoute {
    /// A route pattern such as `/api/...` or `/users/:id`, as written.
    Path(String),
    /// `{ private = true }`: reachable only through service chaining.
    Private,
}

/// What an HTTP trigger runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpTarget {
    /// The id of a declared component.
    Component(String),
    /// `static_response = { ... }`, answered by the host without a component.
    StaticResponse {
        /// `status_code`; Spin's default is 200.
        status_code: u16,
        /// `headers`.
        headers: BTreeMap<String, String>,
        /// `body`.
        body: Option<String>,
    },
}

/// One `[[trigger.redis]]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisTrigger {
    /// `id`, as written (an empty id counts as none).
    pub id: Option<String>,
    /// The id Spin uses for this trigger (see [`HttpTrigger::normalized_id`]).
    pub normalized_id: String,
    /// `channel`; may reference application variables.
    pub channel: Template,
    /// The id of a declared component.
    pub component: String,
    /// `address`, overriding `[application.trigger.redis] address`.
    pub address: Option<Template>,
}

impl RedisTrigger {
    /// The address this trigger subscribes to: its own, else the application default.
    /// Loading guarantees one of the two exists.
    pub fn effective_address<'a>(&'a self, application: &'a Application) -> Option<&'a Template> {
        self.address.as_ref().or(application.redis_address.as_ref())
    }
}

/// One component: `[component.<id>]`, or a table written inline as a trigger's `component`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentDecl {
    /// The component id (kebab-case, as Spin validates it).
    pub id: String,
    /// The Wasm file, joined onto [`Manifest::dir`].
    pub source: PathBuf,
    /// `description`.
    pub description: Option<String>,
    /// `variables`: component variable name → template over application variables.
    pub variables: BTreeMap<String, Template>,
    /// `environment`: WASI environment variables.
    pub environment: BTreeMap<String, String>,
    /// `files`.
    pub files: Vec<FileMount>,
    /// `exclude_files`.
    pub exclude_files: Vec<String>,
    /// `allowed_outbound_hosts`, followed by deprecated `allowed_http_hosts` converted the way
    /// Spin converts them (`host` → `http://host` and `https://host`, `self` → `http://self`).
    pub allowed_outbound_hosts: Vec<Template>,
    /// `key_value_stores` labels.
    pub key_value_stores: Vec<String>,
    /// `sqlite_databases` labels.
    pub sqlite_databases: Vec<String>,
    /// `[component.<id>.build]`.
    pub build: Option<BuildConfig>,
    /// `dependencies`, keyed by WIT interface or package name (or a plain kebab name).
    pub dependencies: BTreeMap<String, DependencyDecl>,
    /// `dependencies_inherit_configuration`.
    pub dependencies_inherit_configuration: bool,
}

/// One `files` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileMount {
    /// A glob relative to the manifest directory, mounted at the same relative path.
    Pattern(String),
    /// `{ source = "dir", destination = "/guest/path" }`.
    Placement {
        /// Host directory, relative to the manifest directory.
        source: String,
        /// Guest path.
        destination: String,
    },
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// `command`: one or more shell commands, run in order.
    pub command: Vec<String>,
    /// `workdir` as written, relative to [`Manifest::dir`]; `None` means the manifest directory.
    pub workdir: Option<PathBuf>,
    /// `watch` globs (used by `spin watch`).
    pub watch: Vec<String>,
}

/// How one component dependency is satisfied (Spin 3.0+).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependencyDecl {
    /// `"ns:pkg" = ">= 0.1.0"`: a version requirement against the default registry.
    Version(String),
    /// `{ version, registry?, package?, export? }`.
    Package {
        /// Version requirement.
        version: String,
        /// Registry host.
        registry: Option<String>,
        /// Package name, defaulting to the dependency name's package.
        package: Option<String>,
        /// The export that satisfies the import.
        export: Option<String>,
        /// Per-dependency `inherit_configuration`.
        inherit_configuration: Option<InheritConfiguration>,
    },
    /// `{ path, export? }`.
    Path {
        /// The Wasm file as written, relative to [`Manifest::dir`].
        path: PathBuf,
        /// The export that satisfies the import.
        export: Option<String>,
        /// Per-dependency `inherit_configuration`.
        inherit_configuration: Option<InheritConfiguration>,
    },
    /// `{ url, digest, export? }`.
    Url {
        /// Where to download the Wasm file.
        url: String,
        /// `sha256:` digest of the file.
        digest: String,
        /// The export that satisfies the import.
        export: Option<String>,
        /// Per-dependency `inherit_configuration`.
        inherit_configuration: Option<InheritConfiguration>,
    },
    /// `{ component = "<id>", export? }` (Spin 3.5+): another component of this app.
    Component {
        /// The component id.
        id: String,
        /// The export that satisfies the import.
        export: Option<String>,
        /// Per-dependency `inherit_configuration`.
        inherit_configuration: Option<InheritConfiguration>,
    },
}

impl DependencyDecl {
    /// The per-dependency `inherit_configuration` (Spin 4.0+), if given.
    pub fn inherit_configuration(&self) -> Option<&InheritConfiguration> {
        match self {
            DependencyDecl::Version(_) => None,
            DependencyDecl::Package {
                inherit_configuration,
                ..
            }
            | DependencyDecl::Path {
                inherit_configuration,
                ..
            }
            | DependencyDecl::Url {
                inherit_configuration,
                ..
            }
            | DependencyDecl::Component {
                inherit_configuration,
                ..
            } => inherit_configuration.as_ref(),
        }
    }
}

/// A dependency's `inherit_configuration` (Spin 4.0+), kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InheritConfiguration {
    /// `true` (inherit everything) or `false` (nothing).
    All(bool),
    /// Only these configuration keys, e.g. `["allowed_outbound_hosts", "variables"]`.
    /// Spin ignores names it does not know, so they are not checked.
    Only(Vec<String>),
}

/// Which kind of store label [`Manifest::check_labels`] found undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    /// `key_value_stores`.
    KeyValueStore,
    /// `sqlite_databases`.
    SqliteDatabase,
}

/// One component's use of a store label that nothing defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UndefinedLabel {
    /// The component id.
    pub component: String,
    /// Key-value store or SQLite database.
    pub kind: LabelKind,
    /// The label.
    pub label: String,
}

impl fmt::Display for UndefinedLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (key, table) = match self.kind {
            LabelKind::KeyValueStore => ("key_value_stores", "key_value_store"),
            LabelKind::SqliteDatabase => ("sqlite_databases", "sqlite_database"),
        };
        write!(
            f,
            "component `{}` uses {key} label {:?}, which is not defined \
             (only \"default\" exists unless the runtime config has [{table}.{}])",
            self.component, self.label, self.label
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a manifest was refused. Every message starts with the file path (and line, when known),
/// then names the table or key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file could not be read.
    #[error("{}: cannot read the manifest: {source}", path.display())]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed, or does not fit the schema (unknown key, wrong type, missing key).
    /// `message` is the `toml` crate's own.
    #[error("{}{message}", location(.path, *.line, .context.as_deref()))]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// 1-based line of the offending key or value, when `toml` reports one.
        line: Option<usize>,
        /// The table being read, e.g. ``component `docs` ``.
        context: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The manifest parses but breaks one of Spin's rules.
    #[error("{}{message}", location(.path, *.line, Some(.key.as_str())))]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// 1-based line of the table or key, when known.
        line: Option<usize>,
        /// The table or key at fault, e.g. `variables.API_KEY` or ``component `docs` ``.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// Components use store labels that neither Spin's built-in `default` nor the runtime config
    /// defines (Spin refuses to start in that case).
    #[error("{}: {}", path.display(), join_display(.missing))]
    UndefinedLabels {
        /// The manifest path.
        path: PathBuf,
        /// Every undefined use, in component order.
        missing: Vec<UndefinedLabel>,
    },
}

fn location(path: &Path, line: Option<usize>, context: Option<&str>) -> String {
    let mut out = path.display().to_string();
    if let Some(line) = line {
        out.push_str(&format!(":{line}"));
    }
    out.push_str(": ");
    if let Some(context) = context {
        out.push_str(context);
        out.push_str(": ");
    }
    out
}

fn join_display<T: fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

/// A string with `{{ variable }}` expressions, as Spin parses it (`crates/expressions`):
/// `{{` starts an expression that runs to the next `}}`, and the name inside is trimmed.
/// A lone `}}` is literal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A template with a `{{` that is never closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unmatched `{{{{` in template {template:?}")]
pub struct TemplateError {
    /// The template text.
    pub template: String,
}

impl Template {
    /// Splits `text` into literal text and `{{ name }}` references.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(after_open) = rest.strip_prefix("{{") {
                let Some((name, after_close)) = after_open.split_once("}}") else {
                    return Err(TemplateError {
                        template: text.to_owned(),
                    });
                };
                parts.push(Part::Variable(name.trim().to_owned()));
                rest = after_close;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Literal(rest[..end].to_owned()));
                rest = &rest[end..];
            }
        }
        Ok(Template {
            text: text.to_owned(),
            parts,
        })
    }

    /// The variable names referenced, in order of appearance (repeats included).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// Substitutes every reference with `lookup(name)`. Fails with the first name `lookup`
    /// does not know.
    pub fn render(&self, mut lookup: impl FnMut(&str) -> Option<String>) -> Result<String, String> {
        let mut out = String::with_capacity(self.text.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(&lookup(name).ok_or_else(|| name.clone())?),
            }
        }
        Ok(out)
    }

    /// True when the template references no variable.
    pub fn is_literal(&self) -> bool {
        self.parts
            .iter()
            .all(|part| matches!(part, Part::Literal(_)))
    }

    /// The original text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

// ---------------------------------------------------------------------------------------------
// Identifier rules (crates/serde/src/id.rs)
// ---------------------------------------------------------------------------------------------

/// Spin's identifier rule: words joined by one separator; each word starts with an ASCII letter,
/// holds only ASCII letters and digits, and is all lowercase or all UPPERCASE. `lower_only`
/// additionally forbids UPPERCASE words (Spin's `LowerSnakeId`, used for variable names).
fn check_id(id: &str, separator: char, lower_only: bool) -> Result<(), String> {
    if id.is_empty() {
        return Err("must not be empty".to_owned());
    }
    let wrong = if separator == '-' { '_' } else { '-' };
    if id.contains(wrong) {
        return Err(format!(
            "words must be separated by `{separator}`, not `{wrong}`"
        ));
    }
    for word in id.split(separator) {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!(
                "has an empty word: no leading, trailing or doubled `{separator}`"
            ));
        };
        if !first.is_ascii_alphabetic() {
            return Err(format!(
                "each `{separator}`-separated word must start with an ASCII letter, \
                 but {word:?} starts with {first:?}"
            ));
        }
        let upper = first.is_ascii_uppercase();
        for ch in chars {
            if !ch.is_ascii_alphanumeric() {
                return Err(format!(
                    "may contain only ASCII letters, digits and `{separator}`, found {ch:?}"
                ));
            }
            if ch.is_ascii_alphabetic() && ch.is_ascii_uppercase() != upper {
                return Err(format!(
                    "each word must be all lowercase or all UPPERCASE, but {word:?} mixes them"
                ));
            }
        }
        if lower_only && upper {
            return Err(format!("must be lowercase, but {word:?} is UPPERCASE"));
        }
    }
    Ok(())
}

fn check_component_id(id: &str) -> Result<(), String> {
    check_id(id, '-', false)
}

fn check_variable_name(name: &str) -> Result<(), String> {
    check_id(name, '_', true)
}

/// Store labels may be kebab-case or snake_case (`kebab_or_snake_case` in Spin's schema).
fn check_label(label: &str) -> Result<(), String> {
    if check_id(label, '-', false).is_ok() || check_id(label, '_', false).is_ok() {
        Ok(())
    } else {
        Err(format!("label {label:?} must be kebab-case or snake_case"))
    }
}

// ---------------------------------------------------------------------------------------------
// Raw schema: what serde reads, with Spin's `deny_unknown_fields` everywhere it has them
// ---------------------------------------------------------------------------------------------

thread_local! {
    /// The tables the deserializer was inside when it failed, outermost first. serde errors
    /// carry a message and a byte span but not which component or trigger they came from;
    /// wrapping the error would drop `toml`'s span, so the context travels on the side instead.
    /// Entries are pushed on entry and popped only on success, so after a failure the stack is
    /// exactly the path to it.
    static PARSE_CONTEXT: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

fn in_context<T, E>(label: String, read: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
    PARSE_CONTEXT.with_borrow_mut(|stack| stack.push(label));
    let result = read();
    if result.is_ok() {
        PARSE_CONTEXT.with_borrow_mut(|stack| stack.pop());
    }
    result
}

#[derive(Deserialize)]
struct VersionProbe {
    #[serde(alias = "spin_version")]
    spin_manifest_version: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    // Checked by `VersionProbe` first; listed so that it is not an unknown key.
    #[serde(rename = "spin_manifest_version")]
    _version: IgnoredAny,
    #[serde(deserialize_with = "application_in_context")]
    application: RawApplication,
    #[serde(default, deserialize_with = "variables_in_context")]
    variables: Vec<(Spanned<String>, RawVariable)>,
    // Spin's schema has no default here: a manifest without triggers is refused.
    trigger: RawTriggers,
    #[serde(default, deserialize_with = "components_in_context")]
    component: Vec<(Spanned<String>, RawComponent)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    authors: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // Build-time compatibility checks only; parsed so bad shapes fail.
    targets: Vec<RawTarget>,
    #[serde(default)]
    trigger: BTreeMap<String, toml::Table>,
    #[serde(default)]
    #[allow(dead_code)] // Spin ignores `[application.tool.*]`, but they must be tables.
    tool: BTreeMap<String, toml::Table>,
}

#[derive(Deserialize)]
#[serde(untagged, deny_unknown_fields)]
#[allow(dead_code)] // Shape check only.
enum RawTarget {
    Catalogue(String),
    Http { url: String },
    File { path: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    #[serde(default)]
    description: String,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<toml::Value>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // Build-time compatibility checks only.
    targets: Option<Vec<RawTarget>>,
    #[serde(default)]
    build: Option<RawBuild>,
    #[serde(default)]
    #[allow(dead_code)] // Spin ignores `[component.<id>.tool.*]`.
    tool: BTreeMap<String, toml::Table>,
    #[serde(default)]
    dependencies_inherit_configuration: Option<bool>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    profile: BTreeMap<String, RawProfile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    command: toml::Value,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    watch: Vec<String>,
}

/// `[component.<id>.profile.<name>]` (Spin 4.0). reen-host builds and runs only the default
/// profile, but the overrides must still be well-formed for the manifest to be valid.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    #[serde(default)]
    source: Option<toml::Value>,
    #[serde(default)]
    #[allow(dead_code)] // Shape check only.
    environment: BTreeMap<String, String>,
    #[serde(default)]
    dependencies: BTreeMap<String, toml::Value>,
    #[serde(default)]
    build: Option<RawProfileBuild>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileBuild {
    command: toml::Value,
}

/// A trigger's `component`: an id, or a whole component table written inline.
enum RawComponentSpec {
    Reference(String),
    Inline(Box<RawComponent>),
}

impl<'de> Deserialize<'de> for RawComponentSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor;
        impl<'de> Visitor<'de> for SpecVisitor {
            type Value = RawComponentSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a component id or an inline component table")
            }
            fn visit_str<E: de::Error>(self, id: &str) -> Result<Self::Value, E> {
                Ok(RawComponentSpec::Reference(id.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                in_context("inline component".to_owned(), || {
                    RawComponent::deserialize(de::value::MapAccessDeserializer::new(map))
                })
                .map(|component| RawComponentSpec::Inline(Box::new(component)))
            }
        }
        deserializer.deserialize_any(SpecVisitor)
    }
}

/// `[[trigger.http]]`: Spin's generic trigger keys plus `HttpTriggerConfig`'s, both strict.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    component: Option<RawComponentSpec>,
    #[serde(default)]
    components: Option<IgnoredAny>,
    #[serde(default)]
    dependencies: Option<IgnoredAny>,
    route: toml::Value,
    #[serde(default)]
    static_response: Option<toml::Value>,
    #[serde(default)]
    executor: Option<toml::Value>,
}

/// `[[trigger.redis]]`: generic trigger keys plus the Redis trigger's `TriggerConfig`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedisTrigger {
    #[serde(default)]
    id: Option<String>,
    component: RawComponentSpec,
    #[serde(default)]
    components: Option<IgnoredAny>,
    #[serde(default)]
    dependencies: Option<IgnoredAny>,
    channel: String,
    #[serde(default)]
    address: Option<String>,
}

/// `[trigger]`: arrays of triggers by type, with the types in document order (Spin numbers
/// generated ids per type, in that order).
#[derive(Default)]
struct RawTriggers {
    type_order: Vec<String>,
    http: Vec<RawHttpTrigger>,
    redis: Vec<RawRedisTrigger>,
    unsupported: Vec<String>,
}

impl<'de> Deserialize<'de> for RawTriggers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TriggersVisitor;
        impl<'de> Visitor<'de> for TriggersVisitor {
            type Value = RawTriggers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table of trigger arrays, e.g. [[trigger.http]]")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut triggers = RawTriggers::default();
                while let Some(kind) = map.next_key::<String>()? {
                    match kind.as_str() {
                        "http" => {
                            triggers.http = map.next_value_seed(TriggerArray::new("http"))?;
                        }
                        "redis" => {
                            triggers.redis = map.next_value_seed(TriggerArray::new("redis"))?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            triggers.unsupported.push(kind.clone());
                        }
                    }
                    triggers.type_order.push(kind);
                }
                Ok(triggers)
            }
        }
        deserializer.deserialize_map(TriggersVisitor)
    }
}

/// Reads one `[[trigger.<kind>]]` array, labelling each element for error messages.
struct TriggerArray<T> {
    kind: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<T> TriggerArray<T> {
    fn new(kind: &'static str) -> Self {
        TriggerArray {
            kind,
            marker: std::marker::PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> de::DeserializeSeed<'de> for TriggerArray<T> {
    type Value = Vec<T>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<T>, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for TriggerArray<T> {
    type Value = Vec<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of tables: write [[trigger.{}]]", self.kind)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        loop {
            let label = trigger_label(self.kind, out.len());
            match in_context(label, || seq.next_element::<T>())? {
                Some(trigger) => out.push(trigger),
                None => return Ok(out),
            }
        }
    }
}

fn trigger_label(kind: &str, index: usize) -> String {
    format!("[[trigger.{kind}]] #{}", index + 1)
}

/// Reads a table into `(key, value)` pairs, labelling each value for error messages and keeping
/// the key's span so later checks can report a line.
struct LabelledTable<V> {
    label: fn(&str) -> String,
    marker: std::marker::PhantomData<V>,
}

impl<'de, V: Deserialize<'de>> Visitor<'de> for LabelledTable<V> {
    type Value = Vec<(Spanned<String>, V)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let label = (self.label)(key.get_ref());
            let value = in_context(label, || map.next_value::<V>())?;
            out.push((key, value));
        }
        Ok(out)
    }
}

fn labelled_table<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    deserializer: D,
    label: fn(&str) -> String,
) -> Result<Vec<(Spanned<String>, V)>, D::Error> {
    deserializer.deserialize_map(LabelledTable {
        label,
        marker: std::marker::PhantomData,
    })
}

fn variables_in_context<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(Spanned<String>, RawVariable)>, D::Error> {
    labelled_table(deserializer, |name| format!("variables.{name}"))
}

fn components_in_context<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(Spanned<String>, RawComponent)>, D::Error> {
    labelled_table(deserializer, |id| format!("component `{id}`"))
}

fn application_in_context<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<RawApplication, D::Error> {
    in_context("[application]".to_owned(), || {
        RawApplication::deserialize(deserializer)
    })
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

impl Manifest {
    /// Reads, parses and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses and validates manifest `text`; `path` names the file in errors and gives the
    /// directory that relative paths are joined onto.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let loader = Loader::new(text, path);
        loader.check_version()?;
        let raw = loader.deserialize()?;
        loader.build(raw)
    }

    /// Checks that every component's `key_value_stores` and `sqlite_databases` label is defined:
    /// `default` always is, others must be among the labels the runtime config defines.
    /// Reports every undefined use at once.
    pub fn check_labels(
        &self,
        kv_labels: &BTreeSet<String>,
        sqlite_labels: &BTreeSet<String>,
    ) -> Result<(), ManifestError> {
        let defined = |labels: &BTreeSet<String>, label: &str| {
            label == DEFAULT_LABEL || labels.contains(label)
        };
        let mut missing = Vec::new();
        for component in self.components.values() {
            let uses = component
                .key_value_stores
                .iter()
                .map(|label| (LabelKind::KeyValueStore, label, kv_labels))
                .chain(
                    component
                        .sqlite_databases
                        .iter()
                        .map(|label| (LabelKind::SqliteDatabase, label, sqlite_labels)),
                );
            for (kind, label, labels) in uses {
                if !defined(labels, label) {
                    missing.push(UndefinedLabel {
                        component: component.id.clone(),
                        kind,
                        label: label.clone(),
                    });
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(ManifestError::UndefinedLabels {
                path: self.path.clone(),
                missing,
            })
        }
    }
}

/// The store label that exists without any runtime config, for key-value and SQLite alike.
const DEFAULT_LABEL: &str = "default";

/// The state of one `Manifest::parse` call.
struct Loader<'a> {
    text: &'a str,
    path: &'a Path,
    dir: PathBuf,
}

/// Working state while raw tables become the public model.
struct Build {
    variables: BTreeMap<String, VariableDecl>,
    components: BTreeMap<String, ComponentDecl>,
    /// Per component, the keys that make it unusable as a `{ component = ... }` dependency.
    resources: BTreeMap<String, Vec<&'static str>>,
    /// Per component, its declaration line, for dependency errors.
    lines: BTreeMap<String, Option<usize>>,
    warnings: Vec<String>,
}

impl<'a> Loader<'a> {
    fn new(text: &'a str, path: &'a Path) -> Self {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        };
        Loader { text, path, dir }
    }

    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn parse_error(&self, error: toml::de::Error, context: Option<String>) -> ManifestError {
        ManifestError::Parse {
            path: self.path.to_owned(),
            line: error.span().map(|span| self.line_of(span.start)),
            context,
            message: error.message().trim_end().to_owned(),
        }
    }

    fn invalid(
        &self,
        line: Option<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> ManifestError {
        ManifestError::Invalid {
            path: self.path.to_owned(),
            line,
            key: key.into(),
            message: message.into(),
        }
    }

    /// Spin reads `spin_manifest_version` (alias `spin_version`) before anything else: the
    /// string `"1"` selects the v1 schema, the integer 2 the v2 schema, anything else fails.
    fn check_version(&self) -> Result<(), ManifestError> {
        let probe: VersionProbe =
            toml::from_str(self.text).map_err(|error| self.parse_error(error, None))?;
        const KEY: &str = "spin_manifest_version";
        match probe.spin_manifest_version {
            Some(toml::Value::Integer(2)) => Ok(()),
            None => Err(self.invalid(
                None,
                KEY,
                "missing: a Spin manifest starts with `spin_manifest_version = 2`",
            )),
            Some(toml::Value::String(v)) if v == "1" => Err(self.invalid(
                None,
                KEY,
                "manifest v1 is not supported by reen-host: convert it to \
                 `spin_manifest_version = 2` (Spin's `spin doctor` can help)",
            )),
            Some(toml::Value::Integer(1)) => Err(self.invalid(
                None,
                KEY,
                "manifest v1 is not supported by reen-host (and v1 wrote the version as the \
                 string \"1\"): use `spin_manifest_version = 2`",
            )),
            Some(other) => Err(self.invalid(
                None,
                KEY,
                format!("invalid manifest version {other}: expected the integer 2"),
            )),
        }
    }

    fn deserialize(&self) -> Result<RawManifest, ManifestError> {
        PARSE_CONTEXT.with_borrow_mut(Vec::clear);
        toml::from_str::<RawManifest>(self.text).map_err(|error| {
            let stack = PARSE_CONTEXT.with_borrow_mut(std::mem::take);
            let context = (!stack.is_empty()).then(|| stack.join(": "));
            self.parse_error(error, context)
        })
    }

    fn build(&self, raw: RawManifest) -> Result<Manifest, ManifestError> {
        let mut build = Build {
            variables: BTreeMap::new(),
            components: BTreeMap::new(),
            resources: BTreeMap::new(),
            lines: BTreeMap::new(),
            warnings: Vec::new(),
        };

        let application = &raw.application;

        for (name, variable) in raw.variables {
            let line = Some(self.line_of(name.span().start));
            let name = name.into_inner();
            let decl = self.variable(line, &name, variable)?;
            build.variables.insert(name, decl);
        }

        for (id, component) in raw.component {
            let line = Some(self.line_of(id.span().start));
            let id = id.into_inner();
            check_component_id(&id).map_err(|reason| {
                self.invalid(
                    line,
                    format!("component `{id}`"),
                    format!("invalid component id: {reason}"),
                )
            })?;
            self.add_component(&mut build, id, line, component)?;
        }

        let triggers = raw.trigger;
        if let Some(kind) = triggers.unsupported.first() {
            return Err(self.invalid(
                None,
                format!("[[trigger.{kind}]]"),
                format!(
                    "trigger type {kind} is not supported by reen-host: it runs `http` and \
                     `redis` triggers only (real Spin would look for a `trigger-{kind}` plugin)"
                ),
            ));
        }
        let ids = normalized_trigger_ids(&triggers);

        // Types in document order, so inline components are numbered as Spin numbers them.
        let RawTriggers {
            type_order,
            http,
            redis,
            ..
        } = triggers;
        let (mut http, mut redis) = (Some(http), Some(redis));
        let mut http_triggers = Vec::new();
        let mut redis_triggers = Vec::new();
        for kind in &type_order {
            if let ("http", Some(raw)) = (kind.as_str(), http.take()) {
                for (index, trigger) in raw.into_iter().enumerate() {
                    let normalized_id = ids[&("http", index)].clone();
                    http_triggers.push(self.http_trigger(
                        &mut build,
                        index,
                        normalized_id,
                        trigger,
                    )?);
                }
            } else if let ("redis", Some(raw)) = (kind.as_str(), redis.take()) {
                for (index, trigger) in raw.into_iter().enumerate() {
                    let normalized_id = ids[&("redis", index)].clone();
                    redis_triggers.push(self.redis_trigger(
                        &mut build,
                        index,
                        normalized_id,
                        trigger,
                    )?);
                }
            }
        }
        self.check_trigger_components(&build, &http_triggers, &redis_triggers)?;

        self.check_component_dependencies(&build)?;

        let redis_address =
            self.app_trigger_settings(&mut build, application, &http_triggers, &redis_triggers)?;
        for trigger in &redis_triggers {
            if trigger.address.is_none() && redis_address.is_none() {
                return Err(self.invalid(
                    None,
                    format!("[[trigger.redis]] `{}`", trigger.normalized_id),
                    "no Redis address: set `address` on the trigger or in \
                     [application.trigger.redis] (Spin fails to start without one)",
                ));
            }
        }

        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        Ok(Manifest {
            path: self.path.to_owned(),
            dir: self.dir.clone(),
            application: Application {
                name: application.name.clone(),
                version: non_empty(&application.version),
                description: non_empty(&application.description),
                authors: application.authors.clone(),
                redis_address,
            },
            variables: build.variables,
            http_triggers,
            redis_triggers,
            components: build.components,
            warnings: build.warnings,
        })
    }

    fn variable(
        &self,
        line: Option<usize>,
        name: &str,
        raw: RawVariable,
    ) -> Result<VariableDecl, ManifestError> {
        let key = format!("variables.{name}");
        check_variable_name(name).map_err(|reason| {
            self.invalid(line, &key, format!("invalid variable name: {reason}"))
        })?;
        // `crates/loader/src/local.rs`: `required` XOR `default`.
        match (raw.required, raw.default.is_some()) {
            (true, true) => {
                return Err(self.invalid(
                    line,
                    &key,
                    "give either `required = true` or a `default`, not both",
                ));
            }
            (false, false) => {
                return Err(self.invalid(
                    line,
                    &key,
                    "must be `required = true` or have a `default`",
                ));
            }
            _ => {}
        }
        Ok(VariableDecl {
            default: raw.default,
            required: raw.required,
            secret: raw.secret,
            description: raw.description,
        })
    }

    /// Checks a template's syntax and that every variable it uses is an application variable.
    fn template(
        &self,
        build: &Build,
        line: Option<usize>,
        key: &str,
        field: &str,
        text: &str,
    ) -> Result<Template, ManifestError> {
        let template = Template::parse(text)
            .map_err(|error| self.invalid(line, key, format!("{field}: {error}")))?;
        if let Some(name) = template
            .variables()
            .find(|name| !build.variables.contains_key(*name))
        {
            return Err(self.invalid(
                line,
                key,
                format!(
                    "{field}: {text:?} references undeclared variable `{name}`; \
                     declare it under [variables]"
                ),
            ));
        }
        Ok(template)
    }

    fn add_component(
        &self,
        build: &mut Build,
        id: String,
        line: Option<usize>,
        raw: RawComponent,
    ) -> Result<(), ManifestError> {
        let key = format!("component `{id}`");
        let invalid = |message: String| self.invalid(line, &key, message);

        let source = match local_source(&raw.source).map_err(&invalid)? {
            Some(path) => self.dir.join(path),
            None => {
                return Err(invalid(format!(
                    "reen-host runs only local `source` files; `source = {}` is valid Spin \
                     but must be downloaded first (point `source` at the .wasm file)",
                    raw.source
                )));
            }
        };

        let mut variables = BTreeMap::new();
        for (name, text) in &raw.variables {
            check_variable_name(name).map_err(|reason| {
                invalid(format!("variables.{name}: invalid variable name: {reason}"))
            })?;
            let template = self.template(build, line, &key, &format!("variables.{name}"), text)?;
            variables.insert(name.clone(), template);
        }

        let files = raw
            .files
            .iter()
            .map(file_mount)
            .collect::<Result<Vec<_>, _>>()
            .map_err(&invalid)?;

        // Spin refuses a lone "insecure:allow-all" (`crates/outbound-networking-config`).
        if raw.allowed_outbound_hosts.len() == 1 && raw.allowed_outbound_hosts[0] == ALLOW_ALL {
            return Err(invalid(
                "allowed_outbound_hosts: \"insecure:allow-all\" is not allowed; write \
                 \"*://*:*\" if you really mean every host"
                    .to_owned(),
            ));
        }
        let mut allowed_outbound_hosts = Vec::new();
        for host in &raw.allowed_outbound_hosts {
            allowed_outbound_hosts.push(self.template(
                build,
                line,
                &key,
                "allowed_outbound_hosts",
                host,
            )?);
        }
        let converted = convert_allowed_http_hosts(&raw.allowed_http_hosts)
            .map_err(|error| invalid(format!("allowed_http_hosts is malformed: {error}")))?;
        if !converted.is_empty() {
            build.warnings.push(format!(
                "{}: {key}: `allowed_http_hosts` is deprecated; replace it with \
                 `allowed_outbound_hosts = {converted:?}`",
                self.path.display()
            ));
        }
        for host in converted {
            allowed_outbound_hosts.push(self.template(
                build,
                line,
                &key,
                "allowed_http_hosts",
                &host,
            )?);
        }

        for (field, labels) in [
            ("key_value_stores", &raw.key_value_stores),
            ("sqlite_databases", &raw.sqlite_databases),
        ] {
            for label in labels {
                check_label(label).map_err(|reason| invalid(format!("{field}: {reason}")))?;
            }
        }

        let build_config = match &raw.build {
            None => None,
            Some(b) => Some(BuildConfig {
                command: commands(&b.command)
                    .map_err(|reason| invalid(format!("build.command: {reason}")))?,
                workdir: b.workdir.as_ref().map(PathBuf::from),
                watch: b.watch.clone(),
            }),
        };

        let mut dependencies = BTreeMap::new();
        for (name, value) in &raw.dependencies {
            let dependency = self
                .dependency(name, value)
                .map_err(|reason| invalid(format!("dependencies.{name:?}: {reason}")))?;
            dependencies.insert(name.clone(), dependency);
        }
        check_disjoint_dependencies(dependencies.keys()).map_err(invalid)?;
        let per_dependency = dependencies
            .values()
            .any(|d| d.inherit_configuration().is_some());
        if raw.dependencies_inherit_configuration.is_some() && per_dependency {
            return Err(invalid(
                "`dependencies_inherit_configuration` and per-dependency \
                 `inherit_configuration` are mutually exclusive; use one or the other"
                    .to_owned(),
            ));
        }

        for (name, profile) in &raw.profile {
            self.check_profile(profile)
                .map_err(|reason| invalid(format!("profile.{name}: {reason}")))?;
        }

        // What `ensure_is_acceptable_dependency` (normalize.rs) looks for.
        let resources: Vec<&'static str> = [
            ("ai_models", !raw.ai_models.is_empty()),
            ("allowed_http_hosts", !raw.allowed_http_hosts.is_empty()),
            (
                "allowed_outbound_hosts",
                !raw.allowed_outbound_hosts.is_empty(),
            ),
            ("dependencies", !raw.dependencies.is_empty()),
            ("environment", !raw.environment.is_empty()),
            ("files", !raw.files.is_empty()),
            ("key_value_stores", !raw.key_value_stores.is_empty()),
            ("sqlite_databases", !raw.sqlite_databases.is_empty()),
            ("variables", !raw.variables.is_empty()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect();

        build.resources.insert(id.clone(), resources);
        build.lines.insert(id.clone(), line);
        build.components.insert(
            id.clone(),
            ComponentDecl {
                id,
                source,
                description: (!raw.description.is_empty()).then_some(raw.description),
                variables,
                environment: raw.environment,
                files,
                exclude_files: raw.exclude_files,
                allowed_outbound_hosts,
                key_value_stores: raw.key_value_stores,
                sqlite_databases: raw.sqlite_databases,
                build: build_config,
                dependencies,
                dependencies_inherit_configuration: raw
                    .dependencies_inherit_configuration
                    .unwrap_or(false),
            },
        );
        Ok(())
    }

    fn check_profile(&self, profile: &RawProfile) -> Result<(), String> {
        if let Some(source) = &profile.source {
            // A profile may name a remote source: reen-host never runs profiles, so only the
            // shape matters.
            local_source(source)?;
        }
        for (name, value) in &profile.dependencies {
            self.dependency(name, value)
                .map_err(|reason| format!("dependencies.{name:?}: {reason}"))?;
        }
        if let Some(build) = &profile.build {
            commands(&build.command).map_err(|reason| format!("build.command: {reason}"))?;
        }
        Ok(())
    }

    /// One `dependencies` entry: the name's syntax and the value's shape
    /// (`crates/serde/src/dependencies.rs`, `ComponentDependency` in `schema/v2.rs`).
    fn dependency(&self, name: &str, value: &toml::Value) -> Result<DependencyDecl, String> {
        let package_form = name.contains([':', '/']);
        let has_interface = if package_form {
            check_dependency_package_name(name)?
        } else {
            check_component_id(name)
                .map_err(|reason| format!("invalid dependency name: {reason}"))?;
            false
        };

        let dependency = match value {
            toml::Value::String(version) => DependencyDecl::Version(version.clone()),
            toml::Value::Table(table) => self.dependency_table(table)?,
            other => {
                return Err(format!(
                    "expected a version string or a table, found {}",
                    other.type_str()
                ));
            }
        };

        // `ensure_plain_names_have_package`: a plain name says nothing about what to fetch.
        if !package_form {
            let names_package = match &dependency {
                DependencyDecl::Version(_) => false,
                DependencyDecl::Package { package, .. } => package.is_some(),
                _ => true,
            };
            if !names_package {
                return Err(format!("dependency {name:?} must specify a package name"));
            }
        }
        // `ensure_package_names_no_export`: a whole package cannot be satisfied by one export.
        if package_form && !has_interface {
            let export = match &dependency {
                DependencyDecl::Package { export, .. } | DependencyDecl::Path { export, .. } => {
                    export.as_ref()
                }
                _ => None,
            };
            if export.is_some() {
                return Err(format!(
                    "using an export to satisfy the package dependency {name:?} is not permitted"
                ));
            }
        }
        Ok(dependency)
    }

    fn dependency_table(&self, table: &toml::Table) -> Result<DependencyDecl, String> {
        let shape = if table.contains_key("path") {
            ("path", &["path", "export", "inherit_configuration"][..])
        } else if table.contains_key("url") {
            (
                "url",
                &["url", "digest", "export", "inherit_configuration"][..],
            )
        } else if table.contains_key("component") {
            (
                "component",
                &["component", "export", "inherit_configuration"][..],
            )
        } else if table.contains_key("version") {
            (
                "version",
                &[
                    "version",
                    "registry",
                    "package",
                    "export",
                    "inherit_configuration",
                ][..],
            )
        } else {
            return Err("expected a table with `version`, `path`, `url` or `component`".to_owned());
        };
        let (kind, allowed) = shape;
        if let Some(unknown) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(format!(
                "unknown key `{unknown}` in a `{kind}` dependency; expected {}",
                quote_list(allowed)
            ));
        }
        let export = optional_string(table, "export")?;
        let inherit_configuration = match table.get("inherit_configuration") {
            None => None,
            Some(toml::Value::Boolean(all)) => Some(InheritConfiguration::All(*all)),
            Some(toml::Value::Array(items)) => Some(InheritConfiguration::Only(
                items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| "inherit_configuration: expected strings".to_owned())
                    })
                    .collect::<Result<_, _>>()?,
            )),
            Some(_) => {
                return Err(
                    "inherit_configuration: expected `true`, `false` or a list of keys".to_owned(),
                );
            }
        };
        Ok(match kind {
            "path" => DependencyDecl::Path {
                path: PathBuf::from(required_string(table, "path")?),
                export,
                inherit_configuration,
            },
            "url" => DependencyDecl::Url {
                url: required_string(table, "url")?,
                digest: required_string(table, "digest")?,
                export,
                inherit_configuration,
            },
            "component" => {
                let id = required_string(table, "component")?;
                check_component_id(&id)
                    .map_err(|reason| format!("component: invalid component id: {reason}"))?;
                DependencyDecl::Component {
                    id,
                    export,
                    inherit_configuration,
                }
            }
            _ => DependencyDecl::Package {
                version: required_string(table, "version")?,
                registry: optional_string(table, "registry")?,
                package: optional_string(table, "package")?,
                export,
                inherit_configuration,
            },
        })
    }

    /// `{ component = "<id>" }` dependencies name a declared component that has no resources
    /// or permissions of its own (`normalize_dependency_component_refs` in normalize.rs).
    fn check_component_dependencies(&self, build: &Build) -> Result<(), ManifestError> {
        for component in build.components.values() {
            for (name, dependency) in &component.dependencies {
                let DependencyDecl::Component { id, .. } = dependency else {
                    continue;
                };
                let line = build.lines.get(&component.id).copied().flatten();
                let key = format!("component `{}`", component.id);
                let Some(resources) = build.resources.get(id) else {
                    return Err(self.invalid(
                        line,
                        key,
                        format!("dependencies.{name:?}: component `{id}` does not exist"),
                    ));
                };
                if !resources.is_empty() {
                    return Err(self.invalid(
                        line,
                        key,
                        format!(
                            "dependencies.{name:?}: dependencies may not have their own \
                             resources or permissions; component `{id}` cannot be used as a \
                             dependency of `{}` because it specifies: {}. Use its built file \
                             instead (`{{ path = \"....wasm\" }}`)",
                            component.id,
                            resources.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Resolves a trigger's `component`: checks a reference's syntax, or adds an inline table
    /// as a component under the id Spin generates (`normalize_inline_components`).
    fn trigger_component(
        &self,
        build: &mut Build,
        key: &str,
        normalized_id: &str,
        spec: RawComponentSpec,
    ) -> Result<String, ManifestError> {
        match spec {
            RawComponentSpec::Reference(id) => {
                // Existence is checked once every inline component has its id
                // (`check_trigger_components`).
                check_component_id(&id).map_err(|reason| {
                    self.invalid(
                        None,
                        key,
                        format!("component: invalid component id {id:?}: {reason}"),
                    )
                })?;
                Ok(id)
            }
            RawComponentSpec::Inline(component) => {
                let natural = format!("{normalized_id}-component");
                let id = if check_component_id(&natural).is_ok()
                    && !build.components.contains_key(&natural)
                {
                    natural
                } else {
                    (1..)
                        .map(|n| format!("inline-component{n}"))
                        .find(|id| !build.components.contains_key(id))
                        .unwrap_or_default()
                };
                self.add_component(build, id.clone(), None, *component)?;
                Ok(id)
            }
        }
    }

    /// Every trigger names a declared component (Spin fails at startup with
    /// `no such component`).
    fn check_trigger_components(
        &self,
        build: &Build,
        http: &[HttpTrigger],
        redis: &[RedisTrigger],
    ) -> Result<(), ManifestError> {
        let http = http
            .iter()
            .enumerate()
            .filter_map(|(index, t)| match &t.target {
                HttpTarget::Component(id) => Some((trigger_label("http", index), id)),
                HttpTarget::StaticResponse { .. } => None,
            });
        let redis = redis
            .iter()
            .enumerate()
            .map(|(index, t)| (trigger_label("redis", index), &t.component));
        for (key, id) in http.chain(redis) {
            if !build.components.contains_key(id) {
                return Err(self.invalid(
                    None,
                    key,
                    format!(
                        "component `{id}` is not declared: add a [component.{id}] table or fix \
                         the name"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn http_trigger(
        &self,
        build: &mut Build,
        index: usize,
        normalized_id: String,
        raw: RawHttpTrigger,
    ) -> Result<HttpTrigger, ManifestError> {
        let key = trigger_label("http", index);
        let invalid = |message: String| self.invalid(None, &key, message);
        self.reject_trigger_extras("http", &key, &raw.components, &raw.dependencies)?;

        let route = match &raw.route {
            toml::Value::String(path) => HttpRoute::Path(path.clone()),
            toml::Value::Table(table) if table.len() == 1 && table.contains_key("private") => {
                match table["private"] {
                    toml::Value::Boolean(true) => HttpRoute::Private,
                    toml::Value::Boolean(false) => {
                        return Err(invalid(
                            "route must be a string pattern or `{ private = true }`; \
                             `{ private = false }` is not allowed"
                                .to_owned(),
                        ));
                    }
                    _ => return Err(invalid("route: `private` must be `true`".to_owned())),
                }
            }
            _ => {
                return Err(invalid(
                    "route must be a string pattern such as \"/api/...\" or \
                     `{ private = true }`"
                        .to_owned(),
                ));
            }
        };

        if let Some(executor) = &raw.executor {
            self.check_executor(build, &key, executor)?;
        }

        let target = match (raw.component, &raw.static_response) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "give either `component` or `static_response`, not both".to_owned(),
                ));
            }
            (None, None) => {
                return Err(invalid(
                    "needs a `component` (or a `static_response`)".to_owned(),
                ));
            }
            (Some(spec), None) => {
                HttpTarget::Component(self.trigger_component(build, &key, &normalized_id, spec)?)
            }
            (None, Some(response)) => self.static_response(build, &key, response)?,
        };

        Ok(HttpTrigger {
            id: raw.id.filter(|id| !id.is_empty()),
            normalized_id,
            route,
            target,
        })
    }

    /// Spin's `StaticResponse` is not `deny_unknown_fields`: extra keys are ignored there, so
    /// here they only earn a warning.
    fn static_response(
        &self,
        build: &mut Build,
        key: &str,
        value: &toml::Value,
    ) -> Result<HttpTarget, ManifestError> {
        let invalid = |message: String| self.invalid(None, key, message);
        let toml::Value::Table(table) = value else {
            return Err(invalid(
                "static_response must be a table like `{ status_code = 404, body = \"...\" }`"
                    .to_owned(),
            ));
        };
        let status_code = match table.get("status_code") {
            None => 200,
            Some(toml::Value::Integer(code)) if (100..=999).contains(code) => *code as u16,
            Some(other) => {
                return Err(invalid(format!(
                    "static_response.status_code must be an HTTP status (100-999), found {other}"
                )));
            }
        };
        let mut headers = BTreeMap::new();
        match table.get("headers") {
            None => {}
            Some(toml::Value::Table(entries)) => {
                for (name, value) in entries {
                    let value = value.as_str().ok_or_else(|| {
                        invalid(format!("static_response.headers.{name} must be a string"))
                    })?;
                    headers.insert(name.clone(), value.to_owned());
                }
            }
            Some(_) => {
                return Err(invalid(
                    "static_response.headers must be a table of strings".to_owned(),
                ));
            }
        }
        let body = match table.get("body") {
            None => None,
            Some(toml::Value::String(body)) => Some(body.clone()),
            Some(_) => return Err(invalid("static_response.body must be a string".to_owned())),
        };
        for extra in table
            .keys()
            .filter(|k| !["status_code", "headers", "body"].contains(&k.as_str()))
        {
            build.warnings.push(format!(
                "{}: {key}: static_response.{extra} is ignored (Spin ignores it too)",
                self.path.display()
            ));
        }
        Ok(HttpTarget::StaticResponse {
            status_code,
            headers,
            body,
        })
    }

    /// `executor = { type = "http" }` (alias `spin`) is the default and the only executor
    /// reen-host has; Spin's other one, WAGI, runs CGI-style modules.
    fn check_executor(
        &self,
        build: &mut Build,
        key: &str,
        executor: &toml::Value,
    ) -> Result<(), ManifestError> {
        let invalid = |message: String| self.invalid(None, key, message);
        let toml::Value::Table(table) = executor else {
            return Err(invalid(
                "executor must be a table like `{ type = \"http\" }`".to_owned(),
            ));
        };
        match table.get("type").and_then(toml::Value::as_str) {
            Some("http" | "spin") => {
                // Spin's unit variant ignores any other key.
                for extra in table.keys().filter(|k| k.as_str() != "type") {
                    build.warnings.push(format!(
                        "{}: {key}: executor.{extra} is ignored (Spin ignores it too)",
                        self.path.display()
                    ));
                }
                Ok(())
            }
            Some("wagi") => Err(invalid(
                "the WAGI executor is not supported by reen-host; use a component that \
                 exports wasi:http/incoming-handler (`executor = { type = \"http\" }`)"
                    .to_owned(),
            )),
            Some(other) => Err(invalid(format!(
                "unknown executor type {other:?}: Spin accepts \"http\" (alias \"spin\") or \
                 \"wagi\", and reen-host runs \"http\" only"
            ))),
            None => Err(invalid(
                "executor needs a `type`, e.g. `{ type = \"http\" }`".to_owned(),
            )),
        }
    }

    fn reject_trigger_extras(
        &self,
        kind: &str,
        key: &str,
        components: &Option<IgnoredAny>,
        dependencies: &Option<IgnoredAny>,
    ) -> Result<(), ManifestError> {
        if components.is_some() {
            return Err(self.invalid(
                None,
                key,
                format!(
                    "`components` on [[trigger.{kind}]] is not supported by reen-host \
                     (it runs the trigger's one `component`)"
                ),
            ));
        }
        if dependencies.is_some() {
            return Err(self.invalid(
                None,
                key,
                format!(
                    "trigger `dependencies` (e.g. Spin 4.1 HTTP middleware) on \
                     [[trigger.{kind}]] are not supported by reen-host"
                ),
            ));
        }
        Ok(())
    }

    fn redis_trigger(
        &self,
        build: &mut Build,
        index: usize,
        normalized_id: String,
        raw: RawRedisTrigger,
    ) -> Result<RedisTrigger, ManifestError> {
        let key = trigger_label("redis", index);
        self.reject_trigger_extras("redis", &key, &raw.components, &raw.dependencies)?;
        let channel = self.template(build, None, &key, "channel", &raw.channel)?;
        let address = match &raw.address {
            None => None,
            Some(address) => Some(self.template(build, None, &key, "address", address)?),
        };
        let component = self.trigger_component(build, &key, &normalized_id, raw.component)?;
        Ok(RedisTrigger {
            id: raw.id.filter(|id| !id.is_empty()),
            normalized_id,
            channel,
            component,
            address,
        })
    }

    /// `[application.trigger.<type>]` tables are only read by triggers the app uses, and each
    /// trigger reads its own strictly: http allows `base` (deprecated; only "/" works), redis
    /// requires `address`. Tables for other types are ignored, as in Spin.
    fn app_trigger_settings(
        &self,
        build: &mut Build,
        application: &RawApplication,
        http: &[HttpTrigger],
        redis: &[RedisTrigger],
    ) -> Result<Option<Template>, ManifestError> {
        if let Some(table) = application.trigger.get("http").filter(|_| !http.is_empty()) {
            let key = "[application.trigger.http]";
            if let Some(unknown) = table.keys().find(|k| k.as_str() != "base") {
                return Err(self.invalid(
                    None,
                    key,
                    format!("unknown field `{unknown}`, expected `base`"),
                ));
            }
            match table.get("base") {
                None => {}
                Some(toml::Value::String(base)) if base == "/" => build.warnings.push(format!(
                    "{}: {key}: `base` is deprecated; remove it (\"/\" is the default)",
                    self.path.display()
                )),
                Some(_) => {
                    return Err(self.invalid(
                        None,
                        key,
                        "the deprecated `base` field is no longer supported: prepend the \
                         base to each [[trigger.http]] route and remove `base`",
                    ));
                }
            }
        }

        let Some(table) = application.trigger.get("redis") else {
            return Ok(None);
        };
        if redis.is_empty() {
            return Ok(None);
        }
        let key = "[application.trigger.redis]";
        if let Some(unknown) = table.keys().find(|k| k.as_str() != "address") {
            return Err(self.invalid(
                None,
                key,
                format!("unknown field `{unknown}`, expected `address`"),
            ));
        }
        match table.get("address") {
            Some(toml::Value::String(address)) => {
                Ok(Some(self.template(build, None, key, "address", address)?))
            }
            Some(_) => Err(self.invalid(None, key, "`address` must be a string")),
            None => Err(self.invalid(None, key, "missing field `address`")),
        }
    }
}

/// Spin's `normalize_trigger_ids`: a trigger without an id gets `<component>-<type>-trigger`
/// when it names a component and that id is free, else `<type>-trigger<N>` with the lowest free
/// N (counted per type). Types are visited in document order.
fn normalized_trigger_ids(triggers: &RawTriggers) -> BTreeMap<(&'static str, usize), String> {
    let declared = |id: &Option<String>| id.clone().filter(|id| !id.is_empty());
    let reference = |spec: Option<&RawComponentSpec>| match spec {
        Some(RawComponentSpec::Reference(id)) => Some(id.clone()),
        _ => None,
    };
    let entries = |kind: &str| -> Vec<(Option<String>, Option<String>)> {
        match kind {
            "http" => triggers
                .http
                .iter()
                .map(|t| (declared(&t.id), reference(t.component.as_ref())))
                .collect(),
            "redis" => triggers
                .redis
                .iter()
                .map(|t| (declared(&t.id), reference(Some(&t.component))))
                .collect(),
            _ => Vec::new(),
        }
    };

    let mut taken: BTreeSet<String> = ["http", "redis"]
        .into_iter()
        .flat_map(entries)
        .filter_map(|(id, _)| id)
        .collect();
    let mut ids = BTreeMap::new();
    for kind in &triggers.type_order {
        let kind: &'static str = match kind.as_str() {
            "http" => "http",
            "redis" => "redis",
            _ => continue,
        };
        let mut counter = 1;
        for (index, (id, component)) in entries(kind).into_iter().enumerate() {
            let id = match (id, component) {
                (Some(id), _) => id,
                (None, Some(component))
                    if !taken.contains(&format!("{component}-{kind}-trigger")) =>
                {
                    let id = format!("{component}-{kind}-trigger");
                    taken.insert(id.clone());
                    id
                }
                (None, _) => loop {
                    let id = format!("{kind}-trigger{counter}");
                    if taken.insert(id.clone()) {
                        break id;
                    }
                    counter += 1;
                },
            };
            ids.insert((kind, index), id);
        }
    }
    ids
}

// ---------------------------------------------------------------------------------------------
// Value shapes
// ---------------------------------------------------------------------------------------------

const ALLOW_ALL: &str = "insecure:allow-all";

/// `Ok(Some(path))` for a local source, `Ok(None)` for a well-formed remote one (URL or
/// registry), `Err` for anything Spin's `ComponentSource` would not accept.
fn local_source(source: &toml::Value) -> Result<Option<String>, String> {
    const SHAPES: &str = "source must be a path string, `{ url, digest }` or \
                          `{ registry, package, version }`";
    match source {
        toml::Value::String(path) => Ok(Some(path.clone())),
        toml::Value::Table(table) => {
            let keys: BTreeSet<&str> = table.keys().map(String::as_str).collect();
            let all_strings = table.values().all(toml::Value::is_str);
            let remote = keys == BTreeSet::from(["url", "digest"]);
            let registry = keys.contains("package")
                && keys.contains("version")
                && keys.is_subset(&BTreeSet::from(["registry", "package", "version"]));
            if all_strings && (remote || registry) {
                Ok(None)
            } else {
                Err(SHAPES.to_owned())
            }
        }
        _ => Err(SHAPES.to_owned()),
    }
}

fn file_mount(value: &toml::Value) -> Result<FileMount, String> {
    const SHAPES: &str = "files: each entry must be a glob string or `{ source = \"dir\", destination = \"/path\" }`";
    match value {
        // The loader refuses these before touching the disk (`copy_glob_or_path` in
        // crates/loader/src/local.rs): they would mount a directory's parent or itself.
        toml::Value::String(pattern)
            if pattern == ".."
                || pattern.ends_with("/..")
                || pattern == "."
                || pattern.ends_with("/.") =>
        {
            Err(format!(
                "files: a pattern can't end in `.` or `..` ({pattern:?}); to include a directory \
                 use `{{ source = \"dir\", destination = \"/path\" }}` or a glob ending in `**/*`"
            ))
        }
        toml::Value::String(pattern) => Ok(FileMount::Pattern(pattern.clone())),
        toml::Value::Table(table) => {
            if table.len() != 2 {
                return Err(SHAPES.to_owned());
            }
            match (table.get("source"), table.get("destination")) {
                (Some(toml::Value::String(source)), Some(toml::Value::String(destination))) => {
                    Ok(FileMount::Placement {
                        source: source.clone(),
                        destination: destination.clone(),
                    })
                }
                _ => Err(SHAPES.to_owned()),
            }
        }
        _ => Err(SHAPES.to_owned()),
    }
}

/// `command = "one"` or `command = ["one", "two"]`.
fn commands(value: &toml::Value) -> Result<Vec<String>, String> {
    match value {
        toml::Value::String(command) => Ok(vec![command.clone()]),
        toml::Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| "expected a string or a list of strings".to_owned())
            })
            .collect(),
        _ => Err("expected a string or a list of strings".to_owned()),
    }
}

fn required_string(table: &toml::Table, key: &str) -> Result<String, String> {
    optional_string(table, key)?.ok_or_else(|| format!("missing `{key}`"))
}

fn optional_string(table: &toml::Table, key: &str) -> Result<Option<String>, String> {
    match table.get(key) {
        None => Ok(None),
        Some(toml::Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn quote_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|item| format!("`{item}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A package-form dependency name: `ns:pkg`, `ns:pkg@1.2.3`, `ns:pkg/iface`, `ns:pkg/iface@1.2.3`.
/// Returns whether it names an interface.
fn check_dependency_package_name(name: &str) -> Result<bool, String> {
    let bad = |why: &str| {
        format!(
            "invalid dependency name {name:?}: {why} (expected `namespace:package[/interface][@version]`)"
        )
    };
    let (name_part, version) = match name.split_once('@') {
        Some((name_part, version)) => (name_part, Some(version)),
        None => (name, None),
    };
    let (package, interface) = match name_part.split_once('/') {
        Some((package, interface)) => (package, Some(interface)),
        None => (name_part, None),
    };
    let (namespace, package_name) = package
        .split_once(':')
        .ok_or_else(|| bad("missing `:` between namespace and package"))?;
    for label in [namespace, package_name] {
        check_id(label, '-', true).map_err(|reason| bad(&reason))?;
    }
    if let Some(interface) = interface {
        check_component_id(interface).map_err(|reason| bad(&reason))?;
    }
    if let Some(version) = version
        && !is_semver(version)
    {
        return Err(bad("the version must be semver, e.g. 0.1.0"));
    }
    Ok(interface.is_some())
}

/// `ensure_disjoint` (`schema/v2.rs`): two dependency keys of one package must differ in their
/// interface or in their semver-compatible version, else both would claim the same imports.
fn check_disjoint_dependencies<'k>(names: impl Iterator<Item = &'k String>) -> Result<(), String> {
    let keys: Vec<(&String, DependencyKey)> = names
        .filter(|name| name.contains([':', '/']))
        .map(|name| (name, DependencyKey::parse(name)))
        .collect();
    for (i, (name, key)) in keys.iter().enumerate() {
        for (other_name, other) in &keys[i + 1..] {
            if key.package != other.package {
                continue;
            }
            let versions_differ =
                matches!((&key.version, &other.version), (Some(a), Some(b)) if a != b);
            let interfaces_differ =
                matches!((key.interface, other.interface), (Some(a), Some(b)) if a != b);
            if !versions_differ && !interfaces_differ {
                return Err(format!(
                    "dependencies {name:?} and {other_name:?} conflict: both name package `{}` \
                     with overlapping interfaces and versions",
                    key.package
                ));
            }
        }
    }
    Ok(())
}

/// A package-form dependency key (already checked by `check_dependency_package_name`).
struct DependencyKey<'a> {
    package: &'a str,
    interface: Option<&'a str>,
    /// The version reduced to what semver considers compatible (`1.2.3` → `1`, `0.2.3` → `0.2`).
    version: Option<String>,
}

impl<'a> DependencyKey<'a> {
    fn parse(name: &'a str) -> Self {
        let (path, version) = match name.split_once('@') {
            Some((path, version)) => (path, Some(version)),
            None => (name, None),
        };
        let (package, interface) = match path.split_once('/') {
            Some((package, interface)) => (package, Some(interface)),
            None => (path, None),
        };
        DependencyKey {
            package,
            interface,
            version: version.map(compatible_version),
        }
    }
}

/// Spin's `normalize_compatible_version`: build metadata ignored, prereleases kept whole.
fn compatible_version(version: &str) -> String {
    let version = version.split('+').next().unwrap_or(version);
    if version.contains('-') {
        return version.to_owned();
    }
    let numbers: Vec<&str> = version.split('.').collect();
    match numbers[..] {
        [major, _, _] if major != "0" => major.to_owned(),
        ["0", minor, _] if minor != "0" => format!("0.{minor}"),
        _ => version.to_owned(),
    }
}

fn is_semver(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let numbers: Vec<&str> = core.split('.').collect();
    numbers.len() == 3
        && numbers
            .iter()
            .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

// ---------------------------------------------------------------------------------------------
// Deprecated `allowed_http_hosts` (crates/manifest/src/compat/allowed_http_hosts.rs)
// ---------------------------------------------------------------------------------------------

/// Converts `allowed_http_hosts` entries the way Spin does when it reads them as
/// `allowed_outbound_hosts`: "insecure:allow-all" anywhere allows every HTTP(S) host and self;
/// "self" becomes `http://self`; `host[:port]` (optionally written as an http(s) URL) becomes
/// both `http://host[:port]` and `https://host[:port]`.
fn convert_allowed_http_hosts(entries: &[String]) -> Result<Vec<String>, String> {
    if entries.iter().any(|entry| entry == ALLOW_ALL) {
        return Ok(vec![
            "http://*:*".to_owned(),
            "https://*:*".to_owned(),
            "http://self".to_owned(),
        ]);
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for entry in entries {
        match parse_http_host(entry) {
            Ok((host, _)) if host == "self" => out.push("http://self".to_owned()),
            Ok((host, port)) => {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                out.push(format!("http://{host}{port}"));
                out.push(format!("https://{host}{port}"));
            }
            Err(error) => errors.push(error),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors.join("; "))
    }
}

/// Host and explicit non-default port of an `allowed_http_hosts` entry. As with the URL parser
/// Spin uses, a port equal to the scheme's default counts as no port.
fn parse_http_host(text: &str) -> Result<(String, Option<u16>), String> {
    let (scheme, rest) = if text.contains("//") {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("{text} isn't a valid HTTP host URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(format!("{text} isn't a valid host or host:port string"));
        }
        (scheme, rest)
    } else {
        ("http".to_owned(), text)
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let path = tail.split(['?', '#']).next().unwrap_or_default();
    if path.len() > 1 {
        return Err(format!(
            "{text} contains a path, should be host and optional port only"
        ));
    }
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = if authority.starts_with('[') {
        let close = authority
            .find(']')
            .ok_or_else(|| format!("{text} isn't a valid host or host:port string"))?;
        let (host, after) = authority.split_at(close + 1);
        (host, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("{text} doesn't contain a host name"));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || "<>^|\\%\"`{}".contains(c))
    {
        return Err(format!("{text} isn't a valid host or host:port string"));
    }
    let port = match port {
        None | Some("") => None,
        Some(port) => Some(
            port.parse::<u16>()
                .map_err(|_| format!("{text} isn't a valid host or host:port string"))?,
        ),
    };
    let default_port = if scheme == "https" { 443 } else { 80 };
    Ok((
        host.to_ascii_lowercase(),
        port.filter(|&p| p != default_port),
    ))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("app/spin.toml"))
    }

    fn error(text: &str) -> String {
        parse(text)
            .expect_err("manifest should be refused")
            .to_string()
    }

    const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"t\"\n";

    fn with_head(body: &str) -> String {
        format!("{HEAD}{body}")
    }

    // --- Template ---

    #[test]
    fn template_splits_literals_and_trimmed_variables() {
        let t = Template::parse("redis://{{ host }}:{{port}}/x").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["host", "port"]);
        assert!(!t.is_literal());
        assert_eq!(t.as_str(), "redis://{{ host }}:{{port}}/x");
    }

    #[test]
    fn template_without_braces_is_literal() {
        let t = Template::parse("https://example.com").unwrap();
        assert!(t.is_literal());
        assert_eq!(t.render(|_| None).unwrap(), "https://example.com");
    }

    #[test]
    fn empty_template_is_literal_and_renders_empty() {
        let t = Template::parse("").unwrap();
        assert!(t.is_literal());
        assert_eq!(t.render(|_| None).unwrap(), "");
    }

    #[test]
    fn template_renders_with_lookup() {
        let t = Template::parse("a-{{ x }}-{{ y }}-{{x}}").unwrap();
        let out = t.render(|name| Some(name.to_uppercase())).unwrap();
        assert_eq!(out, "a-X-Y-X");
    }

    #[test]
    fn template_render_names_the_missing_variable() {
        let t = Template::parse("{{ known }}{{ unknown }}").unwrap();
        let err = t
            .render(|name| (name == "known").then(|| "v".to_owned()))
            .unwrap_err();
        assert_eq!(err, "unknown");
    }

    #[test]
    fn template_with_unclosed_braces_is_rejected() {
        let err = Template::parse("{{ ok }} {{ broken").unwrap_err();
        assert!(err.to_string().contains("unmatched `{{`"), "{err}");
    }

    #[test]
    fn lone_closing_braces_are_literal_text() {
        let t = Template::parse("a }} b").unwrap();
        assert!(t.is_literal());
        assert_eq!(t.render(|_| None).unwrap(), "a }} b");
    }

    #[test]
    fn adjacent_expressions_are_separate_variables() {
        let t = Template::parse("{{a}}{{b}}").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["a", "b"]);
    }

    // --- identifiers ---

    #[test]
    fn component_ids_follow_spins_kebab_rule() {
        for ok in ["a", "docs", "order-events", "v2-api", "DOCS-v2", "a1-b2"] {
            assert!(check_component_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "bad_id", "-a", "a-", "a--b", "1-2-3", "a-2b", "Docs", "a.b",
        ] {
            assert!(check_component_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn variable_names_are_lower_snake_words_starting_with_a_letter() {
        for ok in ["a", "api_key", "redis_host", "v2_api"] {
            assert!(check_variable_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "API_KEY", "Api", "a__b", "a_", "_a", "1a", "api_2", "a-b", "a.b", "",
        ] {
            assert!(check_variable_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_may_be_kebab_or_snake() {
        for ok in ["default", "my-store", "my_store", "CACHE"] {
            assert!(check_label(ok).is_ok(), "{ok}");
        }
        for bad in ["my.store", "a-b_c", "", "1st"] {
            assert!(check_label(bad).is_err(), "{bad}");
        }
    }

    // --- manifest rules ---

    #[test]
    fn source_is_joined_onto_the_manifest_directory_and_workdir_is_kept() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"web\"\n\
             [component.web]\nsource = \"target/web.wasm\"\n\
             [component.web.build]\ncommand = [\"a\", \"b\"]\nworkdir = \"web\"\n",
        ))
        .unwrap();
        let web = &m.components["web"];
        assert_eq!(m.dir, Path::new("app"));
        assert_eq!(web.source, Path::new("app/target/web.wasm"));
        let build = web.build.as_ref().unwrap();
        assert_eq!(build.command, ["a", "b"]);
        assert_eq!(build.workdir.as_deref(), Some(Path::new("web")));
    }

    #[test]
    fn a_bare_file_name_has_the_current_directory() {
        let m = Manifest::parse(
            &with_head("[[trigger.http]]\nroute = \"/\"\nstatic_response = {}\n"),
            Path::new("spin.toml"),
        )
        .unwrap();
        assert_eq!(m.dir, Path::new("."));
    }

    #[test]
    fn unknown_key_in_a_component_names_the_component_and_line() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"docs\"\n\
             [component.docs]\nsorce = \"x.wasm\"\n",
        ));
        assert!(
            err.starts_with("app/spin.toml:8: component `docs`: unknown field `sorce`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_in_an_inline_component_names_the_trigger() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = { source = \"a.wasm\", bogus = 1 }\n",
        ));
        assert!(
            err.contains("[[trigger.http]] #1: inline component: unknown field `bogus`"),
            "{err}"
        );
    }

    #[test]
    fn missing_trigger_table_is_refused_like_spin() {
        let err = error(&with_head("[component.a]\nsource = \"a.wasm\"\n"));
        assert!(err.contains("missing field `trigger`"), "{err}");
    }

    #[test]
    fn inline_components_get_spins_generated_ids() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = \"/a\"\ncomponent = { source = \"a.wasm\" }\n\
             [[trigger.http]]\nid = \"web\"\nroute = \"/b\"\ncomponent = { source = \"b.wasm\" }\n\
             [[trigger.http]]\nid = \"Bad Id\"\nroute = \"/c\"\ncomponent = { source = \"c.wasm\" }\n\
             [[trigger.http]]\nroute = \"/d\"\ncomponent = \"docs\"\n\
             [[trigger.http]]\nroute = \"/e\"\ncomponent = \"docs\"\n\
             [[trigger.http]]\nroute = \"/f\"\ncomponent = { source = \"f.wasm\" }\n\
             [component.docs]\nsource = \"docs.wasm\"\n\
             [component.http-trigger3-component]\nsource = \"x.wasm\"\n",
        ))
        .unwrap();
        // Observed with Spin 4.1.0-pre0 (`spin up` route listing) for this same manifest.
        let targets: Vec<_> = m
            .http_triggers
            .iter()
            .map(|t| match &t.target {
                HttpTarget::Component(id) => id.as_str(),
                HttpTarget::StaticResponse { .. } => "",
            })
            .collect();
        assert_eq!(
            targets,
            [
                "http-trigger1-component",
                "web-component",
                "inline-component1",
                "docs",
                "docs",
                "inline-component2"
            ]
        );
        let ids: Vec<_> = m
            .http_triggers
            .iter()
            .map(|t| t.normalized_id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "http-trigger1",
                "web",
                "Bad Id",
                "docs-http-trigger",
                "http-trigger2",
                "http-trigger3"
            ]
        );
        assert_eq!(
            m.components["web-component"].source,
            Path::new("app/b.wasm")
        );
    }

    #[test]
    fn static_response_defaults_to_200_and_warns_about_extra_keys() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = \"/gone\"\n\
             static_response = { headers = { x-a = \"1\" }, body = \"bye\", colour = \"red\" }\n",
        ))
        .unwrap();
        assert_eq!(
            m.http_triggers[0].target,
            HttpTarget::StaticResponse {
                status_code: 200,
                headers: BTreeMap::from([("x-a".to_owned(), "1".to_owned())]),
                body: Some("bye".to_owned()),
            }
        );
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains("static_response.colour"))
        );
    }

    #[test]
    fn both_component_and_static_response_is_refused() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\nstatic_response = {}\n\
             [component.a]\nsource = \"a.wasm\"\n",
        ));
        assert!(err.contains("not both"), "{err}");
    }

    #[test]
    fn neither_component_nor_static_response_is_refused() {
        let err = error(&with_head("[[trigger.http]]\nroute = \"/\"\n"));
        assert!(err.contains("needs a `component`"), "{err}");
    }

    #[test]
    fn private_route_is_accepted() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = { private = true }\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n",
        ))
        .unwrap();
        assert_eq!(m.http_triggers[0].route, HttpRoute::Private);
    }

    #[test]
    fn http_executor_and_its_alias_are_accepted_and_wagi_is_not() {
        for ty in ["http", "spin"] {
            parse(&with_head(&format!(
                "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\nexecutor = {{ type = \"{ty}\" }}\n\
                 [component.a]\nsource = \"a.wasm\"\n"
            )))
            .unwrap();
        }
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\nexecutor = { type = \"wagi\" }\n\
             [component.a]\nsource = \"a.wasm\"\n",
        ));
        assert!(err.contains("WAGI executor is not supported"), "{err}");
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\nexecutor = { type = \"cgi\" }\n\
             [component.a]\nsource = \"a.wasm\"\n",
        ));
        assert!(err.contains("unknown executor type \"cgi\""), "{err}");
    }

    #[test]
    fn remote_sources_are_refused_with_a_clear_message() {
        for source in [
            "{ url = \"https://x/a.wasm\", digest = \"sha256:00\" }",
            "{ registry = \"ttl.sh\", package = \"a:b\", version = \"1.0.0\" }",
        ] {
            let err = error(&with_head(&format!(
                "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
                 [component.a]\nsource = {source}\n"
            )));
            assert!(
                err.contains("component `a`: reen-host runs only local `source` files"),
                "{err}"
            );
        }
    }

    #[test]
    fn malformed_source_is_refused_as_malformed() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = { url = \"https://x/a.wasm\" }\n",
        ));
        assert!(err.contains("source must be a path string"), "{err}");
    }

    #[test]
    fn allowed_http_hosts_are_converted_like_spin_and_warned_about() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n\
             allowed_outbound_hosts = [\"redis://r:6379\"]\n\
             allowed_http_hosts = [\"example.com:80\", \"https://X.org:443/\", \"self\", \"h:8080\"]\n",
        ))
        .unwrap();
        let hosts: Vec<_> = m.components["a"]
            .allowed_outbound_hosts
            .iter()
            .map(Template::as_str)
            .collect();
        // The Spin 4.1.0-pre0 CLI prints the same list for the first three entries.
        assert_eq!(
            hosts,
            [
                "redis://r:6379",
                "http://example.com",
                "https://example.com",
                "http://x.org",
                "https://x.org",
                "http://self",
                "http://h:8080",
                "https://h:8080"
            ]
        );
        assert!(m.warnings.iter().any(|w| w.contains("allowed_http_hosts")));
    }

    #[test]
    fn allowed_http_hosts_allow_all_expands_to_every_http_host() {
        assert_eq!(
            convert_allowed_http_hosts(&["a.com".to_owned(), ALLOW_ALL.to_owned()]).unwrap(),
            ["http://*:*", "https://*:*", "http://self"]
        );
    }

    #[test]
    fn allowed_http_hosts_with_a_path_or_other_scheme_are_refused() {
        assert!(convert_allowed_http_hosts(&["http://a.com/x".to_owned()]).is_err());
        assert!(convert_allowed_http_hosts(&["ftp://a.com".to_owned()]).is_err());
        assert_eq!(
            parse_http_host("[::1]:8001").unwrap(),
            ("[::1]".to_owned(), Some(8001))
        );
    }

    #[test]
    fn lone_insecure_allow_all_in_allowed_outbound_hosts_is_refused() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\nallowed_outbound_hosts = [\"insecure:allow-all\"]\n",
        ));
        assert!(
            err.contains("\"insecure:allow-all\" is not allowed"),
            "{err}"
        );
    }

    #[test]
    fn redis_trigger_uses_the_application_address_when_it_has_none() {
        let m = parse(&with_head(
            "[application.trigger.redis]\naddress = \"redis://{{ host }}:6379\"\n\
             [variables]\nhost = { default = \"127.0.0.1\" }\n\
             [[trigger.redis]]\nchannel = \"orders\"\ncomponent = \"ev\"\n\
             [component.ev]\nsource = \"ev.wasm\"\n",
        ))
        .unwrap();
        let trigger = &m.redis_triggers[0];
        assert_eq!(trigger.normalized_id, "ev-redis-trigger");
        assert_eq!(
            trigger.effective_address(&m.application).unwrap().as_str(),
            "redis://{{ host }}:6379"
        );
    }

    #[test]
    fn redis_trigger_without_any_address_is_refused() {
        let err = error(&with_head(
            "[[trigger.redis]]\nchannel = \"orders\"\ncomponent = \"ev\"\n\
             [component.ev]\nsource = \"ev.wasm\"\n",
        ));
        assert!(err.contains("no Redis address"), "{err}");
    }

    #[test]
    fn app_level_redis_settings_are_strict_only_when_redis_triggers_exist() {
        let extra = "[application.trigger.redis]\naddress = \"redis://r\"\nfoo = 1\n";
        let http_only = with_head(&format!(
            "{extra}[[trigger.http]]\nroute = \"/\"\nstatic_response = {{}}\n"
        ));
        assert!(parse(&http_only).is_ok());
        let with_redis = with_head(&format!(
            "{extra}[[trigger.redis]]\nchannel = \"c\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n"
        ));
        let err = error(&with_redis);
        assert!(
            err.contains("unknown field `foo`, expected `address`"),
            "{err}"
        );
    }

    #[test]
    fn http_base_other_than_root_is_refused() {
        let err = error(&with_head(
            "[application.trigger.http]\nbase = \"/api\"\n\
             [[trigger.http]]\nroute = \"/\"\nstatic_response = {}\n",
        ));
        assert!(err.contains("deprecated `base`"), "{err}");
        let m = parse(&with_head(
            "[application.trigger.http]\nbase = \"/\"\n\
             [[trigger.http]]\nroute = \"/\"\nstatic_response = {}\n",
        ))
        .unwrap();
        assert!(
            m.warnings
                .iter()
                .any(|w| w.contains("`base` is deprecated"))
        );
    }

    #[test]
    fn tool_tables_and_profiles_are_parsed_and_ignored() {
        parse(&with_head(
            "[application.tool.lint]\nlevel = \"high\"\n\
             [[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\nai_models = [\"llama2-chat\"]\ntargets = [\"spin-up:3.6\"]\n\
             [component.a.tool.clean]\ncommand = \"x\"\n\
             [component.a.profile.debug]\nsource = \"debug.wasm\"\nbuild.command = \"make debug\"\n",
        ))
        .unwrap();
    }

    #[test]
    fn unknown_key_in_a_profile_is_refused() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n\
             [component.a.profile.debug]\nsorce = \"debug.wasm\"\n",
        ));
        assert!(err.contains("unknown field `sorce`"), "{err}");
    }

    #[test]
    fn dependencies_are_parsed_with_their_inherit_configuration() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n\
             [component.a.dependencies]\n\
             \"reen:commerce/catalog\" = { path = \"p.wasm\", inherit_configuration = [\"variables\"] }\n\
             \"x:y\" = \">=0.1.0\"\n\
             \"b:c/d@1.0.0\" = { component = \"leaf\", export = \"e:f/g\" }\n\
             [component.leaf]\nsource = \"leaf.wasm\"\n",
        ))
        .unwrap();
        let deps = &m.components["a"].dependencies;
        assert_eq!(
            deps["reen:commerce/catalog"],
            DependencyDecl::Path {
                path: PathBuf::from("p.wasm"),
                export: None,
                inherit_configuration: Some(InheritConfiguration::Only(vec![
                    "variables".to_owned()
                ])),
            }
        );
        assert_eq!(deps["x:y"], DependencyDecl::Version(">=0.1.0".to_owned()));
        assert!(
            matches!(&deps["b:c/d@1.0.0"], DependencyDecl::Component { id, .. } if id == "leaf")
        );
    }

    #[test]
    fn a_component_dependency_must_have_no_resources_of_its_own() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\ndependencies = { \"b:c\" = { component = \"leaf\" } }\n\
             [component.leaf]\nsource = \"leaf.wasm\"\nsqlite_databases = [\"leaf\"]\n",
        ));
        assert!(
            err.contains("may not have their own resources or permissions"),
            "{err}"
        );
        assert!(err.contains("sqlite_databases"), "{err}");
    }

    #[test]
    fn both_inherit_settings_at_once_are_refused() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\ndependencies_inherit_configuration = true\n\
             dependencies = { \"b:c\" = { path = \"b.wasm\", inherit_configuration = true } }\n",
        ));
        assert!(err.contains("mutually exclusive"), "{err}");
    }

    #[test]
    fn plain_dependency_names_must_name_a_package() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\ndependencies = { plain-name = \"0.1.0\" }\n",
        ));
        assert!(err.contains("must specify a package name"), "{err}");
    }

    #[test]
    fn an_export_cannot_satisfy_a_whole_package() {
        let err = error(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n\
             dependencies = { \"foo:baz@0.1.0\" = { path = \"f.wasm\", export = \"foo\" } }\n",
        ));
        assert!(err.contains("not permitted"), "{err}");
    }

    #[test]
    fn check_labels_accepts_default_and_runtime_config_labels() {
        let m = parse(&with_head(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\nkey_value_stores = [\"default\", \"cache\"]\n\
             sqlite_databases = [\"default\", \"orders\"]\n",
        ))
        .unwrap();
        let set = |labels: &[&str]| labels.iter().map(|s| s.to_string()).collect();
        m.check_labels(&set(&["cache"]), &set(&["orders"])).unwrap();
        let err = m
            .check_labels(&BTreeSet::new(), &BTreeSet::new())
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("app/spin.toml: "), "{err}");
        assert!(
            err.contains("component `a` uses key_value_stores label \"cache\""),
            "{err}"
        );
        assert!(
            err.contains("component `a` uses sqlite_databases label \"orders\""),
            "{err}"
        );
    }
}
