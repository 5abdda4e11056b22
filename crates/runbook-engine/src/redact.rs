//! Secret redaction: every string that leaves the engine passes through here.

use serde_json::Value;

/// What a secret is replaced with.
pub const MASK: &str = "********";

/// The set of secret values known to this run.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl Redactor {
    /// Registers a secret value, and the forms it takes when it is JSON-escaped or percent-encoded
    /// (a secret in a JSON message or a URL must not slip through). Empty values are ignored.
    pub fn add(&mut self, secret: &str) {
        if secret.is_empty() {
            return;
        }
        let json = serde_json::to_string(secret).unwrap_or_default();
        let json = json.trim_matches('"').to_owned();
        let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let path_encoded = encoded.replace('+', "%20");
        for form in [secret.to_owned(), json, encoded, path_encoded] {
            if !form.is_empty() && !self.secrets.contains(&form) {
                self.secrets.push(form);
            }
        }
        // Longest first, so a secret that contains another is masked whole.
        self.secrets
            .sort_by_key(|known| std::cmp::Reverse(known.len()));
    }

    /// Registers every string inside a value.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(text) => self.add(text),
            Value::Array(items) => items.iter().for_each(|item| self.add_value(item)),
            Value::Object(fields) => fields.values().for_each(|item| self.add_value(item)),
            Value::Number(number) => self.add(&number.to_string()),
            Value::Bool(_) | Value::Null => {}
        }
    }

    /// Adds every secret another redactor knows.
    pub fn merge(&mut self, other: &Redactor) {
        for secret in &other.secrets {
            self.add(secret);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every secret replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
        out
    }

    /// A copy of `value` with every string redacted.
    pub fn redact_value(&self, value: &Value) -> Value {
        if self.secrets.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(text) => Value::String(self.redact(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.redact_value(v)).collect())
            }
            Value::Object(fields) => Value::Object(
                fields
                    .iter()
                    .map(|(key, v)| (self.redact(key), self.redact_value(v)))
                    .collect(),
            ),
            Value::Number(number) if self.secrets.contains(&number.to_string()) => {
                Value::String(MASK.to_owned())
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => value.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let mut redactor = Redactor::default();
        redactor.add("abc");
        redactor.add("abcdef");
        assert_eq!(
            redactor.redact("x abcdef y abc"),
            format!("x {MASK} y {MASK}")
        );
    }

    #[test]
    fn masks_escaped_and_encoded_forms() {
        let mut redactor = Redactor::default();
        redactor.add("p@ss word\"x");
        assert_eq!(
            redactor.redact("/hooks/p%40ss%20word%22x"),
            format!("/hooks/{MASK}")
        );
        assert_eq!(
            redactor.redact(r#"{"v":"p@ss word\"x"}"#),
            format!(r#"{{"v":"{MASK}"}}"#)
        );
    }

    #[test]
    fn masks_inside_values() {
        let mut redactor = Redactor::default();
        redactor.add("s3cret");
        let value = serde_json::json!({"a": ["token s3cret"], "s3cret": 1});
        let redacted = redactor.redact_value(&value).to_string();
        assert!(!redacted.contains("s3cret"), "{redacted}");
    }
}
