//! Scalars on one line (plain, single- and double-quoted) and block scalars (`|`, `>`), read the
//! way granit reads them, or declined.

use std::borrow::Cow;

use serde_saphyr::granit_parser::Marker;

use super::text::{Line, Text, ensure};
use super::{Declined, Result};

/// A scalar read from one line: its text and its bytes `start..end` (quotes included).
pub(super) struct Read<'a> {
    pub text: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
}

/// Bytes that cannot start a plain scalar (YAML's indicators); `-`, `?` and `:` can when a
/// non-space follows, which [`plain_start`] checks.
fn is_indicator(b: u8) -> bool {
    matches!(
        b,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
    )
}

/// Whether a plain scalar may start at `at`: no indicator, except `-` before a digit or a letter.
pub(super) fn plain_start(t: &Text<'_>, line: &Line, at: usize) -> bool {
    let b = t.byte(line, at);
    if !is_indicator(b) {
        return true;
    }
    b == b'-' && t.byte(line, at + 1).is_ascii_alphanumeric()
}

/// How a plain scalar on a block line ends.
pub(super) enum PlainEnd {
    /// At `: ` or a `:` ending the line: it is a key; the colon is at `end`.
    Key,
    /// At the line's end or a comment.
    Value,
}

/// A plain scalar in block context from `at` (a valid start): up to `: ` (a key), ` #` or the
/// line's end; trailing spaces are not part of it.
pub(super) fn plain_block<'a>(
    t: &Text<'a>,
    line: &Line,
    at: usize,
) -> Result<(Read<'a>, PlainEnd)> {
    let mut i = line.end;
    let mut from = at;
    // Only `:` and `#` can end it before the line does: jump between them.
    while let Some(found) = memchr::memchr2(b':', b'#', &t.bytes[from..line.end]) {
        let c = from + found;
        if t.bytes[c] == b':' && (c + 1 == line.end || t.bytes[c + 1] == b' ') {
            // A space before the colon would be trimmed from the key: not handled.
            ensure(t.bytes[c - 1] != b' ')?;
            let read = Read {
                text: Cow::Borrowed(&t.text[at..c]),
                start: at,
                end: c,
            };
            return Ok((read, PlainEnd::Key));
        }
        if t.bytes[c] == b'#' && t.bytes[c - 1] == b' ' {
            i = c;
            break;
        }
        from = c + 1;
    }
    while i > at && t.bytes[i - 1] == b' ' {
        i -= 1;
    }
    let read = Read {
        text: Cow::Borrowed(&t.text[at..i]),
        start: at,
        end: i,
    };
    Ok((read, PlainEnd::Value))
}

/// A plain scalar in a flow collection from `at` (a valid start): up to `,`, `]`, `}` or `: `;
/// any other flow indicator, `:` or `#` in it is declined.
pub(super) fn plain_flow<'a>(t: &Text<'a>, line: &Line, at: usize) -> Result<Read<'a>> {
    let mut i = at;
    while i < line.end {
        match t.bytes[i] {
            b',' | b']' | b'}' => break,
            b':' => {
                ensure(t.byte(line, i + 1) == b' ')?;
                break;
            }
            b'[' | b'{' | b'#' => return Err(Declined),
            _ => i += 1,
        }
    }
    let mut end = i;
    while end > at && t.bytes[end - 1] == b' ' {
        end -= 1;
    }
    ensure(end > at)?;
    Ok(Read {
        text: Cow::Borrowed(&t.text[at..end]),
        start: at,
        end,
    })
}

