//! Completion scripts and man pages, generated from the clap definitions.

use assert_cmd::Command;

/// Runs moai, expects success and nothing on stderr, returns stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = Command::cargo_bin("moai")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moai {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

/// Runs moai expecting exit code 2, empty stdout and one line on stderr.
fn rejected(args: &[&str]) -> String {
    let stderr = exit_2(args);
    assert_eq!(stderr.lines().count(), 1, "one line on stderr: {stderr}");
    stderr
}

/// Runs moai expecting exit code 2 and empty stdout; returns stderr.
fn exit_2(args: &[&str]) -> String {
    let out = Command::cargo_bin("moai")
        .unwrap()
        .args(args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "moai {args:?} should exit 2");
    assert!(out.stdout.is_empty(), "stdout must stay empty on errors");
    String::from_utf8(out.stderr).unwrap()
}

/// Runs moai expecting a usage error: exit code 2, empty stdout, clap's
/// message on stderr.
fn usage_error(args: &[&str]) -> String {
    let stderr = exit_2(args);
    assert!(stderr.starts_with("error: "), "{stderr}");
    stderr
}

#[test]
fn every_shell_completes_the_commands_and_their_flags() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        for word in [
            "byzantine",
            "gossip",
            "resolve",
            "run",
            "scenarios",
            // Long flags, without their dashes: fish writes `-l fanout`.
            "fault-tolerance",
            "fanout",
            "topology",
            "strategy",
            "format",
        ] {
            assert!(script.contains(word), "{shell} script lacks {word}");
        }
        // Value enums complete their values.
        assert!(script.contains("small-world"), "{shell}");
    }
}

#[test]
fn unknown_shell_is_a_usage_error_listing_the_shells() {
    let stderr = usage_error(&["completions", "tcsh"]);
    assert!(stderr.contains("invalid value 'tcsh'"), "{stderr}");
    assert!(
        stderr.contains("[possible values: bash, elvish, fish, powershell, zsh]"),
        "{stderr}"
    );
    assert!(usage_error(&["completions"]).contains("<SHELL>"));
}

#[test]
fn man_page_has_a_title_and_documents_commands_and_exit_codes() {
    let page = stdout_of(&["man"]);
    // clap_mangen defines a quote string (`.ie`/`.el`) before the title.
    let title = page.lines().position(|l| l.starts_with(".TH ")).unwrap();
    assert!(
        page.lines()
            .take(title)
            .all(|l| l.starts_with(".ie") || l.starts_with(".el"))
    );
    assert!(page.lines().nth(title).unwrap().starts_with(".TH moai 1 "));
    assert!(page.contains("\n.SH DESCRIPTION\n"));
    assert!(
        page.contains(
            "Exit codes: 0 success; 1 an expectation failed (`moai check`, `\\-\\-expect\\-decision`); 2 bad input or usage."
        ),
        "the description's exit codes:\n{page}"
    );
    for command in [
        "byzantine",
        "gossip",
        "resolve",
        "run",
        "scenarios",
        "check",
        "validate",
    ] {
        assert!(page.contains(&format!("moai\\-{command}(1)")), "{command}");
    }
    assert!(!page.contains("moai\\-help(1)"), "help has no page");
    assert!(page.ends_with('\n'));
}

#[test]
fn every_command_listed_in_the_man_page_has_its_own_page() {
    let page = stdout_of(&["man"]);
    let commands: Vec<&str> = page
        .lines()
        .filter_map(|l| l.strip_prefix("moai\\-")?.strip_suffix("(1)"))
        .collect();
    assert!(commands.len() >= 5, "{commands:?}");
    for command in commands {
        let sub = stdout_of(&["man", command]);
        assert!(
            sub.contains(&format!("\n.TH moai-{command} 1 ")),
            "{command}: {sub}"
        );
        assert!(
            sub.contains(&format!("\\fBmoai {command}\\fR")),
            "{command} synopsis"
        );
    }
    let gossip = stdout_of(&["man", "gossip"]);
    assert!(gossip.contains("\\fB\\-\\-fanout\\fR"));
}

#[test]
fn unknown_man_page_is_a_one_line_error() {
    let stderr = rejected(&["man", "vote"]);
    assert!(stderr.contains("no man page for 'vote'"), "{stderr}");
}
