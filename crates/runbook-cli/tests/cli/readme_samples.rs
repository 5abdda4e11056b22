//! The README's sample sessions are what the binary prints: every ```text block that starts with
//! `$ runbook ...` is run at the workspace root and compared with its output, measured times and
//! run ids normalised as in the fixtures. In a sample, a line `...` stands for any number of lines
//! (the README shortens long output); `$ echo $?` then a number checks the exit code.
//!
//! `lint hello.yaml` is the one sample on a file the repository does not hold: the README says it
//! is a copy of examples/hello.yaml with the typo `steps.order`, and the test makes that copy.

use crate::fixtures::normalize;
use crate::support::{self, Sandbox};

/// A sample: the command, what it prints, and the exit code if the sample shows it.
struct Sample {
    line: usize,
    args: Vec<String>,
    expected: Vec<String>,
    exit: Option<i32>,
}

fn samples() -> Vec<Sample> {
    let path = support::workspace_root().join("README.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("README: {error}"));
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let starts = lines[index] == "```text"
            && lines
                .get(index + 1)
                .is_some_and(|line| line.starts_with("$ runbook "));
        if !starts {
            index += 1;
            continue;
        }
        let line = index + 2;
        let command = lines[index + 1].trim_start_matches("$ runbook ");
        let mut sample = Sample {
            line,
            args: command.split_whitespace().map(str::to_owned).collect(),
            expected: Vec::new(),
            exit: None,
        };
        index += 2;
        while index < lines.len() && lines[index] != "```" {
            if lines[index] == "$ echo $?" {
                sample.exit = lines
                    .get(index + 1)
                    .and_then(|code| code.trim().parse().ok());
                index += 2;
                continue;
            }
            sample.expected.push(lines[index].to_owned());
            index += 1;
        }
        out.push(sample);
    }
    out
}

/// Whether `actual` matches `expected`, where a `...` line in `expected` matches any lines.
fn matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if first.trim() == "..." => {
            (0..=actual.len()).any(|skip| matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => actual
            .split_first()
            .is_some_and(|(line, more)| line == first && matches(rest, more)),
    }
}

fn normalized_lines(text: &str) -> Vec<String> {
    normalize(text).lines().map(str::to_owned).collect()
}

#[test]
fn the_readme_samples_are_what_the_binary_prints() {
    let root = support::workspace_root();
    let samples = samples();
    assert!(samples.len() >= 5, "only {} samples found", samples.len());
    let copy = Sandbox::new();
    let hello = std::fs::read_to_string(root.join("examples/hello.yaml")).unwrap_or_default();
    copy.write(
        "hello.yaml",
        &hello.replace(
            "steps.orders.outputs.open_orders",
            "steps.order.outputs.open_orders",
        ),
    );
    let mut problems = Vec::new();
    for sample in &samples {
        let dir = if sample.args == ["lint", "hello.yaml"] {
            copy.path().to_path_buf()
        } else {
            root.clone()
        };
        let mut command = support::runbook();
        command.current_dir(&dir).args(&sample.args);
        let output = support::finish(command);
        let actual = normalized_lines(&output.stdout);
        let expected = normalized_lines(&(sample.expected.join("\n") + "\n"));
        if !matches(&expected, &actual) {
            problems.push(format!(
                "README.md:{}: `runbook {}` prints (normalised):\n{}\n--- the README shows:\n{}",
                sample.line,
                sample.args.join(" "),
                actual.join("\n"),
                expected.join("\n")
            ));
        }
        if let Some(code) = sample.exit
            && code != output.code
        {
            problems.push(format!(
                "README.md:{}: `runbook {}` exits {}, the README shows {code}",
                sample.line,
                sample.args.join(" "),
                output.code
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn an_ellipsis_matches_any_lines_and_nothing_else_does() {
    let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
    assert!(matches(&lines("a\n...\nd"), &lines("a\nb\nc\nd")));
    assert!(matches(&lines("a\n...\nd"), &lines("a\nd")));
    assert!(!matches(&lines("a\n...\nd"), &lines("a\nb")));
    assert!(!matches(&lines("a\nb"), &lines("a\nc")));
}
