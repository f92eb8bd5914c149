//! [`Extra`]: a provider event's fields that [`RemoteEvent`](crate::RemoteEvent) has no
//! counterpart for, kept verbatim so a round trip through Almanac never drops them.
//!
//! Most events are listed, stored and never looked into again: the store keeps these
//! fields as JSON text, and only a merge or a write reads them by key. So a client can
//! hand them over as the JSON text it serialised ([`Extra::serialize_from`]) or as the
//! fields' own text from the answer ([`Extra::from_raw_fields`]), which the store writes
//! as it is; the map is built the first time someone reads a key. Building a map of
//! every listed event's fields, then writing it out as text and freeing it, was
//! about an eighth of applying a page.

use std::sync::OnceLock;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// A JSON object of provider-only fields. Reads go through the map (`Deref`); a write
/// (`DerefMut`) makes the map the only copy.
#[derive(Clone, Default)]
pub struct Extra {
    /// The object as `serde_json` wrote it, while nothing has changed it.
    text: Option<Box<str>>,
    /// The object as a map: built from `text` on first read, or given.
    map: OnceLock<Map<String, Value>>,
}

impl Extra {
    /// The fields of `value` (which must serialise to a JSON object) as text, without
    /// building a map of them.
    pub fn serialize_from<T: Serialize>(value: &T) -> Result<Self, serde_json::Error> {
        let text = serde_json::to_string(value)?;
        if !text.starts_with('{') {
            return Err(serde::ser::Error::custom(
                "provider-only fields must be a JSON object",
            ));
        }
        Ok(Self {
            text: Some(text.into_boxed_str()),
            map: OnceLock::new(),
        })
    }

    /// The fields `(name, value)` of an object whose values were read as their JSON text
    /// (`RawValue`, so nothing of them was built): the object is written from them as
    /// they came, without building a map.
    pub fn from_raw_fields<'a>(fields: impl IntoIterator<Item = (&'a str, &'a RawValue)>) -> Self {
        let mut text = String::from("{");
        for (name, value) in fields {
            if text.len() > 1 {
                text.push(',');
            }
            push_json_string(&mut text, name);
            text.push(':');
            text.push_str(value.get());
        }
        text.push('}');
        Self {
            text: Some(text.into_boxed_str()),
            map: OnceLock::new(),
        }
    }

    /// The value of one field, without building the map when it is not built yet (the
    /// text is scanned and only that value read): for a question asked of every listed
    /// event, such as Graph's `transactionId`.
    pub fn field(&self, name: &str) -> Option<Value> {
        match (self.map.get(), self.text.as_deref()) {
            (Some(map), _) => map.get(name).cloned(),
            (None, Some(text)) => {
                let mut de = serde_json::Deserializer::from_str(text);
                FieldOf(name).deserialize(&mut de).ok().flatten()
            }
            (None, None) => None,
        }
    }

    /// The fields as a JSON object's text, `None` when there are none: as it came when
    /// nothing has changed it, else written from the map.
    pub fn into_json(self) -> Option<String> {
        match (self.text, self.map.into_inner()) {
            (Some(text), _) if &*text == "{}" => None,
            (Some(text), _) => Some(text.into_string()),
            (None, Some(map)) if map.is_empty() => None,
            (None, Some(map)) => serde_json::to_string(&map).ok(),
            (None, None) => None,
        }
    }

    /// [`Extra::into_json`] of a copy.
    pub fn to_json(&self) -> Option<String> {
        match &self.text {
            Some(text) if &**text == "{}" => None,
            Some(text) => Some(text.to_string()),
            None if self.is_empty() => None,
            None => serde_json::to_string(&**self).ok(),
        }
    }

    fn map_mut(&mut self) -> &mut Map<String, Value> {
        if self.map.get().is_none() {
            let map = parse(self.text.as_deref());
            let _ = self.map.set(map);
        }
        // From here on the map is the truth: a change must not be hidden by the text.
        self.text = None;
        self.map
            .get_mut()
            .unwrap_or_else(|| unreachable!("set above"))
    }
}

/// Reads the value of field `.0` of an object, skipping the others unbuilt; the last
/// one when a name is sent twice, as a map would keep.
struct FieldOf<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for FieldOf<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldOf<'_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Option<Value>, A::Error> {
        let mut found = None;
        while let Some(is_it) = map.next_key_seed(IsName(self.0))? {
            if is_it {
                found = Some(map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Is a field's name `.0`? (Compared where it lies in the text, nothing copied.)
struct IsName<'n>(&'n str);

impl<'de> DeserializeSeed<'de> for IsName<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for IsName<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a field name")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<bool, E> {
        Ok(v == self.0)
    }
}

/// `name` as a JSON string. Names are short and almost never need escaping, so the
/// common case is a copy.
fn push_json_string(text: &mut String, name: &str) {
    if name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        text.push_str(&Value::from(name).to_string());
    } else {
        text.push('"');
        text.push_str(name);
        text.push('"');
    }
}

/// `text` is an object `serde_json` wrote ([`Extra::serialize_from`]) or one built from
/// values it read ([`Extra::from_raw_fields`]), so it parses back; should it not, there
/// is nothing to keep.
fn parse(text: Option<&str>) -> Map<String, Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default()
}

