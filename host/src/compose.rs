//! Component dependencies (`[component.<id>.dependencies]`): composes a component with the
//! components it depends on into one component, as Spin does when it loads an app
//! (`crates/compose`). The importer's imports named by a dependency are satisfied by that
//! dependency's exports; every other import (WASI, Spin's APIs) stays an import of the composed
//! component, so the host links it like any other. One composed component runs in one store
//! with the importer's grants, which is what a dependency inheriting everything gets. An import
//! of a capability set the dependency does not inherit (`inherit.rs`) is renamed instead, so the
//! host answers it as denied (`deny.rs`): Spin plugs a deny adapter into it, with the same
//! answers.
//!
//! Everything else is refused at start-up the way Spin refuses it, naming component and
//! dependency: a dependency name that matches no import, two dependencies keyed under one WIT
//! package (Spin cannot register both), a missing or incompatible export, and a dependency that
//! needs dependencies of its own (Spin composes one level only; there it fails later, at
//! instantiation, with a less helpful message).

use crate::inherit::{self, Inheritance};
use crate::manifest::{ComponentDecl, DependencyDecl, Manifest};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use wac_graph::types::{ItemKind, Package, SubtypeChecker, WorldId};
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

/// Package namespaces the host implements. A dependency importing anything else would need
/// that import composed too, which Spin does not do (one level only).
const HOST_NAMESPACES: [&str; 3] = ["wasi", "fermyon", "spin"];

/// Why a component could not be composed with its dependencies. Every message names the
/// component and, where there is one, the dependency as written in the manifest.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    #[error(
        "component `{component}`: dependency \"{dependency}\": {kind} dependencies are not \
         supported by reen-host; point at the built file instead (`{{ path = \"....wasm\" }}`)"
    )]
    UnsupportedSource {
        component: String,
        dependency: String,
        kind: &'static str,
    },
    #[error("component `{component}`: dependency \"{dependency}\": cannot read {}: {source}", path.display())]
    Read {
        component: String,
        dependency: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("component `{component}`: {what} is not a usable Wasm component: {source:#}")]
    Decode {
        component: String,
        /// `its source` or `dependency "<name>" (<file>)`.
        what: String,
        source: anyhow::Error,
    },
    #[error(
        "component `{component}`: dependency \"{dependency}\" doesn't match any import of \
         component `{component}` (its non-host imports: {imports})"
    )]
    UnmatchedDependency {
        component: String,
        dependency: String,
        imports: String,
    },
    #[error(
        "component `{component}`: dependencies \"{first}\" and \"{second}\" are both keyed \
         under package `{package}`. Spin registers each dependency under its package name and \
         refuses the second (\"package `{package}` has already been registered\"), so one \
         importer can take only one dependency per WIT package: key it by the package \
         (\"{package}\" = ...) when one file provides all its interfaces, or put the interfaces \
         in separate packages"
    )]
    SamePackage {
        component: String,
        package: String,
        first: String,
        second: String,
    },
    #[error(
        "component `{component}`: dependency \"{dependency}\" doesn't export `{export}` to \
         satisfy import `{import}` (it exports: {exports})"
    )]
    MissingExport {
        component: String,
        dependency: String,
        export: String,
        import: String,
        exports: String,
    },
    #[error(
        "component `{component}`: dependency \"{dependency}\" exports `{export}`, which is not \
         compatible with import `{import}`: {reason:#}"
    )]
    Incompatible {
        component: String,
        dependency: String,
        export: String,
        import: String,
        reason: anyhow::Error,
    },
    #[error(
        "component `{component}`: dependency \"{dependency}\" ({origin}) imports {}, which the \
         host does not provide: a dependency may not have dependencies of its own (Spin composes \
         one level deep), so it may import only WASI and Spin interfaces",
        quote_all(imports)
    )]
    NestedDependency {
        component: String,
        dependency: String,
        origin: String,
        imports: Vec<String>,
    },
    #[error(
        "component `{component}`: import {} is not a host interface and no dependency provides \
         it; add it to [component.{component}.dependencies]",
        quote_all(imports)
    )]
    Unsatisfied {
        component: String,
        imports: Vec<String>,
    },
    #[error("component `{component}`: composing it with its dependencies failed: {source:#}")]
    Graph {
        component: String,
        source: anyhow::Error,
    },
}

