//! The runbook as written: serde types deserialized straight from YAML, with spans on everything a
//! finding can point at. Nothing here is checked beyond shape and type; see [`crate::check`].
//!
//! These types also generate the JSON Schema (`runbook schema`), so their doc comments are what an
//! editor shows on hover: write them for runbook authors.

mod audit;
mod capture;
mod condition;
mod control;
mod fragment;
mod http;
mod input;
mod note;
mod plugin;
mod prompt;
mod runbook;
mod shell;
mod step;

pub use audit::{RawAudit, RawDuration};
pub use capture::{RawCapture, RawCaptureSpec};
pub use condition::RawCondition;
pub use control::{RawGroup, RawPoll, RawRepeat, RawRetry};
pub use fragment::{RawFragment, RawParam};
pub use http::{RawHttp, StatusSpec};
pub use input::{InputType, RawInput};
pub use note::{RawNote, RawStop};
pub use plugin::RawPlugin;
pub use prompt::{RawAnswer, RawPrompt};
pub use runbook::{Mode, RawRunbook};
pub use shell::{ExitSpec, RawShell, StdoutMode};
pub use step::{OnError, RawStep, ResumePolicy};
