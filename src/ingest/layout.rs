//! Client file layouts: declarative mappings (TOML files in `formats/ingest/`) from a client's
//! column names, date format and value spellings to the canonical fields of each file kind.
//!
//! This module owns loading and checking a mapping and resolving it against a file's header.
//! It must not interpret values beyond the mapping (parsing and checking belong to
//! [`super::row`]); a new client layout is a new mapping file, never new code here.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::dates::DateFormat;
use crate::error::ConfigError;

use super::FileKind;

/// The built-in default layouts (the contract in `formats/README.md`).
const DEFAULT_PORTFOLIO: &str = include_str!("../../formats/ingest/portfolio-default.toml");
const DEFAULT_PAYMENTS: &str = include_str!("../../formats/ingest/payments-default.toml");
const DEFAULT_CONTACT_EVENTS: &str =
    include_str!("../../formats/ingest/contact-events-default.toml");

/// A layout mapping as written in its TOML file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Which file kind the mapping describes.
    pub kind: FileKind,
    /// A short description (who sends files in this layout).
    #[serde(default)]
    pub description: String,
    /// How dates are written (`YYYY-MM-DD`, `MM/DD/YYYY`, `MMDDYYYY`, `YYYYMMDD`).
    #[serde(default = "iso")]
    pub date_format: DateFormat,
    /// Field separator (one ASCII character; default `,`).
    #[serde(default = "comma")]
    pub delimiter: char,
    /// Canonical field name → the client's column name.
    pub columns: BTreeMap<String, String>,
    /// Canonical field name → (client value → canonical value), for fields whose values the
    /// client spells differently (`ACTIVE` → `open`).
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
}

fn iso() -> DateFormat {
    DateFormat::Iso
}

fn comma() -> char {
    ','
}

/// One canonical field of a file kind.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// Canonical name (the default layout's column name).
    pub name: &'static str,
    /// Whether the layout must map it (a value may still be optional per row).
    pub required: bool,
    /// Holds an SSN or a date of birth: masked in rejects files.
    pub pii: Pii,
}

/// Whether a field holds personal identifiers that are masked in rejects files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pii {
    /// Not an identifier.
    No,
    /// An SSN (masked to the last four).
    Ssn,
    /// A date of birth (masked to the year).
    Dob,
}

impl Pii {
    /// Masks a raw cell of this kind.
    pub fn mask(self, raw: &str) -> String {
        match self {
            Pii::No => raw.to_string(),
            Pii::Ssn => crate::pii::mask_ssn(raw),
            Pii::Dob => crate::pii::mask_dob(raw),
        }
    }
}

impl Layout {
    /// Loads the layout `spec` for `kind`: `default` is the built-in default layout; anything
    /// else is a mapping file path, resolved against `base_dir` when relative.
    pub fn load(spec: &str, base_dir: &Path, kind: FileKind) -> Result<Layout, ConfigError> {
        let (text, origin) = if spec == "default" {
            let text = match kind {
                FileKind::Portfolio => DEFAULT_PORTFOLIO,
                FileKind::Payments => DEFAULT_PAYMENTS,
                FileKind::ContactEvents => DEFAULT_CONTACT_EVENTS,
            };
            (text.to_string(), format!("default {} layout", kind.as_str()))
        } else {
            let p = Path::new(spec);
            let p = if p.is_absolute() { p.to_path_buf() } else { base_dir.join(p) };
            let text = std::fs::read_to_string(&p)
                .map_err(|e| ConfigError(format!("cannot read layout {}: {e}", p.display())))?;
            (text, p.display().to_string())
        };
        let layout = Layout::parse(&text, &origin)?;
        if layout.kind != kind {
            return Err(ConfigError(format!(
                "layout {origin} describes {} files, not {} files",
                layout.kind.as_str(),
                kind.as_str()
            )));
        }
        Ok(layout)
    }

