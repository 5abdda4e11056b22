//! The runbook engine: executes a checked [`runbook_dsl::Runbook`].
//!
//! The engine returns data (a [`RunReport`]) and reports progress through an [`Observer`]; it never
//! prints. Secrets are tracked by a [`Redactor`] and removed from everything the engine hands out.

pub mod answers;
pub mod audit;
pub mod audit_http;
pub mod clock;
pub mod context;
pub mod effects;
pub mod error;
pub mod functions;
pub mod http_client;
pub mod inputs;
pub mod interrupt;
pub mod journal;
pub mod kept;
pub mod observer;
pub mod predicate;
pub mod processes;
pub mod prompter;
pub mod redact;
mod references;
pub mod render;
pub mod report;
pub mod resume;
pub mod runner;
mod sequence;
pub mod steps;
pub mod trace;
pub mod transport;

pub use answers::AnswersPrompter;
pub use error::{StepError, StepErrorKind};
pub use inputs::{InputError, ResolvedInputs, resolve_inputs};
pub use interrupt::{Interrupt, Signal};
pub use observer::{CheckpointError, Fanout, NullObserver, Observer, Position, Progress, RunEvent};
pub use prompter::{Decision, NoOperator, PromptContext, PromptError, Prompter, SharedPrompter};
pub use redact::Redactor;
pub use report::{
    OperatorRecord, Phase, PreconditionsRecord, RunReport, RunStatus, StepOutcome, StepReport, Stop,
};
pub use runner::{CommandEnvironment, Engine, EngineOptions};
pub use steps::kill_running_commands;
pub use steps::prompt::AnswerRejected;
