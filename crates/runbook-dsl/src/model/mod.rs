//! The checked runbook: the only thing the engine accepts. Every template is parsed, every reference
//! resolved to something that exists, every JSONPath and regex compiled.

mod condition;
mod control;
mod http_method;
mod runbook;
mod step;
mod value;

pub use condition::{CompareOp, Condition, ConditionKind};
pub use control::{
    Answer, AuditStep, DurationValue, FragmentUse, GroupStep, NoteStep, PluginStep, PromptStep,
    Retry, RetryOn, StepEvent, StopStep, Until,
};
pub use http_method::HttpMethod;
pub(crate) use runbook::Steps;
pub use runbook::{Input, Metadata, PRECONDITIONS_ID, Runbook};
pub use step::{
    Action, AssertStep, Body, Capture, CaptureSource, HttpStep, JsonPath, ShellStep, Step, StepKind,
};
pub use value::ValueTemplate;

/// Proof that a value was built by the check pass. Its field is private to this crate, so a
/// [`Runbook`] or [`Step`] cannot be assembled anywhere else: the engine only ever runs what the
/// check pass produced.
#[derive(Debug, Clone, Copy)]
pub struct Checked(());

impl Checked {
    pub(crate) const PROOF: Checked = Checked(());
}

pub use crate::raw::{InputType, Mode, OnError, ResumePolicy, StdoutMode};
