//! What a plain YAML scalar means: the YAML 1.2 core schema, with only `true`/`false` as booleans.
//!
//! Quoted and block scalars are always text. A plain `yes`, `no`, `on` or `off` is text too (YAML
//! 1.1 read them as booleans: the "Norway problem"), so a field that wants a boolean refuses them.

/// The type a plain scalar resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    /// A whole number that fits in 64 bits (signed or unsigned).
    Int(i128),
    /// A number with a fraction or exponent, an infinity, NaN, or a whole number beyond 64 bits.
    Float(f64),
    Text,
}

pub(crate) fn resolve(text: &str) -> Resolved {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        _ => {}
    }
    if let Some(int) = resolve_int(text) {
        return int;
    }
    if is_float(text) {
        return text.parse::<f64>().map_or(Resolved::Text, Resolved::Float);
    }
    Resolved::Text
}

fn resolve_int(text: &str) -> Option<Resolved> {
    let (radix, digits) = if let Some(hex) = text.strip_prefix("0x") {
        (16, hex)
    } else if let Some(octal) = text.strip_prefix("0o") {
        (8, octal)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        return Some(match text.parse::<i128>() {
            Ok(value) if fits_64_bits(value) => Resolved::Int(value),
            // Beyond 64 bits: a float, as serde-based YAML loaders give it; the check pass re-reads
            // the exact digits from the source where a value keeps them.
            _ => Resolved::Float(text.parse::<f64>().unwrap_or(f64::INFINITY)),
        });
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    i128::from_str_radix(digits, radix)
        .ok()
        .filter(|value| fits_64_bits(*value))
        .map(Resolved::Int)
}

fn fits_64_bits(value: i128) -> bool {
    value >= i128::from(i64::MIN) && value <= i128::from(u64::MAX)
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float(text: &str) -> bool {
    let bytes = text.strip_prefix(['-', '+']).unwrap_or(text).as_bytes();
    let digits = |from: usize| {
        bytes[from..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let mut at = digits(0);
    let whole = at;
    let mut fraction = 0;
    if bytes.get(at) == Some(&b'.') {
        fraction = digits(at + 1);
        at += 1 + fraction;
    }
    if whole == 0 && fraction == 0 {
        return false;
    }
    if matches!(bytes.get(at), Some(b'e' | b'E')) {
        at += 1;
        if matches!(bytes.get(at), Some(b'-' | b'+')) {
            at += 1;
        }
        let exponent = digits(at);
        if exponent == 0 {
            return false;
        }
        at += exponent;
    }
    at == bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema_with_strict_booleans() {
        assert_eq!(resolve(""), Resolved::Null);
        assert_eq!(resolve("~"), Resolved::Null);
        assert_eq!(resolve("true"), Resolved::Bool(true));
        assert_eq!(resolve("yes"), Resolved::Text);
        assert_eq!(resolve("off"), Resolved::Text);
        assert_eq!(resolve("42"), Resolved::Int(42));
        assert_eq!(resolve("-7"), Resolved::Int(-7));
        assert_eq!(resolve("0x1F"), Resolved::Int(31));
        assert_eq!(resolve("0o17"), Resolved::Int(15));
        assert_eq!(resolve("1.5"), Resolved::Float(1.5));
        assert_eq!(resolve("2e3"), Resolved::Float(2000.0));
        assert_eq!(resolve(".5"), Resolved::Float(0.5));
        assert_eq!(resolve("1.5s"), Resolved::Text);
        assert_eq!(resolve("10MB"), Resolved::Text);
        assert_eq!(resolve("1e"), Resolved::Text);
        assert_eq!(resolve("."), Resolved::Text);
        assert_eq!(resolve("1.2.3"), Resolved::Text);
        assert!(matches!(
            resolve("100000000000000000000001"),
            Resolved::Float(_)
        ));
    }
}
