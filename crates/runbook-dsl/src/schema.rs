//! The JSON Schema (draft-07, which yaml-language-server understands) generated from the raw types.

use schemars::generate::SchemaSettings;

use crate::raw::RawRunbook;

/// The runbook JSON Schema as pretty-printed JSON, with a trailing newline.
pub fn runbook_schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<RawRunbook>();
    schema.insert("title".into(), "runbook".into());
    schema.insert(
        "$id".into(),
        "https://runbook.invalid/schemas/runbook.schema.json".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// The rehearsal-file JSON Schema as pretty-printed JSON, with a trailing newline.
pub fn rehearsal_schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<crate::rehearsal::raw::RawRehearsal>();
    schema.insert("title".into(), "runbook rehearsal".into());
    schema.insert(
        "$id".into(),
        "https://runbook.invalid/schemas/rehearsal.schema.json".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
