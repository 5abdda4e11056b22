//! `use:` steps: the arguments in `with:` checked against the fragment's parameters, then the
//! fragment's steps checked in its own scope: `{{params.NAME}}` bound to the arguments, step ids
//! under the using step's id, and nothing of the runbook visible but what the arguments pass.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::Checker;
use super::references::Scope;
use super::steps::Placement;
use crate::finding::{Finding, FindingCode};
use crate::model::{FragmentUse, GroupStep};
use crate::raw::{InputType, RawParam, RawStep};
use crate::source::Span;
use crate::spanned::Spanned;
use crate::suggest::did_you_mean;
use crate::template::{ParsedPart, ParsedRef, RefPath, Reference, parse_template};

/// What a parameter is bound to: a value written in the runbook, or one reference (resolved where
/// the fragment is used).
#[derive(Debug, Clone)]
pub(crate) enum Binding {
    Literal(Value),
    Ref(Reference),
}

/// The fragment whose steps are being checked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Frame {
    /// Put before each of the fragment's step ids: `USE_ID.` (nested: `OUTER.INNER.`); empty when
    /// a fragment is linted alone.
    pub(crate) prefix: String,
    /// The bound parameters.
    pub(crate) params: BTreeMap<String, Binding>,
    /// Every declared parameter, bound or not (one whose argument was wrong is not reported again).
    pub(crate) declared: BTreeSet<String>,
}

