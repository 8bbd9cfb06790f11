//! The committed JSON Schema of scenario files is what `moai schema` prints,
//! and it describes TOML: closed tables, no null.

use assert_cmd::Command;
use serde_json::Value;

const COMMITTED: &str = include_str!("../schema/scenario.schema.json");

fn printed_schema() -> String {
    let out = Command::cargo_bin("moai")
        .unwrap()
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success(), "moai schema failed");
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn committed_schema_is_what_moai_schema_prints() {
    let printed = printed_schema();
    if printed != COMMITTED {
        let line = printed
            .lines()
            .zip(COMMITTED.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || "the line counts differ".to_string(),
                |i| format!("first difference at line {}", i + 1),
            );
        panic!(
            "schema/scenario.schema.json is out of date ({line}); regenerate it with \
             `cargo run -- schema > schema/scenario.schema.json`"
        );
    }
}

/// Calls `visit` on `schema` and every schema object nested in it.
fn walk(schema: &Value, visit: &mut impl FnMut(&serde_json::Map<String, Value>)) {
    match schema {
        Value::Object(object) => {
            visit(object);
            object.values().for_each(|v| walk(v, visit));
        }
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

#[test]
fn schema_is_draft_7_with_closed_tables_and_no_null() {
    let schema: Value = serde_json::from_str(&printed_schema()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["required"], serde_json::json!(["algorithm"]));
    let mut tables = 0;
    walk(&schema, &mut |object| {
        // The "properties" map of a table is itself an object: look at schemas only.
        if object.get("type") == Some(&Value::from("object")) && object.contains_key("properties") {
            tables += 1;
            assert_eq!(
                object.get("additionalProperties"),
                Some(&Value::Bool(false)),
                "unknown keys are errors: {object:?}"
            );
        }
        assert_ne!(object.get("type"), Some(&Value::from("null")), "{object:?}");
        if let Some(Value::Array(types)) = object.get("type") {
            assert!(!types.contains(&Value::from("null")), "{object:?}");
        }
    });
    // The file, agents, groups, [byzantine], [gossip], partitions, states,
    // versions, routes, [expect].
    assert_eq!(tables, 10);
}
