//! `runbook schema`: the JSON Schema generated from the DSL types.

use std::io::Write;

use anyhow::Context;

use crate::args::SchemaArgs;

pub fn run(args: &SchemaArgs) -> anyhow::Result<()> {
    let schema = runbook_dsl::schema::runbook_schema_json();
    match &args.out {
        Some(path) => std::fs::write(path, schema)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => std::io::stdout().lock().write_all(schema.as_bytes())?,
    }
    Ok(())
}
