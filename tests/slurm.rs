//! A real cluster scheduler: tests/slurm/run.sh starts a single-node Slurm
//! cluster on localhost (munged, slurmctld, slurmd), runs
//! examples/slurm-sweep.sbatch as a 4-task job array, and checks that
//! `moai merge` of the 4 parts prints the unsharded run's bytes, in JSON and
//! as a table.
//!
//! Where it cannot run (no Slurm or munge installed, or not root: the script
//! exits 77) the test prints one line on stderr and passes, unless `CI=true`,
//! where that fails it (.ci/run installs Slurm).
//!
//! The job scripts of examples/ (Slurm, a Kubernetes Indexed Job, a GitHub
//! Actions matrix) also run here without their scheduler, on every machine:
//! each shard's command as written in the example, with the variables the
//! scheduler would set, then `moai merge` of the parts.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The moai binary of this build.
const MOAI: &str = env!("CARGO_BIN_EXE_moai");

/// The script, from the crate's root.
const SCRIPT: &str = "tests/slurm/run.sh";

/// The script's exit code when it cannot run on this machine.
const CANNOT_RUN: i32 = 77;

/// How long the script may take: its own waits (60 s for the node, 300 s for
/// the job array) and the runs, with room to spare.
const TIMEOUT: Duration = Duration::from_secs(480);

/// How long the script has, once sent SIGTERM at the timeout, to stop the
/// daemons it started before its whole process group is killed.
const GRACE: Duration = Duration::from_secs(40);

/// What the script's run came to, when it is no failure.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// It ran, and the merged output was the unsharded one.
    Passed,
    /// It could not run here, for the reason in this line (for stderr).
    Skipped(String),
}

/// What the script's exit `code` (`None`: killed) means, given its `stderr`
/// and the `CI` variable: a skip is a failure under `CI=true` (CI must run
/// the scheduler test, never skip it).
fn decide(code: Option<i32>, stderr: &str, ci: Option<&str>) -> Result<Outcome, String> {
    let last = stderr.lines().last().unwrap_or("no message").trim();
    match code {
        Some(0) => Ok(Outcome::Passed),
        Some(CANNOT_RUN) => {
            let reason = last
                .strip_prefix("tests/slurm/run.sh: skipped: ")
                .unwrap_or(last);
            if ci == Some("true") {
                Err(format!("CI=true and the Slurm test cannot run: {reason}"))
            } else {
                Ok(Outcome::Skipped(format!("slurm test skipped: {reason}")))
            }
        }
        Some(code) => Err(format!("{SCRIPT} exited with {code}: {last}")),
        None => Err(format!("{SCRIPT} was killed: {last}")),
    }
}

/// Runs the script with `MOAI` set to this build's binary, in its own process
/// group; at [`TIMEOUT`] it is sent SIGTERM (its trap stops its daemons),
/// and its group is killed after [`GRACE`]. Returns its exit code (`None`
/// when killed by a signal), stdout and stderr.
fn run_script() -> (Option<i32>, String, String) {
    let mut child = Command::new("bash")
        .arg(SCRIPT)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("MOAI", MOAI)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let pid = child.id() as libc::pid_t;
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let start = Instant::now();
    let mut signalled = false;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the script") {
            break status;
        }
        let elapsed = start.elapsed();
        if elapsed >= TIMEOUT + GRACE {
            // SAFETY: kill(2) on the group this function created; no memory touched.
            unsafe { libc::kill(-pid, libc::SIGKILL) };
            break child.wait().expect("wait for the script");
        }
        if elapsed >= TIMEOUT && !signalled {
            // SAFETY: kill(2) on the child this function started.
            unsafe { libc::kill(pid, libc::SIGTERM) };
            signalled = true;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, mut stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    if signalled {
        stderr.push_str(&format!("timed out after {TIMEOUT:?}\n"));
    }
    (status.code(), stdout, stderr)
}