impl std::ops::Deref for Extra {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        self.map.get_or_init(|| parse(self.text.as_deref()))
    }
}

impl std::ops::DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        self.map_mut()
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(map: Map<String, Value>) -> Self {
        Self {
            text: None,
            map: OnceLock::from(map),
        }
    }
}

impl PartialEq for Extra {
    /// The same fields and values, however each side holds them.
    fn eq(&self, other: &Self) -> bool {
        match (&self.text, &other.text) {
            (Some(a), Some(b)) if a == b => true,
            _ => **self == **other,
        }
    }
}

impl Eq for Extra {}

impl std::fmt::Debug for Extra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        (**self).fmt(f)
    }
}

impl Serialize for Extra {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(Self::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Serialize)]
    struct Fields {
        kind: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        sequence: Option<u32>,
        creator: Value,
    }

    fn listed() -> Extra {
        Extra::serialize_from(&Fields {
            kind: "calendar#event",
            sequence: Some(2),
            creator: json!({"email": "a@example.com", "self": true}),
        })
        .unwrap_or_default()
    }

    #[test]
    fn serialised_fields_are_stored_as_written_and_read_as_a_map() {
        let extra = listed();
        assert_eq!(extra.get("sequence"), Some(&json!(2)));
        assert_eq!(extra.len(), 3);
        assert_eq!(extra.to_json(), extra.clone().into_json());
        assert_eq!(
            extra.into_json().as_deref(),
            Some(
                r#"{"kind":"calendar#event","sequence":2,"creator":{"email":"a@example.com","self":true}}"#
            )
        );
    }

    #[test]
    fn a_change_is_what_gets_stored() {
        let mut extra = listed();
        let _ = extra.get("kind"); // a read keeps the text
        extra.remove("sequence");
        extra.insert("colorId".into(), json!("5"));
        let stored: Value = serde_json::from_str(&extra.clone().into_json().unwrap_or_default())
            .unwrap_or_default();
        assert_eq!(
            stored,
            json!({"kind": "calendar#event", "colorId": "5",
                   "creator": {"email": "a@example.com", "self": true}})
        );
    }

    #[test]
    fn text_and_map_of_the_same_fields_are_equal_and_serialise_alike() {
        let map = match json!({"creator": {"self": true, "email": "a@example.com"},
                               "sequence": 2, "kind": "calendar#event"})
        {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let given = Extra::from(map.clone());
        assert_eq!(listed(), given);
        assert_ne!(listed(), Extra::default());
        assert_eq!(
            serde_json::to_value(listed()).unwrap_or_default(),
            Value::Object(map.clone())
        );
        let back: Extra = serde_json::from_value(Value::Object(map)).unwrap_or_default();
        assert_eq!(back, given);
    }

    #[test]
    fn raw_fields_are_stored_as_they_came_and_read_as_a_map() {
        let answer = r#"{"id":"x","webLink":"https://o/?a=1&b=\"2\"","a\"b":[1, {"c":null}],"status":{"response":"none"}}"#;
        let fields: std::collections::BTreeMap<String, &RawValue> =
            serde_json::from_str(answer).unwrap_or_default();
        let extra = Extra::from_raw_fields(
            fields
                .iter()
                .filter(|(k, _)| *k != "id")
                .map(|(k, v)| (k.as_str(), *v)),
        );
        // Values as they came, spacing and all; the escaped name written escaped.
        let text = extra.to_json().unwrap_or_default();
        assert!(text.contains(r#""a\"b":[1, {"c":null}]"#), "{text}");
        let expected = json!({"webLink": "https://o/?a=1&b=\"2\"", "a\"b": [1, {"c": null}],
                              "status": {"response": "none"}});
        assert_eq!(Value::Object((*extra).clone()), expected);
        let stored: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(stored, expected);
        assert_eq!(Extra::from_raw_fields([]).into_json(), None);
        // One field read from the text leaves the map unbuilt.
        let extra = Extra::from_raw_fields(fields.iter().map(|(k, v)| (k.as_str(), *v)));
        assert_eq!(extra.field("a\"b"), Some(json!([1, {"c": null}])));
        assert_eq!(extra.field("id"), Some(json!("x")));
        assert_eq!(extra.field("missing"), None);
        assert!(extra.map.get().is_none());
        assert_eq!(extra.get("id"), Some(&json!("x")));
        assert_eq!(extra.field("id"), Some(json!("x")));
    }

    #[test]
    fn no_fields_store_nothing_and_non_objects_are_refused() {
        assert_eq!(Extra::default().into_json(), None);
        assert_eq!(Extra::default().to_json(), None);
        assert_eq!(Extra::from(Map::new()).into_json(), None);
        let empty: Map<String, Value> = Map::new();
        assert_eq!(
            Extra::serialize_from(&empty).map(Extra::into_json).ok(),
            Some(None)
        );
        assert!(Extra::serialize_from(&[1, 2]).is_err());
        assert!(Extra::serialize_from(&"text").is_err());
    }
}
