//! `runbook lint --output json|github|sarif|junit`, `--deny warnings` and `--list-suppressions` on
//! one runbook with an error, a warning and a suppressed warning.

use runbook_dsl::FindingCode;

use crate::support::Sandbox;

const RUNBOOK: &str = "\
id: formats
title: One error, one warning, one suppressed warning
inputs:
  dir: {type: string}
steps:
  - id: build
    shell:
      command: sh -c \"cd {{inputs.dir}} && make\"
  # runbook: allow reparsed_shell_reference -- the remote script quotes it
  - id: deploy
    shell:
      command: ssh host \"deploy {{inputs.dir}}\"
  - id: check
    assert:
      - that: \"{{steps.buld.outputs.exit_code}}\"
        equals: 0
";

const WARNINGS_ONLY: &str = "\
id: warnings-only
title: A warning and nothing else
inputs:
  dir: {type: string}
steps:
  - id: build
    shell:
      command: eval \"ls {{inputs.dir}}\"
";

fn sandbox() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("formats.yaml", RUNBOOK);
    sandbox.write("warnings.yaml", WARNINGS_ONLY);
    sandbox
}

fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{error}: {line}")))
        .collect()
}

#[test]
fn json_has_start_and_end_positions_offsets_and_the_rule() {
    let output = sandbox().run(&["lint", "--output", "json", "formats.yaml"]);
    assert_eq!(output.code, 3, "{}", output.stderr);
    let findings = json_lines(&output.stdout);
    assert_eq!(findings.len(), 2, "{}", output.stdout);
    let warning = &findings[0];
    assert_eq!(warning["rule"], "reparsed_shell_reference");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["line"], 8);
    assert_eq!(warning["column"], 26);
    assert_eq!(warning["end_line"], 8);
    assert_eq!(warning["end_column"], 40);
    let error = &findings[1];
    assert_eq!(error["code"], "runbook::check::unknown_step");
    let offset = |key: &str| error[key].as_u64().and_then(|n| usize::try_from(n).ok());
    let (start, end) = (offset("start_offset"), offset("end_offset"));
    assert_eq!(
        start
            .zip(end)
            .and_then(|(start, end)| RUNBOOK.get(start..end)),
        Some("{{steps.buld.outputs.exit_code}}")
    );
}

#[test]
fn github_workflow_commands_carry_the_whole_range() {
    let output = sandbox().run(&["lint", "--output", "github", "formats.yaml"]);
    assert_eq!(output.code, 3);
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", output.stdout);
    assert!(
        lines[0].starts_with(
            "::warning file=formats.yaml,line=8,col=26,endLine=8,endColumn=40,\
             title=runbook%3A%3Acheck%3A%3Areparsed_shell_reference::`{{inputs.dir}}` reaches `sh -c`"
        ),
        "{}",
        lines[0]
    );
    assert!(lines[1].starts_with(
        "::error file=formats.yaml,line=15,col=16,endLine=15,endColumn=48,title=runbook%3A%3Acheck%3A%3Aunknown_step::"
    ));
}

/// The official SARIF 2.1.0 schema, vendored (from the serde-sarif crate, which generates its
/// types from it): tests must not need the network.
fn sarif_validator() -> jsonschema::Validator {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sarif-schema-2.1.0.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    let schema: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("schema: {error}"));
    jsonschema::draft7::new(&schema).unwrap_or_else(|error| panic!("schema: {error}"))
}

#[test]
fn sarif_is_valid_against_the_official_schema_and_carries_the_catalog() {
    let output = sandbox().run(&["lint", "--output", "sarif", "formats.yaml", "warnings.yaml"]);
    assert_eq!(output.code, 3, "{}", output.stderr);
    let log: serde_json::Value =
        serde_json::from_str(&output.stdout).unwrap_or_else(|error| panic!("{error}"));
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));

    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules.len(), FindingCode::ALL.len());
    let rule = rules
        .iter()
        .find(|rule| rule["id"] == "runbook::check::unknown_step")
        .cloned()
        .unwrap_or_default();
    assert_eq!(rule["name"], "unknown_step");
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(
        rule["helpUri"]
            .as_str()
            .is_some_and(|uri| uri.ends_with("/docs/lint-rules.md#unknown_step")),
        "{}",
        rule["helpUri"]
    );
    assert!(
        rule["fullDescription"]["text"]
            .as_str()
            .is_some_and(|text| text.contains("no step has that id"))
    );

    let results = run["results"].as_array().cloned().unwrap_or_default();
    // formats.yaml: a warning, an error, a suppressed warning; warnings.yaml: a warning.
    assert_eq!(results.len(), 4, "{}", output.stdout);
    let error = results
        .iter()
        .find(|result| result["ruleId"] == "runbook::check::unknown_step")
        .cloned()
        .unwrap_or_default();
    let location = &error["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "formats.yaml");
    assert_eq!(location["region"]["startLine"], 15);
    assert_eq!(location["region"]["endColumn"], 48);
    let suppressed: Vec<&serde_json::Value> = results
        .iter()
        .filter(|result| result.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "the remote script quotes it"
    );
}

