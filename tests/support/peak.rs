//! Runs moai as a child process and measures its peak resident memory, so a
//! test can assert a memory bound (a bound on bytes is a real assertion on a
//! shared machine; a bound on time is not).

use std::io::Read;
use std::process::{Command, Stdio};

/// What a measured run of moai gave.
#[derive(Debug)]
pub struct Measured {
    /// The exit code (`None` when a signal ended the process).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The child's peak resident set size, in bytes.
    pub peak_bytes: u64,
}

/// Runs the moai binary with `args` and the extra environment `env`, and
/// returns its output and its own peak RSS (from `wait4`, so other tests'
/// children running at the same time do not count).
// The child is reaped by `wait4`, which std's `wait` cannot replace: only
// `wait4` reports the child's own resource usage.
#[allow(clippy::zombie_processes)]
pub fn run_measured(args: &[&str], env: &[(&str, &str)]) -> Measured {
    let mut child = Command::new(env!("CARGO_BIN_EXE_moai"))
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("moai starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        out.read_to_end(&mut s).unwrap();
        s
    });
    let mut stderr = Vec::new();
    err.read_to_end(&mut stderr).unwrap();
    let stdout = reader.join().unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value to be filled in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; both pointers are
    // valid for the call.
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(waited, pid, "wait4 failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        // Linux reports ru_maxrss in KiB.
        peak_bytes: usage.ru_maxrss as u64 * 1024,
    }
}
