//! `--report FILE.html`: one self-contained page beside the usual output,
//! checked from its HTML text (the browser test renders it).

#[path = "support/html.rs"]
mod html;

use html::{
    EQUIVOCATORS, LONG_RUN, MAX_REPORT_BYTES, assert_as_small, assert_labels, assert_same_report,
    fresh_dir, label, moai, report, report_once, reported, s, svgs,
};

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    let out = moai().args(args).output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

#[test]
fn a_gossip_run_reports_agreement_votes_and_lost_exchanges_with_partitions_shaded() {
    let page = report("gossip", &["gossip", "partitioned-swarm"]);
    assert!(page.contains("<title>moai report: partitioned-swarm</title>"));
    assert!(page.contains("<h1>partitioned-swarm</h1>"));
    assert!(page.contains("12 agents split east/west for rounds 1-4, then healed"));
    assert!(page.contains("<th scope=\"row\">seed</th><td>42</td>"));
    assert!(page.contains("<th scope=\"row\">fanout</th><td>3</td>"));
    assert!(page.contains(&format!(
        "<td>{}, results stream ",
        env!("CARGO_PKG_VERSION")
    )));
    assert_eq!(svgs(&page).len(), 3);
    assert_labels(
        &page,
        &[
            "Agreement per round",
            "Votes held per round",
            "Lost exchanges per round",
            "round",
            "agreement (share of votes)",
            "agents",
            "exchanges",
            "convergence threshold 0.95",
            "converged: round 9",
            "partitioned",
            "approve",
            "reject",
            "abstain",
        ],
    );
    assert!(page.contains("Converged in round 9 of 12"));
}

#[test]
fn a_gossip_run_that_does_not_converge_has_no_converged_mark() {
    let page = report("unconverged", &["gossip", "--rounds", "1", "--loss", "1"]);
    assert_eq!(svgs(&page).len(), 3);
    assert!(!page.contains("converged: round"));
    assert!(page.contains("Did not converge in 1 rounds"));
}

#[test]
fn a_byzantine_run_reports_votes_the_2f_plus_1_line_and_who_was_detected_why() {
    let page = report("byzantine", &["byzantine", "infra"]);
    assert!(page.contains("<title>moai report: infra</title>"));
    assert_eq!(svgs(&page).len(), 3);
    assert_labels(
        &page,
        &[
            "Votes cast per round",
            "votes",
            "agents",
            "2f+1 = 7",
            "for",
            "against",
            "equivocated",
            "silent",
        ],
    );
    for agent in ["agent-8", "agent-9", "agent-10"] {
        assert!(
            page.contains(&format!("<tr><td>{agent}</td><td>"))
                && page.matches("<td>changed vote</td></tr>").count() == 3,
            "{agent}"
        );
    }
    let page = report("equivocate", EQUIVOCATORS);
    assert!(page.contains("<td>equivocated</td>"), "{page}");
    assert!(page.contains("Rounds with equivocations: "));
}

#[test]
fn a_proposal_sequence_reports_each_proposal() {
    let page = report("sequence", &["byzantine", "rolling-upgrade"]);
    assert!(page.contains("Proposal 1: Votes"));
    assert!(page.contains("Proposal 2: "));
    assert_eq!(svgs(&page).len() % 3, 0);
    assert!(svgs(&page).len() >= 3);
}

#[test]
fn run_reports_the_kind_its_scenario_names() {
    let page = report("run", &["run", "gossip-swarm"]);
    assert!(page.contains("<p class=\"kind\">gossip, single run</p>"));
    assert_eq!(svgs(&page).len(), 3);
}

#[test]
fn check_reports_one_row_per_scenario_failures_first() {
    let dir = fresh_dir("check-input");
    let good = dir.join("good.toml");
    std::fs::write(
        &good,
        "algorithm = \"byzantine\"\n[[groups]]\ncount = 4\nvote = \"for\"\n[expect]\ndecision = \"approved\"\n",
    )
    .unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "algorithm = \"byzantine\"\n[[groups]]\ncount = 4\nvote = \"for\"\n[expect]\ndecision = \"rejected\"\n",
    )
    .unwrap();
    let broken = dir.join("broken.toml");
    std::fs::write(&broken, "algorithm = \"gossip\"\nfanout = \n").unwrap();
    let page = reported("check", &["check", s(&good), s(&bad), s(&broken)], 2).page;
    assert!(page.contains("<title>moai report: moai check</title>"));
    assert_eq!(svgs(&page).len(), 0);
    let fail = page
        .find("<td rowspan=\"1\" class=\"fail\">fail</td>")
        .unwrap();
    let error = page.find("class=\"error\">error</td>").unwrap();
    let pass = page.find("class=\"pass\">pass</td>").unwrap();
    assert!(fail < error && error < pass);
    assert!(page.contains("<td>decision</td><td>rejected</td><td>approved</td>"));
    assert!(page.contains("every expectation met"));
    assert!(page.contains("1 passed, 1 failed, 1 errors, 0 skipped."));
}

#[test]
fn a_million_agents_give_a_report_as_small_as_twenty() {
    let size = |agents: &str| {
        report_once(
            &format!("size-{agents}"),
            &["gossip", "--agents", agents, "--rounds", "3"],
        )
        .len()
    };
    let (small, large) = (size("20"), size("1000000"));
    assert_as_small("a million agents", large, small);
}

#[test]
fn a_long_run_is_drawn_in_bins_and_stays_small() {
    let page = report_once("long", LONG_RUN);
    assert!(page.len() < MAX_REPORT_BYTES, "{} bytes", page.len());
    assert!(page.contains(&label("agents (mean of 42 rounds)")));
}

#[test]
fn the_same_run_gives_the_same_report() {
    assert_same_report(&["gossip", "partitioned-swarm"]);
}

#[test]
fn a_report_path_that_is_an_input_scenario_is_refused() {
    let dir = fresh_dir("overwrite");
    let text = "algorithm = \"byzantine\"\n[[groups]]\ncount = 4\nvote = \"for\"\n";
    let scenario = dir.join("s.toml");
    std::fs::write(&scenario, text).unwrap();
    for args in [
        vec!["byzantine", s(&scenario)],
        vec!["run", s(&scenario)],
        vec!["check", s(&dir)],
    ] {
        let mut args = args.clone();
        args.extend(["--report", s(&scenario)]);
        let out = run(&args);
        assert_eq!(out.code, Some(2), "{args:?}");
        assert_eq!(out.stdout, "", "{args:?}");
        assert!(
            out.stderr.starts_with("moai: --report: '")
                && out.stderr.contains("refusing to overwrite it"),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1);
    }
    assert_eq!(std::fs::read_to_string(&scenario).unwrap(), text);
}

#[test]
fn a_report_that_cannot_be_written_is_one_line_and_exit_2() {
    let dir = fresh_dir("unwritable");
    let file = dir.join("missing").join("r.html");
    let out = run(&["gossip", "--report", s(&file)]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.starts_with(&format!(
            "moai: --report: cannot write '{}': ",
            file.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1);
    let out = run(&["gossip", "--report", "-"]);
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "moai: --report: the HTML report is written to a file, not to standard output ('-')\n"
    );
}
