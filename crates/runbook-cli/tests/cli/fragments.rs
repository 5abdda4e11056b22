//! Fragments through the real binary: findings inside a fragment shown in its file with a note at
//! the use, a fragment linted alone and found by the directory walk, refused by `run`, and resume
//! refusing a changed fragment exactly as it refuses a changed runbook.

#![allow(clippy::expect_used)]

use crate::bench::{Bench, assert_code};

const FRAGMENT: &str = "\
fragment: wait-ready
title: Wait until the flag file exists
params:
  flag:
    description: The file that must exist.
steps:
  - id: check
    shell:
      command: test -e \"$FLAG\"
      env:
        FLAG: \"{{params.flag}}\"
";

const RUNBOOK: &str = "\
id: frag
title: Uses a fragment
mode: automatic
steps:
  - id: first
    note: {message: starting}
  - id: ready
    use: fragments/wait-ready.fragment.yaml
    with:
      flag: ready
  - id: last
    note:
      message: \"the check ran at {{steps.ready.check.finished_at}}\"
";

fn bench() -> Bench {
    let bench = Bench::new(RUNBOOK);
    bench
        .sandbox
        .write("fragments/wait-ready.fragment.yaml", FRAGMENT);
    bench
}

#[test]
fn a_finding_inside_a_fragment_points_into_it_with_a_note_at_the_use() {
    let bench = bench();
    bench.sandbox.write(
        "fragments/wait-ready.fragment.yaml",
        &FRAGMENT.replace("{{params.flag}}", "{{params.flga}}"),
    );
    let output = bench.cmd(&["lint", "rb.yaml"]);
    assert_code(&output, 3, "lint");
    assert_eq!(
        output.stdout,
        "\
error[runbook::check::fragment_scope]: unknown parameter `flga`
  --> fragments/wait-ready.fragment.yaml:11:16
   |
11 |         FLAG: \"{{params.flga}}\"
   |                ^^^^^^^^^^^^^^^ the fragment declares no such parameter
   |
note: in the fragment used here
  --> rb.yaml:8:10
   |
 8 |     use: fragments/wait-ready.fragment.yaml
   |          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
help: did you mean `flag`?

1 runbook checked: 1 finding in 1 file
"
    );
    let json = bench.cmd(&["lint", "--output", "json", "rb.yaml"]);
    let finding: serde_json::Value =
        serde_json::from_str(json.stdout.lines().next().unwrap_or_default()).expect("json");
    assert_eq!(finding["file"], "fragments/wait-ready.fragment.yaml");
    assert_eq!(finding["line"], 11);
    assert_eq!(finding["notes"][0]["file"], "rb.yaml");
    assert_eq!(finding["notes"][0]["line"], 8);
    let github = bench.cmd(&["lint", "--output", "github", "rb.yaml"]);
    assert!(
        github
            .stdout
            .starts_with("::error file=fragments/wait-ready.fragment.yaml,line=11,col=16,"),
        "{}",
        github.stdout
    );
}

#[test]
fn the_walk_lints_a_fragment_alone_and_run_refuses_one() {
    let bench = bench();
    bench.sandbox.write(
        "fragments/broken.fragment.yaml",
        "fragment: broken\ntitle: Broken\nsteps:\n  - id: a\n    note:\n      message: \"{{inputs.x}}\"\n",
    );
    let output = bench.cmd(&["lint", "--output", "json", "fragments"]);
    assert_code(&output, 3, "lint of the fragments folder");
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{}", output.stdout);
    assert!(
        lines[0].contains("\"file\":\"fragments/broken.fragment.yaml\"")
            && lines[0].contains("\"rule\":\"fragment_scope\""),
        "{}",
        lines[0]
    );

    let run = bench.cmd(&["run", "fragments/wait-ready.fragment.yaml"]);
    assert_code(&run, 2, "run of a fragment");
    assert!(
        run.stderr
            .contains("is a fragment: it runs from a runbook's step `use: "),
        "{}",
        run.stderr
    );
}

#[test]
fn resume_refuses_a_changed_fragment_as_it_refuses_a_changed_runbook() {
    let bench = bench();
    let first = bench.cmd(&["run", "rb.yaml"]);
    assert_code(&first, 1, "run before the flag exists");
    let run_id = bench.only_run_id();
    let started = &bench.journal(&run_id)[0];
    let fragments = started["fragments"].as_array().expect("fragments recorded");
    assert_eq!(fragments.len(), 1);
    assert!(
        fragments[0]["path"]
            .as_str()
            .is_some_and(|path| path.ends_with("fragments/wait-ready.fragment.yaml")),
        "{started}"
    );
    assert_eq!(fragments[0]["sha256"].as_str().map(str::len), Some(64));

    bench.touch("ready");
    bench.sandbox.write(
        "fragments/wait-ready.fragment.yaml",
        &format!("{FRAGMENT}# edited after the run failed\n"),
    );
    let before = bench.journal(&run_id).len();
    let refused = bench.cmd(&["resume", &run_id]);
    assert_code(&refused, 2, "resume with a changed fragment");
    assert!(
        refused
            .stderr
            .contains("wait-ready.fragment.yaml changed since run")
            && refused
                .stderr
                .contains(&format!("run {run_id} started (its content hash differs)"))
            && refused.stderr.contains("--allow-changed-runbook"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        bench.journal(&run_id).len(),
        before,
        "nothing was journaled"
    );

    // Restored, the resume goes on after the completed steps.
    bench
        .sandbox
        .write("fragments/wait-ready.fragment.yaml", FRAGMENT);
    let resumed = bench.cmd(&["resume", &run_id]);
    assert_code(&resumed, 0, "resume with the fragment restored");
    assert!(resumed.stdout.contains("✓ check"), "{}", resumed.stdout);
    assert!(
        bench
            .journal(&run_id)
            .iter()
            .any(|record| record["type"] == "step_finished"
                && record["step"] == "ready.check"
                && record["outcome"] == "passed"),
        "the fragment's step is journaled under its run id"
    );

    // A second run, changed fragment, allowed: the resume goes on and says so in the journal.
    let bench = self::bench();
    let first = bench.cmd(&["run", "rb.yaml"]);
    assert_code(&first, 1, "second run");
    let run_id = bench.only_run_id();
    bench.touch("ready");
    bench.sandbox.write(
        "fragments/wait-ready.fragment.yaml",
        &format!("{FRAGMENT}# edited\n"),
    );
    let allowed = bench.cmd(&["resume", &run_id, "--allow-changed-runbook"]);
    assert_code(&allowed, 0, "resume --allow-changed-runbook");
    let resumed = bench
        .journal(&run_id)
        .into_iter()
        .find(|record| record["type"] == "run_resumed")
        .expect("a run_resumed record");
    assert_eq!(resumed["allowed_changed_runbook"], true);
}
