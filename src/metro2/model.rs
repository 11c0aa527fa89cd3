//! The typed Metro 2 record model: [`Header`], [`Base`], the appended segments ([`J1`],
//! [`J2`], [`K1`], [`K2`], [`K3`], [`K4`], [`L1`], [`N1`]), [`Trailer`], and a
//! [`DataRecord`] (a base segment with its appended segments).
//!
//! The structs, their field tables, decoders and encoders are generated at build time from
//! `formats/metro2/*.csv`; this module adds the record-level types. Values are typed: dates
//! are `Option<Date>` (zero-filled = `None`), money and counts are `u64` whole dollars, codes
//! are strings. Record descriptor words and identifiers are not stored: the writer computes
//! them. This module must not know about files, the database or validation rules.

use std::fmt;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::codec::{self, FieldError, FieldIssue, IssueKind, TextMode, Value};
use super::layout::{FieldSpec, FieldType, Layout, Required, Segment};

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A Social Security Number field (9 digits, 0 = not reported). `Debug` shows only the last
/// four digits; JSON carries the number (a converted Metro 2 file holds what the file holds).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SsnField(pub u64);

impl SsnField {
    /// True when zero-filled (not reported).
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// True when the SSN counts as reported: neither zero- nor 9-filled.
    pub fn is_reported(&self) -> bool {
        self.0 > 0 && self.0 < 999_999_999
    }
}

impl fmt::Debug for SsnField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SsnField({})", Value::Ssn(self.0).masked())
    }
}

impl From<&crate::pii::Ssn> for SsnField {
    fn from(s: &crate::pii::Ssn) -> Self {
        SsnField(s.expose_digits().parse().unwrap_or(0))
    }
}

/// A date-of-birth field (`None` = zero-filled). `Debug` shows only the year.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DobField(pub Option<Date>);

impl DobField {
    /// True when not reported.
    pub fn is_none(&self) -> bool {
        self.0.is_none()
    }
}

impl fmt::Debug for DobField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DobField({})", Value::Dob(self.0).masked())
    }
}

impl From<crate::pii::Dob> for DobField {
    fn from(d: crate::pii::Dob) -> Self {
        DobField(Some(d.expose()))
    }
}

/// An exact amount as the whole dollars Metro 2 reports: the one rounding rule of
/// [`crate::money::whole_dollars`] (cents truncated, credit balances 0). Use it for every
/// money field (balance, amount past due, highest credit, ...).
pub fn dollars(m: crate::money::Money) -> u64 {
    crate::money::whole_dollars(m)
}

include!(concat!(env!("OUT_DIR"), "/metro2_layouts.rs"));

/// One data record: a base segment and its appended segments, in the order the CRRG requires
/// (J1s, J2s, K1, K2, K3, K4, L1, N1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataRecord {
    /// Base segment.
    pub base: Base,
    /// Associated consumers at the same address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub j1: Vec<J1>,
    /// Associated consumers at a different address.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub j2: Vec<J2>,
    /// Original creditor.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k1: Option<K1>,
    /// Purchased from / sold to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k2: Option<K2>,
    /// Mortgage information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k3: Option<K3>,
    /// Specialised payment information.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub k4: Option<K4>,
    /// Account number / identification number change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub l1: Option<L1>,
    /// Employment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n1: Option<N1>,
}

impl DataRecord {
    /// A record with only a base segment.
    pub fn new(base: Base) -> Self {
        DataRecord { base, ..Default::default() }
    }

    /// Length of the record's content (base plus appended segments), which is its record
    /// descriptor word when written without padding.
    pub fn content_len(&self) -> usize {
        426 + 100 * self.j1.len()
            + 200 * self.j2.len()
            + self.k1.as_ref().map_or(0, |_| 34)
            + self.k2.as_ref().map_or(0, |_| 34)
            + self.k3.as_ref().map_or(0, |_| 40)
            + self.k4.as_ref().map_or(0, |_| 30)
            + self.l1.as_ref().map_or(0, |_| 54)
            + self.n1.as_ref().map_or(0, |_| 146)
    }

    /// Encodes the base segment and the appended segments (in CRRG order), with `rdw` as the
    /// record descriptor word.
    pub fn encode(&self, out: &mut Vec<u8>, rdw: u64, mode: TextMode) -> Result<(), FieldError> {
        self.base.encode(out, rdw, mode)?;
        for j in &self.j1 {
            j.encode(out, 0, mode)?;
        }
        for j in &self.j2 {
            j.encode(out, 0, mode)?;
        }
        if let Some(s) = &self.k1 {
            s.encode(out, 0, mode)?;
        }
        if let Some(s) = &self.k2 {
            s.encode(out, 0, mode)?;
        }
        if let Some(s) = &self.k3 {
            s.encode(out, 0, mode)?;
        }
        if let Some(s) = &self.k4 {
            s.encode(out, 0, mode)?;
        }
        if let Some(s) = &self.l1 {
            s.encode(out, 0, mode)?;
        }
        if let Some(s) = &self.n1 {
            s.encode(out, 0, mode)?;
        }
        Ok(())
    }

