//! A runbook's text and the byte spans findings point into.

use std::path::{Path, PathBuf};

/// The text of one runbook file, kept so findings can show the offending line.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
}

impl Source {
    /// A leading byte-order mark (some Windows editors write one) is dropped: it is not part of
    /// the YAML, and spans must not point inside it.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let mut text: String = text.into();
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        Self {
            path: path.into(),
            text,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..floor_char_boundary(&self.text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }

    /// The byte span of a parsed node: the parser's byte range when it has one, else the position of
    /// its line and column (an empty span: the caret still points at the right place).
    pub fn span(&self, loc: &crate::spanned::Loc) -> Span {
        let len = self.text.len() as u64;
        match loc.bytes {
            Some((offset, width)) if offset <= len => {
                let end = (offset + width).min(len);
                Span::new(offset as usize, end as usize)
            }
            _ => {
                let start = self.offset_of(loc.line as usize, loc.column as usize);
                Span::new(start, start)
            }
        }
    }

    /// Byte offset of a 1-based line and character column, clamped to the text.
    pub fn offset_of(&self, line: usize, col: usize) -> usize {
        let mut offset = 0;
        for (index, text_line) in self.text.split_inclusive('\n').enumerate() {
            if index + 1 == line {
                let within: usize = text_line
                    .chars()
                    .take(col.saturating_sub(1))
                    .map(char::len_utf8)
                    .sum();
                return offset + within;
            }
            offset += text_line.len();
        }
        self.text.len()
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A byte range in a [`Source`]. `Span::UNKNOWN` is used only for values that come from outside the
/// file (command line, environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const UNKNOWN: Span = Span {
        start: usize::MAX,
        end: usize::MAX,
    };

    pub fn new(start: usize, end: usize) -> Self {
        Self {
            start,
            end: end.max(start),
        }
    }

    pub fn is_known(&self) -> bool {
        self.start != usize::MAX
    }

    /// A sub-range of this span, `start..end` relative to the span's start.
    pub fn sub(&self, start: usize, end: usize) -> Span {
        if !self.is_known() {
            return *self;
        }
        Span::new(self.start + start, self.start + end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let source = Source::new("x.yaml", "a: 1\nb: é x\n");
        assert_eq!(source.line_col(0), (1, 1));
        assert_eq!(source.line_col(5), (2, 1));
        let x = source.text.find('x').unwrap_or_default();
        assert_eq!(source.line_col(x), (2, 6));
        assert_eq!(source.offset_of(2, 6), x);
    }
}
