//! Reports in a real browser: every report kind is opened in headless
//! Chromium and measured from the rendered page (chart boxes, series, labels,
//! network requests, errors), through tests/support/browser.rs. The fixture
//! tests prove that the harness catches each failure on a page that differs
//! from a good one by that failure alone.
//!
//! Without a browser these tests print one line on stderr and pass, unless
//! `CI=true`, where a missing browser fails them (.ci/run installs Chromium).

#[path = "support/browser.rs"]
mod browser;
#[path = "support/html.rs"]
mod html;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use browser::{Browser, Expect, Rendered, TempDir};

/// A chart of `series` series and at least `labels` labels.
const fn chart(series: usize, labels: usize) -> Expect {
    Expect { series, labels }
}

/// Every report kind the browser opens: its name, the moai arguments that
/// make it (the harness appends `--report FILE.html`), and the charts it
/// must show, in page order. Adding a report is one line here.
const REPORTS: &[(&str, &[&str], &[Expect])] = &[
    (
        "gossip single run",
        &["gossip", "stubborn-lossy"],
        &[chart(2, 23), chart(2, 19), chart(1, 19)],
    ),
    (
        "byzantine single run",
        &["byzantine", "random-voters"],
        &[chart(4, 16), chart(2, 17), chart(1, 8)],
    ),
    ("check", &["check", "scenarios/"], &[]),
    (
        "byzantine single run",
        &["byzantine", "infra"],
        &[chart(4, 10), chart(2, 10), chart(1, 8)],
    ),
    (
        "gossip trials with the exact law",
        &["gossip", "--trials", "200", "--exact"],
        &[chart(2, 19), chart(2, 19), chart(2, 25), chart(2, 15)],
    ),
    (
        "gossip exact law",
        &["gossip", "--exact"],
        &[chart(2, 23), chart(2, 24), chart(2, 14)],
    ),
    (
        "byzantine trials with the exact law",
        &["byzantine", "random-voters", "--trials", "300", "--exact"],
        &[chart(2, 16), chart(2, 16)],
    ),
    // Causality graphs: a series is a role's chromatic paint (the winner's
    // fill and its inner outline, a sibling's fill; grey dominated and
    // discarded boxes and the grey arrows are none); labels are the boxes'
    // three lines and the legend's rows.
    (
        "resolve",
        &["resolve", "scenarios/vector-clocks.toml"],
        &[chart(2, 9), chart(3, 8), chart(3, 11)],
    ),
    // The writes-lost bars (crdt's near-white fill is no series), then one graph per key.
    (
        "resolve --compare",
        &["resolve", "scenarios/hybrid.toml", "--compare"],
        &[chart(3, 12), chart(3, 8), chart(2, 9), chart(3, 8)],
    ),
    (
        "resolve --explain",
        &[
            "resolve",
            "scenarios/vector-clocks.toml",
            "--explain",
            "config",
        ],
        &[chart(3, 11)],
    ),
    (
        "gossip sweep",
        html::GOSSIP_SWEEP,
        &[chart(1, 19), chart(3, 17), chart(1, 14)],
    ),
    (
        "gossip sweep with the exact law",
        &[
            "gossip",
            "--trials",
            "100",
            "--exact",
            "--sweep",
            "fanout=3..5",
        ],
        &[chart(2, 19), chart(3, 15), chart(3, 15), chart(2, 14)],
    ),
    (
        "byzantine sweep with the exact law",
        html::BYZANTINE_SWEEP,
        &[chart(4, 22), chart(4, 22)],
    ),
];

/// Runs `test` with the browser, or skips it where there is none (see the
/// file's doc).
fn with_browser(test: impl FnOnce(&Browser)) {
    if let Some(browser) = browser::browser_or_skip() {
        test(&browser);
    }
}

#[test]
fn every_report_renders_clean() {
    with_browser(|browser| {
        for (name, args, expected) in REPORTS {
            let dir = TempDir::new().unwrap();
            let report = dir.join("report.html");
            let out = html::moai()
                .args(*args)
                .arg("--report")
                .arg(&report)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{name}: moai {args:?} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let problems = render(browser, &report).problems(expected);
            assert!(problems.is_empty(), "{name}: {problems:#?}");
        }
    });
}

/// The good fixture: a report-like page with two charts in plotters' SVG.
fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/browser/charts.html")
}

/// What the good fixture must show: the agreement chart's two lines (the
/// grey threshold rule is no series) and the stacked bars' three votes.
const FIXTURE_CHARTS: [Expect; 2] = [chart(2, 18), chart(3, 16)];

/// Renders `page`, failing the test when the browser does.
fn render(browser: &Browser, page: &Path) -> Rendered {
    browser
        .render(page)
        .unwrap_or_else(|error| panic!("{error}"))
}

