//! Durations: the one parser and the one printer of the workspace, so whatever runbook prints
//! (`1.5s`, `2m3s`, `500ms`) can be written back into a runbook.
//!
//! Both are jiff's "friendly" format: `500ms`, `30s`, `1.5s`, `2m`, `2min`, `1h30m`, `1h 30m`,
//! `500us`, `2 minutes`; a bare number is seconds. Units stop at hours: a day is not always 24
//! hours, and a runbook that waits that long belongs to a scheduler.
//!
//! Every duration a runbook uses, written or rendered from a template at run time, goes through
//! [`parse_duration`], so it is never longer than [`MAX_DURATION`]. The ceiling keeps the engine's
//! arithmetic on durations (backoff multiplication, deadlines) finite: a timeout of
//! `18446744073709551615` seconds is a typo, not a plan.

use std::fmt;
use std::time::Duration;

use jiff::fmt::friendly::{Designator, FractionalUnit, Spacing, SpanParser, SpanPrinter};

/// The longest duration a runbook may use: 7 days (`168h`). A step that waits longer than a week
/// belongs to a scheduler, not to a runbook an operator is watching; the same ceiling applies to
/// timeouts, poll intervals and timeouts, retry delays and `average_duration`.
pub const MAX_DURATION: Duration = Duration::from_secs(7 * 24 * 3600);

static PARSER: SpanParser = SpanParser::new();

/// `1.5s`, `2m3s`, `1h30m`: compact units, no spaces, seconds with a fraction when there is one.
static PRINTER: SpanPrinter = SpanPrinter::new()
    .designator(Designator::Compact)
    .spacing(Spacing::None)
    .fractional(Some(FractionalUnit::Second));

/// Why a text is not a duration a runbook may use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a number and a unit.
    #[error("`{text}` is not a duration; write e.g. `500ms`, `30s`, `1.5s`, `2m` or `1h30m`")]
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

fn parse_unbounded(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    let too_long = || DurationError::TooLong {
        text: text.to_owned(),
        max: MAX_DURATION,
    };
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return trimmed
            .parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| too_long());
    }
    PARSER.parse_unsigned_duration(trimmed).map_err(|error| {
        // jiff's errors are text only; an overflow is "too long", anything else "malformed".
        let message = error.to_string();
        if message.contains("overflow") || message.contains("too big") {
            too_long()
        } else {
            DurationError::Malformed {
                text: text.to_owned(),
            }
        }
    })
}

/// Prints a duration the way [`parse_duration`] reads it: `500ms` under a second, else `1.5s`,
/// `2m3s`, `1h30m`, `168h` (exact to the millisecond; round first to show less).
pub fn format_duration(duration: Duration) -> String {
    let millis = Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX));
    if millis < Duration::from_secs(1) {
        return format!("{}ms", millis.as_millis());
    }
    PRINTER.unsigned_duration_to_string(&millis)
}

/// [`format_duration`] to the tenth of a second (milliseconds under a second), for elapsed times
/// in progress lines: `12ms`, `1.5s`, `2m3.4s`.
pub fn format_elapsed(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        return format_duration(duration);
    }
    let tenths = (duration.as_millis() + 50) / 100;
    let rounded = u64::try_from(tenths.saturating_mul(100)).unwrap_or(u64::MAX);
    format_duration(Duration::from_millis(rounded))
}

/// [`format_duration`] as a `Display` value, for messages.
#[derive(Debug, Clone, Copy)]
pub struct DisplayDuration(pub Duration);

impl fmt::Display for DisplayDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_duration(self.0))
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
    fn parses_what_authors_and_the_tool_write() {
        assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2 minutes"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn everything_printed_parses_back() {
        for millis in [
            0, 1, 500, 999, 1000, 1500, 1460, 2000, 61_001, 90_000, 123_400, 5_400_000,
        ] {
            let duration = Duration::from_millis(millis);
            let printed = format_duration(duration);
            assert_eq!(parse_duration(&printed), Ok(duration), "{printed}");
        }
        assert_eq!(format_duration(MAX_DURATION), "168h");
    }

    #[test]
    fn rejects_garbage() {
        for text in ["", "ten seconds", "10 parsecs", "ms", "-5s", "1d", "soon"] {
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
            Some("`soon` is not a duration; write e.g. `500ms`, `30s`, `1.5s`, `2m` or `1h30m`")
        );
    }

    #[test]
    fn prints_compactly() {
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::ZERO), "0ms");
        assert_eq!(format_elapsed(Duration::from_millis(1460)), "1.5s");
        assert_eq!(format_elapsed(Duration::from_millis(123_456)), "2m3.5s");
        assert_eq!(format_elapsed(Duration::from_millis(12)), "12ms");
    }
}
