//! The JSON Schema (draft-07, which yaml-language-server understands) generated from the raw types,
//! with `plugin:` steps typed from the linked plugins' action specs.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use runbook_plugin::{ActionSpec, Catalog, ParamKind};

use crate::raw::RawRunbook;

/// Where the committed schema (`schemas/runbook.schema.json`) is served from: the repository named
/// in the workspace's Cargo.toml, so the `$id` is the file's own address.
pub const SCHEMA_ID: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/main/schemas/runbook.schema.json"
);

/// Where the committed rehearsal schema (`schemas/rehearsal.schema.json`) is served from.
pub const REHEARSAL_SCHEMA_ID: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/main/schemas/rehearsal.schema.json"
);

/// The runbook JSON Schema with untyped plugin parameters.
pub fn runbook_schema_json() -> String {
    runbook_schema_json_with(&runbook_plugin::NoPlugins)
}

/// Where the committed fragment schema (`schemas/fragment.schema.json`) is served from.
pub const FRAGMENT_SCHEMA_ID: &str = concat!(
    env!("CARGO_PKG_REPOSITORY"),
    "/raw/main/schemas/fragment.schema.json"
);

/// The runbook JSON Schema as pretty-printed JSON, with a trailing newline. With plugins, a
/// `plugin:` step must `use` one of their actions and its `with` is typed by the action's spec.
pub fn runbook_schema_json_with(catalog: &dyn Catalog) -> String {
    schema_json_with::<RawRunbook>(catalog, "runbook", SCHEMA_ID)
}

/// The fragment-file JSON Schema (`NAME.fragment.yaml`): its steps are a runbook's, typed the
/// same way.
pub fn fragment_schema_json_with(catalog: &dyn Catalog) -> String {
    schema_json_with::<crate::raw::RawFragment>(catalog, "runbook fragment", FRAGMENT_SCHEMA_ID)
}

fn schema_json_with<T: schemars::JsonSchema>(
    catalog: &dyn Catalog,
    title: &str,
    id: &str,
) -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<T>();
    schema.insert("title".into(), title.into());
    schema.insert("$id".into(), id.into());
    let actions: Vec<&ActionSpec> = catalog
        .names()
        .into_iter()
        .filter_map(|name| catalog.spec(name))
        .collect();
    if !actions.is_empty()
        && let Some(plugin) = schema
            .get_mut("definitions")
            .and_then(|definitions| definitions.get_mut("RawPlugin"))
            .and_then(Value::as_object_mut)
    {
        type_plugin_step(plugin, &actions);
    }
    // Serialised as a schemars `Schema`, which puts `$schema`, `title` and the like first.
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Keeps the generic `RawPlugin` definition's description, and requires one of the actions.
fn type_plugin_step(plugin: &mut Map<String, Value>, actions: &[&ActionSpec]) {
    let variants: Vec<Value> = actions.iter().map(|spec| action_schema(spec)).collect();
    plugin.remove("properties");
    plugin.remove("required");
    plugin.remove("additionalProperties");
    plugin.insert("type".into(), "object".into());
    plugin.insert("oneOf".into(), Value::Array(variants));
}

fn action_schema(spec: &ActionSpec) -> Value {
    let mut params = Map::new();
    for param in spec.params {
        let mut schema = param_schema(param.kind);
        if let Some(object) = schema.as_object_mut() {
            let secret = if param.secret {
                " (a credential: treated as a secret)"
            } else {
                ""
            };
            object.insert(
                "description".into(),
                format!("{}{secret}", param.summary).into(),
            );
        }
        params.insert(param.name.into(), schema);
    }
    let required: Vec<&str> = spec
        .params
        .iter()
        .filter(|param| param.required)
        .map(|param| param.name)
        .collect();
    let mut with = json!({
        "type": "object",
        "properties": params,
        "additionalProperties": false,
    });
    if !required.is_empty()
        && let Some(object) = with.as_object_mut()
    {
        object.insert("required".into(), json!(required));
    }
    let mut variant = json!({
        "description": spec.summary,
        "type": "object",
        "properties": {
            "use": {"const": spec.name, "description": spec.summary},
            "with": with,
        },
        "required": ["use"],
        "additionalProperties": false,
    });
    if !required.is_empty()
        && let Some(object) = variant.as_object_mut()
    {
        object.insert("required".into(), json!(["use", "with"]));
    }
    variant
}

/// A literal of the kind, or a template (`{{...}}`) that renders to one.
fn param_schema(kind: ParamKind) -> Value {
    let template = json!({"type": "string", "pattern": "\\{\\{"});
    match kind {
        ParamKind::String => json!({"type": "string"}),
        ParamKind::Any => json!({}),
        ParamKind::Boolean => json!({"anyOf": [{"type": "boolean"}, template]}),
        ParamKind::StringList => {
            json!({"anyOf": [{"type": "array", "items": {"type": "string"}}, template]})
        }
        ParamKind::Object => json!({"anyOf": [{"type": "object"}, template]}),
        ParamKind::Choice(choices) => json!({"anyOf": [{"enum": choices}, template]}),
    }
}

/// The rehearsal-file JSON Schema as pretty-printed JSON, with a trailing newline.
pub fn rehearsal_schema_json() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let mut schema = generator.into_root_schema_for::<crate::rehearsal::raw::RawRehearsal>();
    schema.insert("title".into(), "runbook rehearsal".into());
    schema.insert("$id".into(), REHEARSAL_SCHEMA_ID.into());
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}
