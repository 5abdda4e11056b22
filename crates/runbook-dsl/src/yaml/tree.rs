//! The YAML document as a tree of nodes with byte spans, built from the parser's event stream.
//!
//! Loading goes through this tree rather than straight from the parser into the raw types so that a
//! problem in one place does not hide the others: the typed pass ([`super::de`]) can skip a broken
//! step and go on with the next, which a streaming deserializer cannot do. Building the tree is
//! also where the YAML features a runbook does not use are refused (tags, merge keys, a second
//! document, duplicate keys) and where the safety limits are enforced.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use serde_saphyr::granit_parser::{
    Event, Marker, Parser, ScalarStyle, ScanError, Span as GranitSpan,
};

use crate::finding::{Finding, FindingCode};
use crate::source::{Source, Span};

/// Deepest nesting of sequences and mappings: real runbooks stay under 15.
pub const MAX_DEPTH: usize = 48;
/// Most nodes that aliases may add by expansion, in all: enough for any sane reuse, and a ceiling
/// on "billion laughs" documents, whose aliases multiply.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// One YAML node and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node<'a> {
    pub kind: NodeKind<'a>,
    /// Where the node starts (and, for scalars, ends): what a finding about it points at.
    pub span: Span,
    /// 1-based line and column of `span.start`.
    pub line: u32,
    pub column: u32,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeKind<'a> {
    Scalar {
        text: Cow<'a, str>,
        /// A plain (unquoted, non-block) scalar: only these can be null, booleans or numbers.
        plain: bool,
    },
    Seq(Vec<Node<'a>>),
    Map {
        entries: Vec<Entry<'a>>,
        /// It held a merge key (already reported): nothing built from it can be trusted.
        poisoned: bool,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Entry<'a> {
    pub key: Node<'a>,
    pub value: Node<'a>,
}

impl<'a> Node<'a> {
    /// The text of a scalar node.
    pub fn scalar(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar { text, .. } => Some(text),
            NodeKind::Seq(_) | NodeKind::Map { .. } => None,
        }
    }

    /// The value under a scalar key of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.kind {
            NodeKind::Map { entries, .. } => entries
                .iter()
                .find(|entry| entry.key.scalar() == Some(key))
                .map(|entry| &entry.value),
            NodeKind::Scalar { .. } | NodeKind::Seq(_) => None,
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar { .. } => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            NodeKind::Map { entries, .. } => {
                1 + entries
                    .iter()
                    .map(|e| e.key.size() + e.value.size())
                    .sum::<usize>()
            }
        }
    }
}

/// The document's root node (if it got that far) and every problem found building it. A syntax
/// error or a safety limit stops the build: the root is then `None`.
pub(crate) struct Built<'a> {
    pub root: Option<Node<'a>>,
    pub findings: Vec<Finding>,
}

/// A collection being built.
struct Frame<'a> {
    start: Node<'a>,
    /// A sequence's items.
    items: Vec<Node<'a>>,
    /// A mapping's entries, built in place as each value arrives (no second vector of keys and
    /// values to pair up at the end: that move was a tenth of loading's time).
    entries: Vec<Entry<'a>>,
    /// A mapping's key waiting for its value.
    key: Option<Node<'a>>,
    is_map: bool,
    poisoned: bool,
    anchor: usize,
    /// Scalar keys seen so far, once the mapping has more than [`SMALL_MAP`] entries (a smaller
    /// one is searched directly: most mappings are small, and a set each cost an allocation).
    keys: Option<HashSet<Cow<'a, str>>>,
    /// A duplicate or merge key was just read: skip the value that follows it.
    skip_value: bool,
}

/// Entries of a mapping searched directly for a duplicate key, before a set is built.
const SMALL_MAP: usize = 16;

impl<'a> Frame<'a> {
    /// Whether `key` is already a key of this mapping; remembers it if not.
    fn seen_before(&mut self, key: Cow<'a, str>) -> bool {
        if let Some(keys) = &mut self.keys {
            return !keys.insert(key);
        }
        let keys = self.entries.iter().map(|entry| &entry.key);
        if keys
            .clone()
            .any(|existing| existing.scalar() == Some(key.as_ref()))
        {
            return true;
        }
        if self.entries.len() >= SMALL_MAP {
            let scalars = keys.filter_map(|existing| match &existing.kind {
                NodeKind::Scalar { text, .. } => Some(text.clone()),
                NodeKind::Seq(_) | NodeKind::Map { .. } => None,
            });
            self.keys = Some(scalars.chain(std::iter::once(key)).collect());
        }
        false
    }
}