#[test]
fn a_slurm_job_array_merges_to_the_unsharded_bytes() {
    let (code, stdout, stderr) = run_script();
    let ci = std::env::var("CI").ok();
    match decide(code, &stderr, ci.as_deref()) {
        Ok(Outcome::Passed) => {
            assert!(
                stdout.contains("byte for byte, in JSON and as a table"),
                "stdout: {stdout}"
            );
            assert!(
                stdout.contains("sharded: 4 Slurm array tasks"),
                "stdout: {stdout}"
            );
        }
        // Written past the test harness's capture, so that it is seen.
        Ok(Outcome::Skipped(line)) => {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
        Err(message) => panic!("{message}\nstdout: {stdout}\nstderr: {stderr}"),
    }
}

#[test]
fn a_missing_slurm_skips_except_on_ci() {
    let stderr = "tests/slurm/run.sh: skipped: slurmctld not found; it runs as root with \
                  Debian's Slurm and munge installed (`apt-get install slurm-wlm munge`, as root)\n";
    let reason = "slurmctld not found; it runs as root with Debian's Slurm and munge installed \
                  (`apt-get install slurm-wlm munge`, as root)";
    for ci in [None, Some("false"), Some("1")] {
        assert_eq!(
            decide(Some(CANNOT_RUN), stderr, ci),
            Ok(Outcome::Skipped(format!("slurm test skipped: {reason}")))
        );
    }
    assert_eq!(
        decide(Some(CANNOT_RUN), stderr, Some("true")),
        Err(format!("CI=true and the Slurm test cannot run: {reason}"))
    );
    assert_eq!(decide(Some(0), "", Some("true")), Ok(Outcome::Passed));
    assert_eq!(
        decide(
            Some(1),
            "tests/slurm/run.sh: 3 parts written, not 4\n",
            None
        ),
        Err("tests/slurm/run.sh exited with 1: tests/slurm/run.sh: 3 parts written, not 4".into())
    );
    assert_eq!(
        decide(None, "", None),
        Err("tests/slurm/run.sh was killed: no message".into())
    );
}

/// Where the script cannot run (here: not root), it exits 77 with one line
/// on stderr saying why and how to install Slurm, and starts nothing.
#[test]
fn the_script_says_why_it_cannot_run() {
    let mut command = Command::new("bash");
    // As root, the script is run as `nobody` (setpriv, from util-linux).
    // SAFETY: geteuid(2) reads the process's user id; no memory touched.
    if unsafe { libc::geteuid() } == 0 {
        command = Command::new("setpriv");
        command.args(["--reuid=65534", "--regid=65534", "--clear-groups", "bash"]);
    }
    let out = command
        .arg(SCRIPT)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("MOAI", MOAI)
        .output()
        .expect("the script runs");
    assert_eq!(out.status.code(), Some(CANNOT_RUN));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "tests/slurm/run.sh: skipped: not root; it runs as root with Debian's Slurm and munge \
         installed (`apt-get install slurm-wlm munge`, as root)\n"
    );
}

/// A fresh, empty directory for the test `name`.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("moai-slurm-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("parts")).unwrap();
    dir
}

/// Runs `command`, expects success and nothing on stderr; returns stdout.
fn stdout_of(command: &mut Command) -> Vec<u8> {
    let out = command.output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{command:?}: {}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Checks that `moai merge` of the parts in `parts` prints what the
/// unsharded `moai ARGS` prints, as a table and in JSON.
fn assert_merges_to_unsharded(parts: &Path, args: &[&str]) {
    for format in ["table", "json"] {
        let merged = stdout_of(
            Command::new(MOAI)
                .arg("merge")
                .arg(parts)
                .args(["--format", format]),
        );
        let unsharded = stdout_of(Command::new(MOAI).args(args).args(["--format", format]));
        assert!(
            merged == unsharded,
            "--format {format}: merged:\n{}\nunsharded:\n{}",
            String::from_utf8_lossy(&merged),
            String::from_utf8_lossy(&unsharded)
        );
    }
}

/// The block of lines under the first line of `text` that reads `start`
/// (leading spaces aside): the lines indented deeper than it, less that
/// indent, up to the first line that is not.
fn block_under(text: &str, start: &str) -> String {
    let mut lines = text.lines().skip_while(|line| line.trim_start() != start);
    let head = lines.next().unwrap_or_else(|| panic!("no line {start:?}"));
    let indent = head.len() - head.trim_start().len();
    let body: Vec<&str> = lines
        .take_while(|line| line.len() - line.trim_start().len() > indent)
        .collect();
    let inner = body
        .iter()
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|line| format!("{}\n", &line[inner..]))
        .collect()
}

