//! A runbook's text and the byte spans findings point into.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The text of one runbook file, kept so findings can show the offending line.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of each line's start, built on first use: positions are looked up once per
    /// finding, and a scan from the top each time made many findings in a big file quadratic.
    line_starts: OnceLock<Vec<usize>>,
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
            line_starts: OnceLock::new(),
        }
    }

    fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(memchr::memchr_iter(b'\n', self.text.as_bytes()).map(|at| at + 1))
                .collect()
        })
    }

    /// The byte range of the line holding `offset` (without its line break).
    pub fn line_span(&self, offset: usize) -> Span {
        let offset = offset.min(self.text.len());
        let starts = self.line_starts();
        let index = starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1);
        let start = starts.get(index).copied().unwrap_or(0);
        let end = starts
            .get(index + 1)
            .map_or(self.text.len(), |next| next.saturating_sub(1));
        Span::new(start, end.max(start))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(&self.text, offset.min(self.text.len()));
        let starts = self.line_starts();
        let index = starts
            .partition_point(|start| *start <= offset)
            .saturating_sub(1);
        let line_start = starts.get(index).copied().unwrap_or(0).min(offset);
        let col = self.text[line_start..offset].chars().count() + 1;
        (index + 1, col)
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
        let starts = self.line_starts();
        let Some(start) = line.checked_sub(1).and_then(|index| starts.get(index)) else {
            return self.text.len();
        };
        let within: usize = self.text[*start..]
            .chars()
            .take_while(|c| *c != '\n')
            .take(col.saturating_sub(1))
            .map(char::len_utf8)
            .sum();
        start + within
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
        assert_eq!(source.offset_of(9, 1), source.text.len());
        assert_eq!(source.line_col(source.text.len()), (3, 1));
        let line = source.line_span(x);
        assert_eq!(&source.text[line.start..line.end], "b: é x");
    }
}
