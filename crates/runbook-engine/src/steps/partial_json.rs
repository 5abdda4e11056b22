//! A response body of which templates read only some paths (`{{outputs.body.status}}`,
//! `{{steps.get.outputs.body.data.0.id}}`): one serde pass over the bytes builds a `Value` that
//! holds just those paths, skipping everything else (no allocation: [`Skip`]). A parsed
//! 10 MiB body of small values is a tree of about 250 MB (with `arbitrary_precision` every number
//! is a `String`, every small object a map); the partial tree is the size of what is read.
//!
//! The partial tree must answer every read path exactly as the whole tree would, through the one
//! function that reads outputs ([`crate::render::resolve`]): a segment looks up a key in a
//! mapping and an index (`segment.parse::<usize>()`) in a list, and a miss names the type of what
//! it missed in. So:
//!
//! - at the end of a path the value is built whole (`Value`'s own `Deserialize`): a function or a
//!   comparison that gets it sees what it would have seen;
//! - on the way, a mapping keeps only the keys some path goes on through (a repeated key: the last
//!   one wins, as in `Value`), a list only the items up to the last index some path goes on
//!   through (the ones before it are `null`, never read), and a scalar is kept as it is: a path
//!   that goes on past it fails saying what it is;
//! - where a path ends in `length` alone (`{{length steps.get.outputs.body.data}}`), a list keeps
//!   every item and a mapping every key, so it counts the same, but the items and values no path
//!   goes on through are `null` (a list of 293,000 small objects: 9 MB of `null`s instead of a
//!   200 MB tree); a string is kept whole;
//! - the pass validates the whole document with the same parser and nesting limit as
//!   `serde_json::from_slice::<Value>` ([`Skip`]): bytes that are not JSON are an error here too
//!   (the caller then keeps the body as text, as it always has).
//!
//! A number under `arbitrary_precision` arrives as a one-entry map with serde_json's private key;
//! `Value` treats any map whose first key is that one as a number, and so does this.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::lazy_json::{NUMBER_TOKEN, NumberText, Skip};
use crate::redact::Redactor;
use crate::references::Read;

/// The paths read below one point of the body, as a tree.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct Wanted {
    /// Some path ends here: the value is built whole.
    whole: bool,
    /// Some path ends here in `length`: every item of a list and every key of a mapping is kept
    /// (as `null` where no path goes on through it), so it has the same length.
    length: bool,
    /// Where paths go on, in a mapping: by key.
    names: BTreeMap<String, Wanted>,
    /// Where paths go on, in a list: by every key that reads as an index (`"1"`, `"01"` and `"+1"`
    /// are all item 1), merged.
    indices: BTreeMap<usize, Wanted>,
}

impl Wanted {
    /// The tree of `reads` (paths after the output's name).
    pub(super) fn new<'r>(reads: impl IntoIterator<Item = &'r Read>) -> Self {
        let mut root = Wanted::default();
        for read in reads {
            let mut node = &mut root;
            for segment in &read.path {
                node = node.names.entry(segment.clone()).or_default();
            }
            if read.only_length {
                node.length = true;
            } else {
                node.whole = true;
            }
        }
        root.index();
        root
    }

    /// Whether the whole value is read (a path with no segments).
    pub(super) fn is_whole(&self) -> bool {
        self.whole
    }

    /// Fills `indices` from `names`, bottom up.
    fn index(&mut self) {
        for child in self.names.values_mut() {
            child.index();
        }
        let mut indices: BTreeMap<usize, Wanted> = BTreeMap::new();
        for (name, child) in &self.names {
            if let Ok(index) = name.parse::<usize>() {
                indices.entry(index).or_default().merge(child);
            }
        }
        self.indices = indices;
    }

    fn merge(&mut self, other: &Wanted) {
        self.whole |= other.whole;
        self.length |= other.length;
        for (name, child) in &other.names {
            self.names.entry(name.clone()).or_default().merge(child);
        }
        for (index, child) in &other.indices {
            self.indices.entry(*index).or_default().merge(child);
        }
    }
}

/// The partial tree of `bytes` for `wanted`, or why the bytes are not JSON.
pub(super) fn build(bytes: &[u8], wanted: &Wanted) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let tree = wanted.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(tree)
}

impl<'de> DeserializeSeed<'de> for &Wanted {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.whole {
            serde::Deserialize::deserialize(deserializer)
        } else {
            deserializer.deserialize_any(Part(self))
        }
    }
}

