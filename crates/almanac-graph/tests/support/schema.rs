//! Checks JSON against the Graph OpenAPI subset in tests/specs: every property
//! must be declared (through `$ref`, `allOf`, `anyOf`), enums must hold one of their
//! values. OData annotations (`@odata.etag`, `@removed`) are allowed anywhere.

use std::path::PathBuf;
use std::sync::LazyLock;

use serde_json::{json, Value};

static SPEC: LazyLock<Value> = LazyLock::new(|| {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/specs/msgraph-v1.0-calendar.openapi.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Graph OpenAPI spec {} is needed to validate JSON: {e}",
            path.display()
        )
    });
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
});

fn resolve(schema: &Value) -> &Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let t = &SPEC["components"]["schemas"][r.trim_start_matches("#/components/schemas/")];
            assert!(t.is_object(), "unresolved $ref {r}");
            resolve(t)
        }
        None => schema,
    }
}

/// The declared properties of an object schema, through `allOf`.
fn properties(schema: &Value, out: &mut serde_json::Map<String, Value>) {
    let schema = resolve(schema);
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        for s in all {
            properties(s, out);
        }
    }
    if let Some(p) = schema.get("properties").and_then(Value::as_object) {
        for (k, v) in p {
            out.insert(k.clone(), v.clone());
        }
    }
}

fn check(schema: &Value, v: &Value, path: &str, errs: &mut Vec<String>) {
    let schema = resolve(schema);
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        if v.is_null() {
            return;
        }
        let ok = any
            .iter()
            .filter(|s| s["nullable"] != true || s.get("$ref").is_some())
            .any(|s| {
                let mut e = Vec::new();
                check(s, v, path, &mut e);
                e.is_empty()
            });
        if !ok {
            errs.push(format!("{path}: matches no anyOf branch"));
        }
        return;
    }
    if v.is_null() {
        return;
    }
    let is_object = schema.get("allOf").is_some() || schema["type"] == "object";
    if is_object {
        let Some(obj) = v.as_object() else {
            errs.push(format!("{path}: not an object"));
            return;
        };
        let mut props = serde_json::Map::new();
        properties(schema, &mut props);
        for (k, x) in obj {
            if k.starts_with('@') {
                continue;
            }
            match props.get(k) {
                None => errs.push(format!("{path}.{k}: not in the schema")),
                Some(s) => check(s, x, &format!("{path}.{k}"), errs),
            }
        }
        return;
    }
    match schema["type"].as_str() {
        Some("array") => match v.as_array() {
            None => errs.push(format!("{path}: not an array")),
            Some(items) => {
                for (i, x) in items.iter().enumerate() {
                    check(&schema["items"], x, &format!("{path}[{i}]"), errs);
                }
            }
        },
        Some("string") => match v.as_str() {
            None => errs.push(format!("{path}: {v} is not a string")),
            Some(s) => {
                if let Some(values) = schema["enum"].as_array() {
                    if !values.iter().any(|e| e == s) {
                        errs.push(format!("{path}: {s:?} is not one of {values:?}"));
                    }
                }
            }
        },
        Some("boolean") if !v.is_boolean() => errs.push(format!("{path}: not a boolean")),
        Some("integer") if !v.is_i64() && !v.is_u64() => {
            errs.push(format!("{path}: not an integer"))
        }
        _ => {}
    }
}

/// Panics with every violation when `v` is not a valid `microsoft.graph.<name>`.
pub fn assert_valid(name: &str, v: &Value) {
    let mut errs = Vec::new();
    check(
        &json!({"$ref": format!("#/components/schemas/microsoft.graph.{name}")}),
        v,
        name,
        &mut errs,
    );
    assert!(errs.is_empty(), "{v} is not a valid {name}: {errs:#?}");
}
