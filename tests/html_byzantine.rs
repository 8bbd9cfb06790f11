//! The Byzantine single-run report says in which round each detected agent
//! was detected, and charts the detections per round (checked from the
//! page's HTML; the browser test renders it).

#[path = "support/html.rs"]
mod html;

use html::{EQUIVOCATORS, assert_labels, reported, svgs};

/// Runs `moai ARGS` with and without `--report FILE` ([`reported`], exit
/// 0) and returns stdout and the page.
fn report(name: &str, args: &[&str]) -> (String, String) {
    let out = reported(name, args, 0);
    (out.stdout, out.page)
}

/// The detected-agents table's rows, as (agent, round, why).
fn rows(page: &str) -> Vec<(String, u32, String)> {
    let head = "<thead><tr><th>agent</th><th>round</th><th>why</th></tr></thead><tbody>";
    let Some(start) = page.find(head) else {
        return Vec::new();
    };
    let body = &page[start + head.len()..];
    let body = &body[..body.find("</tbody>").unwrap()];
    body.split("</tr>")
        .filter(|row| !row.is_empty())
        .map(|row| {
            let cells: Vec<&str> = row
                .trim_start_matches("<tr>")
                .split("</td>")
                .filter(|c| !c.is_empty())
                .map(|c| c.trim_start_matches("<td>"))
                .collect();
            assert_eq!(cells.len(), 3, "{row}");
            (
                cells[0].to_string(),
                cells[1].parse().unwrap(),
                cells[2].to_string(),
            )
        })
        .collect()
}

#[test]
fn each_detected_agent_has_its_detection_round_and_why() {
    // Example 1: three flips among ten agents, five rounds.
    let (_, page) = report("infra", &["byzantine", "infra"]);
    let rows = rows(&page);
    let agents: Vec<&str> = rows.iter().map(|(a, _, _)| a.as_str()).collect();
    assert_eq!(agents, ["agent-8", "agent-9", "agent-10"]);
    for (agent, round, why) in &rows {
        assert!((2..=5).contains(round), "{agent} in round {round}");
        assert_eq!(why, "changed vote");
    }
    assert_labels(
        &page,
        &[
            "Agents detected per round",
            "agents first detected",
            "round",
        ],
    );
    assert_eq!(svgs(&page).len(), 3);
}

#[test]
fn equivocators_are_detected_in_round_one() {
    // Five honest relayers: an equivocator escapes a round only when all
    // five get the same vote, so with this seed both are caught at once.
    let (_, page) = report("equivocate", EQUIVOCATORS);
    let rows = rows(&page);
    assert_eq!(rows.len(), 2, "{page}");
    for (agent, round, why) in &rows {
        assert_eq!((*round, why.as_str()), (1, "equivocated"), "{agent}");
    }
}

#[test]
fn the_table_lists_only_what_list_limit_lets_through_and_stdout_is_unchanged() {
    let (full_out, full) = report("full", &["byzantine", "infra", "--format", "json"]);
    let (cut_out, cut) = report(
        "cut",
        &[
            "byzantine",
            "infra",
            "--format",
            "json",
            "--list-limit",
            "1",
        ],
    );
    assert_eq!(rows(&cut), rows(&full)[..1]);
    assert!(cut.contains("2 more not listed (--list-limit)."));
    // The chart counts every detection, listed or not.
    let chart = |page: &str| {
        let start = page.find("Agents detected per round").unwrap();
        page[start..].split("</svg>").next().unwrap().to_string()
    };
    assert_eq!(chart(&full), chart(&cut));
    for out in [&full_out, &cut_out] {
        assert!(!out.contains("detection_round") && !out.contains("\"detected\":"));
    }
}