fn quote_all(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One dependency, resolved from the manifest: where its bytes come from and which of its
/// exports to plug in.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The dependency's key as written (`reen:commerce/catalog`, `reen:commerce`, `name`).
    pub name: String,
    /// The file it was read from, for messages.
    pub origin: PathBuf,
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// `export = "..."`: the export that satisfies the import, instead of the import's own name.
    pub export: Option<String>,
    /// The importer's capability sets it may use; its imports of the others are denied.
    pub inherits: Inheritance,
}

/// Reads the component `id` and its dependencies from the manifest and composes them. Only for
/// components that have dependencies; the result is the bytes of one component.
pub fn compose_component(manifest: &Manifest, id: &str) -> Result<Vec<u8>, ComposeError> {
    let decl = &manifest.components[id];
    let source = std::fs::read(&decl.source).map_err(|source| ComposeError::Decode {
        component: id.to_owned(),
        what: format!("its source {}", decl.source.display()),
        source: source.into(),
    })?;
    let dependencies = resolve_dependencies(manifest, decl)?;
    compose(id, source, dependencies)
}

/// Reads each dependency's file (`{ path }` relative to the manifest, `{ component }` that
/// component's source) and what it inherits.
pub fn resolve_dependencies(
    manifest: &Manifest,
    decl: &ComponentDecl,
) -> Result<Vec<Dependency>, ComposeError> {
    let component = || decl.id.clone();
    let mut resolved = Vec::new();
    for (name, dependency) in &decl.dependencies {
        let unsupported = |kind| ComposeError::UnsupportedSource {
            component: component(),
            dependency: name.clone(),
            kind,
        };
        let (path, export) = match dependency {
            DependencyDecl::Path { path, export, .. } => (manifest.dir.join(path), export),
            // The manifest loader has checked that the component exists and declares no
            // resources of its own (Spin's "Dependencies may not have their own resources").
            DependencyDecl::Component { id, export, .. } => {
                (manifest.components[id].source.clone(), export)
            }
            DependencyDecl::Url { .. } => return Err(unsupported("url")),
            DependencyDecl::Version(_) | DependencyDecl::Package { .. } => {
                return Err(unsupported("registry"));
            }
        };
        let bytes = std::fs::read(&path).map_err(|source| ComposeError::Read {
            component: component(),
            dependency: name.clone(),
            path: path.clone(),
            source,
        })?;
        resolved.push(Dependency {
            name: name.clone(),
            origin: path,
            bytes,
            export: export.clone(),
            inherits: Inheritance::of(decl, dependency),
        });
    }
    Ok(resolved)
}

/// Composes `source` (the component `component`) with `dependencies`.
pub fn compose(
    component: &str,
    source: Vec<u8>,
    dependencies: Vec<Dependency>,
) -> Result<Vec<u8>, ComposeError> {
    Composer {
        graph: CompositionGraph::new(),
        component: component.to_owned(),
        denied: BTreeMap::new(),
    }
    .compose(source, dependencies)
}

/// A registered dependency: its instantiation in the graph and what it offers.
struct Registered {
    name: String,
    world: WorldId,
    instance: NodeId,
    export: Option<String>,
}

struct Composer {
    graph: CompositionGraph,
    component: String,
    /// The import node of each denied interface (by its renamed name), shared by every
    /// dependency denied it.
    denied: BTreeMap<String, NodeId>,
}

