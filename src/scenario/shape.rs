//! A first pass over a scenario's tokens, streaming in constant memory, that
//! measures what parsing the file will cost before the parser pays it: the
//! TOML parser holds every token, an event per token and a tree of spanned
//! values at once, so its memory grows with the number of tokens, not bytes.

use toml_parser::lexer::TokenKind;

/// What the first pass found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Shape {
    /// Tokens in the file, whitespace and punctuation included.
    pub tokens: u64,
    /// Of those, whitespace, comments and line ends.
    pub trivia: u64,
    /// Keys given a value: the `=` signs.
    pub keys: u64,
    /// Tables and arrays opened, at most: `[`, `{`, table headers and the
    /// dots of dotted keys (a dot in a float is counted too).
    pub containers: u64,
    /// Proposals: `[[proposals]]` headers and the tables of a top-level
    /// `proposals = [...]` array.
    pub proposals: u64,
    /// Whether the top-level table sets `algorithm`.
    pub algorithm: bool,
    /// Byte offset of the proposal that went past the limit given to
    /// [`scan`], if one did.
    pub proposal_beyond: Option<usize>,
}

/// The most bytes the TOML parser and the conversion into a scenario hold
/// per token of whitespace, comment or line end (the parser's token and
/// event lists), per key given a value (an entry in its table's map, then
/// in JSON's), per table or array opened (its map or list besides), and per
/// other token (a spanned value in the parser's tree, then JSON). Each is
/// measured and rounded up (`bench/parse.sh`); `tests/parsing.rs` checks the
/// bound.
const BYTES_PER_TRIVIA: u64 = 56;
const BYTES_PER_KEY: u64 = 400;
const BYTES_PER_CONTAINER: u64 = 768;
const BYTES_PER_TOKEN: u64 = 200;

/// The bytes parsing `text` of this shape holds at its peak, at most.
pub(super) fn parse_bytes(text_len: usize, shape: &Shape) -> u64 {
    let others = shape.tokens - shape.trivia - shape.keys - shape.containers;
    (text_len as u64)
        .saturating_add(shape.trivia.saturating_mul(BYTES_PER_TRIVIA))
        .saturating_add(shape.keys.saturating_mul(BYTES_PER_KEY))
        .saturating_add(shape.containers.saturating_mul(BYTES_PER_CONTAINER))
        .saturating_add(others.saturating_mul(BYTES_PER_TOKEN))
}

/// Reads `text`'s tokens once, without building anything. Counts proposals
/// up to `proposal_limit` exactly; beyond it, records where the first extra
/// one starts. Malformed text is measured as far as it lexes; the parser
/// reports what is wrong with it.
pub(super) fn scan(text: &str, proposal_limit: u64) -> Shape {
    scan_with(text, proposal_limit, &mut |_, _| false)
}

/// Whether `text` sets the key at `path` (table keys only): `Some(true)` when
/// a table header or a key starts with it, `Some(false)` when none does, and
/// `None` when a key on the way holds a value that may hold the rest (an
/// inline table), which only a parse can tell.
pub(super) fn sets_key(text: &str, path: &[&str]) -> Option<bool> {
    let mut answer = Some(false);
    scan_with(text, u64::MAX, &mut |table, key| {
        let full: Vec<&str> = table.iter().chain(key).copied().collect();
        if full.iter().any(|part| part.contains('\\')) {
            // An escaped key: only a parse decodes it.
            answer = None;
        } else if full.starts_with(path) {
            answer = Some(true);
        } else if !key.is_empty() && path.starts_with(&full) {
            answer = None;
        }
        answer != Some(false)
    });
    answer
}

