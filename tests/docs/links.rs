//! The README and `docs/` point at each other and at the code: relative Markdown links must
//! name files that exist, and every `README "<section>"` or `docs/x.md "<section>"` reference in
//! the repository's text must name a heading that exists, so moving a section cannot quietly
//! strand its readers.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Links to files another change adds (Swagger UI docs: issue 16 item 2), allowed until then.
const LANDING_SEPARATELY: &[&str] = &["docs/api-docs.md"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// Headings of a Markdown file, without their `#`s (code blocks skipped: `# comments`).
fn headings(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut in_code = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.insert(line.trim_start_matches('#').trim().to_owned());
        }
    }
    found
}

/// `](target)` links that are neither URLs nor anchors.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_owned()))
        .filter(|target| !target.contains("://") && !target.starts_with('#'))
        .collect()
}

#[test]
fn relative_links_in_the_readme_and_docs_name_existing_files() {
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for link in relative_links(&text) {
            let target = link.split('#').next().unwrap();
            let resolved = dir.join(target);
            let from_root = resolved
                .strip_prefix(root())
                .unwrap_or(&resolved)
                .to_owned();
            let pending = LANDING_SEPARATELY
                .iter()
                .any(|p| resolved.ends_with(p) || from_root.ends_with(p));
            if !resolved.exists() && !pending {
                broken.push(format!("{}: {link}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// Text files of the repository that may refer to README or docs sections.
fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with('.') && name != ".cargo" && name != ".ci" && name != ".env.example" {
            continue;
        }
        if path.is_dir() {
            if name != "target" {
                text_files(&path, out);
            }
        } else if ["rs", "toml", "md", "yaml", "wit", "py", "example"]
            .iter()
            .any(|ext| name.ends_with(ext))
            || name == "run"
        {
            out.push(path);
        }
    }
}

/// `README "<section>"` and `docs/x.md "<section>"` (also `[x.md](x.md) "<section>"` in docs/),
/// with the file they name. A reference may wrap onto the next line.
fn section_references(path: &Path, text: &str) -> Vec<(PathBuf, String)> {
    let text = text.replace("\n", " ");
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut found = Vec::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(" \"") {
        let before = &rest[..at];
        let after = &rest[at + 2..];
        rest = after;
        let Some((section, _)) = after.split_once('"') else {
            break;
        };
        // `"<section>"`: a placeholder in text about references, not a reference.
        if section.starts_with('<') {
            continue;
        }
        let word = before.rsplit([' ', '(', '`', '[']).next().unwrap_or("");
        let word = word.trim_end_matches(']');
        let file = if word == "README" {
            root().join("README.md")
        } else if let Some(name) = word
            .strip_suffix(".md)")
            .and_then(|w| w.rsplit('(').next())
            .map(|w| format!("{w}.md"))
        {
            path.parent().unwrap().join(name)
        } else if word.ends_with(".md") && (word.starts_with("docs/") || word.contains('/')) {
            root().join(word)
        } else if word.ends_with(".md") && path.starts_with(root().join("docs")) {
            root().join("docs").join(word)
        } else {
            continue;
        };
        found.push((file, section.to_owned()));
    }
    found
}

#[test]
fn every_named_readme_or_docs_section_exists() {
    let mut files = Vec::new();
    text_files(&root(), &mut files);
    let mut missing = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (target, section) in section_references(&file, &text) {
            if !headings(&target).contains(&section) {
                missing.push(format!(
                    "{} refers to {} \"{section}\"",
                    file.strip_prefix(root()).unwrap_or(&file).display(),
                    target.strip_prefix(root()).unwrap_or(&target).display()
                ));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no such section:\n{}",
        missing.join("\n")
    );
}
