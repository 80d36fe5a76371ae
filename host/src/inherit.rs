//! Which of its importer's capabilities a component dependency may use, as Spin 4 decides it
//! (`crates/capabilities`, `crates/compose`): `dependencies_inherit_configuration = true` or a
//! dependency's `inherit_configuration = true` inherit every capability set, a list inherits the
//! sets it names (names Spin does not know are ignored, as there), and `false` or nothing
//! inherits none. A set not inherited is denied at call time, never at start-up.
//!
//! A dependency is composed into its importer and runs in the importer's store, so what it
//! inherits reaches the host as the importer's own imports. What it is denied must not: its
//! import of such an interface is renamed ([`denied_name`]) when composing, and the host answers
//! the renamed import the way Spin's deny adapter does (`deny.rs`).

use crate::manifest::{ComponentDecl, DependencyDecl, InheritConfiguration};

/// Spin's capability sets, as named in `inherit_configuration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CapabilitySet {
    AiModels,
    AllowedOutboundHosts,
    Environment,
    Files,
    KeyValueStores,
    SqliteDatabases,
    Variables,
}

impl CapabilitySet {
    const ALL: [Self; 7] = [
        Self::AiModels,
        Self::AllowedOutboundHosts,
        Self::Environment,
        Self::Files,
        Self::KeyValueStores,
        Self::SqliteDatabases,
        Self::Variables,
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|set| set.name() == name)
    }

    /// The key as written in `inherit_configuration`.
    fn name(self) -> &'static str {
        match self {
            Self::AiModels => "ai_models",
            Self::AllowedOutboundHosts => "allowed_outbound_hosts",
            Self::Environment => "environment",
            Self::Files => "files",
            Self::KeyValueStores => "key_value_stores",
            Self::SqliteDatabases => "sqlite_databases",
            Self::Variables => "variables",
        }
    }

    /// The set a host interface (`ns:pkg/iface`, any version) belongs to, for the interfaces
    /// whose grant reen-host must withhold from a dependency. Of Spin's sets, `ai_models` has
    /// no interface here (reen-host implements no LLM API, so nothing can import one), and
    /// `files` and the `wasi:sockets` part of `allowed_outbound_hosts` need no denial: reen-host
    /// preopens no directory and allows no socket address to any component, so a dependency
    /// already gets exactly what Spin's deny adapter gives it (no directories, no sockets).
    fn of_interface(interface: &str) -> Option<Self> {
        let unversioned = interface.split('@').next().unwrap_or(interface);
        match unversioned {
            "wasi:http/outgoing-handler" | "fermyon:spin/redis" => Some(Self::AllowedOutboundHosts),
            "wasi:cli/environment" => Some(Self::Environment),
            "fermyon:spin/key-value" => Some(Self::KeyValueStores),
            "fermyon:spin/sqlite" | "spin:sqlite/sqlite" => Some(Self::SqliteDatabases),
            "fermyon:spin/variables" => Some(Self::Variables),
            _ => None,
        }
    }
}

/// The capability sets one dependency inherits from its importer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inheritance(Vec<CapabilitySet>);

impl Inheritance {
    /// Every set: what `dependencies_inherit_configuration = true` gives each dependency.
    pub fn everything() -> Self {
        Self(CapabilitySet::ALL.to_vec())
    }

    /// No set: a dependency's default.
    pub fn nothing() -> Self {
        Self(Vec::new())
    }

    /// What the dependency `dependency` of `importer` inherits. The manifest loader has already
    /// refused the component-level flag and per-dependency lists together, as Spin does.
    pub fn of(importer: &ComponentDecl, dependency: &DependencyDecl) -> Self {
        if importer.dependencies_inherit_configuration {
            return Self::everything();
        }
        match dependency.inherit_configuration() {
            Some(InheritConfiguration::All(true)) => Self::everything(),
            Some(InheritConfiguration::All(false)) | None => Self::nothing(),
            Some(InheritConfiguration::Only(names)) => Self(
                CapabilitySet::ALL
                    .into_iter()
                    .filter(|set| {
                        names
                            .iter()
                            .any(|name| CapabilitySet::parse(name) == Some(*set))
                    })
                    .collect(),
            ),
        }
    }