impl Composer {
    fn compose(
        mut self,
        source: Vec<u8>,
        dependencies: Vec<Dependency>,
    ) -> Result<Vec<u8>, ComposeError> {
        let (world, instance) =
            self.register(&self.component.clone(), source)
                .map_err(|source| ComposeError::Decode {
                    component: self.component.clone(),
                    what: "its source".to_owned(),
                    source,
                })?;
        let imports: Vec<String> = self.graph.types()[world].imports.keys().cloned().collect();

        // Which import each dependency satisfies, by Spin's name matching.
        // Which dependency satisfies each import, by Spin's name matching. Two dependencies can
        // never match one import: both would be keyed under the same package, refused below.
        let mut satisfied_by: BTreeMap<String, usize> = BTreeMap::new();
        let mut registered: Vec<Registered> = Vec::new();
        for dependency in dependencies {
            let matched: Vec<&String> = imports
                .iter()
                .filter(|import| matches_import(&dependency.name, import))
                .collect();
            if matched.is_empty() {
                return Err(ComposeError::UnmatchedDependency {
                    component: self.component.clone(),
                    dependency: dependency.name,
                    imports: describe(imports.iter().filter(|i| !is_host_interface(i))),
                });
            }
            let package = registration_name(&dependency.name);
            if let Some(first) = registered
                .iter()
                .find(|r| registration_name(&r.name) == package)
            {
                return Err(ComposeError::SamePackage {
                    component: self.component.clone(),
                    package: package.to_owned(),
                    first: first.name.clone(),
                    second: dependency.name,
                });
            }
            for import in matched {
                satisfied_by.insert(import.clone(), registered.len());
            }
            registered.push(self.register_dependency(dependency)?);
        }

        let mut cache = HashSet::new();
        for (import, index) in &satisfied_by {
            let argument = self.plug(world, import, &registered[*index], &mut cache)?;
            self.graph
                .set_instantiation_argument(instance, import, argument)
                .map_err(|e| self.graph_error(e))?;
        }

        // Checked after the dependencies are plugged in, so that their errors come first as in
        // Spin (where an import left over fails only later, at instantiation).
        let unsatisfied: Vec<String> = imports
            .iter()
            .filter(|i| !is_host_interface(i) && !satisfied_by.contains_key(*i))
            .cloned()
            .collect();
        if !unsatisfied.is_empty() {
            return Err(ComposeError::Unsatisfied {
                component: self.component.clone(),
                imports: unsatisfied,
            });
        }

        // The composed component offers exactly what the importer exports (for an HTTP
        // component, `wasi:http/incoming-handler`); the dependencies' own exports stay inside.
        let exports: Vec<String> = self.graph.types()[world].exports.keys().cloned().collect();
        for export in exports {
            let node = self
                .graph
                .alias_instance_export(instance, &export)
                .map_err(|e| self.graph_error(e))?;
            self.graph
                .export(node, &export)
                .map_err(|e| self.graph_error(e))?;
        }
        self.graph
            .encode(EncodeOptions::default())
            .map_err(|e| self.graph_error(e))
    }

    fn register(&mut self, name: &str, bytes: Vec<u8>) -> anyhow::Result<(WorldId, NodeId)> {
        let package = Package::from_bytes(name, None, bytes, self.graph.types_mut())?;
        let world = package.ty();
        let package = self.graph.register_package(package)?;
        Ok((world, self.graph.instantiate(package)))
    }

    fn register_dependency(&mut self, dependency: Dependency) -> Result<Registered, ComposeError> {
        let origin = dependency.origin.display().to_string();
        let (world, instance) = self
            .register(registration_name(&dependency.name), dependency.bytes)
            .map_err(|source| ComposeError::Decode {
                component: self.component.clone(),
                what: format!("dependency \"{}\" ({origin})", dependency.name),
                source,
            })?;
        let nested: Vec<String> = self.graph.types()[world]
            .imports
            .keys()
            .filter(|i| !is_host_interface(i))
            .cloned()
            .collect();
        if !nested.is_empty() {
            return Err(ComposeError::NestedDependency {
                component: self.component.clone(),
                dependency: dependency.name,
                origin,
                imports: nested,
            });
        }
        self.deny_imports(world, instance, &dependency.inherits)?;
        Ok(Registered {
            name: dependency.name,
            world,
            instance,
            export: dependency.export,
        })
    }

    /// Plugs each of the dependency's imports that `inherits` denies into an import of the
    /// composition under the renamed name, so it never reaches the importer's grants.
    fn deny_imports(
        &mut self,
        world: WorldId,
        instance: NodeId,
        inherits: &Inheritance,
    ) -> Result<(), ComposeError> {
        let denied: Vec<(String, ItemKind)> = self.graph.types()[world]
            .imports
            .iter()
            .filter(|(name, _)| inherits.denies(name))
            .map(|(name, kind)| (name.clone(), *kind))
            .collect();
        for (import, kind) in denied {
            let renamed = inherit::denied_name(&import);
            let node = match self.denied.get(&renamed) {
                Some(node) => *node,
                None => {
                    let kind = self.renamed_interface(kind, &renamed);
                    let node = self
                        .graph
                        .import(renamed.clone(), kind)
                        .map_err(|e| self.graph_error(e))?;
                    self.denied.insert(renamed, node);
                    node
                }
            };
            self.graph
                .set_instantiation_argument(instance, &import, node)
                .map_err(|e| self.graph_error(e))?;
        }
        Ok(())
    }

