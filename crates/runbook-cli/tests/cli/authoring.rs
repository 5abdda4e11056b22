//! The authoring commands: `plan`, `render`, `graph`, `new`, `completions`, `man`.
//!
//! Outputs for `runbooks/alpaca-live.yaml` and `examples/payment-key-roll.yaml` are pinned in
//! `tests/fixtures/authoring/` (and the Alpaca SOP page in `docs/sop/alpaca-live.md`, which must be
//! exactly what `runbook render` prints). `UPDATE_FIXTURES=1 cargo test -p runbook-cli --test cli
//! authoring` rewrites them; read every rewritten file before committing it.

use std::path::{Path, PathBuf};

use crate::support::{self, Output, Sandbox};

/// Every environment variable the pinned runbooks read inputs from: removed, so a developer's
/// shell cannot change the pinned plans.
const INPUT_ENV: [&str; 6] = [
    "INFISICAL_PROJECT_ID",
    "ALPACA_LIVE_API_KEY_ID",
    "ALPACA_LIVE_API_SECRET_KEY",
    "HEROKU_API_KEY",
    "PAYMENT_PROVIDER_OLD_KEY",
    "VAULT_TOKEN",
];

/// `runbook ARGS` in the workspace root (so paths in the output are relative and stable).
fn run_in_root(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = support::runbook();
    command.current_dir(support::workspace_root()).args(args);
    for name in INPUT_ENV {
        command.env_remove(name);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    support::finish(command)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/authoring")
        .join(name)
}

/// Compares `actual` with the pinned file, or rewrites it with `UPDATE_FIXTURES=1`.
pub(crate) fn assert_pinned(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_FIXTURES").is_some_and(|value| value == "1") {
        std::fs::write(path, actual)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|error| {
        panic!(
            "cannot read {}: {error} (create it with UPDATE_FIXTURES=1)\nactual:\n{actual}",
            path.display()
        )
    });
    if expected == actual {
        return;
    }
    let first = expected
        .lines()
        .zip(actual.lines())
        .position(|(e, a)| e != a)
        .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
    panic!(
        "{} differs from the output (rerun with UPDATE_FIXTURES=1 and review), first at line {}:\n\
         - {}\n+ {}",
        path.display(),
        first + 1,
        expected.lines().nth(first).unwrap_or("(end)"),
        actual.lines().nth(first).unwrap_or("(end)"),
    );
}

fn succeeds(args: &[&str]) -> String {
    let output = run_in_root(args, &[]);
    assert_eq!(output.code, 0, "runbook {args:?} failed: {output:?}");
    assert_eq!(output.stderr, "", "runbook {args:?} wrote to stderr");
    output.stdout
}

#[test]
fn plan_of_the_alpaca_runbook_is_pinned() {
    let out = succeeds(&["plan", "runbooks/alpaca-live.yaml"]);
    assert_pinned(&fixture("alpaca-live.plan.out"), &out);
}

#[test]
fn plan_of_the_payment_key_roll_is_pinned() {
    let out = succeeds(&["plan", "examples/payment-key-roll.yaml"]);
    assert_pinned(&fixture("payment-key-roll.plan.out"), &out);
    let json = succeeds(&["plan", "examples/payment-key-roll.yaml", "--output", "json"]);
    assert_pinned(&fixture("payment-key-roll.plan.json"), &json);
}

#[test]
fn plan_shows_the_commit_point_and_what_each_step_changes() {
    let json = succeeds(&["plan", "examples/payment-key-roll.yaml", "--output", "json"]);
    let plan: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|error| panic!("plan JSON: {error}\n{json}"));
    assert_eq!(plan["commit_point"], "verify");
    let steps = plan["steps"].as_array().cloned().unwrap_or_default();
    let step = |id: &str| {
        steps
            .iter()
            .find(|step| step["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no step {id} in {json}"))
    };
    assert_eq!(step("pause_webhooks")["effect"], "reversible");
    assert_eq!(
        step("pause_webhooks")["undone_by"],
        serde_json::json!(["resume_webhooks_after_failure"])
    );
    assert_eq!(step("snapshot")["effect"], "read_only");
    assert_eq!(step("store")["effect"], "changes_no_undo");
    let rollout = step("rollout");
    let propagate = &rollout["group"]["steps"][0];
    assert_eq!(propagate["id"], "propagate");
    assert_eq!(propagate["effect"], "reversible");
    assert_eq!(
        propagate["undone_by"],
        serde_json::json!(["undo_rollout", "restore_vault", "wait_undo"])
    );
    assert_eq!(step("old_key_dead")["on_error"], "warn");
    assert!(
        step("old_key_dead")["loops"][0]
            .as_str()
            .is_some_and(|text| text.starts_with("repeat until")),
        "{json}"
    );
}

