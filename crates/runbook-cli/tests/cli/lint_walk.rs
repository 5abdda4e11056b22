//! `runbook lint DIR` walks like ripgrep (the `ignore` crate) and lints only what looks like a
//! runbook, in a throwaway git repository laid out like a real one.

use crate::support::Sandbox;

const RUNBOOK: &str = "id: a\ntitle: A\nsteps:\n  - id: one\n    shell:\n      command: \"true\"\n";
const BROKEN: &str =
    "id: b\ntitle: B\nsteps:\n  - id: one\n    shell:\n      command: echo {{inputs.nope}}\n";

/// Lines of 4 bytes in `data/dump.yaml`: just over 32 MiB.
const DUMP_LINES: usize = 8 * 1024 * 1024 + 1;

fn repository() -> Sandbox {
    let sandbox = Sandbox::new();
    let git = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(sandbox.path())
        .status()
        .unwrap_or_else(|error| panic!("git init: {error}"));
    assert!(git.success());
    sandbox.write(".gitignore", "/target/\n/generated.yaml\n");
    // Not runbooks:
    sandbox.write(
        ".github/workflows/ci.yml",
        "on: push\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - id: build\n        run: make\n",
    );
    sandbox.write(
        "docker-compose.yml",
        "services:\n  db:\n    image: postgres:16\n",
    );
    sandbox.write("config/settings.yaml", "log_level: debug\nsteps: 3\n");
    // A data dump over the runbook size limit, and a file that is not UTF-8: other YAML, skipped.
    // Over the 32 MiB a runbook file may have.
    sandbox.write("data/dump.yaml", &"- 1\n".repeat(DUMP_LINES));
    std::fs::write(sandbox.path().join("data/latin1.yaml"), b"name: caf\xe9\n")
        .unwrap_or_else(|error| panic!("write: {error}"));
    sandbox.write("ops/rotate.answers.yaml", "confirm: {phrase: LIVE}\n");
    // A rehearsal is linted as a rehearsal, against its runbook (clean here).
    sandbox.write(
        "ops/rotate.rehearsal.yaml",
        "runbook: rotate.yaml\nscenarios:\n  - name: happy\n    expect: {status: succeeded}\n",
    );
    sandbox.write("target/debug/build/copy.yaml", BROKEN);
    sandbox.write("generated.yaml", BROKEN);
    sandbox.write(".hidden/old.yaml", BROKEN);
    // Runbooks, each by one rule:
    sandbox.write("ops/rotate.yaml", RUNBOOK);
    sandbox.write("ops/named.runbook.yml", "id: n\ntitle: N\nsteps: []\n");
    sandbox.write(
        "ops/modeline.yaml",
        "# yaml-language-server: $schema=https://example.invalid/schemas/runbook.schema.json\nid: m\ntitle: M\nsteps: []\n",
    );
    sandbox.write("runbooks/broken.yaml", BROKEN);
    sandbox
}

fn files_in(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|finding| finding["file"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_repository_walk_lints_only_runbooks_that_are_not_ignored() {
    let repo = repository();
    let output = repo.run(&["lint", "."]);
    assert_eq!(output.code, 3, "{}{}", output.stdout, output.stderr);
    assert!(
        output.stdout.contains("--> ./runbooks/broken.yaml:6:"),
        "{}",
        output.stdout
    );
    assert!(
        output
            .stdout
            .ends_with("4 runbooks and 1 rehearsal checked: 1 finding in 1 file\n"),
        "{}",
        output.stdout
    );
}

#[test]
fn named_files_are_always_linted_and_flags_widen_the_walk() {
    let repo = repository();
    // Named explicitly: linted whatever it looks like (and it is not a valid runbook).
    let named = repo.run(&["lint", "--output", "json", "docker-compose.yml"]);
    assert_eq!(named.code, 3);
    let mut named_files = files_in(&named.stdout);
    named_files.dedup();
    assert_eq!(named_files, ["docker-compose.yml"]);

    // --all-yaml treats every YAML file as a runbook: one over the size limit is then an error.
    let too_big = repo.run(&["lint", "--all-yaml", "."]);
    assert_eq!(too_big.code, 3);
    assert!(
        too_big
            .stderr
            .contains(&format!("dump.yaml is {} bytes", DUMP_LINES * 4)),
        "{}",
        too_big.stderr
    );
    std::fs::remove_dir_all(repo.path().join("data")).unwrap_or_else(|error| panic!("{error}"));
    let all = repo.run(&["lint", "--all-yaml", "--output", "json", "."]);
    let mut files = files_in(&all.stdout);
    files.dedup();
    assert_eq!(
        files,
        [
            "./config/settings.yaml",
            "./docker-compose.yml",
            "./runbooks/broken.yaml"
        ],
        "{}",
        all.stdout
    );

    let globbed = repo.run(&[
        "lint",
        "--include-glob",
        "config/*.yaml",
        "--output",
        "json",
        ".",
    ]);
    let mut files = files_in(&globbed.stdout);
    files.dedup();
    assert_eq!(files, ["./config/settings.yaml", "./runbooks/broken.yaml"]);
}

#[test]
fn output_is_in_input_order_whatever_the_thread_timing() {
    let sandbox = Sandbox::new();
    let mut names = Vec::new();
    for index in 0..40 {
        let name = format!("r{index:02}.yaml");
        sandbox.write(&name, BROKEN);
        names.push(name);
    }
    // Given in reverse: output follows the command line, not the file system or finishing order.
    names.reverse();
    let mut args = vec!["lint", "--output", "json"];
    args.extend(names.iter().map(String::as_str));
    let first = sandbox.run(&args);
    assert_eq!(files_in(&first.stdout), names);
    let second = sandbox.run(&args);
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn a_directory_without_runbooks_is_a_usage_error() {
    let sandbox = Sandbox::new();
    sandbox.write("docker-compose.yml", "services: {}\n");
    let output = sandbox.run(&["lint", "."]);
    assert_eq!(output.code, 2);
    assert!(
        output
            .stderr
            .starts_with("error: no runbooks found in the given paths"),
        "{}",
        output.stderr
    );
}
