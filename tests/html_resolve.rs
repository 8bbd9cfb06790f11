//! `moai resolve --report FILE.html`, with `--compare` and `--explain KEY`:
//! per key the causality graph (one per key, its arrows counted, the winner
//! marked), the tables, and no external reference, checked from the page's
//! HTML (tests/browser.rs renders it).

#[path = "support/html.rs"]
mod html;

use html::{MAX_REPORT_BYTES, assert_labels, causality, fresh_dir, moai, owned, reported, s, svgs};

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}.toml", env!("CARGO_MANIFEST_DIR"))
}

/// The page of `moai ARGS --report FILE` ([`reported`], exit 0), which
/// prints nothing on stderr.
fn page(name: &str, args: &[&str]) -> String {
    let out = reported(name, args, 0);
    assert!(out.stderr.is_empty(), "{args:?}");
    out.page
}

/// The graphs of the page (plotters charts left out).
fn graphs(page: &str) -> Vec<(Vec<String>, usize)> {
    svgs(page)
        .into_iter()
        .filter(|s| s.starts_with("<svg class=\"causality\""))
        .map(causality)
        .collect()
}

#[test]
fn resolve_draws_one_graph_per_key_with_its_winner_and_a_table() {
    let page = page("vector", &["resolve", &scenario("vector-clocks")]);
    assert_eq!(
        graphs(&page),
        [
            (owned(&["dominated", "winner"]), 1),
            (owned(&["winner", "sibling"]), 0),
            (owned(&["winner", "sibling", "sibling"]), 0),
        ]
    );
    // Every graph is inlined without its namespace URL and scales down to
    // the page's width.
    assert!(!page.contains("xmlns"));
    assert!(page.contains("figure svg{max-width:100%;height:auto"));
    for key in ["document", "state", "config"] {
        assert!(page.contains(&format!("<h2>Key {key}</h2>")), "{key}");
    }
    assert_eq!(page.matches("<table class=\"resolution\">").count(), 3);
    assert!(page.contains(
        "<th scope=\"row\">value</th><td>Version B</td></tr>\
         <tr><th scope=\"row\">winner</th><td>agent-2 v2</td></tr>\
         <tr><th scope=\"row\">strategy</th><td>vector (vector_causal)</td></tr>\
         <tr><th scope=\"row\">route</th><td>none (not hybrid)</td>"
    ));
}

#[test]
fn resolve_shows_the_hybrid_route_and_the_merge() {
    let page = page("hybrid", &["resolve", &scenario("hybrid")]);
    let shapes = graphs(&page);
    assert_eq!(shapes.len(), 3);
    assert_eq!(shapes[0], (owned(&["merged", "merged"]), 0));
    assert!(
        page.contains("<td>merge (counter) of 2 versions</td>"),
        "{page}"
    );
    assert!(page.contains("<th scope=\"row\">route</th><td>counter_</td>"));
    assert!(page.contains("<th scope=\"row\">route</th><td>default</td>"));
}

#[test]
fn compare_sets_the_strategies_side_by_side_under_the_writes_lost() {
    let page = page("compare", &["resolve", &scenario("hybrid"), "--compare"]);
    let all = svgs(&page);
    // The bar chart of writes lost first, then one graph per key.
    assert!(!all[0].contains("class=\"causality\""));
    assert_labels(
        all[0],
        &["writes lost (versions)", "lww", "vector", "crdt", "hybrid"],
    );
    assert_eq!(
        graphs(&page),
        [
            (owned(&["sibling", "winner"]), 0),
            (owned(&["dominated", "winner"]), 1),
            (owned(&["sibling", "winner"]), 0),
        ]
    );
    assert_eq!(all.len(), 4);
    assert_eq!(page.matches("<table class=\"summary\">").count(), 1);
    assert_eq!(page.matches("<table class=\"comparison\">").count(), 3);
    assert!(page.contains(
        "<th scope=\"row\">lww</th><td>3</td><td>2</td><td>2</td>\
         <td>counter_tasks: agent-1 v1; max_workers: agent-1 v1</td>"
    ));
    // One recommended row per key, and the recommendation's reason.
    assert_eq!(page.matches("<tr class=\"recommended\">").count(), 3);
    assert!(page.contains(
        "<th scope=\"row\">crdt (counter) ★ recommended</th><td>80</td>\
         <td>agent-1 v1, agent-2 v2</td><td></td><td></td>"
    ));
    assert!(page.contains("Recommended: crdt (counter): lww loses 1 concurrent increment"));
    assert!(page.contains(
        "<th scope=\"row\">vector</th><td>38</td><td>agent-2 v2</td><td>agent-1 v1</td>\
         <td>agent-1 v1, agent-2 v2</td>"
    ));
    assert!(page.contains("(route counter_ → crdt)"));
}

