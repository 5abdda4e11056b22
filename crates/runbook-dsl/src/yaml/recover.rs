//! Where loading goes on past a broken part: step lists and `inputs:`.
//!
//! Used by the raw types as `#[serde(deserialize_with = ...)]`, so the fields keep their plain types
//! (`Vec<Spanned<RawStep>>`) and the raw structs stay the one definition of the shape. Under the
//! runbook loader a broken element is reported and left out; under any other deserializer these
//! read the list or map as usual and stop at the first error.

use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use indexmap::IndexMap;
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Newtype names by which these functions ask the loader to recover (see `super::de`).
pub(crate) const STEPS: &str = "$runbook::recover::steps";
pub(crate) const INPUTS: &str = "$runbook::recover::inputs";

/// A step list whose broken steps are left out.
pub(crate) fn steps<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_newtype_struct(STEPS, ListVisitor(PhantomData))
}

/// A mapping (`inputs:`) whose broken entries are left out.
pub(crate) fn inputs<'de, D, K, V>(deserializer: D) -> Result<IndexMap<K, V>, D::Error>
where
    D: Deserializer<'de>,
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    deserializer.deserialize_newtype_struct(INPUTS, MapVisitor(PhantomData))
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }

    /// Another deserializer: an ordinary list.
    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Vec<T>, D::Error> {
        Vec::deserialize(d)
    }

    /// The loader: an element that fails is already reported and its place is skipped; the
    /// loader's access always moves past it, and `size_hint` bounds the loop for any other.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        let mut failures_left = seq.size_hint().unwrap_or(0);
        loop {
            match seq.next_element() {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(items),
                Err(error) if failures_left == 0 => return Err(error),
                Err(_) => failures_left -= 1,
            }
        }
    }
}

struct MapVisitor<K, V>(PhantomData<(K, V)>);

impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
where
    K: Deserialize<'de> + Hash + Eq,
    V: Deserialize<'de>,
{
    type Value = IndexMap<K, V>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        IndexMap::deserialize(d)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = IndexMap::new();
        while let Some(key) = map.next_key::<K>()? {
            // A value that fails is reported by the loader, which also notes the key as left out.
            if let Ok(value) = map.next_value::<V>() {
                entries.insert(key, value);
            }
        }
        Ok(entries)
    }
}
