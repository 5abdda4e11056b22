//! Command-line arguments (clap derive).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Run operational runbooks written in YAML: checked before they run, every step recorded.
#[derive(Debug, Parser)]
#[command(name = "runbook", version, about, propagate_version = true)]
pub struct Args {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, before or after its name.
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// When to colour: `auto` (a terminal, and NO_COLOR unset), `always` (into pipes and files
    /// too; wins over NO_COLOR), `never`.
    #[arg(
        long,
        value_enum,
        global = true,
        value_name = "WHEN",
        default_value_t = ColorWhen::Auto
    )]
    pub color: ColorWhen,
    /// Say less: only errors and the final result line. `run`/`resume`: no header, no step lines
    /// but failed ones; `lint`: no warnings (unless --deny warnings); `rehearse`: no operator
    /// view, only scenarios that did not match. Documents (plan, render, --output json, ...) are
    /// printed whole.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more, as traces on stderr (or --log-file): `-v` each HTTP request (method, URL,
    /// status, time, size), command (argv, exit status, time) and linted file; `-vv` adds
    /// request headers, the names of a command's variables, retries, polls and journal syncs;
    /// `-vvv` everything. Secrets are masked. RUST_LOG (e.g. `runbook::http=debug`) chooses
    /// instead.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Append traces to this file instead of stderr (at the `-v` level unless -vv or RUST_LOG
    /// says more). Created owner-only.
    #[arg(
        long,
        global = true,
        env = "RUNBOOK_LOG",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub log_file: Option<PathBuf>,
}

/// When to colour output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    /// Colour a terminal, unless NO_COLOR is set.
    Auto,
    /// Always colour, also into pipes and files, whatever NO_COLOR says.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check runbook files (or the runbooks under directories) without running anything.
    Lint(LintArgs),
    /// Run a runbook.
    Run(RunArgs),
    /// Print the runbook JSON Schema (draft-07) for editors.
    Schema(SchemaArgs),
    /// Continue an interrupted or failed run from its journal, without repeating completed steps.
    Resume(ResumeArgs),
    /// List runs with their state.
    Runs(RunsArgs),
    /// Show one run: every step, its outcome and what to do next.
    Show(ShowArgs),
    /// Rehearse a runbook against its rehearsal file's simulated services, commands and answers:
    /// every scenario (or those named), its verdict, and path coverage. Nothing leaves the
    /// process; time is virtual.
    Rehearse(RehearseArgs),
    /// Dry run: every step in order, what it would send, run and change, where the operator is
    /// asked what, the commit point, failure paths and loops. Sends nothing, runs nothing.
    Plan(PlanArgs),
    /// Print the runbook as a Markdown SOP document (for a wiki), generated from the file that runs.
    Render(FileArgs),
    /// Print the runbook's flow as a Mermaid flowchart: steps, undo, failure paths, loops, commit
    /// point.
    Graph(FileArgs),
    /// Write NAME.yaml: a commented runbook skeleton that lints clean. Never overwrites a file.
    New(NewArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout.
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout: `runbook man | man -l -`.
    Man,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    /// The runbook file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Set an input as `run` would: `--input name=value` (repeatable). A secret input's value is
    /// never shown, only whether it has one.
    #[arg(short, long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// Output format: text for people, or the plan as JSON on stdout.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct FileArgs {
    /// The runbook file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The runbook's name: writes NAME.yaml (a path is allowed: `ops/rotate-db-password`).
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_name = "SHELL", value_enum)]
    pub shell: clap_complete::Shell,
}

/// Where runs, journals and locks live.
#[derive(Debug, Clone, clap::Args)]
pub struct StateArgs {
    /// State directory (journals, locks, default audit log). Default: $XDG_STATE_HOME/runbook or
    /// ~/.local/state/runbook.
    #[arg(long, env = "RUNBOOK_STATE_DIR", value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// Options shared by `run` and `resume`.
#[derive(Debug, Clone, clap::Args)]
pub struct SessionArgs {
    /// Set an input: `--input name=value` (repeatable). Prefer an input's `env:` for secrets: the
    /// command line is visible to other users in the process list.
    #[arg(short, long = "input", value_name = "NAME=VALUE")]
    pub inputs: Vec<String>,
    /// Output format: progress for people, or the run report as JSON on stdout.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Answer prompts from this YAML file (keyed by step id) instead of the terminal: for
    /// rehearsals and tests. See docs/prompts.md.
    #[arg(long, value_name = "FILE")]
    pub answers: Option<PathBuf>,
    /// Let an answers file stand in for the operator of an operator-assisted runbook on a real
    /// run. The run's record says so.
    #[arg(long, requires = "answers")]
    pub allow_answers_file_on_live_run: bool,
    /// Who is running this, for the audit log. Default: $RUNBOOK_ACTOR, else the OS user.
    #[arg(long, env = "RUNBOOK_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,
    /// Audit log file (JSON lines). Default: audit.jsonl in the state directory.
    #[arg(long, env = "RUNBOOK_AUDIT_LOG", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Also POST every audit record, as JSON, to this collector URL (in addition to the file).
    #[arg(
        long,
        env = "RUNBOOK_AUDIT_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub audit_url: Option<String>,
    /// A header for the audit collector, `Name: value` (repeatable); e.g. its Authorization. Read
    /// from RUNBOOK_AUDIT_HEADER too, to keep a token off the command line.
    #[arg(
        long = "audit-header",
        env = "RUNBOOK_AUDIT_HEADER",
        value_name = "NAME: VALUE",
        hide_env_values = true
    )]
    pub audit_headers: Vec<String>,
    #[command(flatten)]
    pub state: StateArgs,
}

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The run to continue (`runbook runs` lists them; a unique prefix is enough).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    /// Resume even though the runbook file changed since the run started.
    #[arg(long)]
    pub allow_changed_runbook: bool,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub state: StateArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Print every cell whole, however wide the table gets (on a terminal, long runbook ids,
    /// actors and last steps are otherwise cut to fit, with `…`). Run ids are never cut.
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The run to show (a unique prefix is enough).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,
    #[command(flatten)]
    pub state: StateArgs,
    /// Output format: a summary, or the journal records as JSON.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
}

