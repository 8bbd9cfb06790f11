//! The resolve causality graph on the bundled Example 4
//! (`scenarios/vector-clocks.toml`). The test also writes the three graphs
//! into one HTML page, `target/tmp/html_graph/vector-clocks.html`, to look
//! at or screenshot.

use moai::report::html::graph::causality_svg;
use moai::resolve::resolve;
use moai::scenario::{Document, Scenario, Strategy};

#[path = "support/html.rs"]
mod html;

use html::{causality, owned};

#[test]
fn example_four_draws_one_arrow_and_the_concurrent_siblings() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/vector-clocks.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let scenario = Scenario::parse(&Document::from_text(
        "vector-clocks.toml",
        "vector-clocks",
        &text,
    ))
    .unwrap();
    let config = &scenario.resolve;
    let resolutions = resolve(config, Strategy::Vector);
    let svgs: Vec<String> = config
        .states
        .iter()
        .zip(&resolutions)
        .map(|(state, resolution)| causality_svg(state, resolution))
        .collect();
    let shapes: Vec<(Vec<String>, usize)> = svgs.iter().map(|s| causality(s)).collect();
    assert_eq!(
        shapes,
        [
            (owned(&["dominated", "winner"]), 1),
            (owned(&["winner", "sibling"]), 0),
            (owned(&["winner", "sibling", "sibling"]), 0),
        ]
    );
    for svg in &svgs {
        assert!(svg.starts_with("<svg ") && !svg.contains("<script"));
        // No reference outside the SVG: the namespace name is the only URI.
        assert_eq!(svg.matches("://").count(), 1);
        assert!(!svg.contains("url(") && !svg.contains("href"));
    }
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("html_graph");
    std::fs::create_dir_all(&dir).unwrap();
    let body: String = config
        .states
        .iter()
        .zip(&svgs)
        .map(|(state, svg)| format!("<h2>{}</h2>\n{svg}\n", state.key))
        .collect();
    std::fs::write(
        dir.join("vector-clocks.html"),
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>vector-clocks</title>\
             </head><body style=\"font-family: sans-serif\">\n{body}</body></html>\n"
        ),
    )
    .unwrap();
}

/// A history with a diamond, a long arrow and a concurrent branch, under
/// last-write-wins (which keeps a skewed write), as one page to look at.
#[test]
fn a_branching_history_draws_its_hasse_arrows() {
    let text = r#"
algorithm = "resolve"
name = "history"
strategy = "lww"

[[states]]
key = "doc"
versions = [
  { agent = "alice", value = "draft", version = 1, timestamp = 2025-01-01T10:00:00Z, vector_clock = { alice = 1 } },
  { agent = "bob", value = "draft + intro", version = 2, timestamp = 2025-01-01T10:00:01Z, vector_clock = { alice = 1, bob = 1 } },
  { agent = "carol", value = "draft + outline", version = 3, timestamp = 2025-01-01T10:00:02Z, vector_clock = { alice = 1, carol = 1 } },
  { agent = "alice", value = "merged intro and outline", version = 4, timestamp = 2025-01-01T10:00:03Z, vector_clock = { alice = 2, bob = 1, carol = 1 } },
  { agent = "dave", value = "a fork, written late with a skewed clock", version = 5, timestamp = 2025-01-01T10:09:00Z, vector_clock = { alice = 1, dave = 1 } },
  { agent = "erin", value = "final <b>text</b> & more", version = 6, timestamp = 2025-01-01T10:00:04Z, vector_clock = { alice = 3, bob = 1, carol = 1 } },
  { agent = "frank", value = "built on the fork", version = 7, timestamp = 2025-01-01T10:00:05Z, vector_clock = { alice = 1, dave = 2 } },
  { agent = "gus", value = "joins all", version = 8, timestamp = 2025-01-01T10:00:06Z, vector_clock = { alice = 3, bob = 1, carol = 1, dave = 1 } },
]
"#;
    let scenario = Scenario::parse(&Document::from_text("h.toml", "h", text)).unwrap();
    let state = &scenario.resolve.states[0];
    let resolution = &resolve(&scenario.resolve, Strategy::Lww)[0];
    let svg = causality_svg(state, resolution);
    // alice1 → bob, carol, dave; bob, carol → alice2 → erin → gus;
    // dave → frank, gus.
    let (classes, arrows) = causality(&svg);
    assert_eq!(arrows, 9);
    assert_eq!(classes.iter().filter(|c| *c == "winner").count(), 1);
    assert!(svg.contains("<title>dave v5 (winner)"));
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("html_graph");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("history.html"),
        format!("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>{svg}</body></html>\n"),
    )
    .unwrap();
}