/// The problems of the good fixture with `edit` applied, against its charts.
fn problems_of_variant(browser: &Browser, edit: impl Fn(&str) -> String) -> Vec<String> {
    let html = std::fs::read_to_string(fixture()).unwrap();
    let edited = edit(&html);
    assert_ne!(edited, html, "the edit changed nothing");
    let dir = TempDir::new().unwrap();
    let page = dir.join("variant.html");
    std::fs::write(&page, edited).unwrap();
    render(browser, &page).problems(&FIXTURE_CHARTS)
}

/// The fixture with `element` put last in its body.
fn with_in_body(html: &str, element: &str) -> String {
    html.replace("</body>", &format!("{element}\n</body>"))
}

#[test]
fn a_good_page_passes_with_its_counts() {
    with_browser(|browser| {
        let rendered = render(browser, &fixture());
        assert_eq!(rendered.problems(&FIXTURE_CHARTS), Vec::<String>::new());
        let names: Vec<&str> = rendered.charts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["agreement", "votes"]);
        let agreement = &rendered.charts[0];
        assert_eq!((agreement.width, agreement.height), (640.0, 360.0));
        assert_eq!((agreement.series, agreement.labels.len()), (2, 18));
        for label in ["round", "agreement (share of agents)", "0.6", "exact"] {
            assert!(agreement.labels.iter().any(|l| l == label), "{label}");
        }
        let votes = &rendered.charts[1];
        assert_eq!((votes.series, votes.labels.len()), (3, 16));
        assert!(votes.labels.iter().any(|l| l == "abstain"));
        // Wrong expectations are problems too.
        let expected_more = [FIXTURE_CHARTS[0], FIXTURE_CHARTS[1], FIXTURE_CHARTS[1]];
        assert_eq!(
            rendered.problems(&expected_more),
            ["2 charts rendered, 3 expected"]
        );
        let more_series = [chart(3, 19)];
        assert_eq!(
            rendered.problems(&more_series)[1..],
            [
                "chart agreement: 2 series, 3 expected",
                "chart agreement: 18 labels, at least 19 expected"
            ]
        );
    });
}

