//! Renders an HTML page in headless Chromium and measures it from the
//! rendered page, not from its source: the browser tests of the HTML reports
//! share it.
//!
//! How: the page is copied into a fresh temporary directory with a small
//! probe `<script>` put first in its `<head>`. The probe records uncaught
//! errors, unhandled rejections, `console.error` calls and elements whose
//! resource failed to load; 200 ms (virtual time) after the page has
//! loaded, it measures every top-level `<svg>` (its bounding box, its series
//! and its visible text labels), reads `performance.getEntriesByType('resource')` (the requests
//! the page made) and writes all of it as JSON into the DOM. Chromium's
//! `--dump-dom` prints the DOM and the JSON is read back from it. No crate
//! drives the browser (no CDP client): the flags and one script are enough,
//! and add no dependency.
//!
//! A series, as the probe counts it, is one distinct paint (a chromatic
//! colour, with its dash pattern) among a chart's marks (`polyline`, `path`,
//! `polygon`, `rect`, `circle`, `ellipse`, `line`), read from the computed
//! style: black, white and greys are axes, grids, backgrounds and reference
//! rules, not series; a line and its legend sample share a paint and count
//! once. Two series are alike in greyscale when they have the same dash
//! pattern and the same shapes of mark and their lumas (CSS `grayscale()`'s
//! weights, 0 to 1) are less than 0.1 apart: then only colour tells them
//! apart. A label is a `<text>` with visible text and a non-empty box.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::Deserialize;

/// How long one page may take before the browser is killed.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The one line printed when the browser tests are skipped.
pub const SKIP_LINE: &str = "browser tests skipped: no Chromium found \
    (install it with `apt-get install -y chromium`, or set MOAI_CHROMIUM to its path)";

/// The error when the browser is missing under `CI=true`.
pub const MISSING_ON_CI: &str = "CI=true and no Chromium found: install it with \
    `apt-get install -y chromium` (as root; .ci/run does) or set MOAI_CHROMIUM";

/// The window every page is laid out in, so that boxes are the same each run.
pub const WINDOW: (u32, u32) = (1280, 1024);

/// The probe's own element, in which it writes its JSON.
const PROBE_ID: &str = "moai-browser-probe";

/// The flags Chromium runs with, each for a reason:
/// - `--headless`, `--disable-gpu`: no display and no GPU on a CI machine;
/// - `--no-sandbox`: CI runs as root, where Chromium's sandbox cannot start;
/// - `--disable-background-networking`, `--disable-component-update`,
///   `--disable-sync`, `--no-first-run`, `--disable-quic`,
///   `--no-default-browser-check`, `--disable-extensions`: no connection of
///   the browser's own (on a closed network they fail, many at a time);
/// - `--host-resolver-rules=MAP * ~NOTFOUND`: every host name lookup fails,
///   so a stray reference in a page cannot reach out (it still shows up as a
///   request, a failed one);
/// - `--window-size`, `--force-device-scale-factor=1`, `--hide-scrollbars`:
///   the same layout, hence the same boxes, on every machine;
/// - `--virtual-time-budget=5000`: the page's timers run on virtual time
///   (fast, and the same each run) and the DOM is dumped when the budget is
///   spent, not at the load event: the probe measures 200 ms (virtual) after
///   load, so what fails just after load (a rejected promise) is seen too.
///
/// The caller adds a fresh `--user-data-dir` (no state shared between runs,
/// and parallel tests do not fight over one profile's lock).
pub fn flags() -> Vec<String> {
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--no-default-browser-check",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--force-device-scale-factor=1",
        "--hide-scrollbars",
        "--virtual-time-budget=5000",
    ]
    .iter()
    .map(|flag| flag.to_string())
    .chain([format!("--window-size={},{}", WINDOW.0, WINDOW.1)])
    .collect()
}

/// The browser's executable names looked up in `PATH`, in order.
pub const NAMES: [&str; 2] = ["chromium", "chromium-headless-shell"];

/// Where the browser is: `MOAI_CHROMIUM` when set (an error when it names no
/// file), else the first of [`NAMES`] found in the directories of `path_var`
/// (then `/usr/bin`); `Ok(None)` when there is none.
pub fn locate(
    override_var: Option<OsString>,
    path_var: Option<OsString>,
) -> Result<Option<PathBuf>, String> {
    if let Some(path) = override_var.filter(|value| !value.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(Some(path))
        } else {
            Err(format!("MOAI_CHROMIUM={} is not a file", path.display()))
        };
    }
    let mut dirs: Vec<PathBuf> = path_var
        .map(|value| std::env::split_paths(&value).collect())
        .unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    Ok(NAMES
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file()))
}

