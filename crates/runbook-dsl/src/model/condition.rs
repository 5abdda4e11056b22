use regex::Regex;

use super::ValueTemplate;
use crate::source::Span;

/// A typed predicate.
#[derive(Debug, Clone)]
pub struct Condition {
    pub kind: ConditionKind,
    /// The author's message for when it does not hold (templated).
    pub message: Option<crate::template::Template>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ConditionKind {
    Compare {
        that: ValueTemplate,
        op: CompareOp,
        operand: ValueTemplate,
    },
    Matches {
        that: ValueTemplate,
        regex: Regex,
    },
    OneOf {
        that: ValueTemplate,
        options: Vec<ValueTemplate>,
    },
    Exists {
        that: ValueTemplate,
        expected: bool,
    },
    IsEmpty {
        that: ValueTemplate,
        expected: bool,
    },
    Length {
        that: ValueTemplate,
        expected: u64,
    },
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

/// Binary comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Equals,
    NotEquals,
    GreaterThan,
    GreaterOrEqual,
    LessThan,
    LessOrEqual,
    Contains,
    NotContains,
    StartsWith,
    EndsWith,
}

impl CompareOp {
    /// `greater_than` and the like: they compare numbers (and numeric strings) as exact decimals.
    pub fn orders(self) -> bool {
        match self {
            CompareOp::GreaterThan
            | CompareOp::GreaterOrEqual
            | CompareOp::LessThan
            | CompareOp::LessOrEqual => true,
            CompareOp::Equals
            | CompareOp::NotEquals
            | CompareOp::Contains
            | CompareOp::NotContains
            | CompareOp::StartsWith
            | CompareOp::EndsWith => false,
        }
    }

    /// The DSL keyword, for messages.
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Equals => "equals",
            CompareOp::NotEquals => "not_equals",
            CompareOp::GreaterThan => "greater_than",
            CompareOp::GreaterOrEqual => "greater_or_equal",
            CompareOp::LessThan => "less_than",
            CompareOp::LessOrEqual => "less_or_equal",
            CompareOp::Contains => "contains",
            CompareOp::NotContains => "not_contains",
            CompareOp::StartsWith => "starts_with",
            CompareOp::EndsWith => "ends_with",
        }
    }
}
