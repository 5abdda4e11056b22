//! Fixture folders: the real binary against runbook files, with the whole expected output pinned next
//! to each file.
//!
//! - `tests/fixtures/lint/ok/*.yaml`: `runbook lint CASE.yaml` exits 0 with no findings.
//! - `tests/fixtures/lint/broken/*.yaml`: `runbook lint CASE.yaml` exits 3 and prints exactly `CASE.out`.
//! - `tests/fixtures/lint/warn/*.yaml`: `runbook lint CASE.yaml` exits 0 (warnings only) and prints
//!   exactly `CASE.out`.
//! - `tests/fixtures/run/*.yaml`: `runbook run CASE.yaml [ARGS from CASE.args, one per line]` exits with
//!   `CASE.exit` and prints `CASE.out` on stdout and `CASE.err` on stderr (no `.err`: stderr is empty).
//!
//! The binary runs with the fixture folder as working directory and a relative path, so the paths in
//! diagnostics are stable. Only what changes from run to run is normalised: durations on progress
//! lines, and `duration_ms` / `started_at` in JSON reports.
//!
//! `UPDATE_FIXTURES=1 cargo test -p runbook-cli --test cli fixtures` rewrites the expected files from
//! what the binary prints. Read every rewritten file before committing it: a fixture pins behaviour,
//! wrong or not.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::support::{self, Output};

/// Exit code of `runbook lint` on a runbook with findings (`exit_code::INVALID_RUNBOOK`).
const LINT_FINDINGS_EXIT: i32 = 3;

#[test]
fn lint_ok_fixtures_have_no_findings() {
    let dir = fixture_dir("lint/ok");
    let cases = yaml_cases(&dir);
    let mut failures = Vec::new();
    for case in &cases {
        let name = file_name(case);
        let output = run_in(&dir, &["lint", &name]);
        let expected = "1 runbook checked: no findings\n";
        // Suppressed findings do not count; the summary only says how many there were.
        let clean = output.stdout == expected
            || output
                .stdout
                .strip_prefix("1 runbook checked: no findings (")
                .is_some_and(|rest| rest.ends_with(" suppressed)\n"));
        if output.code != 0 || !clean || !output.stderr.is_empty() {
            failures.push(format!(
                "lint/ok/{name}: expected exit 0 and no findings, got exit {}\n{}{}",
                output.code,
                diff("stdout", expected, &output.stdout),
                diff("stderr", "", &output.stderr),
            ));
        }
    }
    report(&cases, failures);
}

#[test]
fn lint_broken_fixtures_print_the_expected_diagnostics() {
    let dir = fixture_dir("lint/broken");
    let cases = yaml_cases(&dir);
    let mut failures = Vec::new();
    for case in &cases {
        let name = file_name(case);
        let output = run_in(&dir, &["lint", &name]);
        let mut problems = String::new();
        if output.code != LINT_FINDINGS_EXIT {
            let _ = writeln!(
                problems,
                "exit code: expected {LINT_FINDINGS_EXIT}, got {}",
                output.code
            );
        }
        problems.push_str(&compare(
            &case.with_extension("out"),
            "stdout",
            &output.stdout,
        ));
        problems.push_str(&diff("stderr", "", &output.stderr));
        if !problems.is_empty() {
            failures.push(format!("lint/broken/{name}:\n{problems}"));
        }
    }
    report(&cases, failures);
}

/// `tests/fixtures/lint/warn/*.yaml`: warnings only; `runbook lint` prints `CASE.out` and exits 0.
#[test]
fn lint_warn_fixtures_print_warnings_and_pass() {
    let dir = fixture_dir("lint/warn");
    let cases = yaml_cases(&dir);
    let mut failures = Vec::new();
    for case in &cases {
        let name = file_name(case);
        let output = run_in(&dir, &["lint", &name]);
        let mut problems = String::new();
        if output.code != 0 {
            let _ = writeln!(problems, "exit code: expected 0, got {}", output.code);
        }
        problems.push_str(&compare(
            &case.with_extension("out"),
            "stdout",
            &output.stdout,
        ));
        problems.push_str(&diff("stderr", "", &output.stderr));
        if !problems.is_empty() {
            failures.push(format!("lint/warn/{name}:\n{problems}"));
        }
    }
    report(&cases, failures);
}

#[test]
fn run_fixtures_print_and_exit_as_expected() {
    let dir = fixture_dir("run");
    let cases = yaml_cases(&dir);
    let mut failures = Vec::new();
    for case in &cases {
        let name = file_name(case);
        let mut args = vec!["run".to_owned(), name.clone()];
        args.extend(read_args(&case.with_extension("args")));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run_in(&dir, &args);
        let stdout = normalize(&output.stdout);
        let stderr = normalize(&output.stderr);
        let mut problems = String::new();
        problems.push_str(&compare(
            &case.with_extension("exit"),
            "exit code",
            &format!("{}\n", output.code),
        ));
        problems.push_str(&compare(&case.with_extension("out"), "stdout", &stdout));
        let err_file = case.with_extension("err");
        if err_file.exists() || !stderr.is_empty() {
            problems.push_str(&compare(&err_file, "stderr", &stderr));
        }
        if !problems.is_empty() {
            failures.push(format!("run/{name} ({}):\n{problems}", args.join(" ")));
        }
    }
    report(&cases, failures);
}

