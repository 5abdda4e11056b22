//! A line scanner for comments: just enough YAML to tell a comment from text.

use std::ops::RangeInclusive;

/// One line of the file as the scanner sees it.
#[derive(Debug, Clone)]
pub(super) struct Line {
    /// Leading spaces.
    indent: usize,
    /// Has something besides a comment and blanks.
    content: bool,
    /// Inside a block scalar: text, not YAML.
    in_block: bool,
    /// Byte range of a comment, from `#` to the end of the line.
    pub(super) comment: Option<std::ops::Range<usize>>,
    /// `key:` with nothing after it: its value may be a sequence at the same indentation.
    key_only: bool,
    /// Starts a sequence item (`- `).
    item: bool,
}

pub(super) fn scan_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut offset = 0;
    // The indentation of the line that opened the block scalar we are in.
    let mut block_parent: Option<usize> = None;
    for raw in text.split_inclusive('\n') {
        let body = raw.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        let blank = body.trim().is_empty();
        if let Some(parent) = block_parent {
            if blank || indent > parent {
                lines.push(Line {
                    indent,
                    content: !blank,
                    in_block: true,
                    comment: None,
                    key_only: false,
                    item: false,
                });
                offset += raw.len();
                continue;
            }
            block_parent = None;
        }
        let comment_at = find_comment(body);
        let code = body[..comment_at.unwrap_or(body.len())].trim_end();
        if ends_with_block_indicator(code) {
            block_parent = Some(indent);
        }
        lines.push(Line {
            indent,
            content: !code.trim().is_empty(),
            in_block: false,
            comment: comment_at.map(|at| offset + at..offset + body.len()),
            key_only: code.ends_with(':'),
            item: code.trim_start() == "-" || code.trim_start().starts_with("- "),
        });
        offset += raw.len();
    }
    lines
}

/// Where a YAML comment starts in `line`: a `#` at the start or after a blank, outside quotes.
fn find_comment(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut previous: Option<char> = None;
    let mut last_token: Option<char> = None;
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match quote {
            Some('\'') if c == '\'' => {
                if chars.peek().is_some_and(|(_, next)| *next == '\'') {
                    chars.next();
                } else {
                    quote = None;
                }
            }
            Some('"') if c == '\\' => {
                chars.next();
            }
            Some('"') if c == '"' => quote = None,
            Some(_) => {}
            None => {
                let value_start = last_token
                    .is_none_or(|token| matches!(token, ':' | '-' | '[' | '{' | ',' | '?'));
                if (c == '\'' || c == '"') && value_start {
                    quote = Some(c);
                } else if c == '#' && previous.is_none_or(char::is_whitespace) {
                    return Some(at);
                }
                if !c.is_whitespace() {
                    last_token = Some(c);
                }
            }
        }
        previous = Some(c);
    }
    None
}

/// `key: |`, `- >-`, `run: |2`: the lines after it are a block scalar.
fn ends_with_block_indicator(code: &str) -> bool {
    let last = code.rsplit([' ', '\t']).next().unwrap_or("");
    let mut chars = last.chars();
    let starts = matches!(chars.next(), Some('|' | '>'));
    let before = code[..code.len() - last.len()].trim_end();
    let after_value_start = before.is_empty() || before.ends_with(':') || before.ends_with('-');
    starts && after_value_start && chars.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

/// The lines a comment on line `index` (0-based) covers, 1-based.
pub(super) fn coverage(lines: &[Line], index: usize) -> RangeInclusive<usize> {
    let own_line = lines.get(index).is_some_and(|line| line.content);
    let target = if own_line {
        Some(index)
    } else {
        (index + 1..lines.len()).find(|&at| lines[at].content && !lines[at].in_block)
    };
    let Some(target) = target else {
        return index + 1..=index + 1;
    };
    let indent = lines[target].indent;
    let sequence_key = lines[target].key_only;
    let mut last = target;
    for (at, line) in lines.iter().enumerate().skip(target + 1) {
        if !line.content && !line.in_block {
            continue;
        }
        let nested = line.in_block || line.indent > indent;
        // `steps:` followed by `- id: ...` at the same indentation is still its value.
        let same_level_item = sequence_key && line.indent == indent && line.item;
        if !(nested || same_level_item) {
            break;
        }
        last = at;
    }
    target + 1..=last + 1
}
