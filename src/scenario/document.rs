//! A scenario's source text and the name it is reported under, and the one
//! place that turns "key path + message" into a located [`Error`].

use std::fmt;
use std::io::Read;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Error, Location};

/// One segment of a key path: a table key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A key in a table.
    Key(String),
    /// A position in an array, from 0.
    Index(usize),
}

/// A path to a value in a scenario, displayed as `agents[2].id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Segment>);

impl KeyPath {
    /// Parses a dotted path such as `gossip.fanout` or `agents[2].id`.
    pub fn parse(dotted: &str) -> Self {
        let mut segments = Vec::new();
        for part in dotted.split('.').filter(|p| !p.is_empty()) {
            let mut pieces = part.split('[');
            if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
                segments.push(Segment::Key(key.to_string()));
            }
            for index in pieces {
                if let Ok(i) = index.trim_end_matches(']').parse() {
                    segments.push(Segment::Index(i));
                }
            }
        }
        KeyPath(segments)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// The text of a scenario and the name errors call it by.
#[derive(Debug, Clone)]
pub struct Document {
    /// How messages name the source: the path as given, or `bundled:NAME`.
    pub name: String,
    /// The default scenario name: the file stem.
    pub stem: String,
    /// The TOML text.
    pub text: String,
}

impl Document {
    /// Reads the scenario at `path` or, when no file is there, the bundled
    /// scenario of that name (`moai run infra`). A path that exists wins over
    /// a bundled name; a path that is neither says which names are bundled.
    pub fn open(path: &Path) -> Result<Self, Error> {
        if path.as_os_str() != "-" && std::fs::symlink_metadata(path).is_err() {
            if let Some(bundled) = path.to_str().and_then(super::bundled::Bundled::named) {
                return Ok(bundled.document());
            }
            let names: Vec<&str> = super::bundled::ALL.iter().map(|b| b.name()).collect();
            return Err(Error::Read {
                path: path.display().to_string(),
                reason: format!(
                    "no such file, and no bundled scenario of that name (bundled: {})",
                    names.join(", ")
                ),
            });
        }
        Self::read(path)
    }

    /// Reads a scenario file, or standard input for `-`; unreadable,
    /// oversized (see [`MAX_SCENARIO_BYTES`]) or non-UTF-8 input is an error.
    pub fn read(path: &Path) -> Result<Self, Error> {
        if path.as_os_str() == "-" {
            let bytes = read_limited(std::io::stdin().lock(), "-")?;
            return Self::from_bytes("<stdin>", "stdin", bytes);
        }
        let name = path.display().to_string();
        let bytes = std::fs::File::open(path)
            .map_err(|e| Error::Read {
                path: name.clone(),
                reason: io_reason(&e),
            })
            .and_then(|file| read_limited(file, &name))?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.clone());
        Self::from_bytes(&name, &stem, bytes)
    }

    /// A document from raw bytes, which must be UTF-8.
    pub fn from_bytes(name: &str, stem: &str, bytes: Vec<u8>) -> Result<Self, Error> {
        let text = String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let valid = String::from_utf8_lossy(&e.into_bytes()[..offset]).into_owned();
            Error::Scenario {
                location: Some(Location::of_offset(&valid, offset)),
                source_name: name.to_string(),
                key: None,
                message: format!("the file is not valid UTF-8 (byte {offset})"),
            }
        })?;
        Ok(Document {
            name: name.to_string(),
            stem: stem.to_string(),
            text,
        })
    }

    /// A document from text already in memory (bundled scenarios, tests).
    pub fn from_text(name: &str, stem: &str, text: &str) -> Self {
        Document {
            name: name.to_string(),
            stem: stem.to_string(),
            text: text.to_string(),
        }
    }

    /// An error about `key`, located at the key's value when the file has it
    /// (or at its nearest enclosing table when it does not).
    pub fn error_at_key(&self, key: &KeyPath, message: impl Into<String>) -> Error {
        let span = DeTable::parse(&self.text)
            .ok()
            .and_then(|root| locate(&root, &key.0))
            .map(|(offset, _)| offset);
        Error::Scenario {
            source_name: self.name.clone(),
            location: span.map(|offset| Location::of_offset(&self.text, offset)),
            key: (!key.0.is_empty()).then(|| key.to_string()),
            message: message.into(),
        }
    }

    /// Whether the document sets `key` itself, rather than leaving it to
    /// its default.
    ///
    /// Read from the tokens when the path names table keys only and no
    /// inline table is on the way, so a warning about a run's setting does
    /// not parse the file a second time.
    pub fn has_key(&self, key: &KeyPath) -> bool {
        let names: Option<Vec<&str>> = key
            .0
            .iter()
            .map(|segment| match segment {
                Segment::Key(name) => Some(name.as_str()),
                Segment::Index(_) => None,
            })
            .collect();
        if let Some(found) = names.and_then(|path| super::shape::sets_key(&self.text, &path)) {
            return found;
        }
        DeTable::parse(&self.text)
            .ok()
            .and_then(|root| locate(&root, &key.0))
            .is_some_and(|(_, whole)| whole)
    }

    /// Whether the text is TOML that names no `algorithm`: another tool's
    /// file, not a scenario. Text that does not parse, or whose parse the
    /// memory guard would refuse, is not: its error is reported as a
    /// scenario's. Reads the tokens first, so a file that names an algorithm
    /// is never parsed here.
    pub fn is_other_toml(&self) -> bool {
        let shape = super::shape::scan(&self.text, super::MAX_PROPOSALS);
        let affordable =
            crate::budget::check_parse(super::shape::parse_bytes(self.text.len(), &shape));
        !shape.algorithm
            && shape.proposal_beyond.is_none()
            && affordable.is_ok()
            && DeTable::parse(&self.text)
                .is_ok_and(|root| root.get_ref().get("algorithm").is_none())
    }

    /// An error at a byte offset of the text, with an optional key.
    pub fn error_at_offset(
        &self,
        offset: Option<usize>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Scenario {
            source_name: self.name.clone(),
            location: offset.map(|o| Location::of_offset(&self.text, o)),
            key,
            message: message.into(),
        }
    }
}