    /// The interface type of an import, under a new name. wac-graph imports each named
    /// interface once, so the denied import must not keep the name of the one the host grants.
    fn renamed_interface(&mut self, kind: ItemKind, name: &str) -> ItemKind {
        let ItemKind::Instance(interface) = kind else {
            return kind;
        };
        let mut renamed = self.graph.types()[interface].clone();
        renamed.id = Some(name.to_owned());
        ItemKind::Instance(self.graph.types_mut().add_interface(renamed))
    }

    /// The node that satisfies `import`: the dependency's export of that name (or of the
    /// `export` it names), checked to be a subtype of what the importer expects.
    fn plug(
        &mut self,
        world: WorldId,
        import: &str,
        dependency: &Registered,
        cache: &mut HashSet<(ItemKind, ItemKind)>,
    ) -> Result<NodeId, ComposeError> {
        let export = dependency.export.as_deref().unwrap_or(import);
        let offered = &self.graph.types()[dependency.world].exports;
        let Some(export_ty) = offered.get(export).copied() else {
            return Err(ComposeError::MissingExport {
                component: self.component.clone(),
                dependency: dependency.name.clone(),
                export: export.to_owned(),
                import: import.to_owned(),
                exports: describe(offered.keys()),
            });
        };
        let import_ty = self.graph.types()[world].imports[import];
        SubtypeChecker::new(cache)
            .is_subtype(export_ty, self.graph.types(), import_ty, self.graph.types())
            .map_err(|reason| ComposeError::Incompatible {
                component: self.component.clone(),
                dependency: dependency.name.clone(),
                export: export.to_owned(),
                import: import.to_owned(),
                reason,
            })?;
        self.graph
            .alias_instance_export(dependency.instance, export)
            .map_err(|e| self.graph_error(e))
    }

    fn graph_error(&self, source: impl Into<anyhow::Error>) -> ComposeError {
        ComposeError::Graph {
            component: self.component.clone(),
            source: source.into(),
        }
    }
}

/// The name Spin registers a dependency under in the composition graph: its package
/// (`reen:commerce` for `reen:commerce/catalog@1.0.0`) or its plain name.
fn registration_name(dependency: &str) -> &str {
    let unversioned = dependency.split('@').next().unwrap_or(dependency);
    unversioned.split('/').next().unwrap_or(unversioned)
}

fn describe<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// `wasi:io/streams@0.2.6`, `fermyon:spin/sqlite@2.0.0`, `spin:sqlite/sqlite@3.0.0`: the host
/// links these. Plain names (`foo`) and other namespaces are for dependencies.
fn is_host_interface(import: &str) -> bool {
    import
        .split_once(':')
        .is_some_and(|(namespace, _)| HOST_NAMESPACES.contains(&namespace))
}

/// Spin's rule for which imports a dependency key names (`matches_import` in
/// `crates/compose`): a plain key names the import of that name; `ns:pkg` every interface of the
/// package; `ns:pkg/iface` that interface at any version; `@version` pins the version.
pub fn matches_import(dependency: &str, import: &str) -> bool {
    let dep = ImportName::parse(dependency);
    let import = ImportName::parse(import);
    match (dep, import) {
        (ImportName::Plain(dep), ImportName::Plain(import)) => dep == import,
        (
            ImportName::Interface {
                package,
                interface,
                version,
            },
            ImportName::Interface {
                package: import_package,
                interface: import_interface,
                version: import_version,
            },
        ) => {
            package == import_package
                && interface.is_none_or(|i| Some(i) == import_interface)
                && version.is_none_or(|v| Some(v) == import_version)
        }
        _ => false,
    }
}

/// A dependency key or import name split into its parts.
enum ImportName<'a> {
    Plain(&'a str),
    Interface {
        package: &'a str,
        interface: Option<&'a str>,
        version: Option<&'a str>,
    },
}