/// Every rule in the catalog comes with a fixture that shows how it renders (in `broken/` or
/// `warn/`), and every warning also with one in `ok/` where it could fire and does not
/// (`ok/RULE_NAME*.yaml`; that `ok/` fixtures have no findings is checked above).
#[test]
fn every_rule_has_a_firing_fixture_and_every_warning_a_quiet_one() {
    use runbook_dsl::{FindingCode, Severity};
    let shown: String = ["lint/broken", "lint/warn"]
        .iter()
        .flat_map(|sub| yaml_cases(&fixture_dir(sub)))
        .filter_map(|case| std::fs::read_to_string(case.with_extension("out")).ok())
        .collect();
    let quiet: Vec<String> = yaml_cases(&fixture_dir("lint/ok"))
        .iter()
        .map(|case| file_name(case))
        .collect();
    let mut missing = Vec::new();
    for &code in FindingCode::ALL {
        if !shown.contains(&format!("[{}]", code.as_str())) {
            missing.push(format!(
                "{}: no fixture in lint/broken or lint/warn",
                code.name()
            ));
        }
        let warning = match code.default_severity() {
            Severity::Warning => true,
            Severity::Error => false,
        };
        if warning && !quiet.iter().any(|name| name.starts_with(code.name())) {
            missing.push(format!(
                "{}: no lint/ok/{}*.yaml where the warning does not fire",
                code.name(),
                code.name()
            ));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// `tests/fixtures/<sub>` in this crate.
fn fixture_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(sub)
}

/// Every `*.yaml` directly in `dir`, sorted; there must be at least one.
fn yaml_cases(dir: &Path) -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no fixtures in {}", dir.display());
    let orphans: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.extension().is_some_and(|ext| {
                ["out", "err", "exit", "args"]
                    .iter()
                    .any(|known| ext == *known)
            }) && !path.with_extension("yaml").exists()
        })
        .map(|path| file_name(&path))
        .collect();
    assert!(
        orphans.is_empty(),
        "expectation files without a runbook in {}: {}",
        dir.display(),
        orphans.join(", ")
    );
    cases
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Runs the binary in `dir` (so paths in its output are relative and stable).
fn run_in(dir: &Path, args: &[&str]) -> Output {
    let mut command = support::runbook();
    command.current_dir(dir).args(args);
    support::finish(command)
}

/// Extra command-line arguments, one per line; blank lines and `#` comments are ignored.
fn read_args(path: &Path) -> Vec<String> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn updating() -> bool {
    std::env::var_os("UPDATE_FIXTURES").is_some_and(|value| value == "1")
}

/// Compares `actual` with the contents of `expected_file`; returns a description of the difference,
/// or nothing. With `UPDATE_FIXTURES=1` it (re)writes the file instead.
fn compare(expected_file: &Path, what: &str, actual: &str) -> String {
    if updating() {
        std::fs::write(expected_file, actual)
            .unwrap_or_else(|error| panic!("cannot write {}: {error}", expected_file.display()));
        return String::new();
    }
    match std::fs::read_to_string(expected_file) {
        Ok(expected) => diff(what, &expected, actual),
        Err(error) => format!(
            "{what}: cannot read {}: {error} (create it with UPDATE_FIXTURES=1)\nactual:\n{actual}",
            expected_file.display()
        ),
    }
}

/// Panics naming every failing case, or says how many passed.
fn report(cases: &[PathBuf], failures: Vec<String>) {
    if updating() {
        eprintln!(
            "UPDATE_FIXTURES=1: rewrote the expectations of {} case(s)",
            cases.len()
        );
    }
    assert!(
        failures.is_empty(),
        "{} of {} fixture(s) failed (rerun with UPDATE_FIXTURES=1 to rewrite expectations, then review \
         them):\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Replaces what changes between runs.
///
/// Durations are replaced only where the progress output prints a measured time: at the end of a step
/// line (`  ✓ [1/3] name 12ms`) and of the summary (`... in 1.5s`). Durations the runbook itself states
/// (`did not finish within 300ms`) stay as they are. In JSON reports, `duration_ms` and `started_at`.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let (body, newline) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        out.push_str(&normalize_line(body));
        out.push_str(newline);
    }
    out
}