#[test]
fn sarif_validation_can_fail() {
    // The validator is not vacuous: a result without a message is rejected.
    let broken = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "runbook"}}, "results": [{"ruleId": "x"}]}]
    });
    assert!(!sarif_validator().is_valid(&broken));
}

#[test]
fn junit_has_a_case_per_file_and_a_failure_per_failing_finding() {
    let output = sandbox().run(&["lint", "--output", "junit", "formats.yaml", "warnings.yaml"]);
    assert_eq!(output.code, 3);
    let xml = &output.stdout;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert_eq!(xml.matches("<testcase ").count(), 2);
    assert_eq!(xml.matches("<failure ").count(), 1, "{xml}");
    assert!(xml.contains("tests=\"2\" failures=\"1\""));
    assert!(xml.contains(
        "<system-out>warning[runbook::check::reparsed_shell_reference] formats.yaml:8:26"
    ));

    let denied = sandbox().run(&[
        "lint",
        "--output",
        "junit",
        "--deny",
        "warnings",
        "formats.yaml",
        "warnings.yaml",
    ]);
    assert_eq!(
        denied.stdout.matches("<failure ").count(),
        3,
        "{}",
        denied.stdout
    );
    assert!(denied.stdout.contains("tests=\"2\" failures=\"2\""));
}

#[test]
fn deny_warnings_fails_on_warnings_only() {
    let sandbox = sandbox();
    let plain = sandbox.run(&["lint", "warnings.yaml"]);
    assert_eq!(plain.code, 0, "{}", plain.stdout);
    assert!(
        plain
            .stdout
            .ends_with("1 runbook checked: 1 finding in 1 file\n")
    );
    let denied = sandbox.run(&["lint", "--deny", "warnings", "warnings.yaml"]);
    assert_eq!(denied.code, 3);
    assert_eq!(denied.stdout, plain.stdout);
}

#[test]
fn suppressed_findings_do_not_count_and_are_listed() {
    let sandbox = sandbox();
    let human = sandbox.run(&["lint", "formats.yaml"]);
    assert!(
        human
            .stdout
            .ends_with("1 runbook checked: 2 findings in 1 file (1 suppressed)\n"),
        "{}",
        human.stdout
    );
    let listed = sandbox.run(&["lint", "--list-suppressions", "formats.yaml"]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert_eq!(
        listed.stdout,
        "formats.yaml:9: reparsed_shell_reference -- the remote script quotes it (1 silenced)\n\
         1 suppression\n"
    );
}

#[test]
fn run_does_not_print_suppressed_warnings() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "quiet.yaml",
        "id: quiet\ntitle: q\nsteps:\n  - id: hello\n    # runbook: allow reparsed_shell_reference -- a constant\n    shell:\n      command: sh -c \"echo {{env.HOME}}\"\n",
    );
    let output = sandbox.run(&["lint", "quiet.yaml"]);
    assert_eq!(
        output.stdout,
        "1 runbook checked: no findings (1 suppressed)\n"
    );
    let run = sandbox.run(&["run", "quiet.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !run.stderr.contains("reparsed_shell_reference"),
        "{}",
        run.stderr
    );
    // Without the comment, run prints the warning and still runs.
    sandbox.write(
        "loud.yaml",
        "id: loud\ntitle: l\nsteps:\n  - id: hello\n    shell:\n      command: sh -c \"echo {{env.HOME}}\"\n",
    );
    let loud = sandbox.run(&["run", "loud.yaml"]);
    assert_eq!(loud.code, 0, "{}", loud.stderr);
    assert!(
        loud.stderr
            .contains("warning[runbook::check::reparsed_shell_reference]"),
        "{}",
        loud.stderr
    );
}