#[test]
fn plan_resolves_inputs_it_knows_and_keeps_later_values_symbolic() {
    let out = succeeds(&[
        "plan",
        "examples/payment-key-roll.yaml",
        "--input",
        "flags_url=https://flags.example.test",
    ]);
    assert!(
        out.contains("POST https://flags.example.test/flags/webhooks_enabled"),
        "{out}"
    );
    assert!(
        out.contains("header Authorization: Bearer <steps.roll_key.outputs.new_key>"),
        "{out}"
    );
    assert!(out.contains("flags_url"), "{out}");
    assert!(out.contains("(from --input)"), "{out}");
}

#[test]
fn plan_never_prints_a_secret_from_the_environment_or_the_command_line() {
    // The part of the canary that no variable name shares.
    const MARK: &str = "7f3a9c1e5b2d";
    let canary = format!("canary-{MARK}-secret");
    let sandbox = Sandbox::new();
    sandbox.write(
        "leak.yaml",
        "id: leak\ntitle: Leak check\ninputs:\n  token:\n    secret: true\n    env: CANARY_TOKEN\n\
         \x20 given:\n    secret: true\n  count:\n    type: integer\n    secret: true\n\
         steps:\n  - id: call\n    name: Call\n    http:\n      url: https://api.example.test/x\n\
         \x20     headers:\n        Authorization: \"Bearer {{inputs.token}} {{inputs.given}}\"\n\
         \x20       X-Env: \"{{env.CANARY_ENV}}\"\n        X-Len: \"{{length inputs.token}}\"\n\
         \x20       X-Count: \"{{inputs.count}}\"\n",
    );
    for output_format in ["human", "json"] {
        let output = sandbox.run_with_env(
            &[
                "plan",
                "leak.yaml",
                "--output",
                output_format,
                "--input",
                &format!("given={canary}"),
            ],
            &[("CANARY_TOKEN", &canary), ("CANARY_ENV", &canary)],
        );
        assert_eq!(output.code, 0, "{output:?}");
        assert!(
            !output.stdout.contains(MARK) && !output.stderr.contains(MARK),
            "plan printed a secret ({output_format}): {output:?}"
        );
        assert!(output.stdout.contains("inputs.token"), "{output:?}");
    }
    // A secret of the wrong type is refused without echoing it.
    let output = sandbox.run_with_env(
        &["plan", "leak.yaml", "--input", &format!("count={canary}")],
        &[],
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert!(!output.stderr.contains(MARK), "{output:?}");
    // The human plan masks the resolved header; the env reference stays a name.
    let output = sandbox.run_with_env(&["plan", "leak.yaml"], &[("CANARY_TOKEN", &canary)]);
    assert!(
        output
            .stdout
            .contains("Bearer <secret inputs.token> <secret inputs.given>"),
        "{output:?}"
    );
    assert!(
        output.stdout.contains("X-Env: <env.CANARY_ENV>"),
        "{output:?}"
    );
}

#[test]
fn plan_refuses_an_unknown_input_with_a_suggestion() {
    let output = run_in_root(
        &[
            "plan",
            "examples/payment-key-roll.yaml",
            "--input",
            "flag_url=x",
        ],
        &[],
    );
    assert_eq!(output.code, 2, "{output:?}");
    assert!(
        output.stderr.contains("unknown input `flag_url`")
            && output.stderr.contains("did you mean `flags_url`?"),
        "{output:?}"
    );
}

#[test]
fn plan_of_a_broken_runbook_shows_the_findings() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "broken.yaml",
        "id: broken\ntitle: Broken\nsteps:\n  - id: a\n    name: A\n    assert:\n      - that: \"{{steps.nope.outputs.x}}\"\n        equals: 1\n",
    );
    let output = sandbox.run(&["plan", "broken.yaml"]);
    assert_eq!(output.code, 3, "{output:?}");
    assert!(output.stderr.contains("--> broken.yaml:"), "{output:?}");
    assert_eq!(output.stdout, "");
}