/// What to do once the browser was looked for: use it, skip (`Ok(None)`)
/// when none was found and `ci` is not `true`, or fail (`Err`) when none was
/// found under `CI=true` (CI must run the browser tests, never skip them).
pub fn decide(
    found: Result<Option<PathBuf>, String>,
    ci: Option<&str>,
) -> Result<Option<Browser>, String> {
    match found? {
        Some(path) => Ok(Some(Browser { path })),
        None if ci == Some("true") => Err(MISSING_ON_CI.to_string()),
        None => Ok(None),
    }
}

/// The browser for a test, from this process's environment: `Some` to run;
/// `None` to skip, having printed [`SKIP_LINE`] on stderr once per test
/// binary; panics when the browser must be there and is not (see [`decide`]).
pub fn browser_or_skip() -> Option<Browser> {
    static SKIPPED: Once = Once::new();
    let found = locate(std::env::var_os("MOAI_CHROMIUM"), std::env::var_os("PATH"));
    let ci = std::env::var("CI").ok();
    match decide(found, ci.as_deref()) {
        Ok(Some(browser)) => Some(browser),
        Ok(None) => {
            // Written past the test harness's capture, so that it is seen.
            SKIPPED.call_once(|| {
                let _ = writeln!(std::io::stderr(), "{SKIP_LINE}");
            });
            None
        }
        Err(message) => panic!("{message}"),
    }
}

/// A Chromium executable.
#[derive(Debug, Clone)]
pub struct Browser {
    /// Its path.
    pub path: PathBuf,
}

/// What the probe measured of one rendered page.
#[derive(Debug, Deserialize)]
pub struct Rendered {
    /// Every top-level `<svg>`, in document order.
    pub charts: Vec<Chart>,
    /// The URL of every resource the page asked for (loaded or failed),
    /// `data:` URLs left out; a self-contained page has none.
    pub requests: Vec<String>,
    /// Uncaught errors, unhandled rejections and `console.error` messages.
    pub errors: Vec<String>,
}

/// One chart, as rendered.
#[derive(Debug, Deserialize)]
pub struct Chart {
    /// The `id` of the `<svg>` or of its nearest holder with one, else its
    /// `<title>`, else its number from 1.
    pub name: String,
    /// Its bounding box's width, in CSS pixels.
    pub width: f64,
    /// Its bounding box's height, in CSS pixels.
    pub height: f64,
    /// Its series: distinct chromatic paints among its marks.
    pub series: usize,
    /// Pairs of its series that greyscale makes alike, as `"a" / "b"`
    /// (each a paint and its dash pattern): the same dash pattern, the same
    /// shapes of mark, and lumas less than 0.1 apart.
    pub alike: Vec<String>,
    /// Its marks (`polyline`, `path`, `polygon`, `rect`, `circle`,
    /// `ellipse`, `line`) of any colour.
    pub marks: usize,
    /// The text of its visible labels, in document order.
    pub labels: Vec<String>,
    /// Pairs of labels whose boxes overlap, as `"a" / "b"`.
    pub overlaps: Vec<String>,
}

/// What a chart should show: its number of series and at least this many
/// labels (axis titles, tick labels, legend entries).
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    /// Exactly this many series.
    pub series: usize,
    /// At least this many visible labels.
    pub labels: usize,
}

