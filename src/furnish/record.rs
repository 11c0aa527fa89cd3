//! The typed furnish record: what one account will be reported as this cycle, before it is
//! handed to the Metro 2 writer; the snapshot stored for it (the record's Metro 2 bytes with
//! SSNs and dates of birth masked) and a masked JSON field map of it.
//!
//! This module holds values, not policy ([`super::rules`] decides them) and does not format
//! Metro 2 (the engine does; the snapshot only masks the engine's bytes). Neither the
//! snapshot nor the JSON ever contains an SSN or DOB in clear.

use jiff::civil::Date;
use serde::Serialize;

use super::account::Address;
use crate::metro2::layout::{FieldType, Segment};
use crate::pii::{Dob, Ssn};

/// Writes the snapshot of a furnished record (`furnish_snapshots.fields`) into `out`
/// (cleared first): `record` is the Metro 2 data record as the writer wrote it (from the
/// record descriptor word, base segment then appended segments, no line ending); every SSN
/// field is masked to its last four digits (`*****1234`) and every date of birth (MMDDYYYY)
/// to its year (`****1980`), in the base and in the J1/J2 segments. Fields that were not
/// reported (all zeros) stay zeros. Everything else is kept byte for byte, so each field is
/// read back at its position in `formats/metro2/*.csv`.
pub fn write_snapshot_record(record: &[u8], out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(record);
    let mut at = 0;
    let mut segment = Some(Segment::Base);
    while let Some(seg) = segment {
        let layout = seg.layout();
        for f in layout.fields {
            let keep = match f.kind {
                FieldType::Ssn => 4,
                FieldType::DateOfBirth => 4,
                _ => continue,
            };
            let from = at + f.start - 1;
            if let Some(v) = out.get_mut(from..from + f.length)
                && v.iter().any(|&b| b != b'0')
            {
                let n = v.len().saturating_sub(keep);
                v.iter_mut().take(n).for_each(|b| *b = b'*');
            }
        }
        at += layout.length;
        segment = out.get(at..at + 2).and_then(Segment::appended);
    }
}

/// Metro 2 account status a collection furnisher reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Status {
    /// `93`: account assigned to collections (unpaid).
    #[serde(rename = "93")]
    Collection,
    /// `62`: paid in full, was a collection account (with special comment AU when settled).
    #[serde(rename = "62")]
    Paid,
    /// `DA`: delete entire account (not fraud).
    #[serde(rename = "DA")]
    Delete,
    /// `DF`: delete entire account, confirmed fraud.
    #[serde(rename = "DF")]
    DeleteFraud,
}

impl Status {
    /// The two-character code.
    pub fn code(self) -> &'static str {
        match self {
            Status::Collection => "93",
            Status::Paid => "62",
            Status::Delete => "DA",
            Status::DeleteFraud => "DF",
        }
    }
}

/// A consumer as reported in the Base segment or a J1/J2 segment.
#[derive(Clone, Debug, Default)]
pub struct Subject {
    /// Surname.
    pub surname: String,
    /// First name.
    pub first_name: String,
    /// Middle name.
    pub middle_name: String,
    /// Generation code (J, S, 2-9) or empty.
    pub generation: String,
    /// SSN, when valid and on file.
    pub ssn: Option<Ssn>,
    /// Date of birth, when on file.
    pub dob: Option<Dob>,
    /// Phone, 10 digits.
    pub phone: Option<String>,
    /// ECOA code (X when deceased).
    pub ecoa: String,
    /// Consumer information indicator (bankruptcy), or empty.
    pub cii: String,
    /// Address: always present on the Base subject; on an associate only for J2.
    pub address: Option<Address>,
}

/// L1: account number / identification number change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// 1 account number, 2 identification number, 3 both.
    pub indicator: u8,
    /// New consumer account number (indicator 1 or 3).
    pub new_account_number: String,
    /// New identification number (indicator 2 or 3).
    pub new_identification_number: String,
}