impl<'a> ImportName<'a> {
    fn parse(name: &'a str) -> Self {
        if !name.contains([':', '/']) {
            return Self::Plain(name);
        }
        let (path, version) = match name.split_once('@') {
            Some((path, version)) => (path, Some(version)),
            None => (name, None),
        };
        let (package, interface) = match path.split_once('/') {
            Some((package, interface)) => (package, Some(interface)),
            None => (path, None),
        };
        Self::Interface {
            package,
            interface,
            version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interface_key_matches_that_interface_at_any_version() {
        assert!(matches_import("foo:bar/baz", "foo:bar/baz"));
        assert!(matches_import("foo:bar/baz", "foo:bar/baz@0.1.0"));
        assert!(!matches_import("foo:bar/baz", "foo:bar/bub"));
        assert!(!matches_import("foo:bar/baz", "foo:bar/baz-bub"));
    }

    #[test]
    fn a_versioned_key_matches_only_that_version() {
        assert!(matches_import("foo:bar/baz@0.1.0", "foo:bar/baz@0.1.0"));
        assert!(!matches_import("foo:bar/baz@0.1.0", "foo:bar/baz"));
        assert!(!matches_import("foo:bar/baz@0.1.0", "foo:bar/baz@0.2.0"));
        assert!(matches_import("foo:bar@0.1.0", "foo:bar/baz@0.1.0"));
        assert!(!matches_import("foo:bar@0.1.0", "foo:bar/baz"));
    }

    #[test]
    fn a_package_key_matches_every_interface_of_the_package() {
        assert!(matches_import("foo:bar", "foo:bar/baz"));
        assert!(matches_import("foo:bar", "foo:bar/baz@0.1.0"));
        assert!(!matches_import("foo:bar", "foo:bub/baz"));
    }

    #[test]
    fn plain_keys_match_only_the_plain_import_of_that_name() {
        assert!(matches_import("foo-bar", "foo-bar"));
        assert!(!matches_import("foo-bar", "foo:bar/baz"));
        assert!(!matches_import("foo:bar/baz", "foo-bar"));
    }

    /// A dependency exporting `reen:test/notes` (`count() -> u32`), plus extra component text.
    fn notes_provider(export: &str, extra_imports: &str) -> Vec<u8> {
        wat::parse_str(format!(
            r#"(component
                {extra_imports}
                (core module $m (func (export "count") (result i32) i32.const 7))
                (core instance $i (instantiate $m))
                (func $count (result u32) (canon lift (core func $i "count")))
                (instance $notes (export "count" (func $count)))
                (export "{export}" (instance $notes)))"#
        ))
        .unwrap()
    }

    /// An importer of `reen:test/notes` that also imports a host interface and exports a
    /// function of its own.
    fn notes_importer() -> Vec<u8> {
        wat::parse_str(
            r#"(component
                (import "reen:test/notes" (instance $notes (export "count" (func (result u32)))))
                (import "wasi:cli/environment@0.2.6" (instance (export "get-arguments" (func))))
                (alias export $notes "count" (func $count))
                (core func $lowered (canon lower (func $count)))
                (core module $m
                    (import "notes" "count" (func $count (result i32)))
                    (func (export "run") (result i32) call $count))
                (core instance $ni (export "count" (func $lowered)))
                (core instance $i (instantiate $m (with "notes" (instance $ni))))
                (func $run (result u32) (canon lift (core func $i "run")))
                (export "run" (func $run)))"#,
        )
        .unwrap()
    }

    fn dependency(name: &str, bytes: Vec<u8>, export: Option<&str>) -> Dependency {
        Dependency {
            name: name.to_owned(),
            origin: PathBuf::from(format!("{name}.wasm")),
            bytes,
            export: export.map(str::to_owned),
            inherits: Inheritance::everything(),
        }
    }

    fn imports_and_exports(bytes: Vec<u8>) -> (Vec<String>, Vec<String>) {
        let mut graph = CompositionGraph::new();
        let package = Package::from_bytes("composed", None, bytes, graph.types_mut()).unwrap();
        let world = &graph.types()[package.ty()];
        (
            world.imports.keys().cloned().collect(),
            world.exports.keys().cloned().collect(),
        )
    }

