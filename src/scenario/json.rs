//! Free-form TOML values read straight into JSON, with no TOML value tree in
//! between: the parser's own tree is all a large `[proposal]` costs besides
//! its JSON. Datetimes become their RFC 3339 text.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The key under which the TOML deserializer hands over a datetime.
const DATETIME_FIELD: &str = "$__toml_private_datetime";

/// Any TOML value as JSON. With `FINITE`, `nan` and `inf` are refused (JSON
/// has no such numbers); without, they become `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct Json<const FINITE: bool = false>(pub Value);

/// A TOML table as a JSON object; any other value is refused.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonTable(pub Map<String, Value>);

impl<'de> Deserialize<'de> for JsonTable {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(TableVisitor).map(JsonTable)
    }
}

struct TableVisitor;

impl<'de> Visitor<'de> for TableVisitor {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        match JsonVisitor::<false>.visit_map(map)? {
            Value::Object(table) => Ok(table),
            _ => Err(de::Error::invalid_type(
                de::Unexpected::Other("datetime"),
                &self,
            )),
        }
    }
}

impl<'de, const FINITE: bool> Deserialize<'de> for Json<FINITE> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(JsonVisitor::<FINITE>)
            .map(Json)
    }
}

struct JsonVisitor<const FINITE: bool>;

impl<'de, const FINITE: bool> Visitor<'de> for JsonVisitor<FINITE> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match serde_json::Number::from_f64(v) {
            Some(n) => Ok(Value::Number(n)),
            None if FINITE => Err(E::custom(format!(
                "{} is not a value moai can resolve: results are JSON, which has no nan or inf",
                toml_float(v)
            ))),
            None => Ok(Value::Null),
        }
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(Json::<FINITE>(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == DATETIME_FIELD && object.is_empty() {
                return Ok(Value::String(map.next_value()?));
            }
            let Json::<FINITE>(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// A non-finite float as TOML writes it.
fn toml_float(v: f64) -> &'static str {
    match v {
        v if v.is_nan() => "nan",
        v if v > 0.0 => "inf",
        _ => "-inf",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn toml_values_become_json_with_datetimes_as_text() {
        let v: Json = toml::from_str(
            "n = 3\nf = 1.5\nb = true\ns = \"x\"\nat = 2025-01-01T10:00:00Z\na = [1, [2]]\n\
             t = { k = { j = 1 } }\nbad = nan\n",
        )
        .unwrap();
        assert_eq!(
            v.0,
            json!({"n": 3, "f": 1.5, "b": true, "s": "x", "at": "2025-01-01T10:00:00Z",
                   "a": [1, [2]], "t": {"k": {"j": 1}}, "bad": null})
        );
    }

    #[test]
    fn finite_values_refuse_nan_and_inf() {
        #[derive(Deserialize, Debug)]
        struct V {
            #[allow(dead_code)]
            v: Json<true>,
        }
        for (text, said) in [
            ("v = nan", "nan"),
            ("v = -inf", "-inf"),
            ("v = [inf]", "inf"),
        ] {
            let err = toml::from_str::<V>(text).unwrap_err().to_string();
            assert!(err.contains(&format!("{said} is not a value")), "{err}");
        }
        assert!(toml::from_str::<V>("v = 1e308").is_ok());
    }
}