/// examples/slurm-sweep.sbatch, as each task of a job array `--array=5-8`
/// runs it (Slurm's variables set by hand, the tasks run in shuffled order),
/// writes 4 parts that merge to the unsharded run's bytes.
#[test]
fn the_slurm_job_script_shards_a_sweep_that_merges_exactly() {
    let dir = scratch("sbatch");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm-sweep.sbatch");
    for id in ["7", "5", "8", "6"] {
        stdout_of(
            Command::new("bash")
                .arg(&script)
                .current_dir(&dir)
                .env_remove("SLURM_CPUS_PER_TASK")
                .envs([
                    ("MOAI", MOAI),
                    ("MOAI_SCENARIO", "gossip-swarm"),
                    ("MOAI_TRIALS", "30"),
                    ("MOAI_SWEEP", "fanout=2,3,4,5"),
                    ("MOAI_ARGS", "--agents 300 --loss 0.1"),
                    ("SLURM_ARRAY_TASK_ID", id),
                    ("SLURM_ARRAY_TASK_MIN", "5"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                ]),
        );
    }
    let mut parts: Vec<String> = std::fs::read_dir(dir.join("parts"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    parts.sort();
    assert_eq!(
        parts,
        ["part-5.json", "part-6.json", "part-7.json", "part-8.json"]
    );
    assert_merges_to_unsharded(
        &dir.join("parts"),
        &[
            "gossip",
            "gossip-swarm",
            "--trials",
            "30",
            "--sweep",
            "fanout=2,3,4,5",
            "--agents",
            "300",
            "--loss",
            "0.1",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The command of examples/k8s-indexed-job.yaml's pods, run with each
/// JOB_COMPLETION_INDEX (0 to 3) as Kubernetes sets it, writes 4 parts that
/// merge to the unsharded run's bytes.
#[test]
fn the_kubernetes_pod_command_shards_a_sweep_that_merges_exactly() {
    let dir = scratch("k8s");
    let yaml = std::fs::read_to_string("examples/k8s-indexed-job.yaml").unwrap();
    let command = block_under(&yaml, "- |");
    assert!(command.contains("moai gossip gossip-swarm --trials 1000 --sweep fanout=2,3,4,5"));
    let command = command.replace("/parts/", &format!("{}/parts/", dir.display()));
    let bin = Path::new(MOAI).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for index in ["2", "0", "3", "1"] {
        stdout_of(
            Command::new("sh")
                .args(["-c", &command])
                .env("PATH", &path)
                .env("JOB_COMPLETION_INDEX", index),
        );
    }
    assert_merges_to_unsharded(
        &dir.join("parts"),
        &[
            "gossip",
            "gossip-swarm",
            "--trials",
            "1000",
            "--sweep",
            "fanout=2,3,4,5",
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// examples/ci-matrix.yml's steps, run as its jobs would: the shard step once
/// per matrix value, then the merge job's step on the downloaded parts; its
/// table and JSON are the unsharded run's bytes, and it writes the report.
#[test]
fn the_ci_matrix_shards_a_sweep_that_merges_exactly() {
    let dir = scratch("ci");
    let yaml = std::fs::read_to_string("examples/ci-matrix.yml").unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    // A folded scalar: its lines are one command.
    let shard = block_under(&yaml, "- run: >").replace('\n', " ");
    assert!(shard.contains("--shard ${{ matrix.shard }}/4 --format json"));
    for k in ["3", "1", "4", "2"] {
        let command = shard
            .replace("${{ matrix.shard }}", k)
            .replace("bin/moai", MOAI)
            .replace("scenarios/", &format!("{root}/scenarios/"));
        stdout_of(
            Command::new("bash")
                .args(["-c", &command])
                .current_dir(dir.join("parts")),
        );
    }
    let merge = block_under(&yaml, "- run: |").replace("bin/moai", MOAI);
    let table = stdout_of(
        Command::new("bash")
            .args(["-e", "-c", &merge])
            .current_dir(&dir),
    );
    let args = [
        "gossip",
        &format!("{root}/scenarios/gossip-swarm.toml"),
        "--trials",
        "1000",
        "--sweep",
        "fanout=2,3,4,5",
    ]
    .map(String::from);
    let unsharded =
        |format: &str| stdout_of(Command::new(MOAI).args(&args).args(["--format", format]));
    assert_eq!(
        String::from_utf8(table).unwrap(),
        String::from_utf8(unsharded("table")).unwrap()
    );
    assert_eq!(
        std::fs::read(dir.join("sweep.txt")).unwrap(),
        unsharded("table")
    );
    assert_eq!(
        std::fs::read(dir.join("sweep.json")).unwrap(),
        unsharded("json")
    );
    assert!(
        std::fs::read_to_string(dir.join("sweep.html"))
            .unwrap()
            .starts_with("<!DOCTYPE html>")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
