//! Source layouts as data: a mapping file (`formats/sources/*.toml`) names, for each field of
//! the locate data model, where a source's own layout keeps it — a CSV column, an XML path
//! relative to the record element, or a JSON pointer relative to the record object.
//!
//! Readers (`sources::csv`, `sources::xml`, `sources::api`) turn a source record into a
//! [`FlatRecord`] (canonical field name → raw text) using the mapping; [`to_locate_record`]
//! then checks and converts it into a [`LocateRecord`], or explains which field is wrong with
//! a bounded error code. This module knows no file format and does no I/O beyond loading the
//! mapping file; it must never put an SSN or DOB in clear into an error message.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::civil::Date;
use serde::Deserialize;

use crate::dates::DateFormat;
use crate::error::{ConfigError, ErrorCode};
use crate::locate::ncoa;
use crate::locate::record::{
    AddressHit, BankruptcyHit, DeceasedHit, LocateRecord, MoveType, PersonName, PhoneHit,
    PostalAddress, SsnEvidence,
};
use crate::pii::{Ssn, mask_dob, mask_ssn};

/// How the source's records are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// CSV with a header row; fields name columns.
    Csv,
    /// XML; fields are paths relative to the record element (`Name/@first`, `SSN`, `.`).
    Xml,
    /// JSON; fields are JSON pointers relative to the record object (`/name/first`).
    Json,
}

/// A source layout: one `formats/sources/<name>.toml` file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Encoding of the records.
    pub format: Format,
    /// XML: the record element's name. JSON: pointer to the array of records (empty: the
    /// whole document is one record, or an array of records). Unused for CSV.
    #[serde(default)]
    pub record: String,
    /// Format of every date field.
    #[serde(default = "default_date_format")]
    pub date_format: DateFormat,
    /// Fields of the record itself.
    #[serde(default)]
    pub fields: RecordFields,
    /// Reported addresses (repeated in XML/JSON; one per row in CSV).
    pub address: Option<AddressGroup>,
    /// Reported phones.
    pub phone: Option<PhoneGroup>,
    /// Reported e-mail addresses.
    pub email: Option<EmailGroup>,
    /// API sources: names of the request parameters for each query field.
    #[serde(default)]
    pub request: RequestFields,
}

fn default_date_format() -> DateFormat {
    DateFormat::Iso
}

/// Where each record-level field lives. Every key is optional; absent means "not given by
/// this source".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // The keys are the data model's field names, documented in the README.
pub struct RecordFields {
    pub record_id: Option<String>,
    pub reference: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub suffix: Option<String>,
    pub ssn: Option<String>,
    pub ssn_last4: Option<String>,
    pub dob: Option<String>,
    pub old_address1: Option<String>,
    pub old_address2: Option<String>,
    pub old_city: Option<String>,
    pub old_state: Option<String>,
    pub old_zip: Option<String>,
    pub return_code: Option<String>,
    pub move_type: Option<String>,
    pub move_effective_date: Option<String>,
    pub deceased: Option<String>,
    pub deceased_date: Option<String>,
    pub bankruptcy_chapter: Option<String>,
    pub bankruptcy_date: Option<String>,
    pub bankruptcy_status: Option<String>,
}

impl RecordFields {
    /// (canonical field, where the source keeps it) for every mapped field.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        let all: [(&'static str, &Option<String>); 22] = [
            ("record_id", &self.record_id),
            ("reference", &self.reference),
            ("first_name", &self.first_name),
            ("middle_name", &self.middle_name),
            ("last_name", &self.last_name),
            ("suffix", &self.suffix),
            ("ssn", &self.ssn),
            ("ssn_last4", &self.ssn_last4),
            ("dob", &self.dob),
            ("old_address1", &self.old_address1),
            ("old_address2", &self.old_address2),
            ("old_city", &self.old_city),
            ("old_state", &self.old_state),
            ("old_zip", &self.old_zip),
            ("return_code", &self.return_code),
            ("move_type", &self.move_type),
            ("move_effective_date", &self.move_effective_date),
            ("deceased", &self.deceased),
            ("deceased_date", &self.deceased_date),
            ("bankruptcy_chapter", &self.bankruptcy_chapter),
            ("bankruptcy_date", &self.bankruptcy_date),
            ("bankruptcy_status", &self.bankruptcy_status),
        ];
        all.into_iter().filter_map(|(k, v)| v.as_deref().map(|p| (k, p))).collect()
    }
}