#[test]
fn render_of_the_alpaca_runbook_is_the_committed_sop_page() {
    let out = succeeds(&["render", "runbooks/alpaca-live.yaml"]);
    assert_pinned(
        &support::workspace_root().join("docs/sop/alpaca-live.md"),
        &out,
    );
    for heading in [
        "## When to run",
        "## Prerequisites",
        "## Preconditions",
        "## Steps",
        "## Undo and failure paths",
        "## References",
        "## Gotchas",
    ] {
        assert!(out.contains(heading), "missing {heading}");
    }
    // Secrets appear as names only.
    assert!(out.contains("Bearer {{inputs.heroku_api_token}}"));
}

#[test]
fn render_of_the_payment_key_roll_is_pinned() {
    let out = succeeds(&["render", "examples/payment-key-roll.yaml"]);
    assert_pinned(&fixture("payment-key-roll.render.md"), &out);
}

#[test]
fn graphs_are_pinned() {
    let out = succeeds(&["graph", "runbooks/alpaca-live.yaml"]);
    assert!(out.starts_with("flowchart TD\n"), "{out}");
    assert_pinned(&fixture("alpaca-live.graph.mmd"), &out);
    let out = succeeds(&["graph", "examples/payment-key-roll.yaml"]);
    assert!(out.contains("class s_verify commit"), "{out}");
    assert!(
        out.contains("g_rollout -.->|\"undo if the run fails\"| s_undo_rollout"),
        "{out}"
    );
    assert_pinned(&fixture("payment-key-roll.graph.mmd"), &out);
}

#[test]
fn new_writes_a_skeleton_that_lints_clean_and_never_overwrites() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["new", "rotate-db-password"]);
    assert_eq!(output.code, 0, "{output:?}");
    let path = sandbox.path().join("rotate-db-password.yaml");
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written.starts_with("# yaml-language-server: $schema="),
        "{written}"
    );
    assert!(written.contains("id: rotate-db-password"), "{written}");
    for kind in ["http:", "shell:", "assert:", "prompt:", "inputs:"] {
        assert!(written.contains(kind), "no {kind} in {written}");
    }
    let rehearsal = sandbox.path().join("rotate-db-password.rehearsal.yaml");
    assert!(
        rehearsal.is_file(),
        "no rehearsal file beside it: {output:?}"
    );
    let lint = sandbox.run(&[
        "lint",
        "rotate-db-password.yaml",
        "rotate-db-password.rehearsal.yaml",
        "--deny",
        "warnings",
    ]);
    assert_eq!(lint.code, 0, "the skeleton does not lint clean: {lint:?}");
    assert_eq!(
        lint.stdout,
        "1 runbook and 1 rehearsal checked: no findings\n"
    );
    let rehearsed = sandbox.run(&["rehearse", "rotate-db-password.yaml"]);
    assert_eq!(rehearsed.code, 0, "the skeleton's rehearsal: {rehearsed:?}");
    assert!(
        rehearsed
            .stdout
            .ends_with("4 scenarios: 4 matched, 0 differ\n"),
        "{}",
        rehearsed.stdout
    );
    assert!(
        rehearsed
            .stdout
            .contains("  steps            4/4 exercised\n")
            && rehearsed
                .stdout
                .contains("  prompt answers   2/2 exercised\n"),
        "every step and answer rehearsed: {}",
        rehearsed.stdout
    );

    std::fs::write(&path, "mine").unwrap_or_else(|error| panic!("{error}"));
    let again = sandbox.run(&["new", "rotate-db-password"]);
    assert_eq!(again.code, 2, "{again:?}");
    assert!(again.stderr.contains("already exists"), "{again:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap_or_default(), "mine");

    // A rehearsal file of that name is someone's work too: nothing is written.
    sandbox.write("rotate-ops.rehearsal.yaml", "mine");
    let taken = sandbox.run(&["new", "rotate-ops"]);
    assert_eq!(taken.code, 2, "{taken:?}");
    assert!(
        taken
            .stderr
            .contains("rotate-ops.rehearsal.yaml already exists"),
        "{taken:?}"
    );
    assert!(!sandbox.path().join("rotate-ops.yaml").exists());

    let bad = sandbox.run(&["new", "Rotate DB"]);
    assert_eq!(bad.code, 2, "{bad:?}");
    assert!(bad.stderr.contains("cannot be a runbook id"), "{bad:?}");
}

