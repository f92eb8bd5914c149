//! Provider answers read as the text of their parts. An event carries dozens of
//! properties, of which a mapping reads a few; the rest are kept for write-back only.
//! Reading each event as `(name, text of the value)` pairs scans the unread properties
//! once and builds nothing of them: the mapping parses the few it needs, and the kept
//! ones are stored as the text they came as ([`Extra::from_raw_fields`](crate::Extra)).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A JSON object as its properties in the order sent, each value as its JSON text.
/// A name sent twice is kept twice; readers take the last, as a JSON tree would.
#[derive(Debug, Default)]
pub struct RawObject<'a> {
    fields: Vec<(Cow<'a, str>, &'a RawValue)>,
}

impl<'a> RawObject<'a> {
    /// The properties in the order sent.
    pub fn fields(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        self.fields.iter().map(|(k, v)| (&**k, *v))
    }

    /// The last value sent under `name`.
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.fields
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// `name`'s value when it is a string (`None` for any other JSON type).
    pub fn str(&self, name: &str) -> Option<Cow<'a, str>> {
        self.get(name).and_then(text)
    }

    /// `name`'s value when it is an object.
    pub fn object(&self, name: &str) -> Option<RawObject<'a>> {
        self.get(name).and_then(object)
    }
}

/// A JSON object's properties; `None` for other JSON types.
pub fn object(v: &RawValue) -> Option<RawObject<'_>> {
    if !v.get().starts_with('{') {
        return None;
    }
    serde_json::from_str(v.get()).ok()
}

/// A JSON array's items; `None` for other JSON types.
pub fn array(v: &RawValue) -> Option<Vec<&RawValue>> {
    if !v.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(v.get()).ok()
}

/// A JSON `true` or `false`; `None` for other JSON types.
pub fn boolean(v: &RawValue) -> Option<bool> {
    match v.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A JSON string's value, borrowed unless it had escapes; `None` for other JSON types.
pub fn text(v: &RawValue) -> Option<Cow<'_, str>> {
    let raw = v.get();
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        // The parser checked the string when it read the answer: without escapes its
        // value is the text between the quotes.
        return Some(Cow::Borrowed(inner));
    }
    serde_json::from_str::<String>(raw).ok().map(Cow::Owned)
}

impl<'de: 'a, 'a> Deserialize<'de> for RawObject<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

struct ObjectVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ObjectVisitor<'a> {
    type Value = RawObject<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(48));
        while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
            fields.push((name, map.next_value::<&'de RawValue>()?));
        }
        Ok(RawObject { fields })
    }
}

/// A property name, borrowed from the answer unless it had escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameVisitor;
        impl<'de> Visitor<'de> for NameVisitor {
            type Value = Name<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a property name")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(v)))
            }
        }
        d.deserialize_str(NameVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_is_read_as_its_properties_text() {
        let answer =
            r#"{"id":"AAM=","subject":"Caf\u00e9","a\"b":[1, 2],"n":5,"id":"last","q":"\""}"#;
        let o: RawObject = serde_json::from_str(answer).expect("an object");
        let names: Vec<&str> = o.fields().map(|(k, _)| k).collect();
        assert_eq!(names, ["id", "subject", "a\"b", "n", "id", "q"]);
        assert_eq!(o.str("q").as_deref(), Some("\""));
        assert_eq!(o.str("id").as_deref(), Some("last"));
        assert_eq!(o.str("subject").as_deref(), Some("Café"));
        assert_eq!(o.get("a\"b").map(RawValue::get), Some("[1, 2]"));
        assert_eq!(o.str("n"), None);
        assert_eq!(o.str("missing"), None);
        assert!(serde_json::from_str::<RawObject>("[1]").is_err());

        let o: RawObject = serde_json::from_str(
            r#"{"o":{"k":"v"},"a":[1,{"x":true}],"t":true,"f":false,"z":null}"#,
        )
        .expect("an object");
        assert_eq!(o.object("o").and_then(|i| i.str("k")).as_deref(), Some("v"));
        let items = o.get("a").and_then(array).expect("an array");
        assert_eq!(
            items.iter().map(|i| i.get()).collect::<Vec<_>>(),
            ["1", r#"{"x":true}"#]
        );
        assert_eq!(o.get("t").and_then(boolean), Some(true));
        assert_eq!(o.get("f").and_then(boolean), Some(false));
        for other in ["o", "a", "z"] {
            assert_eq!(o.get(other).and_then(boolean), None, "{other}");
        }
        assert!(o.object("a").is_none() && o.object("z").is_none());
        assert!(o.get("o").and_then(array).is_none());
    }
}
