//! Docs are tested: every ```yaml block in README.md and docs/*.md says what it is in its info
//! string, and the runbook ones are linted through the real binary. GitHub highlights by the first
//! word, so the second one is free for us:
//!
//! | info string | what it is | checked |
//! |---|---|---|
//! | `yaml runbook` | a whole runbook | lints clean with `--deny warnings` |
//! | `yaml invalid` | a whole runbook meant to be wrong | lint finds an error (exit 3) |
//! | `yaml steps` | steps (a list), or top-level sections (`inputs:`, `steps:`, `on_failure:`, `finally:`) | wrapped in a runbook, lints clean but for references to what it leaves out |
//! | `yaml step` | fields of one step (`shell:`, `http:` with `capture:`, `when:`) | wrapped as one step, the same |
//! | `yaml conditions` | a list of conditions, as under `assert:` | wrapped in an `assert` step, the same |
//! | `yaml fragment` | a whole fragment file (`fragment:`, `params:`, `steps:`) | written as `fragments/ID.fragment.yaml` (its `fragment:` id), so later blocks can `use:` it, and linted alone with `--deny warnings` |
//! | `yaml other` | not a runbook: a CI workflow, an answers or rehearsal file, a modeline | nothing |
//!
//! "References to what it leaves out" are the findings a fragment cannot help: inputs, steps and
//! outputs it names that belong to the runbook around it, and captures or inputs that runbook
//! would use. Anything else (a field in the wrong place, `assert:` next to `http:`, a bad
//! duration) fails the test, with the file and line of the block.
//!
//! docs/lint-rules.md keeps its own scheme for its rules' examples: a plain ```yaml block right
//! after **Bad**, **Good** or **Fragment** is checked by `lint_rules_doc.rs` (the Bad one must produce its rule,
//! the Good one nothing), so it is left to that test here; its other yaml blocks follow the scheme
//! above.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{self, Sandbox};

/// What a block is, from the second word of its info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Runbook,
    Invalid,
    Steps,
    Step,
    Conditions,
    Fragment,
    Other,
}

const KINDS: &[(&str, Kind)] = &[
    ("runbook", Kind::Runbook),
    ("invalid", Kind::Invalid),
    ("steps", Kind::Steps),
    ("step", Kind::Step),
    ("conditions", Kind::Conditions),
    ("fragment", Kind::Fragment),
    ("other", Kind::Other),
];

/// Findings about the runbook around a fragment, which the fragment does not show.
const CONTEXT_RULES: &[&str] = &[
    "unknown_input",
    "unknown_step",
    "unknown_output",
    "step_not_yet_run",
    "output_may_not_exist",
    "unused_input",
    "unused_capture",
    // Whether a confirmation comes before the fragment's first side effect or irreversible
    // step depends on the steps around it.
    "side_effect_before_prompt",
    "irreversible_without_confirmation",
];

/// One fenced block: where it starts, its info string and its text (fence indentation removed).
#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    info: String,
    text: String,
    /// The last non-blank line before the fence (`**Bad**`, `**Good**`, prose).
    label: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// Every fenced block of a Markdown file, in order.
fn blocks(root: &Path, file: &str) -> Vec<Block> {
    let path = root.join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let trimmed = lines[index].trim_start();
        let Some(info) = trimmed.strip_prefix("```") else {
            index += 1;
            continue;
        };
        let indent = lines[index].len() - trimmed.len();
        let start = index;
        let label = lines[..index]
            .iter()
            .rev()
            .find(|line| !line.trim().is_empty())
            .map_or_else(String::new, |line| line.trim().to_owned());
        index += 1;
        let mut body = Vec::new();
        while index < lines.len() && lines[index].trim() != "```" {
            let line = lines[index];
            body.push(
                line.get(indent.min(line.len() - line.trim_start().len())..)
                    .unwrap_or(""),
            );
            index += 1;
        }
        index += 1;
        out.push(Block {
            file: file.to_owned(),
            line: start + 1,
            info: info.trim().to_owned(),
            text: body.join("\n") + "\n",
            label,
        });
    }
    out
}

