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

/// The committed schema, compiled as editors would use it.
fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&committed())
        .unwrap_or_else(|error| panic!("schema is not JSON: {error}"));
    jsonschema::draft7::new(&schema)
        .unwrap_or_else(|error| panic!("not a draft-07 schema: {error}"))
}

fn yaml(text: &str) -> serde_json::Value {
    serde_saphyr::from_str(text).unwrap_or_else(|error| panic!("not YAML: {error}"))
}

#[test]
fn the_schema_id_is_the_files_own_address() {
    let schema: serde_json::Value = serde_json::from_str(&committed()).unwrap_or_default();
    let id = schema["$id"].as_str().unwrap_or_default();
    assert!(
        id.starts_with("https://") && id.ends_with("/schemas/runbook.schema.json"),
        "{id}"
    );
}

#[test]
fn every_shipped_runbook_validates_against_the_schema() {
    let validator = validator();
    let root = support::workspace_root();
    let mut checked = 0;
    let mut problems = Vec::new();
    for dir in ["examples", "runbooks"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
            let name = path.to_string_lossy().into_owned();
            if !name.ends_with(".yaml")
                || name.contains(".answers.")
                || name.contains(".rehearsal.")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            checked += 1;
            for error in validator.iter_errors(&yaml(&text)) {
                problems.push(format!("{name}: {error} at {}", error.instance_path()));
            }
        }
    }
    assert!(checked >= 5, "only {checked} runbooks found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn plugin_parameters_are_typed_from_the_action_specs() {
    let validator = validator();
    let step = |with: &str| {
        yaml(&format!(
            "id: p\ntitle: p\nsteps:\n  - id: compare\n    plugin:\n      use: alpaca.compare_accounts\n      with:\n{with}"
        ))
    };
    let good = step(
        "        expected: \"{{steps.a.outputs.account}}\"\n        actual: {id: x}\n        expect: paper\n        fail: false\n",
    );
    assert!(
        validator.is_valid(&good),
        "{:?}",
        validator
            .iter_errors(&good)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    for bad in [
        // An unknown parameter, a choice outside its set, a boolean as a word, a missing one.
        "        expected: {}\n        actual: {}\n        colour: red\n",
        "        expected: {}\n        actual: {}\n        expect: staging\n",
        "        expected: {}\n        actual: {}\n        fail: nope\n",
        "        expected: {}\n",
    ] {
        assert!(!validator.is_valid(&step(bad)), "accepted:\n{bad}");
    }
    let unknown_action = yaml(
        "id: p\ntitle: p\nsteps:\n  - id: s\n    plugin:\n      use: alpaca.acount_snapshot\n",
    );
    assert!(!validator.is_valid(&unknown_action));
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

#[test]
fn committed_fragment_schema_matches_the_generated_one_and_every_fragment_validates() {
    let mut command = support::runbook();
    command.args(["schema", "--fragment"]);
    let output = support::finish(command);
    assert_eq!(
        output.code, 0,
        "runbook schema --fragment: {}",
        output.stderr
    );
    let root = support::workspace_root();
    let committed = std::fs::read_to_string(root.join("schemas/fragment.schema.json"))
        .unwrap_or_else(|error| panic!("cannot read schemas/fragment.schema.json: {error}"));
    assert!(
        output.stdout == committed,
        "schemas/fragment.schema.json is out of date: run `cargo run -p runbook-cli -- schema \
         --fragment --out schemas/fragment.schema.json`"
    );
    let schema: serde_json::Value =
        serde_json::from_str(&committed).unwrap_or_else(|error| panic!("not JSON: {error}"));
    let validator = jsonschema::draft7::new(&schema)
        .unwrap_or_else(|error| panic!("not a draft-07 schema: {error}"));
    let mut checked = 0;
    let mut problems = Vec::new();
    for dir in ["examples/fragments", "runbooks/fragments"] {
        let entries = std::fs::read_dir(root.join(dir))
            .unwrap_or_else(|error| panic!("cannot read {dir}: {error}"));
        for path in entries.filter_map(|entry| entry.ok().map(|entry| entry.path())) {
            let name = path.to_string_lossy().into_owned();
            if !name.ends_with(".fragment.yaml") {
                continue;
            }
            checked += 1;
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for error in validator.iter_errors(&yaml(&text)) {
                problems.push(format!("{name}: {error} at {}", error.instance_path()));
            }
        }
    }
    assert!(checked >= 3, "only {checked} fragments found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // A runbook step of a fragment is typed as a runbook's: an unknown field is refused.
    let bad = yaml("fragment: f\ntitle: f\nsteps:\n  - id: a\n    shel: {command: x}\n");
    assert!(!validator.is_valid(&bad));
    let missing_steps = yaml("fragment: f\ntitle: f\n");
    assert!(!validator.is_valid(&missing_steps));
}