#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Files or directories to check. Files named here are always linted; directories are walked
    /// like ripgrep does (.gitignore, .ignore, hidden folders skipped) and only files that look like
    /// runbooks are linted (see docs/ci.md).
    #[arg(value_name = "PATH", required_unless_present_any = ["explain", "list_rules"])]
    pub paths: Vec<PathBuf>,
    /// How findings are printed.
    #[arg(short, long, value_enum, default_value_t = LintFormat::Human)]
    pub output: LintFormat,
    /// The old name of --output, kept so existing CI keeps working; says it is deprecated.
    #[arg(
        long,
        value_enum,
        hide = true,
        conflicts_with = "output",
        value_name = "OUTPUT"
    )]
    pub format: Option<LintFormat>,
    /// `--deny warnings`: warnings fail lint too (exit 3), as errors do.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub deny: Option<Deny>,
    /// In directories, lint every .yaml/.yml file (except answers and rehearsal files), not only
    /// those that look like runbooks.
    #[arg(long)]
    pub all_yaml: bool,
    /// In directories, also lint files whose path matches this glob (e.g. `ops/**/*.yml`);
    /// repeatable.
    #[arg(long = "include-glob", value_name = "GLOB")]
    pub include_globs: Vec<String>,
    /// Print the documentation of one rule (`unknown_step` or `runbook::check::unknown_step`).
    #[arg(long, value_name = "RULE", conflicts_with_all = ["paths", "list_rules", "list_suppressions"])]
    pub explain: Option<String>,
    /// List every rule: name, severity, code and summary.
    #[arg(long, conflicts_with_all = ["paths", "list_suppressions"])]
    pub list_rules: bool,
    /// List the suppression comments in the given files (file:line, rule, reason) instead of
    /// findings.
    #[arg(long)]
    pub list_suppressions: bool,
}

impl LintArgs {
    /// The output format, by its name (`--output`) or its deprecated one (`--format`).
    pub fn output(&self) -> LintFormat {
        self.format.unwrap_or(self.output)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// Source line with a caret, for people.
    Human,
    /// GitHub Actions workflow commands (`::error file=..,line=..,col=..::message`).
    Github,
    /// One JSON object per finding, one per line (JSON Lines).
    Json,
    /// One SARIF 2.1.0 log, for code scanning.
    Sarif,
    /// One JUnit XML report: a test case per file, a failure per finding.
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    /// Warnings fail lint (exit 3).
    Warnings,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The runbook file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub session: SessionArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Write the schema to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The schema of rehearsal files (NAME.rehearsal.yaml) instead of runbooks.
    #[arg(long, conflicts_with = "fragment")]
    pub rehearsal: bool,
    /// The schema of fragment files (NAME.fragment.yaml) instead of runbooks.
    #[arg(long)]
    pub fragment: bool,
}

#[derive(Debug, clap::Args)]
pub struct RehearseArgs {
    /// The runbook (its NAME.rehearsal.yaml beside it is used) or the rehearsal file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Run only this scenario (repeatable). Default: every scenario.
    #[arg(long, value_name = "NAME")]
    pub scenario: Vec<String>,
    /// Keep each scenario's journal, audit log and stand-ins under DIR/SCENARIO (default: a
    /// temporary directory, removed at the end).
    #[arg(long, value_name = "DIR")]
    pub keep: Option<PathBuf>,
    /// Output: each scenario's operator view, verdict and the coverage; or one JSON document.
    #[arg(short, long, value_enum, default_value_t = OutputFormat::Human)]
    pub output: OutputFormat,
    /// Answer prompts live at the terminal instead of from the rehearsal's answers.
    #[arg(long)]
    pub interactive: bool,
    /// Write a starting rehearsal file (NAME.rehearsal.yaml) for the runbook FILE, and stop.
    #[arg(long, conflicts_with_all = ["scenario", "keep", "interactive"])]
    pub init: bool,
}
