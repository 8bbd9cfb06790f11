//! The JSON Schema of scenario files, generated from the serde types that
//! parse them, so it cannot drift from what moai accepts. Editors validate
//! and complete TOML against it: a TOML file is checked as the JSON document
//! it converts to, datetimes becoming strings.

use schemars::generate::SchemaSettings;
use schemars::transform::transform_subschemas;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Value, json};

use super::ScenarioFile;

/// The JSON Schema of a scenario file, in draft 7: taplo (Even Better TOML)
/// validates with a draft 4/6/7 validator, and draft 7 is the newest of them.
pub fn json_schema() -> Schema {
    SchemaSettings::draft07()
        .with(|settings| {
            // Taplo reads neither a description beside a `$ref` nor one in
            // an `allOf` wrapper: inline schemas keep each key's own.
            settings.inline_subschemas = true;
            let forbid: fn(&mut Schema) = forbid_null;
            settings.transforms.insert(0, Box::new(forbid));
        })
        .into_generator()
        .into_root_schema_for::<ScenarioFile>()
}

/// TOML has no null (an absent key is how a setting is left out), so the
/// `null` that schemars allows for every `Option` is taken out again.
fn forbid_null(schema: &mut Schema) {
    transform_subschemas(&mut forbid_null, schema);
    if let Some(Value::Array(types)) = schema.get_mut("type") {
        types.retain(|t| t != "null");
        if let [only] = types.as_slice() {
            let only = only.clone();
            schema.insert("type".into(), only);
        }
    }
    if let Some(Value::Array(choices)) = schema.get_mut("anyOf") {
        choices.retain(|c| c != &json!({ "type": "null" }));
        if let [Value::Object(only)] = choices.as_slice() {
            let only = only.clone();
            schema.remove("anyOf");
            for (key, value) in only {
                schema.ensure_object().entry(key).or_insert(value);
            }
        }
    }
}

/// Adds the serde aliases `approve` and `reject` to the derived schema of
/// [`super::Vote`], which lists one `const` per variant (schemars ignores
/// `alias`).
pub(super) fn add_vote_aliases(schema: &mut Schema) {
    if let Some(Value::Array(variants)) = schema.get_mut("oneOf") {
        for (alias, of) in [("approve", "for"), ("reject", "against")] {
            variants.push(json!({
                "description": format!("Same as `{of}`."),
                "type": "string",
                "const": alias,
            }));
        }
    }
}

/// Schema stand-in for a free-form TOML table (`[proposal]`, `[[proposals]]`).
pub(crate) enum Table {}

impl JsonSchema for Table {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Table".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }
}

/// Schema stand-in for a version's `timestamp`: an RFC 3339 string, or a TOML
/// offset datetime, which editors hand to validators as the same string.
pub(super) enum Timestamp {}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "format": "date-time" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Vote;

    #[test]
    fn every_vote_in_the_schema_parses_and_every_vote_is_in_it() {
        let schema = serde_json::to_value(json_schema()).unwrap();
        for table in ["agents", "groups"] {
            let names: Vec<&str> =
                schema["properties"][table]["items"]["properties"]["vote"]["oneOf"]
                    .as_array()
                    .expect("a vote is a oneOf of consts")
                    .iter()
                    .map(|v| v["const"].as_str().unwrap())
                    .collect();
            assert_eq!(names, ["for", "against", "abstain", "approve", "reject"]);
            for name in &names {
                serde_json::from_value::<Vote>(json!(name)).unwrap();
            }
            for vote in [Vote::For, Vote::Against, Vote::Abstain] {
                assert!(names.contains(&vote.name()));
            }
        }
    }
}
