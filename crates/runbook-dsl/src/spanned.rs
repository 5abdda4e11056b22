//! `Spanned<T>`: a value with the byte span of the YAML node it came from.
//!
//! Our own wrapper rather than `serde_saphyr::Spanned` directly, so the YAML crate (whose releases move
//! fast) appears in one module only, and so the wrapper can be transparent in the JSON Schema.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator};
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

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let inner = serde_saphyr::Spanned::<T>::deserialize(deserializer)?;
        let location = inner.referenced;
        let span = location.span();
        let bytes = match (span.byte_offset(), span.byte_len()) {
            (Some(offset), Some(len)) if offset != u64::from(u32::MAX) => Some((offset, len)),
            _ => None,
        };
        Ok(Spanned {
            value: inner.value,
            loc: Loc {
                line: location.line(),
                column: location.column(),
                bytes,
            },
        })
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