#[test]
fn new_points_the_modeline_at_the_repository_schema() {
    let sandbox = Sandbox::new();
    sandbox.write("schemas/runbook.schema.json", "{}");
    sandbox.write("schemas/rehearsal.schema.json", "{}");
    sandbox.write("ops/deep/README", "runbooks live here");
    let output = sandbox.run(&["new", "ops/deep/x"]);
    assert_eq!(output.code, 0, "{output:?}");
    let written =
        std::fs::read_to_string(sandbox.path().join("ops/deep/x.yaml")).unwrap_or_default();
    assert!(
        written.starts_with("# yaml-language-server: $schema=../../schemas/runbook.schema.json\n"),
        "{written}"
    );
    let rehearsal = std::fs::read_to_string(sandbox.path().join("ops/deep/x.rehearsal.yaml"))
        .unwrap_or_default();
    assert!(
        rehearsal
            .starts_with("# yaml-language-server: $schema=../../schemas/rehearsal.schema.json\n"),
        "{rehearsal}"
    );
    assert!(rehearsal.contains("\nrunbook: x.yaml\n"), "{rehearsal}");
}

#[test]
fn completions_for_every_shell_and_the_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = succeeds(&["completions", shell]);
        assert!(
            out.contains("plan") && out.contains("graph") && out.contains("lint"),
            "{shell} completions lack subcommands"
        );
    }
    let output = run_in_root(&["completions", "tcsh"], &[]);
    assert_eq!(output.code, 2, "{output:?}");
    let man = succeeds(&["man"]);
    assert!(man.contains(".TH runbook 1"), "{man}");
    assert!(man.contains("plan") && man.contains("completions"), "{man}");
}

#[test]
fn help_lists_the_authoring_commands() {
    let help = succeeds(&["--help"]);
    for command in ["plan", "render", "graph", "new", "completions", "man"] {
        assert!(
            help.lines()
                .any(|line| line.trim_start().starts_with(command)),
            "`runbook --help` does not list {command}:\n{help}"
        );
    }
}

#[test]
fn plan_render_and_graph_of_a_runbook_with_fragments_are_pinned() {
    let plan = succeeds(&["plan", "examples/webhook-secret-roll.yaml"]);
    // The use step names its fragment; the fragment's steps are listed under it by their run
    // ids, with the runbook's values for their parameters (secrets masked).
    assert!(
        plan.contains("  1. web: Set the webhook signing secret on a Heroku app and read it back\n     use\n     runs fragment fragments/heroku-config-secret.fragment.yaml\n    1.1. web.set: Set WEBHOOK_SIGNING_SECRET\n"),
        "{plan}"
    );
    assert!(
        plan.contains("PATCH https://api.heroku.com/apps/payments-worker/config-vars"),
        "{plan}"
    );
    assert!(plan.contains("<secret inputs.new_secret>"), "{plan}");
    assert_pinned(&fixture("webhook-secret-roll.plan.out"), &plan);
    let render = succeeds(&["render", "examples/webhook-secret-roll.yaml"]);
    assert!(
        render.contains("`web.confirm` · http · read-only"),
        "{render}"
    );
    assert_pinned(&fixture("webhook-secret-roll.render.md"), &render);
    let graph = succeeds(&["graph", "examples/webhook-secret-roll.yaml"]);
    // A fragment's dotted ids become Mermaid-safe node ids.
    assert!(
        graph.contains("  subgraph g_web[\"1. Set the webhook"),
        "{graph}"
    );
    assert!(graph.contains("s_web-set --> s_web-confirm"), "{graph}");
    assert_pinned(&fixture("webhook-secret-roll.graph.mmd"), &graph);
}
