//! A test's rig: the sandbox, the servers, the infisical stand-in and the state directory, and
//! how a test runs the runbook and reads what it left (journal, audit log, files).

use super::*;

/// A test's world: the sandbox, the three servers, the infisical stand-in, the state directory.
pub(super) struct Rig {
    pub(super) sandbox: Sandbox,
    pub(super) world: Shared,
    pub(super) alpaca: MockServer,
    pub(super) alpaca_paper: MockServer,
    pub(super) raxx: MockServer,
    pub(super) heroku: MockServer,
    pub(super) state_dir: PathBuf,
    pub(super) infisical_bin: PathBuf,
    pub(super) infisical_log: PathBuf,
    pub(super) infisical_store: PathBuf,
    pub(super) timeline: PathBuf,
    /// `--input name=value` overrides.
    pub(super) inputs: Vec<(String, String)>,
}

pub(super) async fn rig(scenario: Scenario) -> Rig {
    let sandbox = Sandbox::new();
    let timeline = sandbox.path().join("timeline.log");
    let infisical_log = sandbox.path().join("infisical-argv.log");
    let infisical_store = sandbox.path().join("infisical-store.env");
    let script = infisical_script(
        &infisical_log,
        &infisical_store,
        &timeline,
        scenario.infisical_store_failures,
        &sandbox.path().join("infisical-set-failures.count"),
    );
    let infisical_bin = sandbox.write("bin/infisical", &script);
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&infisical_bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = |extra: &[(&str, &str)]| {
        let mut config = Map::new();
        for (name, value) in [
            ("DATABASE_URL", DATABASE_URL),
            ("TRADING_LIVE_DISABLED", "0"),
            ("TRADING_PAPER_DISABLED", "0"),
            ("ALPACA_LIVE_API_KEY_ID", CURRENT_KEY_ID),
            ("ALPACA_LIVE_API_SECRET_KEY", CURRENT_SECRET),
        ]
        .iter()
        .chain(extra)
        {
            config.insert((*name).to_owned(), Value::from(*value));
        }
        config
    };
    let mut heroku_apps = BTreeMap::new();
    heroku_apps.insert(PROD_APP.to_owned(), config(&[]));
    heroku_apps.insert(MQA_APP.to_owned(), config(&[("MQA_MODE", "live")]));
    heroku_apps.insert("raxx-api-staging".to_owned(), config(&[]));
    heroku_apps.insert(MQA_PRICING_APP.to_owned(), config(&[("MQA_MODE", "live")]));
    let world = Arc::new(Mutex::new(World {
        scenario,
        timeline: timeline.clone(),
        heroku: heroku_apps,
        live_disabled: false,
        pending: None,
        regenerated: false,
        orders: Vec::new(),
        order_status: String::new(),
        runtime_pair: (CURRENT_KEY_ID.to_owned(), CURRENT_SECRET.to_owned()),
        runtime_pending: None,
    }));
    let alpaca = MockServer::start().await;
    Mock::given(any())
        .respond_with(Alpaca {
            world: world.clone(),
            paper: false,
        })
        .mount(&alpaca)
        .await;
    let alpaca_paper = MockServer::start().await;
    Mock::given(any())
        .respond_with(Alpaca {
            world: world.clone(),
            paper: true,
        })
        .mount(&alpaca_paper)
        .await;
    let raxx = MockServer::start().await;
    Mock::given(any())
        .respond_with(Raxx(world.clone()))
        .mount(&raxx)
        .await;
    let heroku = MockServer::start().await;
    Mock::given(any())
        .respond_with(Heroku(world.clone()))
        .mount(&heroku)
        .await;
    let state_dir = sandbox.path().join("state");
    Rig {
        sandbox,
        world,
        alpaca,
        alpaca_paper,
        raxx,
        heroku,
        state_dir,
        infisical_bin,
        infisical_log,
        infisical_store,
        timeline,
        inputs: Vec::new(),
    }
}

impl Rig {
    pub(super) fn input(mut self, name: &str, value: &str) -> Self {
        self.inputs.push((name.to_owned(), value.to_owned()));
        self
    }

