//! The run as an operator sees it: one line per step with outcome and duration, a spinner with the
//! elapsed time and the last observed value while a step runs (terminal only), the phases of a
//! failure, and a summary that says exactly what state the run left things in.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use runbook_dsl::{Runbook, Source, Step};
use runbook_engine::{
    CheckpointError, Decision, Observer, Phase, Position, Progress, RunEvent, RunReport, RunStatus,
    StepOutcome, StepReport,
};

use runbook_engine::journal::Resumability;

use super::not_run::StepPositions;
use super::style::Style;
use super::width::{output_width, wrap_hanging, wrap_lines};

/// Writes progress to stdout.
pub struct TerminalObserver {
    style: Style,
    spinner: Option<ProgressBar>,
    animate: bool,
    run_id: String,
    resumed: bool,
    /// The runbook's text, to show where a failure points.
    source: Option<Source>,
    /// Where the steps of fragments are (their spans are past the runbook's text).
    sources: runbook_dsl::fragment::SourceMap,
    /// A rehearsal's run: its records live in a scenario's temporary directory, so there is no
    /// `runbook resume` or `runbook show` to suggest.
    rehearsal: bool,
    /// How the summary's suggested `runbook resume`/`show` names the run (with `--state-dir` when
    /// the run needs it to be found).
    target: String,
    /// `-q`: failed steps and the end of run only.
    quiet: bool,
    /// Long messages are wrapped to this many columns (none: not a terminal, and no `COLUMNS`).
    width: Option<usize>,
    /// The runbook's steps by position, for the summary's compact list of steps that never ran.
    positions: StepPositions,
}

impl TerminalObserver {
    /// The summary suggests `runbook resume TARGET` (see `StateDir::run_target`).
    pub fn with_run_target(mut self, target: String) -> Self {
        self.target = target;
        self
    }

    /// Failures inside a fragment point into the fragment's file.
    pub fn with_sources(mut self, sources: runbook_dsl::fragment::SourceMap) -> Self {
        self.sources = sources;
        self
    }

    pub fn new(color: bool, run_id: &str, resumed: bool, source: Option<Source>) -> Self {
        TerminalObserver {
            source,
            sources: runbook_dsl::fragment::SourceMap::default(),
            style: Style { color },
            spinner: None,
            animate: std::io::stdout().is_terminal() && !crate::output::quiet(),
            run_id: run_id.to_owned(),
            target: run_id.to_owned(),
            resumed,
            rehearsal: false,
            quiet: crate::output::quiet(),
            width: output_width(),
            positions: StepPositions::default(),
        }
    }

    /// For a rehearsal: the end of run suggests no `runbook resume`/`show` of a record that is
    /// deleted with the scenario's directory.
    pub fn in_rehearsal(mut self) -> Self {
        self.rehearsal = true;
        self
    }

    fn print(&self, line: &str) {
        let write = || {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
        };
        match &self.spinner {
            Some(spinner) => spinner.suspend(write),
            None => write(),
        }
    }

    /// Prints `text` line by line under `indent`, wrapped to the output width, each piece styled.
    fn print_wrapped(&self, text: &str, indent: &str, paint: impl Fn(&str) -> String) {
        for line in wrap_lines(text, "", self.width.map(|w| w.saturating_sub(indent.len()))) {
            self.print(&format!("{indent}{}", paint(&line)));
        }
    }

    fn stop_spinner(&mut self) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
    }
}

fn indent(at: &Position) -> String {
    "  ".repeat(at.depth + 1)
}

impl Observer for TerminalObserver {
    fn run_started(&mut self, runbook: &Runbook) {
        self.positions = StepPositions::of(&runbook.steps);
        if self.quiet {
            return;
        }
        self.print(&self.style.bold(&runbook.meta.title));
        let count = runbook.steps.len();
        let mut facts = vec![
            runbook.path.display().to_string(),
            format!("{count} step{}", if count == 1 { "" } else { "s" }),
        ];
        if let Some(mode) = runbook.meta.mode {
            facts.push(match mode {
                runbook_dsl::Mode::OperatorAssisted => "operator-assisted".to_owned(),
                runbook_dsl::Mode::Automatic => "automatic".to_owned(),
            });
        }
        if let Some(role) = &runbook.meta.required_role {
            facts.push(format!("role: {role}"));
        }
        facts.push(if self.resumed {
            format!("resuming run {}", self.run_id)
        } else {
            format!("run {}", self.run_id)
        });
        self.print(&self.style.dim(&facts.join(" · ")));
        if runbook.meta.mode == Some(runbook_dsl::Mode::OperatorAssisted) {
            self.print_sop_header(&runbook.meta);
        }
        self.print("");
    }

