//! JSONPath over a response body that was never parsed into a tree: for a path of plain names
//! and indices (`$.data.items[0].id`, most captures), one pass over the bytes with serde, which
//! skips everything off the path without allocating and builds a `Value` only for what the path
//! selects. A parsed 10 MiB body of small values is a tree of about 250 MB (with
//! `arbitrary_precision` every number is a `String`, every small object a map); the bytes are
//! 10 MiB.
//!
//! The pass validates the whole document as `serde_json::from_slice::<Value>` would (the same
//! parser, the same nesting limit: see [`Skip`]), so "the body is not JSON" means the same thing
//! on both paths.

use std::fmt;

use jsonpath_rust::parser::model::{JpQuery, Segment, Selector};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// One step of a plain path.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step<'q> {
    Name(&'q str),
    Index(usize),
}

/// The query as plain steps, when it is one (names and non-negative indices only); `None` for
/// anything else (wildcards, slices, filters, `..`, negative indices), which needs the tree.
pub(super) fn plain_path(query: &JpQuery) -> Option<Vec<Step<'_>>> {
    query
        .segments
        .iter()
        .map(|segment| match segment {
            Segment::Selector(Selector::Name(name)) => Some(Step::Name(name.as_str())),
            Segment::Selector(Selector::Index(index)) => {
                usize::try_from(*index).ok().map(Step::Index)
            }
            Segment::Selector(Selector::Wildcard | Selector::Slice(..) | Selector::Filter(_))
            | Segment::Descendant(_)
            | Segment::Selectors(_) => None,
        })
        .collect()
}

/// What `path` selects in `bytes` (`None`: nothing), or why the bytes are not JSON.
pub(super) fn select(bytes: &[u8], path: &[Step<'_>]) -> Result<Option<Value>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let found = Select { path }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(found)
}

/// Whether `bytes` are JSON as `serde_json::from_slice::<Value>` would have them, building nothing.
pub(super) fn validate(bytes: &[u8]) -> Result<(), serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    Skip.deserialize(&mut deserializer)?;
    deserializer.end()
}

/// Deserialises the value at the rest of the path, skipping everything else.
struct Select<'p, 'q> {
    path: &'p [Step<'q>],
}

impl<'de> DeserializeSeed<'de> for Select<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.path.split_first() {
            None => serde::Deserialize::deserialize(deserializer).map(Some),
            Some((first, rest)) => deserializer.deserialize_any(Visit { first, rest }),
        }
    }
}

struct Visit<'p, 'q> {
    first: &'p Step<'q>,
    rest: &'p [Step<'q>],
}

impl<'de> Visitor<'de> for Visit<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let wanted = match self.first {
            Step::Name(name) => Some(*name),
            Step::Index(_) => None,
        };
        let mut found = None;
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeyIs { wanted, first })? {
            first = false;
            match key {
                // A number under `arbitrary_precision` arrives as a map with a private first key:
                // it selects nothing, as a number does.
                KeyIsResult::Number => {
                    map.next_value_seed(NumberText)?;
                    return Ok(None);
                }
                // A repeated key: the last one wins, as in a parsed `Value`.
                KeyIsResult::Matches => found = map.next_value_seed(Select { path: self.rest })?,
                KeyIsResult::Other => map.next_value_seed(Skip)?,
            }
        }
        Ok(found)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let wanted = match self.first {
            Step::Index(index) => Some(*index),
            Step::Name(_) => None,
        };
        let mut found = None;
        let mut at = 0usize;
        loop {
            if Some(at) == wanted {
                match seq.next_element_seed(Select { path: self.rest })? {
                    Some(value) => found = value,
                    None => break,
                }
            } else if seq.next_element_seed(Skip)?.is_none() {
                break;
            }
            at = at.saturating_add(1);
        }
        Ok(found)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A map key, compared with the wanted name without keeping it.
struct KeyIs<'q> {
    wanted: Option<&'q str>,
    /// Only a first key can make a map a number (as in `Value`).
    first: bool,
}

enum KeyIsResult {
    Matches,
    Other,
    /// serde_json's private key of an `arbitrary_precision` number.
    Number,
}

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = KeyIsResult;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<KeyIsResult, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = KeyIsResult;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an object key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<KeyIsResult, E> {
        Ok(if self.first && key == NUMBER_TOKEN {
            KeyIsResult::Number
        } else if self.wanted == Some(key) {
            KeyIsResult::Matches
        } else {
            KeyIsResult::Other
        })
    }
}