    #[test]
    fn the_dependency_satisfies_the_import_and_host_imports_remain() {
        let deps = vec![dependency(
            "reen:test/notes",
            notes_provider("reen:test/notes", ""),
            None,
        )];
        let composed = compose("root", notes_importer(), deps).unwrap();
        let (imports, exports) = imports_and_exports(composed);
        assert_eq!(imports, ["wasi:cli/environment@0.2.6"]);
        assert_eq!(exports, ["run"]);
    }

    #[test]
    fn a_package_key_plugs_every_import_of_that_package() {
        let deps = vec![dependency(
            "reen:test",
            notes_provider("reen:test/notes", ""),
            None,
        )];
        let (imports, _) = imports_and_exports(compose("root", notes_importer(), deps).unwrap());
        assert_eq!(imports, ["wasi:cli/environment@0.2.6"]);
    }

    #[test]
    fn an_export_under_another_name_is_plugged_in_with_export() {
        let deps = vec![dependency(
            "reen:test/notes",
            notes_provider("reen:test/notes-v2", ""),
            Some("reen:test/notes-v2"),
        )];
        assert!(compose("root", notes_importer(), deps).is_ok());
    }

    #[test]
    fn a_missing_export_is_rejected_naming_component_and_dependency() {
        let deps = vec![dependency(
            "reen:test/notes",
            notes_provider("reen:test/other", ""),
            None,
        )];
        let err = compose("root", notes_importer(), deps).unwrap_err();
        assert!(matches!(err, ComposeError::MissingExport { .. }), "{err}");
        let message = err.to_string();
        assert!(message.contains("component `root`"), "{message}");
        assert!(message.contains("\"reen:test/notes\""), "{message}");
        assert!(message.contains("`reen:test/other`"), "{message}");
    }

    #[test]
    fn a_dependency_with_imports_of_its_own_is_rejected() {
        let nested = notes_provider(
            "reen:test/notes",
            r#"(import "reen:test/other" (instance (export "ping" (func))))"#,
        );
        let deps = vec![dependency("reen:test/notes", nested, None)];
        let err = compose("root", notes_importer(), deps).unwrap_err();
        assert!(
            matches!(err, ComposeError::NestedDependency { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("`reen:test/other`"), "{err}");
    }

    #[test]
    fn a_dependency_matching_no_import_is_rejected() {
        let deps = vec![
            dependency(
                "reen:test/notes",
                notes_provider("reen:test/notes", ""),
                None,
            ),
            dependency("reen:test/cart", notes_provider("reen:test/cart", ""), None),
        ];
        let err = compose("root", notes_importer(), deps).unwrap_err();
        assert!(
            matches!(&err, ComposeError::UnmatchedDependency { dependency, .. } if dependency == "reen:test/cart"),
            "{err}"
        );
    }

    #[test]
    fn two_dependencies_from_one_package_are_refused_as_spin_refuses_them() {
        let deps = vec![
            dependency(
                "reen:test/notes",
                notes_provider("reen:test/notes", ""),
                None,
            ),
            dependency(
                "reen:test/other@1.0.0",
                notes_provider("reen:test/other@1.0.0", ""),
                None,
            ),
        ];
        let importer = wat::parse_str(
            r#"(component
                (import "reen:test/notes" (instance (export "count" (func (result u32)))))
                (import "reen:test/other@1.0.0" (instance (export "count" (func (result u32))))))"#,
        )
        .unwrap();
        let err = compose("root", importer, deps).unwrap_err();
        assert!(
            matches!(&err, ComposeError::SamePackage { package, .. } if package == "reen:test"),
            "{err}"
        );
    }

    #[test]
    fn dependencies_are_registered_under_their_package_or_plain_name() {
        assert_eq!(registration_name("reen:commerce/catalog"), "reen:commerce");
        assert_eq!(
            registration_name("reen:commerce/catalog@1.0.0"),
            "reen:commerce"
        );
        assert_eq!(registration_name("reen:commerce@1.0.0"), "reen:commerce");
        assert_eq!(registration_name("reen:commerce"), "reen:commerce");
        assert_eq!(registration_name("catalog"), "catalog");
    }

    #[test]
    fn an_import_no_dependency_provides_is_rejected() {
        let err = compose("root", notes_importer(), Vec::new()).unwrap_err();
        assert!(matches!(err, ComposeError::Unsatisfied { .. }), "{err}");
        assert!(err.to_string().contains("`reen:test/notes`"), "{err}");
    }

    #[test]
    fn an_export_of_the_wrong_type_is_rejected() {
        let wrong = wat::parse_str(
            r#"(component
                (core module $m (func (export "count") (result i64) i64.const 7))
                (core instance $i (instantiate $m))
                (func $count (result u64) (canon lift (core func $i "count")))
                (instance $notes (export "count" (func $count)))
                (export "reen:test/notes" (instance $notes)))"#,
        )
        .unwrap();
        let deps = vec![dependency("reen:test/notes", wrong, None)];
        let err = compose("root", notes_importer(), deps).unwrap_err();
        assert!(matches!(err, ComposeError::Incompatible { .. }), "{err}");
    }

