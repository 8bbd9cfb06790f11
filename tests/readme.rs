//! The README's examples are real: every ```console block's `$ moai ...`
//! commands are run and their output must match what the README shows, and
//! the table of contents lists every section. Run with `MOAI_BLESS=1` to
//! rewrite the README with the current output and contents.

use std::process::Command;

fn run(args: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_moai"))
        .args(args.split_whitespace())
        .output()
        .expect("moai runs");
    let mut text = String::from_utf8(out.stdout).unwrap();
    text.push_str(&String::from_utf8(out.stderr).unwrap());
    text
}

/// Where the table of contents starts and ends.
const TOC_START: &str = "<!-- contents: made by tests/readme.rs -->";
const TOC_END: &str = "<!-- end of contents -->";

/// GitHub's anchor for a heading: lower case, spaces as hyphens, and only
/// letters, digits, hyphens and underscores kept; repeats get `-1`, `-2`...
fn anchor(heading: &str, seen: &mut Vec<String>) -> String {
    let base: String = heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect();
    let repeats = seen.iter().filter(|s| **s == base).count();
    seen.push(base.clone());
    if repeats == 0 {
        base
    } else {
        format!("{base}-{repeats}")
    }
}

/// The table of contents: every `##` and `###` heading outside code blocks,
/// but its own.
fn contents(readme: &str) -> String {
    let mut toc = String::new();
    let mut seen = Vec::new();
    let mut in_code = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let (indent, title) = match line {
            _ if in_code || line == "## Contents" => continue,
            l if l.starts_with("### ") => ("  ", &l[4..]),
            l if l.starts_with("## ") => ("", &l[3..]),
            _ => continue,
        };
        let link = anchor(title, &mut seen);
        toc.push_str(&format!("{indent}- [{title}](#{link})\n"));
    }
    toc
}

/// The README with every console block's output replaced by what moai
/// prints now, and its table of contents made anew.
fn refreshed(readme: &str) -> String {
    let mut out = String::new();
    let toc = contents(readme);
    let mut in_toc = false;
    let mut in_console = false;
    let mut skipping_output = false;
    for line in readme.lines() {
        if line == TOC_START {
            in_toc = true;
            out.push_str(line);
            out.push('\n');
            out.push_str(&toc);
            continue;
        }
        if in_toc {
            if line == TOC_END {
                in_toc = false;
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        if line.starts_with("```console") {
            in_console = true;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if in_console && line.starts_with("```") {
            in_console = false;
            skipping_output = false;
            out.push_str(line);
            out.push('\n');
            continue;
        }
        if in_console {
            if let Some(args) = line.strip_prefix("$ moai ") {
                out.push_str(line);
                out.push('\n');
                out.push_str(&run(args));
                skipping_output = true;
            } else if !skipping_output {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[test]
fn readme_examples_show_real_output() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    assert!(
        readme.contains(TOC_START) && readme.contains(TOC_END),
        "README.md has no table of contents"
    );
    let fresh = refreshed(&readme);
    if std::env::var_os("MOAI_BLESS").is_some() {
        std::fs::write(path, &fresh).unwrap();
        return;
    }
    let first_difference = readme
        .lines()
        .zip(fresh.lines())
        .position(|(a, b)| a != b)
        .map_or(readme.lines().count().min(fresh.lines().count()), |i| i);
    assert!(
        readme == fresh,
        "README.md line {} differs from what moai prints now; run `MOAI_BLESS=1 cargo test --test readme` and review the diff",
        first_difference + 1
    );
}

#[test]
fn anchors_follow_github() {
    let mut seen = Vec::new();
    assert_eq!(
        anchor("moai in CI: expectations and `moai check`", &mut seen),
        "moai-in-ci-expectations-and-moai-check"
    );
    assert_eq!(
        anchor("Two meanings of \"unsafe\"", &mut seen),
        "two-meanings-of-unsafe"
    );
    assert_eq!(anchor("Byzantine", &mut seen), "byzantine");
    assert_eq!(anchor("Byzantine", &mut seen), "byzantine-1");
}
