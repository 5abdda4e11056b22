//! Step-level checks: ids, kinds, `when`, `timeout`, captures; then one function per step kind.

use super::references::Scope;
use super::{Checker, StepInfo};
use crate::finding::{Finding, FindingCode};
use crate::model::{Action, AssertStep, Capture, CaptureSource, JsonPath, OnError, Step, StepKind};
use crate::raw::{RawCapture, RawStep};
use crate::source::Span;
use crate::spanned::Spanned;

/// Where a list of steps sits, which decides what its steps may refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// The main sequence or a group: each step sees the steps before it.
    Sequence,
    /// Compensation of the step numbered `owner`: it sees that step and everything before it.
    Rollback { owner: usize },
    /// `on_failure` or the runbook's `finally`: they may refer to any step; a step that did not run
    /// is an error at run time.
    Anywhere,
}

impl Checker<'_> {
    /// Checks a list of steps (at any depth).
    pub(super) fn check_step_list(
        &mut self,
        steps: &[Spanned<RawStep>],
        placement: Placement,
    ) -> Vec<Step> {
        let mut checked = Vec::new();
        for spanned in steps {
            let step = &spanned.value;
            let id = self.step_id(&step.id.value);
            let id_span = self.span(&step.id);
            if let Some(first) = self.seen_ids.get(&id) {
                let (line, _) = self.source.line_col(first.start);
                self.report(
                    Finding::error(
                        FindingCode::DuplicateStepId,
                        id_span,
                        format!("duplicate step id `{id}`"),
                    )
                    .with_label(format!("also used by the step on line {line}"))
                    .with_help("step ids must be unique in the whole runbook; rename one of them"),
                );
            } else {
                self.seen_ids.insert(id.clone(), id_span);
            }
            if !super::is_identifier(&step.id.value, &['_']) {
                self.report(
                    Finding::error(
                        FindingCode::InvalidStepId,
                        id_span,
                        format!("step id `{id}` must be lowercase letters, digits and `_`, starting with a letter"),
                    )
                    .with_label("invalid id")
                    .with_help("ids appear in references such as `{{steps.ID.outputs.NAME}}`"),
                );
            } else if id == crate::model::PRECONDITIONS_ID {
                // Answers files key prompt answers by step id, and the header's confirmation by
                // this name: a step called so could never be answered unambiguously.
                self.report(
                    Finding::error(
                        FindingCode::InvalidStepId,
                        id_span,
                        format!("step id `{id}` is reserved"),
                    )
                    .with_label("reserved for the header's preconditions")
                    .with_help(
                        "an answers file confirms the header's `preconditions:` under this key; \
                         rename the step, e.g. `check_preconditions`",
                    ),
                );
            }
            let index = self.next_index;
            self.next_index += 1;
            let visible_before = match placement {
                Placement::Sequence => index,
                Placement::Rollback { owner } => owner + 1,
                Placement::Anywhere => usize::MAX,
            };
            let scope = Scope {
                visible_before,
                current: index,
                own_outputs: None,
                in_rollback: matches!(placement, Placement::Rollback { .. }),
            };
            let result = self.check_step(scope, spanned, placement);
            // Register outputs even when the step has findings, so later references do not cascade.
            let outputs = result
                .as_ref()
                .map(|step| step.kind.outputs())
                .unwrap_or_else(|| self.raw_outputs(step));
            self.checked_steps
                .entry(id)
                .or_insert(StepInfo { index, outputs });
            checked.extend(result);
        }
        checked
    }

    fn check_step(
        &mut self,
        scope: Scope,
        spanned: &Spanned<RawStep>,
        placement: Placement,
    ) -> Option<Step> {
        let step = &spanned.value;
        let span = self.span(spanned);
        let mut ok = true;
        let when = match &step.when {
            Some(when) => {
                let condition = self.condition(when, scope);
                ok &= condition.is_some();
                condition
            }
            None => None,
        };
        let timeout = match &step.timeout {
            Some(timeout) => {
                let parsed = self.duration(timeout);
                ok &= parsed.is_some();
                parsed
            }
            None => None,
        };
        let keys = step.kind_keys();
        let kind = match keys.as_slice() {
            [_] => self.check_kind(scope, step),
            [] => {
                self.report(
                    Finding::error(
                        FindingCode::StepKind,
                        self.span(&step.id),
                        format!("step `{}` does not say what it does", step.id.value),
                    )
                    .with_label("no step kind")
                    .with_help(
                        "add one of `http:`, `shell:`, `assert:`, `prompt:`, `group:`, `audit:`, \
                         `plugin:`, `note:`, `stop:` or `use:`",
                    ),
                );
                None
            }
            many => {
                self.report(
                    Finding::error(
                        FindingCode::StepKind,
                        self.span(&step.id),
                        format!(
                            "step `{}` has {} step kinds ({}); a step does one thing",
                            step.id.value,
                            many.len(),
                            many.join(", ")
                        ),
                    )
                    .with_label("more than one step kind")
                    .with_help("split it into one step per kind"),
                );
                None
            }
        };
        if let Some(with) = &step.with
            && step.use_fragment.is_none()
        {
            let span = self.key_span(self.span(with), "with");
            self.report(
                Finding::error(
                    FindingCode::IneffectiveField,
                    span,
                    "`with:` gives arguments to a fragment, but this step has no `use:`",
                )
                .with_label("no fragment to pass them to")
                .with_help("add `use: PATH.fragment.yaml`, or remove `with:`"),
            );
            ok = false;
        }
        let modifiers = self.check_modifiers(scope, step, kind.as_ref());
        // A rollback step may use the outputs of the step it undoes: register them before checking
        // the rollback (check_step_list registers them for everyone else afterwards).
        if let Some(kind) = &kind
            && !step.rollback.is_empty()
        {
            self.checked_steps
                .entry(self.step_id(&step.id.value))
                .or_insert(StepInfo {
                    index: scope.current,
                    outputs: kind.outputs(),
                });
        }
        let rollback = if step.rollback.is_empty() {
            Vec::new()
        } else if matches!(placement, Placement::Rollback { .. }) {
            let span = self.key_span(self.span(&step.rollback[0]), "rollback");
            self.report(
                Finding::error(
                    FindingCode::NestedRollback,
                    span,
                    "a rollback step cannot have a rollback of its own",
                )
                .with_label("nested rollback")
                .with_help("put every compensating step in the rollback of the step it undoes"),
            );
            ok = false;
            Vec::new()
        } else {
            let before = self.findings.len();
            self.cleanup_depth += 1;
            let steps = self.check_step_list(
                &step.rollback,
                Placement::Rollback {
                    owner: scope.current,
                },
            );
            self.cleanup_depth -= 1;
            ok &= self.findings.len() == before;
            steps
        };
        let commit = self.check_commit(step, kind.as_ref());
        ok &= self.check_ineffective(step, kind.as_ref());
        let (until, retry) = modifiers?;
        if !ok {
            return None;
        }
        let kind = kind?;
        let resume = step
            .resume
            .as_ref()
            .map_or_else(|| kind.default_resume(), |policy| policy.value);
        let fragment_title = kind
            .group()
            .and_then(|group| group.fragment.as_ref())
            .map(|fragment| fragment.title.clone());
        Some(Step {
            id: self.step_id(&step.id.value),
            name: step.name.as_ref().map_or_else(
                || fragment_title.unwrap_or_else(|| step.id.value.clone()),
                |name| name.value.clone(),
            ),
            description: step.description.clone(),
            when,
            timeout,
            kind,
            span,
            until,
            retry,
            on_error: step
                .on_error
                .as_ref()
                .map_or(OnError::Abort, |policy| policy.value),
            rollback,
            irreversible: step.irreversible,
            commit: commit?,
            resume,
            _checked: crate::model::Checked::PROOF,
        })
    }

    /// The one exhaustive dispatch over raw step kinds. The step is destructured without `..`, so
    /// a new field of `RawStep` does not compile until this says whether it is a kind.
    fn check_kind(&mut self, scope: Scope, step: &RawStep) -> Option<StepKind> {
        let RawStep {
            id: _,
            name: _,
            description: _,
            when: _,
            timeout: _,
            http,
            shell,
            assert,
            prompt,
            group,
            audit,
            plugin,
            note,
            stop,
            until: _,
            poll: _,
            retry: _,
            on_error: _,
            rollback: _,
            irreversible: _,
            commit: _,
            resume: _,
            use_fragment,
            with: _,
        } = step;
        let action = |action: Action| StepKind::Action(action);
        if let Some(http) = http {
            return self.check_http(scope, http).map(Action::Http).map(action);
        }
        if let Some(shell) = shell {
            return self
                .check_shell(scope, shell)
                .map(Action::Shell)
                .map(action);
        }
        if let Some(conditions) = assert {
            return self
                .check_assert(scope, conditions)
                .map(Action::Assert)
                .map(action);
        }
        if let Some(prompt) = prompt {
            return self
                .check_prompt(scope, prompt)
                .map(Action::Prompt)
                .map(action);
        }
        if let Some(group) = group {
            return self.check_group(group).map(StepKind::Group);
        }
        if let Some(audit) = audit {
            return self
                .check_audit(scope, audit)
                .map(Action::Audit)
                .map(action);
        }
        if let Some(plugin) = plugin {
            return self
                .check_plugin(scope, plugin)
                .map(Action::Plugin)
                .map(action);
        }
        if let Some(note) = note {
            return self.check_note(scope, note).map(Action::Note).map(action);
        }
        if let Some(stop) = stop {
            return self.check_stop(scope, stop).map(Action::Stop).map(action);
        }
        if let Some(path) = use_fragment {
            return self.check_use(scope, step, path).map(StepKind::Group);
        }
        None
    }

    fn check_assert(
        &mut self,
        scope: Scope,
        conditions: &Spanned<Vec<Spanned<crate::raw::RawCondition>>>,
    ) -> Option<AssertStep> {
        if conditions.value.is_empty() {
            let span = self.span(conditions);
            self.report(
                Finding::error(
                    FindingCode::InvalidCondition,
                    span,
                    "`assert` has no conditions",
                )
                .with_label("empty list")
                .with_help(
                    "add at least one condition, e.g. `- that: \"{{inputs.x}}\"` with `equals: 1`",
                ),
            );
            return None;
        }
        self.conditions(&conditions.value, scope)
            .map(|conditions| AssertStep { conditions })
    }

    /// Parses a duration field, reporting a finding when it does not parse or is longer than
    /// [`MAX_DURATION`](crate::duration::MAX_DURATION).
    pub(super) fn duration(&mut self, field: &Spanned<String>) -> Option<std::time::Duration> {
        use crate::duration::{DisplayDuration, DurationError, parse_duration};
        match parse_duration(&field.value) {
            Ok(duration) => Some(duration),
            Err(error) => {
                let span = self.span(field);
                let finding = match &error {
                    DurationError::Malformed { .. } => {
                        Finding::error(FindingCode::InvalidDuration, span, error.to_string())
                            .with_label("not a duration")
                    }
                    DurationError::TooLong { max, .. } => {
                        Finding::error(FindingCode::InvalidDuration, span, error.to_string())
                            .with_label(format!("more than {}", DisplayDuration(*max)))
                            .with_help(
                                "durations are limited to 7 days; a longer wait belongs to a \
                                 scheduler, not to a runbook",
                            )
                    }
                };
                self.report(finding);
                None
            }
        }
    }

    /// Best-effort outputs of a step that did not check, so its users are not reported too.
    fn raw_outputs(&self, step: &RawStep) -> Vec<String> {
        let (builtin, captures): (&[&str], Vec<String>) = if let Some(http) = &step.http {
            (
                crate::model::HttpStep::BUILTIN_OUTPUTS,
                http.value.capture.keys().cloned().collect(),
            )
        } else if let Some(shell) = &step.shell {
            (
                crate::model::ShellStep::BUILTIN_OUTPUTS,
                shell.value.capture.keys().cloned().collect(),
            )
        } else if let Some(plugin) = &step.plugin {
            let outputs = self
                .catalog
                .spec(&plugin.value.action.value)
                .map(|spec| spec.outputs.iter().map(|name| (*name).to_owned()).collect())
                .unwrap_or_default();
            (&[], outputs)
        } else if let Some(prompt) = &step.prompt {
            let mut names: Vec<String> = prompt.value.answers.keys().cloned().collect();
            names.push("confirmed".to_owned());
            (&[], names)
        } else {
            (&[], Vec::new())
        };
        builtin
            .iter()
            .map(|name| (*name).to_owned())
            .chain(captures)
            .collect()
    }

    /// Checks captures; `allow_header` is false for shell steps.
    pub(super) fn captures(
        &mut self,
        captures: &indexmap::IndexMap<String, Spanned<RawCapture>>,
        allow_header: bool,
        json_available: bool,
        builtin: &[&str],
    ) -> Option<Vec<Capture>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (name, spanned) in captures {
            let value_span = self.span(spanned);
            let span = self.key_span(value_span, name);
            if builtin.contains(&name.as_str()) {
                self.report(
                    Finding::error(
                        FindingCode::InvalidCapture,
                        span,
                        format!("capture `{name}` has the name of a built-in output"),
                    )
                    .with_help(format!(
                        "built-in outputs: {}; choose another name",
                        builtin.join(", ")
                    )),
                );
                ok = false;
                continue;
            }
            let (jsonpath, header, all, secret) = match &spanned.value {
                RawCapture::JsonPath(path) => (Some(path.as_str()), None, false, false),
                RawCapture::Spec(spec) => (
                    spec.jsonpath.as_deref(),
                    spec.header.as_deref(),
                    spec.all,
                    spec.secret,
                ),
            };
            let source = match (jsonpath, header) {
                (Some(path), None) => {
                    if !json_available {
                        self.report(
                            Finding::error(
                                FindingCode::InvalidCapture,
                                span,
                                format!("capture `{name}` uses JSONPath but stdout is not JSON"),
                            )
                            .with_help("add `stdout: json` to the shell step"),
                        );
                        ok = false;
                        continue;
                    }
                    // The mapping form's span is the mapping (its first key): point at the path.
                    let path_span = match &spanned.value {
                        RawCapture::JsonPath(_) => value_span,
                        RawCapture::Spec(_) => {
                            let key = self.locate_text(value_span, "jsonpath");
                            self.locate_text(Span::new(key.end, key.end), path)
                        }
                    };
                    match self.jsonpath(path, path_span) {
                        Some(path) => CaptureSource::JsonPath(path),
                        None => {
                            ok = false;
                            continue;
                        }
                    }
                }
                (None, Some(header)) if allow_header => {
                    CaptureSource::Header(header.to_ascii_lowercase())
                }
                (None, Some(_)) => {
                    self.report(
                        Finding::error(
                            FindingCode::InvalidCapture,
                            span,
                            format!("capture `{name}` reads a header, but shell steps have none"),
                        )
                        .with_help("capture from JSON stdout with `jsonpath:`"),
                    );
                    ok = false;
                    continue;
                }
                (Some(_), Some(_)) | (None, None) => {
                    self.report(
                        Finding::error(
                            FindingCode::InvalidCapture,
                            span,
                            format!(
                                "capture `{name}` must have exactly one of `jsonpath` or `header`"
                            ),
                        )
                        .with_label("ambiguous capture"),
                    );
                    ok = false;
                    continue;
                }
            };
            out.push(Capture {
                name: name.clone(),
                source,
                all,
                secret,
                span,
            });
        }
        ok.then_some(out)
    }

    /// Parses a JSONPath once, here, so a bad path is a lint finding rather than a run failure.
    fn jsonpath(&mut self, text: &str, node: Span) -> Option<JsonPath> {
        match super::parse_jsonpath(text) {
            Some(query) => Some(JsonPath {
                text: text.to_owned(),
                query,
            }),
            None => {
                // jsonpath-rust's messages name grammar rules; the hint says what to write.
                let hint = if text.starts_with('$') {
                    "see RFC 9535 for JSONPath syntax, e.g. `$.account_number` or `$[0].id`"
                } else {
                    "a JSONPath starts with `$`, e.g. `$.account_number`"
                };
                self.report(
                    Finding::error(
                        FindingCode::InvalidJsonPath,
                        node,
                        format!("invalid JSONPath `{text}`"),
                    )
                    .with_label("does not parse")
                    .with_help(hint),
                );
                None
            }
        }
    }
}