/// Where the fields of one reported address live.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // Data model field names, documented in the README.
pub struct AddressGroup {
    /// XML: child element of the record holding one address; JSON: pointer to the array.
    pub element: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

/// Where the fields of one reported phone live.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // Data model field names, documented in the README.
pub struct PhoneGroup {
    /// XML: child element of the record holding one phone; JSON: pointer to the array.
    pub element: Option<String>,
    pub number: Option<String>,
    pub line_type: Option<String>,
    pub score: Option<String>,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
}

/// Where one reported e-mail address lives.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailGroup {
    /// XML: child element of the record holding one e-mail; JSON: pointer to the array.
    pub element: Option<String>,
    /// The address itself (`.` for the element's text).
    pub address: Option<String>,
}

/// Request parameter names of an API source (JSON body keys for POST, query parameters for
/// GET). Unnamed fields are not sent.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs)] // Data model field names, documented in the README.
pub struct RequestFields {
    pub reference: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub last_name: Option<String>,
    pub suffix: Option<String>,
    pub ssn: Option<String>,
    pub dob: Option<String>,
    pub address1: Option<String>,
    pub address2: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub phone: Option<String>,
}

impl AddressGroup {
    /// (canonical field, location) pairs.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        let all: [(&'static str, &Option<String>); 7] = [
            ("line1", &self.line1),
            ("line2", &self.line2),
            ("city", &self.city),
            ("state", &self.state),
            ("zip", &self.zip),
            ("first_seen", &self.first_seen),
            ("last_seen", &self.last_seen),
        ];
        all.into_iter().filter_map(|(k, v)| v.as_deref().map(|p| (k, p))).collect()
    }
}

impl PhoneGroup {
    /// (canonical field, location) pairs.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        let all: [(&'static str, &Option<String>); 5] = [
            ("number", &self.number),
            ("line_type", &self.line_type),
            ("score", &self.score),
            ("first_seen", &self.first_seen),
            ("last_seen", &self.last_seen),
        ];
        all.into_iter().filter_map(|(k, v)| v.as_deref().map(|p| (k, p))).collect()
    }
}

impl EmailGroup {
    /// (canonical field, location) pairs.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        self.address.as_deref().map(|p| vec![("address", p)]).unwrap_or_default()
    }
}

impl Mapping {
    /// Loads and checks a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read mapping {}: {e}", path.display())))?;
        let m: Mapping = toml::from_str(&text)
            .map_err(|e| ConfigError(format!("invalid mapping {}: {e}", path.display())))?;
        m.check().map_err(|e| ConfigError(format!("invalid mapping {}: {e}", path.display())))?;
        Ok(m)
    }

    fn check(&self) -> Result<(), String> {
        if self.fields.last_name.is_none() {
            return Err("`fields.last_name` is required".into());
        }
        if self.format == Format::Xml && self.record.trim().is_empty() {
            return Err("`record` (the record element) is required for XML".into());
        }
        if self.format != Format::Csv {
            let groups = [
                ("address", self.address.as_ref().map(|g| &g.element)),
                ("phone", self.phone.as_ref().map(|g| &g.element)),
                ("email", self.email.as_ref().map(|g| &g.element)),
            ];
            for (name, element) in groups {
                if let Some(None) = element {
                    return Err(format!("`{name}.element` is required for XML and JSON"));
                }
            }
        }
        Ok(())
    }

    /// Every (group, canonical field, CSV column) the mapping names; the group is `address`,
    /// `phone`, `email` or `None` for record-level fields.
    pub fn csv_columns(&self) -> Vec<(Option<&'static str>, &'static str, &str)> {
        let mut out: Vec<(Option<&'static str>, &'static str, &str)> =
            self.fields.entries().into_iter().map(|(k, c)| (None, k, c)).collect();
        let groups: [(&'static str, Vec<(&'static str, &str)>); 3] = [
            ("address", self.address.as_ref().map(AddressGroup::entries).unwrap_or_default()),
            ("phone", self.phone.as_ref().map(PhoneGroup::entries).unwrap_or_default()),
            ("email", self.email.as_ref().map(EmailGroup::entries).unwrap_or_default()),
        ];
        for (g, entries) in groups {
            out.extend(entries.into_iter().map(|(k, c)| (Some(g), k, c)));
        }
        out
    }
}

