//! One input row seen through its layout: typed, checked access to canonical fields.
//!
//! Every accessor either returns a value in canonical form or a [`RowError`] naming the
//! client's column, a bounded error code and a message that never holds an SSN or a date of
//! birth in clear. This module must not touch the database.

use jiff::civil::Date;

use crate::error::ErrorCode;
use crate::money::{Money, parse_amount};
use crate::normalize;
use crate::pii::{Ssn, mask_dob};

use super::layout::Resolved;

/// Why a row was rejected: the column (client's name) when one field is at fault, the code
/// and a message safe to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The client's column name, when one field is at fault.
    pub column: Option<String>,
    /// Bounded error code.
    pub code: ErrorCode,
    /// Message (no SSN or DOB in clear).
    pub message: String,
}

impl RowError {
    /// A row-level error not tied to one column.
    pub fn row(code: &'static str, message: impl Into<String>) -> RowError {
        RowError { column: None, code: ErrorCode(code), message: message.into() }
    }
}

/// The error codes ingest can give a row, for the README table and tests.
pub const ERROR_CODES: &[(&str, &str)] = &[
    ("wrong_field_count", "the row has more or fewer fields than the header"),
    ("invalid_encoding", "a field is not valid UTF-8"),
    ("missing_field", "a required value is empty"),
    ("missing_identifier", "a consumer has neither an SSN nor a date of birth"),
    ("invalid_date", "a date is not a calendar date in the layout's date format"),
    ("invalid_amount", "an amount is not a decimal amount (or is not positive where it must be)"),
    ("invalid_ssn", "not 9 digits, or area 000/666/9xx, group 00 or serial 0000"),
    ("invalid_phone", "not a 10-digit NANP phone number"),
    ("invalid_zip", "not a 5- or 9-digit ZIP code"),
    ("invalid_state", "not a USPS state or territory code"),
    ("invalid_email", "not an e-mail address"),
    ("invalid_status", "account status not open, paid, settled, recalled or closed"),
    ("invalid_flag", "a Y/N field holds something else"),
    ("invalid_creditor_class", "creditor classification not 01-15"),
    ("medical_class_mismatch", "medical = Y with a class other than 02, or class 02 with N"),
    ("invalid_generation", "generation code not JR, SR, II-IX or J, S, 2-9"),
    ("invalid_ecoa", "ECOA code not 1, 2, 3, 5, 7, T, W, X or Z"),
    ("paid_with_balance", "status paid with a balance above zero"),
    ("invalid_kind", "payment or contact-event kind not in the documented list"),
    ("invalid_detail", "a contact event's detail does not fit its kind (bankruptcy chapter)"),
    ("unknown_client", "client_id is not a configured client"),
    ("unknown_account", "no account with this client and account number"),
];

/// A data row and the resolved layout it is read with.
pub struct Row<'a> {
    fields: &'a csv::StringRecord,
    layout: &'a Resolved,
}