/// README.md and every docs/*.md.
fn documentation(root: &Path) -> Vec<String> {
    let mut files = vec!["README.md".to_owned()];
    let mut docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap_or_else(|error| panic!("docs/: {error}"))
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// A rule's example on the rules page, which `lint_rules_doc.rs` lints.
fn is_rule_example(block: &Block) -> bool {
    block.file == "docs/lint-rules.md"
        && block.info == "yaml"
        && matches!(
            block.label.as_str(),
            "**Bad**" | "**Good**" | "**Fragment**"
        )
}

fn kind_of(block: &Block) -> Result<Option<Kind>, String> {
    let mut words = block.info.split_whitespace();
    if words.next() != Some("yaml") || is_rule_example(block) {
        return Ok(None);
    }
    let names = KINDS
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ");
    match words.next() {
        None => Err(format!(
            "{}: a ```yaml block must say what it is: ```yaml KIND, KIND one of {names} (see \
             crates/runbook-cli/tests/cli/docs_snippets.rs)",
            block.at()
        )),
        Some(word) => KINDS
            .iter()
            .find(|(name, _)| *name == word)
            .map(|(_, kind)| Some(*kind))
            .ok_or_else(|| format!("{}: unknown kind `{word}` (one of {names})", block.at())),
    }
}

fn indented(text: &str, by: usize) -> String {
    text.lines()
        .map(|line| {
            if line.trim().is_empty() {
                String::new()
            } else {
                format!("{:by$}{line}", "")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The runbook a block is checked as.
fn runbook_text(kind: Kind, text: &str) -> String {
    // Operator-assisted, so that a fragment's prompts are allowed.
    const HEADER: &str = "id: doc-snippet\ntitle: A snippet of the docs\nmode: operator-assisted\n";
    match kind {
        Kind::Runbook | Kind::Invalid | Kind::Fragment | Kind::Other => text.to_owned(),
        Kind::Steps => {
            let first = text
                .lines()
                .map(str::trim)
                .find(|line| !line.is_empty() && !line.starts_with('#'))
                .unwrap_or_default();
            if first.starts_with('-') {
                return format!("{HEADER}steps:\n{}", indented(text, 2));
            }
            // Sections: the header unless they have their own, and a step that uses nothing
            // unless they have steps (`inputs:` alone, or the SOP header).
            let has = |key: &str| text.lines().any(|line| line.starts_with(key));
            let header = if has("id:") { "" } else { HEADER };
            let steps = if has("steps:") {
                ""
            } else {
                "steps:\n  - id: placeholder\n    shell: {command: \"true\"}\n"
            };
            format!("{header}{text}{steps}")
        }
        Kind::Step => format!("{HEADER}steps:\n  - id: snippet\n{}", indented(text, 4)),
        Kind::Conditions => {
            format!(
                "{HEADER}steps:\n  - id: snippet\n    assert:\n{}",
                indented(text, 6)
            )
        }
    }
}

#[test]
fn every_runbook_snippet_in_the_docs_lints_as_it_says() {
    let root = support::workspace_root();
    let mut problems = Vec::new();
    let mut checked: Vec<(Block, Kind, String)> = Vec::new();
    for file in documentation(&root) {
        for block in blocks(&root, &file) {
            match kind_of(&block) {
                Err(problem) => problems.push(problem),
                Ok(None | Some(Kind::Other)) => {}
                Ok(Some(Kind::Fragment)) => {
                    // Named by its id, where the blocks that use it look for it.
                    let id = block
                        .text
                        .lines()
                        .find_map(|line| line.strip_prefix("fragment:"))
                        .map_or_else(
                            || format!("snippet-{}", checked.len()),
                            |id| id.trim().to_owned(),
                        );
                    let name = format!("fragments/{id}.fragment.yaml");
                    checked.push((block, Kind::Fragment, name));
                }
                Ok(Some(kind)) => {
                    let name = format!("snippet-{}.yaml", checked.len());
                    checked.push((block, kind, name));
                }
            }
        }
    }
    assert!(
        checked.len() >= 40,
        "only {} runbook snippets found: is the scheme still in use?",
        checked.len()
    );
    let sandbox = Sandbox::new();
    let mut args = vec!["lint", "--output", "json", "--deny", "warnings"];
    for (block, kind, name) in &checked {
        sandbox.write(name, &runbook_text(*kind, &block.text));
        args.push(name);
    }
    let output = sandbox.run(&args);
    assert!(output.stderr.is_empty(), "stderr: {}", output.stderr);
    // file -> (rule, line, message)
    let mut findings: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for line in output.stdout.lines() {
        let finding: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON: {error}: {line}"));
        let field = |key: &str| finding[key].as_str().unwrap_or_default().to_owned();
        findings.entry(field("file")).or_default().push((
            field("rule"),
            format!(
                "{} ({}:{})",
                field("message"),
                finding["line"],
                finding["column"]
            ),
        ));
    }
    for (block, kind, name) in &checked {
        let found = findings
            .get(name.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let fragment = matches!(kind, Kind::Steps | Kind::Step | Kind::Conditions);
        let wrong: Vec<String> = found
            .iter()
            .filter(|(rule, _)| !(fragment && CONTEXT_RULES.contains(&rule.as_str())))
            .map(|(rule, message)| format!("    {rule}: {message}"))
            .collect();
        match kind {
            Kind::Invalid if found.is_empty() => problems.push(format!(
                "{}: marked `invalid`, but lint finds nothing wrong in it",
                block.at()
            )),
            Kind::Invalid => {}
            Kind::Runbook | Kind::Steps | Kind::Step | Kind::Conditions | Kind::Fragment
                if !wrong.is_empty() =>
            {
                problems.push(format!(
                    "{}: a `{}` block that does not lint clean (checked as {name}):\n{}",
                    block.at(),
                    block.info,
                    wrong.join("\n")
                ))
            }
            Kind::Runbook
            | Kind::Steps
            | Kind::Step
            | Kind::Conditions
            | Kind::Fragment
            | Kind::Other => {}
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) with the docs' yaml blocks:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The checks above can fail: a fragment with a step in the wrong shape, and an `invalid` block
/// that is fine, are both reported.
#[test]
fn a_wrong_fragment_is_caught_and_a_fine_invalid_one_too() {
    let fragment = runbook_text(
        Kind::Steps,
        "- id: check\n  http:\n    url: \"{{inputs.base_url}}/v2/orders\"\n  assert:\n    - that: \"{{outputs.body}}\"\n      length: 0\n",
    );
    let sandbox = Sandbox::new();
    sandbox.write("f.yaml", &fragment);
    let output = sandbox.run(&["lint", "--output", "json", "f.yaml"]);
    let rules: Vec<String> = output
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .map(|finding| finding["rule"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        rules
            .iter()
            .any(|rule| !CONTEXT_RULES.contains(&rule.as_str())),
        "`assert:` next to `http:` must be a finding beyond missing context: {rules:?}"
    );
    let block = Block {
        file: "x.md".into(),
        line: 1,
        info: "yaml".into(),
        text: String::new(),
        label: "**Bad**".into(),
    };
    assert!(
        kind_of(&block).is_err(),
        "an unmarked yaml block is refused"
    );
    let rule_example = Block {
        file: "docs/lint-rules.md".into(),
        ..block
    };
    assert_eq!(
        kind_of(&rule_example),
        Ok(None),
        "left to lint_rules_doc.rs"
    );
}

/// docs/exit-codes.md's examples: each `runbook ...  # N...` line of its first `sh` block exits N
/// when run at the workspace root.
#[test]
fn the_exit_code_examples_exit_as_documented() {
    let root = support::workspace_root();
    let examples = blocks(&root, "docs/exit-codes.md")
        .into_iter()
        .find(|block| block.info == "sh")
        .unwrap_or_else(|| panic!("docs/exit-codes.md has no sh block"));
    let mut problems = Vec::new();
    let mut count = 0;
    for line in examples.text.lines() {
        let Some((command, comment)) = line.split_once('#') else {
            continue;
        };
        let Some(args) = command.trim().strip_prefix("runbook ") else {
            continue;
        };
        let expected: i32 = comment
            .trim()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("no exit code after `#` in {line:?}"));
        let args: Vec<&str> = args.split_whitespace().collect();
        let mut runbook = support::runbook();
        runbook.current_dir(&root).args(&args);
        let output = support::finish(runbook);
        count += 1;
        if output.code != expected {
            problems.push(format!(
                "`runbook {}` exits {}, documented {expected}\n{}",
                args.join(" "),
                output.code,
                output.stderr
            ));
        }
    }
    assert!(
        count >= 8,
        "only {count} examples found in:\n{}",
        examples.text
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