/// The key serde_json's `arbitrary_precision` numbers arrive under (`serde_json::number::TOKEN`,
/// which is private). `Value` reads any map whose first key is this one as a number, and refuses
/// the document when its value is not a number's text; so do [`Skip`] and the passes here.
pub(super) const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Skips one value the way `Value` would read it, building nothing. serde_json's own skipping
/// (`IgnoredAny`) is not that: it has no nesting limit (a document nested deeper than 128 levels,
/// which `Value` refuses, would be read) and does not look at a number's private key.
#[derive(Clone, Copy)]
pub(super) struct Skip;

impl<'de> DeserializeSeed<'de> for Skip {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Skip)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut first = true;
        while let Some(key) = map.next_key_seed(KeyIs {
            wanted: None,
            first,
        })? {
            first = false;
            match key {
                KeyIsResult::Number => return map.next_value_seed(NumberText).map(drop),
                KeyIsResult::Matches | KeyIsResult::Other => map.next_value_seed(Skip)?,
            }
        }
        Ok(())
    }
}

/// The value under a number's private key: a number's text, checked as `Value` checks it.
pub(super) struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = serde_json::Number;

    fn deserialize<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<serde_json::Number, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberText {
    type Value = serde_json::Number;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("string containing a number")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<serde_json::Number, E> {
        text.parse().map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lazy answer and jsonpath-rust's over the parsed tree, for one path.
    fn both(document: &str, path: &str) -> (Option<Value>, Vec<Value>) {
        let query = jsonpath_rust::parser::parse_json_path(path)
            .unwrap_or_else(|error| panic!("{path}: {error}"));
        let steps = plain_path(&query).unwrap_or_else(|| panic!("{path} is not plain"));
        let lazy = select(document.as_bytes(), &steps).unwrap_or_else(|error| panic!("{error}"));
        let tree: Value = serde_json::from_str(document).unwrap_or_default();
        let eager = jsonpath_rust::query::js_path_process(&query, &tree)
            .unwrap_or_default()
            .into_iter()
            .map(|found| found.val().clone())
            .collect();
        (lazy, eager)
    }

    #[test]
    fn plain_paths_select_what_the_tree_query_selects() {
        let document = r#"{"a": {"b": [10, {"c": "x\"y", "n": 12345678901234567890123}, 3.50]},
            "d": 1, "e\u0041": true, "a2": null, "dup": 1, "dup": 2, "s": "not an object"}"#;
        for path in [
            "$.a.b[1].c",
            "$.a.b[1].n",
            "$.a.b[2]",
            "$.a.b[0]",
            "$.a.b[7]",
            "$['eA']",
            "$.a2",
            "$.dup",
            "$.s.x",
            "$.d.x",
            "$.a.b.c",
            "$.missing",
            "$.a",
            "$",
        ] {
            let (lazy, eager) = both(document, path);
            assert_eq!(lazy.into_iter().collect::<Vec<_>>(), eager, "{path}");
        }
    }

    #[test]
    fn only_names_and_indices_are_plain() {
        for path in [
            "$..a",
            "$.a[*]",
            "$.a[-1]",
            "$.a[0:2]",
            "$.a[?@.b == 1]",
            "$['a','b']",
        ] {
            let query = jsonpath_rust::parser::parse_json_path(path)
                .unwrap_or_else(|error| panic!("{path}: {error}"));
            assert!(plain_path(&query).is_none(), "{path}");
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_refused_as_a_parse_would() {
        let path = [Step::Name("a")];
        let deep = format!("{{\"b\": {}1{}}}", "[".repeat(200), "]".repeat(200));
        for text in [
            r#"{"a": 1"#,
            r#"{"a": 1} x"#,
            "",
            "nope",
            r#"{"a": [1,]}"#,
            // Refused by `Value`, in a part the path skips: too deep, or a number that is not.
            &deep,
            r#"{"b": {"$serde_json::private::Number": "x"}, "a": 1}"#,
            r#"{"b": {"$serde_json::private::Number": {}}, "a": 1}"#,
        ] {
            assert!(select(text.as_bytes(), &path).is_err(), "{text}");
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
        }
        assert_eq!(
            select(br#" {"a": [1, 2]} "#, &path).ok().flatten(),
            Some(serde_json::json!([1, 2]))
        );
    }
}
