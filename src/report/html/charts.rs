//! Small wrappers over plotters that draw one chart as an inline SVG string.
//! plotters draws the axes, ticks, labels and legends; these only choose the
//! styles. Every series differs by dash pattern or marker as well as by
//! colour, so charts stay readable in greyscale, and every mark is an
//! aggregate (one per round or per bin), never one per agent or trial.

use std::error::Error as StdError;
use std::ops::Range;

use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::Chart;
use crate::error::Error;

/// Width and height of every chart, in pixels.
const SIZE: (u32, u32) = (720, 340);

/// Series colours, dark to light in lightness order, so neighbours differ in
/// greyscale too.
const COLORS: [RGBColor; 5] = [
    RGBColor(0x1b, 0x4f, 0x72),
    RGBColor(0xe0, 0x82, 0x14),
    RGBColor(0x5e, 0x3c, 0x99),
    RGBColor(0x1b, 0x9e, 0x77),
    RGBColor(0x99, 0x99, 0x99),
];

/// Fills of stacked layers, each of a clearly different grey value (luma
/// about 75, 163, 240, 40 and 120 of 255), so layers stay apart in
/// greyscale; every bar also has a black outline.
const FILLS: [RGBColor; 5] = [
    RGBColor(0x1b, 0x5e, 0x20),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0xf0, 0xf0, 0xf0),
    RGBColor(0x4a, 0x14, 0x8c),
    RGBColor(0x1e, 0x88, 0xe5),
];

/// Dash and gap lengths in pixels for lines after the first (solid) one.
const DASHES: [(u32, u32); 4] = [(10, 5), (3, 4), (14, 4), (6, 2)];

/// Most points of a line that get a marker each; longer lines show only
/// their dash pattern.
const MAX_MARKERS: usize = 60;

/// Where a chart's legend sits inside the plotting area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LegendAt {
    /// Top right (leave headroom in the y range for it).
    #[default]
    UpperRight,
    /// Bottom right (for lines that rise to the right, such as agreement).
    LowerRight,
    /// Top left.
    UpperLeft,
}

/// What every chart has: its title, axes with units, and the reference
/// marks drawn over the data.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// The chart's title.
    pub title: String,
    /// The x axis label, with its unit (`round`, `agents`).
    pub x_label: String,
    /// The y axis label, with its unit.
    pub y_label: String,
    /// The x range shown.
    pub x_range: Range<f64>,
    /// The y range shown.
    pub y_range: Range<f64>,
    /// Horizontal rules (a threshold), each in the legend.
    pub rules: Vec<Rule>,
    /// Vertical marks (a converged round, a percentile), each in the legend.
    pub marks: Vec<Mark>,
    /// Shaded spans of x (partitions), behind the data.
    pub spans: Vec<Span>,
    /// Where the legend sits.
    pub legend: LegendAt,
    /// Whether x is a whole number (rounds, agents): ticks then fall on
    /// whole numbers only.
    pub whole_x: bool,
}

impl Frame {
    /// A frame with no rules, marks or spans. A range that is empty (or
    /// reversed, or not finite) is widened so the chart can still be drawn.
    pub fn new(
        title: impl Into<String>,
        x_label: impl Into<String>,
        y_label: impl Into<String>,
        x_range: Range<f64>,
        y_range: Range<f64>,
    ) -> Self {
        Frame {
            title: title.into(),
            x_label: x_label.into(),
            y_label: y_label.into(),
            x_range: drawable(x_range),
            y_range: drawable(y_range),
            rules: Vec::new(),
            marks: Vec::new(),
            spans: Vec::new(),
            legend: LegendAt::default(),
            whole_x: false,
        }
    }

    /// Entries the legend has besides the data series.
    fn reference_entries(&self) -> usize {
        self.rules.len() + self.marks.len() + usize::from(!self.spans.is_empty())
    }
}

/// A range plotters can draw: finite, with `end > start`.
fn drawable(range: Range<f64>) -> Range<f64> {
    let (start, end) = (range.start, range.end);
    if !start.is_finite() || !end.is_finite() {
        return 0.0..1.0;
    }
    if end > start {
        start..end
    } else {
        start..start + 1.0
    }
}

/// A tick label: at most three decimals, without trailing zeros.
fn tick(value: &f64) -> String {
    let text = format!("{value:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// A horizontal rule at `y`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Its legend entry (`convergence threshold 0.9`).
    pub name: String,
    /// Where it is drawn.
    pub y: f64,
}

/// A vertical mark at `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// Its legend entry (`converged: round 7`, `p90`).
    pub name: String,
    /// Where it is drawn.
    pub x: f64,
}

/// A shaded span of x, from `from` to `until`.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Its legend entry; every span of a chart shares the first one's.
    pub name: String,
    /// Left edge.
    pub from: f64,
    /// Right edge.
    pub until: f64,
}

