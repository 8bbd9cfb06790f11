//! Sharded trials and sweeps (`--shard K/N`, `moai merge`): the parts of a
//! plan, run as separate processes and merged in any order, print the
//! unsharded run's bytes; bad parts are one-line errors with exit 2.

#[path = "support/html.rs"]
mod html;

use std::path::{Path, PathBuf};

use html::{fresh_dir, moai, s};
use serde_json::Value;

/// Runs moai, expecting `code`; returns stdout and stderr.
fn run(args: &[&str], env: &[(&str, &str)], code: i32) -> (String, String) {
    let mut cmd = moai();
    cmd.args(args);
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    );
    assert_eq!(out.status.code(), Some(code), "moai {args:?}: {stderr}");
    (stdout, stderr)
}

/// Writes the parts of `args` cut into `count` shards into `dir`, each from
/// its own process, and returns their paths in shard order.
fn parts(dir: &Path, args: &[&str], count: u64) -> Vec<PathBuf> {
    (1..=count)
        .map(|k| {
            let shard = format!("{k}/{count}");
            let mut all = args.to_vec();
            all.extend(["--shard", &shard, "--format", "json"]);
            let path = dir.join(format!("part-{k}-of-{count}.json"));
            std::fs::write(&path, run(&all, &[], 0).0).unwrap();
            path
        })
        .collect()
}

/// The paths in a fixed shuffled order: every other one from the end, then
/// the rest.
fn shuffled(paths: &[PathBuf]) -> Vec<&str> {
    let (odd, even): (Vec<_>, Vec<_>) = paths
        .iter()
        .enumerate()
        .rev()
        .partition(|(i, _)| i % 2 == 1);
    odd.into_iter().chain(even).map(|(_, p)| s(p)).collect()
}

/// Checks that merging `args` cut into 1, 2, 3 and 7 shards prints what the
/// unsharded run prints, as a table and as JSON.
fn assert_merges_to_the_unsharded_bytes(name: &str, args: &[&str]) {
    let table = run(args, &[], 0).0;
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let json = run(&json_args, &[], 0).0;
    for count in [1, 2, 3, 7] {
        let dir = fresh_dir(&format!("{name}-{count}"));
        let paths = parts(&dir, args, count);
        let mut merge = vec!["merge"];
        merge.extend(shuffled(&paths));
        assert_eq!(
            run(&merge, &[], 0).0,
            table,
            "{name}: {count} shards, table"
        );
        merge.extend(["--format", "json"]);
        assert_eq!(run(&merge, &[], 0).0, json, "{name}: {count} shards, JSON");
        // A directory of the parts merges alike.
        let merged = run(&["merge", s(&dir), "--format", "json"], &[], 0).0;
        assert_eq!(merged, json, "{name}: {count} shards from the directory");
    }
}

#[test]
fn gossip_trials_merge_to_the_unsharded_bytes() {
    assert_merges_to_the_unsharded_bytes(
        "gossip-trials",
        &[
            "gossip", "--agents", "300", "--trials", "40", "--loss", "0.1",
        ],
    );
}

#[test]
fn gossip_sweeps_merge_to_the_unsharded_bytes() {
    assert_merges_to_the_unsharded_bytes(
        "gossip-sweep",
        &[
            "gossip",
            "--agents",
            "200",
            "--trials",
            "12",
            "--sweep",
            "fanout=2,3,5",
        ],
    );
}

#[test]
fn byzantine_trials_merge_to_the_unsharded_bytes() {
    assert_merges_to_the_unsharded_bytes("byzantine-trials", &["byzantine", "--trials", "50"]);
}

#[test]
fn byzantine_sweeps_merge_to_the_unsharded_bytes() {
    assert_merges_to_the_unsharded_bytes(
        "byzantine-sweep",
        &[
            "byzantine",
            "--trials",
            "15",
            "--sweep",
            "fault_tolerance=1,2,3",
        ],
    );
}

