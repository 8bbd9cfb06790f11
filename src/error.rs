//! Errors that reach the user: each renders as one line naming where the
//! problem is (file, line, column, key, or the flag) and what is wrong.

use std::fmt;

/// A position in a scenario file, 1-based, column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Line number, starting at 1.
    pub line: usize,
    /// Column number, starting at 1.
    pub column: usize,
}

impl Location {
    /// The line and column of byte `offset` in `text`.
    pub fn of_offset(text: &str, offset: usize) -> Self {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location { line, column }
    }
}

/// Everything that can go wrong between the command line and the report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The scenario file could not be read.
    #[error("cannot read scenario '{}': {}", one_line(.path), one_line(.reason))]
    Read {
        /// The path as the user gave it.
        path: String,
        /// The operating system's reason.
        reason: String,
    },
    /// The scenario is malformed or breaks a rule of the format.
    #[error("{}", scenario_message(.source_name, .location, .key.as_deref(), .message))]
    Scenario {
        /// The file the scenario came from.
        source_name: String,
        /// Where in the file, when known.
        location: Option<Location>,
        /// The offending key, as a dotted path (`gossip.fanout`, `agents[2].id`).
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A command-line flag has a value the simulation cannot use.
    #[error("{flag}: {}", one_line(.message))]
    Flag {
        /// The flag, such as `--fanout`.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The command line itself is malformed (reported by clap).
    #[error("{}", one_line(.0))]
    Usage(String),
    /// A partial result given to `moai merge` is unreadable, damaged, or not
    /// part of the same plan as the others.
    #[error("{}", part_message(.path, .location, .message))]
    Part {
        /// The file at fault; empty when the parts as a whole are (a shard
        /// missing).
        path: String,
        /// Where in the file, when known.
        location: Option<Location>,
        /// What is wrong.
        message: String,
    },
}

fn part_message(path: &str, location: &Option<Location>, message: &str) -> String {
    let place = match (path, location) {
        ("", _) => String::new(),
        (path, None) => format!("{}: ", one_line(path)),
        (path, Some(location)) => format!("{}:{location}: ", one_line(path)),
    };
    format!("{place}{}", one_line(message))
}

/// A setting the chosen algorithm cannot use, before it is tied to a place:
/// the caller reports it at the flag when a flag set it, else at the key.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidSetting {
    /// The scenario key, as a dotted path (`byzantine.fault_tolerance`).
    pub key: String,
    /// The flag that sets the same value, if there is one.
    pub flag: Option<&'static str>,
    /// What is wrong.
    pub message: String,
}

fn scenario_message(
    source_name: &str,
    location: &Option<Location>,
    key: Option<&str>,
    message: &str,
) -> String {
    let mut out = source_name.to_string();
    if let Some(location) = location {
        out.push_str(&format!(":{location}"));
    }
    out.push_str(": ");
    if let Some(key) = key {
        out.push_str(&format!("key '{key}': "));
    }
    out.push_str(message);
    one_line(&out)
}

/// `text` with control characters (newlines, tabs, terminal escapes: all of
/// C0, DEL and C1), which ids and values from a file may hold, written as
/// escapes: an error or a table line stays one line and cannot drive the
/// terminal.
pub fn one_line(text: &str) -> String {
    escape_chars(text, char::is_control)
}

/// `text` with every character for which `escape` holds written as its Rust
/// escape (`\n`, `\u{1b}`); other characters are kept.
pub fn escape_chars(text: &str, escape: impl Fn(char) -> bool) -> String {
    if !text.chars().any(&escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_counts_lines_and_characters() {
        let text = "a = 1\nbé = 2\n";
        assert_eq!(
            Location::of_offset(text, 0),
            Location { line: 1, column: 1 }
        );
        assert_eq!(
            Location::of_offset(text, 6),
            Location { line: 2, column: 1 }
        );
        // 'é' is two bytes but one column.
        assert_eq!(
            Location::of_offset(text, 9),
            Location { line: 2, column: 3 }
        );
        assert_eq!(
            Location::of_offset(text, 999),
            Location { line: 3, column: 1 }
        );
    }

    #[test]
    fn control_characters_in_messages_are_escaped() {
        let err = Error::Scenario {
            source_name: "s.toml".into(),
            location: None,
            key: Some("agents[1].id".into()),
            message: "duplicate agent id 'a\nb\u{1b}[31m'".into(),
        };
        assert_eq!(
            err.to_string(),
            "s.toml: key 'agents[1].id': duplicate agent id 'a\\nb\\u{1b}[31m'"
        );
        assert_eq!(one_line("plain 'ids' stay"), "plain 'ids' stay");
    }

    #[test]
    fn scenario_error_is_one_line_with_file_position_and_key() {
        let err = Error::Scenario {
            source_name: "s.toml".into(),
            location: Some(Location { line: 3, column: 9 }),
            key: Some("gossip.fanout".into()),
            message: "must be at least 1".into(),
        };
        assert_eq!(
            err.to_string(),
            "s.toml:3:9: key 'gossip.fanout': must be at least 1"
        );
    }
}
