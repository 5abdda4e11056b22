//! One scenario, end to end: a fresh world, the engine with simulated transports, the run's
//! journal and audit log in a private directory, Ctrl-C or a kill where the scenario says, and a
//! resume from the journal after a kill, as `runbook resume` would.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use serde_json::{Map, Value};

use runbook_dsl::rehearsal::{Rehearsal, Scenario};
use runbook_dsl::{Runbook, Source};
use runbook_engine::audit::{AuditIdentity, AuditLog, AuditObserver, FileSink};
use runbook_engine::clock::{BoxFuture, Clock, SharedClock};
use runbook_engine::journal::{JournalObserver, JournalWriter, RunResumed, RunStarted};
use runbook_engine::resume::ResumePlan;
use runbook_engine::{
    AnswersPrompter, CommandEnvironment, Engine, EngineOptions, Fanout, Interrupt, NullObserver,
    Observer, RunReport, SharedPrompter,
};

use super::clock::VirtualClock;
use super::commands::{SOCKET_VAR, ShimServer};
use super::http::SimTransport;
use super::observe::{Gate, RecordingSink, Tracker};
use super::world::{SharedWorld, World, as_text, lock};
use crate::render::progress::TerminalObserver;

/// What one scenario did.
pub struct Outcome {
    /// The last session's report (the resumed one, after a kill).
    pub report: RunReport,
    /// Every session's step reports, in order.
    pub sessions: Vec<RunReport>,
    /// The step a kill stopped the first session at.
    pub killed_at: Option<String>,
    /// The scenario's Ctrl-C was delivered (its step started).
    pub interrupted: bool,
    pub exit_code: u8,
    pub audit: Vec<Value>,
    pub state: Map<String, Value>,
    /// What the simulation could not do.
    pub problems: Vec<String>,
    /// The virtual time the run took, in milliseconds.
    pub virtual_ms: u128,
}

/// How a scenario is shown and where it keeps its files.
pub struct Setup<'a> {
    pub rehearsal: &'a Arc<Rehearsal>,
    pub runbook: &'a Runbook,
    pub source: &'a Source,
    /// The scenario's private directory (journal, audit log, stand-ins, socket).
    pub dir: &'a Path,
    /// Show the operator's view on stdout.
    pub show: bool,
    pub color: bool,
    /// Answer prompts at the terminal instead of from the rehearsal.
    pub prompter: Option<SharedPrompter>,
}

/// The virtual clock, shared with the transport that advances it.
struct Shared(Arc<VirtualClock>);

impl Clock for Shared {
    fn now(&self) -> jiff::Timestamp {
        self.0.now()
    }
    fn monotonic(&self) -> std::time::Duration {
        self.0.monotonic()
    }
    fn sleep(&self, duration: std::time::Duration) -> BoxFuture<'_, ()> {
        self.0.sleep(duration)
    }
}

