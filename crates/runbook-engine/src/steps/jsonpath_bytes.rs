//! JSONPath over a response body left as bytes ([`super::lazy_json`]), for every query without a
//! filter: names, indices, wildcards, slices, unions and `..`. Each selected value is its own text
//! in the body (a `&str` slice of it), never a tree: a `$..*` over a 10 MiB body of small values
//! selects more than a million values, and the parsed body alone is a tree of some 200 MB.
//!
//! The answer must be jsonpath_rust's over the parsed tree, value for value and in the same order
//! (`jsonpath_bytes_tests.rs` checks it on generated documents and queries). Its rules, which this
//! follows:
//!
//! - a mapping's members are taken in the parsed tree's order, which is by key (`Map` is a
//!   `BTreeMap`), and a repeated key keeps its last value;
//! - a segment of several selectors (`[0,'a']`) applies each selector to every node in turn, not
//!   each node to every selector;
//! - `..` visits each node and then, in order, each of its children's subtrees (only lists and
//!   mappings: selectors select nothing in a scalar);
//! - a negative index counts from the end; a slice follows `selector.rs`'s `process_slice`;
//! - a mapping whose first key is serde_json's private number key is a number, as in `Value`.
//!
//! The caller validates the document first ([`super::lazy_json::validate`]), as the parse would:
//! the raw reads here neither check nesting depth nor numbers under the private key.

use std::collections::BTreeMap;

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use serde::de::Error as _;

use super::lazy_json::NUMBER_TOKEN;

/// Whether `query` can be answered from the bytes: it has no filter.
pub(super) fn answerable(query: &JpQuery) -> bool {
    query.segments.iter().all(answerable_segment)
}

fn answerable_segment(segment: &Segment) -> bool {
    match segment {
        Segment::Descendant(inner) => answerable_segment(inner),
        Segment::Selector(selector) => answerable_selector(selector),
        Segment::Selectors(selectors) => selectors.iter().all(answerable_selector),
    }
}

fn answerable_selector(selector: &Selector) -> bool {
    match selector {
        Selector::Name(_) | Selector::Wildcard | Selector::Index(_) | Selector::Slice(..) => true,
        Selector::Filter(_) => false,
    }
}

/// Calls `found` with each value `query` selects in the JSON document `bytes`, in order, as its
/// text in the body. `bytes` must have been validated; `query` must be [`answerable`] (a filter
/// selects nothing here).
pub(super) fn select_each<'b>(
    bytes: &'b [u8],
    query: &JpQuery,
    found: &mut dyn FnMut(&'b str),
) -> Result<(), serde_json::Error> {
    let (document, root) = Document::index(bytes)?;
    let Some((last, before)) = query.segments.split_last() else {
        found(document.text(root)?);
        return Ok(());
    };
    let mut nodes = vec![root];
    for segment in before {
        let mut next = Vec::new();
        apply(&document, segment, &nodes, &mut |node| {
            next.push(node);
            Ok(())
        })?;
        nodes = next;
    }
    // The last segment's values go straight to `found`: they are never all held here.
    apply(&document, last, &nodes, &mut |node| {
        found(document.text(node)?);
        Ok(())
    })
}

/// Whether `bytes` are small enough to be read here (offsets are `u32`); larger bodies are
/// queried over the parsed tree.
pub(super) fn indexable(bytes: &[u8]) -> bool {
    u32::try_from(bytes.len()).is_ok()
}

/// A value in the document: where its text starts and ends.
#[derive(Clone, Copy, Debug)]
struct Node {
    start: usize,
    end: usize,
}

/// A validated document, and where each of its lists and mappings closes, found in one pass.
/// Opening a node then reads only its own level and jumps over its children's contents: `..`
/// opens every node, and with each node read whole (as serde reads a `RawValue`), a body nested
/// 120 deep was read 120 times.
struct Document<'b> {
    text: &'b str,
    /// Where each list and mapping opens and closes, in the order they open. As `u32`, half the
    /// memory: a 10 MiB body of small objects has some 350,000 ([`indexable`] bodies only).
    containers: Vec<(u32, u32)>,
}