/// A double-quoted scalar closed on its line, with only the escapes `\\ \" \/ \n \t`.
pub(super) fn double_quoted<'a>(t: &Text<'a>, line: &Line, at: usize) -> Result<Read<'a>> {
    let body = at + 1;
    let mut i = body;
    let mut owned: Option<String> = None;
    let mut copied = body;
    loop {
        ensure(i < line.end)?;
        match t.bytes[i] {
            b'"' => break,
            b'\\' => {
                let escaped = match t.byte(line, i + 1) {
                    b'\\' => '\\',
                    b'"' => '"',
                    b'/' => '/',
                    b'n' => '\n',
                    b't' => '\t',
                    _ => return Err(Declined),
                };
                let text = owned.get_or_insert_with(String::new);
                text.push_str(&t.text[copied..i]);
                text.push(escaped);
                i += 2;
                copied = i;
            }
            _ => i += 1,
        }
    }
    let text = match owned {
        Some(mut text) => {
            text.push_str(&t.text[copied..i]);
            Cow::Owned(text)
        }
        None => Cow::Borrowed(&t.text[body..i]),
    };
    Ok(Read {
        text,
        start: at,
        end: i + 1,
    })
}

/// A single-quoted scalar closed on its line (`''` is a quote).
pub(super) fn single_quoted<'a>(t: &Text<'a>, line: &Line, at: usize) -> Result<Read<'a>> {
    let body = at + 1;
    let close = body + find_single_close(&t.bytes[body..line.end]).ok_or(Declined)?;
    let raw = &t.text[body..close];
    let text = if raw.contains("''") {
        Cow::Owned(raw.replace("''", "'"))
    } else {
        Cow::Borrowed(raw)
    };
    Ok(Read {
        text,
        start: at,
        end: close + 1,
    })
}

/// The closing quote in `bytes`, where a `''` pair is a quote, not the end.
fn find_single_close(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i);
        }
        i += 1;
    }
    None
}

/// A block scalar read: its text, the indentation of its content, where its content starts
/// (on its first line), and the first line after it (`None` at the end of the text).
pub(super) struct Block {
    pub text: String,
    pub literal: bool,
    pub indent: usize,
    pub first: Line,
    /// Where it ends: after the indentation of the first line not in it (blank lines after it are
    /// its own).
    pub end: Marker,
    pub next: Option<Line>,
}

/// A block scalar whose header (`|`, `>`, `|-` or `>-`, nothing after it) is at `at` on `line`,
/// the value of a key indented `parent`. Declined: other headers, leading or whitespace-only
/// lines, and for `>` lines more indented than the first or blank lines between content lines
/// (the folding rules this does not reproduce).
pub(super) fn block(t: &Text<'_>, line: &Line, at: usize, parent: usize) -> Result<Block> {
    let literal = t.bytes[at] == b'|';
    let mut header_end = at + 1;
    let strip = t.byte(line, header_end) == b'-';
    if strip {
        header_end += 1;
    }
    ensure(header_end == line.end)?;
    let first = t.next_line(line)?.ok_or(Declined)?;
    let indent = t.indent(&first);
    ensure(indent > parent && first.start + indent < first.end)?;
    let mut text = String::new();
    let mut blank = 0;
    let mut current = Some(first);
    let mut content_lines = 0;
    let mut last = first;
    while let Some(l) = current {
        let own = t.indent(&l);
        if l.start == l.end {
            blank += 1;
        } else if l.start + own == l.end {
            return Err(Declined);
        } else if own < indent {
            break;
        } else {
            if content_lines > 0 {
                if literal {
                    for _ in 0..=blank {
                        text.push('\n');
                    }
                } else {
                    ensure(blank == 0 && own == indent)?;
                    text.push(' ');
                }
            } else if !literal {
                ensure(own == indent)?;
            }
            text.push_str(&t.text[l.start + indent..l.end]);
            content_lines += 1;
            blank = 0;
        }
        last = l;
        current = t.next_line(&l)?;
    }
    if !strip {
        text.push('\n');
    }
    Ok(Block {
        text,
        literal,
        indent,
        first,
        // granit's scanner has read the next line's indentation before it sees the end.
        end: match &current {
            Some(next) => t.marker(next, next.start + t.indent(next)),
            None => t.after(&last),
        },
        next: current,
    })
}