#[test]
fn every_external_reference_is_a_network_request() {
    with_browser(|browser| {
        let cases = [
            (
                r#"<img src="https://example.com/logo.png" alt="">"#,
                "https://example.com/logo.png",
            ),
            (
                r#"<script src="https://cdn.example.com/chart.js"></script>"#,
                "https://cdn.example.com/chart.js",
            ),
            (
                r#"<link rel="stylesheet" href="https://example.com/style.css">"#,
                "https://example.com/style.css",
            ),
            (
                r#"<div style="background: url('https://example.com/bg.png'); height: 9px"></div>"#,
                "https://example.com/bg.png",
            ),
            // A file beside the report is no better: the report must stand alone.
            (r#"<img src="logo.png" alt="">"#, "logo.png"),
        ];
        for (element, url) in cases {
            let problems = problems_of_variant(browser, |html| with_in_body(html, element));
            assert_eq!(problems.len(), 1, "{element}: {problems:?}");
            assert!(
                problems[0].starts_with("network request: ") && problems[0].ends_with(url),
                "{element}: {problems:?}"
            );
        }
    });
}

#[test]
fn an_empty_or_blank_chart_fails() {
    with_browser(|browser| {
        let problems = problems_of_variant(browser, |html| {
            html.replacen(
                r#"<svg width="640" height="360""#,
                r#"<svg width="0" height="0""#,
                1,
            )
        });
        assert!(
            problems.contains(&"chart agreement: empty box 0x0".to_string()),
            "{problems:?}"
        );
        let hidden = problems_of_variant(browser, |html| {
            html.replace(r#"<figure id="votes">"#, r#"<figure id="votes" hidden>"#)
        });
        assert!(
            hidden.contains(&"chart votes: empty box 0x0".to_string()),
            "{hidden:?}"
        );
        let blank = problems_of_variant(browser, |html| {
            let start = html.find("<figure id=\"votes\">").unwrap();
            let svg = start + html[start..].find('>').unwrap() + 1;
            let svg = svg + html[svg..].find('>').unwrap() + 1;
            let end = svg + html[svg..].find("</svg>").unwrap();
            format!("{}{}", &html[..svg], &html[end..])
        });
        assert_eq!(
            blank,
            [
                "chart votes: nothing drawn",
                "chart votes: 0 series, 3 expected",
                "chart votes: 0 labels, at least 16 expected"
            ]
        );
    });
}

#[test]
fn a_script_error_fails() {
    with_browser(|browser| {
        let thrown = problems_of_variant(browser, |html| {
            with_in_body(html, r#"<script>throw new Error("boom")</script>"#)
        });
        assert_eq!(thrown, ["error: uncaught boom"]);
        let logged = problems_of_variant(browser, |html| {
            with_in_body(html, r#"<script>console.error("bad", 42)</script>"#)
        });
        assert_eq!(logged, ["error: console.error bad 42"]);
        let rejected = problems_of_variant(browser, |html| {
            with_in_body(
                html,
                r#"<script>Promise.reject(new Error("late"))</script>"#,
            )
        });
        assert_eq!(rejected, ["error: unhandled rejection late"]);
    });
}

#[test]
fn overlapping_labels_fail() {
    with_browser(|browser| {
        let problems = problems_of_variant(browser, |html| {
            html.replacen(
                ">round</text>",
                ">round</text>\n<text x=\"340\" y=\"338\" font-size=\"12\">rounds</text>",
                1,
            )
        });
        assert_eq!(
            problems,
            [r#"chart agreement: labels overlap: "round" / "rounds""#]
        );
    });
}

#[test]
fn series_that_only_colour_tells_apart_fail() {
    with_browser(|browser| {
        // Okabe and Ito's bluish green and vermillion: two greys of one lightness.
        let problems = problems_of_variant(browser, |html| html.replace("#8B1A00", "#D55E00"));
        assert_eq!(
            problems,
            [
                "chart votes: series alike in greyscale: rgb(0, 158, 115) none / rgb(213, 94, 0) none"
            ]
        );
        // Two lines of one lightness, without markers: a dash pattern tells
        // them apart; without it, nothing but colour does.
        let sienna = |html: &str| {
            let lines: Vec<&str> = html.lines().filter(|l| !l.starts_with("<circle")).collect();
            lines.join("\n").replace("#E69F00", "#A0522D")
        };
        assert_eq!(problems_of_variant(browser, sienna), Vec::<String>::new());
        let solid = problems_of_variant(browser, |html| {
            sienna(html).replace(r#" stroke-dasharray="8,4""#, "")
        });
        assert_eq!(
            solid,
            [
                "chart agreement: series alike in greyscale: rgb(0, 114, 178) none / rgb(160, 82, 45) none"
            ]
        );
        // The blue line's markers tell it from a solid line without them.
        let marked = problems_of_variant(browser, |html| {
            html.replace("#E69F00", "#A0522D")
                .replace(r#" stroke-dasharray="8,4""#, "")
        });
        assert_eq!(marked, Vec::<String>::new());
    });
}

#[test]
fn a_missing_browser_skips_except_on_ci() {
    let none = || Ok(None);
    assert!(matches!(browser::decide(none(), None), Ok(None)));
    assert!(matches!(browser::decide(none(), Some("false")), Ok(None)));
    let error = browser::decide(none(), Some("true")).unwrap_err();
    assert_eq!(
        error,
        "CI=true and no Chromium found: install it with `apt-get install -y chromium` \
         (as root; .ci/run does) or set MOAI_CHROMIUM"
    );
    assert!(browser::SKIP_LINE.contains("apt-get install -y chromium"));
    assert!(!browser::SKIP_LINE.contains('\n'));
}

#[test]
fn the_browser_is_found_by_variable_then_by_name() {
    let dir = TempDir::new().unwrap();
    let shell = dir.join("chromium");
    std::fs::write(&shell, "").unwrap();
    let in_path = browser::locate(None, Some(dir.join("").into_os_string())).unwrap();
    // Debian's /usr/bin/chromium, when installed, comes after PATH's entries.
    assert_eq!(in_path, Some(shell.clone()));
    let named = browser::locate(Some(shell.clone().into_os_string()), None).unwrap();
    assert_eq!(named, Some(shell));
    let missing = dir.join("no-such-browser");
    let error = browser::locate(Some(missing.clone().into_os_string()), None).unwrap_err();
    assert_eq!(
        error,
        format!("MOAI_CHROMIUM={} is not a file", missing.display())
    );
}

#[test]
fn the_probe_runs_first() {
    let page = browser::inject("<!DOCTYPE html><HTML><Head><title>t</title></head></html>");
    assert!(
        page.starts_with("<!DOCTYPE html><HTML><Head><script>(function () {"),
        "{page}"
    );
    assert!(page.ends_with("</script><title>t</title></head></html>"));
    let bare = browser::inject("<p>no head</p>");
    assert!(bare.starts_with("<script>") && bare.ends_with("</script><p>no head</p>"));
}

#[test]
fn a_browser_that_fails_or_hangs_is_an_error() {
    let failing = Browser {
        path: PathBuf::from("/bin/false"),
    };
    let error = failing.render(&fixture()).unwrap_err();
    assert!(
        error.starts_with("the browser exited with exit status: 1"),
        "{error}"
    );
    // A hung browser and the helpers it started are all killed: the
    // grandchild holds the pipes, so this returns only once it is gone too.
    let mut hanging = Command::new("sh");
    hanging.args(["-c", "sleep 600 & sleep 600"]);
    let error = browser::run_bounded(hanging, Duration::from_millis(200)).unwrap_err();
    assert_eq!(error, "the browser was killed after 200ms");
}