/// One source record, flattened to canonical field names and raw text, with its position.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FlatRecord {
    /// 1-based record number within the source file or response.
    pub record: u64,
    /// 1-based line where the record starts (0 when unknown).
    pub line: u64,
    /// Byte offset where the record starts.
    pub byte: u64,
    /// Record-level fields. A key present with an empty value means "element present".
    pub fields: BTreeMap<&'static str, String>,
    /// One map per reported address.
    pub addresses: Vec<BTreeMap<&'static str, String>>,
    /// One map per reported phone.
    pub phones: Vec<BTreeMap<&'static str, String>>,
    /// One map per reported e-mail.
    pub emails: Vec<BTreeMap<&'static str, String>>,
}

impl FlatRecord {
    fn get(&self, k: &str) -> Option<&str> {
        self.fields.get(k).map(|s| s.trim()).filter(|s| !s.is_empty())
    }
}

/// Why a flat record could not become a [`LocateRecord`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Canonical field (`dob`, `phone.number`, ...).
    pub field: String,
    /// Bounded error code.
    pub code: ErrorCode,
    /// Message; SSN and DOB values masked.
    pub message: String,
}

fn ferr(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), code: ErrorCode(code), message: message.into() }
}

/// Parses an optional date field of the mapping's format.
type DateFn<'a> = dyn Fn(&str, Option<&str>) -> Result<Option<Date>, FieldError> + 'a;

/// What kind of source the record came from (decides NCOA interpretation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A change-of-address result: return code and move type are interpreted.
    Ncoa,
    /// A vendor result.
    Vendor,
}

