//! The causality graph of one resolved key, as a self-contained SVG: each
//! version a box labelled agent / version and role / value, an arrow from a
//! version to each version that directly follows it causally, and the role
//! the resolution gave each version shown by colour and, so that it reads in
//! greyscale too, by outline width, dash pattern and the role's name.
//!
//! Causality is read from the vector clocks as vector-clock resolution reads
//! them ([`Clocks`]: a version without a clock has `{agent: version}`),
//! whichever strategy decided the key. An arrow `a → b` means b's clock
//! dominates a's (a happened before b); an arrow another path implies
//! (`a → c` when `a → b → c`) is left out: the arrows are the Hasse diagram
//! of the order.
//!
//! Layout, a layered drawing of this module's own (the graphs are at most
//! [`MAX_NODES`] boxes, so no layout crate is needed):
//! - time runs left to right: a version's column is the length of the
//!   longest arrow path reaching it from a version nothing precedes (those
//!   are in column 0);
//! - an arrow spanning several columns runs through a slot of its own in
//!   each column it crosses, so it never passes through a box;
//! - within a column, boxes start in file order and are reordered by
//!   barycentre sweeps (each box moved to the mean position of its
//!   neighbours in the column before, then in the column after), keeping
//!   the order with the fewest crossings;
//! - boxes have a fixed size and are stacked with a fixed gap, each column
//!   centred vertically; the legend and any note sit below.
//!
//! The SVG has no script, loads no font (generic `monospace`), references
//! nothing outside itself and has no `id`, so any number of graphs can sit
//! in one page.

use std::fmt::Write as _;
use std::sync::Arc;

use crate::error::escape_chars;
use crate::resolve::vector::{self, Clocks};
use crate::resolve::{Resolution, Role};
use crate::scenario::{State, Strategy};

/// Most versions drawn. A state with more draws only its winner and its
/// maximal versions (latest writes first, [`MAX_NODES`] boxes at most) and
/// says how many versions it left out.
pub const MAX_NODES: usize = 50;

/// Most characters of a box's label line (agent, version and role, value);
/// a longer line is cut to this many, its last one `…`.
pub const MAX_LABEL_CHARS: usize = 24;

/// Most characters of a box's tooltip (its full label).
const MAX_TOOLTIP_CHARS: usize = 200;

/// Font size, in pixels.
const FONT_SIZE: f64 = 12.0;
/// Width of one character of the generic monospace font at [`FONT_SIZE`]
/// (0.6 em, rounded up).
const CHAR_W: f64 = 7.5;
/// Distance between two label lines.
const LINE_H: f64 = 15.0;
/// Space between a box's outline and its text.
const PAD: f64 = 10.0;
/// A box's size: [`MAX_LABEL_CHARS`] characters wide, three lines high.
const NODE_W: f64 = MAX_LABEL_CHARS as f64 * CHAR_W + 2.0 * PAD;
const NODE_H: f64 = 3.0 * LINE_H + 2.0 * PAD;
/// The height of the slot an arrow takes in a column it crosses.
const PASS_H: f64 = 10.0;
/// Space between two slots of a column, and between columns.
const ROW_GAP: f64 = 16.0;
const COLUMN_GAP: f64 = 64.0;
/// Space around the drawing.
const MARGIN: f64 = 12.0;
/// A legend row's height and its sample's size.
const LEGEND_ROW: f64 = 24.0;
const SAMPLE_W: f64 = 36.0;
const SAMPLE_H: f64 = 18.0;
/// Barycentre sweeps (down and up) tried.
const SWEEPS: usize = 4;
/// Arrow colour and arrowhead size.
const ARROW: &str = "#333333";
const HEAD_LEN: f64 = 9.0;
const HEAD_HALF: f64 = 4.5;

/// The causality graph of `state`'s versions as an `<svg>` element, with the
/// roles `resolution` (the state's resolution) gave them: the winner with a
/// thick double outline, siblings dashed, dominated versions grey and
/// dotted, discarded ones grey and dash-dotted, merged versions plain; a legend of the roles
/// shown and of the arrows below. Above [`MAX_NODES`] versions, see there.
pub fn causality_svg(state: &State, resolution: &Resolution) -> String {
    let (drawn, mut notes) = drawn_versions(state, resolution);
    let sub = State {
        key: state.key.clone(),
        crdt_type: state.crdt_type,
        versions: drawn
            .iter()
            .map(|&i| Arc::clone(&state.versions[i]))
            .collect(),
    };
    let clocks = Clocks::of(&sub);
    let arrows = if comparable(&sub) {
        hasse(&clocks)
    } else {
        notes.push("arrows not drawn: the clocks are too large to compare here".to_string());
        Vec::new()
    };
    let roles: Vec<Role> = drawn.iter().map(|&i| role_of(resolution, i)).collect();
    let layout = Layout::new(&clocks, &arrows);
    render(state, &sub, &roles, &layout, &notes)
}

