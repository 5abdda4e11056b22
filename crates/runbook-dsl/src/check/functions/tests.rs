//! Function calls through the whole check pass: what lint accepts and what it reports.

use crate::finding::{Finding, FindingCode};
use crate::source::Source;

const HEAD: &str = r#"id: t
title: T
inputs:
  key_id:
    default: AKIA0001
  api_key:
    secret: true
steps:
  - id: vault
    shell:
      command: |
        echo '{"version": 3, "hosts": "a,b"}'
      stdout: json
      capture:
        version: $.version
        hosts: $.hosts
"#;

fn check(steps: &str) -> Result<crate::Runbook, Vec<Finding>> {
    let text = format!("{HEAD}{steps}");
    crate::load_and_check(&Source::new("t.yaml", &text))
}

fn errors(steps: &str) -> Vec<(FindingCode, String, Option<String>)> {
    match check(steps) {
        Ok(_) => Vec::new(),
        Err(findings) => findings
            .into_iter()
            .map(|f| (f.code, f.message, f.help))
            .collect(),
    }
}

#[test]
fn calls_check_in_templates_and_conditions() {
    let steps = r#"  - id: use
    shell:
      command: echo {{last 4 inputs.key_id}} {{add steps.vault.outputs.version 1}} {{join "+" (split "," steps.vault.outputs.hosts)}}
      assert:
        - that: "{{sha256 (trim outputs.stdout)}}"
          not_equals: "{{lower (upper inputs.key_id)}}"
        - that: "{{length outputs.stdout}}"
          greater_than: "{{sub steps.vault.outputs.version 3}}"
"#;
    let runbook = check(steps).unwrap_or_else(|findings| panic!("{findings:#?}"));
    let debug = format!("{:?}", runbook.steps);
    assert!(debug.contains("function: Last"), "{debug}");
    assert!(debug.contains("function: Sha256"), "{debug}");
}

