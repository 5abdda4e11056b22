//! The forms a secret takes on its way out: percent-encoded by a URL or form encoder, JSON-escaped
//! by one encoder or another (once, or twice for a JSON string inside a JSON string), base64. The
//! redactor masks every form listed here; docs/security.md lists them for users.

/// Secrets shorter than this (in characters) are refused as inputs and answers; a captured value
/// this short is masked only where it stands as a whole token (see [`super::Redactor`]).
pub const MIN_SECRET_CHARS: usize = 6;

/// Every form of `secret` the redactor masks, the secret itself first. `short` secrets get no
/// base64 forms: a few base64 characters occur by chance in ordinary text.
pub(super) fn forms_of(secret: &str, short: bool) -> Vec<String> {
    let mut forms = vec![secret.to_owned()];
    for keep in PERCENT_SETS {
        for upper in [true, false] {
            forms.push(percent(secret, keep, false, upper));
            forms.push(percent(secret, keep, true, upper));
        }
    }
    for inner in json_styles() {
        let once = json(secret, inner);
        // A JSON string inside a JSON string: escaped again, by the same encoder or a plain one.
        forms.push(json(&once, inner));
        forms.push(json(&once, JsonStyle::PLAIN));
        forms.push(once);
    }
    if !short {
        for alphabet in [STANDARD, URL_SAFE] {
            forms.extend(base64_forms(secret.as_bytes(), alphabet));
        }
    }
    let mut unique: Vec<String> = Vec::with_capacity(forms.len());
    for form in forms {
        if !form.is_empty() && !unique.contains(&form) {
            unique.push(form);
        }
    }
    unique
}

/// Which bytes an encoder leaves as they are; every other byte becomes `%XX` (`%` always does).
type KeepSet = fn(u8) -> bool;

const PERCENT_SETS: [KeepSet; 7] = [
    // RFC 3986 unreserved: Python `quote(safe='')`, Go `QueryEscape`.
    |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b),
    // WHATWG `application/x-www-form-urlencoded` (the `url` crate, browsers' forms).
    |b| b.is_ascii_alphanumeric() || b"*-._".contains(&b),
    // JavaScript `encodeURIComponent`.
    |b| b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b),
    // Go `PathEscape`.
    |b| b.is_ascii_alphanumeric() || b"-._~$&+,:;=@".contains(&b),
    // WHATWG path percent-encode set (what a URL parser leaves in a path), and the segment variant.
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}%".contains(&b),
    |b| b.is_ascii_graphic() && !b"\"#<>?`{}%/".contains(&b),
    // WHATWG query set, plus the characters that separate query pairs.
    |b| b.is_ascii_graphic() && !b"\"#<>'%&+=".contains(&b),
];

fn percent(secret: &str, keep: KeepSet, plus_for_space: bool, upper: bool) -> String {
    let mut out = String::with_capacity(secret.len() * 3);
    for &byte in secret.as_bytes() {
        if byte == b' ' && plus_for_space {
            out.push('+');
        } else if byte != b'%' && keep(byte) {
            out.push(char::from(byte));
        } else if upper {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push_str(&format!("%{byte:02x}"));
        }
    }
    out
}

/// How one JSON encoder writes a string's characters (the surrounding quotes left off).
#[derive(Debug, Clone, Copy)]
struct JsonStyle {
    /// Every non-ASCII character as `\uXXXX` (surrogate pairs beyond the BMP): Python, Java.
    ascii: bool,
    /// `\u00DF` rather than `\u00df`.
    upper: bool,
    /// `<`, `>`, `&`, U+2028 and U+2029 as `\u003c` and so on: Go's `encoding/json`.
    html: bool,
    /// `/` as `\/`: PHP.
    slash: bool,
    /// `"`, `'`, `+` and backtick as `\u0022` and so on too: .NET's System.Text.Json (with
    /// `ascii`, `upper` and `html`, its default encoder). Base64 keys hold `+`.
    dotnet: bool,
}

impl JsonStyle {
    const PLAIN: JsonStyle = JsonStyle {
        ascii: false,
        upper: false,
        html: false,
        slash: false,
        dotnet: false,
    };

    const DOTNET: JsonStyle = JsonStyle {
        ascii: true,
        upper: true,
        html: true,
        slash: false,
        dotnet: true,
    };
}