fn normalize_line(line: &str) -> String {
    let line = &normalize_run_ids(line);
    let trimmed = line.trim_start();
    let indent = &line[..line.len() - trimmed.len()];
    for key in ["\"duration_ms\": ", "\"started_at\": ", "\"finished_at\": "] {
        if let Some(rest) = trimmed.strip_prefix(key) {
            let comma = if rest.ends_with(',') { "," } else { "" };
            let placeholder = if key.contains("duration") {
                "\"<dur>\""
            } else {
                "\"<timestamp>\""
            };
            return format!("{indent}{key}{placeholder}{comma}");
        }
    }
    // Main steps (`✓ [1/3] name 12ms`) and cleanup steps (`✓ name 12ms`) alike.
    let is_step_line = ["✓ ", "✗ "].iter().any(|mark| trimmed.starts_with(mark));
    let is_summary = trimmed.starts_with("succeeded: ") || trimmed.starts_with("failed");
    if (is_step_line || is_summary)
        && let Some((head, last)) = line.rsplit_once(' ')
        && is_duration(last)
    {
        return format!("{head} <dur>");
    }
    line.to_owned()
}

/// Run ids (`20261126T045713Z-4c7613`) become `<run-id>`.
fn normalize_run_ids(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut index = 0;
    while index < line.len() {
        let candidate = bytes.get(index..index + 23);
        let is_id = candidate.is_some_and(|c| {
            c[..8].iter().all(u8::is_ascii_digit)
                && c[8] == b'T'
                && c[9..15].iter().all(u8::is_ascii_digit)
                && c[15] == b'Z'
                && c[16] == b'-'
                && c[17..].iter().all(u8::is_ascii_hexdigit)
        });
        if is_id {
            out.push_str("<run-id>");
            index += 23;
        } else {
            let c = line[index..].chars().next().unwrap_or(' ');
            out.push(c);
            index += c.len_utf8();
        }
    }
    out
}

/// `12ms`, `1.5s`, `2m3.4s`, `1h2m` (see `runbook_dsl::duration::format_elapsed`): numbers, each
/// with a unit, the last number possibly with a fraction.
fn is_duration(word: &str) -> bool {
    let mut rest = word;
    let mut parts = 0;
    while !rest.is_empty() {
        let number = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number == 0 {
            return false;
        }
        let (digits, after) = rest.split_at(number);
        if digits.starts_with('.') || digits.ends_with('.') || digits.matches('.').count() > 1 {
            return false;
        }
        let unit = ["ms", "h", "m", "s"]
            .into_iter()
            .find(|unit| after.starts_with(unit));
        let Some(unit) = unit else {
            return false;
        };
        rest = &after[unit.len()..];
        parts += 1;
    }
    parts > 0
}

/// Nothing when equal; otherwise a line diff (`-` expected, `+` actual) under a heading.
fn diff(what: &str, expected: &str, actual: &str) -> String {
    if expected == actual {
        return String::new();
    }
    let expected_lines: Vec<&str> = expected.split_inclusive('\n').collect();
    let actual_lines: Vec<&str> = actual.split_inclusive('\n').collect();
    let mut out = format!("{what} differs (- expected, + actual):\n");
    for (mark, line) in line_diff(&expected_lines, &actual_lines) {
        let (text, missing_newline) = match line.strip_suffix('\n') {
            Some(text) => (text, ""),
            None => (line, "  (no newline at end)"),
        };
        let _ = writeln!(out, "{mark} {text}{missing_newline}");
    }
    out
}

/// A longest-common-subsequence diff; fixture outputs are small.
fn line_diff<'a>(expected: &[&'a str], actual: &[&'a str]) -> Vec<(char, &'a str)> {
    let (n, m) = (expected.len(), actual.len());
    let mut lcs = vec![vec![0usize; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if expected[i] == actual[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && expected[i] == actual[j] {
            out.push((' ', expected[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', expected[i]));
            i += 1;
        } else {
            out.push(('+', actual[j]));
            j += 1;
        }
    }
    out
}

#[test]
fn normalize_replaces_measured_durations_only() {
    let text = "  ✓ [1/2] Say hello 12ms\n  ✗ [2/2] slow 1.5s\n      `sleep 5` did not finish within 300ms; it was killed\n\nfailed at step `slow`: 1 passed, 1 failed in 2m3.4s\n";
    let expected = "  ✓ [1/2] Say hello <dur>\n  ✗ [2/2] slow <dur>\n      `sleep 5` did not finish within 300ms; it was killed\n\nfailed at step `slow`: 1 passed, 1 failed in <dur>\n";
    assert_eq!(normalize(text), expected);
    let json = "  \"started_at\": \"2026-01-01T00:00:00Z\",\n      \"duration_ms\": 302\n";
    assert_eq!(
        normalize(json),
        "  \"started_at\": \"<timestamp>\",\n      \"duration_ms\": \"<dur>\"\n"
    );
}

#[test]
fn diff_marks_changed_lines() {
    let out = diff("stdout", "a\nb\nc\n", "a\nx\nc\n");
    assert_eq!(
        out,
        "stdout differs (- expected, + actual):\n  a\n- b\n+ x\n  c\n"
    );
}
