//! The typed pass's error: what went wrong with one node, until it is recorded as a finding.
//!
//! An error is recorded once, by the first container that sees it (the mapping or sequence holding
//! the node); from then on it travels up as [`DeErrorKind::Recorded`], so the containers above can
//! decide to skip the broken part and go on without reporting it twice.

use std::fmt;

use crate::finding::{Finding, FindingCode};
use crate::source::Span;
use crate::suggest::did_you_mean;

#[derive(Debug)]
pub(crate) struct DeError {
    pub kind: DeErrorKind,
    /// The mapping entry whose value failed: the address of the mapping node and the entry's
    /// index. Set by the mapping that holds the failed value, cleared by the level above it.
    pub failed_key: Option<(usize, usize)>,
}

#[derive(Debug)]
pub(crate) enum DeErrorKind {
    /// Already a finding; unwinding to the nearest point that can skip the broken part.
    Recorded,
    MissingField(&'static str),
    UnknownVariant {
        value: String,
        expected: &'static [&'static str],
    },
    /// A value of the wrong type: what was expected, in the author's words, and help if any.
    WrongType {
        expected: String,
        help: Option<String>,
    },
    /// Anything else serde says (untagged enums, custom validation).
    Custom(String),
}

impl DeError {
    pub fn recorded() -> Self {
        Self::from(DeErrorKind::Recorded)
    }

    /// The finding for this error at `span` (the failed node), or `None` if already recorded.
    /// `key` is the span of the key the failed mapping sits under, where a missing field points.
    pub fn to_finding(&self, span: Span, key: Option<Span>) -> Option<Finding> {
        let wrong = |message: String| {
            Finding::error(FindingCode::InvalidValue, span, message)
                .with_label("wrong type or value")
        };
        Some(match &self.kind {
            DeErrorKind::Recorded => return None,
            DeErrorKind::MissingField(field) => Finding::error(
                FindingCode::InvalidValue,
                key.unwrap_or(span),
                format!("missing required field `{field}`"),
            )
            .with_label(format!("`{field}` is required here")),
            DeErrorKind::UnknownVariant { value, expected } => {
                let list = expected
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                Finding::error(
                    FindingCode::InvalidValue,
                    span,
                    format!("unknown value `{value}`: expected one of {list}"),
                )
                .with_label("not an allowed value")
                .with_suggestion(did_you_mean(value, expected.iter().copied()))
            }
            DeErrorKind::WrongType { expected, help } => {
                let finding = wrong(format!("expected {expected}"));
                match help {
                    Some(help) => finding.with_help(help.clone()),
                    None => finding,
                }
            }
            DeErrorKind::Custom(message) => match super::classify::friendly_type(message) {
                Some(expected) => wrong(format!("expected {expected}")),
                None => wrong(message.replace(
                    "data did not match any variant of untagged enum",
                    "value has the wrong shape for",
                )),
            },
        })
    }
}

impl From<DeErrorKind> for DeError {
    fn from(kind: DeErrorKind) -> Self {
        Self {
            kind,
            failed_key: None,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            DeErrorKind::Recorded => write!(f, "(reported)"),
            DeErrorKind::MissingField(field) => write!(f, "missing field `{field}`"),
            DeErrorKind::UnknownVariant { value, .. } => write!(f, "unknown value `{value}`"),
            DeErrorKind::WrongType { expected, .. } => write!(f, "expected {expected}"),
            DeErrorKind::Custom(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for DeError {}

impl serde::de::Error for DeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::from(DeErrorKind::Custom(message.to_string()))
    }

    fn missing_field(field: &'static str) -> Self {
        Self::from(DeErrorKind::MissingField(field))
    }

    fn unknown_variant(value: &str, expected: &'static [&'static str]) -> Self {
        Self::from(DeErrorKind::UnknownVariant {
            value: value.to_owned(),
            expected,
        })
    }
}
