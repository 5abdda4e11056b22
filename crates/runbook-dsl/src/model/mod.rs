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
    Answer, AuditStep, DurationValue, GroupStep, PluginStep, PromptStep, Retry, RetryOn, StepEvent,
    Until,
};
pub use http_method::HttpMethod;
pub use runbook::{Input, Metadata, Runbook};
pub use step::{
    Action, AssertStep, Body, Capture, CaptureSource, HttpStep, JsonPath, ShellStep, Step, StepKind,
};
pub use value::ValueTemplate;

pub use crate::raw::{InputType, Mode, OnError, ResumePolicy, StdoutMode};
