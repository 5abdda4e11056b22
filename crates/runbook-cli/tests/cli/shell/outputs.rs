//! Stdout as JSON (with JSONPath captures) or text, and stdout that is not valid JSON.

use serde_json::json;

use super::helpers::{message, run, run_json};
use crate::control::{assert_code, step};
use crate::support::Sandbox;

#[test]
fn stdout_json_with_jsonpath_captures() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: json
title: JSON stdout
steps:
  - id: list
    shell:
      command: >-
        printf '%s' '{"account": {"number": "PA123", "equity": "100000.00"}, "orders": [{"id": "a", "qty": 1}, {"id": "b", "qty": 2}], "count": 2, "paused": true}'
      stdout: json
      capture:
        number: $.account.number
        equity: $.account.equity
        ids: {jsonpath: "$.orders[*].id", all: true}
        first_qty: "$.orders[0].qty"
        count: $.count
        paused: $.paused
        none: {jsonpath: $.missing, all: true}
      assert:
        - that: "{{outputs.count}}"
          equals: 2
        - that: "{{outputs.ids}}"
          contains: b
        - that: "{{outputs.stdout.account.number}}"
          equals: PA123
  - id: later
    assert:
      - that: "{{steps.list.outputs.equity}}"
        equals: "100000.00"
      - that: "{{steps.list.outputs.first_qty}}"
        equals: 1
      - that: "{{steps.list.outputs.paused}}"
        equals: true
      - that: "{{steps.list.outputs.none}}"
        length: 0
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 0);
    let outputs = &step(&report, "list")["outputs"];
    assert_eq!(outputs["number"], json!("PA123"));
    assert_eq!(outputs["equity"], json!("100000.00"));
    assert_eq!(outputs["ids"], json!(["a", "b"]));
    assert_eq!(outputs["first_qty"], json!(1));
    assert_eq!(outputs["count"], json!(2));
    assert_eq!(outputs["paused"], json!(true));
    assert_eq!(outputs["none"], json!([]));
    assert_eq!(outputs["stdout"]["orders"][1]["id"], json!("b"));
    assert_eq!(outputs["exit_code"], json!(0));

    // Several matches without `all`, and no match, are errors that say so.
    sandbox.write(
        "many.yaml",
        r#"
id: json
title: JSON stdout
steps:
  - id: list
    shell:
      command: >-
        printf '%s' '{"orders": [{"id": "a"}, {"id": "b"}]}'
      stdout: json
      capture:
        ids: "$.orders[*].id"
"#,
    );
    let (output, report) = run_json(&sandbox, "many.yaml", &[], &[]);
    assert_code(&output, 1);
    assert_eq!(step(&report, "list")["error"]["kind"], "capture");
    assert!(
        message(&report, "list").contains("matched 2 values; add `all: true`"),
        "{report:#}"
    );

    sandbox.write(
        "none.yaml",
        r#"
id: json
title: JSON stdout
steps:
  - id: list
    shell:
      command: >-
        printf '%s' '{"orders": []}'
      stdout: json
      capture:
        first: "$.orders[0].id"
"#,
    );
    let (output, report) = run_json(&sandbox, "none.yaml", &[], &[]);
    assert_code(&output, 1);
    assert!(
        message(&report, "list").contains("matched nothing"),
        "{report:#}"
    );
}

#[test]
fn stdout_text_keeps_whitespace_and_the_default_trims() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: text
title: Text stdout
steps:
  - id: text
    shell:
      command: printf '  padded  \n\n'; printf '  err  \n\n' >&2
      stdout: text
  - id: trimmed_default
    shell:
      command: printf '  padded  \n\n'
  - id: trimmed
    shell:
      command: printf '\n\tpadded\n'
      stdout: trimmed
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 0);
    assert_eq!(
        step(&report, "text")["outputs"]["stdout"],
        json!("  padded  \n\n")
    );
    assert_eq!(step(&report, "text")["outputs"]["stderr"], json!("  err"));
    assert_eq!(
        step(&report, "trimmed_default")["outputs"]["stdout"],
        json!("padded")
    );
    assert_eq!(
        step(&report, "trimmed")["outputs"]["stdout"],
        json!("padded")
    );
}

#[test]
fn invalid_json_stdout_fails_clearly() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "rb.yaml",
        r#"
id: bad-json
title: Bad JSON
steps:
  - id: bad
    shell:
      command: "echo 'Setting KEY and restarting app... done, v124'; echo '{\"partial\": '"
      stdout: json
  - id: empty
    shell:
      command: "true"
      stdout: json
"#,
    );
    let (output, report) = run_json(&sandbox, "rb.yaml", &[], &[]);
    assert_code(&output, 1);
    assert_eq!(step(&report, "bad")["error"]["kind"], "capture");
    let text = message(&report, "bad");
    assert!(text.contains("stdout is not valid JSON"), "{text}");
    assert!(
        text.contains("it begins: Setting KEY and restarting app... done, v124"),
        "{text}"
    );

    // Empty stdout is not JSON either: unknown is failure.
    sandbox.write(
        "empty.yaml",
        r#"
id: bad-json
title: Bad JSON
steps:
  - id: empty
    shell:
      command: "true"
      stdout: json
"#,
    );
    let (output, report) = run_json(&sandbox, "empty.yaml", &[], &[]);
    assert_code(&output, 1);
    assert!(
        message(&report, "empty").contains("stdout is not valid JSON"),
        "{report:#}"
    );

    let output = run(&sandbox, "rb.yaml", &[], &[], false);
    assert_code(&output, 1);
    assert!(
        output.stdout.contains("stdout is not valid JSON"),
        "{}",
        output.stdout
    );
}