    fn phase_started(&mut self, phase: Phase, reason: &str) {
        self.stop_spinner();
        if self.quiet {
            return;
        }
        let title = match phase {
            Phase::Main => return,
            Phase::Rollback => format!("rolling back ({reason}): compensation, newest first"),
            Phase::OnFailure => format!("failure path ({reason})"),
            Phase::Finally => format!("finally ({reason})"),
        };
        self.print("");
        self.print(&self.style.yellow(&format!("▸ {title}")));
    }

    fn step_started(&mut self, step: &Step, at: &Position) {
        if self.quiet {
            return;
        }
        if step.kind.group().is_some() {
            self.print(&format!("{}▾ {}", indent(at), self.style.bold(&step.name)));
            return;
        }
        if !self.animate || step.kind.prompt().is_some() {
            return;
        }
        let spinner = ProgressBar::new_spinner();
        // `--color never` on a terminal: indicatif would dim the time on its own.
        let template = if self.style.color {
            "{prefix}{spinner} {msg} {elapsed:.dim}"
        } else {
            "{prefix}{spinner} {msg} {elapsed}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            spinner.set_style(style);
        }
        spinner.set_prefix(indent(at));
        spinner.set_message(step.name.clone());
        spinner.enable_steady_tick(Duration::from_millis(80));
        self.spinner = Some(spinner);
    }

    fn step_progress(&mut self, step: &Step, progress: &Progress) {
        match &self.spinner {
            None if self.quiet => {}
            Some(spinner) => spinner.set_message(format!("{} · {progress}", step.name)),
            // Without a terminal, say only what matters later: retries and repeats, not each poll.
            None if !matches!(progress, Progress::Waiting { .. }) => {
                self.print(&format!(
                    "    {}",
                    self.style.dim(&format!("{}: {progress}", step.name))
                ));
            }
            None => {}
        }
    }

    fn step_finished(&mut self, step: &Step, at: &Position, report: &StepReport) {
        self.stop_spinner();
        if self.quiet && report.outcome != StepOutcome::Failed {
            return;
        }
        let pad = indent(at);
        let position = if at.depth == 0 && at.phase == Phase::Main {
            self.style.dim(&format!("[{}/{}] ", at.index, at.total))
        } else {
            String::new()
        };
        let mut extra = Vec::new();
        if report.attempts > 1 {
            extra.push(format!("{} attempts", report.attempts));
        }
        extra.push(format_duration(report.duration_ms));
        let detail = self.style.dim(&extra.join(", "));
        let mut marker = String::new();
        if step.irreversible {
            marker.push_str(&format!(" {}", self.style.yellow("[point of no return]")));
        }
        if step.commit {
            marker.push_str(&format!(" {}", self.style.yellow("[commit point]")));
        }
        let is_note = step
            .kind
            .action()
            .is_some_and(|action| matches!(action, runbook_dsl::Action::Note(_)));
        let line = match report.outcome {
            StepOutcome::Passed => {
                // A note's text is printed in full below its line.
                let note = report
                    .note
                    .as_deref()
                    .filter(|_| !is_note)
                    .map(|note| format!(" {}", self.style.dim(&format!("({note})"))))
                    .unwrap_or_default();
                format!(
                    "{pad}{} {position}{}{marker} {detail}{note}",
                    self.style.green("✓"),
                    step.name
                )
            }
            StepOutcome::Failed => format!(
                "{pad}{} {position}{}{marker} {detail}",
                self.style.red("✗"),
                step.name
            ),
            StepOutcome::Skipped => format!(
                "{pad}{} {position}{} {}",
                self.style.yellow("-"),
                step.name,
                self.style.dim(&format!(
                    "(skipped: {})",
                    report.note.as_deref().unwrap_or("`when` did not hold")
                ))
            ),
            StepOutcome::NotRun => format!("{pad}· {position}{}", step.name),
            StepOutcome::Warned => format!(
                "{pad}{} {position}{}{marker} {detail} {}",
                self.style.yellow("!"),
                step.name,
                self.style.yellow("(warning: the run goes on)")
            ),
        };
        self.print(&line);
        if is_note
            && report.outcome == StepOutcome::Passed
            && let Some(message) = &report.note
        {
            self.print_wrapped(message, &format!("{pad}    "), |text| self.style.bold(text));
        }
        if let Some(error) = &report.error {
            let warned = report.outcome == StepOutcome::Warned;
            self.print_wrapped(&error.message, &format!("{pad}    "), |text| {
                if warned {
                    self.style.yellow(text)
                } else {
                    self.style.red(text)
                }
            });
            if let (Some(span), Some(source)) = (error.span, &self.source) {
                let located = self.sources.locate(span);
                let source = located.file.as_deref().unwrap_or(source);
                let location =
                    super::diagnostic::render_location(source, located.span, self.style.color);
                for text in location.lines() {
                    self.print(&format!("{pad}    {text}"));
                }
            }
        }
    }