/// One line: (x, y) points in x order.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Its legend entry.
    pub name: String,
    /// The points.
    pub points: Vec<(f64, f64)>,
}

/// A shaded band between a low and a high line (a p10–p90 fan).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// Its legend entry.
    pub name: String,
    /// (x, low, high) in x order.
    pub points: Vec<(f64, f64, f64)>,
}

/// One layer of bars: a height at each x (stacked on the layers before it).
#[derive(Debug, Clone, PartialEq)]
pub struct Layer {
    /// Its legend entry.
    pub name: String,
    /// (x, height) pairs.
    pub bars: Vec<(f64, f64)>,
}

/// One series of points with error bars.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorSeries {
    /// Its legend entry.
    pub name: String,
    /// (x, low, value, high) in x order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
type Drawn = Result<(), Box<dyn StdError>>;

/// A line chart: one or several lines (a legend when there are several
/// entries), optional bands behind them, and the frame's rules, marks and
/// spans.
pub fn line_chart(frame: &Frame, lines: &[Line], bands: &[Band]) -> Result<Chart, Error> {
    draw(frame, lines.len() + bands.len(), |plot| {
        for (i, band) in bands.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let outline: Vec<(f64, f64)> = band
                .points
                .iter()
                .map(|&(x, _, high)| (x, high))
                .chain(band.points.iter().rev().map(|&(x, low, _)| (x, low)))
                .collect();
            plot.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.2))))?
                .label(&band.name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 20, y + 5)], color.mix(0.2).filled())
                });
        }
        for (i, line) in lines.iter().enumerate() {
            draw_line(plot, i, line)?;
        }
        Ok(())
    })
}

/// Stacked bars: at each x, the layers' heights one on another, in layer
/// order from the axis up; `width` is a bar's width in x units.
pub fn stacked_bars(frame: &Frame, width: f64, layers: &[Layer]) -> Result<Chart, Error> {
    draw(frame, layers.len(), |plot| {
        let mut base: Vec<(f64, f64)> = Vec::new();
        for (i, layer) in layers.iter().enumerate() {
            let fill = FILLS[i % FILLS.len()];
            let mut rects = Vec::with_capacity(layer.bars.len());
            for &(x, height) in &layer.bars {
                let bottom = match base.iter_mut().find(|(bx, _)| *bx == x) {
                    Some((_, b)) => {
                        let bottom = *b;
                        *b += height;
                        bottom
                    }
                    None => {
                        base.push((x, height));
                        0.0
                    }
                };
                if height > 0.0 {
                    let corners = [
                        (x - width / 2.0, bottom),
                        (x + width / 2.0, bottom + height),
                    ];
                    rects.push(Rectangle::new(corners, fill.filled()));
                    rects.push(Rectangle::new(corners, BLACK.stroke_width(1)));
                }
            }
            plot.draw_series(rects)?
                .label(&layer.name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill.filled()));
        }
        Ok(())
    })
}

/// Bars (a histogram, one bar per bin at its centre); `width` is a bar's
/// width in x units. Percentiles go in the frame's marks.
pub fn bars(frame: &Frame, width: f64, layer: &Layer) -> Result<Chart, Error> {
    stacked_bars(frame, width, std::slice::from_ref(layer))
}

/// Points with vertical error bars (a rate with its 95% interval), one
/// series per entry, each with its own marker shape; a point whose low and
/// high are equal (an exact value) has no bar.
pub fn error_bars(frame: &Frame, series: &[ErrorSeries]) -> Result<Chart, Error> {
    draw(frame, series.len(), |plot| {
        for (i, s) in series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            plot.draw_series(
                s.points
                    .iter()
                    .filter(|&&(_, low, _, high)| high > low)
                    .map(|&(x, low, value, high)| {
                        ErrorBar::new_vertical(x, low, value, high, color.stroke_width(2), 10)
                    }),
            )?;
            let line = Line {
                name: s.name.clone(),
                points: s
                    .points
                    .iter()
                    .map(|&(x, _, value, _)| (x, value))
                    .collect(),
            };
            draw_line(plot, i, &line)?;
        }
        Ok(())
    })
}

