//! docs/ARCHITECTURE.md against `cargo metadata`: its crate map names every workspace crate
//! (and nothing else) with the workspace crates each one really depends on, and its
//! layering diagram puts every crate below the crates that depend on it. Cheap: one
//! `cargo metadata --no-deps`, no build.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Normal (and optional) dependencies on workspace crates, per workspace crate.
fn workspace_dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(&root)
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).expect("metadata JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let names: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .filter(|n| names.contains(n))
                .collect();
            (p["name"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

fn architecture() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/ARCHITECTURE.md"
    ))
    .expect("docs/ARCHITECTURE.md")
}

/// The crate map's rows: crate name → the workspace crates its "depends on" cell names (in
/// backticks, without the `querent-` prefix; `querent` for the composition root).
fn crate_map(doc: &str, crates: &BTreeSet<String>) -> BTreeMap<String, BTreeSet<String>> {
    let mut rows = BTreeMap::new();
    for line in doc.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split(" | ").collect();
        let Some(first) = cells.first() else { continue };
        let name = match first.trim_start_matches("| ").trim_matches('`') {
            "bins/querent" => "querent".to_owned(),
            n if n.starts_with("querent-") && crates.contains(n) => n.to_owned(),
            n if n.starts_with("querent-") => panic!("the crate map names `{n}`, no such crate"),
            _ => continue,
        };
        let depends = cells.get(2).copied().unwrap_or_default();
        let named = depends
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|t| {
                let full = if t == "querent" {
                    t.to_owned()
                } else {
                    format!("querent-{t}")
                };
                crates.contains(&full).then_some(full)
            })
            .collect();
        assert!(
            rows.insert(name.clone(), named).is_none(),
            "{name} twice in the crate map"
        );
    }
    rows
}

/// The layering block: crate → its line (higher depends on lower).
fn layers(doc: &str) -> BTreeMap<String, usize> {
    let start = doc.find("```text\nL").expect("the layering block");
    let block = &doc[start + "```text\n".len()..];
    let block = &block[..block.find("```").expect("end of the layering block")];
    let mut out = BTreeMap::new();
    for line in block.lines() {
        let mut words = line.split_whitespace();
        let level: usize = words
            .next()
            .and_then(|l| l.strip_prefix('L'))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("layer line `{line}` must start with L<n>"));
        for c in words {
            assert!(
                out.insert(c.to_owned(), level).is_none(),
                "{c} on two layers"
            );
        }
    }
    out
}

#[test]
fn the_crate_map_names_every_crate_with_its_dependencies() {
    let deps = workspace_dependencies();
    let crates: BTreeSet<String> = deps.keys().cloned().collect();
    let map = crate_map(&architecture(), &crates);
    let documented: BTreeSet<String> = map.keys().cloned().collect();
    assert_eq!(
        documented, crates,
        "docs/ARCHITECTURE.md's crate map must have one row per workspace crate"
    );
    for (name, actual) in &deps {
        assert_eq!(
            &map[name], actual,
            "docs/ARCHITECTURE.md: the workspace crates `{name}` depends on (the \"depends on\" \
             column, in backticks) are not what its Cargo.toml says"
        );
    }
}

#[test]
fn the_layering_diagram_points_down() {
    let deps = workspace_dependencies();
    let layers = layers(&architecture());
    let placed: BTreeSet<&String> = layers.keys().collect();
    let crates: BTreeSet<&String> = deps.keys().collect();
    assert_eq!(
        placed, crates,
        "the layering diagram must place every workspace crate once"
    );
    for (name, on) in &deps {
        for dep in on {
            assert!(
                layers[dep] < layers[name],
                "docs/ARCHITECTURE.md layering: {name} (L{}) depends on {dep} (L{}), which \
                 must be on a lower line",
                layers[name],
                layers[dep]
            );
        }
    }
}
