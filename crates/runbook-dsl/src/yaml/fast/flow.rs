//! Flow collections (`[a, b]`, `{k: v}`) that open and close on one line, with scalar keys and
//! no empty entries; anything else is declined.

use serde_saphyr::granit_parser::{Event, ScalarStyle, Span, StructureStyle};

use super::scalar::{Read, double_quoted, plain_flow, plain_start, single_quoted};
use super::text::{Line, ensure};
use super::{Declined, Fast, Result};

/// Deepest nesting of flow collections read here (deeper ones go to granit).
const MAX_FLOW_DEPTH: usize = 16;

impl<'a, F: FnMut(Event<'a>, &Span) -> bool> Fast<'a, F> {
    /// The flow collection opening at `at`; returns the byte after its closing bracket.
    pub(super) fn flow(&mut self, line: &Line, at: usize, depth: usize) -> Result<usize> {
        ensure(depth < MAX_FLOW_DEPTH)?;
        let is_map = self.t.bytes[at] == b'{';
        let close = if is_map { b'}' } else { b']' };
        let start = if is_map {
            Event::MappingStart(StructureStyle::Flow, 0, None)
        } else {
            Event::SequenceStart(StructureStyle::Flow, 0, None)
        };
        self.emit(start, self.t.span(line, at, at + 1))?;
        let mut i = self.t.skip_spaces(line, at + 1);
        if self.t.byte(line, i) != close {
            loop {
                if is_map {
                    let key = self.flow_scalar(line, i)?;
                    ensure(self.t.byte(line, key) == b':' && self.t.byte(line, key + 1) == b' ')?;
                    i = self.t.skip_spaces(line, key + 1);
                }
                i = self.flow_node(line, i, depth)?;
                i = self.t.skip_spaces(line, i);
                match self.t.byte(line, i) {
                    b',' => {
                        i = self.t.skip_spaces(line, i + 1);
                        // A trailing comma, or an empty entry.
                        ensure(!matches!(self.t.byte(line, i), b',' | b']' | b'}'))?;
                    }
                    b if b == close => break,
                    _ => return Err(Declined),
                }
            }
        }
        let end = if is_map {
            Event::MappingEnd
        } else {
            Event::SequenceEnd
        };
        self.emit(end, self.t.span(line, i, i + 1))?;
        Ok(i + 1)
    }

    /// A value in a flow collection: a nested collection or a scalar.
    fn flow_node(&mut self, line: &Line, at: usize, depth: usize) -> Result<usize> {
        match self.t.byte(line, at) {
            b'[' | b'{' => self.flow(line, at, depth + 1),
            _ => self.flow_scalar(line, at),
        }
    }

    /// A scalar in a flow collection; returns the byte after it.
    fn flow_scalar(&mut self, line: &Line, at: usize) -> Result<usize> {
        let (read, style) = match self.t.byte(line, at) {
            b'"' => (double_quoted(&self.t, line, at)?, ScalarStyle::DoubleQuoted),
            b'\'' => (single_quoted(&self.t, line, at)?, ScalarStyle::SingleQuoted),
            _ => {
                ensure(plain_start(&self.t, line, at) && self.t.byte(line, at) != b'-')?;
                (plain_flow(&self.t, line, at)?, ScalarStyle::Plain)
            }
        };
        let Read { text, start, end } = read;
        self.emit(
            Event::Scalar(text, style, 0, None),
            self.t.span(line, start, end),
        )?;
        Ok(end)
    }
}
