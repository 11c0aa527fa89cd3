//! JSON responses (API sources): the mapping's `record` is a JSON pointer to the array of
//! records (empty: the document itself is a record or an array of records); fields are
//! pointers relative to a record, groups are pointers to arrays of objects.
//!
//! Only flattening lives here; checking values is `mapping::to_locate_record`'s job.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::locate::mapping::{FlatRecord, Mapping};

/// Why a JSON document does not have the mapped shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShapeError(pub String);

fn text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(true) => Some("Y".into()),
        Value::Bool(false) => Some("N".into()),
        Value::Number(n) => Some(n.to_string()),
        // An object or array where a value is expected (`"deceased": {"date": ...}`): present
        // when it holds anything but nulls and `false`.
        Value::Object(m) => {
            m.values().any(|v| !matches!(v, Value::Null | Value::Bool(false))).then(String::new)
        }
        Value::Array(a) => (!a.is_empty()).then(String::new),
    }
}

fn pointer(p: &str) -> String {
    let p = p.trim();
    if p.is_empty() || p.starts_with('/') { p.to_string() } else { format!("/{p}") }
}

/// The records of a parsed JSON document, flattened.
pub fn flatten(doc: &Value, m: &Mapping) -> Result<Vec<FlatRecord>, ShapeError> {
    let root = if m.record.trim().is_empty() {
        doc
    } else {
        doc.pointer(&pointer(&m.record)).ok_or_else(|| {
            ShapeError(format!("the response has no `{}` (the mapped record list)", m.record))
        })?
    };
    let items: Vec<&Value> = match root {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![root],
        Value::Null => Vec::new(),
        _ => return Err(ShapeError(format!("`{}` is not an object or an array", m.record))),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        if !item.is_object() {
            return Err(ShapeError(format!("record {} is not an object", i + 1)));
        }
        let mut flat = FlatRecord { record: i as u64 + 1, ..FlatRecord::default() };
        for (k, p) in m.fields.entries() {
            if let Some(v) = item.pointer(&pointer(p)).and_then(text) {
                flat.fields.insert(k, v);
            }
        }
        let group = |element: Option<&String>,
                     entries: Vec<(&'static str, &str)>|
         -> Result<Vec<BTreeMap<&'static str, String>>, ShapeError> {
            let Some(element) = element else { return Ok(Vec::new()) };
            let list = match item.pointer(&pointer(element)) {
                None | Some(Value::Null) => return Ok(Vec::new()),
                Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
                Some(v) => vec![v],
            };
            let mut res = Vec::new();
            for g in list {
                let mut values = BTreeMap::new();
                for (k, p) in &entries {
                    let v = if p.trim() == "." { Some(g) } else { g.pointer(&pointer(p)) };
                    if let Some(v) = v.and_then(text) {
                        values.insert(*k, v);
                    }
                }
                res.push(values);
            }
            Ok(res)
        };
        flat.addresses = group(
            m.address.as_ref().and_then(|g| g.element.as_ref()),
            m.address.as_ref().map(|g| g.entries()).unwrap_or_default(),
        )?;
        flat.phones = group(
            m.phone.as_ref().and_then(|g| g.element.as_ref()),
            m.phone.as_ref().map(|g| g.entries()).unwrap_or_default(),
        )?;
        flat.emails = group(
            m.email.as_ref().and_then(|g| g.element.as_ref()),
            m.email.as_ref().map(|g| g.entries()).unwrap_or_default(),
        )?;
        out.push(flat);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_the_default_api_layout() {
        let m = Mapping::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("formats/sources/vendor-api-json.toml"),
        )
        .unwrap();
        let doc: Value = serde_json::from_str(
            r#"{"subjects":[{"id":"R1","name":{"first":"ANN","last":"LEE"},"ssn":"123456789",
            "addresses":[{"line1":"1 A ST","city":"X","state":"TX","zip":"75001"}],
            "phones":[{"number":"5125550100","type":"mobile","score":90}],
            "emails":["a@b.com"],"deceased":{"date":null},
            "bankruptcy":{"chapter":"7","filed":"2026-01-02"}}]}"#,
        )
        .unwrap();
        let f = flatten(&doc, &m).unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].fields["record_id"], "R1");
        assert_eq!(f[0].phones[0]["score"], "90");
        assert_eq!(f[0].emails[0]["address"], "a@b.com");
        assert_eq!(f[0].addresses[0]["city"], "X");
        // `{"date": null}` says nothing: no deceased indicator.
        assert!(!f[0].fields.contains_key("deceased"));
        assert_eq!(f[0].fields["bankruptcy_chapter"], "7");
        let bad: Value = serde_json::from_str(r#"{"subjects": 3}"#).unwrap();
        assert!(flatten(&bad, &m).is_err());
    }
}