/// Builds the tree from the fast path's events ([`super::fast`]) when it reads the file, else
/// from granit's. Both give the same events, so the tree and every finding are the same; only
/// granit reports syntax errors.
pub(crate) fn build<'a>(source: &'a Source) -> Built<'a> {
    let mut fast = Builder::new(source);
    let read = super::fast::parse(&source.text, |event, span| {
        matches!(fast.on_event(event, span), Flow::Go)
    });
    // A stop (a safety limit) is declined too: granit's run then reports it, the one way.
    if read.is_ok() {
        return fast.finish(None);
    }
    let mut builder = Builder::new(source);
    let fatal = builder.run();
    builder.finish(fatal)
}

/// Whether the builder goes on after an event.
enum Flow {
    Go,
    /// The build is over: at a second document (`None`), or at a finding that stops the load.
    Stop(Option<Finding>),
}

struct Builder<'a> {
    source: &'a Source,
    findings: Vec<Finding>,
    stack: Vec<Frame<'a>>,
    anchors: HashMap<usize, Node<'a>>,
    alias_nodes: usize,
    documents: usize,
    root: Option<Node<'a>>,
}

impl<'a> Builder<'a> {
    fn new(source: &'a Source) -> Builder<'a> {
        Builder {
            source,
            findings: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_nodes: 0,
            documents: 0,
            root: None,
        }
    }

    fn finish(self, fatal: Option<Finding>) -> Built<'a> {
        let mut findings = self.findings;
        match fatal {
            Some(finding) => {
                findings.push(finding);
                Built {
                    root: None,
                    findings,
                }
            }
            None => Built {
                root: self.root,
                findings,
            },
        }
    }

    /// Runs granit to the end of the first document; returns a finding that stops the load.
    fn run(&mut self) -> Option<Finding> {
        let parser = Parser::new_from_str(&self.source.text);
        for item in parser {
            let (event, span) = match item {
                Ok(item) => item,
                Err(error) => return Some(self.syntax_error(&error)),
            };
            if let Flow::Stop(fatal) = self.on_event(event, &span) {
                return fatal;
            }
        }
        None
    }

    /// Adds one event of the parser (granit or the fast path) to the tree.
    fn on_event(&mut self, event: Event<'a>, span: &GranitSpan) -> Flow {
        let at = self.span(span.start, span.end);
        let (line, column) = (span.start.line() as u32, span.start.col() as u32 + 1);
        let node = |kind| Node {
            kind,
            span: at,
            line,
            column,
        };
        match event {
            Event::DocumentStart(..) => {
                self.documents += 1;
                if self.documents > 1 {
                    self.findings.push(
                        Finding::error(
                            FindingCode::YamlSyntax,
                            at,
                            "a second YAML document: a runbook file holds exactly one",
                        )
                        .with_label("a new document starts here")
                        .with_help("put each runbook in its own file, and remove this `---`"),
                    );
                    return Flow::Stop(None);
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                if tag.is_some() {
                    self.report_tag(at);
                }
                let plain = matches!(style, ScalarStyle::Plain);
                let scalar = node(NodeKind::Scalar { text, plain });
                if anchor != 0 {
                    self.anchors.insert(anchor, scalar.clone());
                }
                if let Some(finding) = self.push(scalar) {
                    return Flow::Stop(Some(finding));
                }
            }
            Event::SequenceStart(_, anchor, ref tag) | Event::MappingStart(_, anchor, ref tag) => {
                if tag.is_some() {
                    self.report_tag(at);
                }
                if self.stack.len() >= MAX_DEPTH {
                    return Flow::Stop(Some(limit_exceeded(at)));
                }
                let is_map = matches!(event, Event::MappingStart(..));
                self.stack.push(Frame {
                    start: node(NodeKind::Seq(Vec::new())),
                    items: Vec::new(),
                    entries: Vec::new(),
                    key: None,
                    is_map,
                    poisoned: false,
                    anchor,
                    keys: None,
                    skip_value: false,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Flow::Go;
                };
                let mut done = frame.start;
                // A key still waiting for its value (never, from a well-formed event stream)
                // is dropped, as an unpaired key always was.
                done.kind = if frame.is_map {
                    NodeKind::Map {
                        entries: frame.entries,
                        poisoned: frame.poisoned,
                    }
                } else {
                    NodeKind::Seq(frame.items)
                };
                if frame.anchor != 0 {
                    self.anchors.insert(frame.anchor, done.clone());
                }
                if let Some(finding) = self.push(done) {
                    return Flow::Stop(Some(finding));
                }
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id) else {
                    // An alias to a collection still open (recursive): no value, but keep
                    // keys and values paired.
                    let null = node(NodeKind::Scalar {
                        text: Cow::Borrowed(""),
                        plain: true,
                    });
                    if let Some(finding) = self.push(null) {
                        return Flow::Stop(Some(finding));
                    }
                    return Flow::Go;
                };
                self.alias_nodes += target.size();
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Flow::Stop(Some(limit_exceeded(at)));
                }
                let copy = target.clone();
                if let Some(finding) = self.push(copy) {
                    return Flow::Stop(Some(finding));
                }
            }
            Event::DocumentEnd | Event::StreamStart | Event::StreamEnd => {}
            // `Event` is non-exhaustive; anchors, unresolved aliases and comments are not
            // emitted with the default options and carry no data.
            Event::Anchor(..) | Event::UnresolvedAlias(_) | _ => {}
        }
        Flow::Go
    }