/// Series `i`'s line: solid for the first, dashed after; a marker of its
/// own shape at each point when there are few.
fn draw_line(plot: &mut Plot<'_, '_>, i: usize, line: &Line) -> Drawn {
    let color = COLORS[i % COLORS.len()];
    let style = color.stroke_width(2);
    let points = line.points.clone();
    let series = match i.checked_sub(1).map(|d| DASHES[d % DASHES.len()]) {
        None => plot.draw_series(LineSeries::new(points, style))?,
        Some((dash, gap)) => plot.draw_series(DashedLineSeries::new(points, dash, gap, style))?,
    };
    series.label(&line.name).legend(move |(x, y)| {
        let (dash, gap) = i
            .checked_sub(1)
            .map_or((20, 1), |d| DASHES[d % DASHES.len()]);
        DashedPathElement::new(vec![(x, y), (x + 20, y)], dash, gap, style)
    });
    if line.points.len() <= MAX_MARKERS {
        let at = line.points.iter().copied();
        match i % 4 {
            0 => plot.draw_series(at.map(|p| Circle::new(p, 3, color.filled())))?,
            1 => plot.draw_series(at.map(|p| TriangleMarker::new(p, 4, color.filled())))?,
            2 => plot.draw_series(at.map(|p| Cross::new(p, 4, color.stroke_width(2))))?,
            _ => plot.draw_series(at.map(|p| Circle::new(p, 3, color.stroke_width(2))))?,
        };
    }
    Ok(())
}

/// Draws the frame (axes, labels, spans, rules, marks, legend) around what
/// `body` draws; `series` is how many legend entries `body` adds.
fn draw(
    frame: &Frame,
    series: usize,
    body: impl FnOnce(&mut Plot<'_, '_>) -> Drawn,
) -> Result<Chart, Error> {
    let mut svg = String::new();
    draw_into(&mut svg, frame, series, body).map_err(|e| Error::Flag {
        flag: "--report",
        message: format!("cannot draw the chart '{}': {e}", frame.title),
    })?;
    Ok(Chart::new(&frame.title, &svg))
}