#[test]
fn compare_says_what_list_limit_left_out() {
    let page = page(
        "limit",
        &[
            "resolve",
            &scenario("hybrid"),
            "--compare",
            "--list-limit",
            "1",
        ],
    );
    assert!(page.contains("<td>agent-1 v1 … and 1 more</td>"), "{page}");
    // The graphs still draw every version.
    assert_eq!(graphs(&page)[0].0.len(), 2);
}

#[test]
fn explain_lists_the_explanation_under_the_graph() {
    let args = ["resolve", &scenario("vector-clocks"), "--explain", "config"];
    let page = page("explain", &args);
    assert_eq!(
        graphs(&page),
        [(owned(&["winner", "sibling", "sibling"]), 0)]
    );
    let table = moai().args(args).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    let why: Vec<&str> = table
        .split("Why:\n")
        .nth(1)
        .unwrap()
        .lines()
        .map(str::trim)
        .collect();
    assert_eq!(why.len(), 2);
    let escape = |l: &str| {
        l.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let items: String = why
        .iter()
        .map(|l| format!("<li>{}</li>", escape(l)))
        .collect();
    assert!(
        page.contains(&format!("<ul class=\"explanation\">{items}</ul>")),
        "{page}"
    );
    assert!(page.contains("Resolved: Config A (agent-1 v1, vector_concurrent_lww)."));
    let graph_at = page.find("<svg class=\"causality\"").unwrap();
    assert!(graph_at < page.find("<ul class=\"explanation\">").unwrap());
}

/// A scenario of `keys` states of 50 concurrent versions each.
fn many_keys(dir: &std::path::Path, keys: usize) -> String {
    let mut text =
        String::from("algorithm = \"resolve\"\nname = \"many-keys\"\nstrategy = \"vector\"\n");
    for k in 0..keys {
        text.push_str(&format!("[[states]]\nkey = \"key-{k:03}\"\nversions = [\n"));
        for a in 0..50 {
            text.push_str(&format!(
                "  {{ agent = \"agent-{a:02}\", value = \"value {a} of a longer text\", version = {} }},\n",
                a + 1
            ));
        }
        text.push_str("]\n");
    }
    let path = dir.join("many-keys.toml");
    std::fs::write(&path, text).unwrap();
    s(&path).to_string()
}

#[test]
fn many_keys_draw_twenty_graphs_list_five_hundred_and_stay_under_a_mebibyte() {
    let dir = fresh_dir("scenario");
    let file = many_keys(&dir, 600);
    for (name, extra) in [("many", None), ("many-compare", Some("--compare"))] {
        let mut args = vec!["resolve", file.as_str()];
        args.extend(extra);
        let page = page(name, &args);
        assert!(
            page.len() < MAX_REPORT_BYTES,
            "{name}: {} bytes",
            page.len()
        );
        let shapes = graphs(&page);
        assert_eq!(shapes.len(), 20, "{name}");
        assert!(
            shapes
                .iter()
                .all(|(roles, arrows)| roles.len() == 50 && *arrows == 0)
        );
        assert!(page.contains("<h2>Key key-019</h2>") && !page.contains("<h2>Key key-020</h2>"));
        assert!(page.contains(
            "Only the first 20 keys are drawn; the next 500 are listed here and 80 more are \
             left out (the terminal and JSON output list every key)."
        ));
        let table = &page[page.find("<table class=\"keys\">").unwrap()..];
        assert_eq!(table.matches("<tr>").count(), 501, "{name}");
        assert!(table.contains("<td>key-020</td>") && table.contains("<td>key-519</td>"));
        assert!(!page.contains("key-520"), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
