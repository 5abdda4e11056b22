//! Input values: from `--input name=value`, then the input's environment variable, then its default.

use serde_json::{Map, Value};

use runbook_dsl::{InputType, Runbook};

use crate::redact::{MASK, MIN_SECRET_CHARS, Redactor};

/// Inputs with their final, typed values.
#[derive(Debug, Clone, Default)]
pub struct ResolvedInputs {
    pub values: Map<String, Value>,
    pub redactor: Redactor,
    /// Names of secret inputs, for masking in reports.
    pub secret_names: Vec<String>,
}

impl ResolvedInputs {
    /// The inputs as a report shows them: secrets masked.
    pub fn for_report(&self) -> Map<String, Value> {
        self.values
            .iter()
            .map(|(name, value)| {
                let shown = if self.secret_names.contains(name) {
                    Value::String(MASK.to_owned())
                } else {
                    value.clone()
                };
                (name.clone(), shown)
            })
            .collect()
    }
}

/// Why inputs could not be resolved. Messages never contain a secret value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("unknown input `{name}`{}", suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    Unknown {
        name: String,
        suggestion: Option<String>,
    },
    #[error("input `{name}` must be {expected}, got `{shown}`")]
    WrongType {
        name: String,
        expected: &'static str,
        shown: String,
    },
    #[error("input `{name}` has no value: {how}")]
    Missing { name: String, how: String },
    #[error("{} inputs have no value:\n{}", missing.len(), missing.iter().map(|(name, how)| format!("  {name}: {how}")).collect::<Vec<_>>().join("\n"))]
    MissingSeveral { missing: Vec<(String, String)> },
    #[error(
        "secret input `{name}` is shorter than {min} characters: a value that short would be \
         masked wherever it occurs by chance in the output; use a real secret"
    )]
    ShortSecret { name: String, min: usize },
    #[error("`--input {given}` is not of the form name=value")]
    Malformed { given: String },
}

/// Resolves every declared input. `env` looks up environment variables (injected for tests).
pub fn resolve_inputs(
    runbook: &Runbook,
    given: &[(String, String)],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ResolvedInputs, InputError> {
    for (name, _) in given {
        if runbook.input(name).is_none() {
            let names = runbook.inputs.iter().map(|input| input.name.as_str());
            return Err(InputError::Unknown {
                name: name.clone(),
                suggestion: runbook_dsl::suggest::did_you_mean(name, names).map(str::to_owned),
            });
        }
    }
    let mut resolved = ResolvedInputs::default();
    let mut missing = Vec::new();
    for input in &runbook.inputs {
        let from_cli = given
            .iter()
            .rev()
            .find(|(name, _)| *name == input.name)
            .map(|(_, value)| value.clone());
        let from_env = || input.env.as_deref().and_then(env);
        let value = match from_cli.or_else(from_env) {
            Some(text) => {
                if input.secret {
                    if text.chars().count() < MIN_SECRET_CHARS {
                        return Err(InputError::ShortSecret {
                            name: input.name.clone(),
                            min: MIN_SECRET_CHARS,
                        });
                    }
                    resolved.redactor.add(&text);
                }
                parse_typed(&input.name, &text, input.kind, input.secret)?
            }
            None => match &input.default {
                Some(default) => default.clone(),
                None => {
                    let how = match &input.env {
                        Some(var) => format!(
                            "pass `--input {}=...` or set the environment variable {var}",
                            input.name
                        ),
                        None => format!("pass `--input {}=...`", input.name),
                    };
                    missing.push((input.name.clone(), how));
                    continue;
                }
            },
        };
        if input.secret {
            resolved.secret_names.push(input.name.clone());
            resolved.redactor.add_value(&value);
        }
        resolved.values.insert(input.name.clone(), value);
    }
    match missing.len() {
        0 => Ok(resolved),
        1 => {
            let (name, how) = missing.remove(0);
            Err(InputError::Missing { name, how })
        }
        _ => Err(InputError::MissingSeveral { missing }),
    }
}

/// Converts command-line text to the input's type.
pub fn parse_typed(
    name: &str,
    text: &str,
    kind: InputType,
    secret: bool,
) -> Result<Value, InputError> {
    let wrong = || InputError::WrongType {
        name: name.to_owned(),
        expected: match kind {
            InputType::String => "a string",
            InputType::Integer => "an integer",
            InputType::Number => "a number",
            InputType::Boolean => "true or false",
        },
        shown: if secret {
            MASK.to_owned()
        } else {
            text.to_owned()
        },
    };
    match kind {
        InputType::String => Ok(Value::String(text.to_owned())),
        InputType::Integer => text
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| wrong()),
        InputType::Number => text
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(wrong),
        InputType::Boolean => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(wrong()),
        },
    }
}

/// Splits `name=value` from the command line.
pub fn parse_assignment(given: &str) -> Result<(String, String), InputError> {
    match given.split_once('=') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.to_owned()))
        }
        _ => Err(InputError::Malformed {
            given: given.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_parsing_keeps_types_and_hides_secrets() {
        assert_eq!(
            parse_typed("n", "42", InputType::Integer, false),
            Ok(Value::from(42))
        );
        assert_eq!(
            parse_typed("b", "true", InputType::Boolean, false),
            Ok(Value::Bool(true))
        );
        let error = parse_typed("k", "hunter2", InputType::Integer, true).err();
        assert!(error.is_some_and(|e| !e.to_string().contains("hunter2")));
    }

    #[test]
    fn assignments_split_on_the_first_equals() {
        assert_eq!(
            parse_assignment("q=a=b"),
            Ok(("q".to_owned(), "a=b".to_owned()))
        );
        assert!(parse_assignment("novalue").is_err());
    }
}