impl<'b> Document<'b> {
    fn index(bytes: &'b [u8]) -> Result<(Self, Node), serde_json::Error> {
        if !indexable(bytes) {
            return Err(serde_json::Error::custom(
                "a body of 4 GiB or more is not indexed",
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(serde_json::Error::custom)?;
        let b = text.as_bytes();
        // Counted first, then allocated once: grown by doubling, the list would leave its
        // earlier, freed copies in the process's peak.
        let mut count = 0;
        brackets(b, &mut |_, byte| {
            count += usize::from(matches!(byte, b'[' | b'{'));
            Ok(())
        })?;
        let mut containers = Vec::with_capacity(count);
        let mut open = Vec::new();
        brackets(b, &mut |at, byte| {
            if matches!(byte, b'[' | b'{') {
                open.push(containers.len());
                containers.push((at as u32, at as u32));
            } else {
                let opened = open.pop().ok_or_else(not_json)?;
                containers[opened].1 = at as u32;
            }
            Ok(())
        })?;
        #[cfg(test)]
        SCANNED.with(|scanned| scanned.set(scanned.get() + b.len()));
        let start = skip_space(b, 0);
        let end = b.len() - b.iter().rev().take_while(|byte| is_space(**byte)).count();
        if !open.is_empty() || start >= end {
            return Err(not_json());
        }
        Ok((Document { text, containers }, Node { start, end }))
    }

    fn text(&self, node: Node) -> Result<&'b str, serde_json::Error> {
        self.text.get(node.start..node.end).ok_or_else(not_json)
    }

    /// Where the value starting at `at` ends (exclusive).
    fn value_end(&self, at: usize) -> Result<usize, serde_json::Error> {
        let b = self.text.as_bytes();
        let end = match b.get(at) {
            Some(b'"') => string_end(b, at)?,
            Some(b'[' | b'{') => {
                let found = self
                    .containers
                    .binary_search_by_key(&at, |&(open, _)| open as usize);
                let opened = found.map_err(|_| not_json())?;
                return Ok(self.containers[opened].1 as usize + 1);
            }
            Some(_) => {
                let rest = &b[at..];
                let len = rest
                    .iter()
                    .position(|byte| matches!(byte, b',' | b']' | b'}') || is_space(*byte))
                    .unwrap_or(rest.len());
                at + len
            }
            None => return Err(not_json()),
        };
        #[cfg(test)]
        SCANNED.with(|scanned| scanned.set(scanned.get() + (end - at)));
        Ok(end)
    }

    /// Calls `each` with each item of `list`, in order; returns how many there are.
    fn items(&self, list: Node, each: &mut dyn FnMut(Node)) -> Result<usize, serde_json::Error> {
        let b = self.text.as_bytes();
        let mut at = skip_space(b, list.start + 1);
        if b.get(at) == Some(&b']') {
            return Ok(0);
        }
        let mut count = 0;
        loop {
            let end = self.value_end(at)?;
            each(Node { start: at, end });
            count += 1;
            at = skip_space(b, end);
            match b.get(at) {
                Some(b',') => at = skip_space(b, at + 1),
                Some(b']') => return Ok(count),
                _ => return Err(not_json()),
            }
        }
    }

    /// A mapping's members, by key (a repeated key keeps its last value), or that it is a number.
    fn members(&self, mapping: Node) -> Result<Opened, serde_json::Error> {
        let b = self.text.as_bytes();
        let mut members = BTreeMap::new();
        let mut at = skip_space(b, mapping.start + 1);
        if b.get(at) == Some(&b'}') {
            return Ok(Opened::Mapping(members));
        }
        let mut first = true;
        loop {
            let key_end = string_end(b, at)?;
            let key: String = serde_json::from_str(self.text(Node {
                start: at,
                end: key_end,
            })?)?;
            at = skip_space(b, key_end);
            if b.get(at) != Some(&b':') {
                return Err(not_json());
            }
            at = skip_space(b, at + 1);
            let end = self.value_end(at)?;
            if first && key == NUMBER_TOKEN {
                return Ok(Opened::Scalar);
            }
            first = false;
            members.insert(key, Node { start: at, end });
            at = skip_space(b, end);
            match b.get(at) {
                Some(b',') => at = skip_space(b, at + 1),
                Some(b'}') => return Ok(Opened::Mapping(members)),
                _ => return Err(not_json()),
            }
        }
    }

    fn open(&self, node: Node) -> Result<Opened, serde_json::Error> {
        match self.text.as_bytes().get(node.start) {
            Some(b'[') => {
                // Counted first, then allocated once: a list of 293,000 items grown one by one
                // would peak at about three times its size.
                let count = self.items(node, &mut |_| {})?;
                let mut items = Vec::with_capacity(count);
                self.items(node, &mut |item| items.push(item))?;
                Ok(Opened::List(items))
            }
            Some(b'{') => self.members(node),
            _ => Ok(Opened::Scalar),
        }
    }
}

/// Calls `each` with the offset of each bracket outside strings, and the bracket.
fn brackets(
    b: &[u8],
    each: &mut dyn FnMut(usize, u8) -> Result<(), serde_json::Error>,
) -> Result<(), serde_json::Error> {
    let mut at = 0;
    while let Some(&byte) = b.get(at) {
        match byte {
            b'"' => {
                at = string_end(b, at)?;
                continue;
            }
            b'[' | b'{' | b']' | b'}' => each(at, byte)?,
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

/// Where the string starting at `at` ends (after its closing quote).
fn string_end(b: &[u8], at: usize) -> Result<usize, serde_json::Error> {
    if b.get(at) != Some(&b'"') {
        return Err(not_json());
    }
    let mut at = at + 1;
    loop {
        let rest = b.get(at..).ok_or_else(not_json)?;
        match memchr::memchr2(b'"', b'\\', rest) {
            Some(found) if rest[found] == b'"' => return Ok(at + found + 1),
            Some(found) => at += found + 2,
            None => return Err(not_json()),
        }
    }
}

fn is_space(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_space(b: &[u8], at: usize) -> usize {
    at + b.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|byte| is_space(**byte)).count()
    })
}

/// The bytes were validated first, so this means a fault here, reported rather than panicking.
fn not_json() -> serde_json::Error {
    serde_json::Error::custom("the body is not the JSON it was found to be")
}

/// A value opened one level: its children, when it is a list or a mapping.
enum Opened {
    Scalar,
    List(Vec<Node>),
    /// By key; a repeated key keeps its last value.
    Mapping(BTreeMap<String, Node>),
}

impl Opened {
    /// The children, in the tree's order.
    fn children(&self) -> impl Iterator<Item = Node> + '_ {
        let (items, members) = match self {
            Opened::Scalar => (&[][..], None),
            Opened::List(items) => (items.as_slice(), None),
            Opened::Mapping(members) => (&[][..], Some(members.values())),
        };
        items
            .iter()
            .copied()
            .chain(members.into_iter().flatten().copied())
    }
}

/// What the walk calls with each node it selects.
type Found<'f> = dyn FnMut(Node) -> Result<(), serde_json::Error> + 'f;

fn apply(
    document: &Document<'_>,
    segment: &Segment,
    nodes: &[Node],
    found: &mut Found<'_>,
) -> Result<(), serde_json::Error> {
    // A segment of several selectors applies each selector to every node in turn; `..` applies
    // them to every list and mapping under each node.
    let (selectors, descendant) = match segment {
        Segment::Selector(selector) => (std::slice::from_ref(selector), false),
        Segment::Selectors(selectors) => (selectors.as_slice(), false),
        Segment::Descendant(inner) => match inner.as_ref() {
            Segment::Selector(selector) => (std::slice::from_ref(selector), true),
            Segment::Selectors(selectors) => (selectors.as_slice(), true),
            Segment::Descendant(_) => {
                let mut all = Vec::new();
                for node in nodes {
                    descend(document, *node, &mut |node, _| {
                        all.push(node);
                        Ok(())
                    })?;
                }
                return apply(document, inner, &all, found);
            }
        },
    };
    for selector in selectors {
        for node in nodes {
            if descendant {
                descend(document, *node, &mut |_, opened| {
                    select(opened, selector, found)
                })?;
            } else {
                select(&document.open(*node)?, selector, found)?;
            }
        }
    }
    Ok(())
}

/// Calls `visit` with `node` and each list or mapping under it, opened, in `..`'s order.
fn descend(
    document: &Document<'_>,
    node: Node,
    visit: &mut dyn FnMut(Node, &Opened) -> Result<(), serde_json::Error>,
) -> Result<(), serde_json::Error> {
    let opened = document.open(node)?;
    if matches!(opened, Opened::Scalar) {
        return Ok(());
    }
    visit(node, &opened)?;
    for child in opened.children() {
        descend(document, child, visit)?;
    }
    Ok(())
}

fn select(
    opened: &Opened,
    selector: &Selector,
    found: &mut Found<'_>,
) -> Result<(), serde_json::Error> {
    match (selector, opened) {
        (Selector::Name(name), Opened::Mapping(members)) => {
            if let Some(value) = members.get(name.as_str()) {
                found(*value)?;
            }
        }
        (Selector::Wildcard, Opened::List(_) | Opened::Mapping(_)) => {
            for child in opened.children() {
                found(child)?;
            }
        }
        (Selector::Index(index), Opened::List(items)) => {
            let len = items.len() as i64;
            let at = if *index >= 0 { *index } else { len.saturating_add(*index) };
            if (0..len).contains(&at)
                && let Some(item) = items.get(at as usize)
            {
                found(*item)?;
            }
        }
        (Selector::Slice(start, end, step), Opened::List(items)) => {
            for at in slice(items.len() as i64, *start, *end, *step) {
                if let Some(item) = items.get(at) {
                    found(*item)?;
                }
            }
        }
        (Selector::Name(_), Opened::Scalar | Opened::List(_))
        | (Selector::Wildcard, Opened::Scalar)
        | (Selector::Index(_) | Selector::Slice(..), Opened::Scalar | Opened::Mapping(_))
        // Not answerable here: the caller asked [`answerable`] first.
        | (Selector::Filter(_), _) => {}
    }
    Ok(())
}

/// The indices a slice selects in a list of `len`, as jsonpath_rust's `process_slice` computes
/// them (saturating where it would overflow).
fn slice(len: i64, start: Option<i64>, end: Option<i64>, step: Option<i64>) -> Vec<usize> {
    let norm = |i: i64| if i >= 0 { i } else { len.saturating_add(i) };
    let mut indices = Vec::new();
    match step.unwrap_or(1) {
        step if step > 0 => {
            let lower = norm(start.unwrap_or(0)).clamp(0, len);
            let upper = norm(end.unwrap_or(len)).clamp(0, len);
            let mut at = lower;
            while at < upper {
                indices.push(at as usize);
                at = at.saturating_add(step);
            }
        }
        step if step < 0 => {
            let lower = norm(end.unwrap_or(-len - 1)).clamp(-1, len - 1);
            let upper = norm(start.unwrap_or(len - 1)).clamp(-1, len - 1);
            let mut at = upper;
            while lower < at {
                indices.push(at as usize);
                at = at.saturating_add(step);
            }
        }
        _ => {}
    }
    indices
}

#[cfg(test)]
thread_local! {
    /// Bytes of the document read so far on this thread, to show reading is linear.
    static SCANNED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
#[path = "jsonpath_bytes_tests.rs"]
mod tests;
