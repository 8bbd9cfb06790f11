//! Running the moai binary from the end-to-end tests: the helpers the test
//! files share.

use assert_cmd::Command;
use serde_json::Value;

/// The moai binary, ready for arguments.
pub fn moai() -> Command {
    Command::cargo_bin("moai").unwrap()
}

/// Runs moai, expects success and nothing on stderr but the line with which
/// `moai run` says a file's `[expect]` held; returns stdout.
pub fn stdout_of(args: &[&str]) -> String {
    let out = moai().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "moai {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.is_empty() || stderr == "moai: all [expect] expectations met\n",
        "stderr: {stderr}"
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Runs moai with `--format json` appended and parses the whole of stdout.
pub fn json_of(args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format", "json"]);
    serde_json::from_str(&stdout_of(&args)).expect("stdout is one JSON document")
}