/// The role `resolution` gave version `i` (discarded if it lists none).
fn role_of(resolution: &Resolution, i: usize) -> Role {
    resolution
        .versions
        .get(i)
        .map_or(Role::Discarded, |v| v.role)
}

/// Whether comparing `state`'s clocks pairwise stays within what
/// vector-clock resolution accepts ([`vector::MAX_VERSIONS`],
/// [`vector::MAX_CLOCK_WORK`]).
fn comparable(state: &State) -> bool {
    let n = state.versions.len();
    n <= vector::MAX_VERSIONS
        && u128::from(vector::clock_entries(state)) * n as u128
            <= u128::from(vector::MAX_CLOCK_WORK)
}

/// The versions to draw (indices, in file order) and notes on those left
/// out: every version up to [`MAX_NODES`]; above, the winner and the maximal
/// versions, latest writes first, up to [`MAX_NODES`] (only the winner when
/// the state is too large to find its maximal versions).
fn drawn_versions(state: &State, resolution: &Resolution) -> (Vec<usize>, Vec<String>) {
    let n = state.versions.len();
    if n <= MAX_NODES {
        return ((0..n).collect(), Vec::new());
    }
    let roles = || (0..n).map(|i| (i, role_of(resolution, i)));
    let maxima = if resolution.strategy == Strategy::Vector {
        // Vector resolution's siblings and winner are the maximal versions.
        Some(
            roles()
                .filter(|(_, r)| matches!(r, Role::Winner | Role::Sibling))
                .map(|(i, _)| i)
                .collect::<Vec<_>>(),
        )
    } else if comparable(state) {
        Some(vector::maximal(&Clocks::of(state)))
    } else {
        None
    };
    let mut keep: Vec<usize> = roles()
        .filter(|(_, r)| *r == Role::Winner)
        .map(|(i, _)| i)
        .collect();
    let mut latest_first = maxima.clone().unwrap_or_default();
    latest_first.sort_by(|&a, &b| {
        state.versions[b]
            .lww_key()
            .cmp(&state.versions[a].lww_key())
    });
    for i in latest_first {
        if keep.len() == MAX_NODES {
            break;
        }
        if !keep.contains(&i) {
            keep.push(i);
        }
    }
    keep.sort_unstable();
    let left = n - keep.len();
    let note = match maxima {
        None => format!(
            "{left} of {n} versions not drawn: too many to order by causality here; \
             only the winner is drawn"
        ),
        Some(m) if m.iter().any(|i| !keep.contains(i)) => format!(
            "{left} of {n} versions not drawn: above {MAX_NODES} versions only the winner \
             and the {MAX_NODES} latest maximal versions are drawn"
        ),
        Some(_) => format!(
            "{left} of {n} versions not drawn: above {MAX_NODES} versions only the winner \
             and the maximal versions are drawn"
        ),
    };
    (keep, vec![note])
}

/// The arrows `(a, b)` of the Hasse diagram of the clocks' order, where b's
/// clock dominates a's and no clock lies between them; sorted.
fn hasse(clocks: &Clocks) -> Vec<(usize, usize)> {
    let n = clocks.len();
    let before: Vec<Vec<bool>> = (0..n)
        .map(|a| (0..n).map(|b| clocks.dominates(b, a)).collect())
        .collect();
    let mut arrows = Vec::new();
    for a in 0..n {
        for b in 0..n {
            if before[a][b] && !(0..n).any(|c| before[a][c] && before[c][b]) {
                arrows.push((a, b));
            }
        }
    }
    arrows
}

/// Where everything goes. Items are the boxes (`0..boxes`) then the slots
/// arrows take in the columns they cross.
struct Layout {
    /// How many items are boxes.
    boxes: usize,
    /// Each arrow as the items it passes, first to last.
    paths: Vec<Vec<usize>>,
    /// Each item's top-left corner.
    at: Vec<(f64, f64)>,
    /// The drawing's width and height, margins left out.
    width: f64,
    height: f64,
}