    fn decision(&mut self, step: &Step, decision: Decision) {
        if self.quiet {
            return;
        }
        self.print(&format!(
            "    {}",
            self.style.dim(&format!(
                "{}: the operator chose to {}",
                step.name,
                decision.word()
            ))
        ));
    }

    fn checkpoint(&mut self, _step: &Step, _at: &Position) -> Result<(), CheckpointError> {
        Ok(())
    }

    fn run_event(&mut self, event: &RunEvent<'_>) {
        self.stop_spinner();
        match event {
            RunEvent::Preconditions(record) if record.confirmed && self.quiet => {}
            RunEvent::Preconditions(record) if record.confirmed => self.print(&format!(
                "  {} preconditions confirmed ({})",
                self.style.green("✓"),
                record.answered_by
            )),
            RunEvent::Preconditions(record) => {
                self.print(&format!("  {} preconditions", self.style.red("✗")));
                if let Some(refusal) = &record.refusal {
                    self.print_wrapped(refusal, "      ", |text| self.style.red(text));
                }
            }
            RunEvent::CommitPassed { .. } if self.quiet => {}
            RunEvent::CommitPassed { step, disarmed } => self.print(&format!(
                "    {}",
                self.style.dim(&format!(
                    "commit point passed: `{step}` (undo disarmed: {disarmed} registered \
                     compensation{} will not run)",
                    if *disarmed == 1 { "" } else { "s" }
                ))
            )),
            RunEvent::Stopped { .. } => {}
        }
    }