/// Everything one account reports this cycle.
#[derive(Clone, Debug)]
pub struct FurnishRecord {
    /// `accounts.id`.
    pub account_id: i64,
    /// Client id.
    pub client_id: String,
    /// Identification number reported in the Base segment.
    pub identification_number: String,
    /// Consumer account number reported in the Base segment (the old one when L1 is present).
    pub account_number: String,
    /// The account's current number (stored with the snapshot).
    pub current_account_number: String,
    /// Identification number the account is now under (stored with the snapshot).
    pub current_identification_number: String,
    /// Account type: 48, 0C or 77.
    pub account_type: String,
    /// Date opened: placement / purchase / check date.
    pub date_opened: Date,
    /// Highest credit: amount placed or purchased, whole dollars.
    pub highest_credit: u64,
    /// Terms duration (`001` for portfolio O).
    pub terms_duration: &'static str,
    /// Terms frequency (`P`).
    pub terms_frequency: &'static str,
    /// Payments received this period, whole dollars.
    pub actual_payment: u64,
    /// Account status.
    pub status: Status,
    /// Payment history profile (24 characters).
    pub php: String,
    /// Special comment (AU for settled) or empty.
    pub special_comment: &'static str,
    /// Compliance condition code or empty.
    pub ccc: &'static str,
    /// Current balance, whole dollars.
    pub current_balance: u64,
    /// Amount past due, whole dollars.
    pub amount_past_due: u64,
    /// Date of account information.
    pub doai: Date,
    /// Date of first delinquency.
    pub dofd: Option<Date>,
    /// Date closed.
    pub date_closed: Option<Date>,
    /// Date of last payment.
    pub last_payment_date: Option<Date>,
    /// Primary consumer.
    pub consumer: Subject,
    /// Associated consumers: J2 when `address` is set, else J1.
    pub associates: Vec<Subject>,
    /// K1: original creditor name.
    pub original_creditor: String,
    /// K1: creditor classification.
    pub creditor_class: String,
    /// K2 (purchased from): seller's name, debt buyers only.
    pub purchased_from: Option<String>,
    /// L1, when the account or identification number changed since last furnished.
    pub change: Option<Change>,
    /// For DA/DF records: the gate that deleted the account.
    pub deleted_by: Option<&'static str>,
}

/// The record's field map ([`FurnishRecord::snapshot_json`]): what is reported, SSN and DOB
/// masked.
#[derive(Serialize)]
struct SnapshotFields<'a> {
    identification_number: &'a str,
    account_number: &'a str,
    current_account_number: &'a str,
    current_identification_number: &'a str,
    account_type: &'a str,
    date_opened: IsoDate,
    highest_credit: u64,
    actual_payment: u64,
    status: &'static str,
    php: &'a str,
    special_comment: &'static str,
    ccc: &'static str,
    current_balance: u64,
    amount_past_due: u64,
    doai: IsoDate,
    dofd: Option<IsoDate>,
    date_closed: Option<IsoDate>,
    last_payment_date: Option<IsoDate>,
    surname: &'a str,
    first_name: &'a str,
    ssn: Option<MaskedSsn<'a>>,
    dob: Option<MaskedDob>,
    ecoa: &'a str,
    cii: &'a str,
    associates: Vec<AssociateFields<'a>>,
    original_creditor: &'a str,
    creditor_class: &'a str,
    purchased_from: Option<&'a str>,
    l1: Option<u8>,
    deleted_by: Option<&'static str>,
}

/// An SSN serialised masked (`***-**-1234`, as [`Ssn::masked`]) without an intermediate
/// string.
struct MaskedSsn<'a>(&'a Ssn);

impl Serialize for MaskedSsn<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("***-**-{}", self.0.last4()))
    }
}

/// A date of birth serialised masked (its `Display`: year only) without an intermediate
/// string.
struct MaskedDob(Dob);

