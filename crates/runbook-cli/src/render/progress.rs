//! The run as an operator sees it: one line per step with outcome and duration, a spinner while a step
//! runs (terminal only), and a summary.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use runbook_dsl::{Runbook, Step};
use runbook_engine::{Observer, RunReport, RunStatus, StepOutcome, StepReport};

use super::style::Style;

/// Writes progress to stdout.
pub struct TerminalObserver {
    style: Style,
    spinner: Option<ProgressBar>,
    animate: bool,
    total: usize,
}

impl TerminalObserver {
    pub fn new(color: bool) -> Self {
        TerminalObserver {
            style: Style { color },
            spinner: None,
            animate: std::io::stdout().is_terminal(),
            total: 0,
        }
    }

    fn print(&self, line: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
    }
}

impl Observer for TerminalObserver {
    fn run_started(&mut self, runbook: &Runbook) {
        self.total = runbook.steps.len();
        let title = self.style.bold(&runbook.meta.title);
        self.print(&format!("{title}"));
        let mut facts = vec![runbook.path.display().to_string(), format!("{} steps", self.total)];
        if let Some(mode) = runbook.meta.mode {
            facts.push(match mode {
                runbook_dsl::Mode::OperatorAssisted => "operator-assisted".to_owned(),
                runbook_dsl::Mode::Automatic => "automatic".to_owned(),
            });
        }
        self.print(&self.style.dim(&facts.join(" · ")));
        self.print("");
    }

    fn step_started(&mut self, index: usize, step: &Step) {
        if !self.animate {
            return;
        }
        let spinner = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("  {spinner} {msg} {elapsed:.dim}") {
            spinner.set_style(style);
        }
        spinner.set_message(format!("[{}/{}] {}", index + 1, self.total, step.name));
        spinner.enable_steady_tick(Duration::from_millis(80));
        self.spinner = Some(spinner);
    }

    fn step_finished(&mut self, index: usize, step: &Step, report: &StepReport) {
        if let Some(spinner) = self.spinner.take() {
            spinner.finish_and_clear();
        }
        let position = self.style.dim(&format!("[{}/{}]", index + 1, self.total));
        let duration = self.style.dim(&format_duration(report.duration_ms));
        let line = match report.outcome {
            StepOutcome::Passed => format!("  {} {position} {} {duration}", self.style.green("✓"), step.name),
            StepOutcome::Failed => format!("  {} {position} {} {duration}", self.style.red("✗"), step.name),
            StepOutcome::Skipped => format!(
                "  {} {position} {} {}",
                self.style.yellow("-"),
                step.name,
                self.style.dim("(skipped: `when` did not hold)")
            ),
            StepOutcome::NotRun => format!("  · {position} {}", step.name),
        };
        self.print(&line);
        if let Some(error) = &report.error {
            for text in error.message.lines() {
                self.print(&format!("      {}", self.style.red(text)));
            }
        }
    }

    fn run_finished(&mut self, report: &RunReport) {
        let passed = report.count(StepOutcome::Passed);
        let failed = report.count(StepOutcome::Failed);
        let skipped = report.count(StepOutcome::Skipped);
        let not_run = report.count(StepOutcome::NotRun);
        let mut counts = vec![format!("{passed} passed")];
        if failed > 0 {
            counts.push(format!("{failed} failed"));
        }
        if skipped > 0 {
            counts.push(format!("{skipped} skipped"));
        }
        if not_run > 0 {
            counts.push(format!("{not_run} not run"));
        }
        let summary = format!("{} in {}", counts.join(", "), format_duration(report.duration_ms));
        self.print("");
        match (report.status, &report.failed_step) {
            (RunStatus::Succeeded, _) => {
                self.print(&format!("{} {summary}", self.style.green("succeeded:")));
            }
            (RunStatus::Failed, Some(step)) => {
                self.print(&format!("{} at step `{step}`: {summary}", self.style.red("failed")));
            }
            (RunStatus::Failed, None) => self.print(&format!("{} {summary}", self.style.red("failed:"))),
        }
    }
}

/// `12ms`, `1.5s`, `2m03s`.
pub fn format_duration(millis: u64) -> String {
    if millis < 1000 {
        format!("{millis}ms")
    } else if millis < 60_000 {
        format!("{:.1}s", millis as f64 / 1000.0)
    } else {
        format!("{}m{:02}s", millis / 60_000, (millis % 60_000) / 1000)
    }
}
