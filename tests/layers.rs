//! The library's floors: each top-level module may use only the modules on
//! the floors below it, so the data model never depends on what reads it and
//! no two modules form an import cycle. A new module gets a floor here.

use std::path::Path;

/// The floors, lowest first; modules on one floor do not use each other.
const FLOORS: &[&[&str]] = &[
    &["error", "pmf", "rng"],
    &["budget"],
    &["scenario"],
    &["consensus", "resolve", "work"],
    &["montecarlo"],
    &["exact", "shard"],
    &["report"],
    &["expect", "memory"],
    &["cli"],
    &["app"],
];

fn floor_of(module: &str) -> usize {
    FLOORS
        .iter()
        .position(|floor| floor.contains(&module))
        .unwrap_or_else(|| panic!("module `{module}` has no floor in tests/layers.rs"))
}

/// Every `crate::NAME` a source file names outside comments and its tests.
fn uses(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    let mut found = Vec::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (i, _) in line.match_indices("crate::") {
            let name: String = line[i + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
        }
    }
    found
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn every_module_uses_only_the_floors_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let top = relative.components().next().unwrap().as_os_str();
        let module = Path::new(top).file_stem().unwrap().to_str().unwrap();
        if module == "lib" || module == "main" {
            continue;
        }
        let own = floor_of(module);
        for used in uses(&std::fs::read_to_string(&file).unwrap()) {
            if used != module && floor_of(&used) >= own {
                wrong.push(format!("{}: {module} uses {used}", relative.display()));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports that point up or sideways:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn an_upward_use_is_seen() {
    // The check itself: a scenario file naming the algorithms is caught.
    let used = uses("use crate::consensus::gossip::GossipConfig;\n// crate::app\n");
    assert_eq!(used, ["consensus"]);
    assert!(floor_of("consensus") > floor_of("scenario"));
}
