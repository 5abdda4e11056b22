use schemars::JsonSchema;
use serde::Deserialize;

use crate::Spanned;

/// A typed predicate: `that` (a value, usually one template reference) and exactly one operator.
///
/// ```yaml
/// - that: "{{steps.account.outputs.account_number}}"
///   equals: "{{inputs.expected_account}}"
///   message: the new key belongs to another account
/// ```
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    /// The value under test. A string that is exactly one `{{reference}}` keeps its type.
    #[serde(default)]
    pub that: Option<Spanned<serde_json::Value>>,
    /// Equal in type and value (`0` is not `"0"`).
    #[serde(default)]
    pub equals: Option<Spanned<serde_json::Value>>,
    /// Differs in type or value.
    #[serde(default)]
    pub not_equals: Option<Spanned<serde_json::Value>>,
    /// Numeric `>`.
    #[serde(default)]
    pub greater_than: Option<Spanned<serde_json::Value>>,
    /// Numeric `>=`.
    #[serde(default)]
    pub greater_or_equal: Option<Spanned<serde_json::Value>>,
    /// Numeric `<`.
    #[serde(default)]
    pub less_than: Option<Spanned<serde_json::Value>>,
    /// Numeric `<=`.
    #[serde(default)]
    pub less_or_equal: Option<Spanned<serde_json::Value>>,
    /// Substring of a string, element of a list, or key of a mapping.
    #[serde(default)]
    pub contains: Option<Spanned<serde_json::Value>>,
    /// The negation of `contains`.
    #[serde(default)]
    pub not_contains: Option<Spanned<serde_json::Value>>,
    /// A string that starts with this.
    #[serde(default)]
    pub starts_with: Option<Spanned<serde_json::Value>>,
    /// A string that ends with this.
    #[serde(default)]
    pub ends_with: Option<Spanned<serde_json::Value>>,
    /// A string matching this regular expression (Rust `regex` syntax, unanchored).
    #[serde(default)]
    pub matches: Option<Spanned<String>>,
    /// Equal to one of these values.
    #[serde(default)]
    pub one_of: Option<Spanned<Vec<serde_json::Value>>>,
    /// `true`: the reference resolves to a value; `false`: it does not.
    #[serde(default)]
    pub exists: Option<Spanned<bool>>,
    /// `true`: an empty string, list or mapping (or null); `false`: anything else.
    #[serde(default)]
    pub is_empty: Option<Spanned<bool>>,
    /// A string (in characters), list or mapping of exactly this length.
    #[serde(default)]
    pub length: Option<Spanned<u64>>,
    /// Every nested condition holds.
    #[serde(default)]
    pub all: Option<Spanned<Vec<Spanned<RawCondition>>>>,
    /// At least one nested condition holds.
    #[serde(default)]
    pub any: Option<Spanned<Vec<Spanned<RawCondition>>>>,
    /// The nested condition does not hold.
    #[serde(default)]
    pub not: Option<Box<Spanned<RawCondition>>>,
    /// Message shown when the condition does not hold.
    #[serde(default)]
    pub message: Option<Spanned<String>>,
}
