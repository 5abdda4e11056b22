//! Why a condition did not hold, as data: the operator, the expected and the actual value and where
//! each came from. Rendering is the last step ([`fmt::Display`]); nothing parses the text back.

use std::fmt;

use serde::Serialize;

use runbook_dsl::source::Span;

/// A value with its type, secrets masked. Shown to people as JSON cut at 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shown {
    pub value: serde_json::Value,
    #[serde(rename = "type")]
    pub type_name: String,
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = self.value.to_string();
        if text.chars().count() > 200 {
            text = text.chars().take(200).collect::<String>() + "…";
        }
        write!(f, "{text} ({})", self.type_name)
    }
}

/// A condition that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionFailure {
    /// The author's `message`, rendered, secrets masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The condition in the runbook.
    #[serde(skip)]
    pub span: Span,
    #[serde(flatten)]
    pub reason: FailureReason,
}

/// What was checked and what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum FailureReason {
    /// A comparison, a pattern, a list of options or an emptiness check.
    Mismatch {
        /// `equals`, `matches /re/`, `one_of`, `is_empty`, ...
        operator: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        expected: Option<Shown>,
        /// The template the expected value came from, when it was one.
        #[serde(skip_serializing_if = "Option::is_none")]
        expected_from: Option<String>,
        actual: Shown,
        /// The template (or literal) the actual value came from.
        actual_from: String,
        /// `equals` between values of different JSON types (`0` is not `"0"`).
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        types_differ: bool,
        /// An ordering comparison (`greater_than`, ...) with a side that is neither a number nor a
        /// numeric string.
        #[serde(skip_serializing_if = "Option::is_none")]
        not_a_number: Option<NotANumber>,
    },
    Length {
        expected: u64,
        /// None when the value has no length (a number, a boolean, null).
        actual_length: Option<usize>,
        actual: Shown,
        actual_from: String,
    },
    Exists {
        /// Whether it was expected to exist.
        expected: bool,
        what: String,
    },
    /// `not`: the nested condition held.
    Not,
    All {
        failures: Vec<ConditionFailure>,
    },
    Any {
        alternatives: Vec<Alternative>,
    },
}

/// Which side of an ordering comparison is not a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotANumber {
    Actual,
    Expected,
    Both,
}

impl NotANumber {
    fn describe(self) -> &'static str {
        match self {
            NotANumber::Actual => "the actual value is not a number",
            NotANumber::Expected => "the expected value is not a number",
            NotANumber::Both => "neither value is a number",
        }
    }
}

/// One alternative of an `any` that did not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Alternative {
    Failed(Box<ConditionFailure>),
    /// It could not be evaluated (an undefined reference); it counts as not holding.
    Error(String),
}

impl ConditionFailure {
    /// The first actual value the failure shows: what a wait last observed.
    pub fn first_actual(&self) -> Option<&Shown> {
        match &self.reason {
            FailureReason::Mismatch { actual, .. } => Some(actual),
            FailureReason::Length {
                actual,
                actual_length: Some(_),
                ..
            } => Some(actual),
            FailureReason::All { failures } => failures.iter().find_map(Self::first_actual),
            FailureReason::Any { alternatives } => {
                alternatives
                    .iter()
                    .find_map(|alternative| match alternative {
                        Alternative::Failed(failure) => failure.first_actual(),
                        Alternative::Error(_) => None,
                    })
            }
            FailureReason::Length {
                actual_length: None,
                ..
            }
            | FailureReason::Exists { .. }
            | FailureReason::Not => None,
        }
    }

    /// What a wait shows as last observed: the actual value, or the failure's first line.
    pub fn observed(&self) -> String {
        match self.first_actual() {
            Some(actual) => actual.to_string(),
            None => self.to_string().lines().next().unwrap_or("").to_owned(),
        }
    }
}

impl fmt::Display for ConditionFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(message) = &self.message {
            writeln!(f, "{message}")?;
        }
        match &self.reason {
            FailureReason::Mismatch {
                operator,
                expected,
                expected_from,
                actual,
                actual_from,
                types_differ,
                not_a_number,
            } => {
                match expected {
                    Some(expected) => write!(f, "  expected ({operator}): {expected}")?,
                    None => write!(f, "  expected: {operator}")?,
                }
                if let Some(from) = expected_from {
                    write!(f, " from {from}")?;
                }
                write!(f, "\n  actual: {actual} from {actual_from}")?;
                if *types_differ {
                    f.write_str(
                        "\n  note: the types differ; values are compared with their types (`0` is \
                         not `\"0\"`)",
                    )?;
                }
                if let Some(side) = not_a_number {
                    write!(
                        f,
                        "\n  note: {}; `{operator}` compares numbers and numeric strings such as \
                         \"123.45\"",
                        side.describe()
                    )?;
                }
                Ok(())
            }
            FailureReason::Length {
                expected,
                actual_length: Some(length),
                actual,
                actual_from,
            } => write!(
                f,
                "expected length {expected}, actual length {length}\n  actual: {actual} from {actual_from}"
            ),
            FailureReason::Length {
                expected,
                actual_length: None,
                actual,
                ..
            } => write!(
                f,
                "expected something with a length ({expected}), but got {actual}"
            ),
            FailureReason::Exists {
                expected: true,
                what,
            } => {
                write!(f, "expected {what} to exist, but it is undefined")
            }
            FailureReason::Exists {
                expected: false,
                what,
            } => write!(f, "expected {what} not to exist, but it does"),
            FailureReason::Not => {
                f.write_str("expected the nested condition not to hold, but it holds")
            }
            FailureReason::All { failures } => {
                for (index, failure) in failures.iter().enumerate() {
                    if index > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{failure}")?;
                }
                Ok(())
            }
            FailureReason::Any { alternatives } => {
                write!(f, "none of {} alternatives holds:", alternatives.len())?;
                for alternative in alternatives {
                    match alternative {
                        Alternative::Failed(failure) => write!(f, "\n{failure}")?,
                        Alternative::Error(error) => write!(f, "\n  {error}")?,
                    }
                }
                Ok(())
            }
        }
    }
}
