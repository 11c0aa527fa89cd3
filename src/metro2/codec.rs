//! Field codecs of the character format: bytes to typed values and back.
//!
//! Decoding never panics and never allocates past the first record when the caller reuses
//! its values; encoding never truncates (an over-long value is a [`FieldError`]). Text is
//! upper-case ASCII (names transliterated with `deunicode`) in [`TextMode::Normalize`], or
//! written exactly as given in [`TextMode::Preserve`] (used by `convert` to reproduce a file
//! byte for byte). This module knows field types, not fields: the layouts live in
//! [`super::layout`].

use std::fmt;

use jiff::civil::{Date, DateTime};

use super::layout::FieldSpec;

/// How the writer treats alphanumeric values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextMode {
    /// Upper-case, transliterate non-ASCII (`Müller` → `MULLER`). The default for furnishing.
    #[default]
    Normalize,
    /// Write exactly what is given; anything but printable ASCII is an error.
    Preserve,
}

/// What is wrong with one field of an input record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssueKind {
    /// The record ends before this field.
    Truncated,
    /// A byte outside printable ASCII.
    NotAscii,
    /// A numeric field holds something other than digits.
    NotNumeric,
    /// A date or time stamp that is not a calendar date (`13452019`).
    InvalidDate,
}

impl IssueKind {
    /// The bounded error code of this issue.
    pub fn code(self) -> &'static str {
        match self {
            IssueKind::Truncated => "truncated_record",
            IssueKind::NotAscii => "not_ascii",
            IssueKind::NotNumeric => "not_numeric",
            IssueKind::InvalidDate => "invalid_date",
        }
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IssueKind::Truncated => "the record ends before this field",
            IssueKind::NotAscii => "contains characters outside printable ASCII",
            IssueKind::NotNumeric => "is not numeric (digits only, zero-filled)",
            IssueKind::InvalidDate => "is not a valid MMDDYYYY date",
        })
    }
}

/// A field problem found while decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldIssue {
    /// The field.
    pub field: &'static FieldSpec,
    /// What is wrong.
    pub kind: IssueKind,
}

/// Why a value cannot be written into its field. Messages never contain the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// The value is longer than the field (never truncated).
    #[error("field `{}` (CRRG {}): value of {len} characters does not fit in {}", .field.name, .field.crrg, .field.length)]
    TooLong {
        /// The field.
        field: &'static FieldSpec,
        /// Length of the value after normalisation.
        len: usize,
    },
    /// A number too large for the field's digits.
    #[error("field `{}` (CRRG {}): number does not fit in {} digits", .field.name, .field.crrg, .field.length)]
    OutOfRange {
        /// The field.
        field: &'static FieldSpec,
    },
    /// Text that is not printable ASCII (after transliteration in normalize mode).
    #[error("field `{}` (CRRG {}): not printable ASCII", .field.name, .field.crrg)]
    NotAscii {
        /// The field.
        field: &'static FieldSpec,
    },
    /// A date outside years 0-9999.
    #[error("field `{}` (CRRG {}): date cannot be written as MMDDYYYY", .field.name, .field.crrg)]
    BadDate {
        /// The field.
        field: &'static FieldSpec,
    },
}

impl FieldError {
    /// The bounded error code.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::TooLong { .. } => "metro2_field_overflow",
            FieldError::OutOfRange { .. } => "metro2_number_overflow",
            FieldError::NotAscii { .. } => "metro2_not_ascii",
            FieldError::BadDate { .. } => "metro2_bad_date",
        }
    }

    /// The field concerned.
    pub fn field(&self) -> &'static FieldSpec {
        match self {
            FieldError::TooLong { field, .. }
            | FieldError::OutOfRange { field }
            | FieldError::NotAscii { field }
            | FieldError::BadDate { field } => field,
        }
    }
}

/// A field's typed value, for generic views (CSV, diff, messages).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// Alphanumeric text (trailing blanks removed).
    Text(&'a str),
    /// A number (money in whole dollars, counts, codes, phone numbers).
    Number(u64),
    /// A date; `None` = zero-filled (not available).
    Date(Option<Date>),
    /// A time stamp; `None` = zero-filled.
    Timestamp(Option<DateTime>),
    /// An SSN (9 digits; 0 = not given). Shown masked.
    Ssn(u64),
    /// A date of birth. Shown masked.
    Dob(Option<Date>),
}

impl Value<'_> {
    /// The value as text safe to print: SSN masked to the last four digits, date of birth to
    /// the year. Dates are ISO `YYYY-MM-DD`; not-available dates and zero SSNs are empty.
    pub fn masked(&self) -> String {
        match *self {
            Value::Text(t) => t.to_string(),
            Value::Number(n) => n.to_string(),
            Value::Date(d) => d.map(|d| d.to_string()).unwrap_or_default(),
            Value::Timestamp(t) => t.map(|t| t.to_string()).unwrap_or_default(),
            Value::Ssn(0) => String::new(),
            Value::Ssn(n) => format!("***-**-{:04}", n % 10_000),
            Value::Dob(d) => d.map(|d| format!("**/**/{:04}", d.year())).unwrap_or_default(),
        }
    }

    /// True for blank text, zero numbers and not-available dates.
    pub fn is_empty(&self) -> bool {
        match *self {
            Value::Text(t) => t.trim().is_empty(),
            Value::Number(n) | Value::Ssn(n) => n == 0,
            Value::Date(d) | Value::Dob(d) => d.is_none(),
            Value::Timestamp(t) => t.is_none(),
        }
    }
}

