//! Test helpers: runbooks from YAML in a temp dir, a recording observer, a prompter that logs what
//! it was asked, and journaled runs for resume.

use std::path::{Path, PathBuf};

use crate::CheckpointError;

use serde_json::Map;

use runbook_dsl::{Runbook, Source, Step};

use crate::audit::AuditIdentity;
use crate::interrupt::Interrupt;
use crate::journal::{JournalObserver, JournalWriter, RunResumed, RunStarted, read_journal};
use crate::observer::{Fanout, Observer, Position, Progress, RunEvent};
use crate::prompter::{Decision, shared};

pub(super) use super::script::{Script, asked};
use crate::report::{Phase, RunReport, RunStatus, StepOutcome, StepReport};
use crate::resume::ResumePlan;
use crate::runner::{Engine, EngineOptions};

/// Small executables every fixture has, so runbooks stay short:
/// - `@DIR@/mark NAME [TEXT]` appends a line (TEXT, default `x`) to `NAME`: one line per execution;
/// - `@DIR@/flaky N NAME` bumps the counter in `NAME`, prints it, and fails while it is at most N.
const MARK: &str = "#!/bin/sh\nprintf '%s\\n' \"${2:-x}\" >> \"$(dirname \"$0\")/$1\"\n";
const FLAKY: &str = "#!/bin/sh\nf=\"$(dirname \"$0\")/$2\"\nn=$(( $(cat \"$f\" 2>/dev/null || echo 0) + 1 ))\necho \"$n\" > \"$f\"\necho \"$n\"\n[ \"$n\" -gt \"$1\" ]\n";

/// A temp dir for one test: runbooks refer to it as `@DIR@`.
pub(super) struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    pub(super) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|error| panic!("temp dir: {error}"));
        let fixture = Fixture { dir };
        fixture.script("mark", MARK);
        fixture.script("flaky", FLAKY);
        fixture
    }

    fn script(&self, name: &str, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(name);
        std::fs::write(&path, text).unwrap_or_else(|error| panic!("write {name}: {error}"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .unwrap_or_else(|error| panic!("chmod {name}: {error}"));
    }

    pub(super) fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub(super) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Loads and checks a runbook; `@DIR@` stands for the fixture's directory.
    ///
    /// The helper scripts run as `sh SCRIPT`, not exec'd: another test thread that forks while
    /// `script` still holds the file open for writing makes an exec fail with ETXTBSY ("text file
    /// busy"), which under load looked like a step failing once too often. Reading it is not racy.
    pub(super) fn runbook(&self, yaml: &str) -> Runbook {
        let text = yaml
            .replace("@DIR@/mark ", "sh @DIR@/mark ")
            .replace("@DIR@/flaky ", "sh @DIR@/flaky ")
            .replace("@DIR@", &self.dir().display().to_string());
        let source = Source::new(self.path("runbook.yaml"), text);
        runbook_dsl::load_and_check(&source)
            .unwrap_or_else(|findings| panic!("the test runbook has findings: {findings:#?}"))
    }

    /// The file's text, empty when it does not exist.
    pub(super) fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// How many lines `mark` wrote to the file: how many times the step executed.
    pub(super) fn count(&self, name: &str) -> usize {
        self.read(name).lines().count()
    }

    pub(super) fn touch(&self, name: &str) {
        std::fs::write(self.path(name), "").unwrap_or_else(|error| panic!("touch {name}: {error}"));
    }
}

/// One observed event, in the order the engine reported it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Event {
    RunStarted(String),
    Phase(Phase),
    Started {
        step: String,
        phase: Phase,
        depth: usize,
        cleanup: bool,
    },
    Checkpoint(String),
    Progress(String, Progress),
    Finished {
        step: String,
        phase: Phase,
        outcome: StepOutcome,
        restored: bool,
    },
    Decision(String, Decision),
    /// `stopped STEP: FAILURE`, `commit STEP`, `preconditions confirmed|refused`.
    Run(String),
    RunFinished(RunStatus),
}

/// Records every event; can trigger Ctrl-C when a given step starts or a retry is announced.
#[derive(Default)]
pub(super) struct Recorder {
    pub(super) events: Vec<Event>,
    interrupt_at: Option<(String, Interrupt)>,
    interrupt_on_retry: Option<Interrupt>,
    interrupt_at_failure: Option<(String, Interrupt)>,
}