impl Layout {
    /// The layered layout of the boxes of `clocks` joined by `arrows`.
    fn new(clocks: &Clocks, arrows: &[(usize, usize)]) -> Self {
        let boxes = clocks.len();
        // A clock that dominates another has a larger sum: by increasing
        // sum, every box comes after the boxes with arrows into it.
        let mut by_sum: Vec<usize> = (0..boxes).collect();
        by_sum.sort_by_key(|&i| clocks.sum(i));
        let mut column = vec![0; boxes];
        for &b in &by_sum {
            column[b] = arrows
                .iter()
                .filter(|&&(_, to)| to == b)
                .map(|&(from, _)| column[from] + 1)
                .max()
                .unwrap_or(0);
        }
        let columns_n = column.iter().max().map_or(0, |m| m + 1);
        let mut columns: Vec<Vec<usize>> = vec![Vec::new(); columns_n];
        for (i, &c) in column.iter().enumerate() {
            columns[c].push(i);
        }
        let mut paths = Vec::new();
        for &(from, to) in arrows {
            let mut path = vec![from];
            let (first, last) = (column[from] + 1, column[to]);
            for (c, crossed) in columns.iter_mut().enumerate().take(last).skip(first) {
                let pass = column.len();
                column.push(c);
                crossed.push(pass);
                path.push(pass);
            }
            path.push(to);
            paths.push(path);
        }
        let items = column.len();
        let mut before = vec![Vec::new(); items];
        let mut after = vec![Vec::new(); items];
        for path in &paths {
            for pair in path.windows(2) {
                after[pair[0]].push(pair[1]);
                before[pair[1]].push(pair[0]);
            }
        }
        let mut position = vec![0; items];
        let place = |columns: &[Vec<usize>], position: &mut [usize]| {
            for col in columns {
                for (p, &item) in col.iter().enumerate() {
                    position[item] = p;
                }
            }
        };
        place(&columns, &mut position);
        let mut best = (crossings(&after, &column, &position), columns.clone());
        for _ in 0..SWEEPS {
            for col in columns.iter_mut().skip(1) {
                reorder(col, &before, &mut position);
            }
            for col in columns.iter_mut().rev().skip(1) {
                reorder(col, &after, &mut position);
            }
            let now = crossings(&after, &column, &position);
            if now < best.0 {
                best = (now, columns.clone());
            }
        }
        let columns = best.1;
        let slot_h = |item: usize| if item < boxes { NODE_H } else { PASS_H };
        let column_h = |col: &Vec<usize>| {
            col.iter().map(|&i| slot_h(i)).sum::<f64>()
                + ROW_GAP * col.len().saturating_sub(1) as f64
        };
        let height = columns.iter().map(column_h).fold(0.0, f64::max);
        let mut at = vec![(0.0, 0.0); items];
        for (c, col) in columns.iter().enumerate() {
            let x = c as f64 * (NODE_W + COLUMN_GAP);
            let mut y = (height - column_h(col)) / 2.0;
            for &item in col {
                at[item] = (x, y);
                y += slot_h(item) + ROW_GAP;
            }
        }
        let width = if columns_n == 0 {
            0.0
        } else {
            columns_n as f64 * NODE_W + (columns_n - 1) as f64 * COLUMN_GAP
        };
        Layout {
            boxes,
            paths,
            at,
            width,
            height,
        }
    }

    /// The points an arrow's line passes, from the right side of its first
    /// box, straight across each column it crosses, to the left side of its
    /// last box.
    fn points(&self, path: &[usize]) -> Vec<(f64, f64)> {
        let middle = |item: usize| {
            let h = if item < self.boxes { NODE_H } else { PASS_H };
            self.at[item].1 + h / 2.0
        };
        let (first, last) = (path[0], path[path.len() - 1]);
        let mut points = vec![(self.at[first].0 + NODE_W, middle(first))];
        for &pass in &path[1..path.len() - 1] {
            points.push((self.at[pass].0, middle(pass)));
            points.push((self.at[pass].0 + NODE_W, middle(pass)));
        }
        points.push((self.at[last].0, middle(last)));
        points
    }
}

/// Orders `col` by the mean position of each item's `neighbours` (an item
/// with none keeps its position as its key; ties keep the order), and
/// records the new positions.
fn reorder(col: &mut Vec<usize>, neighbours: &[Vec<usize>], position: &mut [usize]) {
    let key = |item: usize| {
        let n = &neighbours[item];
        if n.is_empty() {
            position[item] as f64
        } else {
            n.iter().map(|&o| position[o] as f64).sum::<f64>() / n.len() as f64
        }
    };
    let mut keyed: Vec<(f64, usize, usize)> = col
        .iter()
        .map(|&item| (key(item), position[item], item))
        .collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    *col = keyed.into_iter().map(|(_, _, item)| item).collect();
    for (p, &item) in col.iter().enumerate() {
        position[item] = p;
    }
}

/// How many pairs of segments cross, each segment joining an item to one
/// in the next column (`after`); only segments leaving the same column can.
fn crossings(after: &[Vec<usize>], column: &[usize], position: &[usize]) -> usize {
    let segments: Vec<(usize, usize)> = after
        .iter()
        .enumerate()
        .flat_map(|(a, bs)| bs.iter().map(move |&b| (a, b)))
        .collect();
    let mut count = 0;
    for (i, &(a1, b1)) in segments.iter().enumerate() {
        for &(a2, b2) in &segments[i + 1..] {
            let (pa, pb) = (
                position[a1] as i64 - position[a2] as i64,
                position[b1] as i64 - position[b2] as i64,
            );
            if column[a1] == column[a2] && pa * pb < 0 {
                count += 1;
            }
        }
    }
    count
}

/// How a role is drawn: fill, outline colour, outline width, dash pattern,
/// text colour, and what it means.
struct Style {
    fill: &'static str,
    stroke: &'static str,
    width: f64,
    dash: Option<&'static str>,
    text: &'static str,
    meaning: &'static str,
}