pub fn run(setup: &Setup<'_>, scenario: &Scenario) -> anyhow::Result<Outcome> {
    let rehearsal = setup.rehearsal;
    let mut state = rehearsal.state.clone();
    state.extend(scenario.state.clone());
    let mut given: Vec<(String, Value)> = rehearsal.inputs.clone();
    given.extend(scenario.inputs.iter().cloned());
    let world: SharedWorld = Arc::new(Mutex::new(World {
        state,
        faults: scenario.faults.clone(),
        ..World::default()
    }));
    let clock = Arc::new(VirtualClock::default());
    let shared_clock = SharedClock::new(Shared(clock.clone()));
    let shims = ShimServer::start(setup.dir, rehearsal.clone(), world.clone())
        .context("cannot start the rehearsal's command stand-ins")?;
    let transport = Arc::new(SimTransport {
        rehearsal: rehearsal.clone(),
        world: world.clone(),
        clock: clock.clone(),
    });
    let answers = answers_for(rehearsal, scenario);
    if let Err(problems) = runbook_engine::answers::check_answers(setup.runbook, &answers) {
        anyhow::bail!(
            "scenario `{}`: its answers do not fit the runbook's prompts:\n  {}",
            scenario.name,
            problems.join("\n  ")
        );
    }
    // `{{rehearsal.dir}}`: the scenario's private directory, for inputs that name files (a
    // snapshot directory) so nothing is written beside the runbook.
    let given_text: Vec<(String, String)> = given
        .iter()
        .map(|(name, value)| {
            let text =
                as_text(value).replace("{{rehearsal.dir}}", &setup.dir.display().to_string());
            (name.clone(), text)
        })
        .collect();
    // Nothing is read from the environment: a rehearsal is the same on every machine.
    let inputs = runbook_engine::resolve_inputs(setup.runbook, &given_text, &|_| None)
        .map_err(|error| anyhow::anyhow!("scenario `{}`: {error}", scenario.name))?;
    lock(&world).inputs = inputs.values.clone();
    let slug: String = scenario
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let run_id = format!("rehearsal-{slug}");
    let identity = AuditIdentity {
        run_id: run_id.clone(),
        actor: "rehearsal".into(),
        host: "rehearsal".into(),
        runbook: setup.runbook.meta.id.clone(),
    };
    let journal_path = setup.dir.join("journal.jsonl");
    let records = Arc::new(Mutex::new(Vec::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let sh = shell_path();
    let commands = CommandEnvironment {
        shell: sh,
        clear: true,
        vars: vec![
            ("PATH".into(), shims.bin.display().to_string()),
            (SOCKET_VAR.into(), shims.socket.display().to_string()),
            ("HOME".into(), setup.dir.display().to_string()),
            ("LC_ALL".into(), "C".into()),
        ],
    };
    let base = EngineOptions {
        interrupt: Interrupt::default(),
        run: runbook_engine::context::RunInfo {
            id: run_id.clone(),
            actor: "rehearsal".into(),
            started_at: shared_clock.now().to_string(),
            ..Default::default()
        },
        plugins: Some(Arc::new(crate::plugins::registry())),
        process_dir: Some(setup.dir.join("processes")),
        files_dir: Some(setup.dir.join("files")),
        run_dir: Some(setup.dir.to_path_buf()),
        // Scenarios run one after another on this thread (`block_on` on a current-thread
        // runtime), which outlives their commands (see `EngineOptions::commands_die_with_runbook`).
        commands_die_with_runbook: true,
        transport: Some(transport),
        clock: shared_clock.clone(),
        commands: Some(commands),
        ..EngineOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;

    let prompter = |setup: &Setup<'_>| -> anyhow::Result<SharedPrompter> {
        Ok(match &setup.prompter {
            Some(prompter) => prompter.clone(),
            None => runbook_engine::prompter::shared(
                AnswersPrompter::new(answers.clone(), format!("scenario `{}`", scenario.name))
                    .map_err(|error| anyhow::anyhow!("{error}"))?,
            ),
        })
    };
    let mut sessions = Vec::new();
    // The first session.
    let started = RunStarted::new(
        setup.runbook,
        &setup.source.text,
        &inputs.values,
        &inputs.secret_names,
        &identity,
    );
    let writer = JournalWriter::create_with_clock(&journal_path, started, shared_clock.clone())
        .with_context(|| format!("cannot write {}", journal_path.display()))?;
    let session = Session {
        setup,
        world: &world,
        records: &records,
        killed: &killed,
        identity: &identity,
        scenario,
        run_id: &run_id,
    };
    let (first, mut interrupted) =
        session.run(&runtime, &base, prompter(setup)?, writer, inputs, None)?;
    let killed_at = match first {
        Some(report) => {
            sessions.push(report);
            None
        }
        None => {
            // The process died: resume from the journal, as `runbook resume` would.
            let at = scenario.kill.clone();
            killed.store(false, std::sync::atomic::Ordering::SeqCst);
            {
                let mut world = lock(&world);
                world.killed = false;
                world.step = None;
            }
            if setup.show {
                println!(
                    "\n  ✝ killed as step `{}` started (no cleanup ran); resuming from the journal\n",
                    at.as_deref().unwrap_or_default()
                );
            }
            let journal = runbook_engine::journal::read_journal(&journal_path)
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let plan = ResumePlan::replay(&journal, setup.runbook);
            let resumed = RunResumed {
                actor: "rehearsal".into(),
                host: "rehearsal".into(),
                pid: std::process::id(),
                torn_line_dropped: journal.torn.clone(),
                allowed_changed_runbook: false,
            };
            let writer = JournalWriter::reopen_with_clock(
                &journal_path,
                &journal.end(),
                resumed,
                shared_clock.clone(),
            )
            .with_context(|| format!("cannot reopen {}", journal_path.display()))?;
            let inputs = runbook_engine::resolve_inputs(setup.runbook, &given_text, &|_| None)
                .map_err(|error| anyhow::anyhow!("{error}"))?;
            let (report, resumed_interrupted) = session.run(
                &runtime,
                &base,
                prompter(setup)?,
                writer,
                inputs,
                Some(plan),
            )?;
            interrupted |= resumed_interrupted;
            let report = report.context("the resumed session was killed too")?;
            sessions.push(report);
            at
        }
    };
    runtime.shutdown_background();
    drop(shims);
    let report = sessions
        .last()
        .cloned()
        .context("the scenario produced no report")?;
    let exit_code = crate::session::exit_code_for(&report);
    let world = lock(&world);
    let audit = records
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    Ok(Outcome {
        exit_code,
        report,
        sessions,
        killed_at,
        interrupted,
        audit,
        state: world.state.clone(),
        problems: world.problems.clone(),
        virtual_ms: clock.monotonic().as_millis(),
    })
}

/// One session of a scenario's run.
struct Session<'a> {
    setup: &'a Setup<'a>,
    world: &'a SharedWorld,
    records: &'a Arc<Mutex<Vec<Value>>>,
    killed: &'a Arc<AtomicBool>,
    identity: &'a AuditIdentity,
    scenario: &'a Scenario,
    run_id: &'a str,
}

impl Session<'_> {
    /// The report, or `None` when the scenario's kill stopped it.
    fn run(
        &self,
        runtime: &tokio::runtime::Runtime,
        base: &EngineOptions,
        prompter: SharedPrompter,
        writer: JournalWriter,
        inputs: runbook_engine::ResolvedInputs,
        resume: Option<ResumePlan>,
    ) -> anyhow::Result<(Option<RunReport>, bool)> {
        let setup = self.setup;
        let resumed = resume.is_some();
        let audit_file = FileSink::open(&setup.dir.join("audit.jsonl"))
            .with_context(|| format!("cannot write the audit log in {}", setup.dir.display()))?;
        let sink = RecordingSink {
            records: self.records.clone(),
            file: Some(audit_file),
            killed: self.killed.clone(),
        };
        let audit = AuditLog::new(self.identity.clone(), vec![Box::new(sink)])
            .with_clock(base.clock.clone())
            .shared();
        let interrupt = Interrupt::default();
        let engine = Engine::new(EngineOptions {
            prompter: Some(prompter),
            interrupt: interrupt.clone(),
            audit: Some(audit.clone()),
            resume,
            ..base.clone()
        });
        let kill = Arc::new(tokio::sync::Notify::new());
        let mut tracker = Tracker {
            world: self.world.clone(),
            interrupt,
            interrupt_at: self.scenario.interrupt.clone(),
            // A resumed session is not killed again.
            kill_at: if resumed {
                None
            } else {
                self.scenario.kill.clone()
            },
            killed: self.killed.clone(),
            kill: kill.clone(),
        };
        let mut journal = JournalObserver::new(writer);
        let mut audit_observer = AuditObserver {
            audit,
            resumed,
            inputs: inputs.for_report(),
            error: None,
        };
        let mut terminal;
        let mut null = NullObserver;
        let screen: &mut dyn Observer = if setup.show {
            terminal = TerminalObserver::new(
                setup.color,
                self.run_id,
                resumed,
                Some(setup.source.clone()),
            )
            .with_sources(setup.runbook.sources.clone())
            .in_rehearsal();
            &mut terminal
        } else {
            &mut null
        };
        let mut screen = Gate {
            inner: screen,
            killed: self.killed.clone(),
        };
        let mut journal = Gate {
            inner: &mut journal,
            killed: self.killed.clone(),
        };
        let mut audit_observer = Gate {
            inner: &mut audit_observer,
            killed: self.killed.clone(),
        };
        let mut observer = Fanout(vec![
            &mut tracker,
            &mut screen,
            &mut journal,
            &mut audit_observer,
        ]);
        let runbook = setup.runbook;
        let report = runtime.block_on(async {
            tokio::select! {
                biased;
                () = kill.notified() => None,
                report = engine.run(runbook, inputs, &mut observer) => Some(report),
            }
        });
        Ok((report, tracker.interrupt.is_set()))
    }
}

/// The rehearsal's answers with the scenario's in place, step by step.
fn answers_for(rehearsal: &Rehearsal, scenario: &Scenario) -> Value {
    let mut answers = match &rehearsal.answers {
        Value::Object(map) => map.clone(),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) | Value::Array(_) => {
            Map::new()
        }
    };
    if let Some(overrides) = &scenario.answers {
        for (key, value) in overrides {
            answers.insert(key.clone(), value.clone());
        }
    }
    Value::Object(answers)
}

/// `sh`, by absolute path, from this process's `PATH` (a rehearsal's own `PATH` holds only
/// stand-ins).
fn shell_path() -> PathBuf {
    std::env::var_os("PATH")
        .and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join("sh"))
                .find(|candidate| candidate.is_file())
        })
        .unwrap_or_else(|| PathBuf::from("/bin/sh"))
}
