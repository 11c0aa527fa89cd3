//! Field tables of the 426-character Metro 2 format: one [`Layout`] per record or segment,
//! generated at build time from `formats/metro2/*.csv` (see `build.rs`).
//!
//! This module owns the description of where each field sits; it must not hold parsing,
//! formatting or validation logic. Positions are 1-based and counted from the record
//! descriptor word, as in the CRRG.

use std::fmt;

use serde::Serialize;

/// The record and segment kinds of the character format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    /// Header record.
    Header,
    /// Base segment (the start of every data record).
    Base,
    /// J1: associated consumer at the same address.
    J1,
    /// J2: associated consumer at a different address.
    J2,
    /// K1: original creditor name.
    K1,
    /// K2: purchased from / sold to.
    K2,
    /// K3: mortgage information.
    K3,
    /// K4: specialised payment information.
    K4,
    /// L1: account number / identification number change.
    L1,
    /// N1: employment.
    N1,
    /// Trailer record.
    Trailer,
}

impl Segment {
    /// Lower-case name (`base`, `j1`, ...), as used in findings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Segment::Header => "header",
            Segment::Base => "base",
            Segment::J1 => "j1",
            Segment::J2 => "j2",
            Segment::K1 => "k1",
            Segment::K2 => "k2",
            Segment::K3 => "k3",
            Segment::K4 => "k4",
            Segment::L1 => "l1",
            Segment::N1 => "n1",
            Segment::Trailer => "trailer",
        }
    }

    /// The appended segment whose 2-character identifier is `id`.
    pub fn appended(id: &[u8]) -> Option<Segment> {
        Some(match id {
            b"J1" => Segment::J1,
            b"J2" => Segment::J2,
            b"K1" => Segment::K1,
            b"K2" => Segment::K2,
            b"K3" => Segment::K3,
            b"K4" => Segment::K4,
            b"L1" => Segment::L1,
            b"N1" => Segment::N1,
            _ => return None,
        })
    }

    /// The field table of this segment.
    pub fn layout(self) -> &'static Layout {
        use super::model::*;
        match self {
            Segment::Header => &HEADER_LAYOUT,
            Segment::Base => &BASE_LAYOUT,
            Segment::J1 => &J1_LAYOUT,
            Segment::J2 => &J2_LAYOUT,
            Segment::K1 => &K1_LAYOUT,
            Segment::K2 => &K2_LAYOUT,
            Segment::K3 => &K3_LAYOUT,
            Segment::K4 => &K4_LAYOUT,
            Segment::L1 => &L1_LAYOUT,
            Segment::N1 => &N1_LAYOUT,
            Segment::Trailer => &TRAILER_LAYOUT,
        }
    }

    /// Every segment, in file order.
    pub const ALL: [Segment; 11] = [
        Segment::Header,
        Segment::Base,
        Segment::J1,
        Segment::J2,
        Segment::K1,
        Segment::K2,
        Segment::K3,
        Segment::K4,
        Segment::L1,
        Segment::N1,
        Segment::Trailer,
    ];
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a field is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Alphanumeric: left-justified, blank-filled.
    Alphanumeric,
    /// Numeric: right-justified, zero-filled digits.
    Numeric,
    /// Date `MMDDYYYY`; all zeros = not available.
    Date,
    /// Time stamp `MMDDYYYYHHMMSS`; all zeros = not available.
    Timestamp,
    /// Social Security Number (numeric; masked in every message).
    Ssn,
    /// Date of birth (a date; masked in every message).
    DateOfBirth,
    /// Record descriptor word: the record length, computed by the writer.
    Rdw,
    /// Constant record or segment identifier (`HEADER`, `J1`, ...).
    Identifier,
}

/// Requiredness as moov-io/metro2 declares it (the CRRG is stricter for some fields; the
/// validator's rules cover those).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Required {
    /// Must not be zero or blank.
    Yes,
    /// Report when it applies.
    Applicable,
    /// Optional.
    No,
}

/// One field of a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// snake_case name (the Rust field name).
    pub name: &'static str,
    /// camelCase name used in JSON (moov-io/metro2's names).
    pub json: &'static str,
    /// CRRG field number (`17A`, `25`, ...).
    pub crrg: &'static str,
    /// 1-based start position, counted from the record descriptor word.
    pub start: usize,
    /// Length in bytes.
    pub length: usize,
    /// Encoding.
    pub kind: FieldType,
    /// Requiredness.
    pub required: Required,
}

impl FieldSpec {
    /// 1-based end position (inclusive).
    pub fn end(&self) -> usize {
        self.start + self.length - 1
    }
}

/// The field table of one record or segment.
#[derive(Debug)]
pub struct Layout {
    /// Which record or segment.
    pub segment: Segment,
    /// Constant identifier (`HEADER`, `J1`, ...; empty for the base segment).
    pub identifier: &'static str,
    /// Total length in bytes.
    pub length: usize,
    /// Fields in position order; contiguous, summing to `length`.
    pub fields: &'static [FieldSpec],
}

impl Layout {
    /// The field named `name`.
    pub fn field(&self, name: &str) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_is_contiguous_and_sums_to_its_length() {
        let expected = [426, 426, 100, 200, 34, 34, 40, 30, 54, 146, 426];
        for (seg, len) in Segment::ALL.iter().zip(expected) {
            let l = seg.layout();
            assert_eq!(l.segment, *seg);
            assert_eq!(l.length, len, "{seg}");
            let mut pos = 1;
            for f in l.fields {
                assert_eq!(f.start, pos, "{seg}.{}", f.name);
                pos += f.length;
            }
            assert_eq!(pos - 1, len, "{seg}");
            if !l.identifier.is_empty() {
                let id = l.fields.iter().find(|f| f.kind == FieldType::Identifier).unwrap();
                assert_eq!(id.length, l.identifier.len(), "{seg}");
            }
        }
    }

    #[test]
    fn known_positions_match_the_crrg() {
        let b = Segment::Base.layout();
        let f = b.field("account_status").unwrap();
        assert_eq!((f.crrg, f.start, f.end()), ("17A", 124, 125));
        let f = b.field("date_first_delinquency").unwrap();
        assert_eq!((f.crrg, f.start, f.end()), ("25", 190, 197));
        let f = Segment::Trailer.layout().field("total_telephone_numbers_all_segments").unwrap();
        assert_eq!((f.start, f.end()), (399, 407));
        assert_eq!(Segment::appended(b"K1"), Some(Segment::K1));
        assert_eq!(Segment::appended(b"Z9"), None);
    }
}