#[test]
fn the_exact_law_and_the_html_report_come_from_the_merge() {
    // --exact is computed by the merge, --report written by it, and the
    // scenario's [expect] evaluated as the unsharded run does.
    let dir = fresh_dir("exact-report");
    let args = [
        "run",
        "scenarios/gossip-swarm.toml",
        "--trials",
        "30",
        "--exact",
    ];
    let (table, stderr) = run(&args, &[], 0);
    let whole = dir.join("whole.html");
    run(&[&args[..], &["--report", s(&whole)]].concat(), &[], 0);
    let paths = parts(&dir, &args, 3);
    let merged = dir.join("merged.html");
    let mut merge = vec!["merge", "--report", s(&merged)];
    merge.extend(shuffled(&paths));
    let (merged_table, merged_stderr) = run(&merge, &[], 0);
    assert_eq!(merged_table, table);
    assert_eq!(merged_stderr, stderr);
    assert!(
        table.contains("Monte Carlo against the exact law"),
        "the exact law is shown: {table}"
    );
    assert_eq!(
        std::fs::read_to_string(&merged).unwrap(),
        std::fs::read_to_string(&whole).unwrap()
    );
}

#[test]
fn a_shard_from_the_scheduler_is_the_shard_given() {
    let dir = fresh_dir("auto");
    let args = [
        "gossip", "--agents", "100", "--trials", "20", "--format", "json",
    ];
    let given = parts(&dir, &args[..5], 4);
    let given: Vec<String> = given
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    let auto = [&args[..], &["--shard", "auto"]].concat();
    let slurm = run(
        &auto,
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ],
        0,
    )
    .0;
    assert_eq!(slurm, given[2]);
    let k8s = [&args[..], &["--shard", "auto/4"]].concat();
    assert_eq!(run(&k8s, &[("JOB_COMPLETION_INDEX", "0")], 0).0, given[0]);
    let (_, stderr) = run(&auto, &[], 2);
    assert!(
        stderr.starts_with("moai: --shard: auto found no scheduler") && stderr.lines().count() == 1,
        "{stderr}"
    );
    let (_, stderr) = run(&k8s, &[("JOB_COMPLETION_INDEX", "4")], 2);
    assert!(stderr.contains("JOB_COMPLETION_INDEX is 4"), "{stderr}");
}

