//! The self-contained HTML report (`--report FILE.html`).
//!
//! Helper A's branch (issue 14) owns the rest of this module: the page, the
//! charts and the `--report` flag; this branch adds only the resolve
//! causality graph. The lead merges the two.

pub mod graph;
