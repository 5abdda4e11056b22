//! Block structure: which collections a content line closes, opens or continues, by its
//! indentation, and the key or sequence item it holds.

use serde_saphyr::granit_parser::{Event, ScalarStyle, Span};

use super::scalar::{
    PlainEnd, Read, block, double_quoted, plain_block, plain_start, single_quoted,
};
use super::text::{Line, ensure};
use super::{Declined, Fast, Next, Open, Pending, Result};

impl<'a, F: FnMut(Event<'a>, &Span) -> bool> Fast<'a, F> {
    /// A line with content (not blank, not only a comment), indented `indent`.
    pub(super) fn content_line(
        &mut self,
        line: &Line,
        indent: usize,
        pending: Pending,
    ) -> Result<(Pending, Next)> {
        let at = line.start + indent;
        let dash = self.is_dash(line, at);
        match pending {
            Pending::Start => {
                self.start_document(line, at)?;
                return self.nested(line, at, indent);
            }
            Pending::Value { indent: key, colon } => {
                if indent > key {
                    return self.nested(line, at, indent);
                }
                if indent == key && dash {
                    return self.item(line, at, indent, Some(true));
                }
                self.null(colon)?;
            }
            Pending::Scalar { limit } => ensure(indent <= limit)?,
        }
        while let Some(&top) = self.stack.last() {
            let closes = top.indent > indent || (top.indentless && top.indent == indent && !dash);
            if !closes {
                break;
            }
            self.stack.pop();
            self.end(top, self.t.marker(line, at))?;
        }
        let top = *self.stack.last().ok_or(Declined)?;
        ensure(top.indent == indent && top.map != dash)?;
        if dash {
            self.item(line, at, indent, None)
        } else {
            let key = self.key_at(line, at)?.ok_or(Declined)?;
            self.after_key(line, key, indent)
        }
    }

    /// A collection opened by its first line: a sequence item or a key.
    fn nested(&mut self, line: &Line, at: usize, indent: usize) -> Result<(Pending, Next)> {
        if self.is_dash(line, at) {
            return self.item(line, at, indent, Some(false));
        }
        let key = self.key_at(line, at)?.ok_or(Declined)?;
        let open = Open {
            map: true,
            indent,
            indentless: false,
        };
        self.open(open, self.t.marker(line, at))?;
        self.after_key(line, key, indent)
    }

    /// `-` followed by a space or the line's end.
    fn is_dash(&self, line: &Line, at: usize) -> bool {
        self.t.bytes[at] == b'-' && matches!(self.t.byte(line, at + 1), b' ' | 0)
    }

    /// A sequence item whose dash is at `dash`, in a sequence at `indent` (opening it first when
    /// `opening` is set: `Some(true)` for an indentless one). Its content is on the same line.
    fn item(
        &mut self,
        line: &Line,
        dash: usize,
        indent: usize,
        opening: Option<bool>,
    ) -> Result<(Pending, Next)> {
        let at = self.t.skip_spaces(line, dash + 1);
        ensure(at > dash + 1 && !self.t.at_end(line, at) && !self.is_dash(line, at))?;
        if let Some(indentless) = opening {
            // granit puts an indentless sequence's start at its first item's content.
            let start = if indentless { at } else { dash };
            let open = Open {
                map: false,
                indent,
                indentless,
            };
            self.open(open, self.t.marker(line, start))?;
        }
        if let Some(key) = self.key_at(line, at)? {
            let column = at - line.start;
            let open = Open {
                map: true,
                indent: column,
                indentless: false,
            };
            self.open(open, self.t.marker(line, at))?;
            return self.after_key(line, key, column);
        }
        self.value(line, at)?;
        Ok((Pending::Scalar { limit: indent }, Next::Following))
    }

    /// The key starting at `at`, if the scalar there is followed by `: ` or a `:` ending the line.
    fn key_at(&self, line: &Line, at: usize) -> Result<Option<(Read<'a>, ScalarStyle)>> {
        let t = &self.t;
        let (read, style) = match t.bytes[at] {
            b'"' => (double_quoted(t, line, at)?, ScalarStyle::DoubleQuoted),
            b'\'' => (single_quoted(t, line, at)?, ScalarStyle::SingleQuoted),
            _ => {
                if !plain_start(t, line, at) {
                    return Ok(None);
                }
                return Ok(match plain_block(t, line, at)? {
                    (read, PlainEnd::Key) => Some((read, ScalarStyle::Plain)),
                    (_, PlainEnd::Value) => None,
                });
            }
        };
        let colon =
            t.byte(line, read.end) == b':' && matches!(t.byte(line, read.end + 1), b' ' | 0);
        Ok(colon.then_some((read, style)))
    }

    /// Emits a key of the mapping at `indent`, then its value when on the same line.
    fn after_key(
        &mut self,
        line: &Line,
        (key, style): (Read<'a>, ScalarStyle),
        indent: usize,
    ) -> Result<(Pending, Next)> {
        let colon = key.end;
        let span = self
            .t
            .span(line, key.start, key.end)
            .with_indent(Some(indent));
        self.emit(Event::Scalar(key.text, style, 0, None), span)?;
        let at = self.t.skip_spaces(line, colon + 1);
        if self.t.at_end(line, at) {
            let colon = self.t.marker(line, colon);
            return Ok((Pending::Value { indent, colon }, Next::Following));
        }
        let limit = Pending::Scalar { limit: indent };
        if matches!(self.t.bytes[at], b'|' | b'>') {
            let read = block(&self.t, line, at, indent)?;
            let start = self.t.marker(&read.first, read.first.start + read.indent);
            let style = if read.literal {
                ScalarStyle::Literal
            } else {
                ScalarStyle::Folded
            };
            let span = Span::new(start, read.end).with_indent(Some(read.indent));
            self.emit(Event::Scalar(read.text.into(), style, 0, None), span)?;
            return Ok((limit, Next::At(read.next)));
        }
        self.value(line, at)?;
        Ok((limit, Next::Following))
    }

    /// A value that starts and ends on this line: a flow collection or a scalar.
    fn value(&mut self, line: &Line, at: usize) -> Result<()> {
        let t = &self.t;
        let (read, style) = match t.bytes[at] {
            b'[' | b'{' => {
                let end = self.flow(line, at, 0)?;
                return self.line_ends(line, end);
            }
            b'"' => (double_quoted(t, line, at)?, ScalarStyle::DoubleQuoted),
            b'\'' => (single_quoted(t, line, at)?, ScalarStyle::SingleQuoted),
            _ => {
                ensure(plain_start(t, line, at))?;
                match plain_block(t, line, at)? {
                    (read, PlainEnd::Value) => (read, ScalarStyle::Plain),
                    (_, PlainEnd::Key) => return Err(Declined),
                }
            }
        };
        let end = read.end;
        let span = self.t.span(line, read.start, end);
        self.emit(Event::Scalar(read.text, style, 0, None), span)?;
        self.line_ends(line, end)
    }

    /// Nothing but spaces and a comment may follow a value.
    fn line_ends(&self, line: &Line, end: usize) -> Result<()> {
        let at = self.t.skip_spaces(line, end);
        ensure(self.t.at_end(line, at))
    }
}
