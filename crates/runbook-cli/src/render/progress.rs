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

use super::style::Style;

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
}

impl TerminalObserver {
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
            animate: std::io::stdout().is_terminal(),
            run_id: run_id.to_owned(),
            resumed,
            rehearsal: false,
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
        if step.kind.group().is_some() {
            self.print(&format!("{}▾ {}", indent(at), self.style.bold(&step.name)));
            return;
        }
        if !self.animate || step.kind.prompt().is_some() {
            return;
        }
        let spinner = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{prefix}{spinner} {msg} {elapsed:.dim}") {
            spinner.set_style(style);
        }
        spinner.set_prefix(indent(at));
        spinner.set_message(step.name.clone());
        spinner.enable_steady_tick(Duration::from_millis(80));
        self.spinner = Some(spinner);
    }

    fn step_progress(&mut self, step: &Step, progress: &Progress) {
        match &self.spinner {
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
            for text in message.lines() {
                self.print(&format!("{pad}    {}", self.style.bold(text)));
            }
        }
        if let Some(error) = &report.error {
            let warned = report.outcome == StepOutcome::Warned;
            for text in error.message.lines() {
                let text = if warned {
                    self.style.yellow(text)
                } else {
                    self.style.red(text)
                };
                self.print(&format!("{pad}    {text}"));
            }
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
            RunEvent::Preconditions(record) if record.confirmed => self.print(&format!(
                "  {} preconditions confirmed ({})",
                self.style.green("✓"),
                record.answered_by
            )),
            RunEvent::Preconditions(record) => {
                self.print(&format!("  {} preconditions", self.style.red("✗")));
                if let Some(refusal) = &record.refusal {
                    for text in refusal.lines() {
                        self.print(&format!("      {}", self.style.red(text)));
                    }
                }
            }
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
        for step in report
            .steps
            .iter()
            .filter(|s| s.outcome == StepOutcome::NotRun)
        {
            self.print(&format!(
                "  · {} {}",
                step.name,
                self.style.dim("(not run)")
            ));
        }
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
        self.print("");
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
        self.print(&headline);
        if report.status == RunStatus::RollbackFailed {
            self.print("  manual action is needed: the steps above marked ✗ did not complete");
        }
        for step in report.warnings() {
            let first = step
                .error
                .as_ref()
                .and_then(|error| error.message.lines().next())
                .unwrap_or("");
            self.print(&format!(
                "  {} `{}`: {first}",
                self.style.yellow("warning:"),
                step.id
            ));
        }
        if let Some(step) = &report.commit_point {
            self.print(&format!(
                "  {} `{step}` (undo disarmed)",
                self.style.yellow("commit point passed:")
            ));
        }
        if !report.irreversible_done.is_empty() && report.status != RunStatus::Succeeded {
            self.print(&format!(
                "  {} {} (what it did cannot be undone)",
                self.style.yellow("point of no return passed:"),
                report
                    .irreversible_done
                    .iter()
                    .map(|step| format!("`{step}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let compensated = report
            .steps
            .iter()
            .any(|step| step.phase == Phase::Rollback);
        if !self.rehearsal {
            match Resumability::decide(Some(report.status), compensated, false) {
                Resumability::Resumable | Resumability::UndoCutOff => self.print(&format!(
                    "  to continue after fixing the cause: runbook resume {}",
                    self.run_id
                )),
                Resumability::Succeeded => {}
                Resumability::Compensated
                | Resumability::Running { .. }
                | Resumability::NoStart => {
                    self.print(&format!("  the run's record: runbook show {}", self.run_id))
                }
            }
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
            for text in description.trim_end().lines() {
                self.print(&format!("  {text}"));
            }
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
                self.print(&format!("    - {item}"));
            }
        }
    }
}

/// `12ms`, `1.5s`, `2m3.4s`: the workspace's one duration printer, to a tenth of a second, so a
/// time shown here can be written in a runbook as is.
pub fn format_duration(millis: u64) -> String {
    runbook_dsl::duration::format_elapsed(std::time::Duration::from_millis(millis))
}