impl Rendered {
    /// Everything wrong with the page against the charts it should have:
    /// network requests, errors, a chart count other than `expected`'s, an
    /// empty chart box, a chart with no mark, a series count other than
    /// expected, series alike in greyscale, too few labels, overlapping
    /// labels. Empty when the page is good.
    pub fn problems(&self, expected: &[Expect]) -> Vec<String> {
        let mut problems: Vec<String> = self
            .requests
            .iter()
            .map(|url| format!("network request: {url}"))
            .chain(self.errors.iter().map(|error| format!("error: {error}")))
            .collect();
        if self.charts.len() != expected.len() {
            problems.push(format!(
                "{} charts rendered, {} expected",
                self.charts.len(),
                expected.len()
            ));
        }
        for (chart, expect) in self.charts.iter().zip(expected) {
            let name = &chart.name;
            if chart.width <= 0.0 || chart.height <= 0.0 {
                problems.push(format!(
                    "chart {name}: empty box {}x{}",
                    chart.width, chart.height
                ));
            }
            if chart.marks == 0 {
                problems.push(format!("chart {name}: nothing drawn"));
            }
            if chart.series != expect.series {
                problems.push(format!(
                    "chart {name}: {} series, {} expected",
                    chart.series, expect.series
                ));
            }
            if chart.labels.len() < expect.labels {
                problems.push(format!(
                    "chart {name}: {} labels, at least {} expected",
                    chart.labels.len(),
                    expect.labels
                ));
            }
            for pair in &chart.alike {
                problems.push(format!("chart {name}: series alike in greyscale: {pair}"));
            }
            for pair in &chart.overlaps {
                problems.push(format!("chart {name}: labels overlap: {pair}"));
            }
        }
        problems
    }
}

impl Browser {
    /// Renders the HTML file `page` and returns what the probe measured, or
    /// why it could not (the browser failed, timed out after [`TIMEOUT`], or
    /// the page never finished loading).
    pub fn render(&self, page: &Path) -> Result<Rendered, String> {
        let html = std::fs::read_to_string(page)
            .map_err(|error| format!("{}: {error}", page.display()))?;
        let dir = TempDir::new()?;
        let copy = dir.join("page.html");
        std::fs::write(&copy, inject(&html)).map_err(|error| error.to_string())?;
        let mut command = Command::new(&self.path);
        command
            .args(flags())
            .arg(format!("--user-data-dir={}", dir.join("profile").display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", copy.display()));
        let (dom, stderr) = run_bounded(command, TIMEOUT)?;
        let json = between(&dom, &format!("id=\"{PROBE_ID}\">"), "</script>").ok_or_else(|| {
            let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
            format!(
                "{}: the probe reported nothing (the page never finished loading?); \
                 browser's last stderr lines: {tail:?}",
                page.display()
            )
        })?;
        serde_json::from_str(json).map_err(|error| format!("probe's JSON: {error}"))
    }
}

/// `html` with the probe script put first in its `<head>` (else after its
/// `<html>` tag, else after its doctype, else in front), so that it runs
/// before any script of the page.
pub fn inject(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let after_tag = |tag: &str| {
        lower
            .find(tag)
            .and_then(|start| lower[start..].find('>').map(|end| start + end + 1))
    };
    let at = after_tag("<head")
        .or_else(|| after_tag("<html"))
        .or_else(|| after_tag("<!doctype"))
        .unwrap_or(0);
    format!(
        "{}<script>{}</script>{}",
        &html[..at],
        PROBE.replace("PROBE_ID", PROBE_ID),
        &html[at..]
    )
}

/// The probe the page runs.
const PROBE: &str = r#"(function () {
  var probe = { charts: [], requests: [], errors: [] };
  function say(value) {
    try { return value && value.message ? String(value.message) : String(value); }
    catch (e) { return "?"; }
  }
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && target.nodeType === 1) {
      probe.requests.push(target.currentSrc || target.src || target.href
        || target.data || ("<" + target.tagName.toLowerCase() + ">"));
    } else {
      probe.errors.push("uncaught " + say(event.error || event.message));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    probe.errors.push("unhandled rejection " + say(event.reason));
  });
  var consoleError = console.error;
  console.error = function () {
    probe.errors.push("console.error " + Array.prototype.map.call(arguments, say).join(" "));
    return consoleError.apply(console, arguments);
  };
  // A chromatic paint's luma (0 to 1, the weights of CSS's grayscale()),
  // or null for none, a transparent paint, black, white or a grey.
  function luma(paint) {
    var rgb = /^rgba?\((\d+), (\d+), (\d+)(?:, ([\d.]+))?\)$/.exec(paint);
    if (!rgb || rgb[4] === "0" || (rgb[1] === rgb[2] && rgb[2] === rgb[3])) return null;
    return (0.2126 * rgb[1] + 0.7152 * rgb[2] + 0.0722 * rgb[3]) / 255;
  }
  function measure(svg, number) {
    var box = svg.getBoundingClientRect();
    var title = svg.querySelector("title");
    var holder = svg.closest("[id]");
    var name = (holder && holder.id) || (title && title.textContent.trim()) || String(number);
    var marks = svg.querySelectorAll("polyline, path, polygon, rect, circle, ellipse, line");
    var paints = {};
    for (var i = 0; i < marks.length; i++) {
      var style = getComputedStyle(marks[i]);
      var stroked = marks[i].tagName === "line" || style.fill === "none";
      var paint = stroked ? style.stroke : style.fill;
      var grey = luma(paint);
      if (grey === null) continue;
      var key = paint + " " + style.strokeDasharray;
      var series = paints[key] || (paints[key] = { luma: grey, dash: style.strokeDasharray, shapes: {} });
      series.shapes[marks[i].tagName] = true;
    }
    var keys = Object.keys(paints), alike = [];
    for (var a = 0; a < keys.length; a++) {
      for (var b = a + 1; b < keys.length; b++) {
        var one = paints[keys[a]], two = paints[keys[b]];
        if (one.dash === two.dash && Math.abs(one.luma - two.luma) < 0.1
            && Object.keys(one.shapes).sort().join() === Object.keys(two.shapes).sort().join()) {
          alike.push(keys[a] + " / " + keys[b]);
        }
      }
    }
    var labels = [], boxes = [], overlaps = [];
    var texts = svg.querySelectorAll("text");
    for (var j = 0; j < texts.length; j++) {
      var text = texts[j].textContent.trim();
      var rect = texts[j].getBoundingClientRect();
      if (!text || rect.width <= 0 || rect.height <= 0) continue;
      for (var k = 0; k < boxes.length; k++) {
        var other = boxes[k];
        var wide = Math.min(rect.right, other.rect.right) - Math.max(rect.left, other.rect.left);
        var high = Math.min(rect.bottom, other.rect.bottom) - Math.max(rect.top, other.rect.top);
        if (wide > 1 && high > 1) overlaps.push(JSON.stringify(other.text) + " / " + JSON.stringify(text));
      }
      labels.push(text);
      boxes.push({ text: text, rect: rect });
    }
    return { name: name, width: box.width, height: box.height, series: keys.length,
             alike: alike, marks: marks.length, labels: labels, overlaps: overlaps };
  }
  function finish() {
    var svgs = document.querySelectorAll("svg");
    for (var i = 0; i < svgs.length; i++) {
      if (svgs[i].parentElement && svgs[i].parentElement.closest("svg")) continue;
      probe.charts.push(measure(svgs[i], probe.charts.length + 1));
    }
    var entries = performance.getEntriesByType("resource");
    for (var j = 0; j < entries.length; j++) probe.requests.push(entries[j].name);
    var seen = {};
    probe.requests = probe.requests.filter(function (url) {
      if (seen[url] || /^data:/.test(url)) return false;
      return (seen[url] = true);
    });
    var out = document.createElement("script");
    out.type = "application/json";
    out.id = "PROBE_ID";
    out.textContent = JSON.stringify(probe).replace(/</g, "\\u003c");
    document.body.appendChild(out);
  }
  window.addEventListener("load", function () { setTimeout(finish, 200); });
})();"#;

