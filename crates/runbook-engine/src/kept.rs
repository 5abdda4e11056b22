//! What a run's report and journal keep of a step's output: the whole value when it is small, a
//! bounded excerpt when it is large. A 10 MiB response body is parsed once and lives in the run's
//! context (later steps may refer to it); copying it into the report and serialising it into the
//! journal, as runs once did, cost a tree of several hundred megabytes and a 10 MiB journal line
//! per step. The journal names a large output instead of keeping it (`large_outputs`), the way it
//! names a secret one.

use std::io::Write;

use serde_json::Value;

use crate::redact::{Redacted, Redactor};

/// The most of an output's JSON (redacted) a report keeps.
pub const KEPT_BYTES: usize = 64 * 1024;

/// What the report keeps of one output.
#[derive(Debug, Clone, PartialEq)]
pub enum Kept {
    /// It is small: the whole value, redacted.
    Whole(Value),
    /// It is large: the start of its redacted JSON and a note of its size, as a string.
    Excerpt(String),
}

/// The whole value, redacted, when its JSON fits in [`KEPT_BYTES`]; an excerpt otherwise. Nothing
/// the size of the value is allocated: the redacted JSON is written into a bounded buffer, and a
/// string is copied only when it holds a secret.
pub fn keep(value: &Value, redactor: &Redactor) -> Kept {
    // Most outputs are small: find that out by counting (no allocation, stops at the limit), then
    // copy them redacted as before. Masks can make a value a little longer or shorter; the limit
    // is on the value as produced.
    if fits(value) {
        return Kept::Whole(redactor.redact_value(value));
    }
    let mut start = Bounded {
        bytes: Vec::new(),
        limit: KEPT_BYTES,
    };
    let shown = Redacted { value, redactor };
    let _ = serde_json::to_writer(&mut start, &shown);
    let mut size = Counted {
        bytes: 0,
        limit: None,
    };
    let _ = serde_json::to_writer(&mut size, &shown);
    // Cut at a character boundary; every secret was masked before the cut, so no part of one
    // can show.
    let text = match std::str::from_utf8(&start.bytes) {
        Ok(text) => text,
        Err(error) => {
            std::str::from_utf8(start.bytes.get(..error.valid_up_to()).unwrap_or_default())
                .unwrap_or_default()
        }
    };
    Kept::Excerpt(format!(
        "{text}… (excerpt: the whole value is {} bytes of JSON; reports and the journal keep at \
         most {KEPT_BYTES})",
        size.bytes
    ))
}

/// Whether `value`'s JSON fits in [`KEPT_BYTES`], so a report keeps it whole: found out by
/// counting, with no allocation, and stopping at the limit.
pub fn fits(value: &Value) -> bool {
    let mut counted = Counted {
        bytes: 0,
        limit: Some(KEPT_BYTES as u64),
    };
    serde_json::to_writer(&mut counted, value).is_ok()
}

/// A writer that takes at most `limit` bytes, then fails (which ends serialisation early).
struct Bounded {
    bytes: Vec<u8>,
    limit: usize,
}

impl Write for Bounded {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let room = self.limit.saturating_sub(self.bytes.len());
        if data.len() > room {
            self.bytes
                .extend_from_slice(data.get(..room).unwrap_or_default());
            return Err(std::io::Error::other("the excerpt is full"));
        }
        self.bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A writer that only counts, and fails past `limit` when there is one.
struct Counted {
    bytes: u64,
    limit: Option<u64>,
}

impl Write for Counted {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.bytes += data.len() as u64;
        if self.limit.is_some_and(|limit| self.bytes > limit) {
            return Err(std::io::Error::other("over the limit"));
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_value_is_kept_whole_and_redacted() {
        let mut redactor = Redactor::default();
        redactor.add("s3cret-value");
        let value = serde_json::json!({"token": "s3cret-value", "n": 1});
        assert_eq!(
            keep(&value, &redactor),
            Kept::Whole(serde_json::json!({"token": crate::redact::MASK, "n": 1}))
        );
    }

    #[test]
    fn a_large_value_is_cut_after_its_secrets_are_masked() {
        let mut redactor = Redactor::default();
        let secret = "s3cret-value-that-is-long";
        redactor.add(secret);
        // A secret straddles the cut: it must be masked, not shown in part.
        let filler = "x".repeat(KEPT_BYTES - 10);
        let items: Vec<Value> = (0..1000)
            .map(|i| Value::String(format!("{filler}{secret}{i}")))
            .collect();
        let value = Value::Array(items);
        let Kept::Excerpt(text) = keep(&value, &redactor) else {
            panic!(
                "a value of {} bytes was kept whole",
                value.to_string().len()
            );
        };
        assert!(text.len() < KEPT_BYTES + 200, "{}", text.len());
        assert!(!text.contains("s3cret"), "a part of the secret shows");
        let whole = redactor.redact_value(&value).to_string().len();
        assert!(text.contains(&format!("the whole value is {whole} bytes")));
    }

    #[test]
    fn an_excerpt_never_cuts_a_character_in_half() {
        let value = Value::String("é".repeat(KEPT_BYTES));
        let Kept::Excerpt(text) = keep(&value, &Redactor::default()) else {
            panic!("kept whole");
        };
        assert!(text.starts_with("\"éé"));
    }
}
