//! Templates and the references inside them: parsed, then resolved against inputs and earlier steps.

use serde_json::Value;

use super::Checker;
use super::fragment::Binding;
use crate::finding::{Finding, FindingCode};
use crate::model::ValueTemplate;
use crate::source::Span;
use crate::spanned::Spanned;
use crate::suggest::{did_you_mean, did_you_mean_within};

/// How far past a node's start [`Checker::locate_text`] looks for a text, beyond twice its length.
const LOCATE_WINDOW: usize = 1024;

/// Most step names listed in a help text.
const MAX_LISTED: usize = 10;
use crate::template::{
    ParsedPart, ParsedRef, Part, RefPath, Reference, Template, TimingField, parse_template,
};

/// What a template may refer to where it appears.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'s> {
    /// Only steps numbered below this have certainly run when the template is rendered.
    pub visible_before: usize,
    /// The number of the step the template belongs to.
    pub current: usize,
    /// The step's own outputs, available as `{{outputs.NAME}}` in its `assert` only.
    pub own_outputs: Option<&'s [String]>,
    /// A rollback step: it runs when a later step fails, so it sees only the step it undoes and
    /// the steps before that.
    pub in_rollback: bool,
}

/// What a reference reads from another step, for messages.
#[derive(Debug, Clone, Copy)]
enum StepPart<'r> {
    Output(&'r str),
    Timing(TimingField),
    Outcome,
}

impl StepPart<'_> {
    /// "its outputs" / "its `started_at`".
    fn describe(self) -> String {
        match self {
            StepPart::Output(_) => "its outputs".to_owned(),
            StepPart::Timing(field) => format!("its `{}`", timing_name(field)),
            StepPart::Outcome => "its `outcome`".to_owned(),
        }
    }
}

fn timing_name(field: TimingField) -> &'static str {
    match field {
        TimingField::StartedAt => "started_at",
        TimingField::FinishedAt => "finished_at",
        TimingField::DurationMs => "duration_ms",
    }
}