impl<'a> Row<'a> {
    /// Wraps a record.
    pub fn new(fields: &'a csv::StringRecord, layout: &'a Resolved) -> Row<'a> {
        Row { fields, layout }
    }

    /// The client's column name for canonical field `f`.
    fn column(&self, f: usize) -> Option<String> {
        let pos = self.layout.index.get(f).copied().flatten()?;
        self.layout.header.get(pos).map(|h| h.trim().to_string())
    }

    /// An error on canonical field `f`.
    pub fn err(&self, f: usize, code: &'static str, message: impl Into<String>) -> RowError {
        RowError { column: self.column(f), code: ErrorCode(code), message: message.into() }
    }

    /// The trimmed value of field `f` after the layout's value map; `None` when the field is
    /// unmapped or the cell is empty.
    pub fn get(&self, f: usize) -> Option<&'a str> {
        let pos = self.layout.index.get(f).copied().flatten()?;
        let v = self.fields.get(pos)?.trim();
        if v.is_empty() {
            return None;
        }
        if let Some(Some(map)) = self.layout.values.get(f) {
            // Value maps are small; the upper-cased key is only built when one exists.
            if let Some(mapped) = map.get(&v.to_uppercase()) {
                return Some(mapped.as_str());
            }
        }
        Some(v)
    }

    /// A required value.
    pub fn req(&self, f: usize, name: &str) -> Result<&'a str, RowError> {
        self.get(f).ok_or_else(|| self.err(f, "missing_field", format!("{name} is required")))
    }

    /// An optional date in the layout's date format.
    pub fn date(&self, f: usize) -> Result<Option<Date>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        self.layout
            .date_format
            .parse(v)
            .map(Some)
            .map_err(|e| self.err(f, "invalid_date", e.to_string()))
    }

    /// A required date.
    pub fn req_date(&self, f: usize, name: &str) -> Result<Date, RowError> {
        self.req(f, name)?;
        self.date(f)?.ok_or_else(|| self.err(f, "missing_field", format!("{name} is required")))
    }

    /// An optional date of birth (the message masks the text).
    pub fn dob(&self, f: usize) -> Result<Option<Date>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        self.layout.date_format.parse(v).map(Some).map_err(|_| {
            self.err(
                f,
                "invalid_date",
                format!(
                    "unparseable date of birth {} (expected {})",
                    mask_dob(v),
                    self.layout.date_format.pattern()
                ),
            )
        })
    }

    /// An optional amount.
    pub fn amount(&self, f: usize) -> Result<Option<Money>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        parse_amount(v).map(Some).map_err(|e| self.err(f, "invalid_amount", e.to_string()))
    }

    /// A required amount.
    pub fn req_amount(&self, f: usize, name: &str) -> Result<Money, RowError> {
        self.req(f, name)?;
        self.amount(f)?.ok_or_else(|| self.err(f, "missing_field", format!("{name} is required")))
    }

    /// An optional SSN (the message never echoes the value).
    pub fn ssn(&self, f: usize) -> Result<Option<Ssn>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        Ssn::parse(v).map(Some).map_err(|e| self.err(f, "invalid_ssn", format!("SSN {e}")))
    }

    /// An optional phone number, normalised to 10 digits.
    pub fn phone(&self, f: usize) -> Result<Option<String>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        normalize::phone10(v).map(Some).map_err(|e| self.err(f, "invalid_phone", e.to_string()))
    }

    /// An optional e-mail address, lower-cased.
    pub fn email(&self, f: usize) -> Result<Option<String>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        check_email(v).map(Some).map_err(|m| self.err(f, "invalid_email", m))
    }

    /// An optional Y/N flag.
    pub fn flag(&self, f: usize) -> Result<Option<bool>, RowError> {
        let Some(v) = self.get(f) else { return Ok(None) };
        match v.to_ascii_uppercase().as_str() {
            "Y" | "YES" | "1" | "TRUE" => Ok(Some(true)),
            "N" | "NO" | "0" | "FALSE" => Ok(Some(false)),
            _ => Err(self.err(f, "invalid_flag", format!("expected Y or N, got {v:?}"))),
        }
    }
}

/// Upper-cases and collapses whitespace in a name or address line.
pub fn clean_text(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let ascii = v.is_ascii();
    for word in v.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if ascii {
            out.push_str(word);
        } else {
            for c in word.chars() {
                out.extend(c.to_uppercase());
            }
        }
    }
    if ascii {
        // ASCII letters upper-case one to one (most names and addresses): one pass.
        out.make_ascii_uppercase();
    }
    out
}

/// Checks an e-mail address loosely (one `@`, a dot in the domain, no spaces) and
/// lower-cases it.
pub fn check_email(v: &str) -> Result<String, String> {
    let v = v.trim();
    let bad = || format!("invalid e-mail address {v:?}");
    let (local, domain) = v.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || v.chars().any(char::is_whitespace)
    {
        return Err(bad());
    }
    Ok(v.to_ascii_lowercase())
}

/// Metro 2 generation code from `JR`, `SR`, `II`-`IX` or `J`, `S`, `2`-`9`.
pub fn generation_code(v: &str) -> Option<&'static str> {
    let t = v.trim().trim_end_matches('.').to_ascii_uppercase();
    Some(match t.as_str() {
        "JR" | "J" => "J",
        "SR" | "S" => "S",
        "II" | "2" => "2",
        "III" | "3" => "3",
        "IV" | "4" => "4",
        "V" | "5" => "5",
        "VI" | "6" => "6",
        "VII" | "7" => "7",
        "VIII" | "8" => "8",
        "IX" | "9" => "9",
        _ => return None,
    })
}

/// A Metro 2 ECOA code for an associated consumer.
pub fn ecoa_code(v: &str) -> Option<&'static str> {
    const CODES: &[&str] = &["1", "2", "3", "5", "7", "T", "W", "X", "Z"];
    let t = v.trim().to_ascii_uppercase();
    CODES.iter().copied().find(|c| *c == t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_normalisers() {
        assert_eq!(clean_text("  mary  ann\tO'neil "), "MARY ANN O'NEIL");
        assert_eq!(clean_text("a\u{b}b\u{c}c\r\nd"), "A B C D");
        assert_eq!(clean_text(" josé\u{a0} peña straße "), "JOSÉ PEÑA STRASSE");
        assert_eq!(check_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in ["ann", "@x.com", "a@b", "a@@b.com", "a b@c.com", "a@.com"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert_eq!(generation_code("Jr."), Some("J"));
        assert_eq!(generation_code("iii"), Some("3"));
        assert_eq!(generation_code("X"), None);
        assert_eq!(ecoa_code("w"), Some("W"));
        assert_eq!(ecoa_code("4"), None);
    }
}