/// [`scan`], calling `visit` with the table and the key of each table header
/// (an empty key) and of each key given a value at the top of a line, until
/// it returns true.
fn scan_with(
    text: &str,
    proposal_limit: u64,
    visit: &mut dyn FnMut(&[&str], &[&str]) -> bool,
) -> Shape {
    let source = toml_parser::Source::new(text);
    let mut shape = Shape::default();
    // Open brackets and braces of the value being read (0: between values).
    let mut depth = 0usize;
    let mut line_start = true;
    // Inside `[...]` or `[[...]]` at the start of a line: whether it is an
    // array of tables, its key parts so far, and where it starts.
    let mut header: Option<(bool, Vec<&str>, usize)> = None;
    let mut in_root = true;
    // The key parts of the last table header.
    let mut table: Vec<&str> = Vec::new();
    // The key parts of the statement on this line, before its `=`.
    let mut key: Vec<&str> = Vec::new();
    let mut in_proposals = false;
    let count = |shape: &mut Shape, offset: usize| {
        shape.proposals += 1;
        if shape.proposals > proposal_limit && shape.proposal_beyond.is_none() {
            shape.proposal_beyond = Some(offset);
        }
    };
    for token in source.lex() {
        shape.tokens += 1;
        let span = token.span();
        let raw = &text[span.start()..span.end()];
        match token.kind() {
            TokenKind::Whitespace | TokenKind::Comment | TokenKind::Eof => shape.trivia += 1,
            TokenKind::Newline => {
                shape.trivia += 1;
                if depth == 0 {
                    line_start = true;
                    key.clear();
                }
            }
            TokenKind::LeftSquareBracket if depth == 0 && line_start => {
                shape.containers += 1;
                header = Some((false, Vec::new(), span.start()));
                line_start = false;
            }
            TokenKind::LeftSquareBracket if depth == 0 && header.is_some() => {
                if let Some((array, parts, _)) = &mut header
                    && parts.is_empty()
                {
                    *array = true;
                }
            }
            TokenKind::RightSquareBracket if depth == 0 => {
                if let Some((array, parts, start)) = header.take() {
                    in_root = false;
                    if array && parts == ["proposals"] {
                        count(&mut shape, start);
                    }
                    table = parts;
                    if visit(&table, &[]) {
                        break;
                    }
                }
            }
            TokenKind::LeftSquareBracket | TokenKind::LeftCurlyBracket => {
                shape.containers += 1;
                if in_proposals && depth == 1 && token.kind() == TokenKind::LeftCurlyBracket {
                    count(&mut shape, span.start());
                }
                depth += 1;
            }
            TokenKind::RightSquareBracket | TokenKind::RightCurlyBracket => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    in_proposals = false;
                }
            }
            TokenKind::Equals if depth == 0 => {
                shape.keys += 1;
                in_proposals = in_root && key == ["proposals"];
                shape.algorithm |= in_root && key == ["algorithm"];
                if visit(&table, &key) {
                    break;
                }
                key.clear();
            }
            TokenKind::Atom
            | TokenKind::BasicString
            | TokenKind::LiteralString
            | TokenKind::MlBasicString
            | TokenKind::MlLiteralString
                if depth == 0 =>
            {
                line_start = false;
                let part = raw.trim_matches(['"', '\'']);
                match &mut header {
                    Some((_, parts, _)) => parts.push(part),
                    None => key.push(part),
                }
            }
            TokenKind::Equals => shape.keys += 1,
            TokenKind::Dot => {
                shape.containers += 1;
                line_start = false;
            }
            _ => line_start = false,
        }
    }
    shape
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proposals(text: &str) -> u64 {
        scan(text, u64::MAX).proposals
    }

    #[test]
    fn proposals_are_counted_in_headers_and_inline_arrays() {
        assert_eq!(
            proposals("[[proposals]]\nx = 1\n[[ proposals ]]\n[[agents]]\n"),
            2
        );
        assert_eq!(proposals("proposals = [{}, {a = {b = 1}}, {}]\n"), 3);
        assert_eq!(proposals("\"proposals\" = [\n{},\n{}\n]\n"), 2);
        // Not at the top level, or not proposals.
        assert_eq!(proposals("[x]\nproposals = [{}, {}]\n"), 0);
        assert_eq!(proposals("[[proposals.x]]\nproposal = [{}]\n"), 0);
        assert_eq!(proposals("x = \"[[proposals]]\"\ny = [[{}]]\n"), 0);
    }

    #[test]
    fn keys_are_found_under_headers_and_dotted_keys() {
        let text = "[gossip]\ndegree = 6\n[byzantine.x]\n'quoted' . y = 1\nz = { w = 1 }\n";
        assert_eq!(sets_key(text, &["gossip", "degree"]), Some(true));
        assert_eq!(sets_key(text, &["gossip"]), Some(true));
        assert_eq!(sets_key(text, &["byzantine"]), Some(true));
        assert_eq!(
            sets_key(text, &["byzantine", "x", "quoted", "y"]),
            Some(true)
        );
        assert_eq!(sets_key(text, &["gossip", "rewire"]), Some(false));
        assert_eq!(sets_key(text, &["agents"]), Some(false));
        // Inside an inline table: only a parse can tell.
        assert_eq!(sets_key(text, &["byzantine", "x", "z", "w"]), None);
        assert_eq!(
            sets_key("gossip = { degree = 6 }", &["gossip", "degree"]),
            None
        );
        assert_eq!(
            sets_key("gossip.degree = 6", &["gossip", "degree"]),
            Some(true)
        );
        assert_eq!(sets_key("\"gossip\\u0020\" = 6", &["gossip"]), None);
    }

    #[test]
    fn algorithm_is_seen_only_at_the_top_level() {
        assert!(scan("# x\nalgorithm = \"gossip\"\n[a]\n", 0).algorithm);
        assert!(scan("'algorithm'=1", 0).algorithm);
        assert!(!scan("[a]\nalgorithm = \"gossip\"\n", 0).algorithm);
        assert!(!scan("x = { algorithm = 1 }\nalgorithms = 2\n", 0).algorithm);
    }

    #[test]
    fn the_first_proposal_past_the_limit_is_located() {
        let text = "proposals = [{}, {}, {}]";
        let shape = scan(text, 2);
        assert_eq!(shape.proposals, 3);
        assert_eq!(shape.proposal_beyond, Some(text.rfind('{').unwrap()));
        assert_eq!(scan(text, 3).proposal_beyond, None);
    }

    #[test]
    fn tokens_count_every_lexeme() {
        // `a`, ` `, `=`, ` `, `[`, `1`, `,`, `2`, `]`, newline, end.
        let shape = scan("a = [1,2]\n", 0);
        assert_eq!(
            (shape.tokens, shape.trivia, shape.keys, shape.containers),
            (11, 4, 1, 1)
        );
        assert_eq!(scan("a = {b = 1, c = 2}", 0).keys, 3);
        // A header opens one table, however many brackets it has; a dotted
        // key opens one per dot.
        let shape = scan("[[a]]\n[b]\nc = {d = [{}]}\ne.f.g = 1\n", 0);
        assert_eq!(shape.containers, 7);
    }
}