    /// Adds a finished node to the collection being built, or makes it the root.
    fn push(&mut self, node: Node<'a>) -> Option<Finding> {
        let Some(frame) = self.stack.last_mut() else {
            self.root = Some(node);
            return None;
        };
        if !frame.is_map {
            frame.items.push(node);
            return None;
        }
        if frame.skip_value {
            // The value of a duplicate or merge key: reported with its key, then dropped with it.
            frame.skip_value = false;
            return None;
        }
        if let Some(key) = frame.key.take() {
            frame.entries.push(Entry { key, value: node });
            return None;
        }
        if let NodeKind::Scalar { text, plain } = &node.kind {
            if *plain && text == "<<" {
                frame.poisoned = true;
                frame.skip_value = true;
                self.findings.push(
                    Finding::error(
                        FindingCode::YamlSyntax,
                        node.span,
                        "YAML merge keys (`<<`) are not supported in runbooks",
                    )
                    .with_label("a merge key")
                    .with_help(
                        "write the fields out in full: a step should read the same wherever it is",
                    ),
                );
                return None;
            }
            if frame.seen_before(text.clone()) {
                frame.skip_value = true;
                self.findings.push(
                    Finding::error(
                        FindingCode::DuplicateKey,
                        node.span,
                        format!("duplicate key `{text}`"),
                    )
                    .with_label("already set above")
                    .with_help("each key may appear once in a mapping; remove one of them"),
                );
                return None;
            }
        }
        frame.key = Some(node);
        None
    }

    fn report_tag(&mut self, at: Span) {
        self.findings.push(
            Finding::error(
                FindingCode::YamlSyntax,
                at,
                "YAML tags are not supported in runbooks",
            )
            .with_label("a tagged value")
            .with_help(
                "remove the tag (`!!binary`, `!!str`, `!custom`, ...) and write the value as \
                 plain YAML; quote it to make it text",
            ),
        );
    }

    fn span(&self, start: Marker, end: Marker) -> Span {
        let offset = |marker: Marker| {
            marker.byte_offset().unwrap_or_else(|| {
                self.source
                    .offset_of(marker.line(), marker.col().saturating_add(1))
            })
        };
        let start = offset(start).min(self.source.text.len());
        let end = offset(end).max(start).min(self.source.text.len());
        Span::new(start, end)
    }

    fn syntax_error(&self, error: &ScanError) -> Finding {
        let marker = *error.marker();
        let at = self.span(marker, marker);
        let finding = super::classify::syntax_finding(&error.info(), at);
        let line_start = self.source.text[..at.start]
            .rfind('\n')
            .map_or(0, |i| i + 1);
        let line_end = self.source.text[at.start..]
            .find('\n')
            .map_or(self.source.text.len(), |i| at.start + i);
        let line = &self.source.text[line_start..line_end];
        if super::classify::has_unquoted_template(line) {
            finding.with_help(super::classify::QUOTE_TEMPLATE)
        } else {
            finding
        }
    }
}

fn limit_exceeded(at: Span) -> Finding {
    Finding::error(
        FindingCode::YamlSyntax,
        at,
        format!(
            "the file exceeds a YAML safety limit (nesting deeper than {MAX_DEPTH}, or aliases \
             expanding to more than {MAX_ALIAS_NODES} nodes)"
        ),
    )
    .with_label("stopped here")
    .with_help("runbooks never need this much; a file that does is malformed or hostile")
}
