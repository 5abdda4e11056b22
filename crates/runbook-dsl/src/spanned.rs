//! `Spanned<T>`: a value with the byte span of the YAML node it came from.
//!
//! Our own wrapper, filled by the runbook loader's own deserializer (`crate::yaml`), so the wrapper
//! can be transparent in the JSON Schema and the loader can offer a value again while it looks for
//! more problems in it.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// Where a YAML node starts, as the parser reported it: 1-based line and column, and the byte range
/// when the parser knows it. [`crate::Source::span`] turns it into a byte [`Span`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Loc {
    pub line: u64,
    pub column: u64,
    pub bytes: Option<(u64, u64)>,
}

/// A deserialized value and where it was in the file.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub loc: Loc,
}

impl<T> Spanned<T> {
    pub fn get(&self) -> &T {
        &self.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// The struct name by which [`Spanned`] asks the runbook loader (`crate::yaml`) for a node's
/// location; the loader answers with a mapping of [`LOC`] and [`VALUE`].
pub(crate) const NAME: &str = "$runbook::Spanned";
pub(crate) const LOC: &str = "$loc";
pub(crate) const VALUE: &str = "$value";

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct(NAME, &[LOC, VALUE], SpannedVisitor(PhantomData))
    }
}

struct SpannedVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
    type Value = Spanned<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a value with its location")
    }

    /// The loader offers the value again after a failure while it probes for more problems: the
    /// last outcome counts.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut loc = None;
        let mut outcome = None;
        while let Some(key) = map.next_key::<Key>()? {
            if key == Key::Loc {
                let (line, column, offset, len): (u64, u64, u64, u64) = map.next_value()?;
                loc = Some(Loc {
                    line,
                    column,
                    bytes: Some((offset, len)),
                });
            } else {
                outcome = Some(map.next_value::<T>());
            }
        }
        match outcome {
            Some(Ok(value)) => Ok(Spanned {
                value,
                loc: loc.unwrap_or_default(),
            }),
            Some(Err(error)) => Err(error),
            None => Err(serde::de::Error::missing_field(VALUE)),
        }
    }
}

/// A key the loader offers a [`Spanned`]: read without allocating a `String` for each (two keys per
/// spanned value, on every node of every file: a measurable share of lint's allocations).
#[derive(PartialEq, Eq)]
enum Key {
    Loc,
    Value,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("`$loc` or `$value`")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if key == LOC { Key::Loc } else { Key::Value })
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}