/// Checks and converts a flat record. `fallback_id` is used when the layout has no record id.
pub fn to_locate_record(
    flat: &FlatRecord,
    source: &str,
    mapping: &Mapping,
    kind: RecordKind,
    fallback_id: &str,
) -> Result<LocateRecord, FieldError> {
    let fmt = mapping.date_format;
    let date = |field: &str, text: Option<&str>| -> Result<Option<Date>, FieldError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => fmt.parse(t).map(Some).map_err(|e| {
                ferr(field, "invalid_date", format!("{e}").replace(t, &format!("{t:?}")))
            }),
        }
    };
    let source_record_id = match (mapping.fields.record_id.is_some(), flat.get("record_id")) {
        (true, Some(id)) => id.to_string(),
        (true, None) => return Err(ferr("record_id", "missing_record_id", "record id is blank")),
        (false, _) => fallback_id.to_string(),
    };
    let name = PersonName {
        first: flat.get("first_name").unwrap_or_default().to_string(),
        middle: flat.get("middle_name").unwrap_or_default().to_string(),
        last: flat.get("last_name").unwrap_or_default().to_string(),
        suffix: flat.get("suffix").unwrap_or_default().to_string(),
    };
    if name.last.is_empty() {
        return Err(ferr("last_name", "missing_name", "last name is blank"));
    }
    let ssn = parse_ssn(flat.get("ssn"), flat.get("ssn_last4"))?;
    let dob = match flat.get("dob") {
        None => None,
        Some(t) => Some(fmt.parse(t).map_err(|_| {
            ferr(
                "dob",
                "invalid_dob",
                format!("unparseable date of birth {} (expected {})", mask_dob(t), fmt.pattern()),
            )
        })?),
    };
    let known_address = address_from(
        &|k| if k == "line1" { "old_address1".into() } else { format!("old_{k}") },
        flat.get("old_address1"),
        flat.get("old_address2"),
        flat.get("old_city"),
        flat.get("old_state"),
        flat.get("old_zip"),
    )?;
    let mut addresses = Vec::new();
    for (i, a) in flat.addresses.iter().enumerate() {
        let g = |k: &str| a.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let field = |k: &str| {
            if flat.addresses.len() > 1 {
                format!("address[{}].{k}", i + 1)
            } else {
                format!("address.{k}")
            }
        };
        let Some(address) =
            address_from(&field, g("line1"), g("line2"), g("city"), g("state"), g("zip"))?
        else {
            continue;
        };
        addresses.push(AddressHit {
            address,
            first_seen: date(&field("first_seen"), g("first_seen"))?,
            last_seen: date(&field("last_seen"), g("last_seen"))?,
        });
    }
    let mut phones = Vec::new();
    for p in &flat.phones {
        let g = |k: &str| p.get(k).map(|s| s.trim()).filter(|s| !s.is_empty());
        let Some(raw) = g("number") else { continue };
        let number = crate::normalize::phone10(raw)
            .map_err(|e| ferr("phone.number", "invalid_phone", format!("{e}: {raw:?}")))?;
        let vendor_score = match g("score") {
            None => None,
            Some(s) => match s.parse::<u8>() {
                Ok(v) if v <= 100 => Some(v),
                _ => {
                    return Err(ferr(
                        "phone.score",
                        "invalid_score",
                        format!("score {s:?} is not 0-100"),
                    ));
                }
            },
        };
        phones.push(PhoneHit {
            number,
            line_type: g("line_type").map(|s| s.to_ascii_lowercase()),
            vendor_score,
            first_seen: date("phone.first_seen", g("first_seen"))?,
            last_seen: date("phone.last_seen", g("last_seen"))?,
        });
    }
    let mut emails = Vec::new();
    for e in &flat.emails {
        let Some(raw) = e.get("address").map(|s| s.trim()).filter(|s| !s.is_empty()) else {
            continue;
        };
        let ok = raw.split_once('@').is_some_and(|(u, d)| {
            !u.is_empty()
                && d.contains('.')
                && !d.starts_with('.')
                && !raw.contains(char::is_whitespace)
        });
        if !ok {
            return Err(ferr(
                "email.address",
                "invalid_email",
                format!("not an e-mail address: {raw:?}"),
            ));
        }
        emails.push(raw.to_ascii_lowercase());
    }
    let deceased_date = date("deceased_date", flat.get("deceased_date"))?;
    let deceased_flag = flat.fields.get("deceased").is_some_and(|v| {
        !matches!(v.trim().to_ascii_uppercase().as_str(), "N" | "NO" | "0" | "FALSE")
            && (mapping.format != Format::Csv || !v.trim().is_empty())
    });
    let deceased =
        (deceased_flag || deceased_date.is_some()).then_some(DeceasedHit { date: deceased_date });
    let bankruptcy = parse_bankruptcy(flat, &date)?;
    let mut rec = LocateRecord {
        source: source.to_string(),
        source_record_id,
        reference: flat.get("reference").map(str::to_string),
        name,
        ssn,
        dob,
        known_address,
        addresses,
        phones,
        emails,
        deceased,
        bankruptcy,
        ..LocateRecord::default()
    };
    if kind == RecordKind::Ncoa {
        ncoa_fields(flat, &mut rec, &date)?;
    }
    Ok(rec)
}

