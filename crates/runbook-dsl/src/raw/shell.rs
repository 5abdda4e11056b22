use indexmap::IndexMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{RawCapture, RawCondition};
use crate::Spanned;

/// A command run by `sh -c`. Template references in `command` are never pasted into the command
/// text: each becomes `"$RUNBOOK_REF_n"` and its value is passed in the environment, so values cannot
/// inject shell syntax and secrets never appear in the process list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawShell {
    /// The command line, run by `sh -c`.
    pub command: Spanned<String>,
    /// Extra environment variables; values templated.
    #[serde(default)]
    pub env: IndexMap<String, Spanned<String>>,
    /// Working directory; templated. Default: the directory `runbook` was started in.
    #[serde(default)]
    pub workdir: Option<Spanned<String>>,
    /// Text written to the command's standard input; templated. The safe way to hand over a secret.
    #[serde(default)]
    pub stdin: Option<Spanned<String>>,
    /// Private files for the command: `VAR: content`. Each content (templated) is written to a new
    /// owner-only file in a private temporary directory, its path is passed in the environment
    /// variable `VAR`, and the file is removed when the step ends. For tools that take secrets from
    /// a file (`infisical secrets set --file "$SECRETS_FILE"`).
    #[serde(default)]
    pub files: IndexMap<String, Spanned<String>>,
    /// Expected exit code: one or a list. Default: 0.
    #[serde(default)]
    pub expect_exit: Option<Spanned<ExitSpec>>,
    /// How `outputs.stdout` is captured: `trimmed` (default), `text`, or `json` (parsed; enables
    /// JSONPath captures).
    #[serde(default)]
    pub stdout: Option<Spanned<StdoutMode>>,
    /// Outputs captured from JSON stdout by JSONPath (needs `stdout: json`).
    #[serde(default)]
    pub capture: IndexMap<String, Spanned<RawCapture>>,
    /// Conditions on the result; `{{outputs.NAME}}` refers to this step's outputs.
    #[serde(default)]
    pub assert: Vec<Spanned<RawCondition>>,
}

/// One exit code or a list of them: 0 to 255, the codes a process can exit with (`-1` or `256`
/// could never match, so they do not load).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ExitSpec {
    One(u8),
    Any(Vec<u8>),
}

impl ExitSpec {
    pub fn codes(&self) -> Vec<i32> {
        match self {
            ExitSpec::One(code) => vec![i32::from(*code)],
            ExitSpec::Any(codes) => codes.iter().copied().map(i32::from).collect(),
        }
    }
}

/// How standard output becomes `outputs.stdout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum StdoutMode {
    /// Exactly as printed.
    Text,
    /// Leading and trailing whitespace removed.
    Trimmed,
    /// Parsed as JSON; a parse failure fails the step.
    Json,
}