impl Recorder {
    /// Triggers `interrupt` when step `step` starts.
    pub(super) fn interrupting_at(step: &str, interrupt: &Interrupt) -> Self {
        Recorder {
            interrupt_at: Some((step.to_owned(), interrupt.clone())),
            ..Recorder::default()
        }
    }

    /// Triggers `interrupt` at the first "retrying" progress.
    pub(super) fn interrupting_on_retry(interrupt: &Interrupt) -> Self {
        Recorder {
            interrupt_on_retry: Some(interrupt.clone()),
            ..Recorder::default()
        }
    }

    /// Triggers `interrupt` when step `step` finishes failed.
    pub(super) fn interrupting_at_failure(step: &str, interrupt: &Interrupt) -> Self {
        Recorder {
            interrupt_at_failure: Some((step.to_owned(), interrupt.clone())),
            ..Recorder::default()
        }
    }

    /// The run as short lines: `start ID`, `end ID outcome`, `phase NAME`, `decide ID word`,
    /// `restored ID`. Progress and checkpoints are left out (see [`Recorder::progress`]).
    pub(super) fn trace(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Phase(phase) => Some(format!("phase {}", phase.word())),
                Event::Started { step, .. } => Some(format!("start {step}")),
                Event::Finished {
                    step,
                    restored: true,
                    ..
                } => Some(format!("restored {step}")),
                Event::Finished { step, outcome, .. } => {
                    Some(format!("end {step} {}", outcome.word()))
                }
                Event::Decision(step, decision) => {
                    Some(format!("decide {step} {}", decision.word()))
                }
                Event::Run(_)
                | Event::RunStarted(_)
                | Event::Checkpoint(_)
                | Event::Progress(..)
                | Event::RunFinished(_) => None,
            })
            .collect()
    }

    /// The run-level events ([`RunEvent`]) as short lines, in order.
    pub(super) fn run_events(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Run(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// Ids of the steps that started, in order.
    pub(super) fn started(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Started { step, .. } => Some(step.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The progress reported for a step, in order.
    pub(super) fn progress(&self, step: &str) -> Vec<&Progress> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Progress(id, progress) if id == step => Some(progress),
                _ => None,
            })
            .collect()
    }

    pub(super) fn decisions(&self) -> Vec<(&str, Decision)> {
        self.events
            .iter()
            .filter_map(|event| match event {
                Event::Decision(step, decision) => Some((step.as_str(), *decision)),
                _ => None,
            })
            .collect()
    }
}

impl Observer for Recorder {
    fn run_started(&mut self, runbook: &Runbook) {
        self.events.push(Event::RunStarted(runbook.meta.id.clone()));
    }
    fn phase_started(&mut self, phase: Phase, _reason: &str) {
        self.events.push(Event::Phase(phase));
    }
    fn step_started(&mut self, step: &Step, at: &Position) {
        self.events.push(Event::Started {
            step: step.id.clone(),
            phase: at.phase,
            depth: at.depth,
            cleanup: at.cleanup,
        });
        if let Some((id, interrupt)) = &self.interrupt_at
            && *id == step.id
        {
            interrupt.trigger();
        }
    }
    fn checkpoint(&mut self, step: &Step, _at: &Position) -> Result<(), CheckpointError> {
        self.events.push(Event::Checkpoint(step.id.clone()));
        Ok(())
    }
    fn step_progress(&mut self, step: &Step, progress: &Progress) {
        self.events
            .push(Event::Progress(step.id.clone(), progress.clone()));
        if let (Progress::Retrying { .. }, Some(interrupt)) = (progress, &self.interrupt_on_retry) {
            interrupt.trigger();
        }
    }
    fn step_finished(&mut self, step: &Step, at: &Position, report: &StepReport) {
        self.events.push(Event::Finished {
            step: step.id.clone(),
            phase: at.phase,
            outcome: report.outcome,
            restored: report.restored,
        });
        if let Some((id, interrupt)) = &self.interrupt_at_failure
            && *id == step.id
            && report.outcome == StepOutcome::Failed
        {
            interrupt.trigger();
        }
    }
    fn decision(&mut self, step: &Step, decision: Decision) {
        self.events.push(Event::Decision(step.id.clone(), decision));
    }
    fn run_event(&mut self, event: &RunEvent<'_>) {
        self.events.push(Event::Run(match event {
            RunEvent::Stopped { stop, failure } => {
                format!("stopped {}: {failure}", stop.step().unwrap_or("-"))
            }
            RunEvent::CommitPassed { step, .. } => format!("commit {step}"),
            RunEvent::Preconditions(record) if record.confirmed => {
                "preconditions confirmed".to_owned()
            }
            RunEvent::Preconditions(_) => "preconditions refused".to_owned(),
        }));
    }
    fn run_finished(&mut self, report: &RunReport) {
        self.events.push(Event::RunFinished(report.status));
    }
}

