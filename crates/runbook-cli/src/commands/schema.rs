//! `runbook schema`: the JSON Schema generated from the DSL types.

use std::io::Write;

use crate::args::SchemaArgs;

pub fn run(args: &SchemaArgs) -> anyhow::Result<()> {
    let schema = if args.rehearsal {
        runbook_dsl::schema::rehearsal_schema_json()
    } else if args.fragment {
        runbook_dsl::schema::fragment_schema_json_with(&crate::plugins::registry())
    } else {
        runbook_dsl::schema::runbook_schema_json_with(&crate::plugins::registry())
    };
    match &args.out {
        Some(path) => std::fs::write(path, schema).map_err(|error| {
            crate::failure::Failure::usage(format!("cannot write {}: {error}", path.display()))
        })?,
        None => std::io::stdout().lock().write_all(schema.as_bytes())?,
    }
    Ok(())
}
