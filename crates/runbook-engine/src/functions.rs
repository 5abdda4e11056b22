//! Evaluates template functions (`{{last 4 inputs.key_id}}`): pure functions from JSON values to a
//! JSON value. Lint checked the name, the number of arguments and every literal argument; a
//! reference's value is checked here, and a mismatch is an error that names the argument, never a
//! panic and never a guess (a string is not read as a number, nothing is rounded).
//!
//! The one exhaustive dispatch over [`Function`]: a new function fails to compile until it is
//! evaluated here. Errors never carry an argument's value: it may be a secret.

use std::borrow::Borrow;

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use serde_json::Value;
use sha2::{Digest, Sha256};

use runbook_dsl::template::Function;

use crate::render::type_name;

/// Why a function could not be applied. `argument` is the 0-based position of the argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionError {
    /// The argument's type is not one the parameter takes.
    WrongType {
        argument: usize,
        found: &'static str,
    },
    /// A count below zero, or an integer beyond 64 bits.
    OutOfRange { argument: usize, why: &'static str },
    /// The result of `add` or `sub` does not fit in 64 bits.
    Overflow,
    /// `split` with an empty separator.
    EmptySeparator { argument: usize },
    /// `slice FROM TO` with FROM after TO.
    SliceOrder,
    /// `base64_decode` of text that is not base64.
    NotBase64,
    /// `base64_decode` of bytes that are not UTF-8 text.
    NotUtf8,
    /// `join` of a list with an item that has no text form (null, a list, a mapping).
    ListItem { item: usize, found: &'static str },
}

/// Base64 as RFC 4648 writes it, with `=` padding on output; input is accepted padded or not.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Applies `function` to `args` (as many as it takes: the check pass made sure of that). An
/// argument may be borrowed from the run's outputs: `{{length steps.get.outputs.body.items}}`
/// need not copy the list.
pub fn apply<V: std::borrow::Borrow<Value>>(
    function: Function,
    args: &[V],
) -> Result<Value, FunctionError> {
    let arg = |index: usize| args.get(index).map_or(&Value::Null, Borrow::borrow);
    match function {
        Function::Add => integer(arg(0), 0)?
            .checked_add(integer(arg(1), 1)?)
            .map(Value::from)
            .ok_or(FunctionError::Overflow),
        Function::Sub => integer(arg(0), 0)?
            .checked_sub(integer(arg(1), 1)?)
            .map(Value::from)
            .ok_or(FunctionError::Overflow),
        Function::First => {
            let count = count(arg(0), 0)?;
            slice(arg(1), 1, |len| (0, count.min(len)))
        }
        Function::Last => {
            let count = count(arg(0), 0)?;
            slice(arg(1), 1, |len| (len - count.min(len), len))
        }
        Function::Slice => {
            let (from, to) = (count(arg(0), 0)?, count(arg(1), 1)?);
            if from > to {
                return Err(FunctionError::SliceOrder);
            }
            slice(arg(2), 2, |len| (from.min(len), to.min(len)))
        }
        Function::Length => {
            let length = match arg(0) {
                Value::String(text) => text.chars().count(),
                Value::Array(items) => items.len(),
                Value::Object(fields) => fields.len(),
                other @ (Value::Null | Value::Bool(_) | Value::Number(_)) => {
                    return Err(wrong_type(0, other));
                }
            };
            Ok(Value::from(length))
        }
        Function::Lower => Ok(Value::String(string(arg(0), 0)?.to_lowercase())),
        Function::Upper => Ok(Value::String(string(arg(0), 0)?.to_uppercase())),
        Function::Trim => Ok(Value::String(string(arg(0), 0)?.trim().to_owned())),
        Function::Split => {
            let separator = string(arg(0), 0)?;
            if separator.is_empty() {
                return Err(FunctionError::EmptySeparator { argument: 0 });
            }
            let text = string(arg(1), 1)?;
            Ok(Value::Array(
                text.split(separator)
                    .map(|piece| Value::String(piece.to_owned()))
                    .collect(),
            ))
        }
        Function::Join => {
            let separator = string(arg(0), 0)?;
            let Value::Array(items) = arg(1) else {
                return Err(wrong_type(1, arg(1)));
            };
            let mut pieces = Vec::with_capacity(items.len());
            for (item, value) in items.iter().enumerate() {
                pieces.push(match value {
                    Value::String(text) => text.clone(),
                    Value::Number(number) => number.to_string(),
                    Value::Bool(flag) => flag.to_string(),
                    Value::Null | Value::Array(_) | Value::Object(_) => {
                        return Err(FunctionError::ListItem {
                            item,
                            found: type_name(value),
                        });
                    }
                });
            }
            Ok(Value::String(pieces.join(separator)))
        }
        Function::Base64 => Ok(Value::String(
            general_purpose::STANDARD.encode(string(arg(0), 0)?),
        )),
        Function::Base64Decode => {
            let bytes = BASE64
                .decode(string(arg(0), 0)?.trim())
                .map_err(|_| FunctionError::NotBase64)?;
            String::from_utf8(bytes)
                .map(Value::String)
                .map_err(|_| FunctionError::NotUtf8)
        }
        Function::Sha256 => {
            let digest = Sha256::digest(string(arg(0), 0)?.as_bytes());
            Ok(Value::String(
                digest.iter().map(|byte| format!("{byte:02x}")).collect(),
            ))
        }
    }
}

fn wrong_type(argument: usize, value: &Value) -> FunctionError {
    FunctionError::WrongType {
        argument,
        found: type_name(value),
    }
}

fn string(value: &Value, argument: usize) -> Result<&str, FunctionError> {
    match value {
        Value::String(text) => Ok(text),
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::Array(_)
        | Value::Object(_)) => Err(wrong_type(argument, other)),
    }
}