    fn run_finished(&mut self, report: &RunReport) {
        self.stop_spinner();
        let passed = report.count(StepOutcome::Passed);
        let failed = report.count(StepOutcome::Failed);
        let skipped = report.count(StepOutcome::Skipped);
        let not_run = report.count(StepOutcome::NotRun);
        let warned = report.count(StepOutcome::Warned);
        let mut counts = vec![format!("{passed} passed")];
        if warned > 0 {
            counts.push(format!("{warned} warned"));
        }
        if failed > 0 {
            counts.push(format!("{failed} failed"));
        }
        if skipped > 0 {
            counts.push(format!("{skipped} skipped"));
        }
        if not_run > 0 {
            counts.push(format!("{not_run} not run"));
        }
        let summary = format!(
            "{} in {}",
            counts.join(", "),
            format_duration(report.duration_ms)
        );
        let at = report
            .failed_step
            .as_deref()
            .map(|step| format!(" at step `{step}`"))
            .unwrap_or_default();
        if !self.quiet {
            self.print("");
        }
        let headline = match report.status {
            RunStatus::Succeeded => format!("{} {summary}", self.style.green("succeeded:")),
            RunStatus::SucceededWithWarnings => format!(
                "{} {summary}",
                self.style.yellow("succeeded with warnings:")
            ),
            RunStatus::Failed => format!("{}{at}: {summary}", self.style.red("failed")),
            RunStatus::RolledBack => format!(
                "{}{at}; compensation and the failure path completed: {summary}",
                self.style.red("failed")
            ),
            RunStatus::RollbackFailed => format!(
                "{}{at}, and {} ({}): {summary}",
                self.style.red("failed"),
                self.style.red("ROLLBACK FAILED"),
                report
                    .cleanup_failures()
                    .map(|step| format!("`{}`", step.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            RunStatus::Interrupted => format!(
                "{}: stopped at a safe point, then compensation, the failure path and finally ran: {summary}",
                self.style.red("interrupted")
            ),
        };
        // Styled text wraps as well as plain: textwrap measures without the escape codes.
        for line in wrap_hanging(&headline, "", "  ", self.width) {
            self.print(&line);
        }
        let not_run = report
            .steps
            .iter()
            .filter(|step| step.outcome == StepOutcome::NotRun)
            .map(|step| step.id.as_str());
        if let Some(not_run) = self
            .positions
            .describe_not_run(not_run)
            .filter(|_| !self.quiet)
        {
            self.print_wrapped(&format!("not run: {not_run}"), "  ", |text| {
                self.style.dim(text)
            });
        }
        if report.status == RunStatus::RollbackFailed {
            self.print_wrapped(
                "manual action is needed: the steps above marked ✗ did not complete",
                "  ",
                |text| text.to_owned(),
            );
        }
        for step in report.warnings().filter(|_| !self.quiet) {
            let first = step
                .error
                .as_ref()
                .and_then(|error| error.message.lines().next())
                .unwrap_or("");
            self.print_wrapped(&format!("warning: `{}`: {first}", step.id), "  ", |text| {
                self.style.yellow(text)
            });
        }
        if let Some(step) = &report.commit_point {
            self.print(&format!(
                "  {} `{step}` (undo disarmed)",
                self.style.yellow("commit point passed:")
            ));
        }
        if !report.irreversible_done.is_empty() && report.status != RunStatus::Succeeded {
            let line = format!(
                "{} {} (what it did cannot be undone)",
                self.style.yellow("point of no return passed:"),
                report
                    .irreversible_done
                    .iter()
                    .map(|step| format!("`{step}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.print_wrapped(&line, "  ", |text| text.to_owned());
        }
        let compensated = report
            .steps
            .iter()
            .any(|step| step.phase == Phase::Rollback);
        if !self.rehearsal
            && let Some(next) = resume_advice(
                Resumability::decide(Some(report.status), compensated, false),
                &self.target,
            )
        {
            self.print_wrapped(&next, "  ", |text| text.to_owned());
        }
        if report.operator.answers_file_replaced_operator {
            self.print(&self.style.yellow(
                "  note: an answers file stood in for the operator (--allow-answers-file-on-live-run)",
            ));
        }
    }
}

impl TerminalObserver {
    /// What the SOP says the operator should know before starting, for an operator-assisted run.
    fn print_sop_header(&self, meta: &runbook_dsl::Metadata) {
        if let Some(description) = &meta.description {
            self.print("");
            self.print_wrapped(description.trim_end(), "  ", |text| text.to_owned());
        }
        let mut facts = Vec::new();
        if let Some(role) = &meta.required_role {
            facts.push(format!("required role: {role}"));
        }
        if let Some(duration) = &meta.average_duration {
            facts.push(format!("takes about {duration}"));
        }
        if !facts.is_empty() {
            self.print("");
            self.print(&format!("  {}", facts.join(" · ")));
        }
        for (title, items) in [
            ("prerequisites", &meta.prerequisites),
            ("gotchas", &meta.gotchas),
        ] {
            if items.is_empty() {
                continue;
            }
            self.print("");
            self.print(&format!("  {}", self.style.bold(title)));
            for item in items {
                // Continuation lines sit under the item's text, not under its dash.
                let lines = wrap_lines(item, "", self.width.map(|w| w.saturating_sub(6)));
                for (number, line) in lines.iter().enumerate() {
                    let dash = if number == 0 { "- " } else { "  " };
                    self.print(&format!("    {dash}{line}"));
                }
            }
        }
    }
}

/// The summary's last word on the run: how to continue it, or why it cannot be continued and
/// where its record is. Nothing after a success.
fn resume_advice(resumability: Resumability, run_id: &str) -> Option<String> {
    match resumability {
        Resumability::Resumable | Resumability::UndoCutOff => Some(format!(
            "to continue after fixing the cause: runbook resume {run_id}"
        )),
        Resumability::Succeeded => None,
        Resumability::Compensated => Some(format!(
            "cannot be resumed: compensation undid what the run did, so continuing it would act \
             on undone work; start a new run (the run's record: runbook show {run_id})"
        )),
        Resumability::Running { .. } | Resumability::NoStart => {
            Some(format!("the run's record: runbook show {run_id}"))
        }
    }
}

/// `12ms`, `1.5s`, `2m3.4s`: the workspace's one duration printer, to a tenth of a second, so a
/// time shown here can be written in a runbook as is.
pub fn format_duration(millis: u64) -> String {
    runbook_dsl::duration::format_elapsed(std::time::Duration::from_millis(millis))
}