impl Serialize for MaskedDob {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// A date serialised as `YYYY-MM-DD` (what `Date`'s `Display` writes for years 0-9999)
/// without going through the formatting machinery; other years use `Display`.
struct IsoDate(Date);

impl Serialize for IsoDate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let d = self.0;
        let Ok(y) = u16::try_from(d.year()) else {
            return s.collect_str(&d);
        };
        if y > 9999 {
            return s.collect_str(&d);
        }
        let digit = |v: u16| b'0' + (v % 10) as u8;
        let (m, day) = (d.month() as u16, d.day() as u16);
        let b = [
            digit(y / 1000),
            digit(y / 100),
            digit(y / 10),
            digit(y),
            b'-',
            digit(m / 10),
            digit(m),
            b'-',
            digit(day / 10),
            digit(day),
        ];
        match std::str::from_utf8(&b) {
            Ok(text) => s.serialize_str(text),
            Err(_) => s.collect_str(&d),
        }
    }
}

#[derive(Serialize)]
struct AssociateFields<'a> {
    segment: &'static str,
    surname: &'a str,
    ssn: Option<MaskedSsn<'a>>,
    dob: Option<MaskedDob>,
    ecoa: &'a str,
}

impl FurnishRecord {
    /// The record's masked field map as JSON (stable key order), for reading a record by
    /// field name; what a cycle stores is [`write_snapshot_record`].
    pub fn snapshot_json(&self) -> String {
        let mut out = Vec::new();
        self.write_snapshot_json(&mut out);
        String::from_utf8(out).unwrap_or_else(|_| "{}".to_string())
    }

    /// Writes [`Self::snapshot_json`] into `out` (cleared first), so a cycle reuses one
    /// buffer for every record.
    pub fn write_snapshot_json(&self, out: &mut Vec<u8>) {
        out.clear();
        let f = SnapshotFields {
            identification_number: &self.identification_number,
            account_number: &self.account_number,
            current_account_number: &self.current_account_number,
            current_identification_number: &self.current_identification_number,
            account_type: &self.account_type,
            date_opened: IsoDate(self.date_opened),
            highest_credit: self.highest_credit,
            actual_payment: self.actual_payment,
            status: self.status.code(),
            php: &self.php,
            special_comment: self.special_comment,
            ccc: self.ccc,
            current_balance: self.current_balance,
            amount_past_due: self.amount_past_due,
            doai: IsoDate(self.doai),
            dofd: self.dofd.map(IsoDate),
            date_closed: self.date_closed.map(IsoDate),
            last_payment_date: self.last_payment_date.map(IsoDate),
            surname: &self.consumer.surname,
            first_name: &self.consumer.first_name,
            ssn: self.consumer.ssn.as_ref().map(MaskedSsn),
            dob: self.consumer.dob.map(MaskedDob),
            ecoa: &self.consumer.ecoa,
            cii: &self.consumer.cii,
            associates: self
                .associates
                .iter()
                .map(|a| AssociateFields {
                    segment: if a.address.is_some() { "J2" } else { "J1" },
                    surname: &a.surname,
                    ssn: a.ssn.as_ref().map(MaskedSsn),
                    dob: a.dob.map(MaskedDob),
                    ecoa: &a.ecoa,
                })
                .collect(),
            original_creditor: &self.original_creditor,
            creditor_class: &self.creditor_class,
            purchased_from: self.purchased_from.as_deref(),
            l1: self.change.as_ref().map(|c| c.indicator),
            deleted_by: self.deleted_by,
        };
        // Serialising plain strings and numbers into memory cannot fail.
        if serde_json::to_writer(&mut *out, &f).is_err() {
            out.clear();
            out.extend_from_slice(b"{}");
        }
    }

    /// Number of J1 segments.
    pub fn j1_count(&self) -> usize {
        self.associates.iter().filter(|a| a.address.is_none()).count()
    }