fn draw_into(
    svg: &mut String,
    frame: &Frame,
    series: usize,
    body: impl FnOnce(&mut Plot<'_, '_>) -> Drawn,
) -> Drawn {
    let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut plot = ChartBuilder::on(&root)
        .caption(&frame.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(frame.x_range.clone(), frame.y_range.clone())?;
    let x_ticks = if frame.whole_x {
        ((frame.x_range.end - frame.x_range.start).floor() as usize + 1).clamp(2, 12)
    } else {
        10
    };
    plot.configure_mesh()
        .x_labels(x_ticks)
        .x_label_formatter(&tick)
        .y_label_formatter(&tick)
        .max_light_lines(0)
        .x_desc(&frame.x_label)
        .y_desc(&frame.y_label)
        .bold_line_style(RGBColor(0xe4, 0xe4, 0xe4))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .draw()?;
    let (y_low, y_high) = (frame.y_range.start, frame.y_range.end);
    let (x_low, x_high) = (frame.x_range.start, frame.x_range.end);
    if let Some(first) = frame.spans.first() {
        let shade = RGBColor(0x80, 0x80, 0x80).mix(0.3);
        plot.draw_series(
            frame
                .spans
                .iter()
                .map(|s| Rectangle::new([(s.from, y_low), (s.until, y_high)], shade.filled())),
        )?
        .label(&first.name)
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], shade.filled()));
    }
    body(&mut plot)?;
    for rule in &frame.rules {
        let style = BLACK.stroke_width(1);
        plot.draw_series(DashedLineSeries::new(
            vec![(x_low, rule.y), (x_high, rule.y)],
            6,
            4,
            style,
        ))?
        .label(&rule.name)
        .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 20, y)], 6, 4, style));
    }
    // One colour for every mark (they are one kind of reference), each its
    // own dash pattern, so p50, p90 and p99 stay apart in greyscale too.
    const MARK_DASHES: [(u32, u32); 4] = [(2, 3), (8, 3), (14, 4), (4, 8)];
    for (i, mark) in frame.marks.iter().enumerate() {
        let (dash, gap) = MARK_DASHES[i % MARK_DASHES.len()];
        let style = RGBColor(0xb2, 0x18, 0x2b).stroke_width(2);
        plot.draw_series(DashedLineSeries::new(
            vec![(mark.x, y_low), (mark.x, y_high)],
            dash,
            gap,
            style,
        ))?
        .label(&mark.name)
        .legend(move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 20, y)], dash, gap, style));
    }
    if series + frame.reference_entries() >= 2 {
        let position = match frame.legend {
            LegendAt::UpperRight => SeriesLabelPosition::UpperRight,
            LegendAt::LowerRight => SeriesLabelPosition::LowerRight,
            LegendAt::UpperLeft => SeriesLabelPosition::UpperLeft,
        };
        plot.configure_series_labels()
            .position(position)
            .label_font(("sans-serif", 13))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(0x66, 0x66, 0x66))
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How plotters writes a text element's content.
    fn label(text: &str) -> String {
        format!(">\n{text}\n</text>")
    }

    fn frame() -> Frame {
        Frame::new(
            "Agreement",
            "round",
            "agreement (share of votes)",
            0.0..5.0,
            0.0..1.0,
        )
    }

    #[test]
    fn a_line_chart_has_its_title_axis_labels_legend_and_no_external_reference() {
        let mut frame = frame();
        frame.rules.push(Rule {
            name: "convergence threshold 0.9".into(),
            y: 0.9,
        });
        frame.marks.push(Mark {
            name: "converged: round 3".into(),
            x: 3.0,
        });
        let line = Line {
            name: "agreement".into(),
            points: vec![(1.0, 0.5), (2.0, 0.8), (3.0, 0.95)],
        };
        let chart = line_chart(&frame, &[line], &[]).unwrap();
        assert_eq!(chart.title, "Agreement");
        for text in [
            label("Agreement"),
            label("round"),
            label("agreement (share of votes)"),
            label("convergence threshold 0.9"),
            label("converged: round 3"),
            label("agreement"),
        ] {
            assert!(chart.svg.contains(&text), "{text} missing in {}", chart.svg);
        }
        assert!(chart.svg.starts_with("<svg"));
        assert!(!chart.svg.contains("http"), "{}", chart.svg);
        assert_eq!(chart.svg.matches("<circle").count(), 3);
    }

    #[test]
    fn lines_after_the_first_are_dashed_and_a_single_line_has_no_legend() {
        let a = Line {
            name: "first".into(),
            points: vec![(0.0, 0.1), (5.0, 0.9)],
        };
        let mut b = a.clone();
        b.name = "second".into();
        let one = line_chart(&frame(), std::slice::from_ref(&a), &[]).unwrap();
        assert!(!one.svg.contains(&label("first")));
        let two = line_chart(&frame(), &[a.clone(), b], &[]).unwrap();
        assert!(two.svg.contains(&label("first")) && two.svg.contains(&label("second")));
        // The solid line is one polyline; the dashed one is many short ones.
        assert!(two.svg.matches("<polyline").count() > 4);
    }

    #[test]
    fn stacked_bars_draw_every_layer_with_a_legend() {
        let frame = Frame::new("Votes", "round", "agents", 0.5..2.5, 0.0..14.0);
        let layers = [
            Layer {
                name: "approve".into(),
                bars: vec![(1.0, 6.0), (2.0, 8.0)],
            },
            Layer {
                name: "reject".into(),
                bars: vec![(1.0, 4.0), (2.0, 2.0)],
            },
        ];
        let chart = stacked_bars(&frame, 0.8, &layers).unwrap();
        for text in [label("approve"), label("reject"), label("agents")] {
            assert!(chart.svg.contains(&text), "{text}");
        }
    }

    #[test]
    fn error_bars_and_bands_draw_with_their_names() {
        let frame = Frame::new(
            "Rate",
            "fanout (peers)",
            "convergence rate",
            0.0..4.0,
            0.0..1.0,
        );
        let series = ErrorSeries {
            name: "convergence rate".into(),
            points: vec![(1.0, 0.2, 0.3, 0.4), (2.0, 0.6, 0.7, 0.8)],
        };
        let chart = error_bars(&frame, &[series]).unwrap();
        assert!(chart.svg.contains(&label("fanout (peers)")));
        let band = Band {
            name: "p10–p90".into(),
            points: vec![(1.0, 0.2, 0.4), (2.0, 0.5, 0.9)],
        };
        let median = Line {
            name: "median".into(),
            points: vec![(1.0, 0.3), (2.0, 0.7)],
        };
        let fan = line_chart(&frame, &[median], &[band]).unwrap();
        assert!(fan.svg.contains(&label("p10–p90")) && fan.svg.contains("<polygon"));
    }

    /// A colour's grey value (Rec. 709 luma on the sRGB values).
    fn luma(c: RGBColor) -> f64 {
        0.2126 * f64::from(c.0) + 0.7152 * f64::from(c.1) + 0.0722 * f64::from(c.2)
    }

    #[test]
    fn layer_fills_differ_in_greyscale() {
        for (i, a) in FILLS.iter().enumerate() {
            for b in &FILLS[i + 1..] {
                assert!((luma(*a) - luma(*b)).abs() > 30.0, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn ticks_drop_trailing_zeros() {
        assert_eq!(tick(&1.0), "1");
        assert_eq!(tick(&0.25), "0.25");
        assert_eq!(tick(&-0.0001), "0");
        assert_eq!(tick(&12.5), "12.5");
    }

    #[test]
    fn an_empty_range_is_widened() {
        let frame = Frame::new("Flat", "round", "agents", 1.0..1.0, f64::NAN..2.0);
        assert_eq!(frame.x_range, 1.0..2.0);
        assert_eq!(frame.y_range, 0.0..1.0);
        assert!(line_chart(&frame, &[], &[]).is_ok());
    }
}
