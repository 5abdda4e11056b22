//! JSONPath over a response body left as bytes ([`super::lazy_json`]), for every query without a
//! filter: names, indices, wildcards, slices, unions and `..`. Each selected value is its own text
//! in the body (a `&RawValue`), never a tree: a `$..*` over a 10 MiB body of small values selects
//! more than a million values, and the parsed body alone is a tree of some 200 MB.
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
use std::fmt;

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

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

/// Calls `found` with each value `query` selects in the JSON document `bytes`, in order. `bytes`
/// must have been validated; `query` must be [`answerable`] (a filter selects nothing here).
pub(super) fn select_each<'b>(
    bytes: &'b [u8],
    query: &JpQuery,
    found: &mut dyn FnMut(&'b RawValue),
) -> Result<(), serde_json::Error> {
    let root: &RawValue = serde_json::from_slice(bytes)?;
    let Some((last, before)) = query.segments.split_last() else {
        found(root);
        return Ok(());
    };
    let mut nodes = vec![root];
    for segment in before {
        let mut next = Vec::new();
        apply(segment, &nodes, &mut |node| next.push(node))?;
        nodes = next;
    }
    // The last segment's values go straight to `found`: they are never all held here.
    apply(last, &nodes, found)
}

/// A value opened one level: its children, when it is a list or a mapping.
enum Opened<'b> {
    Scalar,
    List(Vec<&'b RawValue>),
    /// By key; a repeated key keeps its last value.
    Mapping(BTreeMap<String, &'b RawValue>),
}

impl<'b> Opened<'b> {
    fn open(raw: &'b RawValue) -> Result<Self, serde_json::Error> {
        let text = raw.get();
        #[cfg(test)]
        SCANNED.with(|scanned| scanned.set(scanned.get() + text.len()));
        match text.as_bytes().first() {
            Some(b'[') => {
                // Counted first, then allocated once: a list of 293,000 items grown one by one
                // would peak at about three times its size.
                let count = serde_json::Deserializer::from_str(text).deserialize_seq(Count)?;
                serde_json::Deserializer::from_str(text)
                    .deserialize_seq(Items(count))
                    .map(Opened::List)
            }
            Some(b'{') => serde_json::Deserializer::from_str(text).deserialize_map(Members),
            _ => Ok(Opened::Scalar),
        }
    }

    /// The children, in the tree's order.
    fn children(&self) -> impl Iterator<Item = &'b RawValue> + '_ {
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

/// Counts a list's items.
struct Count;

impl<'de> Visitor<'de> for Count {
    type Value = usize;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut count = 0;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok(count)
    }
}

/// Reads a list's items as raw values, into a list of the capacity given.
struct Items(usize);

impl<'de> Visitor<'de> for Items {
    type Value = Vec<&'de RawValue>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(self.0);
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            items.push(item);
        }
        Ok(items)
    }
}

/// Reads a mapping's members as raw values (or finds it is a number).
struct Members;

impl<'de> Visitor<'de> for Members {
    type Value = Opened<'de>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Opened<'de>, A::Error> {
        let mut members = BTreeMap::new();
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if first && key == NUMBER_TOKEN {
                map.next_value::<IgnoredAny>()?;
                return Ok(Opened::Scalar);
            }
            first = false;
            let value: &'de RawValue = map.next_value()?;
            members.insert(key, value);
        }
        Ok(Opened::Mapping(members))
    }
}

fn apply<'b>(
    segment: &Segment,
    nodes: &[&'b RawValue],
    found: &mut dyn FnMut(&'b RawValue),
) -> Result<(), serde_json::Error> {
    match segment {
        Segment::Selector(selector) => {
            for node in nodes {
                select(&Opened::open(node)?, selector, found);
            }
        }
        Segment::Selectors(selectors) => {
            for selector in selectors {
                for node in nodes {
                    select(&Opened::open(node)?, selector, found);
                }
            }
        }
        Segment::Descendant(inner) => match inner.as_ref() {
            Segment::Selector(selector) => {
                for node in nodes {
                    descend(node, &mut |opened| select(opened, selector, found))?;
                }
            }
            Segment::Selectors(selectors) => {
                for selector in selectors {
                    for node in nodes {
                        descend(node, &mut |opened| select(opened, selector, found))?;
                    }
                }
            }
            Segment::Descendant(_) => {
                let mut all = Vec::new();
                for node in nodes {
                    descend_raw(node, &mut all)?;
                }
                apply(inner, &all, found)?;
            }
        },
    }
    Ok(())
}

/// Calls `visit` with `node` and each list or mapping under it, opened, in `..`'s order.
fn descend<'b>(
    node: &'b RawValue,
    visit: &mut dyn FnMut(&Opened<'b>),
) -> Result<(), serde_json::Error> {
    let opened = Opened::open(node)?;
    if matches!(opened, Opened::Scalar) {
        return Ok(());
    }
    visit(&opened);
    for child in opened.children() {
        descend(child, visit)?;
    }
    Ok(())
}

/// [`descend`], collecting the nodes.
fn descend_raw<'b>(
    node: &'b RawValue,
    all: &mut Vec<&'b RawValue>,
) -> Result<(), serde_json::Error> {
    let opened = Opened::open(node)?;
    if matches!(opened, Opened::Scalar) {
        return Ok(());
    }
    all.push(node);
    for child in opened.children() {
        descend_raw(child, all)?;
    }
    Ok(())
}

fn select<'b>(opened: &Opened<'b>, selector: &Selector, found: &mut dyn FnMut(&'b RawValue)) {
    match (selector, opened) {
        (Selector::Name(name), Opened::Mapping(members)) => {
            if let Some(value) = members.get(name.as_str()) {
                found(value);
            }
        }
        (Selector::Wildcard, Opened::List(_) | Opened::Mapping(_)) => {
            for child in opened.children() {
                found(child);
            }
        }
        (Selector::Index(index), Opened::List(items)) => {
            let len = items.len() as i64;
            let at = if *index >= 0 { *index } else { len.saturating_add(*index) };
            if (0..len).contains(&at)
                && let Some(item) = items.get(at as usize)
            {
                found(item);
            }
        }
        (Selector::Slice(start, end, step), Opened::List(items)) => {
            for at in slice(items.len() as i64, *start, *end, *step) {
                if let Some(item) = items.get(at) {
                    found(item);
                }
            }
        }
        (Selector::Name(_), Opened::Scalar | Opened::List(_))
        | (Selector::Wildcard, Opened::Scalar)
        | (Selector::Index(_) | Selector::Slice(..), Opened::Scalar | Opened::Mapping(_))
        // Not answerable here: the caller asked [`answerable`] first.
        | (Selector::Filter(_), _) => {}
    }
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