/// The largest scenario moai reads, in bytes (64 MiB). Reading stops there,
/// so `/dev/zero` or an endless pipe is an error rather than exhausted memory.
pub const MAX_SCENARIO_BYTES: u64 = 64 * 1024 * 1024;

/// All of `source`, unless it holds more than [`MAX_SCENARIO_BYTES`].
fn read_limited(source: impl Read, path: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    source
        .take(MAX_SCENARIO_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::Read {
            path: path.to_string(),
            reason: io_reason(&e),
        })?;
    if bytes.len() as u64 > MAX_SCENARIO_BYTES {
        return Err(Error::Read {
            path: path.to_string(),
            reason: format!("it is larger than the limit of {MAX_SCENARIO_BYTES} bytes (64 MiB)"),
        });
    }
    Ok(bytes)
}

fn io_reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::IsADirectory => "it is a directory".to_string(),
        _ => error.to_string(),
    }
}

/// The first value nested more than `limit` tables and arrays deep, counted
/// from the top of the document: the byte offset of the nearest value with a
/// position in the text, and the top-level key it sits under. Walks the
/// document with an explicit stack, so any depth is safe to check.
pub(super) fn too_deep(root: &Spanned<DeTable<'_>>, limit: usize) -> Option<(usize, String)> {
    let mut stack: Vec<(&Spanned<DeValue<'_>>, usize, &str, usize)> = root
        .get_ref()
        .iter()
        .map(|(key, value)| (value, 1, key.get_ref().as_ref(), value.span().start))
        .collect();
    while let Some((value, depth, top, offset)) = stack.pop() {
        // Tables that dotted keys create have no span of their own.
        let offset = if value.span().is_empty() {
            offset
        } else {
            value.span().start
        };
        if depth > limit {
            return Some((offset, top.to_string()));
        }
        match value.get_ref() {
            DeValue::Table(t) => stack.extend(t.values().map(|v| (v, depth + 1, top, offset))),
            DeValue::Array(a) => stack.extend(a.iter().map(|v| (v, depth + 1, top, offset))),
            _ => {}
        }
    }
    None
}

/// The byte offset of the deepest part of `path` present in the document,
/// and whether that part is the whole path.
fn locate(root: &Spanned<DeTable<'_>>, path: &[Segment]) -> Option<(usize, bool)> {
    let mut best = None;
    let mut found = 0;
    let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
    let mut array: Option<&[Spanned<DeValue<'_>>]> = None;
    for segment in path {
        let value = match (segment, table, array) {
            (Segment::Key(key), Some(t), _) => t.get(key.as_str()),
            (Segment::Index(i), _, Some(a)) => a.get(*i),
            _ => None,
        };
        let Some(value) = value else { break };
        best = Some(value.span().start);
        found += 1;
        table = None;
        array = None;
        match value.get_ref() {
            DeValue::Table(t) => table = Some(t),
            DeValue::Array(a) => array = Some(a),
            _ => {}
        }
    }
    best.map(|offset| (offset, found == path.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_round_trips_through_display() {
        for dotted in [
            "gossip.fanout",
            "agents[2].id",
            "states[0].versions[1].value",
        ] {
            assert_eq!(KeyPath::parse(dotted).to_string(), dotted);
        }
    }

    #[test]
    fn error_at_key_points_at_the_value() {
        let doc = Document::from_text(
            "s.toml",
            "s",
            "algorithm = \"gossip\"\n[gossip]\nfanout = 0\n",
        );
        let err = doc.error_at_key(&KeyPath::parse("gossip.fanout"), "must be at least 1");
        assert_eq!(
            err.to_string(),
            "s.toml:3:10: key 'gossip.fanout': must be at least 1"
        );
    }

    #[test]
    fn error_at_missing_key_points_at_nearest_table() {
        let doc = Document::from_text("s.toml", "s", "x = 1\n[agents_table]\ny = 2\n");
        let err = doc.error_at_key(&KeyPath::parse("agents_table.z"), "missing");
        assert!(err.to_string().starts_with("s.toml:2:"), "{err}");
        let err = doc.error_at_key(&KeyPath::parse("nowhere"), "missing");
        assert_eq!(err.to_string(), "s.toml: key 'nowhere': missing");
    }

    #[test]
    fn has_key_needs_the_whole_path() {
        let doc = Document::from_text("s.toml", "s", "[gossip]\ndegree = 6\n");
        assert!(doc.has_key(&KeyPath::parse("gossip.degree")));
        assert!(doc.has_key(&KeyPath::parse("gossip")));
        assert!(!doc.has_key(&KeyPath::parse("gossip.rewire")));
        assert!(!doc.has_key(&KeyPath::parse("agents")));
    }
}
