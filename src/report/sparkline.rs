//! One-line charts in Unicode block characters (`▁▂▃▄▅▆▇█`) for tables:
//! a histogram of counts per round and a sparkline of a ratio per round.
//! Plain characters only, so the text is the same with and without colour.
//! A series longer than [`MAX_WIDTH`] is binned: each character then stands
//! for a run of consecutive rounds (counts summed, ratios averaged).

/// Most characters a chart takes; longer series are binned to this width.
pub const MAX_WIDTH: usize = 60;

/// The eight heights, lowest first.
const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// `values` cut into at most [`MAX_WIDTH`] runs of consecutive values, each
/// given by `merge`: value `i` goes to bin `i × width / len`.
fn binned(values: &[f64], merge: impl Fn(&[f64]) -> f64) -> Vec<f64> {
    let width = values.len().min(MAX_WIDTH);
    (0..width)
        .map(|bin| {
            let start = (bin * values.len()).div_ceil(width);
            let end = ((bin + 1) * values.len()).div_ceil(width);
            merge(&values[start..end])
        })
        .collect()
}

/// Counts (of trials per round, from round `first`) as a labelled
/// histogram: `1 ▁▅█▂ 4`, each character's height proportional to its
/// count (the largest is `█`, any count above zero at least `▁`, zero a
/// space). Empty counts give an empty string.
pub fn histogram(first: u32, counts: &[f64]) -> String {
    let bars = binned(counts, |run| run.iter().sum());
    let top = bars.iter().copied().fold(0.0, f64::max);
    let line: String = bars
        .iter()
        .map(|&count| {
            if count <= 0.0 || top <= 0.0 {
                ' '
            } else {
                let level = (count / top * 8.0).ceil().clamp(1.0, 8.0) as usize;
                BLOCKS[level - 1]
            }
        })
        .collect();
    labelled(first, counts.len(), &line)
}

/// Values per round, from round `first`, on the scale `low..=high` (a value
/// at or below `low` is `▁`, at or above `high` is `█`, the rest in eight
/// even steps) as a labelled sparkline: `1 ▁▄▇██ 5`. Empty values give an
/// empty string.
pub fn sparkline(first: u32, values: &[f64], low: f64, high: f64) -> String {
    let points = binned(values, |run| run.iter().sum::<f64>() / run.len() as f64);
    let span = high - low;
    let line: String = points
        .iter()
        .map(|&value| {
            let step = if span > 0.0 {
                ((value - low) / span * 7.0).round().clamp(0.0, 7.0)
            } else {
                0.0
            };
            BLOCKS[step as usize]
        })
        .collect();
    labelled(first, values.len(), &line)
}

/// `line` between the first and last round it covers.
fn labelled(first: u32, len: usize, line: &str) -> String {
    if len == 0 {
        return String::new();
    }
    let last = u64::from(first) + len as u64 - 1;
    format!("{first} {line} {last}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_heights_are_proportional_to_the_largest_count() {
        assert_eq!(histogram(1, &[1.0, 4.0, 8.0, 2.0]), "1 ▁▄█▂ 4");
        // A count far below the largest still shows; zero is a space.
        assert_eq!(histogram(2, &[1000.0, 1.0, 0.0, 500.0]), "2 █▁ ▄ 5");
    }

    #[test]
    fn all_equal_input_is_drawn_level() {
        assert_eq!(histogram(1, &[7.0; 5]), "1 █████ 5");
        assert_eq!(histogram(1, &[0.0; 3]), "1     3");
        assert_eq!(sparkline(1, &[0.75; 4], 0.5, 1.0), "1 ▅▅▅▅ 4");
    }

    #[test]
    fn sparkline_maps_the_scale_onto_eight_steps() {
        assert_eq!(
            sparkline(1, &[0.0, 0.5, 0.6, 0.75, 0.9, 1.0, 2.0], 0.5, 1.0),
            "1 ▁▁▂▅▇██ 7"
        );
        // A scale of no width draws every value at the bottom.
        assert_eq!(sparkline(3, &[0.2, 0.9], 1.0, 1.0), "3 ▁▁ 4");
    }

    #[test]
    fn empty_input_gives_no_text() {
        assert_eq!(histogram(1, &[]), "");
        assert_eq!(sparkline(1, &[], 0.0, 1.0), "");
    }

    #[test]
    fn long_input_is_binned_to_the_maximum_width() {
        // 100,000 rounds: 60 characters, the label still the whole span.
        let counts: Vec<f64> = (0..100_000).map(|r| f64::from(r % 7)).collect();
        let text = histogram(1, &counts);
        let line = text
            .strip_prefix("1 ")
            .unwrap()
            .strip_suffix(" 100000")
            .unwrap();
        assert_eq!(line.chars().count(), MAX_WIDTH);
        // Counts are summed per bin: a single spike in a long quiet run
        // stays the tallest, wherever it lands.
        let mut spike = vec![1.0; 1_000];
        spike[777] = 500.0;
        let text = histogram(1, &spike);
        let line: Vec<char> = text.chars().skip(2).take(MAX_WIDTH).collect();
        assert_eq!(line.iter().filter(|&&c| c == '█').count(), 1);
        assert_eq!(line[777 * MAX_WIDTH / 1_000], '█');
        // Ratios are averaged per bin: a long run of one value stays level.
        let text = sparkline(1, &[1.0; 500], 0.5, 1.0);
        assert_eq!(text, format!("1 {} 500", "█".repeat(MAX_WIDTH)));
        // Exactly the width is not binned; one more is.
        let exact: Vec<f64> = (0..MAX_WIDTH).map(|i| (i % 2) as f64).collect();
        assert_eq!(histogram(1, &exact).chars().count(), MAX_WIDTH + 5);
        let more: Vec<f64> = (0..=MAX_WIDTH).map(|i| (i % 2) as f64).collect();
        assert_eq!(histogram(1, &more).chars().count(), MAX_WIDTH + 5);
    }

    #[test]
    fn bins_cover_every_value_once() {
        for len in [1, 59, 60, 61, 119, 120, 121, 1_000, 99_999] {
            let ones = vec![1.0; len];
            let sums = binned(&ones, |run| run.iter().sum());
            assert_eq!(sums.len(), len.min(MAX_WIDTH));
            assert_eq!(sums.iter().sum::<f64>(), len as f64, "{len}");
            assert!(sums.iter().all(|&s| s >= 1.0), "{len}");
        }
    }
}
