//! The lab's layers (docs/architecture.md), checked: every file of src/lab imports only
//! modules of its own layer or below, the plan imports no adapter (it does no I/O), and the
//! modules import one another without a circle. Read from the sources as text (the `use`
//! lines and `super::`/`crate::lab::` paths outside tests), so a new import that breaks the
//! rule fails `cargo test`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module of src/lab, by layer, lowest first.
const LAYERS: &[(&str, &[&str])] = &[
    ("base", &["error", "args", "report"]),
    (
        "adapters",
        &[
            "places",
            "nat",
            "hosts",
            "probe",
            "hostsfile",
            "nftnames",
            "file",
            "layers",
        ],
    ),
    (
        "model",
        &[
            "spec", "generate", "check", "machines", "shape", "validate", "fixtures",
        ],
    ),
    (
        "state",
        &[
            "journal",
            "shares",
            "observed",
            "survey",
            "observe",
            "observe_fake",
            "ownership",
        ],
    ),
    ("plan", &["plan"]),
    ("execute", &["execute"]),
    (
        "verbs",
        &[
            "session", "fanout", "apply", "destroy", "status", "nodes", "test", "graph",
        ],
    ),
];

/// Adapters the plan may not import: it reads what observation found, never the system.
const IO: &[&str] = &["places", "nat", "hosts", "probe"];

fn layer(m: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&m))
}

/// The lab modules a file names: `super::X` / `crate::lab::X` paths and `use super::{..}`
/// groups, resolved from the file's place (`dir`: Some for a file inside plan/ or execute/,
/// which reaches the top through `super::super::`; its own `mod.rs` through `super::`).
fn imports(text: &str, dir: Option<&str>) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = BTreeSet::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut add = |m: String| {
        if !m.is_empty() && m != "self" {
            out.insert(m);
        }
    };
    for (i, _) in code.match_indices("crate::lab::") {
        add(word(&code[i + 12..]));
    }
    for (i, _) in code.match_indices("super::") {
        // Only a path's start: not the second `super::` of `super::super::`.
        if code[..i].ends_with("super::") {
            continue;
        }
        let rest = &code[i + 7..];
        let (inner, rest) = match rest.strip_prefix("super::") {
            Some(r) => (false, r),
            None => (dir.is_some(), rest),
        };
        if inner {
            // super:: inside plan/ or execute/ is the directory's own module.
            add(dir.unwrap_or_default().to_string());
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                add(word(part.trim()));
            }
        } else {
            add(word(rest));
        }
    }
    out
}

/// Every file's module and the modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lab");
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut visit = |path: &Path, module: &str, dir: Option<&str>| {
        let text = std::fs::read_to_string(path).expect("read a lab source file");
        let mut set = imports(&text, dir);
        set.remove(module);
        g.entry(module.to_string()).or_default().extend(set);
    };
    for e in std::fs::read_dir(&root).expect("read src/lab").flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            for f in std::fs::read_dir(&p)
                .expect("read a lab directory")
                .flatten()
            {
                let fname = f.file_name().to_string_lossy().into_owned();
                if fname == "tests.rs" || !fname.ends_with(".rs") {
                    continue;
                }
                let dir = (fname != "mod.rs").then_some(name.as_str());
                visit(&f.path(), &name, dir);
            }
        } else if let Some(m) = name.strip_suffix(".rs") {
            if m != "mod" {
                visit(&p, m, None);
            }
        }
    }
    g
}

#[test]
fn every_module_has_a_layer() {
    for m in graph().keys() {
        assert!(layer(m).is_some(), "src/lab/{m} has no layer in LAYERS");
    }
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    for (m, deps) in graph() {
        let own = layer(&m).unwrap_or(0);
        for d in deps.iter().filter(|d| layer(d).is_some()) {
            let theirs = layer(d).unwrap_or(0);
            assert!(
                theirs <= own,
                "{m} ({}) imports {d} ({}), a layer above it",
                LAYERS[own].0,
                LAYERS[theirs].0
            );
        }
    }
}

#[test]
fn the_plan_does_no_io() {
    let g = graph();
    for d in g.get("plan").into_iter().flatten() {
        assert!(!IO.contains(&d.as_str()), "plan imports the adapter {d}");
    }
}

#[test]
fn modules_import_one_another_without_a_circle() {
    let g = graph();
    // Depth-first search; a module met again while still on the path closes a circle.
    fn visit<'a>(
        m: &'a str,
        g: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        if let Some(k) = path.iter().position(|p| *p == m) {
            panic!("import circle: {} -> {m}", path[k..].join(" -> "));
        }
        if !done.insert(m) {
            return;
        }
        path.push(m);
        for d in g.get(m).into_iter().flatten() {
            if g.contains_key(d) {
                visit(d, g, path, done);
            }
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in g.keys() {
        visit(m, &g, &mut Vec::new(), &mut done);
    }
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let t = "use super::{journal::Owned, spec};\nuse crate::lab::nat;\n#[cfg(test)]\nmod tests { use super::probe; }";
    let top: Vec<String> = imports(t, None).into_iter().collect();
    assert_eq!(top, ["journal", "nat", "spec"]);
    let t = "use super::{Kind, Op};\nfn f() { super::super::observe::x(); crate::lab::nat::y(); }";
    let inner: Vec<String> = imports(t, Some("plan")).into_iter().collect();
    assert_eq!(inner, ["nat", "observe", "plan"]);
}