fn json_styles() -> Vec<JsonStyle> {
    let mut styles = Vec::with_capacity(17);
    for ascii in [false, true] {
        for upper in [false, true] {
            for html in [false, true] {
                for slash in [false, true] {
                    styles.push(JsonStyle {
                        ascii,
                        upper,
                        html,
                        slash,
                        dotnet: false,
                    });
                }
            }
        }
    }
    styles.push(JsonStyle::DOTNET);
    styles
}

fn json(text: &str, style: JsonStyle) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let unicode = |out: &mut String, unit: u16| {
        if style.upper {
            out.push_str(&format!("\\u{unit:04X}"));
        } else {
            out.push_str(&format!("\\u{unit:04x}"));
        }
    };
    for c in text.chars() {
        match c {
            '"' | '\'' | '+' | '`' if style.dotnet => unicode(&mut out, c as u16),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '/' if style.slash => out.push_str("\\/"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if style.html => {
                unicode(&mut out, u16::try_from(u32::from(c)).unwrap_or(0));
            }
            // DEL is no control character to JSON: only the ASCII-only encoders escape it.
            c if c < ' ' || (c == '\u{7f}' && style.ascii) => {
                unicode(&mut out, u16::try_from(u32::from(c)).unwrap_or(0));
            }
            c if !c.is_ascii() && style.ascii => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    unicode(&mut out, *unit);
                }
            }
            c => out.push(c),
        }
    }
    out
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The secret base64-encoded on its own (with and without padding), and the part of the encoding
/// that does not depend on its neighbours when it sits at each of the three byte alignments inside
/// a longer encoded text.
fn base64_forms(secret: &[u8], alphabet: &[u8; 64]) -> Vec<String> {
    let whole = base64(secret, alphabet);
    let padding = (3 - secret.len() % 3) % 3;
    let mut forms = vec![format!("{whole}{}", "=".repeat(padding)), whole];
    for offset in 0..3usize {
        let mut shifted = vec![0u8; offset];
        shifted.extend_from_slice(secret);
        let encoded = base64(&shifted, alphabet);
        // Character i holds bits 6i..6i+6; keep the characters made only of the secret's bits.
        let first = (8 * offset).div_ceil(6);
        let end = 8 * (offset + secret.len()) / 6;
        if let Some(core) = encoded.get(first..end) {
            forms.push(core.to_owned());
        }
    }
    forms
}

/// Base64 without padding.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(alphabet[index as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_reference_vectors() {
        assert_eq!(base64(b"foobar", STANDARD), "Zm9vYmFy");
        assert_eq!(base64(b"fooba", STANDARD), "Zm9vYmE");
        assert_eq!(base64(b"foob", STANDARD), "Zm9vYg");
        assert_eq!(base64(&[0xfb, 0xff], URL_SAFE), "-_8");
    }

    #[test]
    fn every_alignment_core_occurs_in_a_longer_encoding() {
        let secret = b"CANARY s3cr3t+91ab";
        for prefix in ["", "x", "xy", "xyz"] {
            let mut text = prefix.as_bytes().to_vec();
            text.extend_from_slice(secret);
            text.extend_from_slice(b"tail");
            let encoded = base64(&text, STANDARD);
            assert!(
                base64_forms(secret, STANDARD)
                    .iter()
                    .skip(2)
                    .any(|core| encoded.contains(core.as_str())),
                "{prefix:?}: {encoded}"
            );
        }
    }

    #[test]
    fn json_styles_cover_dotnet() {
        // System.Text.Json's default encoder: HTML-sensitive characters, `'`, `+`, backtick, and
        // even `"` as upper-case `\u` escapes, and every non-ASCII character too.
        let forms = forms_of("a+b<'ß\"`", false);
        let expected = r"a\u002Bb\u003C\u0027\u00DF\u0022\u0060";
        assert!(forms.iter().any(|f| f == expected), "{expected}: {forms:?}");
    }

    #[test]
    fn json_styles_cover_go_python_and_php() {
        let forms = forms_of("a/b<ß&", false);
        for expected in [
            r"a/b<\u00df&",
            r"a\/b<\u00DF&",
            r"a/b\u003cß\u0026",
            r"a/b\\u003c\\u00df\\u0026",
        ] {
            assert!(forms.iter().any(|f| f == expected), "{expected}: {forms:?}");
        }
    }
}
