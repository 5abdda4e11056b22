//! The start of a JSON document's text as serde_json writes it (compact, every string decoded and
//! escaped the one way serde_json escapes), read from the bytes without building the document,
//! then masked. A report shows such excerpts for a body left as bytes and for a list capture no
//! template reads. The body's own text may escape a secret in a way the redactor has no form for
//! (.NET writes `+` as `\u002B`, PHP writes `/` as `\/`); the parsed tree decodes its strings, so
//! the secret is masked there, and here too once the text is written the one way.
//!
//! Members stay in the body's order (a repeated key too): an excerpt shows the text, it does not
//! claim to be the parsed value.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::lazy_json::{NUMBER_TOKEN, NumberText};
use crate::redact::Redactor;

/// The start of `bytes`' JSON, masked by `secrets`, about `limit` bytes of it (a mask is never
/// cut), and whether anything was left off; `None` when the bytes are not JSON.
pub(super) fn masked_start(
    bytes: &[u8],
    secrets: &Redactor,
    limit: usize,
) -> Option<(String, bool)> {
    // Written past the cut by the longest form of a secret: one that starts before the cut is
    // then whole in the text, and masked whole.
    let wanted = limit
        .saturating_add(secrets.longest_form())
        .saturating_add(1);
    let mut text = String::new();
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let written = Write {
        out: &mut text,
        wanted,
    }
    .deserialize(&mut deserializer);
    // An error once enough is written is the writer stopping the read. Read whole, the value
    // must be all there is: a second document or text after it is not JSON (the parse the
    // outputs use refuses it), and an excerpt of the first value alone would hide the rest.
    if text.len() < wanted && (written.is_err() || deserializer.end().is_err()) {
        return None;
    }
    let (start, cut) = secrets.redact_start(&text, limit);
    Some((start, cut || text.len() >= wanted))
}

/// `text` with each `\uXXXX` escape (a surrogate pair too) and `\/` decoded, except where the
/// character is one a JSON string must escape (`"`, `\`, a control character): the start of a body
/// that is not JSON as a whole (cut off, a trailing comma, two documents) is masked as text, and a
/// secret the server escaped its own way (`\u0073` for `s`) must show as itself to be masked.
pub(super) fn decode_escapes(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\\') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let escape = &rest[at..];
        let (decoded, len) = decode_one(escape).unwrap_or_else(|| {
            // Another escape (`\\`, `\"`, `\n`...) stays as it is, whole: its second character
            // cannot start an escape of its own.
            let len = escape.chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
            (None, len)
        });
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&escape[..len]),
        }
        rest = &escape[len..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// The escape at the start of `escape` when it is `\/` or `\u` (with its low surrogate), decoded
/// (`None`: a character it must stay escaped as), and its length.
fn decode_one(escape: &str) -> Option<(Option<char>, usize)> {
    if escape.starts_with("\\/") {
        return Some((Some('/'), 2));
    }
    let unit = |at: usize| {
        let hex = escape.get(at..at + 6)?.strip_prefix("\\u")?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(hex, 16).ok()
    };
    let first = unit(0)?;
    let (code, len) = match first {
        0xD800..=0xDBFF => match unit(6) {
            Some(low @ 0xDC00..=0xDFFF) => {
                (0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00), 12)
            }
            _ => return None,
        },
        _ => (first, 6),
    };
    let c = char::from_u32(code)?;
    let keep_escaped = c == '"' || c == '\\' || c.is_control();
    Some(((!keep_escaped).then_some(c), len))
}

/// Writes the value it reads to `out`, and stops the read (an error) once `out` holds `wanted`
/// bytes.
struct Write<'o> {
    out: &'o mut String,
    wanted: usize,
}

