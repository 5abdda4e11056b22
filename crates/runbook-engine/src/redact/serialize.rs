//! A value serialised with its secrets masked, without copying it first: what a report's excerpt
//! of a large output is written from. [`super::Redactor::redact_value`] copies the whole tree,
//! which for a 10 MiB response of small values is hundreds of megabytes.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::{MASK, Redactor, State};

/// `value` as [`Redactor::redact_value`] would give it, serialised on the fly: every string and
/// key with its secrets masked, a number that is a secret replaced by the mask.
pub struct Redacted<'a> {
    pub value: &'a Value,
    pub redactor: &'a Redactor,
}

impl Serialize for Redacted<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // One lock for the whole value, not one per string.
        let state = self.redactor.ready();
        Masked {
            value: self.value,
            state: &state,
        }
        .serialize(serializer)
    }
}

struct Masked<'a> {
    value: &'a Value,
    state: &'a State,
}

impl Serialize for Masked<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let state = self.state;
        match self.value {
            Value::Null | Value::Bool(_) => self.value.serialize(serializer),
            Value::Number(number) => {
                if state.is_secret_number(number) {
                    serializer.serialize_str(MASK)
                } else {
                    number.serialize(serializer)
                }
            }
            Value::String(text) => serialize_text(text, state, serializer),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Masked { value: item, state })?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, item) in fields {
                    map.serialize_entry(
                        &MaskedText { text: key, state },
                        &Masked { value: item, state },
                    )?;
                }
                map.end()
            }
        }
    }
}

struct MaskedText<'a> {
    text: &'a str,
    state: &'a State,
}

impl Serialize for MaskedText<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_text(self.text, self.state, serializer)
    }
}

/// A string, copied only when it holds a secret.
fn serialize_text<S: Serializer>(
    text: &str,
    state: &State,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if state.finds_secret_in(text) {
        serializer.serialize_str(&state.redact(text))
    } else {
        serializer.serialize_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_exactly_what_redact_value_gives() {
        let mut redactor = Redactor::default();
        redactor.add("s3cret-value");
        redactor.add("123456789");
        let value = serde_json::json!({
            "a": ["token s3cret-value", 1, 123456789, null, true],
            "s3cret-value": {"nested": "x s3cret-value y", "n": 2.5},
            "plain": "nothing here"
        });
        let direct = serde_json::to_string(&Redacted {
            value: &value,
            redactor: &redactor,
        })
        .unwrap_or_default();
        // The same value (a masked key may sort elsewhere in a copy, which re-sorts its keys).
        let reparsed: Value = serde_json::from_str(&direct).unwrap_or_default();
        assert_eq!(reparsed, redactor.redact_value(&value));
        assert!(!direct.contains("s3cret-value") && !direct.contains("123456789"));
        assert!(redactor.finds_secret_in_value(&value));
        assert!(!redactor.finds_secret_in_value(&serde_json::json!({"k": ["v", 12345678]})));
    }
}