fn parse_ssn(full: Option<&str>, last4: Option<&str>) -> Result<SsnEvidence, FieldError> {
    if let Some(t) = full {
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        let clean = t.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
        return match (clean, digits.len()) {
            (true, 9) => Ok(Ssn::parse(&digits).map(SsnEvidence::Full).unwrap_or_default()),
            (true, 4) => Ok(SsnEvidence::Last4(digits)),
            _ => {
                Err(ferr("ssn", "invalid_ssn", format!("SSN {} is not 9 or 4 digits", mask_ssn(t))))
            }
        };
    }
    if let Some(t) = last4 {
        let t = t.trim();
        if t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(SsnEvidence::Last4(t.to_string()));
        }
        return Err(ferr(
            "ssn_last4",
            "invalid_ssn",
            format!("SSN last four {} is not 4 digits", mask_ssn(t)),
        ));
    }
    Ok(SsnEvidence::Missing)
}

fn address_from(
    f: &dyn Fn(&str) -> String,
    line1: Option<&str>,
    line2: Option<&str>,
    city: Option<&str>,
    state: Option<&str>,
    zip: Option<&str>,
) -> Result<Option<PostalAddress>, FieldError> {
    if [line1, line2, city, state, zip].iter().all(Option::is_none) {
        return Ok(None);
    }
    let (Some(line1), Some(city), Some(state), Some(zip)) = (line1, city, state, zip) else {
        return Err(ferr(
            f("line1"),
            "incomplete_address",
            "an address needs line 1, city, state and ZIP",
        ));
    };
    let state = crate::normalize::state(state)
        .map_err(|e| ferr(f("state"), "invalid_state", e.to_string()))?;
    let zip =
        crate::normalize::zip(zip).map_err(|e| ferr(f("zip"), "invalid_zip", e.to_string()))?;
    Ok(Some(normalize_address(&PostalAddress {
        line1: line1.to_string(),
        line2: line2.unwrap_or_default().to_string(),
        city: city.to_string(),
        state,
        zip,
    })))
}

/// Canonical form of an address for storage and comparison: upper case, single spaces.
pub fn normalize_address(a: &PostalAddress) -> PostalAddress {
    let clean = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_uppercase();
    PostalAddress {
        line1: clean(&a.line1),
        line2: clean(&a.line2),
        city: clean(&a.city),
        state: clean(&a.state),
        zip: a.zip.trim().to_string(),
    }
}

fn parse_bankruptcy(
    flat: &FlatRecord,
    date: &DateFn<'_>,
) -> Result<Option<BankruptcyHit>, FieldError> {
    let chapter = flat.get("bankruptcy_chapter");
    let filed = date("bankruptcy_date", flat.get("bankruptcy_date"))?;
    let status = flat.get("bankruptcy_status").map(str::to_ascii_lowercase);
    if chapter.is_none() && filed.is_none() && status.is_none() {
        return Ok(None);
    }
    if let Some(c) = chapter
        && !matches!(c, "7" | "11" | "12" | "13")
    {
        return Err(ferr(
            "bankruptcy_chapter",
            "invalid_chapter",
            format!("chapter {c:?} is not 7, 11, 12 or 13"),
        ));
    }
    if let Some(s) = &status
        && !matches!(s.as_str(), "petition" | "discharged" | "dismissed" | "withdrawn")
    {
        return Err(ferr(
            "bankruptcy_status",
            "invalid_bankruptcy_status",
            format!("status {s:?} is not petition, discharged, dismissed or withdrawn"),
        ));
    }
    Ok(Some(BankruptcyHit { chapter: chapter.map(str::to_string), filed, status }))
}