    fn manifest(dependencies: &str) -> Manifest {
        let text = format!(
            r#"spin_manifest_version = 2
[application]
name = "deps"
[[trigger.http]]
route = "/..."
component = "root"
[component.root]
source = "root.wasm"
sqlite_databases = ["default"]
{dependencies}"#
        );
        Manifest::parse(&text, std::path::Path::new("spin.toml")).unwrap()
    }

    fn resolve(dependencies: &str) -> Result<Vec<Dependency>, ComposeError> {
        let manifest = manifest(dependencies);
        resolve_dependencies(&manifest, &manifest.components["root"])
    }

    /// A notes provider that reads a variable, as the leaf fixture does: it imports the same
    /// host interface as [`notes_importer`]'s `wasi:cli/environment` plus Spin's variables.
    fn variable_reading_provider() -> Vec<u8> {
        notes_provider(
            "reen:test/notes",
            r#"(import "fermyon:spin/variables@2.0.0" (instance (export "ping" (func))))
               (import "wasi:cli/environment@0.2.6" (instance (export "get-arguments" (func))))"#,
        )
    }

    fn composed_imports(inherits: Inheritance) -> Vec<String> {
        let mut leaf = dependency("reen:test/notes", variable_reading_provider(), None);
        leaf.inherits = inherits;
        let (mut imports, _) =
            imports_and_exports(compose("root", notes_importer(), vec![leaf]).unwrap());
        imports.sort();
        imports
    }

    #[test]
    fn an_inheriting_dependency_shares_the_importers_host_imports() {
        assert_eq!(
            composed_imports(Inheritance::everything()),
            ["fermyon:spin/variables@2.0.0", "wasi:cli/environment@0.2.6"]
        );
    }

    #[test]
    fn a_dependency_inheriting_nothing_gets_its_host_imports_renamed_to_denials() {
        assert_eq!(
            composed_imports(Inheritance::nothing()),
            [
                "denied-fermyon:spin/variables@2.0.0",
                "denied-wasi:cli/environment@0.2.6",
                // The importer's own import is untouched: its grants stay its own.
                "wasi:cli/environment@0.2.6",
            ]
        );
    }

    #[test]
    fn inheriting_little_or_nothing_is_not_refused_at_start_up() {
        for inherit in [
            "",
            ", inherit_configuration = false",
            r#", inherit_configuration = ["sqlite_databases"]"#,
        ] {
            // Resolution goes on to read the (absent) file: the inheritance refuses nothing.
            let err = resolve(&format!(
                "[component.root.dependencies]\n\"reen:test/notes\" = {{ path = \"leaf.wasm\"{inherit} }}"
            ))
            .unwrap_err();
            assert!(matches!(err, ComposeError::Read { .. }), "{err}");
        }
    }

    #[test]
    fn url_dependencies_are_not_supported() {
        let err = resolve(
            r#"dependencies_inherit_configuration = true
[component.root.dependencies]
"reen:test/notes" = { url = "https://example.com/leaf.wasm", digest = "sha256:00" }"#,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            ComposeError::UnsupportedSource { kind: "url", .. }
        ));
    }

    #[test]
    fn wasi_and_spin_interfaces_are_the_hosts() {
        assert!(is_host_interface("wasi:io/streams@0.2.6"));
        assert!(is_host_interface("fermyon:spin/sqlite@2.0.0"));
        assert!(is_host_interface("spin:sqlite/sqlite@3.0.0"));
        assert!(!is_host_interface("reen:commerce/catalog"));
        assert!(!is_host_interface("wasi-like"));
    }
}