    /// Whether the dependency's import `interface` must be answered as denied.
    pub fn denies(&self, interface: &str) -> bool {
        CapabilitySet::of_interface(interface).is_some_and(|set| !self.0.contains(&set))
    }
}

/// Prefix of a renamed, denied import. Its namespace (`denied-wasi`, `denied-fermyon`, ...) is
/// one no real interface uses, so it can never meet a grant.
const DENIED: &str = "denied-";

/// The name a dependency's denied import `interface` takes in the composition:
/// `fermyon:spin/variables@2.0.0` becomes `denied-fermyon:spin/variables@2.0.0`.
pub fn denied_name(interface: &str) -> String {
    format!("{DENIED}{interface}")
}

/// The interface a renamed import stands for, if `import` is one.
pub fn denied_interface(import: &str) -> Option<&str> {
    import.strip_prefix(DENIED)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::Manifest;

    fn inheritance(component_level: &str, dependency: &str) -> Inheritance {
        let text = format!(
            r#"spin_manifest_version = 2
[application]
name = "deps"
[[trigger.http]]
route = "/..."
component = "root"
[component.root]
source = "root.wasm"
{component_level}
[component.root.dependencies]
"reen:test/notes" = {{ path = "leaf.wasm"{dependency} }}"#
        );
        let manifest = Manifest::parse(&text, std::path::Path::new("spin.toml")).unwrap();
        let root = &manifest.components["root"];
        Inheritance::of(root, &root.dependencies["reen:test/notes"])
    }

    #[test]
    fn a_dependency_inherits_nothing_unless_told() {
        assert_eq!(inheritance("", ""), Inheritance::nothing());
        assert_eq!(
            inheritance("", ", inherit_configuration = false"),
            Inheritance::nothing()
        );
        assert_eq!(
            inheritance("dependencies_inherit_configuration = false", ""),
            Inheritance::nothing()
        );
    }

    #[test]
    fn true_at_either_level_inherits_every_set() {
        assert_eq!(
            inheritance("dependencies_inherit_configuration = true", ""),
            Inheritance::everything()
        );
        assert_eq!(
            inheritance("", ", inherit_configuration = true"),
            Inheritance::everything()
        );
    }

    #[test]
    fn a_list_inherits_the_sets_it_names_and_ignores_unknown_names() {
        let only = inheritance(
            "",
            r#", inherit_configuration = ["variables", "sqlite_databases", "typo"]"#,
        );
        assert_eq!(
            only,
            Inheritance(vec![
                CapabilitySet::SqliteDatabases,
                CapabilitySet::Variables
            ])
        );
    }

    #[test]
    fn each_host_interface_is_denied_unless_its_set_is_inherited() {
        let only_sqlite = inheritance("", r#", inherit_configuration = ["sqlite_databases"]"#);
        assert!(!only_sqlite.denies("fermyon:spin/sqlite@2.0.0"));
        assert!(!only_sqlite.denies("spin:sqlite/sqlite@3.0.0"));
        for denied in [
            "fermyon:spin/variables@2.0.0",
            "fermyon:spin/key-value@2.0.0",
            "fermyon:spin/redis@2.0.0",
            "wasi:http/outgoing-handler@0.2.0",
            "wasi:cli/environment@0.2.6",
        ] {
            assert!(only_sqlite.denies(denied), "{denied}");
        }
    }

    #[test]
    fn interfaces_outside_every_set_are_never_denied() {
        let nothing = Inheritance::nothing();
        for shared in [
            "wasi:io/streams@0.2.6",
            "wasi:http/types@0.2.0",
            "wasi:cli/stdout@0.2.6",
            "wasi:filesystem/preopens@0.2.6",
            "reen:test/notes",
        ] {
            assert!(!nothing.denies(shared), "{shared}");
        }
    }

    #[test]
    fn a_denied_name_maps_back_to_its_interface() {
        let name = denied_name("fermyon:spin/variables@2.0.0");
        assert_eq!(name, "denied-fermyon:spin/variables@2.0.0");
        assert_eq!(
            denied_interface(&name),
            Some("fermyon:spin/variables@2.0.0")
        );
        assert_eq!(denied_interface("fermyon:spin/variables@2.0.0"), None);
    }
}