/// Decodes an alphanumeric field into `out` (trailing blanks removed, leading kept).
pub fn dec_an(b: &[u8], out: &mut String) -> Result<(), IssueKind> {
    let end = b.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    let t = b.get(..end).unwrap_or_default();
    out.clear();
    // Branch-free scan (vectorises): any control character, DEL or non-ASCII byte?
    let bad = t.iter().fold(false, |acc, &c| acc | !(0x20..0x7f).contains(&c));
    if !bad {
        // Printable ASCII is valid UTF-8.
        out.push_str(std::str::from_utf8(t).unwrap_or_default());
        Ok(())
    } else {
        out.extend(t.iter().map(|&c| if (0x20..0x7f).contains(&c) { c as char } else { '?' }));
        Err(IssueKind::NotAscii)
    }
}

/// Decodes a zero-filled numeric field.
pub fn dec_n(b: &[u8]) -> Result<u64, IssueKind> {
    let mut v: u64 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return Err(IssueKind::NotNumeric);
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
    }
    Ok(v)
}

fn digits(b: &[u8]) -> Result<i64, IssueKind> {
    dec_n(b).map(|v| v as i64)
}

/// Decodes an `MMDDYYYY` date; all zeros = not available.
pub fn dec_date(b: &[u8]) -> Result<Option<Date>, IssueKind> {
    let Some(b) = b.first_chunk::<8>() else { return Err(IssueKind::Truncated) };
    if b.iter().all(|&c| c == b'0') {
        return Ok(None);
    }
    let (m, d, y) = (digits(&b[0..2])?, digits(&b[2..4])?, digits(&b[4..8])?);
    Date::new(y as i16, m as i8, d as i8).map(Some).map_err(|_| IssueKind::InvalidDate)
}

/// Decodes an `MMDDYYYYHHMMSS` time stamp; all zeros = not available.
pub fn dec_ts(b: &[u8]) -> Result<Option<DateTime>, IssueKind> {
    let Some(b) = b.first_chunk::<14>() else { return Err(IssueKind::Truncated) };
    if b.iter().all(|&c| c == b'0') {
        return Ok(None);
    }
    let Some(date) = dec_date(&b[0..8])? else { return Err(IssueKind::InvalidDate) };
    let (h, mi, s) = (digits(&b[8..10])?, digits(&b[10..12])?, digits(&b[12..14])?);
    let time = jiff::civil::Time::new(h as i8, mi as i8, s as i8, 0)
        .map_err(|_| IssueKind::InvalidDate)?;
    Ok(Some(date.to_datetime(time)))
}

/// Encodes an alphanumeric field: left-justified, blank-filled.
pub fn enc_an(
    out: &mut Vec<u8>,
    s: &str,
    field: &'static FieldSpec,
    mode: TextMode,
) -> Result<(), FieldError> {
    let start = out.len();
    if s.is_ascii() {
        if s.len() > field.length {
            return Err(FieldError::TooLong { field, len: s.len() });
        }
        let bad = s.bytes().fold(false, |acc, c| acc | (c < 0x20) | (c == 0x7f));
        if bad {
            return Err(FieldError::NotAscii { field });
        }
        match mode {
            TextMode::Normalize => out.extend(s.bytes().map(|c| c.to_ascii_uppercase())),
            TextMode::Preserve => out.extend_from_slice(s.as_bytes()),
        }
        out.resize(start + field.length, b' ');
        return Ok(());
    } else {
        if mode == TextMode::Preserve {
            out.truncate(start);
            return Err(FieldError::NotAscii { field });
        }
        let t = deunicode::deunicode(s);
        out.extend(t.bytes().map(|c| c.to_ascii_uppercase()));
    }
    let written = out.get(start..).unwrap_or_default();
    if written.iter().any(|&c| !(0x20..0x7f).contains(&c)) {
        out.truncate(start);
        return Err(FieldError::NotAscii { field });
    }
    let len = out.len() - start;
    if len > field.length {
        out.truncate(start);
        return Err(FieldError::TooLong { field, len });
    }
    out.resize(start + field.length, b' ');
    Ok(())
}

/// Encodes a number: right-justified, zero-filled; too many digits is an error.
pub fn enc_n(out: &mut Vec<u8>, v: u64, field: &'static FieldSpec) -> Result<(), FieldError> {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = v;
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let nd = buf.len() - i;
    if nd > field.length {
        return Err(FieldError::OutOfRange { field });
    }
    out.resize(out.len() + (field.length - nd), b'0');
    out.extend_from_slice(&buf[i..]);
    Ok(())
}