    /// `run runbooks/alpaca-live.yaml --input ...`: the stand-ins' addresses, short timings, and
    /// this test's overrides.
    pub(super) fn run_args(&self) -> Vec<String> {
        let runbook_file = workspace_root().join("runbooks/alpaca-live.yaml");
        let mut inputs = vec![
            ("alpaca_base_url".to_owned(), self.alpaca.uri()),
            ("raxx_base_url".to_owned(), self.raxx.uri()),
            ("heroku_api_url".to_owned(), self.heroku.uri()),
            ("heroku_app".to_owned(), PROD_APP.to_owned()),
            ("infisical_project_id".to_owned(), "proj-123".to_owned()),
            (
                "infisical_bin".to_owned(),
                self.infisical_bin.display().to_string(),
            ),
            ("health_poll_interval".to_owned(), "100ms".to_owned()),
            ("health_timeout".to_owned(), "2s".to_owned()),
        ];
        for (name, value) in &self.inputs {
            inputs.retain(|(existing, _)| existing != name);
            inputs.push((name.clone(), value.clone()));
        }
        let mut args = vec!["run".to_owned(), runbook_file.display().to_string()];
        for (name, value) in inputs {
            args.push("--input".to_owned());
            args.push(format!("{name}={value}"));
        }
        args
    }

