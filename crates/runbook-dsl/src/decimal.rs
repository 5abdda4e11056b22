//! Exact decimal numbers, for ordering comparisons (`greater_than: 1000`) of numbers and of numeric
//! strings such as Alpaca's `"equity": "123346.11"`.
//!
//! Written by hand rather than with `rust_decimal` or `bigdecimal`: a comparison needs no
//! arithmetic, only an order, and this one has no size limit (`rust_decimal` stops at 28 digits)
//! and allocates nothing beyond the digits. serde_json keeps each number's text
//! (`arbitrary_precision`), so a number is never rounded to a float on its way here. Lint uses
//! [`Decimal::parse_text`] to accept a numeric string operand; the engine uses it to compare.

use std::cmp::Ordering;

/// A decimal number as `± 0.DIGITS × 10^magnitude` with no leading or trailing zero digits (zero has
/// no digits and is never negative).
#[derive(Debug, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: String,
    magnitude: i64,
}

impl Decimal {
    /// A JSON number's text, as serde_json writes it.
    pub fn parse_number(number: &serde_json::Number) -> Option<Decimal> {
        Decimal::parse(&number.to_string())
    }

    /// A numeric string: an optional `-`, digits, an optional `.` and digits, an optional exponent
    /// (`123346.11`, `-0.5`, `1e6`). Nothing else: no spaces, no `+`, no thousands separators, no
    /// `.5` or `5.`, so a string either reads as one exact number or is not a number at all.
    pub fn parse_text(text: &str) -> Option<Decimal> {
        let unsigned = text.strip_prefix('-').unwrap_or(text);
        let (mantissa, exponent) = match unsigned.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, Some(exponent)),
            None => (unsigned, None),
        };
        let (whole, fraction) = match mantissa.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (mantissa, None),
        };
        let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
        let exponent_ok = exponent
            .is_none_or(|exponent| digits(exponent.strip_prefix(['-', '+']).unwrap_or(exponent)));
        if !digits(whole) || !fraction.is_none_or(digits) || !exponent_ok {
            return None;
        }
        Decimal::parse(text)
    }

    fn parse(text: &str) -> Option<Decimal> {
        let (negative, rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        let (mantissa, exponent) = match rest.split_once(['e', 'E']) {
            Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if whole.is_empty() && fraction.is_empty()
            || !whole
                .bytes()
                .chain(fraction.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let all = format!("{whole}{fraction}");
        let leading = all.len() - all.trim_start_matches('0').len();
        let digits = all.trim_matches('0').to_owned();
        let magnitude = i64::try_from(whole.len())
            .ok()?
            .checked_sub(i64::try_from(leading).ok()?)?
            .checked_add(exponent)?;
        Some(if digits.is_empty() {
            Decimal {
                negative: false,
                digits,
                magnitude: 0,
            }
        } else {
            Decimal {
                negative,
                digits,
                magnitude,
            }
        })
    }

    fn abs_cmp(&self, other: &Decimal) -> Ordering {
        match (self.digits.is_empty(), other.digits.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => self
                .magnitude
                .cmp(&other.magnitude)
                .then_with(|| self.digits.cmp(&other.digits)),
        }
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Decimal) -> Ordering {
        match (self.negative, other.negative) {
            (false, false) => self.abs_cmp(other),
            (true, true) => other.abs_cmp(self),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Decimal) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(text: &str) -> Decimal {
        Decimal::parse_text(text).unwrap_or_else(|| panic!("{text} is a number"))
    }

    #[test]
    fn numeric_strings_compare_exactly() {
        assert!(text("123346.11") > text("1000"));
        assert!(text("1000.000") == text("1e3"));
        assert!(text("-0.5") < text("0"));
        assert!(text("-0") == text("0.000"));
        assert!(text("99999999999999999999999999999.01") > text("99999999999999999999999999999"));
        assert!(text("0.30000000000000000001") > text("0.3"));
        assert!(text("-2") < text("-1.99999999999999999999"));
    }

    #[test]
    fn only_plain_decimals_are_numeric_strings() {
        for not_a_number in [
            "", "-", "abc", " 1", "1 ", "+1", ".5", "5.", "1,000", "1_000", "0x10", "NaN", "inf",
            "1e", "1e+", "--1", "1.2.3", "١٢",
        ] {
            assert_eq!(Decimal::parse_text(not_a_number), None, "{not_a_number:?}");
        }
        assert!(Decimal::parse_text("1e9223372036854775807").is_none());
    }
}