/// Each part's trials per batch, as `[first, end]`.
fn ranges(part: &Path) -> Vec<[u64; 2]> {
    let json: Value = serde_json::from_str(&std::fs::read_to_string(part).unwrap()).unwrap();
    json["partial"]["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_value(b["trials"].clone()).unwrap())
        .collect()
}

#[test]
fn slices_are_balanced_by_work_not_by_count() {
    // Agents 100 to 10,000: the last value is 90% of the work, so it is
    // split between the shards rather than falling to one of them.
    let dir = fresh_dir("balance");
    let agents = [100u64, 1_000, 10_000];
    let args = [
        "gossip",
        "--trials",
        "8",
        "--rounds",
        "2",
        "--sweep",
        "agents=100,1000,10000",
    ];
    let paths = parts(&dir, &args, 4);
    let work: Vec<u64> = paths
        .iter()
        .map(|p| {
            let r = ranges(p);
            r.iter().zip(agents).map(|([a, b], n)| (b - a) * n).sum()
        })
        .collect();
    let total: u64 = agents.iter().sum::<u64>() * 8;
    for (k, w) in work.iter().enumerate() {
        let share = *w as f64 / total as f64;
        assert!(
            (0.15..=0.35).contains(&share),
            "shard {}: {share} of the work",
            k + 1
        );
    }
    let last_batch: Vec<[u64; 2]> = paths.iter().map(|p| ranges(p)[2]).collect();
    assert!(
        last_batch.iter().filter(|[a, b]| b > a).count() >= 3,
        "{last_batch:?}"
    );
}

/// Runs `moai merge PATHS`, expects exit 2 and one line on stderr, and
/// returns it.
fn refused(paths: &[&str]) -> String {
    let (stdout, stderr) = run(&[&["merge"], paths].concat(), &[], 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn bad_parts_are_one_line_errors() {
    let dir = fresh_dir("bad");
    let args = ["gossip", "--agents", "100", "--trials", "9"];
    let paths = parts(&dir, &args, 3);
    let [one, two, three] = [s(&paths[0]), s(&paths[1]), s(&paths[2])];
    assert_eq!(
        refused(&[one, three]),
        "moai: shard 2 of 3 missing: run it (--shard K/3) and merge every part\n"
    );
    assert!(refused(&[one, two, three, two]).contains("shard 2 of 3 is given twice"));

    let other = |name: &str, extra: &[&str]| {
        let path = dir.join(name);
        let all = [&args[..], extra, &["--shard", "2/3", "--format", "json"]].concat();
        std::fs::write(&path, run(&all, &[], 0).0).unwrap();
        path
    };
    let seed = other("seed.json", &["--seed", "7"]);
    let stderr = refused(&[one, s(&seed), three]);
    assert!(
        stderr.starts_with(&format!("moai: {}: seed 7, but {one} has 42", s(&seed))),
        "{stderr}"
    );

    let scenario = other("scenario.json", &["scenarios/stubborn-lossy.toml"]);
    assert!(refused(&[one, s(&scenario), three]).contains(": scenario "));

    let fanout = other("fanout.json", &["--fanout", "3"]);
    assert!(refused(&[one, s(&fanout), three]).contains(": command 'moai gossip"));

    let text = std::fs::read_to_string(&paths[1]).unwrap();
    let version = dir.join("version.json");
    let edited = text.replace("\"moai_version\": \"0.1.0\"", "\"moai_version\": \"9.9.9\"");
    assert_ne!(edited, text);
    std::fs::write(&version, edited).unwrap();
    assert!(refused(&[one, s(&version), three]).contains(": made by moai 9.9.9"));

    let truncated = dir.join("truncated.json");
    std::fs::write(&truncated, &text[..text.len() / 2]).unwrap();
    let stderr = refused(&[one, s(&truncated), three]);
    assert!(
        stderr.starts_with(&format!("moai: {}:", s(&truncated)))
            && stderr.contains("the part ends early"),
        "{stderr}"
    );

    let edited = dir.join("edited.json");
    std::fs::write(&edited, text.replace("\"trials\": 9", "\"trials\": 10")).unwrap();
    assert!(refused(&[one, s(&edited), three]).contains("does not match its fingerprint"));

    let report = dir.join("report.json");
    std::fs::write(
        &report,
        run(&[&args[..], &["--format", "json"]].concat(), &[], 0).0,
    )
    .unwrap();
    assert!(refused(&[s(&report)]).contains("not a partial result"));

    let missing = dir.join("nowhere.json");
    assert!(refused(&[s(&missing)]).contains("cannot read the part"));
}

#[test]
fn shard_flags_that_cannot_work_are_refused() {
    let refused = |extra: &[&str], says: &str| {
        let args = [&["gossip", "--agents", "50"], extra].concat();
        let (_, stderr) = run(&args, &[], 2);
        assert!(
            stderr.contains(says) && stderr.lines().count() == 1,
            "{stderr}"
        );
    };
    refused(
        &["--shard", "1/2", "--format", "json"],
        "give --trials N or --sweep",
    );
    refused(&["--trials", "4", "--shard", "1/2"], "add --format json");
    refused(
        &[
            "--trials",
            "4",
            "--shard",
            "1/2",
            "--format",
            "json",
            "--history",
            "h.csv",
        ],
        "drop --history",
    );
    let (_, stderr) = run(&["gossip", "--trials", "4", "--shard", "3/2"], &[], 2);
    assert!(stderr.contains("K must be from 1 to 2"), "{stderr}");
    let (_, stderr) = run(&["merge", "x.json", "--format", "csv"], &[], 2);
    assert!(stderr.contains("a merge prints tables or JSON"), "{stderr}");
}