fn ncoa_fields(
    flat: &FlatRecord,
    rec: &mut LocateRecord,
    date: &DateFn<'_>,
) -> Result<(), FieldError> {
    let code = flat
        .get("return_code")
        .ok_or_else(|| ferr("return_code", "missing_return_code", "NCOA return code is blank"))?
        .to_ascii_uppercase();
    let Some(action) = ncoa::classify(&code) else {
        return Err(ferr(
            "return_code",
            "unknown_return_code",
            format!("unknown NCOALink return code {code:?}"),
        ));
    };
    rec.move_effective = date("move_effective_date", flat.get("move_effective_date"))?;
    rec.move_type = match flat.get("move_type").map(str::to_ascii_uppercase).as_deref() {
        None => None,
        Some("I") => Some(MoveType::Individual),
        Some("F") => Some(MoveType::Family),
        Some("B") => Some(MoveType::Business),
        Some(other) => {
            return Err(ferr(
                "move_type",
                "invalid_move_type",
                format!("move type {other:?} is not I, F or B"),
            ));
        }
    };
    match action {
        ncoa::Action::NewAddress => {
            if rec.addresses.is_empty() {
                return Err(ferr(
                    "address",
                    "incomplete_address",
                    format!("return code {code} needs a new address"),
                ));
            }
            if rec.move_type.is_none() {
                return Err(ferr(
                    "move_type",
                    "missing_move_type",
                    format!("return code {code} needs a move type"),
                ));
            }
            for a in &mut rec.addresses {
                if a.first_seen.is_none() {
                    a.first_seen = rec.move_effective;
                }
            }
        }
        // A new address given with a code that carries none is not trusted.
        ncoa::Action::OldAddressBad | ncoa::Action::NoAction => rec.addresses.clear(),
    }
    if rec.known_address.is_none() {
        return Err(ferr(
            "old_address1",
            "incomplete_address",
            "NCOA record without its input address",
        ));
    }
    rec.ncoa_return_code = Some(code);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vendor_csv_mapping() -> Mapping {
        let p =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("formats/sources/vendor-csv-default.toml");
        Mapping::load(&p).unwrap()
    }

    fn flat(fields: &[(&'static str, &str)]) -> FlatRecord {
        FlatRecord {
            record: 1,
            line: 2,
            fields: fields.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            ..FlatRecord::default()
        }
    }

    #[test]
    fn converts_and_masks_errors() {
        let m = vendor_csv_mapping();
        let mut f = flat(&[
            ("record_id", "V1"),
            ("first_name", "Ann"),
            ("last_name", "Lee"),
            ("ssn", "123-45-6789"),
            ("dob", "1980-03-07"),
        ]);
        f.phones.push(
            [("number", "(512) 555-0100"), ("score", "87")]
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
        );
        f.addresses.push(
            [("line1", " 12  main st "), ("city", "Austin"), ("state", "tx"), ("zip", "78701")]
                .into_iter()
                .map(|(k, v)| (k, v.to_string()))
                .collect(),
        );
        let r = to_locate_record(&f, "v", &m, RecordKind::Vendor, "x").unwrap();
        assert_eq!(r.source_record_id, "V1");
        assert!(matches!(r.ssn, SsnEvidence::Full(_)));
        assert_eq!(r.phones[0].number, "5125550100");
        assert_eq!(r.phones[0].vendor_score, Some(87));
        assert_eq!(r.addresses[0].address.line1, "12 MAIN ST");
        assert_eq!(r.addresses[0].address.state, "TX");

        f.fields.insert("dob", "1980-13-07".into());
        let e = to_locate_record(&f, "v", &m, RecordKind::Vendor, "x").unwrap_err();
        assert_eq!((e.field.as_str(), e.code.as_str()), ("dob", "invalid_dob"));
        assert!(!e.message.contains("13-07"), "{}", e.message);

        f.fields.insert("dob", "1980-03-07".into());
        f.fields.insert("ssn", "12345678".into());
        let e = to_locate_record(&f, "v", &m, RecordKind::Vendor, "x").unwrap_err();
        assert_eq!(e.code.as_str(), "invalid_ssn");
        assert!(!e.message.contains("1234"), "{}", e.message);

        f.fields.insert("ssn", "6789".into());
        assert_eq!(
            to_locate_record(&f, "v", &m, RecordKind::Vendor, "x").unwrap().ssn,
            SsnEvidence::Last4("6789".into())
        );
    }
}