    /// Calls `f` for every stored field of every segment, in file order.
    pub fn visit(&self, f: &mut dyn FnMut(Segment, usize, &'static FieldSpec, Value<'_>)) {
        self.base.visit(&mut |s, v| f(Segment::Base, 0, s, v));
        for (i, j) in self.j1.iter().enumerate() {
            j.visit(&mut |s, v| f(Segment::J1, i, s, v));
        }
        for (i, j) in self.j2.iter().enumerate() {
            j.visit(&mut |s, v| f(Segment::J2, i, s, v));
        }
        if let Some(x) = &self.k1 {
            x.visit(&mut |s, v| f(Segment::K1, 0, s, v));
        }
        if let Some(x) = &self.k2 {
            x.visit(&mut |s, v| f(Segment::K2, 0, s, v));
        }
        if let Some(x) = &self.k3 {
            x.visit(&mut |s, v| f(Segment::K3, 0, s, v));
        }
        if let Some(x) = &self.k4 {
            x.visit(&mut |s, v| f(Segment::K4, 0, s, v));
        }
        if let Some(x) = &self.l1 {
            x.visit(&mut |s, v| f(Segment::L1, 0, s, v));
        }
        if let Some(x) = &self.n1 {
            x.visit(&mut |s, v| f(Segment::N1, 0, s, v));
        }
    }

    /// Moves the appended segments of `other` into `self` as spares (at most 8 of each J
    /// kind), leaving `other` with none: a reader reuses them instead of allocating.
    pub fn recycle(&mut self, other: &mut DataRecord) {
        for j in other.j1.drain(..) {
            if self.j1.len() < 8 {
                self.j1.push(j);
            }
        }
        for j in other.j2.drain(..) {
            if self.j2.len() < 8 {
                self.j2.push(j);
            }
        }
        macro_rules! keep {
            ($($f:ident),*) => {$(
                if let Some(s) = other.$f.take() {
                    self.$f = Some(s);
                }
            )*};
        }
        keep!(k1, k2, k3, k4, l1, n1);
    }

    /// Empties the record, keeping its allocations for reuse.
    pub fn clear(&mut self) {
        self.j1.clear();
        self.j2.clear();
        self.k1 = None;
        self.k2 = None;
        self.k3 = None;
        self.k4 = None;
        self.l1 = None;
        self.n1 = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn generated_encoders_fill_exactly_their_layout() {
        let mut out = Vec::new();
        Header::default().encode(&mut out, 426, TextMode::Normalize).unwrap();
        assert_eq!(out.len(), 426);
        assert!(out.starts_with(b"0426HEADER"));
        out.clear();
        Trailer::default().encode(&mut out, 426, TextMode::Normalize).unwrap();
        assert!(out.starts_with(b"0426TRAILER000000000"));
        let rec = DataRecord {
            j1: vec![J1::default()],
            j2: vec![J2::default()],
            k1: Some(K1::default()),
            k2: Some(K2::default()),
            k3: Some(K3::default()),
            k4: Some(K4::default()),
            l1: Some(L1::default()),
            n1: Some(N1::default()),
            ..Default::default()
        };
        out.clear();
        rec.encode(&mut out, rec.content_len() as u64, TextMode::Normalize).unwrap();
        assert_eq!(out.len(), rec.content_len());
        assert_eq!(out.len(), 426 + 100 + 200 + 34 + 34 + 40 + 30 + 54 + 146);
    }

    #[test]
    fn decode_reads_what_encode_wrote() {
        let mut b = Base {
            consumer_account_number: "A-1".into(),
            date_opened: Some(date(2024, 1, 31)),
            current_balance: 1234,
            social_security_number: SsnField(123456789),
            date_birth: DobField(Some(date(1980, 5, 1))),
            ..Default::default()
        };
        let mut out = Vec::new();
        b.encode(&mut out, 426, TextMode::Normalize).unwrap();
        let mut issues = Vec::new();
        let back = Base::decode(&out, &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(back, b);
        b.surname = "x".repeat(26);
        let e = b.encode(&mut Vec::new(), 426, TextMode::Normalize).unwrap_err();
        assert_eq!(e.field().crrg, "30");
        let dbg = format!("{back:?}");
        assert!(!dbg.contains("123456789") && dbg.contains("***-**-6789"), "{dbg}");
        assert!(!dbg.contains("1980-05-01"), "{dbg}");
    }

    #[test]
    fn money_is_whole_dollars_truncated() {
        let m = |s: &str| crate::money::parse_amount(s).unwrap();
        assert_eq!(dollars(m("1234.99")), 1234);
        assert_eq!(dollars(m("-5.00")), 0);
    }

    #[test]
    fn short_input_is_an_issue_not_a_panic() {
        let mut issues = Vec::new();
        let _ = K1::decode(b"K1ABC", &mut issues);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].kind, IssueKind::Truncated);
        let _ = (FieldType::Date, Required::Yes);
    }
}
