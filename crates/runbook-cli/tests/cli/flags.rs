//! The flags every command takes: `--color auto|always|never`, `-q/--quiet`, `-v/--verbose`
//! (traces: see `traces.rs`), and the one name of the output-format flag, `--output`/`-o`, with
//! lint's old `--format` still accepted. `UPDATE_FIXTURES=1` rewrites the pinned files in
//! `tests/fixtures/flags/`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use crate::authoring::assert_pinned;
use crate::support::{Output, Sandbox, workspace_root};

const ESC: char = '\x1b';

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/flags")
        .join(name)
}

/// A runbook with a warning (lint), a passing, a failing and a not-run step (run).
const FAILING: &str = "id: colours
title: Colours
average_duration: 5m
steps:
  - id: ok
    shell: {command: \"true\"}
  - id: wait_long
    shell: {command: \"true\"}
    until: {that: \"{{outputs.exit_code}}\", equals: 0}
    poll: {interval: 1s, timeout: 2h}
  - id: broken
    shell: {command: \"exit 4\"}
  - id: after
    shell: {command: \"true\"}
";

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("failing.yaml", FAILING);
    sandbox
}

fn coloured(output: &Output) -> bool {
    output.stdout.contains(ESC) || output.stderr.contains(ESC)
}

#[test]
fn color_always_colours_pipes_whatever_no_color_says_and_never_never_does() {
    let sandbox = sandbox();
    let root = workspace_root();
    let rehearsal = root.join("examples/http-account-check.yaml");
    let rehearsal = rehearsal.to_str().unwrap();
    // The support sets NO_COLOR=1 and output goes to pipes: `auto` means no colour.
    let commands: [&[&str]; 3] = [
        &["lint", "failing.yaml"],
        &["run", "failing.yaml"],
        &["rehearse", rehearsal],
    ];
    for args in commands {
        let auto = sandbox.run(args);
        assert!(!coloured(&auto), "{args:?} coloured a pipe: {auto:?}");
        let mut always = args.to_vec();
        always.extend(["--color", "always"]);
        let always = sandbox.run(&always);
        assert!(
            always.stdout.contains(ESC),
            "{args:?} --color always: {always:?}"
        );
        // Before the command's name too: the flag is global.
        let mut never = vec!["--color", "never"];
        never.extend(args);
        let never = sandbox.run_with_env(&never, &[("NO_COLOR", "")]);
        assert!(!coloured(&never), "{args:?} --color never: {never:?}");
    }
    // The run's diagnostics (the findings it prints before running) and the lint diagnostic.
    let lint = sandbox.run(&["lint", "failing.yaml", "--color=always"]);
    let plain = sandbox.run(&["lint", "failing.yaml", "--color=never"]);
    assert_eq!(
        strip_ansi(&lint.stdout),
        plain.stdout,
        "colour adds escapes only"
    );
    assert!(lint.stdout.contains("\x1b[33mwarning["), "{lint:?}");
    let run = sandbox.run(&["run", "failing.yaml", "--color=always"]);
    assert!(run.stderr.contains("\x1b[33mwarning["), "{run:?}");
    assert!(run.stdout.contains("\x1b[32m✓\x1b[0m"), "{run:?}");
    assert!(run.stdout.contains("\x1b[31mfailed\x1b[0m"), "{run:?}");
    // clap's own help and usage errors follow the flag too.
    let help = sandbox.run(&["lint", "--help", "--color", "always"]);
    assert!(help.stdout.contains(ESC), "{help:?}");
    let help = sandbox.run_with_env(&["lint", "--help", "--color=never"], &[("NO_COLOR", "")]);
    assert!(!help.stdout.contains(ESC), "{help:?}");
    // A wrong value is a usage error that lists the right ones.
    let wrong = sandbox.run(&["lint", "failing.yaml", "--color", "sometimes"]);
    assert_eq!(wrong.code, 2, "{wrong:?}");
    assert!(
        wrong
            .stderr
            .contains("[possible values: auto, always, never]"),
        "{wrong:?}"
    );
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == ESC {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn quiet_lint_shows_errors_only_and_says_what_it_hid() {
    let sandbox = sandbox();
    sandbox.write(
        "broken.yaml",
        "id: b\ntitle: t\nsteps:\n  - id: a\n    shell: {command: \"true\"}\n    when: {equals: [1, 2]}\n",
    );
    let quiet = sandbox.run(&["lint", "-q", "failing.yaml", "broken.yaml"]);
    assert_eq!(quiet.code, 3, "{quiet:?}");
    assert_pinned(&fixture("lint-quiet.out"), &quiet.stdout);
    assert_eq!(quiet.stderr, "", "{quiet:?}");
    // --deny warnings makes the warning an error: shown.
    let denied = sandbox.run(&["lint", "--quiet", "--deny", "warnings", "failing.yaml"]);
    assert_eq!(denied.code, 3, "{denied:?}");
    assert!(denied.stdout.contains("warning[runbook::"), "{denied:?}");
    // Machine formats are data: -q does not thin them.
    let json = sandbox.run(&["lint", "-q", "-o", "json", "failing.yaml", "broken.yaml"]);
    assert_eq!(json.stdout.lines().count(), 2, "{json:?}");
    // -q and -v contradict each other.
    let both = sandbox.run(&["lint", "-q", "-v", "failing.yaml"]);
    assert_eq!(both.code, 2, "{both:?}");
    assert!(both.stderr.contains("cannot be used with"), "{both:?}");
}

#[test]
fn quiet_rehearse_prints_only_the_summary_when_every_scenario_matches() {
    let root = workspace_root();
    let output = Sandbox::new().run(&[
        "rehearse",
        "-q",
        root.join("examples/http-account-check.yaml")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(output.code, 0, "{output:?}");
    assert!(
        output.stdout.starts_with("\n━━ scenarios\n"),
        "no operator view, no verdicts, only the summary:\n{}",
        output.stdout
    );
    assert!(!output.stdout.contains("scenario `"), "{}", output.stdout);
}

#[test]
fn lint_output_is_the_flag_name_and_format_its_deprecated_alias() {
    let sandbox = sandbox();
    let long = sandbox.run(&["lint", "--output", "json", "failing.yaml"]);
    let short = sandbox.run(&["lint", "-o", "json", "failing.yaml"]);
    let old = sandbox.run(&["lint", "--format", "json", "failing.yaml"]);
    let old_equals = sandbox.run(&["lint", "--format=json", "failing.yaml"]);
    assert_eq!(long.code, 0, "{long:?}");
    assert!(long.stdout.starts_with("{\"code\":"), "{long:?}");
    assert_eq!(long.stderr, "");
    for other in [&short, &old, &old_equals] {
        assert_eq!(other.code, long.code, "{other:?}");
        assert_eq!(other.stdout, long.stdout, "{other:?}");
    }
    assert_eq!(short.stderr, "");
    for old in [&old, &old_equals] {
        assert_eq!(
            old.stderr,
            "warning: `--format` is deprecated and will be removed; use `--output` (or `-o`)\n"
        );
    }
    // The old name is not advertised, and cannot be mixed with the new one.
    let help = sandbox.run(&["lint", "--help"]);
    assert!(help.stdout.contains("-o, --output <OUTPUT>"), "{help:?}");
    assert!(!help.stdout.contains("--format"), "{help:?}");
    let both = sandbox.run(&["lint", "--format", "json", "-o", "sarif", "failing.yaml"]);
    assert_eq!(both.code, 2, "{both:?}");
    // Every command that has an output format calls it --output, with -o.
    for command in ["run", "resume", "plan", "runs", "show", "rehearse", "lint"] {
        let help = sandbox.run(&[command, "--help"]);
        assert!(
            help.stdout.contains("-o, --output <OUTPUT>"),
            "runbook {command} --help:\n{}",
            help.stdout
        );
    }
}

#[test]
fn every_command_documents_the_global_flags() {
    let sandbox = Sandbox::new();
    let top = sandbox.run(&["--help"]);
    assert_eq!(top.code, 0, "{top:?}");
    let global = top
        .stdout
        .split_once("Global options:\n")
        .map(|(_, rest)| rest)
        .unwrap_or_else(|| panic!("no Global options section:\n{}", top.stdout));
    assert_pinned(&fixture("global-options.txt"), global);
    for command in [
        "lint",
        "run",
        "schema",
        "resume",
        "runs",
        "show",
        "rehearse",
        "plan",
        "render",
        "graph",
        "new",
        "completions",
        "man",
    ] {
        let help = sandbox.run(&[command, "--help"]);
        assert!(
            help.stdout.contains(&format!("Global options:\n{global}")),
            "runbook {command} --help lacks the global options:\n{}",
            help.stdout
        );
    }
}
