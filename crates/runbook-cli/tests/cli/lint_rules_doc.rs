//! docs/lint-rules.md against the rule catalog: the same rules both ways, the same severities, and
//! every example doing what it says (each **Bad** runbook produces its rule, each **Good** one
//! produces no finding at all), through the real binary.

use std::collections::BTreeMap;

use runbook_dsl::FindingCode;

use crate::support::{self, Sandbox};

/// One `### \`name\`` section of the page.
struct Documented {
    code_line: String,
    bad: String,
    good: String,
    /// A fragment file the examples use, written to `fragments/NAME.fragment.yaml`.
    fragment: Option<String>,
}

fn documented_rules() -> BTreeMap<String, Documented> {
    let path = support::workspace_root().join("docs/lint-rules.md");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let mut rules = BTreeMap::new();
    for section in text.split("\n### `").skip(1) {
        let (name, body) = section
            .split_once("`\n")
            .unwrap_or_else(|| panic!("a rule heading without a closing backtick: {section:.60}"));
        let body = body.split("\n## ").next().unwrap_or(body);
        let code_line = body
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty())
            .unwrap_or_default()
            .to_owned();
        let block = |label: &str| {
            let marker = format!("**{label}**\n\n```yaml\n");
            let start = body.find(&marker)? + marker.len();
            let end = body[start..]
                .find("```")
                .unwrap_or_else(|| panic!("`{name}`: unclosed **{label}** block"));
            Some(body[start..start + end].to_owned())
        };
        let example = |label: &str| {
            block(label).unwrap_or_else(|| panic!("`{name}` has no **{label}** yaml block"))
        };
        let documented = Documented {
            code_line,
            bad: example("Bad"),
            good: example("Good"),
            fragment: block("Fragment"),
        };
        assert!(
            rules.insert(name.to_owned(), documented).is_none(),
            "`{name}` is documented twice"
        );
    }
    rules
}

#[test]
fn the_rules_page_documents_exactly_the_catalog_with_its_severities() {
    let documented = documented_rules();
    let mut problems = Vec::new();
    for &code in FindingCode::ALL {
        match documented.get(code.name()) {
            None => problems.push(format!("`{}` is not documented", code.name())),
            Some(rule) => {
                let expected =
                    format!("`{}` · {}", code.as_str(), code.default_severity().as_str());
                if rule.code_line != expected {
                    problems.push(format!(
                        "`{}`: code line is `{}`, expected `{expected}`",
                        code.name(),
                        rule.code_line
                    ));
                }
            }
        }
    }
    for name in documented.keys() {
        if FindingCode::from_name(name).is_none() {
            problems.push(format!("`{name}` is documented but is not a rule"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

const REHEARSAL_RULES: &[&str] = &[
    "unknown_rehearsal_step",
    "unknown_rehearsal_name",
    "invalid_rehearsal",
    "simulation_escape",
];

#[test]
fn every_bad_example_fires_its_rule_and_every_good_one_is_clean() {
    let documented = documented_rules();
    let sandbox = Sandbox::new();
    let mut files = Vec::new();
    // Rehearsal rules' examples are rehearsal files that need their runbook beside them: the
    // fixtures in lint/broken/*.rehearsal.yaml check those rules instead.
    let documented: BTreeMap<_, _> = documented
        .into_iter()
        .filter(|(name, _)| !REHEARSAL_RULES.contains(&name.as_str()))
        .collect();
    for (name, rule) in &documented {
        if let Some(fragment) = &rule.fragment {
            sandbox.write(&format!("fragments/{name}.fragment.yaml"), fragment);
        }
        files.push(format!("{name}.bad.yaml"));
        sandbox.write(&format!("{name}.bad.yaml"), &rule.bad);
        files.push(format!("{name}.good.yaml"));
        sandbox.write(&format!("{name}.good.yaml"), &rule.good);
    }
    let mut args = vec!["lint", "--output", "json"];
    args.extend(files.iter().map(String::as_str));
    let output = sandbox.run(&args);
    assert!(output.stderr.is_empty(), "stderr: {}", output.stderr);
    // file -> the rules it produced
    let mut fired: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in output.stdout.lines() {
        let finding: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|error| panic!("not JSON: {error}: {line}"));
        let field = |key: &str| finding[key].as_str().unwrap_or_default().to_owned();
        // A finding inside a fragment belongs to the runbook whose `use:` led there (the last
        // note).
        let file = finding["notes"]
            .as_array()
            .and_then(|notes| notes.last())
            .and_then(|note| note["file"].as_str())
            .map_or_else(|| field("file"), str::to_owned);
        fired.entry(file).or_default().push(field("rule"));
    }
    let mut problems = Vec::new();
    for name in documented.keys() {
        let bad = fired.get(&format!("{name}.bad.yaml"));
        if !bad.is_some_and(|rules| rules.contains(name)) {
            problems.push(format!("the Bad example of `{name}` produces {bad:?}"));
        }
        if let Some(rules) = fired.get(&format!("{name}.good.yaml")) {
            problems.push(format!("the Good example of `{name}` produces {rules:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn explain_prints_the_rules_section_and_refuses_unknown_rules() {
    let sandbox = Sandbox::new();
    let output = sandbox.run(&["lint", "--explain", "runbook::check::unknown_step"]);
    assert_eq!(output.code, 0, "{}", output.stderr);
    assert!(
        output
            .stdout
            .starts_with("### `unknown_step`\n\n`runbook::check::unknown_step` · error\n")
    );
    assert!(output.stdout.contains("**Good**"));
    assert!(!output.stdout.contains("### `step_not_yet_run`"));
    let short = sandbox.run(&["lint", "--explain", "unknown_step"]);
    assert_eq!(short.stdout, output.stdout);

    let unknown = sandbox.run(&["lint", "--explain", "unknown_stpe"]);
    assert_eq!(unknown.code, 2);
    assert_eq!(
        unknown.stderr,
        "error: unknown rule `unknown_stpe`; did you mean `unknown_step`? (`runbook lint \
         --list-rules` lists them)\n"
    );
}

#[test]
fn list_rules_lists_the_catalog() {
    let output = Sandbox::new().run(&["lint", "--list-rules"]);
    assert_eq!(output.code, 0);
    assert_eq!(output.stdout.lines().count(), FindingCode::ALL.len());
    let line = output
        .stdout
        .lines()
        .find(|line| line.starts_with("secret_in_prompt "))
        .unwrap_or_default();
    assert!(line.contains(" warning ") && line.contains("runbook::check::secret_in_prompt"));
}