fn push2(out: &mut Vec<u8>, v: i64) {
    out.push(b'0' + (v / 10 % 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

fn push_date(out: &mut Vec<u8>, d: Date, field: &'static FieldSpec) -> Result<(), FieldError> {
    let y = i64::from(d.year());
    if !(0..=9999).contains(&y) {
        return Err(FieldError::BadDate { field });
    }
    push2(out, i64::from(d.month()));
    push2(out, i64::from(d.day()));
    push2(out, y / 100);
    push2(out, y % 100);
    Ok(())
}

/// Encodes an `MMDDYYYY` date (zeros when not available).
pub fn enc_date(
    out: &mut Vec<u8>,
    d: Option<Date>,
    field: &'static FieldSpec,
) -> Result<(), FieldError> {
    match d {
        None => out.extend_from_slice(b"00000000"),
        Some(d) => push_date(out, d, field)?,
    }
    Ok(())
}

/// Encodes an `MMDDYYYYHHMMSS` time stamp (zeros when not available).
pub fn enc_ts(
    out: &mut Vec<u8>,
    t: Option<DateTime>,
    field: &'static FieldSpec,
) -> Result<(), FieldError> {
    match t {
        None => out.extend_from_slice(b"00000000000000"),
        Some(t) => {
            push_date(out, t.date(), field)?;
            push2(out, i64::from(t.hour()));
            push2(out, i64::from(t.minute()));
            push2(out, i64::from(t.second()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::layout::{FieldType, Required};
    use jiff::civil::date;

    static F5: FieldSpec = FieldSpec {
        name: "surname",
        json: "surname",
        crrg: "30",
        start: 1,
        length: 5,
        kind: FieldType::Alphanumeric,
        required: Required::Yes,
    };

    #[test]
    fn text_is_upper_cased_transliterated_blank_filled_never_truncated() {
        let mut out = Vec::new();
        enc_an(&mut out, "Müller", &F5, TextMode::Normalize).unwrap_err();
        assert!(out.is_empty());
        enc_an(&mut out, "Zoë", &F5, TextMode::Normalize).unwrap();
        assert_eq!(out, b"ZOE  ");
        out.clear();
        enc_an(&mut out, "ab", &F5, TextMode::Preserve).unwrap();
        assert_eq!(out, b"ab   ");
        out.clear();
        let e = enc_an(&mut out, "abcdef", &F5, TextMode::Normalize).unwrap_err();
        assert_eq!(e, FieldError::TooLong { field: &F5, len: 6 });
        assert_eq!(e.code(), "metro2_field_overflow");
        assert!(enc_an(&mut out, "é", &F5, TextMode::Preserve).is_err());
        assert!(enc_an(&mut out, "a\tb", &F5, TextMode::Normalize).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn numbers_are_zero_filled_and_overflow_is_an_error() {
        let mut out = Vec::new();
        enc_n(&mut out, 42, &F5).unwrap();
        enc_n(&mut out, 0, &F5).unwrap();
        enc_n(&mut out, 99_999, &F5).unwrap();
        assert_eq!(out, b"000420000099999");
        assert_eq!(enc_n(&mut out, 100_000, &F5), Err(FieldError::OutOfRange { field: &F5 }));
        assert_eq!(dec_n(b"00042"), Ok(42));
        assert_eq!(dec_n(b"0004A"), Err(IssueKind::NotNumeric));
        assert_eq!(dec_n(b"-0042"), Err(IssueKind::NotNumeric));
    }

    #[test]
    fn dates_round_trip_and_zero_means_absent() {
        let mut out = Vec::new();
        enc_date(&mut out, Some(date(2024, 3, 7)), &F5).unwrap();
        enc_date(&mut out, None, &F5).unwrap();
        assert_eq!(out, b"0307202400000000");
        assert_eq!(dec_date(b"03072024"), Ok(Some(date(2024, 3, 7))));
        assert_eq!(dec_date(b"00000000"), Ok(None));
        assert_eq!(dec_date(b"13452019"), Err(IssueKind::InvalidDate));
        assert_eq!(dec_date(b"0307202X"), Err(IssueKind::NotNumeric));
        let ts = date(2020, 1, 1).at(1, 11, 22, 0);
        out.clear();
        enc_ts(&mut out, Some(ts), &F5).unwrap();
        assert_eq!(out, b"01012020011122");
        assert_eq!(dec_ts(b"01012020011122"), Ok(Some(ts)));
        assert_eq!(dec_ts(b"01012020251122"), Err(IssueKind::InvalidDate));
    }

    #[test]
    fn text_decoding_keeps_leading_blanks_and_flags_non_ascii() {
        let mut s = String::new();
        dec_an(b" AB  ", &mut s).unwrap();
        assert_eq!(s, " AB");
        assert_eq!(dec_an(b"A\xc3\xa9  ", &mut s), Err(IssueKind::NotAscii));
        assert_eq!(s, "A??");
        assert_eq!(Value::Ssn(123456789).masked(), "***-**-6789");
        assert_eq!(Value::Dob(Some(date(1980, 5, 1))).masked(), "**/**/1980");
    }
}
