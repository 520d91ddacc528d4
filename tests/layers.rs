//! The layers of the Rust core, read from the code: no module imports one of a layer above its
//! own, no modules import each other in a circle, and the README's architecture table lists the
//! same modules in the same layers. A new module must be given a layer here.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Bottom to top: each layer may use its own and those below it. Names are the top-level modules
/// of `src/` (a file `src/x.rs` or a folder `src/x/`).
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundation",
        &[
            "error",
            "secret",
            "encoding",
            "env",
            "time",
            "log",
            "fsio",
            "paths",
            "credentials",
        ],
    ),
    ("transport", &["http"]),
    ("descriptions", &["description", "profile"]),
    (
        "sources",
        &["providers", "session", "shared_cache", "sts", "writeback"],
    ),
    (
        "assembly",
        &["builder", "registry", "credential", "diagnostics"],
    ),
    ("binding", &["binding"]),
];

/// Modules outside the layers: the crate root and the test helpers.
const OUTSIDE: &[&str] = &["lib", "testing"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to.
fn module_of(file: &Path) -> String {
    let rel = file.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.trim_end_matches(".rs").to_owned()
}

/// The modules `text` names as `crate::x` (in `use` lines and paths alike), its test module and
/// comments left out.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap();
    let mut found = BTreeSet::new();
    for line in code.lines() {
        let line = line.split("//").next().unwrap();
        for (at, _) in line.match_indices("crate::") {
            let rest = &line[at + "crate::".len()..];
            let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                group
                    .split('}')
                    .next()
                    .unwrap()
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap())
                    .collect()
            } else {
                vec![rest
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap()]
            };
            found.extend(
                names
                    .into_iter()
                    .filter(|n| !n.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    found
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let module = module_of(file);
        if OUTSIDE.contains(&module.as_str()) {
            continue;
        }
        let Some(own) = layer_of(&module) else {
            wrong.push(format!(
                "{}: module `{module}` has no layer in tests/layers.rs",
                file.display()
            ));
            continue;
        };
        for target in imports(&fs::read_to_string(file).unwrap()) {
            match layer_of(&target) {
                Some(layer) if layer > own => wrong.push(format!(
                    "{}: `{module}` ({}) imports `{target}` ({})",
                    file.strip_prefix(src()).unwrap().display(),
                    LAYERS[own].0,
                    LAYERS[layer].0
                )),
                Some(_) => {}
                None if OUTSIDE.contains(&target.as_str()) => wrong.push(format!(
                    "{}: imports `{target}` outside its tests",
                    file.display()
                )),
                None => wrong.push(format!("{}: `{target}` has no layer", file.display())),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

/// No circle of imports between modules, inside a layer either: each can be read (and tested)
/// with only what it imports.
#[test]
fn no_circle_of_imports() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file);
        let targets = imports(&fs::read_to_string(file).unwrap());
        let entry = edges.entry(module.clone()).or_default();
        entry.extend(targets.into_iter().filter(|t| *t != module));
    }
    // Depth-first search; a module met again while still on the path closes a circle.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut circle = path[at..].to_vec();
            circle.push(m.to_owned());
            return Some(circle);
        }
        if !done.insert(m.to_owned()) {
            return None;
        }
        path.push(m.to_owned());
        for t in edges.get(m).into_iter().flatten() {
            if let Some(c) = visit(t, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in edges.keys() {
        if let Some(circle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("a circle of imports: {}", circle.join(" -> "));
        }
    }
}

/// The README's table: one row a layer, top first, naming each module as `src/x.rs` or `src/x/`.
#[test]
fn the_readme_table_is_the_layers_of_the_code() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let mut rows: Vec<(String, BTreeSet<String>)> = Vec::new();
    for line in readme.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Some(&(name, _)) = LAYERS.iter().find(|(n, _)| *n == cells[1]) else {
            continue;
        };
        let named: BTreeSet<String> = cells[2]
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|p| p.strip_prefix("src/"))
            .map(|p| p.trim_end_matches('/').trim_end_matches(".rs").to_owned())
            .collect();
        rows.push((name.to_owned(), named));
    }
    let expected: Vec<(String, BTreeSet<String>)> = LAYERS
        .iter()
        .rev()
        .map(|(n, ms)| (n.to_string(), ms.iter().map(|m| m.to_string()).collect()))
        .collect();
    assert_eq!(
        rows, expected,
        "README.md's layer table (top first) against tests/layers.rs"
    );
}

#[test]
fn every_module_of_src_has_a_layer_and_every_layer_module_exists() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    for (_, ms) in LAYERS {
        for m in *ms {
            assert!(modules.contains(*m), "src/ has no module `{m}`");
        }
    }
    for m in &modules {
        assert!(
            layer_of(m).is_some() || OUTSIDE.contains(&m.as_str()),
            "module `{m}` has no layer"
        );
    }
}

#[test]
fn imports_are_read_from_use_lines_and_paths_but_not_comments_or_tests() {
    let text = "use crate::a::X;\nuse crate::{b, c::Y};\nlet v = crate::d::f(); // crate::e\n#[cfg(test)]\nuse crate::g;";
    let found: Vec<String> = imports(text).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "d"]);
}
