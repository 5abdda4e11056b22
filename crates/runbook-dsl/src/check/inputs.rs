//! Inputs: types, defaults, secrets.

use serde_json::Value;

use super::Checker;
use crate::finding::{Finding, FindingCode};
use crate::model::Input;
use crate::raw::{InputType, RawRunbook};

impl Checker<'_> {
    pub(super) fn check_inputs(&mut self, raw: &RawRunbook) -> Vec<Input> {
        let mut inputs = Vec::new();
        for (name, spanned) in &raw.inputs {
            let input = &spanned.value;
            let span = self.span(spanned);
            let kind = input
                .kind
                .as_ref()
                .map_or(InputType::String, |kind| kind.value);
            if !super::is_identifier(name, &['_']) {
                self.report(
                    Finding::error(
                        FindingCode::InvalidInput,
                        self.key_span(span, name),
                        format!("input name `{name}` must be lowercase letters, digits and `_`"),
                    )
                    .with_help("templates refer to inputs as `{{inputs.NAME}}`"),
                );
            }
            if let Some(default) = &input.default {
                let default_span = self.span(default);
                if input.secret {
                    self.report(
                        Finding::error(
                            FindingCode::InvalidInput,
                            default_span,
                            format!("secret input `{name}` has a default value"),
                        )
                        .with_label("a secret written in the runbook is not a secret")
                        .with_help("remove the default; pass it with `env:` or `--input`"),
                    );
                } else if !value_fits(&default.value, kind) {
                    self.report(
                        Finding::error(
                            FindingCode::InvalidInput,
                            default_span,
                            format!(
                                "default of input `{name}` is not {}: {}",
                                kind.with_article(),
                                default.value
                            ),
                        )
                        .with_label(format!("expected {}", kind.with_article())),
                    );
                }
            }
            self.inputs.insert(name.clone(), kind);
            inputs.push(Input {
                name: name.clone(),
                kind,
                default: input.default.as_ref().map(|d| d.value.clone()),
                description: input.description.clone(),
                env: input.env.as_ref().map(|e| e.value.clone()),
                secret: input.secret,
                span,
            });
        }
        inputs
    }
}

/// Whether a YAML value is of the input's type.
pub fn value_fits(value: &Value, kind: InputType) -> bool {
    match kind {
        InputType::String => value.is_string(),
        InputType::Integer => value.is_i64() || value.is_u64(),
        InputType::Number => value.is_number(),
        InputType::Boolean => value.is_boolean(),
    }
}