impl Checker<'_> {
    /// The id a step of the file being checked has in the run: its own id, under the ids of the
    /// `use:` steps that led to it.
    pub(crate) fn step_id(&self, written: &str) -> String {
        match self.frames.last() {
            Some(frame) => format!("{}{written}", frame.prefix),
            None => written.to_owned(),
        }
    }

    /// A `use:` step: its fragment's steps as a group.
    pub(super) fn check_use(
        &mut self,
        scope: Scope,
        step: &RawStep,
        path: &Spanned<String>,
    ) -> Option<GroupStep> {
        let fragments = self.fragments;
        let use_span = self.span(path);
        let key = path.loc.bytes.map(|(offset, _)| offset);
        let Some(used) = key.and_then(|key| fragments.uses.get(&key)) else {
            // A fragment that did not load was reported where it was loaded; one that was never
            // looked for (a caller that reads no files) must not vanish from the runbook.
            if !key.is_some_and(|key| fragments.tried.contains(&key)) {
                self.report(
                    Finding::error(
                        FindingCode::FragmentNotFound,
                        use_span,
                        format!("fragment `{}` was not read", path.value),
                    )
                    .with_label("fragments are not read by this check")
                    .with_help("check the runbook with `runbook lint`, which reads its fragments"),
                );
            }
            return None;
        };
        let params = self.fragment_arguments(scope, step, &used.raw.params, use_span, &used.path);
        let declared = used.raw.params.keys().cloned().collect();
        let before = self.findings.len();
        self.frames.push(Frame {
            prefix: format!("{}.", self.step_id(&step.id.value)),
            params,
            declared,
        });
        let steps = self.check_step_list(&used.raw.steps, Placement::Sequence);
        let finally = self.check_step_list(&used.raw.finally, Placement::Sequence);
        self.frames.pop();
        if used.raw.steps.is_empty() {
            let span = self.span(&used.raw.title);
            self.report(
                Finding::error(FindingCode::EmptyGroup, span, "the fragment has no steps")
                    .with_label("empty fragment"),
            );
        }
        (self.findings.len() == before).then(|| GroupStep {
            steps,
            finally,
            undo: Vec::new(),
            max_attempts: 1,
            fragment: Some(FragmentUse {
                path: used.path.clone(),
                title: used.raw.title.value.clone(),
            }),
        })
    }

    /// Checks `with:` against the parameters; the bindings of those that are right.
    fn fragment_arguments(
        &mut self,
        scope: Scope,
        step: &RawStep,
        params: &indexmap::IndexMap<String, Spanned<RawParam>>,
        use_span: Span,
        path: &std::path::Path,
    ) -> BTreeMap<String, Binding> {
        let empty = indexmap::IndexMap::new();
        let args = step.with.as_ref().map_or(&empty, |with| &with.value);
        for (name, value) in args {
            if params.contains_key(name) {
                continue;
            }
            let span = self.key_span(self.span(value), name);
            let finding = Finding::error(
                FindingCode::UnknownFragmentArgument,
                span,
                format!("fragment {} has no parameter `{name}`", path.display()),
            )
            .with_label("no such parameter");
            let finding = match did_you_mean(name, params.keys().map(String::as_str)) {
                Some(candidate) => finding.with_suggestion(Some(candidate)),
                None if params.is_empty() => finding.with_help("the fragment takes no parameters"),
                None => finding.with_help(format!(
                    "its parameters: {}",
                    params.keys().cloned().collect::<Vec<_>>().join(", ")
                )),
            };
            self.report(finding);
        }
        let mut bound = BTreeMap::new();
        for (name, param) in params {
            let kind = param
                .value
                .kind
                .as_ref()
                .map_or(InputType::String, |kind| kind.value);
            let binding = match (args.get(name), &param.value.default) {
                (Some(arg), _) => self.fragment_argument(scope, name, &param.value, kind, arg),
                (None, Some(default)) if !param.value.secret => {
                    if super::inputs::value_fits(&default.value, kind) {
                        Some(Binding::Literal(default.value.clone()))
                    } else {
                        let span = self.span(default);
                        self.report(
                            Finding::error(
                                FindingCode::InvalidInput,
                                span,
                                format!(
                                    "default of parameter `{name}` is not {}: {}",
                                    kind.with_article(),
                                    default.value
                                ),
                            )
                            .with_label(format!("expected {}", kind.with_article())),
                        );
                        None
                    }
                }
                (None, _) => {
                    let about = param
                        .value
                        .description
                        .as_deref()
                        .map(|text| format!(" ({})", text.trim()))
                        .unwrap_or_default();
                    self.report(
                        Finding::error(
                            FindingCode::MissingFragmentArgument,
                            use_span,
                            format!(
                                "fragment {} needs parameter `{name}`{about}",
                                path.display()
                            ),
                        )
                        .with_label(format!("no `{name}` in `with:`"))
                        .with_help(format!(
                            "add `{name}:` under `with:` ({}{})",
                            kind.with_article(),
                            if param.value.secret {
                                ", a reference to a secret"
                            } else {
                                ""
                            }
                        )),
                    );
                    None
                }
            };
            if let Some(binding) = binding {
                bound.insert(name.clone(), binding);
            }
        }
        bound
    }

    /// One argument: a literal of the parameter's type, or one `{{reference}}`.
    fn fragment_argument(
        &mut self,
        scope: Scope,
        name: &str,
        param: &RawParam,
        kind: InputType,
        arg: &Spanned<Value>,
    ) -> Option<Binding> {
        let span = self.span(arg);
        let wrong = |message: String, label: &str| {
            Finding::error(FindingCode::InvalidFragmentArgument, span, message).with_label(label)
        };
        let binding = match &arg.value {
            Value::String(text) => {
                // An enclosing fragment's parameter passed on keeps its binding (and its type).
                let single_param = parse_template(text, span, None)
                    .ok()
                    .and_then(|parsed| match parsed.parts.as_slice() {
                        [ParsedPart::Ref(written)] => Some(written.clone()),
                        _ => None,
                    })
                    .filter(is_param);
                if let Some(written) = single_param {
                    self.param(&written)??
                } else {
                    let template = self.template_at(text, span, scope)?;
                    if !template.has_insertions() {
                        Binding::Literal(arg.value.clone())
                    } else if let Some(reference) = template.single_ref() {
                        Binding::Ref(reference.clone())
                    } else {
                        self.report(
                            wrong(
                                format!(
                                    "argument `{name}` is not a literal or a single \
                                     `{{{{reference}}}}`"
                                ),
                                "text and references mixed, or a function call",
                            )
                            .with_help(
                                "compute the value in a step before the `use:` and pass \
                                 `{{steps.ID.outputs.NAME}}`, or give the fragment the parts as \
                                 separate parameters",
                            ),
                        );
                        return None;
                    }
                }
            }
            Value::Number(_) | Value::Bool(_) => Binding::Literal(arg.value.clone()),
            Value::Null | Value::Array(_) | Value::Object(_) => {
                self.report(wrong(
                    format!("argument `{name}` must be {}", kind.with_article()),
                    "a parameter takes a string, a number, a boolean or one reference",
                ));
                return None;
            }
        };
        match &binding {
            Binding::Literal(_) if param.secret => {
                self.report(
                    wrong(
                        format!("parameter `{name}` is secret: it takes a reference to a secret"),
                        "a secret written in the runbook is not a secret",
                    )
                    .with_help(format!(
                        "declare a secret input and pass `{{{{inputs.NAME}}}}` as `{name}`"
                    )),
                );
                return None;
            }
            Binding::Literal(value) if !super::inputs::value_fits(value, kind) => {
                self.report(wrong(
                    format!("argument `{name}` is not {}: {value}", kind.with_article()),
                    &format!("expected {}", kind.with_article()),
                ));
                return None;
            }
            Binding::Ref(reference) => {
                if let RefPath::Input { name: input, rest } = &reference.path
                    && rest.is_empty()
                {
                    let input_kind = self.inputs.get(input).copied();
                    let fits = match (input_kind, kind) {
                        (Some(InputType::Integer), InputType::Number) => true,
                        (Some(given), wanted) => given == wanted,
                        (None, _) => true,
                    };
                    if !fits {
                        self.report(wrong(
                            format!(
                                "argument `{name}` is input `{input}` ({}), but the parameter is {}",
                                input_kind.map_or("unknown", InputType::name),
                                kind.with_article()
                            ),
                            &format!("expected {}", kind.with_article()),
                        ));
                        return None;
                    }
                    if param.secret && !self.secret_inputs.contains(input) {
                        self.report(
                            wrong(
                                format!("parameter `{name}` is secret, but input `{input}` is not"),
                                "not a secret",
                            )
                            .with_help(format!("declare `{input}` with `secret: true`")),
                        );
                        return None;
                    }
                }
            }
            Binding::Literal(_) => {}
        }
        Some(binding)
    }

    /// `{{params.NAME}}`: what it is bound to, as the `{{...}}` at `written` (so a finding about
    /// it points into the fragment). `None` when it cannot be used (reported, or bound to nothing
    /// because its argument was wrong).
    pub(super) fn param(&mut self, written: &ParsedRef) -> Option<Option<Binding>> {
        if !is_param(written) {
            return None;
        }
        let Some(frame) = self.frames.last() else {
            self.report(
                Finding::error(
                    FindingCode::FragmentScope,
                    written.span,
                    format!("`{}`: only a fragment has parameters", written.text),
                )
                .with_label("not in a fragment")
                .with_help("in a runbook, read an input as `{{inputs.NAME}}`"),
            );
            return Some(None);
        };
        let [_, name] = written.segments.as_slice() else {
            self.report(
                Finding::error(
                    FindingCode::FragmentScope,
                    written.span,
                    format!("`{}`: a parameter is one value", written.text),
                )
                .with_label("a path into a parameter")
                .with_help("write `{{params.NAME}}`; pass the exact value the fragment needs"),
            );
            return Some(None);
        };
        if let Some(binding) = frame.params.get(name) {
            return Some(Some(match binding {
                Binding::Literal(value) => Binding::Literal(value.clone()),
                Binding::Ref(reference) => Binding::Ref(Reference {
                    path: reference.path.clone(),
                    text: reference.text.clone(),
                    span: written.span,
                }),
            }));
        }
        if frame.declared.contains(name) {
            // Its argument was wrong (reported at the `use:`): a stand-in keeps the steps that
            // read it from reporting the same mistake again.
            return Some(Some(Binding::Ref(Reference {
                path: RefPath::Input {
                    name: name.clone(),
                    rest: Vec::new(),
                },
                text: written.text.clone(),
                span: written.span,
            })));
        }
        let suggestion = did_you_mean(name, frame.declared.iter().map(String::as_str));
        let finding = Finding::error(
            FindingCode::FragmentScope,
            written.span,
            format!("unknown parameter `{name}`"),
        )
        .with_label("the fragment declares no such parameter");
        let finding = match suggestion {
            Some(candidate) => finding.with_suggestion(Some(candidate)),
            None => finding.with_help(format!("declare it under `params:` as `{name}`")),
        };
        self.report(finding);
        Some(None)
    }

    /// The literal a string that is exactly `{{params.NAME}}` stands for, when it is bound to one.
    pub(super) fn whole_param_literal(&mut self, text: &str, at: Span) -> Option<Value> {
        if self.frames.is_empty() {
            return None;
        }
        let parsed = parse_template(text, at, None).ok()?;
        let [ParsedPart::Ref(written)] = parsed.parts.as_slice() else {
            return None;
        };
        let name = match written.segments.as_slice() {
            [root, name] if root == "params" => name,
            _ => return None,
        };
        match self.frames.last()?.params.get(name)? {
            Binding::Literal(value) => Some(value.clone()),
            Binding::Ref(_) => None,
        }
    }

    /// A reference written in a fragment, as the run knows it: the fragment's step ids under the
    /// using step's; the runbook's inputs are out of reach.
    pub(super) fn in_fragment(&mut self, mut reference: Reference) -> Option<Reference> {
        let Some(frame) = self.frames.last() else {
            return Some(reference);
        };
        match &mut reference.path {
            RefPath::Input { name, .. } => {
                let name = name.clone();
                self.report(
                    Finding::error(
                        FindingCode::FragmentScope,
                        reference.span,
                        format!("a fragment cannot read the runbook's input `{name}`"),
                    )
                    .with_label("inputs are the runbook's")
                    .with_help(format!(
                        "declare a parameter, read it as `{{{{params.{name}}}}}`, and let the \
                         runbook pass `{name}: \"{{{{inputs.{name}}}}}\"` under `with:`"
                    )),
                );
                None
            }
            RefPath::StepOutput { step, .. }
            | RefPath::StepTiming { step, .. }
            | RefPath::StepOutcome { step } => {
                let prefixed = format!("{}{step}", frame.prefix);
                if !frame.prefix.is_empty() && !self.step_index.contains_key(&prefixed) {
                    // Said with the id as the fragment's author wrote it, not the run's.
                    let written = step.clone();
                    let own: Vec<&str> = self
                        .step_index
                        .keys()
                        .filter_map(|id| id.strip_prefix(frame.prefix.as_str()))
                        .filter(|id| !id.contains('.'))
                        .collect();
                    let finding = Finding::error(
                        FindingCode::UnknownStep,
                        reference.span,
                        format!("unknown step `{written}`"),
                    )
                    .with_label("no step of this fragment has this id");
                    let finding = match did_you_mean(&written, own.iter().copied()) {
                        Some(candidate) => finding.with_suggestion(Some(candidate)),
                        None => finding.with_help(
                            "a fragment's steps refer only to the fragment's own steps; pass \
                             what it needs from the runbook as a parameter",
                        ),
                    };
                    self.report(finding);
                    return None;
                }
                *step = prefixed;
                Some(reference)
            }
            RefPath::Run { .. } | RefPath::OwnOutput { .. } | RefPath::Env { .. } => {
                Some(reference)
            }
        }
    }
}

fn is_param(written: &ParsedRef) -> bool {
    written.segments.first().map(String::as_str) == Some("params")
}

/// The frame of a fragment linted on its own: each parameter bound to the input that stands in
/// for it.
pub(crate) type StandaloneFrame = Frame;

impl Frame {
    /// `params`: each parameter's name.
    pub(crate) fn new(params: Vec<String>) -> Frame {
        let declared = params.iter().cloned().collect();
        let params = params
            .into_iter()
            .map(|name| {
                let reference = Reference {
                    path: RefPath::Input {
                        name: name.clone(),
                        rest: Vec::new(),
                    },
                    text: format!("params.{name}"),
                    span: Span::UNKNOWN,
                };
                (name, Binding::Ref(reference))
            })
            .collect();
        Frame {
            prefix: String::new(),
            params,
            declared,
        }
    }
}
