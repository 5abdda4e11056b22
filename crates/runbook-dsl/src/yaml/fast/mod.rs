//! A fast path for the YAML that runbooks are written in: block mappings and sequences by
//! indentation, one-line flow collections, one-line plain and quoted scalars, `|` and `>` block
//! scalars, comments. It produces granit's own events with granit's own spans, about ten times
//! cheaper than granit (whose scanner was half of lint's time), or declines.
//!
//! It declines, and the file goes through granit as before, on anything it does not read with
//! certainty: anchors, aliases, tags, document markers, directives, multi-line plain or quoted
//! scalars, tabs, unusual escapes or indentation, a byte order mark, a file not ending in a line
//! break, and every syntax error (so every diagnostic is still granit's). The differential tests
//! (`tests.rs`) check that where it answers, it answers exactly what granit does.

mod block;
mod flow;
mod scalar;
#[cfg(test)]
mod tests;
mod text;

use serde_saphyr::granit_parser::{Event, Marker, Span, StructureStyle};

use text::{Line, Text};

/// The fast path does not read this file with certainty: granit must.
#[derive(Debug)]
pub(crate) struct Declined;

type Result<T> = std::result::Result<T, Declined>;

/// Reads `text`, handing each event and its span to `sink` (which returns `false` to stop, and the
/// fast path then declines). On `Err`, the events already handed over must be discarded.
pub(crate) fn parse<'a, F>(text: &'a str, sink: F) -> Result<()>
where
    F: FnMut(Event<'a>, &Span) -> bool,
{
    let mut fast = Fast {
        t: Text::new(text)?,
        sink,
        stack: Vec::new(),
    };
    fast.document()
}

/// An open block collection.
#[derive(Clone, Copy, Debug)]
struct Open {
    map: bool,
    /// A mapping's key column, or a sequence's dash column.
    indent: usize,
    /// A sequence at its parent mapping's own indentation (`key:\n- item`).
    indentless: bool,
}

/// What the previous content line leaves for the next one.
#[derive(Clone, Copy, Debug)]
enum Pending {
    /// No content yet: the next line opens the document.
    Start,
    /// A key with nothing after it: its value is the next line's collection, or null.
    Value { indent: usize, colon: Marker },
    /// A value that ended its line: the next line may not be indented past `limit` (it would
    /// continue a multi-line scalar, or be an error).
    Scalar { limit: usize },
}

/// Where reading goes on after a content line.
enum Next {
    /// The line after it.
    Following,
    /// This line (after a block scalar, which read the lines in between), or the end.
    At(Option<Line>),
}

struct Fast<'a, F> {
    t: Text<'a>,
    sink: F,
    stack: Vec<Open>,
}

impl<'a, F: FnMut(Event<'a>, &Span) -> bool> Fast<'a, F> {
    fn emit(&mut self, event: Event<'a>, span: Span) -> Result<()> {
        if (self.sink)(event, &span) {
            Ok(())
        } else {
            Err(Declined)
        }
    }

    fn document(&mut self) -> Result<()> {
        let start = Marker::new(0, 1, 0).with_byte_offset(Some(0));
        self.emit(Event::StreamStart, Span::empty(start))?;
        let mut pending = Pending::Start;
        let mut current = self.t.first_line()?;
        while let Some(line) = current {
            let bytes = &self.t.bytes[line.start..line.end];
            if bytes.starts_with(b"---") || bytes.starts_with(b"...") {
                return Err(Declined);
            }
            let indent = self.t.indent(&line);
            let at = line.start + indent;
            if at == line.end || self.t.bytes[at] == b'#' {
                current = self.t.next_line(&line)?;
                continue;
            }
            let next;
            (pending, next) = self.content_line(&line, indent, pending)?;
            current = match next {
                Next::Following => self.t.next_line(&line)?,
                Next::At(next) => next,
            };
        }
        let end = self.t.eof();
        match pending {
            Pending::Start => return Err(Declined),
            Pending::Value { colon, .. } => self.null(colon)?,
            Pending::Scalar { .. } => {}
        }
        while let Some(open) = self.stack.pop() {
            self.end(open, end)?;
        }
        self.emit(Event::DocumentEnd, Span::empty(end))?;
        self.emit(Event::StreamEnd, Span::empty(end))
    }

    fn start_document(&mut self, line: &Line, at: usize) -> Result<()> {
        self.emit(
            Event::DocumentStart(false, None),
            Span::empty(self.t.marker(line, at)),
        )
    }

    fn open(&mut self, open: Open, at: Marker) -> Result<()> {
        let event = if open.map {
            Event::MappingStart(StructureStyle::Block, 0, None)
        } else {
            Event::SequenceStart(StructureStyle::Block, 0, None)
        };
        self.stack.push(open);
        self.emit(event, Span::empty(at))
    }

    fn end(&mut self, open: Open, at: Marker) -> Result<()> {
        let event = if open.map {
            Event::MappingEnd
        } else {
            Event::SequenceEnd
        };
        self.emit(event, Span::empty(at))
    }

    /// The null value of a key with nothing after it: granit gives `~`, at the key's colon.
    fn null(&mut self, colon: Marker) -> Result<()> {
        self.emit(
            Event::Scalar(
                std::borrow::Cow::Borrowed("~"),
                serde_saphyr::granit_parser::ScalarStyle::Plain,
                0,
                None,
            ),
            Span::empty(colon),
        )
    }
}
