//! Runs moai as a child process and measures its peak resident memory, so a
//! test can assert a memory bound (a bound on bytes is a real assertion on a
//! shared machine; a bound on time is not).
//!
//! The peak is the child's own `VmHWM`, read from `/proc/PID/status` while
//! the child is stopped on its way out (ptrace's exit event), when its memory
//! is still mapped. The rusage that `wait4` reports is no good here: a child
//! spawned with `vfork` (as std does) starts its count at the test process's
//! own peak, so one test holding a large buffer inflates every later child.

use std::io::Read;
use std::os::unix::process::CommandExt;
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
/// returns its output and its own peak RSS.
// The child is reaped by the ptrace loop below, not by std's `wait`.
#[allow(clippy::zombie_processes)]
pub fn run_measured(args: &[&str], env: &[(&str, &str)]) -> Measured {
    let mut command = Command::new(env!("CARGO_BIN_EXE_moai"));
    command
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec the closure makes one system call and
    // touches no memory; the child stops when it execs, for the loop below.
    unsafe {
        command.pre_exec(|| {
            let traced = libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            if traced == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("moai starts");
    let read_all = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let pid = child.id() as libc::pid_t;
    let mut peak_bytes = 0;
    let code = loop {
        let mut status = 0;
        // SAFETY: pid is our own child; status is a valid out-pointer.
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid, "waitpid failed");
        if libc::WIFEXITED(status) {
            break Some(libc::WEXITSTATUS(status));
        }
        if libc::WIFSIGNALED(status) {
            break None;
        }
        let event = status >> 16;
        let signal = libc::WSTOPSIG(status);
        let forward = if event == libc::PTRACE_EVENT_EXIT {
            peak_bytes = own_peak(pid);
            0
        } else if signal == libc::SIGTRAP && event == 0 && peak_bytes == 0 {
            // The stop at exec: ask to stop again on the way out.
            // SAFETY: the child is stopped and traced by this thread.
            unsafe {
                libc::ptrace(
                    libc::PTRACE_SETOPTIONS,
                    pid,
                    0,
                    libc::PTRACE_O_TRACEEXIT as libc::c_long,
                )
            };
            0
        } else {
            signal
        };
        // SAFETY: as above; `forward` hands the child its own signal back.
        unsafe { libc::ptrace(libc::PTRACE_CONT, pid, 0, forward as libc::c_long) };
    };
    Measured {
        code,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        peak_bytes,
    }
}

/// `VmHWM` of a live process, in bytes.
fn own_peak(pid: libc::pid_t) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}