/// Options with an empty environment and, when given, a prompter.
pub(super) fn options(prompter: Option<Script>) -> EngineOptions {
    EngineOptions {
        env: Some(Vec::new()),
        prompter: prompter.map(shared),
        ..EngineOptions::default()
    }
}

/// Runs the runbook with its inputs' defaults.
pub(super) async fn run(
    runbook: &Runbook,
    options: EngineOptions,
    observer: &mut dyn Observer,
) -> RunReport {
    let inputs = crate::inputs::resolve_inputs(runbook, &[], &|_| None)
        .unwrap_or_else(|error| panic!("inputs: {error}"));
    Engine::new(options).run(runbook, inputs, observer).await
}

/// Runs with a decision-free prompter-less engine and a fresh recorder.
pub(super) async fn run_plain(runbook: &Runbook) -> (RunReport, Recorder) {
    let mut recorder = Recorder::default();
    let report = run(runbook, options(None), &mut recorder).await;
    (report, recorder)
}

/// The report of the last execution of a step.
pub(super) fn step_report<'r>(report: &'r RunReport, step: &str) -> &'r StepReport {
    report
        .steps
        .iter()
        .rev()
        .find(|s| s.id == step)
        .unwrap_or_else(|| panic!("no report for step `{step}`"))
}

/// Every report's id and outcome, in report order.
pub(super) fn outcomes(report: &RunReport) -> Vec<(String, StepOutcome)> {
    report
        .steps
        .iter()
        .map(|step| (step.id.clone(), step.outcome))
        .collect()
}

/// `(id, outcome)` pairs from literals, to compare with [`outcomes`].
pub(super) fn expect(pairs: &[(&str, StepOutcome)]) -> Vec<(String, StepOutcome)> {
    pairs
        .iter()
        .map(|(id, outcome)| ((*id).to_owned(), *outcome))
        .collect()
}

/// The journal of a run in the fixture's dir: the first session creates it, each later one reads
/// it, builds the [`ResumePlan`] and continues it.
pub(super) async fn session(
    fixture: &Fixture,
    runbook: &Runbook,
    mut options: EngineOptions,
    recorder: &mut Recorder,
) -> RunReport {
    let path = fixture.path("state/journal.jsonl");
    let writer = if path.exists() {
        let journal = read_journal(&path).unwrap_or_else(|error| panic!("read: {error}"));
        options.resume = Some(ResumePlan::replay(&journal, runbook));
        let resumed = RunResumed {
            actor: "tester".into(),
            host: "test.invalid".into(),
            pid: std::process::id(),
            torn_line_dropped: None,
            allowed_changed_runbook: false,
        };
        JournalWriter::reopen(&path, &journal.end(), resumed)
    } else {
        let identity = AuditIdentity {
            run_id: "r1".into(),
            actor: "tester".into(),
            host: "test.invalid".into(),
            runbook: runbook.meta.id.clone(),
        };
        let started = RunStarted::new(runbook, "", &Map::new(), &[], &identity);
        JournalWriter::create(&path, started)
    };
    let writer = writer.unwrap_or_else(|error| panic!("journal: {error}"));
    let mut journal = JournalObserver::new(writer);
    let report = {
        let mut both = Fanout(vec![&mut journal, recorder]);
        run(runbook, options, &mut both).await
    };
    assert_eq!(journal.error(), None, "the journal must be written");
    report
}
