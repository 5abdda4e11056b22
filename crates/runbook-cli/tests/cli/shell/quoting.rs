//! Values and references are data, never shell code: metacharacters, single and double quotes.

use serde_json::json;

use super::helpers::{run, run_json};
use crate::control::{assert_code, step};
use crate::support::Sandbox;

#[test]
fn shell_metacharacters_in_values_are_data_not_code() {
    let sandbox = Sandbox::new();
    let evil = r#"$(touch pwned1) `touch pwned2`; touch pwned3 && echo "dq" 'sq' | tee pwned4 > pwned5 \ * ~ {{inputs.other}} $HOME"#;
    sandbox.write(
        "rb.yaml",
        r#"
id: injection
title: Injection
inputs:
  evil: {type: string}
  other: {type: string, default: should-not-appear}
steps:
  - id: bare
    shell:
      command: printf '%s' {{inputs.evil}}
      stdout: text
  - id: via_env_and_stdin
    shell:
      command: printf '%s' "$EVIL"; cat
      env:
        EVIL: "{{inputs.evil}}"
      stdin: "|{{inputs.evil}}"
      stdout: text
  - id: as_argument_count
    name: One value is exactly one argument
    shell:
      command: set -- {{inputs.evil}}; echo $#
  - id: compare
    shell:
      command: test {{inputs.evil}} = "$EXPECTED"
"#,
    );
    let (output, report) = run_json(
        &sandbox,
        "rb.yaml",
        &[("evil", evil)],
        &[("EXPECTED", evil)],
    );
    assert_code(&output, 0);
    assert_eq!(step(&report, "bare")["outputs"]["stdout"], json!(evil));
    assert_eq!(
        step(&report, "via_env_and_stdin")["outputs"]["stdout"],
        json!(format!("{evil}|{evil}"))
    );
    assert_eq!(
        step(&report, "as_argument_count")["outputs"]["stdout"],
        json!("1")
    );
    assert_eq!(step(&report, "compare")["outcome"], "passed");
    for name in ["pwned1", "pwned2", "pwned3", "pwned4", "pwned5"] {
        assert!(
            !sandbox.path().join(name).exists(),
            "{name} was created: the value ran as code"
        );
    }
    let steps = report["steps"].to_string();
    assert!(
        !steps.contains("should-not-appear"),
        "a value was rendered as a template: {steps}"
    );
}

#[test]
fn a_reference_inside_single_quotes_is_rejected_before_running() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: quoted
title: Quoted
inputs:
  name: {type: string, default: x}
steps:
  - id: first
    shell:
      command: touch first-ran
  - id: quoted
    shell:
      command: echo '{{inputs.name}}'
"#,
    );
    let output = run(&sandbox, "rb.yaml", &[], &[], false);
    assert_code(&output, 3);
    assert!(
        output.stderr.contains("inside single quotes"),
        "{}",
        output.stderr
    );
    assert!(
        !sandbox.path().join("first-ran").exists(),
        "nothing runs before the runbook is valid"
    );
}

/// A reference written inside double quotes must arrive as one intact word too: no word splitting, no
/// pathname expansion.
#[test]
fn a_reference_inside_double_quotes_is_not_split_or_globbed() {
    let sandbox = Sandbox::new();
    let value = "two  spaces * star";
    sandbox.write(
        "rb.yaml",
        r#"
id: injection
title: Injection
inputs:
  value: {type: string}
steps:
  - id: in_double_quotes
    shell:
      command: printf '%s' "<{{inputs.value}}>"
      stdout: text
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[("value", value)], &[]);
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "in_double_quotes")["outputs"]["stdout"],
        json!(format!("<{value}>"))
    );
}
