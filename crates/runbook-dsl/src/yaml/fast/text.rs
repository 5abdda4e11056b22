//! Lines of the source and granit's markers for positions in them.
//!
//! A granit [`Marker`] holds a character index, a 1-based line, a 0-based column in characters
//! and the byte offset. The fast path works on bytes; this module turns a byte position into the
//! same marker granit would give, counting characters only on lines that are not ASCII.

use serde_saphyr::granit_parser::{Marker, Span};

use super::{Declined, Result};

/// A non-ASCII line longer than this is declined: its columns are counted from the line's start
/// for every marker, which must stay cheap (real runbooks' lines are short).
const MAX_NON_ASCII_LINE: usize = 1024;

/// The source, checked for what the fast path never handles (see [`Text::new`]).
pub(super) struct Text<'a> {
    pub text: &'a str,
    pub bytes: &'a [u8],
    ascii: bool,
}

/// One line: `start..end` are its bytes without the line break (every line has one).
#[derive(Clone, Copy, Debug)]
pub(super) struct Line {
    pub start: usize,
    pub end: usize,
    /// 1-based.
    pub number: usize,
    /// Characters before `start`.
    pub chars: usize,
}

impl<'a> Text<'a> {
    /// Declines a text granit might read differently from the plain reading of its lines: one not
    /// ending in a line break, or holding a tab, a carriage return, another control character, a
    /// byte order mark, a non-ASCII line break (NEL, LS, PS) or a non-character.
    pub fn new(text: &'a str) -> Result<Text<'a>> {
        let bytes = text.as_bytes();
        if bytes.last() != Some(&b'\n') {
            return Err(Declined);
        }
        // Without an early exit the compiler vectorizes this: a fraction of an instruction a byte.
        let control = bytes.iter().fold(false, |seen, &b| {
            seen | ((b < 0x20) & (b != b'\n')) | (b == 0x7f)
        });
        if control {
            return Err(Declined);
        }
        let ascii = text.is_ascii();
        if !ascii
            && text.chars().any(|c| {
                matches!(
                    c,
                    '\u{80}'
                        ..='\u{9f}'
                            | '\u{2028}'
                            | '\u{2029}'
                            | '\u{feff}'
                            | '\u{fffe}'
                            | '\u{ffff}'
                )
            })
        {
            return Err(Declined);
        }
        Ok(Text { text, bytes, ascii })
    }

    /// The line starting at `start` (which follows a line break, or is 0), or `None` at the end.
    fn line_from(&self, start: usize, number: usize, chars: usize) -> Result<Option<Line>> {
        if start >= self.bytes.len() {
            return Ok(None);
        }
        let end = match memchr::memchr(b'\n', &self.bytes[start..]) {
            Some(at) => start + at,
            None => return Err(Declined),
        };
        if !self.ascii && end - start > MAX_NON_ASCII_LINE && !self.text[start..end].is_ascii() {
            return Err(Declined);
        }
        Ok(Some(Line {
            start,
            end,
            number,
            chars,
        }))
    }

    pub fn first_line(&self) -> Result<Option<Line>> {
        self.line_from(0, 1, 0)
    }

    pub fn next_line(&self, line: &Line) -> Result<Option<Line>> {
        let chars = line.chars + self.chars_in(line.start, line.end) + 1;
        self.line_from(line.end + 1, line.number + 1, chars)
    }

    fn chars_in(&self, start: usize, end: usize) -> usize {
        if self.ascii {
            end - start
        } else {
            self.text[start..end].chars().count()
        }
    }

    /// The marker of byte `at` of `line` (`line.start <= at <= line.end`).
    pub fn marker(&self, line: &Line, at: usize) -> Marker {
        let column = self.chars_in(line.start, at);
        Marker::new(line.chars + column, line.number, column).with_byte_offset(Some(at))
    }

    /// The marker of the start of the line after `line`, or of the end of the text.
    pub fn after(&self, line: &Line) -> Marker {
        let chars = line.chars + self.chars_in(line.start, line.end) + 1;
        Marker::new(chars, line.number + 1, 0).with_byte_offset(Some(line.end + 1))
    }

    /// The marker of the end of the text.
    pub fn eof(&self) -> Marker {
        let lines = self.bytes.iter().filter(|&&b| b == b'\n').count();
        let chars = if self.ascii {
            self.bytes.len()
        } else {
            self.text.chars().count()
        };
        Marker::new(chars, lines + 1, 0).with_byte_offset(Some(self.bytes.len()))
    }

    /// The span of `start..end`, both on `line`.
    pub fn span(&self, line: &Line, start: usize, end: usize) -> Span {
        Span::new(self.marker(line, start), self.marker(line, end))
    }

    /// Leading spaces of `line`.
    pub fn indent(&self, line: &Line) -> usize {
        self.bytes[line.start..line.end]
            .iter()
            .position(|&b| b != b' ')
            .unwrap_or(line.end - line.start)
    }

    /// The first byte at or after `at` on `line` that is not a space.
    pub fn skip_spaces(&self, line: &Line, mut at: usize) -> usize {
        while at < line.end && self.bytes[at] == b' ' {
            at += 1;
        }
        at
    }

    /// Whether `at` on `line` ends the content: the line's end, or a comment after a space.
    pub fn at_end(&self, line: &Line, at: usize) -> bool {
        at == line.end || (self.bytes[at] == b'#' && at > line.start && self.bytes[at - 1] == b' ')
    }

    /// The byte at `at`, or 0 past the line's end.
    pub fn byte(&self, line: &Line, at: usize) -> u8 {
        if at < line.end { self.bytes[at] } else { 0 }
    }
}

/// Declines unless `ok`.
pub(super) fn ensure(ok: bool) -> Result<()> {
    if ok { Ok(()) } else { Err(Declined) }
}