impl Write<'_> {
    fn push<E: serde::de::Error>(&mut self, text: &str) -> Result<(), E> {
        self.out.push_str(text);
        if self.out.len() >= self.wanted {
            return Err(E::custom("the excerpt is long enough"));
        }
        Ok(())
    }

    fn push_string<E: serde::de::Error>(&mut self, text: &str) -> Result<(), E> {
        let quoted = serde_json::to_string(text).map_err(E::custom)?;
        self.push(&quoted)
    }

    fn again(&mut self) -> Write<'_> {
        Write {
            out: self.out,
            wanted: self.wanted,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Write<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Write<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E: serde::de::Error>(mut self, value: bool) -> Result<(), E> {
        self.push(if value { "true" } else { "false" })
    }

    fn visit_i64<E: serde::de::Error>(mut self, value: i64) -> Result<(), E> {
        self.push(&value.to_string())
    }

    fn visit_u64<E: serde::de::Error>(mut self, value: u64) -> Result<(), E> {
        self.push(&value.to_string())
    }

    fn visit_f64<E: serde::de::Error>(mut self, value: f64) -> Result<(), E> {
        self.push(&serde_json::Value::from(value).to_string())
    }

    fn visit_str<E: serde::de::Error>(mut self, value: &str) -> Result<(), E> {
        self.push_string(value)
    }

    fn visit_unit<E: serde::de::Error>(mut self) -> Result<(), E> {
        self.push("null")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        self.push("[")?;
        let mut first = true;
        loop {
            if !first {
                // Written before the item is known to exist: taken back after the last one.
                self.push(",")?;
            }
            if seq.next_element_seed(self.again())?.is_none() {
                if !first {
                    self.out.pop();
                }
                break;
            }
            first = false;
        }
        self.push("]")
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            // A number under `arbitrary_precision`: its text, as `Value` writes it.
            if first && key == NUMBER_TOKEN {
                let number = map.next_value_seed(NumberText)?;
                return self.push(&number.to_string());
            }
            self.push(if first { "{" } else { "," })?;
            first = false;
            self.push_string(&key)?;
            self.push(":")?;
            map.next_value_seed(self.again())?;
        }
        self.push(if first { "{}" } else { "}" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_decoded_except_where_a_json_string_needs_them() {
        for (text, decoded) in [
            (r"tok+\u00733cret", "tok+s3cret"),
            (r"tok\u002Bs", "tok+s"),
            (r"a\/b", "a/b"),
            (r"\ud83d\ude00 \u00e9", "😀 é"),
            // An escaped backslash: what follows it is text, not an escape.
            (r"\\u0073", r"\\u0073"),
            (
                r"\u0022 \u005c \u000a \\ \n \é",
                r"\u0022 \u005c \u000a \\ \n \é",
            ),
            // Not an escape: lone or bad surrogates, short or bad hex, a backslash at the end.
            (
                r"\ud800x \udc00 \ud800\u0041 \u00zz \u00",
                r"\ud800x \udc00 \ud800A \u00zz \u00",
            ),
            ("end\\", "end\\"),
            ("none", "none"),
        ] {
            assert_eq!(decode_escapes(text), decoded, "{text}");
        }
    }

    fn start(text: &str, secrets: &Redactor, limit: usize) -> Option<(String, bool)> {
        masked_start(text.as_bytes(), secrets, limit)
    }

    #[test]
    fn writes_what_serde_json_writes_in_the_bodys_order() {
        let none = Redactor::default();
        for (body, written) in [
            (
                r#" { "b" : [1, 2.50, -0, 1e400, true, null, "\u00e9\/\u002B"], "a": {} } "#,
                r#"{"b":[1,2.50,-0,1e+400,true,null,"é/+"],"a":{}}"#,
            ),
            ("[]", "[]"),
            ("[[], [[]], {}]", "[[],[[]],{}]"),
            (r#"{"a": 1, "a": 2}"#, r#"{"a":1,"a":2}"#),
            (r#"{"$serde_json::private::Number": "1.50"}"#, "1.50"),
            (
                r#"{"x": 1, "$serde_json::private::Number": "2"}"#,
                r#"{"x":1,"$serde_json::private::Number":"2"}"#,
            ),
            (r#""tab\tquote\"""#, r#""tab\tquote\"""#),
        ] {
            assert_eq!(
                start(body, &none, 1000),
                Some((written.to_owned(), false)),
                "{body}"
            );
        }
        assert_eq!(start("[1, 2", &none, 1000), None);
        assert_eq!(start("not json", &none, 1000), None);
    }

    #[test]
    fn a_secret_escaped_any_way_is_masked_and_never_cut() {
        let mut secrets = Redactor::default();
        secrets.add("tok+s3cret/value");
        let body = r#"{"a": "tok\u002Bs3cret\/value", "b": "tok+s3cret\u002fvalue"}"#;
        let (shown, cut) = start(body, &secrets, 1000).unwrap_or_default();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(!cut);
        // A secret across the cut is masked whole, not shown in part.
        let filler = "x".repeat(90);
        let body = format!(r#"["{filler}", "tok\u002Bs3cret\/value", "{filler}"]"#);
        for limit in 90..120 {
            let (shown, cut) = start(&body, &secrets, limit).unwrap_or_default();
            assert!(
                !shown.contains("s3cr") && !shown.ends_with("tok"),
                "{limit}: {shown}"
            );
            assert!(cut, "{limit}");
        }
    }

    #[test]
    fn a_long_body_is_read_only_as_far_as_the_excerpt() {
        let items: Vec<String> = (0..100_000).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
        let body = format!("[{}]", items.join(","));
        let (shown, cut) = start(&body, &Redactor::default(), 100).unwrap_or_default();
        assert!(cut);
        assert_eq!(shown, body[..100]);
    }

    /// Before its fix: serde_json writes DEL (U+007F) as it is, but the redactor's JSON forms write it as
    /// `\u007f` (`forms.rs` takes it for a control character to escape), so a secret holding a
    /// quote or a backslash and DEL, written as serde_json writes it, matches no form.
    #[test]
    fn a_secret_with_del_and_a_quote_is_masked_as_serde_json_writes_it() {
        let secret = "pa\"ss\u{7f}word-4242";
        let mut secrets = Redactor::default();
        secrets.add(secret);
        let body = serde_json::json!({"e": secret}).to_string();
        assert!(body.contains('\u{7f}'), "{body}");
        let (shown, _) = start(&body, &secrets, 1000).unwrap_or_default();
        assert!(!shown.contains("word-4242"), "{shown:?}");
    }
}