impl Checker<'_> {
    /// Parses and resolves a templated string field.
    pub(crate) fn template(&mut self, field: &Spanned<String>, scope: Scope) -> Option<Template> {
        let span = self.span(field);
        self.template_at(&field.value, span, scope)
    }

    /// Parses and resolves `text`, which sits at `node` in the file.
    pub(crate) fn template_at(&mut self, text: &str, node: Span, scope: Scope) -> Option<Template> {
        let content_start = self.content_start(node, text);
        match parse_template(text, node, content_start) {
            Ok(parsed) => {
                let mut ok = true;
                let mut substituted = false;
                let mut parts = Vec::new();
                for part in parsed.parts {
                    match part {
                        ParsedPart::Literal(text) => parts.push(Part::Literal(text)),
                        ParsedPart::Ref(written) => match self.param(&written) {
                            Some(Some(Binding::Ref(reference))) => {
                                substituted = true;
                                parts.push(Part::Ref(reference));
                            }
                            Some(Some(Binding::Literal(value))) => {
                                substituted = true;
                                parts.push(Part::Literal(literal_text(&value)));
                            }
                            Some(None) => ok = false,
                            None => match self.reference(&written, scope) {
                                Some(reference) => parts.push(Part::Ref(reference)),
                                None => ok = false,
                            },
                        },
                        ParsedPart::Call(written) => match self.call(written, scope) {
                            Some(call) => parts.push(Part::Call(call)),
                            None => ok = false,
                        },
                    }
                }
                // Inside a fragment the text reads as the run sees it: `{{params.app}}` becomes
                // the argument (`{{inputs.web_app}}`, or its literal), so `render` and failure
                // messages say what each use does.
                let source = if substituted {
                    parts.iter().map(written_form).collect()
                } else {
                    parsed.source
                };
                ok.then_some(Template {
                    source,
                    parts,
                    span: parsed.span,
                })
            }
            Err(error) => {
                let span = match content_start {
                    Some(start) => Span::new(start + error.at.0, start + error.at.1),
                    None => node,
                };
                let (code, label) = if error.is_unsupported() {
                    (FindingCode::UnsupportedTemplate, "not allowed in a runbook")
                } else {
                    (FindingCode::InvalidTemplate, "template syntax error")
                };
                self.report(Finding::error(code, span, error.to_string()).with_label(label));
                None
            }
        }
    }

    /// A YAML value whose strings are templates.
    pub(crate) fn value_template(
        &mut self,
        field: &Spanned<Value>,
        scope: Scope,
    ) -> Option<ValueTemplate> {
        let span = self.span(field);
        if let Value::Number(number) = &field.value
            && !number.is_i64()
            && !number.is_u64()
            && let Some(exact) = self.exact_number_at(span)
        {
            return Some(ValueTemplate::Literal(Value::Number(exact)));
        }
        self.value_template_at(&field.value, span, scope)
    }

    /// The YAML parser reads a number beyond 64 bits as a float (`100000000000000000000001` becomes
    /// `1e23`); serde_json keeps a number's text exactly, so read it again from the source.
    fn exact_number_at(&self, span: Span) -> Option<serde_json::Number> {
        let rest = self.source.text.get(span.start..)?;
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')))
            .unwrap_or(rest.len());
        let text = rest.get(..end)?;
        serde_json::from_str(text.strip_prefix('+').unwrap_or(text)).ok()
    }

    pub(crate) fn value_template_at(
        &mut self,
        value: &Value,
        node: Span,
        scope: Scope,
    ) -> Option<ValueTemplate> {
        match value {
            Value::String(text) => {
                // Nested strings have no span of their own: find them in the node's text.
                let at = self.locate(node, text);
                // Exactly `{{params.NAME}}` bound to a literal keeps the literal's type, as exactly
                // one reference keeps its value's.
                if let Some(value) = self.whole_param_literal(text, at) {
                    return Some(ValueTemplate::Literal(value));
                }
                let template = self.template_at(text, at, scope)?;
                Some(match template.literal_text() {
                    None => ValueTemplate::Template(template),
                    // Inside a fragment a literal part may be a parameter's value.
                    Some(literal) if !self.frames.is_empty() => {
                        ValueTemplate::Literal(Value::String(literal))
                    }
                    Some(_) => ValueTemplate::Literal(value.clone()),
                })
            }
            Value::Array(items) => {
                let checked: Vec<_> = items
                    .iter()
                    .map(|item| self.value_template_at(item, node, scope))
                    .collect();
                checked
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(ValueTemplate::Array)
            }
            Value::Object(fields) => {
                let checked: Vec<_> = fields
                    .iter()
                    .map(|(key, item)| {
                        self.value_template_at(item, node, scope)
                            .map(|item| (key.clone(), item))
                    })
                    .collect();
                checked
                    .into_iter()
                    .collect::<Option<Vec<_>>>()
                    .map(ValueTemplate::Object)
            }
            other @ (Value::Null | Value::Bool(_) | Value::Number(_)) => {
                Some(ValueTemplate::Literal(other.clone()))
            }
        }
    }

    /// Where `text` is copied verbatim in the file, if it is: a plain or simply quoted scalar.
    fn content_start(&self, node: Span, text: &str) -> Option<usize> {
        if !node.is_known() || text.is_empty() {
            return None;
        }
        let rest = self.source.text.get(node.start..)?;
        let start = match rest.as_bytes().first() {
            Some(b'"') | Some(b'\'') => node.start + 1,
            _ => node.start,
        };
        self.source
            .text
            .get(start..)
            .is_some_and(|rest| rest.starts_with(text))
            .then_some(start)
    }

    /// The span of `text` inside `node`, or the node itself.
    pub(crate) fn locate_text(&self, node: Span, text: &str) -> Span {
        self.locate(node, text)
    }

    /// The span of `text` inside `node`, or the node itself.
    fn locate(&self, node: Span, text: &str) -> Span {
        if !node.is_known() || text.is_empty() {
            return node;
        }
        // The text is inside (or right after the start of) its node: a bounded window keeps this
        // linear in the text, whatever the file's size.
        let mut end = (node.start + text.len() * 2 + LOCATE_WINDOW).min(self.source.text.len());
        while !self.source.text.is_char_boundary(end) {
            end -= 1;
        }
        // memmem, not `str::find`: the two-way searcher's set-up was most of the cost of these
        // short searches.
        self.source
            .text
            .get(node.start..end)
            .and_then(|rest| memchr::memmem::find(rest.as_bytes(), text.as_bytes()))
            .map_or(node, |at| {
                Span::new(node.start + at, node.start + at + text.len())
            })
    }

    /// Classifies and resolves a reference as written; reports and returns `None` when it cannot
    /// exist.
    pub(crate) fn reference(&mut self, written: &ParsedRef, scope: Scope) -> Option<Reference> {
        match written.classify() {
            Some(reference) => {
                let reference = self.in_fragment(reference)?;
                self.resolve(&reference, scope).then_some(reference)
            }
            None => {
                self.report_unknown_reference(written);
                None
            }
        }
    }

    /// Resolves a reference built outside a template (e.g. an audit duration's step event).
    pub(crate) fn check_reference(&mut self, reference: &Reference, scope: Scope) -> bool {
        self.resolve(reference, scope)
    }

    /// Resolves one reference; reports and returns false when it cannot exist.
    fn resolve(&mut self, reference: &Reference, scope: Scope) -> bool {
        let span = reference.span;
        match &reference.path {
            RefPath::Input { name, .. } => {
                if self.inputs.contains_key(name) {
                    return true;
                }
                if self.dropped.all_inputs || self.dropped.inputs.contains(name) {
                    return false;
                }
                let suggestion = did_you_mean_within(
                    name,
                    self.inputs.keys().map(String::as_str),
                    &mut self.suggest_budget,
                );
                let finding = Finding::error(
                    FindingCode::UnknownInput,
                    span,
                    format!("unknown input `{name}`"),
                )
                .with_label("no such input");
                let finding = if suggestion.is_some() {
                    finding.with_suggestion(suggestion)
                } else {
                    finding.with_help(format!("declare it under `inputs:` as `{name}`"))
                };
                self.report(finding);
                false
            }
            RefPath::StepTiming { step, field } => self.resolve_step(step, *field, span, scope),
            RefPath::StepOutcome { step } => self.resolve_outcome(step, span, scope),
            RefPath::Run { .. } => true,
            RefPath::StepOutput { step, output, .. } => {
                self.resolve_step_output(step, output, span, scope)
            }
            RefPath::OwnOutput { output, .. } => {
                match scope.own_outputs {
                    Some(outputs) if outputs.iter().any(|o| o == output) => true,
                    Some(outputs) => {
                        let suggestion = did_you_mean_within(
                            output,
                            outputs.iter().map(String::as_str),
                            &mut self.suggest_budget,
                        );
                        self.report(
                            Finding::error(
                                FindingCode::UnknownOutput,
                                span,
                                format!("this step has no output `{output}`"),
                            )
                            .with_label("unknown output")
                            .with_help(match suggestion {
                                Some(candidate) => format!("did you mean `{candidate}`?"),
                                None => format!("this step's outputs are: {}", outputs.join(", ")),
                            }),
                        );
                        false
                    }
                    None => {
                        self.report(
                        Finding::error(
                            FindingCode::UnknownReference,
                            span,
                            "`outputs.…` refers to a step's own outputs and is only available in \
                             that step's `assert`",
                        )
                        .with_label("not available here")
                        .with_help("refer to another step's outputs as `{{steps.ID.outputs.NAME}}`"),
                    );
                        false
                    }
                }
            }
            RefPath::Env { name } => {
                self.env_refs.insert(name.clone());
                true
            }
        }
    }

    /// A path with no known shape: says what the root it starts with expects.
    fn report_unknown_reference(&mut self, reference: &ParsedRef) {
        let segments = &reference.segments;
        let span = reference.span;
        let first = segments.first().map(String::as_str).unwrap_or("");
        let roots = ["inputs", "steps", "env", "outputs", "run"];
        let function = (segments.len() == 1)
            .then(|| crate::template::Function::parse(first))
            .flatten();
        let help = match (first, did_you_mean(first, roots)) {
            _ if function.is_some() => format!(
                "`{first}` is a function: give it its arguments, e.g. `{}`",
                function.map_or("", |function| function.example())
            ),
            ("steps", _) => "write `{{steps.ID.outputs.NAME}}`, or `{{steps.ID.outcome}}`, \
                             `{{steps.ID.started_at}}`, `{{steps.ID.finished_at}}`, \
                             `{{steps.ID.duration_ms}}`"
                .to_owned(),
            ("run", _) => "write `{{run.id}}`, `{{run.actor}}`, `{{run.started_at}}`, \
                 `{{run.failed_step}}` or `{{run.failure}}`"
                .to_owned(),
            ("inputs", _) => "write `{{inputs.NAME}}`".to_owned(),
            ("env", _) => "write `{{env.NAME}}`".to_owned(),
            ("outputs", _) => "write `{{outputs.NAME}}`".to_owned(),
            (_, Some(root)) => format!("did you mean `{root}`?"),
            _ => "references start with `inputs.`, `steps.`, `env.` or `outputs.`".to_owned(),
        };
        self.report(
            Finding::error(
                FindingCode::UnknownReference,
                span,
                format!("`{}` is not a reference a runbook can use", reference.text),
            )
            .with_label("unknown reference")
            .with_help(help),
        );
    }

    /// Whether step `step` has finished by the time the step at `scope` runs.
    fn has_run_before(&self, step: &str, scope: Scope) -> bool {
        self.checked_steps
            .get(step)
            .is_some_and(|info| info.index < scope.visible_before && info.index != scope.current)
    }

    /// A reference to a step as a whole (its timings): the step must have run by then.
    fn resolve_step(&mut self, step: &str, field: TimingField, span: Span, scope: Scope) -> bool {
        if self.has_run_before(step, scope) {
            return true;
        }
        self.report_unavailable_step(step, StepPart::Timing(field), span, scope);
        false
    }

    /// `{{steps.ID.outcome}}`: in the main steps, of a step that runs before this one; in cleanup
    /// (a rollback, an undo, `on_failure`, `finally`), of any step: one that never ran is
    /// `not_run`, which is the point of asking.
    fn resolve_outcome(&mut self, step: &str, span: Span, scope: Scope) -> bool {
        if self.cleanup_depth > 0 {
            match self.step_index.get(step) {
                Some(index) if *index != scope.current => return true,
                Some(_) => {
                    self.report(
                        Finding::error(
                            FindingCode::StepNotYetRun,
                            span,
                            format!("step `{step}` asks for its own outcome"),
                        )
                        .with_label("the step has no outcome while it runs"),
                    );
                    return false;
                }
                None => {}
            }
        }
        if self.has_run_before(step, scope) {
            return true;
        }
        self.report_unavailable_step(step, StepPart::Outcome, span, scope);
        false
    }

    fn resolve_step_output(&mut self, step: &str, output: &str, span: Span, scope: Scope) -> bool {
        if let Some(info) = self
            .checked_steps
            .get(step)
            .filter(|info| info.index < scope.visible_before && info.index != scope.current)
        {
            if info.outputs.iter().any(|o| o == output) {
                return true;
            }
            let outputs = info.outputs.clone();
            let suggestion = did_you_mean_within(
                output,
                outputs.iter().map(String::as_str),
                &mut self.suggest_budget,
            );
            self.report(
                Finding::error(
                    FindingCode::UnknownOutput,
                    span,
                    format!("step `{step}` has no output `{output}`"),
                )
                .with_label("unknown output")
                .with_help(match suggestion {
                    Some(candidate) => format!("did you mean `{candidate}`?"),
                    None if outputs.is_empty() => format!("step `{step}` has no outputs"),
                    None => format!("step `{step}` outputs: {}", outputs.join(", ")),
                }),
            );
            return false;
        }
        self.report_unavailable_step(step, StepPart::Output(output), span, scope);
        false
    }

    /// A step that is unknown, or not run yet where `part` of it is used.
    fn report_unavailable_step(&mut self, step: &str, part: StepPart, span: Span, scope: Scope) {
        if self.dropped.steps.contains(step) && !self.step_index.contains_key(step) {
            return;
        }
        match self.step_index.get(step) {
            Some(index) if *index == scope.current => {
                let help = match part {
                    StepPart::Output(output) => {
                        format!("in this step's `assert`, write `{{{{outputs.{output}}}}}`")
                    }
                    StepPart::Timing(_) => {
                        "a step's times are known once it has finished: use them in a later step"
                            .to_owned()
                    }
                    StepPart::Outcome => {
                        "a step's outcome is known once it has finished: test it in a later step, \
                         `on_failure` or `finally`"
                            .to_owned()
                    }
                };
                self.report(
                    Finding::error(
                        FindingCode::StepNotYetRun,
                        span,
                        format!(
                            "step `{step}` refers to {} through `steps.{step}`",
                            part.describe().replacen("its ", "its own ", 1)
                        ),
                    )
                    .with_label("the step has not finished here")
                    .with_help(help),
                );
            }
            Some(_) if scope.in_rollback => {
                self.report(
                    Finding::error(
                        FindingCode::StepNotYetRun,
                        span,
                        format!(
                            "a rollback runs when a later step fails, which can be before step \
                             `{step}` has run, so {} may not exist",
                            part.describe()
                        ),
                    )
                    .with_label("may not have run when this rollback runs")
                    .with_help(
                        "a rollback may use the step it undoes and the steps before that; move \
                         step `{step}` earlier, or undo it in its own rollback"
                            .replace("{step}", step),
                    ),
                );
            }
            Some(_) => {
                self.report(
                    Finding::error(
                        FindingCode::StepNotYetRun,
                        span,
                        format!(
                            "step `{step}` runs after this point, so {} {} yet",
                            part.describe(),
                            match part {
                                StepPart::Output(_) => "do not exist",
                                StepPart::Timing(_) | StepPart::Outcome => "is not known",
                            }
                        ),
                    )
                    .with_label("used before that step can have run")
                    .with_help(format!("move step `{step}` before the step that uses it")),
                );
            }
            _ => {
                // At most a few names: the help is for reading, and listing every step for
                // every unknown reference would make lint quadratic.
                let mut earlier: Vec<&str> = self
                    .checked_steps
                    .iter()
                    .filter(|(_, info)| info.index < scope.visible_before)
                    .map(|(id, _)| id.as_str())
                    .take(MAX_LISTED + 1)
                    .collect();
                if earlier.len() > MAX_LISTED {
                    earlier[MAX_LISTED] = "...";
                }
                let suggestion = did_you_mean_within(
                    step,
                    self.step_index.keys().map(String::as_str),
                    &mut self.suggest_budget,
                );
                self.report(
                    Finding::error(
                        FindingCode::UnknownStep,
                        span,
                        format!("unknown step `{step}`"),
                    )
                    .with_label("no step has this id")
                    .with_help(match suggestion {
                        Some(candidate) => format!("did you mean `{candidate}`?"),
                        None if earlier.is_empty() => "no step runs before this one".to_owned(),
                        None => format!("steps before this one: {}", earlier.join(", ")),
                    }),
                );
            }
        }
    }
}

/// A parameter's literal value as text: a string as it is, anything else as JSON.
fn literal_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other @ (Value::Null
        | Value::Bool(_)
        | Value::Number(_)
        | Value::Array(_)
        | Value::Object(_)) => other.to_string(),
    }
}

/// A checked part as it would be written.
fn written_form(part: &Part) -> String {
    match part {
        Part::Literal(text) => text.clone(),
        Part::Ref(reference) => format!("{{{{{}}}}}", reference.text),
        Part::Call(call) => format!("{{{{{}}}}}", call.text),
    }
}
