//! The README's examples are real: every ```console block's `$ moai ...`
//! commands are run and their output must match what the README shows.
//! Run with `MOAI_BLESS=1` to rewrite the README with the current output.

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

/// The README with every console block's output replaced by what moai prints now.
fn refreshed(readme: &str) -> String {
    let mut out = String::new();
    let mut in_console = false;
    let mut skipping_output = false;
    for line in readme.lines() {
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