/// The style of `role`.
fn style(role: Role) -> Style {
    match role {
        Role::Winner => Style {
            fill: "#c7e9c0",
            stroke: "#1a7f37",
            width: 3.0,
            dash: None,
            text: "#000000",
            meaning: "winner: its value stands (double outline)",
        },
        Role::Sibling => Style {
            fill: "#d6e6f5",
            stroke: "#1f5fa8",
            width: 2.0,
            dash: Some("7 4"),
            text: "#000000",
            meaning: "sibling: concurrent with the winner, lost the last-write pick",
        },
        Role::Merged => Style {
            fill: "#fbeec0",
            stroke: "#8a6100",
            width: 1.5,
            dash: None,
            text: "#000000",
            meaning: "merged: folded into the CRDT merge",
        },
        Role::Dominated => Style {
            fill: "#eeeeee",
            stroke: "#8c8c8c",
            width: 1.0,
            dash: Some("2 3"),
            text: "#5f5f5f",
            meaning: "dominated: causally before another version",
        },
        Role::Discarded => Style {
            fill: "#eeeeee",
            stroke: "#8c8c8c",
            width: 1.0,
            dash: Some("8 3 2 3"),
            text: "#5f5f5f",
            meaning: "discarded: lost to a later write",
        },
    }
}

/// The roles in the order the legend lists them.
const ROLES: [Role; 5] = [
    Role::Winner,
    Role::Sibling,
    Role::Merged,
    Role::Dominated,
    Role::Discarded,
];

/// What the legend says of an arrow.
const ARROW_MEANING: &str = "a → b: b's vector clock dominates a's (a happened before b)";

/// The SVG of `layout`, whose boxes are `sub`'s versions with `roles`.
fn render(state: &State, sub: &State, roles: &[Role], layout: &Layout, notes: &[String]) -> String {
    let shown: Vec<Role> = ROLES.into_iter().filter(|r| roles.contains(r)).collect();
    let text_w = |chars: usize| chars as f64 * CHAR_W;
    let legend_w = shown
        .iter()
        .map(|&r| style(r).meaning)
        .chain((!layout.paths.is_empty()).then_some(ARROW_MEANING))
        .map(|m| SAMPLE_W + 8.0 + text_w(m.chars().count()))
        .fold(0.0, f64::max);
    let notes_w = notes
        .iter()
        .map(|n| text_w(n.chars().count()))
        .fold(0.0, f64::max);
    let width = 2.0 * MARGIN + layout.width.max(legend_w).max(notes_w);
    let legend_y = MARGIN + layout.height + if layout.boxes > 0 { 20.0 } else { 0.0 };
    let legend_rows = shown.len() + usize::from(!layout.paths.is_empty());
    let notes_y = legend_y + legend_rows as f64 * LEGEND_ROW;
    let height = notes_y + notes.len() as f64 * LEGEND_ROW + MARGIN;

    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"causality\" width=\"{width:.0}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" \
         font-family=\"monospace\" font-size=\"{FONT_SIZE:.0}\" role=\"img\" \
         aria-label=\"{}\">",
        xml(&format!(
            "causality of the versions of key {}",
            label(&state.key, 60)
        ))
    );
    let _ = write!(
        out,
        "<title>{}</title>",
        xml(&format!(
            "Causality of the versions of key {}",
            label(&state.key, MAX_TOOLTIP_CHARS)
        ))
    );
    let _ = write!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width:.0}\" height=\"{height:.0}\" fill=\"#ffffff\"/>"
    );
    for path in &layout.paths {
        let points = layout.points(path);
        arrow(&mut out, &shift(&points, MARGIN, MARGIN));
    }
    for (i, version) in sub.versions.iter().enumerate() {
        let (x, y) = layout.at[i];
        let role = roles[i];
        let value = match &version.value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let lines = [
            label(&version.agent, MAX_LABEL_CHARS),
            label(
                &format!("v{}, {}", version.version, role.name()),
                MAX_LABEL_CHARS,
            ),
            label(&value, MAX_LABEL_CHARS),
        ];
        let tooltip = label(
            &format!(
                "{} v{} ({}): {value}",
                version.agent,
                version.version,
                role.name()
            ),
            MAX_TOOLTIP_CHARS,
        );
        let _ = write!(
            out,
            "<g class=\"version {}\"><title>{}</title>",
            role.name(),
            xml(&tooltip)
        );
        outline(&mut out, role, x + MARGIN, y + MARGIN, NODE_W, NODE_H);
        let s = style(role);
        for (l, line) in lines.iter().enumerate() {
            let weight = if l == 0 { " font-weight=\"bold\"" } else { "" };
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{}\"{weight}>{}</text>",
                x + MARGIN + PAD,
                y + MARGIN + PAD + FONT_SIZE - 1.0 + l as f64 * LINE_H,
                s.text,
                xml(line)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("<g class=\"legend\">");
    let mut y = legend_y;
    for &role in &shown {
        outline(
            &mut out,
            role,
            MARGIN,
            y + (LEGEND_ROW - SAMPLE_H) / 2.0,
            SAMPLE_W,
            SAMPLE_H,
        );
        legend_text(&mut out, y, style(role).meaning);
        y += LEGEND_ROW;
    }
    if !layout.paths.is_empty() {
        let mid = y + LEGEND_ROW / 2.0;
        arrow(&mut out, &[(MARGIN, mid), (MARGIN + SAMPLE_W, mid)]);
        legend_text(&mut out, y, ARROW_MEANING);
    }
    out.push_str("</g>");
    for (i, note) in notes.iter().enumerate() {
        let _ = write!(
            out,
            "<text class=\"note\" x=\"{MARGIN:.1}\" y=\"{:.1}\" fill=\"#000000\">{}</text>",
            notes_y + i as f64 * LEGEND_ROW + LEGEND_ROW / 2.0 + FONT_SIZE / 3.0,
            xml(note)
        );
    }
    out.push_str("</svg>");
    out
}

/// `points` moved by `(dx, dy)`.
fn shift(points: &[(f64, f64)], dx: f64, dy: f64) -> Vec<(f64, f64)> {
    points.iter().map(|&(x, y)| (x + dx, y + dy)).collect()
}

/// A legend row's text, beside its sample.
fn legend_text(out: &mut String, row_y: f64, text: &str) {
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#000000\">{}</text>",
        MARGIN + SAMPLE_W + 8.0,
        row_y + LEGEND_ROW / 2.0 + FONT_SIZE / 3.0,
        xml(text)
    );
}

