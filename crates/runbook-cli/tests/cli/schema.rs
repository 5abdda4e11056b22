//! The committed JSON Schema (`schemas/runbook.schema.json`, what editors load) is exactly what
//! `runbook schema` prints, and is a draft-07 schema.

use crate::support;

const REGENERATE: &str =
    "run `cargo run -p runbook-cli -- schema --out schemas/runbook.schema.json`";

fn generated() -> String {
    let mut command = support::runbook();
    command.arg("schema");
    let output = support::finish(command);
    assert_eq!(output.code, 0, "runbook schema failed: {}", output.stderr);
    output.stdout
}

fn committed() -> String {
    let path = support::workspace_root().join("schemas/runbook.schema.json");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}; {REGENERATE}", path.display()))
}

#[test]
fn committed_schema_matches_the_generated_one() {
    let generated = generated();
    let committed = committed();
    if generated != committed {
        let line = generated
            .lines()
            .zip(committed.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || {
                    format!(
                        "lengths differ ({} vs {} bytes)",
                        generated.len(),
                        committed.len()
                    )
                },
                |index| {
                    format!(
                        "first difference at line {}:\n  generated: {}\n  committed: {}",
                        index + 1,
                        generated.lines().nth(index).unwrap_or(""),
                        committed.lines().nth(index).unwrap_or("")
                    )
                },
            );
        panic!("schemas/runbook.schema.json is out of date: {REGENERATE}\n{line}");
    }
}

#[test]
fn schema_is_draft_07_json() {
    let schema: serde_json::Value = serde_json::from_str(&generated())
        .unwrap_or_else(|error| panic!("`runbook schema` is not valid JSON: {error}"));
    assert_eq!(
        schema.get("$schema").and_then(serde_json::Value::as_str),
        Some("http://json-schema.org/draft-07/schema#"),
        "the schema must declare draft-07"
    );
    assert_eq!(
        schema.get("type").and_then(serde_json::Value::as_str),
        Some("object")
    );
    let required = schema
        .get("required")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    for field in ["id", "title", "steps"] {
        assert!(
            required.iter().any(|value| value == field),
            "`{field}` must be required by the schema; required: {required:?}"
        );
    }
}

#[test]
fn committed_rehearsal_schema_matches_the_generated_one() {
    let mut command = support::runbook();
    command.args(["schema", "--rehearsal"]);
    let output = support::finish(command);
    assert_eq!(
        output.code, 0,
        "runbook schema --rehearsal failed: {}",
        output.stderr
    );
    let path = support::workspace_root().join("schemas/rehearsal.schema.json");
    let committed = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    assert!(
        output.stdout == committed,
        "schemas/rehearsal.schema.json is out of date: run `cargo run -p runbook-cli -- schema \
         --rehearsal --out schemas/rehearsal.schema.json`"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&committed).unwrap_or_else(|error| panic!("not JSON: {error}"));
    assert_eq!(
        schema.get("$schema").and_then(serde_json::Value::as_str),
        Some("http://json-schema.org/draft-07/schema#")
    );
    assert!(
        schema["properties"]["scenarios"].is_object(),
        "the rehearsal schema describes `scenarios`"
    );
}