/// The text between the first `start` and the next `end` in `text`.
fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// Runs `command` in its own process group with stdout and stderr read
/// whole, kills the whole group (the browser and its helper processes) when
/// it exits or after `timeout`, and returns stdout and stderr; an error when
/// it failed to start, timed out or exited unsuccessfully.
pub fn run_bounded(mut command: Command, timeout: Duration) -> Result<(String, String), String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|error| format!("{}: {error}", command.get_program().display()))?;
    let group = child.id() as libc::pid_t;
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = Vec::new();
            let _ = pipe.read_to_end(&mut text);
            String::from_utf8_lossy(&text).into_owned()
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait().map_err(|error| error.to_string())? {
            Some(status) => break Some(status),
            None if Instant::now() >= deadline => break None,
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    // SAFETY: kill(2) on the group this function created; no memory touched.
    unsafe { libc::kill(-group, libc::SIGKILL) };
    let _ = child.wait();
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    match status {
        None => Err(format!("the browser was killed after {timeout:?}")),
        Some(status) if !status.success() => Err(format!(
            "the browser exited with {status}; its stderr ends: {:?}",
            stderr.lines().rev().take(5).collect::<Vec<_>>()
        )),
        Some(_) => Ok((stdout, stderr)),
    }
}

/// A fresh directory under the system's temporary one, removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    /// Makes one.
    pub fn new() -> Result<TempDir, String> {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "moai-browser-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
        Ok(TempDir(dir))
    }
}

impl TempDir {
    /// `name` inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