/// A box outlined in `role`'s style (the winner's twice).
fn outline(out: &mut String, role: Role, x: f64, y: f64, w: f64, h: f64) {
    let s = style(role);
    let dash = s
        .dash
        .map_or(String::new(), |d| format!(" stroke-dasharray=\"{d}\""));
    let _ = write!(
        out,
        "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" rx=\"4\" \
         fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{dash}/>",
        s.fill, s.stroke, s.width
    );
    if role == Role::Winner {
        let inset = s.width + 1.5;
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"2\" \
             fill=\"none\" stroke=\"{}\" stroke-width=\"1\"/>",
            x + inset,
            y + inset,
            w - 2.0 * inset,
            h - 2.0 * inset,
            s.stroke
        );
    }
}

/// A line through `points` ending in an arrowhead at the last one.
fn arrow(out: &mut String, points: &[(f64, f64)]) {
    let n = points.len();
    let (tip, from) = (points[n - 1], points[n - 2]);
    let (dx, dy) = (tip.0 - from.0, tip.1 - from.1);
    let length = (dx * dx + dy * dy).sqrt().max(f64::EPSILON);
    let (ux, uy) = (dx / length, dy / length);
    let base = (tip.0 - ux * HEAD_LEN, tip.1 - uy * HEAD_LEN);
    let mut line: Vec<(f64, f64)> = points[..n - 1].to_vec();
    line.push(base);
    let list = |ps: &[(f64, f64)]| {
        ps.iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let head = [
        tip,
        (base.0 - uy * HEAD_HALF, base.1 + ux * HEAD_HALF),
        (base.0 + uy * HEAD_HALF, base.1 - ux * HEAD_HALF),
    ];
    let _ = write!(
        out,
        "<g class=\"arrow\"><polyline points=\"{}\" fill=\"none\" stroke=\"{ARROW}\" \
         stroke-width=\"1.5\"/><polygon points=\"{}\" fill=\"{ARROW}\"/></g>",
        list(&line),
        list(&head)
    );
}

/// `text` as one line of a label: control characters (and the two
/// characters XML cannot hold, U+FFFE and U+FFFF) written as escapes, then
/// cut to `max` characters, the last one `…`.
fn label(text: &str, max: usize) -> String {
    let text = escape_chars(text, |c| {
        c.is_control() || c == '\u{fffe}' || c == '\u{ffff}'
    });
    match text.char_indices().nth(max - 1) {
        Some((end, _)) if text.chars().count() > max => format!("{}…", &text[..end]),
        _ => text,
    }
}

/// `text` with the characters XML gives meaning to written as entities.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::testing::{state, three_way_concurrency, version, with_clock};
    use crate::resolve::{crdt, lww};
    use crate::scenario::{CrdtType, Version};
    use serde_json::json;

    fn clocked(agent: &str, value: &str, second: Option<i64>, clock: &[(&str, u64)]) -> Version {
        with_clock(version(agent, json!(value), 1, second), clock)
    }

    /// A box as drawn: its agent line, class and outline.
    #[derive(Debug)]
    struct Drawn {
        agent: String,
        class: String,
        rects: usize,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    }

    /// The box drawn for `agent`.
    fn of<'a>(boxes: &'a [Drawn], agent: &str) -> &'a Drawn {
        boxes.iter().find(|b| b.agent == agent).unwrap()
    }

    fn number(node: roxmltree::Node, name: &str) -> f64 {
        node.attribute(name).unwrap().parse().unwrap()
    }

    fn points(node: roxmltree::Node) -> Vec<(f64, f64)> {
        node.attribute("points")
            .unwrap()
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect()
    }

    /// The graph's boxes and its arrows as (from agent, to agent), after
    /// checking that the SVG parses, that everything drawn lies inside the
    /// viewBox and that no two boxes overlap.
    fn drawn(svg: &str) -> (Vec<Drawn>, Vec<(String, String)>) {
        let doc = roxmltree::Document::parse(svg).expect("the SVG parses as XML");
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg");
        let view: Vec<f64> = root
            .attribute("viewBox")
            .unwrap()
            .split(' ')
            .map(|n| n.parse().unwrap())
            .collect();
        let inside = |x: f64, y: f64| {
            assert!(
                x >= view[0] && x <= view[0] + view[2] && y >= view[1] && y <= view[1] + view[3],
                "({x}, {y}) outside the viewBox {view:?}"
            )
        };
        for node in root.descendants().filter(|n| n.is_element()) {
            match node.tag_name().name() {
                "rect" => {
                    let (x, y) = (number(node, "x"), number(node, "y"));
                    inside(x, y);
                    inside(x + number(node, "width"), y + number(node, "height"));
                }
                "text" => {
                    let (x, y) = (number(node, "x"), number(node, "y"));
                    let chars = node.text().unwrap_or("").chars().count() as f64;
                    inside(x, y - FONT_SIZE);
                    inside(x + chars * CHAR_W, y + FONT_SIZE / 3.0);
                }
                "polyline" | "polygon" => points(node).into_iter().for_each(|(x, y)| inside(x, y)),
                "script" | "image" | "use" | "foreignObject" => {
                    panic!("{}", node.tag_name().name())
                }
                _ => {}
            }
            assert!(node.attribute("id").is_none() && node.attribute("href").is_none());
        }
        let boxes: Vec<Drawn> = root
            .descendants()
            .filter(|n| {
                n.attribute("class")
                    .is_some_and(|c| c.starts_with("version "))
            })
            .map(|g| {
                let rects: Vec<_> = g.children().filter(|c| c.has_tag_name("rect")).collect();
                let r = rects[0];
                let text = g.children().find(|c| c.has_tag_name("text")).unwrap();
                Drawn {
                    agent: text.text().unwrap().to_string(),
                    class: g.attribute("class").unwrap()["version ".len()..].to_string(),
                    rects: rects.len(),
                    x: number(r, "x"),
                    y: number(r, "y"),
                    w: number(r, "width"),
                    h: number(r, "height"),
                }
            })
            .collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart =
                    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
        let at = |x: f64, y: f64, right: bool| {
            let b = boxes
                .iter()
                .find(|b| {
                    let side = if right { b.x + b.w } else { b.x };
                    (side - x).abs() < 0.2 && y >= b.y && y <= b.y + b.h
                })
                .unwrap_or_else(|| panic!("no box side at ({x}, {y})"));
            b.agent.clone()
        };
        let arrows =
            root.descendants()
                .filter(|n| n.attribute("class") == Some("arrow"))
                .filter(|g| {
                    g.ancestors()
                        .all(|a| a.attribute("class") != Some("legend"))
                })
                .map(|g| {
                    let line = points(g.children().find(|c| c.has_tag_name("polyline")).unwrap());
                    let tip = points(g.children().find(|c| c.has_tag_name("polygon")).unwrap())[0];
                    // No bend of the line falls inside a box.
                    for &(x, y) in &line[1..] {
                        assert!(!boxes.iter().any(|b| x > b.x + 0.2
                            && x < b.x + b.w - 0.2
                            && y > b.y
                            && y < b.y + b.h));
                    }
                    (at(line[0].0, line[0].1, true), at(tip.0, tip.1, false))
                })
                .collect();
        (boxes, arrows)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out: Vec<_> = list
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        out.sort();
        out
    }

    fn sorted(mut arrows: Vec<(String, String)>) -> Vec<(String, String)> {
        arrows.sort();
        arrows
    }

    fn vector_svg(s: &crate::scenario::State) -> String {
        causality_svg(s, &vector::resolve(s))
    }

    #[test]
    fn a_chain_draws_two_arrows_not_three() {
        let s = state(
            "k",
            None,
            vec![
                clocked("c", "3", None, &[("w", 3)]),
                clocked("a", "1", None, &[("w", 1)]),
                clocked("b", "2", None, &[("w", 2)]),
            ],
        );
        let (boxes, arrows) = drawn(&vector_svg(&s));
        assert_eq!(sorted(arrows), pairs(&[("a", "b"), ("b", "c")]));
        // Time runs left to right.
        let x = |agent| of(&boxes, agent).x;
        assert!(x("a") < x("b") && x("b") < x("c"));
    }

    #[test]
    fn a_diamond_draws_four_arrows() {
        let s = state(
            "k",
            None,
            vec![
                clocked("a", "", None, &[("a", 1)]),
                clocked("b", "", None, &[("a", 1), ("b", 1)]),
                clocked("c", "", None, &[("a", 1), ("c", 1)]),
                clocked("d", "", None, &[("a", 1), ("b", 1), ("c", 1)]),
            ],
        );
        let (_, arrows) = drawn(&vector_svg(&s));
        assert_eq!(
            sorted(arrows),
            pairs(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
        );
    }

    #[test]
    fn three_way_concurrency_draws_no_arrow_and_marks_the_siblings() {
        let s = three_way_concurrency();
        let svg = vector_svg(&s);
        let (boxes, arrows) = drawn(&svg);
        assert!(arrows.is_empty());
        let classes: Vec<(&str, &str)> = boxes
            .iter()
            .map(|b| (b.agent.as_str(), b.class.as_str()))
            .collect();
        assert_eq!(
            classes,
            [
                ("agent-1", "winner"),
                ("agent-2", "sibling"),
                ("agent-3", "sibling")
            ]
        );
        // The three concurrent versions share a column; the legend has no arrow.
        assert!(boxes.iter().all(|b| b.x == boxes[0].x));
        assert!(svg.contains("sibling: concurrent") && !svg.contains("happened before"));
    }

    #[test]
    fn clock_skew_draws_the_causal_arrow_whoever_wins() {
        let s = state(
            "doc",
            None,
            vec![
                clocked("old", "stale", Some(50), &[("a", 1), ("b", 1)]),
                clocked("new", "fresh", Some(0), &[("a", 2), ("b", 1)]),
            ],
        );
        // Last-write-wins keeps the skewed older write; the arrow still runs
        // from it to the write that causally follows it.
        let (boxes, arrows) = drawn(&causality_svg(&s, &lww::resolve(&s)));
        assert_eq!(arrows, pairs(&[("old", "new")]));
        let class = |agent| of(&boxes, agent).class.as_str();
        assert_eq!((class("old"), class("new")), ("winner", "discarded"));
        let (boxes, arrows) = drawn(&vector_svg(&s));
        assert_eq!(arrows, pairs(&[("old", "new")]));
        let class = |agent| of(&boxes, agent).class.as_str();
        assert_eq!((class("old"), class("new")), ("dominated", "winner"));
    }

    #[test]
    fn the_winner_has_a_thick_double_outline_and_greyed_versions_a_dotted_one() {
        let s = state(
            "k",
            None,
            vec![
                clocked("a", "x", None, &[("a", 1)]),
                clocked("b", "y", None, &[("a", 1), ("b", 1)]),
            ],
        );
        let svg = vector_svg(&s);
        let (boxes, _) = drawn(&svg);
        assert_eq!((boxes[1].class.as_str(), boxes[1].rects), ("winner", 2));
        assert_eq!((boxes[0].class.as_str(), boxes[0].rects), ("dominated", 1));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let outline = |class: &str| {
            let g = doc
                .descendants()
                .find(|n| n.attribute("class") == Some(class))
                .unwrap();
            let r = g.children().find(|c| c.has_tag_name("rect")).unwrap();
            (
                r.attribute("stroke-width").unwrap().to_string(),
                r.attribute("stroke-dasharray").map(str::to_string),
                r.attribute("fill").unwrap().to_string(),
            )
        };
        assert_eq!(
            outline("version winner"),
            ("3".into(), None, "#c7e9c0".into())
        );
        assert_eq!(
            outline("version dominated"),
            ("1".into(), Some("2 3".into()), "#eeeeee".into())
        );
    }

    #[test]
    fn labels_are_text_escaped_and_cut() {
        let mut v = version(
            "x\u{1b}[31m<b>",
            json!("<script>alert(1)</script>"),
            7,
            None,
        );
        v.vector_clock = None;
        let w = version("y", json!({"k": "a\nb\u{ffff}"}), 1, None);
        let s = state("k&\"", None, vec![v, w]);
        let svg = causality_svg(&s, &lww::resolve(&s));
        assert!(!svg.chars().any(|c| c.is_control() || c == '\u{ffff}'));
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script"));
        let doc = roxmltree::Document::parse(&svg).unwrap();
        assert!(
            !doc.descendants()
                .any(|n| n.has_tag_name("script") || n.has_tag_name("b"))
        );
        let texts: Vec<&str> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .filter_map(|n| n.text())
            .collect();
        assert!(texts.contains(&"x\\u{1b}[31m<b>"), "{texts:?}");
        assert!(texts.contains(&"<script>alert(1)</scrip…"), "{texts:?}");
        assert!(texts.contains(&r#"{"k":"a\nb\u{ffff}"}"#), "{texts:?}");
        assert!(texts.contains(&"v7, winner"), "{texts:?}");
        drawn(&svg);
    }

    #[test]
    fn above_the_node_limit_only_the_winner_and_maximal_versions_are_drawn() {
        // Every version concurrent: the latest writes are drawn.
        let versions = (0..2000)
            .map(|i| version(&format!("agent-{i}"), json!(i), 1, Some(i)))
            .collect();
        let s = state("k", None, versions);
        let svg = vector_svg(&s);
        assert!(svg.len() < 64 * 1024, "{} bytes", svg.len());
        let (boxes, arrows) = drawn(&svg);
        assert_eq!(boxes.len(), MAX_NODES);
        assert!(arrows.is_empty());
        assert!(
            boxes
                .iter()
                .any(|b| b.agent == "agent-1999" && b.class == "winner")
        );
        assert!(boxes.iter().any(|b| b.agent == "agent-1950"));
        assert!(svg.contains(
            "1950 of 2000 versions not drawn: above 50 versions only the winner and the 50 \
             latest maximal versions are drawn"
        ));
        // A chain under last-write-wins: its one maximal version wins.
        let versions = (1..=2000)
            .map(|i| version("w", json!(i), i, None))
            .collect();
        let s = state("k", None, versions);
        let (boxes, _) = drawn(&causality_svg(&s, &lww::resolve(&s)));
        assert_eq!(boxes.len(), 1);
        let svg = causality_svg(&s, &lww::resolve(&s));
        assert!(svg.contains(
            "1999 of 2000 versions not drawn: above 50 versions only the winner and the \
             maximal versions are drawn"
        ));
        // Too many versions to compare: the winner alone.
        let n = vector::MAX_VERSIONS as u64 + 1;
        let versions = (0..n)
            .map(|i| version(&format!("a{i}"), json!(i), 1, None))
            .collect();
        let s = state("k", None, versions);
        let svg = causality_svg(&s, &lww::resolve(&s));
        assert_eq!(drawn(&svg).0.len(), 1);
        assert!(svg.contains(&format!(
            "{} of {n} versions not drawn: too many to order by causality here; only the \
             winner is drawn",
            n - 1
        )));
    }

    #[test]
    fn a_long_arrow_runs_through_its_own_slots() {
        // a < b < c < f and e < f with e concurrent with b and c: the arrow
        // e → f crosses the columns of b and c without touching them.
        let s = state(
            "k",
            None,
            vec![
                clocked("a", "", None, &[("a", 1)]),
                clocked("b", "", None, &[("a", 2)]),
                clocked("e", "", None, &[("e", 1)]),
                clocked("c", "", None, &[("a", 3)]),
                clocked("f", "", None, &[("a", 3), ("e", 1)]),
            ],
        );
        let svg = vector_svg(&s);
        let (_, arrows) = drawn(&svg);
        assert_eq!(
            sorted(arrows),
            pairs(&[("a", "b"), ("b", "c"), ("c", "f"), ("e", "f")])
        );
        let doc = roxmltree::Document::parse(&svg).unwrap();
        let longest = doc
            .descendants()
            .filter(|n| n.has_tag_name("polyline"))
            .map(|n| points(n).len())
            .max();
        // e is in column 0 and f in column 3: two columns crossed, four bends.
        assert_eq!(longest, Some(6));
    }

    #[test]
    fn barycentre_sweeps_undo_a_crossing_of_the_file_order() {
        let s = state(
            "k",
            None,
            vec![
                clocked("a", "", None, &[("a", 1)]),
                clocked("b", "", None, &[("b", 1)]),
                clocked("B", "", None, &[("b", 2)]),
                clocked("A", "", None, &[("a", 2)]),
            ],
        );
        let (boxes, _) = drawn(&vector_svg(&s));
        let y = |agent| of(&boxes, agent).y;
        assert!(y("a") < y("b"));
        assert!(y("A") < y("B"), "{boxes:?}");
    }

    #[test]
    fn merged_versions_are_drawn_with_their_legend() {
        let s = state(
            "n",
            Some(CrdtType::Counter),
            vec![
                version("a", json!(1), 1, None),
                version("b", json!(2), 1, None),
            ],
        );
        let svg = causality_svg(&s, &crdt::resolve(&s));
        let (boxes, arrows) = drawn(&svg);
        assert!(arrows.is_empty());
        assert!(boxes.iter().all(|b| b.class == "merged"));
        assert!(svg.contains("merged: folded into the CRDT merge"));
        assert!(!svg.contains("winner:"));
    }

    #[test]
    fn labels_fit_their_box() {
        const { assert!(MAX_LABEL_CHARS as f64 * CHAR_W + 2.0 * PAD <= NODE_W) };
        const { assert!(3.0 * LINE_H + PAD <= NODE_H) };
        assert_eq!(label("abc", 3), "abc");
        assert_eq!(label("abcd", 3), "ab…");
        assert_eq!(label("é\u{7f}x", 5), "é\\u{…");
    }
}