    /// Parses and checks a mapping; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Layout, ConfigError> {
        let layout: Layout = toml::from_str(text)
            .map_err(|e| ConfigError(format!("invalid layout {origin}: {e}")))?;
        let specs = layout.kind.fields();
        let known = |name: &str| specs.iter().any(|s| s.name == name);
        for name in layout.columns.keys().chain(layout.values.keys()) {
            if !known(name) {
                let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                return Err(ConfigError(format!(
                    "layout {origin}: unknown field {name:?} for {} files (known: {})",
                    layout.kind.as_str(),
                    names.join(", ")
                )));
            }
        }
        for s in specs.iter().filter(|s| s.required) {
            if !layout.columns.contains_key(s.name) {
                return Err(ConfigError(format!(
                    "layout {origin}: required field {:?} is not mapped to a column",
                    s.name
                )));
            }
        }
        if !layout.delimiter.is_ascii() {
            return Err(ConfigError(format!("layout {origin}: delimiter must be ASCII")));
        }
        Ok(layout)
    }

    /// The delimiter as a byte.
    pub fn delimiter_byte(&self) -> u8 {
        // Checked ASCII in `parse`.
        u8::try_from(u32::from(self.delimiter)).unwrap_or(b',')
    }

    /// Resolves the mapping against a file's header row (names compared after trimming,
    /// case-insensitively). A mapped required column missing from the header is an error.
    pub fn resolve(&self, header: &[String]) -> Result<Resolved, String> {
        let specs = self.kind.fields();
        let mut index = vec![None; specs.len()];
        let mut values = vec![None; specs.len()];
        let mut sensitive = vec![Pii::No; header.len()];
        let mut missing = Vec::new();
        for (i, spec) in specs.iter().enumerate() {
            let Some(col) = self.columns.get(spec.name) else { continue };
            let pos = header.iter().position(|h| h.trim().eq_ignore_ascii_case(col.trim()));
            match pos {
                Some(p) => {
                    index[i] = Some(p);
                    if let Some(s) = sensitive.get_mut(p)
                        && spec.pii != Pii::No
                    {
                        *s = spec.pii;
                    }
                }
                None if spec.required => missing.push(col.clone()),
                None => {}
            }
            if let Some(map) = self.values.get(spec.name) {
                let m: HashMap<String, String> =
                    map.iter().map(|(k, v)| (k.trim().to_uppercase(), v.clone())).collect();
                values[i] = Some(m);
            }
        }
        if !missing.is_empty() {
            return Err(format!("header lacks required column(s) {}", missing.join(", ")));
        }
        Ok(Resolved {
            index,
            values,
            sensitive,
            header: header.to_vec(),
            date_format: self.date_format,
        })
    }
}

/// A layout resolved against one file's header: where each canonical field is.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// Canonical field index → column position in the file.
    pub index: Vec<Option<usize>>,
    /// Canonical field index → value map (keys upper-cased).
    pub values: Vec<Option<HashMap<String, String>>>,
    /// Column position → holds an SSN or DOB (masked in rejects).
    pub sensitive: Vec<Pii>,
    /// The file's header as read.
    pub header: Vec<String>,
    /// Date format of the file.
    pub date_format: DateFormat,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_layouts_load_and_map_every_field() {
        for kind in [FileKind::Portfolio, FileKind::Payments, FileKind::ContactEvents] {
            let l = Layout::load("default", Path::new("."), kind).unwrap();
            assert_eq!(l.kind, kind);
            for s in kind.fields() {
                assert_eq!(l.columns.get(s.name).map(String::as_str), Some(s.name), "{}", s.name);
            }
        }
    }

    #[test]
    fn mapping_errors_are_clear() {
        let e = Layout::parse("kind = \"payments\"\n[columns]\nbogus = \"x\"\n", "t").unwrap_err();
        assert!(e.0.contains("unknown field \"bogus\""), "{}", e.0);
        let e = Layout::parse("kind = \"payments\"\n[columns]\namount = \"x\"\n", "t").unwrap_err();
        assert!(e.0.contains("required field"), "{}", e.0);
        let e = Layout::parse("kind = \"payments\"\ncolumns = {}\nnope = 1\n", "t").unwrap_err();
        assert!(e.0.contains("unknown field `nope`"), "{}", e.0);
        let e = Layout::load("default", Path::new("."), FileKind::Payments).unwrap();
        let r = e.resolve(&["client_id".into(), "amount".into()]).unwrap_err();
        assert!(r.contains("account_number"), "{r}");
    }
}