    /// The environment of a run: the current pair and the Heroku token (never on the command
    /// line), the actor, this test's state directory.
    pub(super) fn run_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("RUNBOOK_STATE_DIR", self.state_dir.display().to_string()),
            ("RUNBOOK_ACTOR", ACTOR.to_owned()),
            ("ALPACA_LIVE_API_KEY_ID", CURRENT_KEY_ID.to_owned()),
            ("ALPACA_LIVE_API_SECRET_KEY", CURRENT_SECRET.to_owned()),
            ("HEROKU_API_KEY", HEROKU_TOKEN.to_owned()),
        ]
    }

    /// Runs the runbook with `answers` as the answers file standing in for the operator.
    pub(super) fn run(&self, answers: &str) -> Output {
        self.sandbox.write("answers.yaml", answers);
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env_remove("INFISICAL_PROJECT_ID")
            .args(self.run_args())
            .args([
                "--answers",
                "answers.yaml",
                "--allow-answers-file-on-live-run",
            ]);
        for (name, value) in self.run_env() {
            command.env(name, value);
        }
        let output = finish(command);
        eprintln!(
            "--- exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- timeline\n{}",
            output.code,
            output.stdout,
            output.stderr,
            self.timeline().join("\n")
        );
        output
    }

    /// `runbook resume RUN_ID --output json` with `answers` as the answers file (it replaces the
    /// first run's): the same state directory and environment; the inputs come from the journal.
    pub(super) fn resume(&self, run_id: &str, answers: &str) -> Output {
        self.sandbox.write("answers.yaml", answers);
        let mut command = runbook();
        command
            .current_dir(self.sandbox.path())
            .env_remove("INFISICAL_PROJECT_ID")
            .args([
                "resume",
                run_id,
                "--output",
                "json",
                "--answers",
                "answers.yaml",
                "--allow-answers-file-on-live-run",
            ]);
        for (name, value) in self.run_env() {
            command.env(name, value);
        }
        let output = finish(command);
        eprintln!(
            "--- resume: exit {}\n--- stdout\n{}\n--- stderr\n{}\n--- timeline\n{}",
            output.code,
            output.stdout,
            output.stderr,
            self.timeline().join("\n")
        );
        output
    }

    /// The id of the (only) run in the state directory.
    pub(super) fn run_id(&self) -> String {
        let runs: Vec<String> = std::fs::read_dir(self.state_dir.join("runs"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(runs.len(), 1, "{runs:?}");
        runs.into_iter().next().unwrap()
    }

    /// Where the snapshot goes by default: `snapshots/` in the run's folder of the state
    /// directory (issue 13 item 9). A path that does not exist when no run started.
    pub(super) fn snapshot_dir(&self) -> PathBuf {
        let runs: Vec<PathBuf> = std::fs::read_dir(self.state_dir.join("runs"))
            .into_iter()
            .flatten()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(runs.len() <= 1, "{runs:?}");
        runs.into_iter()
            .next()
            .unwrap_or_else(|| self.state_dir.join("runs/none"))
            .join("snapshots")
    }

    /// What the stand-ins received, in order.
    pub(super) fn timeline(&self) -> Vec<String> {
        std::fs::read_to_string(&self.timeline)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The timeline with runs of the same line collapsed to `line (xN)`.
    pub(super) fn story(&self) -> Vec<String> {
        let mut story: Vec<(String, usize)> = Vec::new();
        for line in self.timeline() {
            match story.last_mut() {
                Some((last, n)) if *last == line => *n += 1,
                _ => story.push((line, 1)),
            }
        }
        story
            .into_iter()
            .map(|(line, n)| {
                if n == 1 {
                    line
                } else {
                    format!("{line} (x{n})")
                }
            })
            .collect()
    }

    pub(super) fn infisical_calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.infisical_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    pub(super) fn infisical_store(&self) -> String {
        std::fs::read_to_string(&self.infisical_store).unwrap_or_default()
    }

    pub(super) fn heroku_config(&self, app: &str) -> Map<String, Value> {
        self.world.lock().unwrap().heroku[app].clone()
    }

    pub(super) fn orders_placed(&self) -> Vec<Value> {
        self.world.lock().unwrap().orders.clone()
    }

    /// The audit log's records.
    pub(super) fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.state_dir.join("audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// The `type: event` records of the audit log (from audit steps).
    pub(super) fn audit_events(&self) -> Vec<Value> {
        self.audit()
            .into_iter()
            .filter(|record| record["type"] == "event")
            .collect()
    }

    pub(super) fn event_actions(&self) -> Vec<String> {
        self.audit_events()
            .iter()
            .map(|event| event["action"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    /// The journal of the (only) run.
    pub(super) fn journal(&self) -> Vec<Value> {
        let runs = self.state_dir.join("runs");
        let mut journals: Vec<PathBuf> = std::fs::read_dir(&runs)
            .unwrap_or_else(|e| panic!("no runs in {}: {e}", runs.display()))
            .map(|entry| entry.unwrap().path().join("journal.jsonl"))
            .filter(|path| path.is_file())
            .collect();
        assert_eq!(journals.len(), 1, "{journals:?}");
        std::fs::read_to_string(journals.remove(0))
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    /// Step outcomes from the journal, in order: `id outcome`.
    pub(super) fn journal_outcomes(&self) -> Vec<String> {
        self.journal()
            .iter()
            .filter(|record| record["type"] == "step_finished")
            .map(|record| {
                format!(
                    "{} {}",
                    record["step"]
                        .as_str()
                        .or(record["id"].as_str())
                        .unwrap_or("?"),
                    record["outcome"].as_str().unwrap_or("?")
                )
            })
            .collect()
    }

    /// Every file the run could have written (the state directory, the snapshots, the stand-in's
    /// argv log, the sandbox), except the test's own inputs and the infisical stand-in's storage.
    pub(super) fn files_written(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        collect_files(self.sandbox.path(), &mut files);
        files.retain(|path| {
            path != &self.sandbox.path().join("answers.yaml")
                && path != &self.infisical_store
                && path != &self.infisical_bin
        });
        files
    }

    /// No secret in stdout, stderr or any file written (journal, audit log, snapshots, infisical argv
    /// log, timeline); and the private file handed to `infisical --file` is gone.
    pub(super) fn assert_no_secret_anywhere(&self, output: &Output) {
        for (name, secret) in SECRETS {
            assert!(
                !output.stdout.contains(secret),
                "{name} in stdout:\n{}",
                output.stdout
            );
            assert!(
                !output.stderr.contains(secret),
                "{name} in stderr:\n{}",
                output.stderr
            );
        }
        let files = self.files_written();
        assert!(
            files.iter().any(|f| f.ends_with("audit.jsonl")),
            "the audit log exists: {files:?}"
        );
        assert!(
            files.iter().any(|f| f.ends_with("journal.jsonl")),
            "the journal exists: {files:?}"
        );
        for file in &files {
            let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
            for (name, secret) in SECRETS {
                if name == "DATABASE_URL" {
                    continue; // checked by its own test
                }
                assert!(
                    !text.contains(secret),
                    "{name} in {}:\n{text}",
                    file.display()
                );
            }
        }
        for line in self.infisical_calls() {
            if let Some(rest) = line.strip_prefix("file ") {
                let path = rest.splitn(3, ' ').nth(2).unwrap();
                assert!(
                    !Path::new(path).exists(),
                    "the secrets file {path} was left behind"
                );
            }
        }
    }
}

pub(super) fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_files(&path, out);
        } else {
            out.push(path);
        }
    }
}