/// Builds the part of one value that `Wanted` goes on through.
struct Part<'w>(&'w Wanted);

impl<'de> Visitor<'de> for Part<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.0.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        // Items up to the last wanted index are kept (the others as `null`: no path reads them),
        // so a wanted item is at its own index; the rest are skipped.
        let last = self.0.indices.keys().next_back().copied();
        let mut at = 0usize;
        while last.is_some_and(|last| at <= last) {
            let item = match self.0.indices.get(&at) {
                Some(wanted) => seq.next_element_seed(wanted)?,
                None => seq.next_element_seed(Skip)?.map(|()| Value::Null),
            };
            let Some(item) = item else {
                return Ok(Value::Array(items));
            };
            items.push(item);
            at = at.saturating_add(1);
        }
        while seq.next_element_seed(Skip)?.is_some() {
            at = at.saturating_add(1);
        }
        if self.0.length {
            // Counted, then allocated once: a list grown item by item would peak at about three
            // times this.
            items.resize(at, Value::Null);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeySeed {
            wanted: self.0,
            first,
        })? {
            first = false;
            match key {
                Key::Number => return map.next_value_seed(NumberText).map(Value::Number),
                Key::Wanted(name, wanted) => {
                    let value = map.next_value_seed(wanted)?;
                    // A repeated key: the last one wins, as in `Value`.
                    fields.insert(name, value);
                }
                Key::Counted(name) => {
                    map.next_value_seed(Skip)?;
                    fields.insert(name, Value::Null);
                }
                Key::Other => map.next_value_seed(Skip)?,
            }
        }
        Ok(Value::Object(fields))
    }
}

/// A map key: one some path goes on through, a number's private key, one only `length` counts,
/// or any other.
enum Key<'w> {
    Wanted(String, &'w Wanted),
    Number,
    Counted(String),
    Other,
}

struct KeySeed<'w> {
    wanted: &'w Wanted,
    /// Only the first key can make the map a number (as in `Value`).
    first: bool,
}

impl<'de, 'w> DeserializeSeed<'de> for KeySeed<'w> {
    type Value = Key<'w>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key<'w>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, 'w> Visitor<'de> for KeySeed<'w> {
    type Value = Key<'w>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key<'w>, E> {
        if self.first && key == NUMBER_TOKEN {
            return Ok(Key::Number);
        }
        Ok(match self.wanted.names.get_key_value(key) {
            Some((name, wanted)) => Key::Wanted(name.clone(), wanted),
            None if self.wanted.length => Key::Counted(key.to_owned()),
            None => Key::Other,
        })
    }
}

/// Whether `redactor` finds a secret in the document `bytes` holds, as
/// [`Redactor::finds_secret_in_value`] would in its parsed tree (keys, strings and numbers), in
/// one pass that builds nothing. Bytes that are not JSON: whatever was found before the error.
pub(super) fn holds_secret(bytes: &[u8], redactor: &Redactor) -> bool {
    if redactor.is_empty() {
        return false;
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    matches!(
        SecretScan { redactor }.deserialize(&mut deserializer),
        Ok(true)
    )
}

#[derive(Clone, Copy)]
struct SecretScan<'r> {
    redactor: &'r Redactor,
}

impl<'de> DeserializeSeed<'de> for SecretScan<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SecretScan<'_> {
    type Value = bool;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<bool, E> {
        Ok(self.redactor.finds_secret_in_value(&Value::from(value)))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<bool, E> {
        Ok(self.redactor.finds_secret_in_value(&Value::from(value)))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<bool, E> {
        Ok(self.redactor.finds_secret_in_value(&Value::from(value)))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<bool, E> {
        Ok(self.redactor.finds_secret_in(value))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<bool, E> {
        Ok(false)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let mut found = false;
        while let Some(here) = seq.next_element_seed(self)? {
            found |= here;
        }
        Ok(found)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let mut found = false;
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if first && key == NUMBER_TOKEN {
                let number = map.next_value_seed(NumberText)?;
                return Ok(self.redactor.finds_secret_in_value(&Value::Number(number)));
            }
            first = false;
            found |= self.redactor.finds_secret_in(&key);
            found |= map.next_value_seed(self)?;
        }
        Ok(found)
    }
}

#[cfg(test)]
#[path = "partial_json_tests.rs"]
mod tests;