/// A whole number within 64 bits. `2.0` is not one: numbers keep the text they were given, and a
/// decimal where an integer belongs is a mistake worth hearing about.
fn integer(value: &Value, argument: usize) -> Result<i64, FunctionError> {
    let Value::Number(number) = value else {
        return Err(wrong_type(argument, value));
    };
    if let Some(integer) = number.as_i64() {
        return Ok(integer);
    }
    let text = number.to_string();
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Err(FunctionError::OutOfRange {
            argument,
            why: "it is beyond the 64-bit integer range",
        })
    } else {
        Err(FunctionError::WrongType {
            argument,
            found: "a decimal number",
        })
    }
}

fn count(value: &Value, argument: usize) -> Result<usize, FunctionError> {
    let integer = integer(value, argument)?;
    if integer < 0 {
        return Err(FunctionError::OutOfRange {
            argument,
            why: "a count cannot be negative",
        });
    }
    Ok(usize::try_from(integer).unwrap_or(usize::MAX))
}

/// The characters of a string or the items of a list within `range(length)`, which returns a
/// `(from, to)` with `from <= to <= length`.
fn slice(
    value: &Value,
    argument: usize,
    range: impl Fn(usize) -> (usize, usize),
) -> Result<Value, FunctionError> {
    match value {
        Value::String(text) => {
            let (from, to) = range(text.chars().count());
            Ok(Value::String(
                text.chars()
                    .skip(from)
                    .take(to.saturating_sub(from))
                    .collect(),
            ))
        }
        Value::Array(items) => {
            let (from, to) = range(items.len());
            Ok(Value::Array(
                items
                    .get(from..to)
                    .map(<[Value]>::to_vec)
                    .unwrap_or_default(),
            ))
        }
        other @ (Value::Null | Value::Bool(_) | Value::Number(_) | Value::Object(_)) => {
            Err(wrong_type(argument, other))
        }
    }
}

#[cfg(test)]
mod tests;
