//! Kill points and trials.

#[derive(Clone, Copy, Debug)]
pub(super) enum Hold {
    /// In `gate`, before the ledger line (the step has done nothing yet).
    Pre(&'static str),
    /// In `gate`, after the ledger line (the step's effect happened; it has not finished).
    Post(&'static str),
    /// The server holds the response to this path (the request arrived).
    Http(&'static str),
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Trigger {
    /// Kill as soon as the hold is reached: mid-step.
    Held,
    /// Kill as soon as this session journals `step_finished` for the step (any phase) after a
    /// real run (`attempts >= 1`), with this outcome if given: between steps.
    Finished(&'static str, Option<&'static str>),
}

#[derive(Clone, Copy, Debug)]
pub(super) struct KillPoint {
    pub(super) name: &'static str,
    pub(super) hold: Hold,
    pub(super) trigger: Trigger,
}

const fn mid(name: &'static str, hold: Hold) -> KillPoint {
    KillPoint {
        name,
        hold,
        trigger: Trigger::Held,
    }
}

const fn after(
    name: &'static str,
    step: &'static str,
    outcome: Option<&'static str>,
    hold: Hold,
) -> KillPoint {
    KillPoint {
        name,
        hold,
        trigger: Trigger::Finished(step, outcome),
    }
}

/// Every step boundary and the middle of every step (before and after its effect).
pub(super) const KILL_POINTS: &[KillPoint] = &[
    mid("mid prep, before its effect", Hold::Pre("prep")),
    mid("mid prep, after its effect", Hold::Post("prep")),
    after("after prep", "prep", None, Hold::Pre("g_shell")),
    after("after ask (the prompt)", "ask", None, Hold::Pre("g_shell")),
    mid("mid g_shell, before its effect", Hold::Pre("g_shell")),
    mid("mid g_shell, after its effect", Hold::Post("g_shell")),
    after("after g_shell", "g_shell", None, Hold::Http("g_post")),
    mid("mid g_post (request received)", Hold::Http("g_post")),
    after("after g_post", "g_post", None, Hold::Pre("g_flaky")),
    mid("mid g_flaky, before its effect", Hold::Pre("g_flaky")),
    mid("mid g_flaky, after its effect", Hold::Post("g_flaky")),
    after(
        "after g_flaky failed (group finally next)",
        "g_flaky",
        Some("failed"),
        Hold::Pre("g_fin"),
    ),
    after(
        "after g_flaky passed (group finally next)",
        "g_flaky",
        Some("passed"),
        Hold::Pre("g_fin"),
    ),
    mid(
        "mid g_fin (group finally), before its effect",
        Hold::Pre("g_fin"),
    ),
    mid(
        "mid g_fin (group finally), after its effect",
        Hold::Post("g_fin"),
    ),
    mid(
        "mid g_fin_ok (group finally), before its effect",
        Hold::Pre("g_fin_ok"),
    ),
    mid(
        "mid g_fin_ok (group finally), after its effect",
        Hold::Post("g_fin_ok"),
    ),
    after(
        "after the group passed",
        "grp",
        Some("passed"),
        Hold::Pre("commit"),
    ),
    mid("mid commit, before its effect", Hold::Pre("commit")),
    mid("mid commit, after its effect", Hold::Post("commit")),
    after("after commit", "commit", None, Hold::Http("notify")),
    mid("mid notify (request received)", Hold::Http("notify")),
    after("after notify", "notify", None, Hold::Pre("last")),
    mid("mid last, before its effect", Hold::Pre("last")),
    mid("mid last, after its effect", Hold::Post("last")),
    after("after last (finally next)", "last", None, Hold::Pre("fin")),
    mid("mid of_note (failure path)", Hold::Http("of_note")),
    after(
        "after of_note (finally next)",
        "of_note",
        None,
        Hold::Pre("fin"),
    ),
    mid(
        "mid fin (first finally), before its effect",
        Hold::Pre("fin"),
    ),
    mid(
        "mid fin (first finally), after its effect",
        Hold::Post("fin"),
    ),
];

fn point(name: &str) -> KillPoint {
    KILL_POINTS
        .iter()
        .copied()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no kill point named `{name}`"))
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Mode {
    /// runbook and the commands it started die together.
    Crash,
    /// Only runbook dies; the held shell command is released and finishes as an orphan.
    RunbookOnly,
}

#[derive(Clone, Debug)]
pub(super) struct Trial {
    pub(super) kills: Vec<KillPoint>,
    pub(super) mode: Mode,
    /// Resumes pass the secret input as `--input token=...` instead of the environment.
    pub(super) input_flag: bool,
}

impl Trial {
    pub(super) fn name(&self) -> String {
        let points: Vec<&str> = self.kills.iter().map(|k| k.name).collect();
        format!(
            "[{}] kill {}{}",
            match self.mode {
                Mode::Crash => "crash",
                Mode::RunbookOnly => "runbook only",
            },
            points.join(" | then in a resume: "),
            if self.input_flag {
                " (secret input via --input on resume)"
            } else {
                ""
            }
        )
    }
}

/// One kill at every point (crash); the shell holds again with only runbook killed; and pairs
/// where the first resume is killed too (the second point comes later in the run, or the same
/// step again).
pub(super) fn trials() -> Vec<Trial> {
    let mut out: Vec<Trial> = KILL_POINTS
        .iter()
        .map(|&kill| Trial {
            kills: vec![kill],
            mode: Mode::Crash,
            input_flag: false,
        })
        .collect();
    // Only runbook killed: every point where a shell command is running (held in `gate`).
    for &kill in KILL_POINTS {
        if matches!(kill.hold, Hold::Pre(_) | Hold::Post(_)) {
            out.push(Trial {
                kills: vec![kill],
                mode: Mode::RunbookOnly,
                input_flag: false,
            });
        }
    }
    let pairs: &[(&str, &str)] = &[
        ("mid prep, before its effect", "mid prep, before its effect"),
        ("after ask (the prompt)", "mid g_post (request received)"),
        ("after prep", "after g_shell"),
        (
            "mid g_shell, before its effect",
            "mid g_shell, after its effect",
        ),
        (
            "mid g_post (request received)",
            "mid g_fin (group finally), after its effect",
        ),
        (
            "mid g_shell, after its effect",
            "mid g_flaky, before its effect",
        ),
        ("after g_post", "after g_flaky passed (group finally next)"),
        (
            "after g_flaky failed (group finally next)",
            "after the group passed",
        ),
        ("mid of_note (failure path)", "mid commit, after its effect"),
        (
            "mid fin (first finally), before its effect",
            "mid commit, before its effect",
        ),
        (
            "mid commit, before its effect",
            "mid notify (request received)",
        ),
        (
            "mid commit, after its effect",
            "mid commit, after its effect",
        ),
        ("after commit", "after notify"),
        (
            "mid notify (request received)",
            "mid notify (request received)",
        ),
        (
            "mid notify (request received)",
            "mid last, after its effect",
        ),
        ("after the group passed", "mid last, before its effect"),
        ("mid last, before its effect", "after last (finally next)"),
        ("mid last, after its effect", "mid last, after its effect"),
        (
            "after g_flaky failed (group finally next)",
            "mid g_fin (group finally), before its effect",
        ),
        ("after of_note (finally next)", "after notify"),
        (
            "mid fin (first finally), after its effect",
            "after last (finally next)",
        ),
    ];
    for (first, second) in pairs {
        out.push(Trial {
            kills: vec![point(first), point(second)],
            mode: Mode::Crash,
            input_flag: false,
        });
    }
    // Three kills: the first and the second resume are killed too.
    let triples: &[[&str; 3]] = &[
        [
            "mid prep, after its effect",
            "mid g_shell, before its effect",
            "mid commit, after its effect",
        ],
        [
            "after ask (the prompt)",
            "after g_flaky passed (group finally next)",
            "mid last, before its effect",
        ],
        [
            "mid g_flaky, after its effect",
            "mid notify (request received)",
            "after last (finally next)",
        ],
    ];
    for kills in triples {
        out.push(Trial {
            kills: kills.iter().map(|name| point(name)).collect(),
            mode: Mode::Crash,
            input_flag: false,
        });
    }
    // Runbook only, twice.
    for (first, second) in [
        (
            "mid g_shell, after its effect",
            "mid commit, after its effect",
        ),
        (
            "mid commit, before its effect",
            "mid last, after its effect",
        ),
    ] {
        out.push(Trial {
            kills: vec![point(first), point(second)],
            mode: Mode::RunbookOnly,
            input_flag: false,
        });
    }
    for (i, trial) in out.iter_mut().enumerate() {
        trial.input_flag = i % 3 == 1;
    }
    out
}
