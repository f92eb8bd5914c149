//! Checks a JSON body against Google's discovery document
//! (`tests/specs/google-calendar-v3.discovery.json`): every property name must exist
//! in the schema (after resolving `$ref`), recursively, and scalar types must match.
//! `null` is accepted anywhere: a PATCH uses it to delete.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::Value;

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/specs/google-calendar-v3.discovery.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "the Google discovery document is missing at {} ({e}); the body checks \
                 need it (it lives in the shared specs next to the workspace)",
                path.display()
            )
        });
        serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "the discovery document at {} is not JSON: {e}",
                path.display()
            )
        })
    })
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(name) => doc["schemas"]
            .get(name)
            .unwrap_or_else(|| panic!("discovery document has no schema {name}")),
        None => schema,
    }
}

fn walk(doc: &Value, schema: &Value, value: &Value, path: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let ty = schema
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("object");
    if ty == "any" {
        return;
    }
    match value {
        Value::Null => {}
        Value::Object(map) => {
            if ty != "object" {
                errors.push(format!("{path}: an object where the schema has {ty}"));
                return;
            }
            let props = schema.get("properties");
            let additional = schema.get("additionalProperties");
            for (k, v) in map {
                let sub = format!("{path}.{k}");
                match props.and_then(|p| p.get(k)).or(additional) {
                    Some(s) => walk(doc, s, v, &sub, errors),
                    None => errors.push(format!("{sub}: no such property")),
                }
            }
        }
        Value::Array(items) => {
            if ty != "array" {
                errors.push(format!("{path}: an array where the schema has {ty}"));
                return;
            }
            if let Some(item_schema) = schema.get("items") {
                for (i, v) in items.iter().enumerate() {
                    walk(doc, item_schema, v, &format!("{path}[{i}]"), errors);
                }
            }
        }
        Value::String(_) if ty != "string" => {
            errors.push(format!("{path}: a string where the schema has {ty}"));
        }
        Value::Bool(_) if ty != "boolean" => {
            errors.push(format!("{path}: a boolean where the schema has {ty}"));
        }
        Value::Number(_) if !matches!(ty, "integer" | "number") => {
            errors.push(format!("{path}: a number where the schema has {ty}"));
        }
        _ => {}
    }
}

/// Panics with every violation when `value` does not fit schema `schema_name`.
pub fn assert_fits(schema_name: &str, value: &Value) {
    let doc = document();
    let schema = doc["schemas"]
        .get(schema_name)
        .unwrap_or_else(|| panic!("discovery document has no schema {schema_name}"));
    let mut errors = Vec::new();
    walk(doc, schema, value, schema_name, &mut errors);
    assert!(
        errors.is_empty(),
        "body does not fit {schema_name}:\n  {}\nbody: {value:#}",
        errors.join("\n  ")
    );
}
