//! Examples are tests: every runbook under the workspace's `examples/` and `runbooks/` lints clean
//! through the real binary, and every example marked `# test: run-offline` in its leading comment
//! runs to success.

use std::path::{Path, PathBuf};

use crate::support::{self, Output};

/// The marker, in a runbook's leading comment block, for examples that need no network or secrets.
const RUN_OFFLINE_MARKER: &str = "# test: run-offline";

#[test]
fn examples_and_runbooks_lint_clean() {
    let examples = runbook_files(&support::workspace_root().join("examples"));
    assert!(
        !examples.is_empty(),
        "examples/ must hold at least one runbook"
    );
    let runbooks = runbook_files(&support::workspace_root().join("runbooks"));
    let mut failures = Vec::new();
    for file in examples.iter().chain(&runbooks) {
        let output = run_at_root(&["lint", &relative(file)]);
        if output.code != 0 {
            failures.push(describe(file, "lint", &output));
        }
    }
    assert!(
        failures.is_empty(),
        "{} runbook(s) do not lint clean:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn offline_examples_run_to_success() {
    let root = support::workspace_root();
    let mut files = runbook_files(&root.join("examples"));
    files.extend(runbook_files(&root.join("runbooks")));
    let mut failures = Vec::new();
    for file in files.iter().filter(|file| is_run_offline(file)) {
        let output = run_at_root(&["run", &relative(file)]);
        if output.code != 0 {
            failures.push(describe(file, "run", &output));
        }
    }
    assert!(
        failures.is_empty(),
        "{} offline example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every `.yaml`/`.yml` under `dir` (recursively), sorted; a missing directory holds none.
fn runbook_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    files
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
        if path.is_dir() {
            collect(&path, files);
        } else if path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml")
            && !path.to_string_lossy().contains(".answers.")
        {
            // `NAME.answers.yaml` files hold prompt answers, not runbooks.
            files.push(path);
        }
    }
}

/// Whether the comment block at the top of the file carries [`RUN_OFFLINE_MARKER`].
fn is_run_offline(file: &Path) -> bool {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", file.display()));
    text.lines()
        .map(str::trim)
        .take_while(|line| line.is_empty() || line.starts_with('#'))
        .any(|line| line == RUN_OFFLINE_MARKER)
}

/// The path from the workspace root, as a user would type it.
fn relative(file: &Path) -> String {
    let root = support::workspace_root();
    file.strip_prefix(&root)
        .unwrap_or(file)
        .display()
        .to_string()
}

fn run_at_root(args: &[&str]) -> Output {
    let mut command = support::runbook();
    command.current_dir(support::workspace_root()).args(args);
    support::finish(command)
}

fn describe(file: &Path, what: &str, output: &Output) -> String {
    format!(
        "runbook {what} {} exited with {}\n--- stdout\n{}--- stderr\n{}",
        relative(file),
        output.code,
        output.stdout,
        output.stderr
    )
}
