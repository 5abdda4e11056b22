//! Durations as authors write them: `500ms`, `30s`, `2m`, `1h30m`, or a bare number of seconds.
//!
//! Every duration a runbook uses, written or rendered from a template at run time, goes through
//! [`parse_duration`], so it is never longer than [`MAX_DURATION`]. The ceiling keeps the engine's
//! arithmetic on durations (backoff multiplication, deadlines) finite: a timeout of
//! `18446744073709551615` seconds is a typo, not a plan.

use std::fmt;
use std::time::Duration;

/// The longest duration a runbook may use: 7 days (`168h`). A step that waits longer than a week
/// belongs to a scheduler, not to a runbook an operator is watching; the same ceiling applies to
/// timeouts, poll intervals and timeouts, retry delays and `average_duration`.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

/// Why a text is not a duration a runbook may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number and a unit.
    #[error("`{text}` is not a duration; write e.g. `500ms`, `30s`, `2m` or `1h30m`")]
    Malformed { text: String },
    /// Parses, but is longer than [`MAX_DURATION`].
    #[error(
        "`{text}` is longer than {}, the longest duration a runbook may use",
        DisplayDuration(*max)
    )]
    TooLong { text: String, max: Duration },
}

/// Parses a duration and refuses one longer than [`MAX_DURATION`]; the error says what forms are
/// accepted. The check pass calls it for written durations, the engine for rendered templates.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let duration = parse_unbounded(text)?;
    if duration > MAX_DURATION {
        return Err(DurationError::TooLong {
            text: text.to_owned(),
            max: MAX_DURATION,
        });
    }
    Ok(duration)
}

/// The sum of the parts, saturating (an overflowing number is "too long", not "malformed").
fn parse_unbounded(text: &str) -> Result<Duration, DurationError> {
    let malformed = || DurationError::Malformed {
        text: text.to_owned(),
    };
    let too_long = || DurationError::TooLong {
        text: text.to_owned(),
        max: MAX_DURATION,
    };
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| too_long());
    }
    let mut total = Duration::ZERO;
    let mut rest = trimmed;
    if rest.is_empty() {
        return Err(malformed());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(malformed());
        }
        // Only ASCII digits here: the one way to fail is a number too large for a u64.
        let number: u64 = rest[..digits].parse().map_err(|_| too_long())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = rest[..unit_len].trim();
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            _ => return Err(malformed()),
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

/// A duration in the largest DSL unit that divides it: `168h`, `90s`, `1500ms`.
#[derive(Debug, Clone, Copy)]
pub struct DisplayDuration(pub Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if !millis.is_multiple_of(1000) {
            return write!(f, "{millis}ms");
        }
        let seconds = millis / 1000;
        if seconds != 0 && seconds.is_multiple_of(3600) {
            write!(f, "{}h", seconds / 3600)
        } else if seconds != 0 && seconds.is_multiple_of(60) {
            write!(f, "{}m", seconds / 60)
        } else {
            write!(f, "{seconds}s")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("15"), Ok(Duration::from_secs(15)));
        assert_eq!(parse_duration("168h"), Ok(MAX_DURATION));
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "ten seconds", "10 parsecs", "ms", "-5s", "1d"] {
            assert!(
                matches!(parse_duration(text), Err(DurationError::Malformed { .. })),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_durations_above_the_ceiling() {
        for text in [
            "18446744073709551615",
            "99999999999999999999999",
            "169h",
            "604801",
            "18446744073709551615h",
            "99999999999999999999999ms",
            "168h1ms",
        ] {
            assert_eq!(
                parse_duration(text),
                Err(DurationError::TooLong {
                    text: text.to_owned(),
                    max: MAX_DURATION
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn errors_render_in_one_sentence() {
        let long = parse_duration("200h").err().map(|e| e.to_string());
        assert_eq!(
            long.as_deref(),
            Some("`200h` is longer than 168h, the longest duration a runbook may use")
        );
        let bad = parse_duration("soon").err().map(|e| e.to_string());
        assert_eq!(
            bad.as_deref(),
            Some("`soon` is not a duration; write e.g. `500ms`, `30s`, `2m` or `1h30m`")
        );
    }

    #[test]
    fn displays_in_the_largest_unit() {
        assert_eq!(DisplayDuration(MAX_DURATION).to_string(), "168h");
        assert_eq!(DisplayDuration(Duration::from_secs(120)).to_string(), "2m");
        assert_eq!(DisplayDuration(Duration::from_secs(90)).to_string(), "90s");
        assert_eq!(
            DisplayDuration(Duration::from_millis(1500)).to_string(),
            "1500ms"
        );
        assert_eq!(DisplayDuration(Duration::ZERO).to_string(), "0s");
    }
}