#[test]
fn unknown_function_suggests_the_closest() {
    let found = errors("  - id: use\n    shell:\n      command: echo {{uper inputs.key_id}}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, FindingCode::UnknownFunction);
    assert_eq!(found[0].1, "unknown function `uper`");
    assert_eq!(found[0].2.as_deref(), Some("did you mean `upper`?"));
    let found =
        errors("  - id: use\n    shell:\n      command: echo {{frobnicate inputs.key_id}}\n");
    assert!(
        found[0]
            .2
            .as_deref()
            .is_some_and(|help| help.starts_with("functions: add, sub")),
        "{found:?}"
    );
}

#[test]
fn wrong_arity_says_what_the_function_takes() {
    let found = errors("  - id: use\n    shell:\n      command: echo {{last inputs.key_id}}\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, FindingCode::FunctionArity);
    assert_eq!(
        found[0].1,
        "`last` takes 2 arguments (COUNT, VALUE), but 1 was given"
    );
    assert_eq!(
        found[0].2.as_deref(),
        Some("write `{{last COUNT VALUE}}`, e.g. `{{last 4 inputs.key_id}}`")
    );
}

#[test]
fn literal_and_nested_argument_types_are_checked() {
    for (command, message) in [
        (
            r#"{{last "x" inputs.key_id}}"#,
            "`last` needs a whole number (0 or more) as COUNT, but \"x\" is a string",
        ),
        (
            "{{first -1 inputs.key_id}}",
            "`first` needs a whole number (0 or more) as COUNT, but a count cannot be negative",
        ),
        (
            "{{upper (length inputs.key_id)}}",
            "`upper` needs a string as VALUE, but `(length inputs.key_id)` is an integer",
        ),
        (
            "{{add 1.5 steps.vault.outputs.version}}",
            "`add` needs an integer as A, but 1.5 is a decimal number",
        ),
        (
            r#"{{split "" inputs.key_id}}"#,
            "`split` needs a non-empty string as SEPARATOR, but the separator cannot be empty",
        ),
        (
            r#"{{join "," (upper inputs.key_id)}}"#,
            "`join` needs a list as LIST, but `(upper inputs.key_id)` is a string",
        ),
        (
            "{{slice 5 2 inputs.key_id}}",
            "`slice 5 2` starts after it ends",
        ),
    ] {
        let found = errors(&format!(
            "  - id: use\n    shell:\n      command: echo '' {command}\n"
        ));
        assert_eq!(found.len(), 1, "{command}: {found:?}");
        assert_eq!(found[0].0, FindingCode::FunctionArgument, "{command}");
        assert_eq!(found[0].1, message, "{command}");
    }
}

#[test]
fn references_inside_calls_are_resolved() {
    let found = errors(
        "  - id: use\n    shell:\n      command: echo {{trim (lower inputs.kye_id)}} {{length steps.later.outputs.x}}\n  - id: later\n    shell:\n      command: echo\n",
    );
    let codes: Vec<_> = found.iter().map(|f| f.0).collect();
    assert_eq!(
        codes,
        [FindingCode::UnknownInput, FindingCode::StepNotYetRun],
        "{found:?}"
    );
}

#[test]
fn a_function_name_alone_is_explained() {
    let found = errors("  - id: use\n    shell:\n      command: echo {{upper}}\n");
    assert_eq!(found[0].0, FindingCode::UnknownReference);
    assert_eq!(
        found[0].2.as_deref(),
        Some("`upper` is a function: give it its arguments, e.g. `{{upper inputs.region}}`")
    );
}

#[test]
fn too_deep_and_named_arguments_are_unsupported() {
    for command in [
        "{{trim (trim (trim (trim (trim inputs.key_id))))}}",
        "{{last count=4 inputs.key_id}}",
    ] {
        let found = errors(&format!(
            "  - id: use\n    shell:\n      command: echo {command}\n"
        ));
        assert_eq!(found.len(), 1, "{command}: {found:?}");
        assert_eq!(found[0].0, FindingCode::UnsupportedTemplate, "{command}");
    }
}

#[test]
fn a_single_call_keeps_its_place_as_a_typed_value() {
    let steps = "  - id: use\n    assert:\n      - that: \"{{add steps.vault.outputs.version 1}}\"\n        equals: 4\n";
    let runbook = check(steps).unwrap_or_else(|findings| panic!("{findings:#?}"));
    let debug = format!("{:?}", runbook.steps);
    assert!(debug.contains("Template(Template"), "{debug}");
}

#[test]
fn a_secret_through_a_function_in_a_prompt_is_warned_but_not_its_length() {
    let steps = r#"  - id: ask
    prompt:
      instructions: "key ends {{last 4 inputs.api_key}}, {{length inputs.api_key}} chars"
      confirm: ok?
"#;
    let text =
        format!("{HEAD}{steps}").replacen("title: T\n", "title: T\nmode: operator-assisted\n", 1);
    let runbook = crate::load_and_check(&Source::new("t.yaml", &text));
    let warnings = match runbook {
        Ok(runbook) => runbook.warnings.clone(),
        Err(findings) => panic!("{findings:#?}"),
    };
    let secret: Vec<_> = warnings
        .iter()
        .filter(|w| w.code == FindingCode::SecretInPrompt)
        .collect();
    assert_eq!(secret.len(), 1, "{warnings:#?}");
}

#[test]
fn taint_flows_through_calls() {
    let steps = r#"  - id: mint
    shell:
      command: echo token-abc
  - id: wrap
    shell:
      command: echo {{trim steps.mint.outputs.stdout}}
      stdout: json
      capture:
        token:
          jsonpath: $.t
          secret: true
"#;
    let runbook = check(steps).unwrap_or_else(|findings| panic!("{findings:#?}"));
    assert!(
        runbook
            .secret_outputs
            .contains(&("mint".to_owned(), "stdout".to_owned())),
        "{:?}",
        runbook.secret_outputs
    );
}