    /// Number of J2 segments.
    pub fn j2_count(&self) -> usize {
        self.associates.iter().filter(|a| a.address.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn snapshot_record_masks_every_ssn_and_dob_and_keeps_the_rest() {
        use crate::metro2::model::{Base, DataRecord, DobField, Header, J1, J2, SsnField};
        use crate::metro2::writer::{Writer, WriterOptions};
        let mut rec = DataRecord::new(Base {
            consumer_account_number: "A1".into(),
            account_status: "93".into(),
            social_security_number: SsnField(123_456_789),
            date_birth: DobField(Some(date(1980, 5, 17))),
            date_first_delinquency: Some(date(2024, 2, 20)),
            ..Base::default()
        });
        rec.j1.push(J1 {
            surname: "DOE".into(),
            social_security_number: SsnField(223_456_780),
            date_birth: DobField(Some(date(1975, 1, 2))),
            ..J1::default()
        });
        rec.j2.push(J2 { surname: "ROE".into(), ..J2::default() });
        let mut w = Writer::new(Vec::new(), &Header::default(), WriterOptions::default()).unwrap();
        w.write(&rec).unwrap();
        let written = w.last_record().to_vec();
        let mut snap = Vec::new();
        write_snapshot_record(&written, &mut snap);
        let text = std::str::from_utf8(&snap).unwrap();
        assert_eq!(snap.len(), written.len());
        for clear in ["123456789", "05171980", "223456780", "01021975"] {
            assert!(written.windows(clear.len()).any(|w| w == clear.as_bytes()), "{clear}");
            assert!(!text.contains(clear), "{clear} in clear");
        }
        // Base SSN 298-306 and DOB 307-314; J1 (after the 426-byte base) SSN 70-78, DOB 79-86.
        assert_eq!(&snap[297..314], b"*****6789****1980");
        assert_eq!(&snap[426 + 69..426 + 86], b"*****6780****1975");
        // The J2 reported none: zeros stay zeros.
        assert_eq!(&snap[526 + 69..526 + 86], b"00000000000000000");
        // Every other byte is the record's.
        let changed: Vec<usize> = (0..snap.len()).filter(|&i| snap[i] != written[i]).collect();
        assert_eq!(changed.len(), 5 + 4 + 5 + 4, "{changed:?}");
        assert_eq!(&snap[189..197], b"02202024", "DOFD kept");
        // The Metro 2 reader reads the snapshot back; the masked SSN and DOB are findings.
        let mut findings = Vec::new();
        let item = crate::metro2::reader::parse_record(&snap, &mut findings).unwrap();
        let Some(crate::metro2::reader::Item::Data(back, _)) = item else {
            panic!("not a data record: {item:?}");
        };
        assert_eq!(back.base.consumer_account_number, "A1");
        assert_eq!(back.base.date_first_delinquency, Some(date(2024, 2, 20)));
        assert_eq!((back.j1.len(), back.j2.len()), (1, 1));
        assert!(!back.base.social_security_number.is_reported());
        assert!(findings.iter().any(|f| f.field.is_some_and(|x| x.name == "date_birth")));
    }

    #[test]
    fn iso_date_serialises_as_display_does() {
        for d in [
            date(2026, 11, 20),
            date(1999, 1, 9),
            date(999, 12, 31),
            date(1, 1, 1),
            date(0, 6, 15),
            date(-5, 3, 4),
            date(9999, 12, 31),
        ] {
            let json = serde_json::to_string(&IsoDate(d)).unwrap();
            assert_eq!(json, format!("\"{d}\""));
        }
    }

    #[test]
    fn masked_ssn_and_dob_serialise_as_their_masked_forms() {
        let ssn = Ssn::parse("123-45-6789").unwrap();
        let dob = Dob::new(date(1980, 5, 17));
        assert_eq!(
            serde_json::to_string(&MaskedSsn(&ssn)).unwrap(),
            format!("\"{}\"", ssn.masked())
        );
        assert_eq!(serde_json::to_string(&MaskedDob(dob)).unwrap(), format!("\"{dob}\""));
        assert!(!serde_json::to_string(&MaskedDob(dob)).unwrap().contains("05"));
    }
}
