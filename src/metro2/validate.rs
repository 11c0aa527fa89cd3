//! The Metro 2 validator: every code list and rule of moov-io/metro2 (metro2.md §6), the
//! CRRG field-relationship rules (§5.2), the collection-account profile (§5.2a) and the
//! single-period CFPB evaluators (§5.3), plus trailer totals and account uniqueness.
//!
//! It works on typed records, so the furnish stage validates what it is about to write
//! ([`validate_records`], or [`Validator`] record by record) and `skiptrace metro2 validate`
//! validates what it reads (the reader's structural findings are merged in by the caller).
//! Each [`Finding`] carries a severity, a stable rule id, a plain-language message, the
//! record number, the account number (never the SSN) and the field. This module must not do
//! I/O. Rule ids are listed in [`RULES`] and in the README.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rustc_hash::FxHashSet;
use serde::Serialize;

use super::layout::{FieldSpec, FieldType, Segment};
use super::model::{Base, DataRecord, Header, Trailer};
use super::totals::Totals;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The bureaus would reject it, or it misreports the account.
    Error,
    /// Probably wrong; review it.
    Warning,
}

impl Severity {
    /// `error` / `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem found in a file or record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Severity.
    pub severity: Severity,
    /// Stable rule id (see [`RULES`]).
    pub rule: &'static str,
    /// Plain-language explanation (never an SSN or date of birth in clear).
    pub message: String,
    /// 1-based data record number; 0 for the header; for the trailer, the number after the
    /// last data record.
    pub record: u64,
    /// Byte offset of the record in the file, when read from a file.
    pub offset: Option<u64>,
    /// Consumer account number of the record (empty for header and trailer).
    pub account: String,
    /// Segment, when the finding belongs to one.
    pub segment: Option<Segment>,
    /// Field, when the finding belongs to one.
    pub field: Option<&'static FieldSpec>,
}

impl Finding {
    /// A record-level finding (no field).
    pub fn new(severity: Severity, rule: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            severity,
            rule,
            message: message.into(),
            record: 0,
            offset: None,
            account: String::new(),
            segment: None,
            field: None,
        }
    }
}

/// Every rule id with its severity and a one-line description (the README lists them).
pub const RULES: &[(&str, Severity, &str)] = &[
    // Structure (reader).
    ("structure.packed_format", Severity::Error, "packed (366-byte) files are not supported"),
    ("structure.not_metro2", Severity::Error, "the file does not start with a header record"),
    ("structure.rdw", Severity::Error, "record descriptor word differs from the record's length"),
    ("structure.bdw", Severity::Error, "block descriptor word differs from the block's length"),
    ("structure.segment", Severity::Error, "unknown, truncated or misplaced appended segment"),
    ("structure.segment_order", Severity::Error, "appended segments out of CRRG order or repeated"),
    ("structure.record", Severity::Error, "record cannot be delimited or is too short"),
    ("structure.trailer", Severity::Error, "trailer missing, repeated or not last"),
    ("structure.field_format", Severity::Error, "field not numeric, not a date, or not ASCII"),
    // moov-io/metro2 checks (§6.2).
    ("required_field", Severity::Error, "a required field is zero or blank"),
    ("header.future_date", Severity::Error, "activity date or date created in the future"),
    ("base.correction_indicator", Severity::Error, "correction indicator not 0 or 1"),
    ("base.identification_number", Severity::Error, "identification number all 0, 9 or blank"),
    ("base.portfolio_type", Severity::Error, "portfolio type not C, I, M, O, R or L"),
    ("base.account_type", Severity::Error, "account type not in the CRRG list"),
    ("base.terms_duration", Severity::Error, "terms duration not LOC, REV, 001 or a number"),
    ("base.terms_frequency", Severity::Error, "terms frequency not in the CRRG list"),
    ("base.account_status", Severity::Error, "account status not in the CRRG list"),
    ("base.payment_rating", Severity::Error, "payment rating missing or not allowed (C1)"),
    ("base.payment_history_profile", Severity::Error, "payment history profile malformed (C12)"),
    ("base.special_comment", Severity::Error, "special comment not in the CRRG list"),
    ("base.compliance_condition_code", Severity::Error, "compliance condition code unknown"),
    ("base.interest_type", Severity::Error, "interest type indicator not F, V or blank"),
    ("consumer.ecoa_code", Severity::Error, "ECOA code unknown"),
    ("consumer.ecoa_obsolete", Severity::Warning, "ECOA code 0, 4 or 6 (obsolete since 2003)"),
    ("consumer.information_indicator", Severity::Error, "consumer information indicator unknown"),
    ("consumer.generation_code", Severity::Error, "generation code not J, S, 2-9 or blank"),
    ("consumer.ssn_or_dob", Severity::Error, "neither SSN nor date of birth reported (C13)"),
    ("consumer.authorized_user_dob", Severity::Error, "ECOA 3 without a date of birth (C13)"),
    ("consumer.telephone", Severity::Error, "telephone number not 10 digits"),
    (
        "consumer.name_characters",
        Severity::Warning,
        "name with characters other than letters, blank, hyphen",
    ),
    ("address.state", Severity::Error, "state not a USPS code"),
    ("address.zip_code", Severity::Error, "postal code not 5 or 9 digits"),
    ("address.indicator", Severity::Error, "address indicator not in the CRRG list"),
    ("address.residence_code", Severity::Error, "residence code not O, R or blank"),
    ("address.country_code", Severity::Error, "country code not two letters"),
    ("text.upper_case", Severity::Warning, "lower-case letters (the CRRG asks for upper case)"),
    ("k1.creditor_classification", Severity::Error, "K1 creditor classification not 01-15"),
    ("k2.purchased_indicator", Severity::Error, "K2 indicator not 1, 2 or 9, or name inconsistent"),
    (
        "k3.agency_identifier",
        Severity::Error,
        "K3 agency identifier not 00-02, or account number inconsistent",
    ),
    ("k4.specialized_payment_indicator", Severity::Error, "K4 indicator not 01 or 02"),
    (
        "l1.change_indicator",
        Severity::Error,
        "L1 change indicator not 1-3, or new values inconsistent",
    ),
    (
        "account.number",
        Severity::Error,
        "account number blank, with embedded blanks, or equal to the SSN",
    ),
    ("account.duplicate", Severity::Error, "the same account appears twice in the file"),
    (
        "account.duplicate_check_limited",
        Severity::Warning,
        "more accounts than the duplicate check tracks (memory bound); later ones unchecked",
    ),
    ("date.future", Severity::Error, "date opened or date of account information in the future"),
    (
        "date.order",
        Severity::Error,
        "dates out of order (opened, first delinquency, closed, payment, account information)",
    ),
    (
        "date.doai_after_activity",
        Severity::Warning,
        "date of account information after the header activity date",
    ),
    ("trailer.totals", Severity::Error, "trailer total differs from the file's content (C18)"),
    (
        "crrg.doai_current_period",
        Severity::Warning,
        "date of account information before the reporting period for a current/delinquent status (C6)",
    ),
    // CRRG field relationships (§5.2) and CFPB evaluators (§5.3).
    (
        "cfpb.status_dofd_1",
        Severity::Error,
        "delinquent, collection or paid-delinquent status without a date of first delinquency",
    ),
    (
        "cfpb.status_dofd_2",
        Severity::Error,
        "status 13/05 with a late payment rating but no date of first delinquency",
    ),
    (
        "cfpb.status_dofd_4",
        Severity::Error,
        "status 13/05 rated current with a date of first delinquency",
    ),
    (
        "cfpb.status_dofd_6",
        Severity::Error,
        "current account (11) with a date of first delinquency",
    ),
    (
        "cfpb.status_apd_1",
        Severity::Error,
        "delinquent or collection status with no amount past due",
    ),
    ("cfpb.status_apd_2", Severity::Error, "current or paid status with an amount past due"),
    ("cfpb.status_balance_1", Severity::Error, "paid status with a balance"),
    (
        "cfpb.status_balance_2",
        Severity::Error,
        "delinquent or collection status with a zero balance",
    ),
    (
        "cfpb.status_balance_9",
        Severity::Warning,
        "open portfolio: zero balance with a status that implies a balance",
    ),
    (
        "cfpb.status_balance_10",
        Severity::Warning,
        "open portfolio: balance with a status that implies none",
    ),
    (
        "cfpb.status_chargeoff_1",
        Severity::Error,
        "original charge-off amount on a status other than 64/97",
    ),
    (
        "cfpb.status_chargeoff_2",
        Severity::Error,
        "status 64/97 without an original charge-off amount",
    ),
    (
        "cfpb.status_date_closed_1",
        Severity::Error,
        "paid or transferred status without a date closed",
    ),
    (
        "cfpb.status_date_closed_2",
        Severity::Error,
        "open, delinquent or collection status with a date closed",
    ),
    (
        "cfpb.status_smpa_1",
        Severity::Error,
        "paid or charged-off status with a scheduled monthly payment",
    ),
    (
        "cfpb.ccc_date_closed_1",
        Severity::Error,
        "XA (closed at consumer's request) without a date closed",
    ),
    ("cfpb.type_credit_limit_1", Severity::Error, "collection account type with a credit limit"),
    (
        "cfpb.type_hcola_1",
        Severity::Error,
        "collection account type without a highest credit / original amount",
    ),
    (
        "cfpb.scc_au_1",
        Severity::Error,
        "special comment AU (settled) with a status other than 13/61-65",
    ),
    (
        "cfpb.doai_payment_1",
        Severity::Warning,
        "paid status whose date of account information is not the last payment date",
    ),
    (
        "cfpb.portfolio_type_1",
        Severity::Error,
        "line-of-credit portfolio with a non-line-of-credit account type",
    ),
    (
        "crrg.terms_duration",
        Severity::Error,
        "terms duration does not fit the portfolio type (C10)",
    ),
    ("crrg.smpa_open", Severity::Error, "open portfolio with a scheduled monthly payment (C8)"),
    (
        "crrg.deferred_k4",
        Severity::Error,
        "terms frequency D without a K4 deferred payment start date (C11)",
    ),
    // Collection-account profile (§5.2a, account types 48, 0C, 77).
    (
        "collection.portfolio_type",
        Severity::Error,
        "collection account not reported with portfolio O",
    ),
    (
        "collection.account_status",
        Severity::Error,
        "collection account with a status other than 93, 62, DA, DF",
    ),
    (
        "collection.k1_required",
        Severity::Error,
        "collection account without a K1 original creditor",
    ),
    (
        "collection.k2_debt_buyer",
        Severity::Warning,
        "debt-buyer account (0C) without a K2 purchased-from",
    ),
    (
        "collection.dofd_after_opened",
        Severity::Error,
        "date of first delinquency after the placement date",
    ),
    (
        "collection.obsolete",
        Severity::Warning,
        "date of first delinquency over 7 years and 180 days ago (FCRA 605(c))",
    ),
    (
        "collection.ccc_consumer_closed",
        Severity::Warning,
        "closed-at-consumer's-request code on a collection account",
    ),
];

/// Validator settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValidateOptions {
    /// Business date: dates after it are "in the future". `None` skips future-date checks.
    pub as_of: Option<Date>,
    /// Apply the collection-account profile (§5.2a) to account types 48, 0C and 77.
    pub collection_profile: bool,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions { as_of: None, collection_profile: true }
    }
}

/// Counts of a validation: findings by rule and severity, records by status.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Data records seen.
    pub records: u64,
    /// Data records with at least one error finding.
    pub records_with_errors: u64,
    /// Data records with warnings but no errors.
    pub records_with_warnings: u64,
    /// Data records without findings.
    pub records_clean: u64,
    /// Findings of severity error (all records, header, trailer, structure).
    pub errors: u64,
    /// Findings of severity warning.
    pub warnings: u64,
    /// Findings by rule id.
    pub by_rule: BTreeMap<&'static str, u64>,
    /// Data records by account status (`93`, `62`, ...).
    pub by_status: BTreeMap<String, u64>,
}

impl Summary {
    /// Counts findings that do not belong to a data record (structure, header, trailer).
    pub fn count(&mut self, f: &[Finding]) {
        for x in f {
            *self.by_rule.entry(x.rule).or_default() += 1;
            match x.severity {
                Severity::Error => self.errors += 1,
                Severity::Warning => self.warnings += 1,
            }
        }
    }
}

/// A whole validation: findings and summary.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// All findings, in file order.
    pub findings: Vec<Finding>,
    /// Counts.
    pub summary: Summary,
}

impl Report {
    /// True when there is a finding of severity error.
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }
}

/// Validates records held in memory (the furnish stage's entry point): header, every record,
/// and the trailer (when given; the writer computes it otherwise).
pub fn validate_records(
    header: &Header,
    records: &[DataRecord],
    trailer: Option<&Trailer>,
    opts: ValidateOptions,
) -> Report {
    let mut v = Validator::new(opts);
    let mut findings = Vec::new();
    v.header(header, &mut findings);
    for (i, r) in records.iter().enumerate() {
        v.record(i as u64 + 1, r, &mut findings);
    }
    if let Some(t) = trailer {
        v.trailer(t, &mut findings);
    }
    Report { findings, summary: v.into_summary() }
}

/// Stateful validator: header, then each data record in order, then the trailer. Keeps the
/// state file-level rules need (totals, seen accounts) in bounded memory.
pub struct Validator {
    opts: ValidateOptions,
    totals: Totals,
    seen: FxHashSet<u64>,
    summary: Summary,
    dates: Dates,
    records: u64,
    last_state: u8,
    duplicate_limit: usize,
    limit_reported: bool,
}

/// Accounts the duplicate check remembers (8 bytes each, about 40 MB at most): memory stays
/// bounded whatever the file size.
pub const DUPLICATE_CHECK_LIMIT: usize = 3_000_000;

impl Validator {
    /// A validator for one file.
    pub fn new(opts: ValidateOptions) -> Self {
        Validator {
            opts,
            totals: Totals::new(),
            seen: FxHashSet::default(),
            summary: Summary::default(),
            dates: Dates {
                activity: None,
                period_start: None,
                obsolete_before: opts
                    .as_of
                    .map(|d| crate::dates::add_days(crate::dates::add_years(d, -7), -180)),
            },
            records: 0,
            last_state: 0,
            duplicate_limit: DUPLICATE_CHECK_LIMIT,
            limit_reported: false,
        }
    }

    /// Checks the header record.
    pub fn header(&mut self, h: &Header, out: &mut Vec<Finding>) {
        let start = out.len();
        let mut c = Checker { out, record: 0, account: "", segment: Segment::Header };
        h.missing_required(&mut |f| c.required(f));
        h.lower_case(&mut |f| c.lower(f));
        if let Some(today) = self.opts.as_of {
            for (name, d) in [("activity_date", h.activity_date), ("date_created", h.date_created)]
            {
                if d.is_some_and(|d| d > today) {
                    c.field(name, "header.future_date", format!("{name} is after {today}"));
                }
            }
        }
        self.dates.activity = h.activity_date;
        self.dates.period_start = h.activity_date.map(|d| crate::dates::add_days(d, -31));
        self.summary.count(&out[start..]);
    }

    /// Checks one data record (`number` is 1-based) and counts it.
    pub fn record(&mut self, number: u64, r: &DataRecord, out: &mut Vec<Finding>) {
        let start = out.len();
        self.records += 1;
        self.totals.add(r);
        match self.summary.by_status.get_mut(r.base.account_status.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.summary.by_status.insert(r.base.account_status.clone(), 1);
            }
        }
        let account = r.base.consumer_account_number.as_str();
        {
            let mut c = Checker { out, record: number, account, segment: Segment::Base };
            check_record(&mut c, r, &self.opts, &self.dates);
        }
        let key = hash_key(&r.base.identification_number, account);
        let tracked = self.seen.len() < self.duplicate_limit;
        if !tracked && !self.limit_reported {
            self.limit_reported = true;
            let mut c = Checker { out, record: number, account, segment: Segment::Base };
            c.field(
                "consumer_account_number",
                "account.duplicate_check_limited",
                format!(
                    "the duplicate-account check tracks the first {} accounts; from this record on, duplicates are not detected",
                    self.duplicate_limit
                ),
            );
        }
        let duplicate = if tracked { !self.seen.insert(key) } else { self.seen.contains(&key) };
        if !account.is_empty() && duplicate {
            let mut c = Checker { out, record: number, account, segment: Segment::Base };
            c.field(
                "consumer_account_number",
                "account.duplicate",
                "this identification number and account number already appeared in the file",
            );
        }
        self.tally(&out[start..]);
    }

    /// Folds findings found elsewhere (the reader's structural findings for a data record)
    /// into the summary.
    pub fn count_extra(&mut self, f: &[Finding]) {
        self.summary.count(f);
    }

    /// Folds structural findings of the data record just checked by [`Validator::record`]
    /// into the summary, moving the record to "with errors" when one is an error.
    pub fn count_record_extra(&mut self, f: &[Finding]) {
        self.summary.count(f);
        if f.is_empty() {
            return;
        }
        let s = &mut self.summary;
        let last = if s.records_clean > 0 && self.last_state == 0 {
            &mut s.records_clean
        } else if self.last_state == 1 {
            &mut s.records_with_warnings
        } else {
            return;
        };
        *last -= 1;
        if f.iter().any(|x| x.severity == Severity::Error) {
            s.records_with_errors += 1;
            self.last_state = 2;
        } else {
            s.records_with_warnings += 1;
            self.last_state = 1;
        }
    }

    fn tally(&mut self, f: &[Finding]) {
        self.summary.count(f);
        self.summary.records += 1;
        if f.iter().any(|x| x.severity == Severity::Error) {
            self.summary.records_with_errors += 1;
            self.last_state = 2;
        } else if f.is_empty() {
            self.summary.records_clean += 1;
            self.last_state = 0;
        } else {
            self.summary.records_with_warnings += 1;
            self.last_state = 1;
        }
    }

    /// Checks the trailer against the totals of the records seen (C18).
    pub fn trailer(&mut self, t: &Trailer, out: &mut Vec<Finding>) {
        let start = out.len();
        let expected = self.totals.trailer();
        let mut want = Vec::new();
        expected.visit(&mut |f, v| want.push((f, v.masked())));
        let mut i = 0;
        let record = self.records + 1;
        let mut c = Checker { out, record, account: "", segment: Segment::Trailer };
        t.visit(&mut |f, v| {
            if let Some((ef, ev)) = want.get(i)
                && f.kind == FieldType::Numeric
                && std::ptr::eq(*ef, f)
                && v.masked() != *ev
            {
                c.push(
                    Some(f),
                    "trailer.totals",
                    format!("{} is {} but the file's content gives {ev}", f.name, v.masked()),
                );
            }
            i += 1;
        });
        self.summary.count(&out[start..]);
    }

    /// The summary so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Ends the validation.
    pub fn into_summary(self) -> Summary {
        self.summary
    }
}

fn hash_key(id: &str, account: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    id.trim().hash(&mut h);
    account.hash(&mut h);
    h.finish()
}

struct Checker<'a> {
    out: &'a mut Vec<Finding>,
    record: u64,
    account: &'a str,
    segment: Segment,
}

fn severity_of(rule: &str) -> Severity {
    RULES.iter().find(|r| r.0 == rule).map_or(Severity::Error, |r| r.1)
}

impl Checker<'_> {
    fn push(&mut self, field: Option<&'static FieldSpec>, rule: &'static str, msg: String) {
        self.out.push(Finding {
            severity: severity_of(rule),
            rule,
            message: msg,
            record: self.record,
            offset: None,
            account: self.account.to_string(),
            segment: Some(self.segment),
            field,
        });
    }

    fn field(&mut self, name: &str, rule: &'static str, msg: impl Into<String>) {
        let f = self.segment.layout().field(name);
        self.push(f, rule, msg.into());
    }

    fn on(&mut self, segment: Segment) -> &mut Self {
        self.segment = segment;
        self
    }

    fn required(&mut self, f: &'static FieldSpec) {
        self.push(Some(f), "required_field", format!("{} is required", f.name));
    }

    fn lower(&mut self, f: &'static FieldSpec) {
        self.push(Some(f), "text.upper_case", format!("{} has lower-case letters", f.name));
    }
}

const ACCOUNT_TYPES: &[&str] = &[
    "00", "01", "02", "03", "04", "05", "06", "07", "08", "0A", "0C", "0F", "0G", "10", "11", "12",
    "13", "15", "17", "18", "19", "20", "25", "26", "29", "2A", "2C", "37", "3A", "43", "47", "48",
    "4D", "50", "5A", "5B", "65", "66", "67", "68", "69", "6A", "6B", "6D", "70", "71", "72", "73",
    "74", "75", "77", "7A", "7B", "89", "8A", "8B", "90", "91", "92", "93", "95", "9A", "9B",
];
const STATUSES: &[&str] = &[
    "05", "11", "13", "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89",
    "93", "94", "95", "96", "97", "DA", "DF",
];
const SPECIAL_COMMENTS: &[&str] = &[
    "AB", "AC", "AH", "AI", "AM", "AN", "AO", "AP", "AS", "AT", "AU", "AV", "AW", "AX", "AZ", "B",
    "BA", "BB", "BC", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BK", "BL", "BN", "BO", "BP", "BS",
    "BT", "C", "CH", "CI", "CJ", "CK", "CL", "CM", "CN", "CO", "CP", "CS", "DE", "H", "I", "M",
    "O", "S", "V",
];
const CCC: &[&str] = &["XA", "XB", "XC", "XD", "XE", "XF", "XG", "XH", "XJ", "XR"];
const CII: &[&str] = &[
    "1A", "2A", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P",
    "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
];
const ECOA: &[&str] = &["1", "2", "3", "5", "7", "T", "W", "X", "Z"];
const DELINQUENT: &[&str] = &[
    "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95",
    "96", "97",
];
const PAST_DUE: &[&str] = &["71", "78", "80", "82", "83", "84", "93", "97"];
const PAID: &[&str] = &["05", "13", "61", "62", "63", "64", "65"];
const COLLECTION_TYPES: &[&str] = &["0C", "48", "77"];

/// A code of up to 3 bytes packed into an integer that sorts like the text (bytes
/// left-aligned, length in the low byte); longer text gets a value no code has.
#[inline]
fn code(s: &str) -> u32 {
    match *s.as_bytes() {
        [] => 0,
        [a] => (u32::from(a) << 24) | 1,
        [a, b] => (u32::from(a) << 24) | (u32::from(b) << 16) | 2,
        [a, b, c] => (u32::from(a) << 24) | (u32::from(b) << 16) | (u32::from(c) << 8) | 3,
        _ => u32::MAX,
    }
}

/// Membership in a short inline list of codes (integer compares, no string compares).
#[inline]
fn is(v: &str, list: &[&str]) -> bool {
    let k = code(v);
    k != u32::MAX && list.iter().any(|x| code(x) == k)
}

/// [`code`] at compile time.
const fn code_const(s: &str) -> u32 {
    let b = s.as_bytes();
    match b.len() {
        0 => 0,
        1 => ((b[0] as u32) << 24) | 1,
        2 => ((b[0] as u32) << 24) | ((b[1] as u32) << 16) | 2,
        3 => ((b[0] as u32) << 24) | ((b[1] as u32) << 16) | ((b[2] as u32) << 8) | 3,
        _ => u32::MAX,
    }
}

/// A code list packed with [`code`] and sorted, at compile time.
const fn pack<const N: usize>(list: &[&str]) -> [u32; N] {
    let mut out = [0u32; N];
    let mut i = 0;
    while i < N {
        out[i] = code_const(list[i]);
        i += 1;
    }
    // Insertion sort (const context).
    let mut i = 1;
    while i < N {
        let mut j = i;
        while j > 0 && out[j - 1] > out[j] {
            let t = out[j - 1];
            out[j - 1] = out[j];
            out[j] = t;
            j -= 1;
        }
        i += 1;
    }
    out
}

const ACCOUNT_TYPES_K: [u32; ACCOUNT_TYPES.len()] = pack::<{ ACCOUNT_TYPES.len() }>(ACCOUNT_TYPES);
const STATUSES_K: [u32; STATUSES.len()] = pack::<{ STATUSES.len() }>(STATUSES);
const SPECIAL_COMMENTS_K: [u32; SPECIAL_COMMENTS.len()] =
    pack::<{ SPECIAL_COMMENTS.len() }>(SPECIAL_COMMENTS);
const CCC_K: [u32; CCC.len()] = pack::<{ CCC.len() }>(CCC);
const CII_K: [u32; CII.len()] = pack::<{ CII.len() }>(CII);
const ECOA_K: [u32; ECOA.len()] = pack::<{ ECOA.len() }>(ECOA);
const DELINQUENT_K: [u32; DELINQUENT.len()] = pack::<{ DELINQUENT.len() }>(DELINQUENT);
const PAST_DUE_K: [u32; PAST_DUE.len()] = pack::<{ PAST_DUE.len() }>(PAST_DUE);
const PAID_K: [u32; PAID.len()] = pack::<{ PAID.len() }>(PAID);
const COLLECTION_TYPES_K: [u32; COLLECTION_TYPES.len()] =
    pack::<{ COLLECTION_TYPES.len() }>(COLLECTION_TYPES);
const STATE_CODES_K: [u32; crate::normalize::STATE_CODES.len()] =
    pack::<{ crate::normalize::STATE_CODES.len() }>(crate::normalize::STATE_CODES);

/// Membership in one of the packed code lists above.
fn in_list(v: &str, list: &[u32]) -> bool {
    let k = code(v);
    k != u32::MAX && list.binary_search(&k).is_ok()
}

// One call per consumer segment (base, J1, J2); the arguments are that segment's fields.
#[allow(clippy::too_many_arguments)]
fn check_consumer(
    c: &mut Checker<'_>,
    ecoa: &str,
    gen_code: &str,
    ssn_reported: bool,
    dob: Option<Date>,
    phone: u64,
    cii: &str,
    names: [&str; 3],
    exempt_ecoa: &[&str],
) {
    if !ecoa.is_empty() && !in_list(ecoa, &ECOA_K) {
        if is(ecoa, &["0", "4", "6"]) {
            c.field("ecoa_code", "consumer.ecoa_obsolete", format!("ECOA code {ecoa} is obsolete"));
        } else {
            c.field("ecoa_code", "consumer.ecoa_code", format!("ECOA code {ecoa:?} is not valid"));
        }
    }
    if !gen_code.is_empty() && !is(gen_code, &["J", "S", "2", "3", "4", "5", "6", "7", "8", "9"]) {
        c.field(
            "generation_code",
            "consumer.generation_code",
            format!("generation code {gen_code:?} is not J, S or 2-9"),
        );
    }
    if !ssn_reported && dob.is_none() && !is(ecoa, exempt_ecoa) {
        c.field(
            "social_security_number",
            "consumer.ssn_or_dob",
            "neither an SSN nor a date of birth is reported",
        );
    }
    if ecoa == "3" && dob.is_none() {
        c.field(
            "date_birth",
            "consumer.authorized_user_dob",
            "an authorized user needs a date of birth",
        );
    }
    if phone != 0 && !(1_000_000_000..=9_999_999_999).contains(&phone) {
        c.field("telephone_number", "consumer.telephone", "telephone number is not 10 digits");
    }
    if !cii.is_empty() && !in_list(cii, &CII_K) {
        c.field(
            "consumer_information_indicator",
            "consumer.information_indicator",
            format!("consumer information indicator {cii:?} is not valid"),
        );
    }
    for (name, v) in ["surname", "first_name", "middle_name"].into_iter().zip(names) {
        if v.bytes().any(|b| !(b.is_ascii_alphabetic() || b == b' ' || b == b'-')) {
            c.field(
                name,
                "consumer.name_characters",
                format!("{name} has characters other than letters, blank and hyphen"),
            );
        }
    }
}

fn check_address(c: &mut Checker<'_>, state: &str, zip: &str, ind: &str, res: &str, country: &str) {
    if !state.is_empty() && !in_list(state, &STATE_CODES_K) {
        c.field("state", "address.state", format!("state {state:?} is not a USPS code"));
    }
    let digits = zip.bytes().all(|b| b.is_ascii_digit());
    if !zip.is_empty() && !(digits && (zip.len() == 5 || zip.len() == 9)) {
        c.field("zip_code", "address.zip_code", "postal code is not 5 or 9 digits");
    }
    if !ind.is_empty() && !is(ind, &["C", "Y", "N", "M", "S", "B", "U", "D", "P"]) {
        c.field(
            "address_indicator",
            "address.indicator",
            format!("address indicator {ind:?} is not valid"),
        );
    }
    if !res.is_empty() && !is(res, &["O", "R"]) {
        c.field(
            "residence_code",
            "address.residence_code",
            format!("residence code {res:?} is not O or R"),
        );
    }
    let two_letters = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase());
    if !country.is_empty() && !two_letters {
        c.field(
            "country_code",
            "address.country_code",
            format!("country code {country:?} is not two letters"),
        );
    }
}

/// Dates the rules compare against, computed once per file.
#[derive(Clone, Copy, Debug, Default)]
struct Dates {
    /// Header activity date.
    activity: Option<Date>,
    /// Start of the reporting period: 31 days before the activity date.
    period_start: Option<Date>,
    /// A first delinquency before this date is past the FCRA reporting period.
    obsolete_before: Option<Date>,
}

fn check_record(c: &mut Checker<'_>, r: &DataRecord, opts: &ValidateOptions, dates: &Dates) {
    let b = &r.base;
    b.missing_required(&mut |f| c.required(f));
    b.lower_case(&mut |f| c.lower(f));
    check_base_codes(c, b);
    check_consumer(
        c,
        &b.ecoa_code,
        &b.generation_code,
        b.social_security_number.is_reported(),
        b.date_birth.0,
        b.telephone_number,
        &b.consumer_information_indicator,
        [&b.surname, &b.first_name, &b.middle_name],
        &["W", "Z", "T"],
    );
    check_address(
        c,
        &b.state,
        &b.zip_code,
        &b.address_indicator,
        &b.residence_code,
        &b.country_code,
    );
    check_dates(c, b, opts, dates);
    check_relationships(c, r);
    if opts.collection_profile && in_list(&b.account_type, &COLLECTION_TYPES_K) {
        check_collection(c, r, dates);
    }
    for j in &r.j1 {
        c.on(Segment::J1);
        j.missing_required(&mut |f| c.required(f));
        j.lower_case(&mut |f| c.lower(f));
        check_consumer(
            c,
            &j.ecoa_code,
            &j.generation_code,
            j.social_security_number.is_reported(),
            j.date_birth.0,
            j.telephone_number,
            &j.consumer_information_indicator,
            [&j.surname, &j.first_name, &j.middle_name],
            &["Z", "T"],
        );
    }
    for j in &r.j2 {
        c.on(Segment::J2);
        j.missing_required(&mut |f| c.required(f));
        j.lower_case(&mut |f| c.lower(f));
        check_consumer(
            c,
            &j.ecoa_code,
            &j.generation_code,
            j.social_security_number.is_reported(),
            j.date_birth.0,
            j.telephone_number,
            &j.consumer_information_indicator,
            [&j.surname, &j.first_name, &j.middle_name],
            &["W", "Z", "T"],
        );
        check_address(
            c,
            &j.state,
            &j.zip_code,
            &j.address_indicator,
            &j.residence_code,
            &j.country_code,
        );
    }
    if let Some(k) = &r.k1 {
        c.on(Segment::K1);
        k.missing_required(&mut |f| c.required(f));
        k.lower_case(&mut |f| c.lower(f));
        if !(1..=15).contains(&k.creditor_classification) {
            c.field(
                "creditor_classification",
                "k1.creditor_classification",
                format!("creditor classification {:02} is not 01-15", k.creditor_classification),
            );
        }
    }
    if let Some(k) = &r.k2 {
        c.on(Segment::K2);
        k.missing_required(&mut |f| {
            if f.name != "purchased_name" {
                c.required(f)
            }
        });
        k.lower_case(&mut |f| c.lower(f));
        let blank = k.purchased_name.trim().is_empty();
        match (k.purchased_indicator, blank) {
            (1 | 2, false) | (9, true) => {}
            (1 | 2, true) => c.field(
                "purchased_name",
                "k2.purchased_indicator",
                "indicator 1 or 2 needs a purchased-from / sold-to name",
            ),
            (9, false) => c.field(
                "purchased_name",
                "k2.purchased_indicator",
                "indicator 9 (remove) needs a blank name",
            ),
            (n, _) => c.field(
                "purchased_indicator",
                "k2.purchased_indicator",
                format!("indicator {n} is not 1, 2 or 9"),
            ),
        }
    }
    if let Some(k) = &r.k3 {
        c.on(Segment::K3);
        k.missing_required(&mut |f| c.required(f));
        k.lower_case(&mut |f| c.lower(f));
        if k.agency_identifier > 2 {
            c.field(
                "agency_identifier",
                "k3.agency_identifier",
                format!("agency identifier {:02} is not 00, 01 or 02", k.agency_identifier),
            );
        } else if k.agency_identifier == 0 && !k.account_number.trim().is_empty() {
            c.field(
                "account_number",
                "k3.agency_identifier",
                "agency identifier 00 needs a blank account number",
            );
        }
    }
    if let Some(k) = &r.k4 {
        c.on(Segment::K4);
        k.missing_required(&mut |f| c.required(f));
        k.lower_case(&mut |f| c.lower(f));
        if !matches!(k.specialized_payment_indicator, 1 | 2) {
            c.field(
                "specialized_payment_indicator",
                "k4.specialized_payment_indicator",
                "indicator is not 01 or 02",
            );
        }
    }
    if let Some(l) = &r.l1 {
        c.on(Segment::L1);
        l.missing_required(&mut |f| c.required(f));
        l.lower_case(&mut |f| c.lower(f));
        let acct = !l.new_consumer_account_number.trim().is_empty();
        let id = !l.new_identification_number.trim().is_empty();
        let ok = match l.change_indicator {
            1 => acct && !id,
            2 => id && !acct,
            3 => acct && id,
            _ => false,
        };
        if !ok {
            c.field("change_indicator", "l1.change_indicator", format!("change indicator {} does not match the new account / identification numbers given (1: account only, 2: identification only, 3: both)", l.change_indicator));
        }
    }
    if let Some(n) = &r.n1 {
        c.on(Segment::N1);
        n.missing_required(&mut |f| c.required(f));
        n.lower_case(&mut |f| c.lower(f));
    }
    c.on(Segment::Base);
}

fn check_base_codes(c: &mut Checker<'_>, b: &Base) {
    if b.correction_indicator > 1 {
        c.field(
            "correction_indicator",
            "base.correction_indicator",
            "correction indicator is not 0 or 1",
        );
    }
    let id = b.identification_number.trim();
    if !id.is_empty() && (id.bytes().all(|x| x == b'0') || id.bytes().all(|x| x == b'9')) {
        c.field(
            "identification_number",
            "base.identification_number",
            "identification number is all zeros or nines",
        );
    }
    let p = b.portfolio_type.as_str();
    if !p.is_empty() && !is(p, &["C", "I", "M", "O", "R", "L"]) {
        c.field(
            "portfolio_type",
            "base.portfolio_type",
            format!("portfolio type {p:?} is not C, I, M, O, R or L"),
        );
    }
    let t = b.account_type.as_str();
    if !t.is_empty() && !in_list(t, &ACCOUNT_TYPES_K) {
        c.field(
            "account_type",
            "base.account_type",
            format!("account type {t:?} is not in the CRRG list"),
        );
    }
    let td = b.terms_duration.as_str();
    if !td.is_empty() && !is(td, &["LOC", "REV"]) && !td.bytes().all(|x| x.is_ascii_digit()) {
        c.field(
            "terms_duration",
            "base.terms_duration",
            format!("terms duration {td:?} is not LOC, REV or a number"),
        );
    }
    let tf = b.terms_frequency.as_str();
    if !tf.is_empty() && !is(tf, &["D", "P", "W", "B", "E", "M", "L", "Q", "T", "S", "Y"]) {
        c.field(
            "terms_frequency",
            "base.terms_frequency",
            format!("terms frequency {tf:?} is not valid"),
        );
    }
    let s = b.account_status.as_str();
    if !s.is_empty() && !in_list(s, &STATUSES_K) {
        c.field(
            "account_status",
            "base.account_status",
            format!("account status {s:?} is not in the CRRG list"),
        );
    }
    let pr = b.payment_rating.as_str();
    let needs = is(s, &["05", "13", "65", "88", "89", "94", "95"]);
    if needs && !is(pr, &["0", "1", "2", "3", "4", "5", "6", "G", "L"]) {
        c.field(
            "payment_rating",
            "base.payment_rating",
            format!("status {s} needs a payment rating (0-6, G or L)"),
        );
    } else if !needs && !pr.is_empty() {
        c.field(
            "payment_rating",
            "base.payment_rating",
            format!("status {s} must have a blank payment rating"),
        );
    }
    let php = b.payment_history_profile.as_bytes();
    if !php.is_empty() {
        let bad_char = php.iter().any(|x| {
            !matches!(
                x,
                b'0'..=b'6' | b'B' | b'D' | b'E' | b'G' | b'H' | b'J' | b'K' | b'L' | b'Z' | b' '
            )
        });
        let first_b = php.iter().position(|&x| x == b'B');
        let embedded_b = first_b.is_some_and(|i| php.iter().skip(i).any(|&x| x != b'B'));
        if bad_char {
            c.field(
                "payment_history_profile",
                "base.payment_history_profile",
                "payment history profile has characters outside 0-6, B, D, E, G, H, J, K, L, Z",
            );
        } else if embedded_b {
            c.field(
                "payment_history_profile",
                "base.payment_history_profile",
                "B (no history) may only fill the end of the profile",
            );
        }
    }
    let sc = b.special_comment.as_str();
    if !sc.is_empty() && !in_list(sc, &SPECIAL_COMMENTS_K) {
        c.field(
            "special_comment",
            "base.special_comment",
            format!("special comment {sc:?} is not in the CRRG list"),
        );
    }
    let ccc = b.compliance_condition_code.as_str();
    if !ccc.is_empty() && !in_list(ccc, &CCC_K) {
        c.field(
            "compliance_condition_code",
            "base.compliance_condition_code",
            format!("compliance condition code {ccc:?} is not XA-XJ or XR"),
        );
    }
    let it = b.interest_type_indicator.as_str();
    if !it.is_empty() && !is(it, &["F", "V"]) {
        c.field(
            "interest_type_indicator",
            "base.interest_type",
            format!("interest type {it:?} is not F or V"),
        );
    }
    let acct = b.consumer_account_number.as_str();
    if acct.trim() != acct || acct.contains(' ') {
        c.field(
            "consumer_account_number",
            "account.number",
            "account number has embedded or leading blanks",
        );
    } else if b.social_security_number.is_reported()
        && contains_ssn(acct.as_bytes(), b.social_security_number.0)
    {
        c.field(
            "consumer_account_number",
            "account.number",
            "account number contains the consumer's SSN",
        );
    }
}

/// True when the 9 digits of `ssn` appear in `text` (no allocation).
fn contains_ssn(text: &[u8], ssn: u64) -> bool {
    if text.len() < 9 {
        return false;
    }
    let mut d = [0u8; 9];
    let mut n = ssn;
    for x in d.iter_mut().rev() {
        *x = b'0' + (n % 10) as u8;
        n /= 10;
    }
    text.windows(9).any(|w| w == d)
}

fn check_dates(c: &mut Checker<'_>, b: &Base, opts: &ValidateOptions, dates: &Dates) {
    let activity = dates.activity;
    if let Some(today) = opts.as_of {
        for name in [
            "date_opened",
            "date_account_information",
            "date_first_delinquency",
            "date_closed",
            "date_last_payment",
        ] {
            let d = base_date(b, name);
            if d.is_some_and(|d| d > today) {
                c.field(name, "date.future", format!("{name} is after {today}"));
            }
        }
    }
    let doai = b.date_account_information;
    let order = [
        ("date_opened", "date_account_information", b.date_opened, doai),
        ("date_first_delinquency", "date_account_information", b.date_first_delinquency, doai),
        ("date_closed", "date_account_information", b.date_closed, doai),
        ("date_last_payment", "date_account_information", b.date_last_payment, doai),
        ("date_opened", "date_closed", b.date_opened, b.date_closed),
    ];
    for (an, bn, a, bd) in order {
        if let (Some(x), Some(y)) = (a, bd)
            && x > y
        {
            c.field(an, "date.order", format!("{an} ({x}) is after {bn} ({y})"));
        }
    }
    if let (Some(d), Some(a)) = (doai, activity)
        && d > a
    {
        c.field(
            "date_account_information",
            "date.doai_after_activity",
            format!("date of account information ({d}) is after the header activity date ({a})"),
        );
    }
    let current = [
        "11", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95", "96", "97", "DA",
        "DF",
    ];
    if let (Some(d), Some(start)) = (doai, dates.period_start)
        && d < start
        && is(&b.account_status, &current)
    {
        c.field(
            "date_account_information",
            "crrg.doai_current_period",
            format!(
                "status {} reports a date of account information ({d}) in an earlier period than the file's activity date (C6)",
                b.account_status
            ),
        );
    }
}

fn base_date(b: &Base, name: &str) -> Option<Date> {
    match name {
        "date_opened" => b.date_opened,
        "date_account_information" => b.date_account_information,
        "date_first_delinquency" => b.date_first_delinquency,
        "date_closed" => b.date_closed,
        "date_last_payment" => b.date_last_payment,
        _ => None,
    }
}

fn check_relationships(c: &mut Checker<'_>, r: &DataRecord) {
    let b = &r.base;
    let s = b.account_status.as_str();
    let rating = b.payment_rating.as_str();
    let dofd = b.date_first_delinquency.is_some();
    let ccc = b.compliance_condition_code.as_str();
    let bankrupt = is(
        b.consumer_information_indicator.as_str(),
        &["A", "B", "C", "D", "E", "F", "G", "H", "Z", "1A", "V"],
    );
    if in_list(s, &DELINQUENT_K) && !dofd {
        c.field(
            "date_first_delinquency",
            "cfpb.status_dofd_1",
            format!("status {s} needs the date of first delinquency"),
        );
    }
    if is(s, &["13", "05"]) && is(rating, &["1", "2", "3", "4", "5", "6", "G", "L"]) && !dofd {
        c.field(
            "date_first_delinquency",
            "cfpb.status_dofd_2",
            format!("status {s} rated {rating} needs the date of first delinquency"),
        );
    }
    if is(s, &["13", "05"]) && rating == "0" && dofd && !bankrupt {
        c.field(
            "date_first_delinquency",
            "cfpb.status_dofd_4",
            format!("status {s} rated current must not carry a date of first delinquency"),
        );
    }
    if s == "11" && dofd && !bankrupt {
        c.field(
            "date_first_delinquency",
            "cfpb.status_dofd_6",
            "a current account (11) must not carry a date of first delinquency",
        );
    }
    if in_list(s, &PAST_DUE_K) && ccc != "XA" && b.amount_past_due == 0 {
        c.field(
            "amount_past_due",
            "cfpb.status_apd_1",
            format!("status {s} needs an amount past due"),
        );
    }
    if is(s, &["05", "11", "13", "61", "62", "63", "64", "65"]) && b.amount_past_due > 0 {
        c.field(
            "amount_past_due",
            "cfpb.status_apd_2",
            format!("status {s} must have no amount past due"),
        );
    }
    if in_list(s, &PAID_K) && b.current_balance > 0 {
        c.field(
            "current_balance",
            "cfpb.status_balance_1",
            format!("status {s} (paid or closed) must have a zero balance"),
        );
    }
    if in_list(s, &PAST_DUE_K) && b.current_balance == 0 {
        c.field("current_balance", "cfpb.status_balance_2", format!("status {s} needs a balance"));
    }
    let sc = b.special_comment.as_str();
    if b.portfolio_type == "O" && r.l1.is_none() && !is(sc, &["AH", "AT", "O"]) && !s.is_empty() {
        if b.current_balance == 0
            && !is(s, &["11", "13", "62", "64", "88", "DA", "DF"])
            && !in_list(s, &PAST_DUE_K)
        {
            c.field(
                "current_balance",
                "cfpb.status_balance_9",
                format!("open account with zero balance and status {s}"),
            );
        }
        if b.current_balance > 0
            && !is(s, &["11", "71", "78", "80", "82", "83", "84", "88", "93", "97", "DA", "DF"])
            && !in_list(s, &PAID_K)
        {
            c.field(
                "current_balance",
                "cfpb.status_balance_10",
                format!("open account with a balance and status {s}"),
            );
        }
    }
    if is(s, &["05", "11", "13", "62", "65", "71", "78", "80", "82", "83", "84", "89", "93"])
        && b.original_charge_off_amount > 0
    {
        c.field(
            "original_charge_off_amount",
            "cfpb.status_chargeoff_1",
            format!("status {s} must not carry an original charge-off amount"),
        );
    }
    if is(s, &["64", "97"]) && b.original_charge_off_amount == 0 {
        c.field(
            "original_charge_off_amount",
            "cfpb.status_chargeoff_2",
            format!("status {s} needs the original charge-off amount"),
        );
    }
    if is(s, &["05", "13", "62", "64", "65"]) && b.date_closed.is_none() {
        c.field(
            "date_closed",
            "cfpb.status_date_closed_1",
            format!("status {s} needs a date closed"),
        );
    }
    if is(s, &["11", "71", "78", "80", "82", "83", "84", "93"])
        && ccc != "XA"
        && b.date_closed.is_some()
    {
        c.field(
            "date_closed",
            "cfpb.status_date_closed_2",
            format!("status {s} must not carry a date closed"),
        );
    }
    if is(s, &["05", "13", "62", "64", "65", "97"]) && b.scheduled_monthly_payment_amount > 0 {
        c.field(
            "scheduled_monthly_payment_amount",
            "cfpb.status_smpa_1",
            format!("status {s} must have no scheduled monthly payment"),
        );
    }
    if ccc == "XA"
        && b.date_closed.is_none()
        && (is(s, &["11", "71", "78", "80", "82", "83", "84", "93"])
            || (s == "97" && is(&b.portfolio_type, &["C", "O", "R"])))
    {
        c.field(
            "date_closed",
            "cfpb.ccc_date_closed_1",
            "XA (closed at the consumer's request) needs a date closed",
        );
    }
    let t = b.account_type.as_str();
    if in_list(t, &COLLECTION_TYPES_K) && b.terms_frequency != "D" {
        if b.credit_limit > 0 {
            c.field(
                "credit_limit",
                "cfpb.type_credit_limit_1",
                format!("account type {t} must report a zero credit limit"),
            );
        }
        if b.highest_credit == 0 {
            c.field(
                "highest_credit",
                "cfpb.type_hcola_1",
                format!("account type {t} needs the original amount (highest credit)"),
            );
        }
    }
    if sc == "AU" && !is(s, &["13", "61", "62", "63", "64", "65"]) {
        c.field(
            "special_comment",
            "cfpb.scc_au_1",
            format!("AU (settled for less) needs a paid status, not {s}"),
        );
    }
    if is(s, &["13", "61", "62", "63", "64", "65"])
        && b.date_last_payment.is_some()
        && b.date_account_information != b.date_last_payment
    {
        c.field(
            "date_account_information",
            "cfpb.doai_payment_1",
            "a paid account's date of account information should be the date paid",
        );
    }
    if b.portfolio_type == "C" && !t.is_empty() && !is(t, &["15", "43", "47", "89", "7A", "9B"]) {
        c.field(
            "account_type",
            "cfpb.portfolio_type_1",
            format!("line-of-credit portfolio with account type {t}"),
        );
    }
    let td = b.terms_duration.as_str();
    let fits = match b.portfolio_type.as_str() {
        "C" => td == "LOC",
        "R" => td == "REV",
        "O" => td == "001",
        "I" | "M" => !td.is_empty() && td.bytes().all(|x| x.is_ascii_digit()),
        _ => true,
    };
    if !td.is_empty() && !fits {
        c.field(
            "terms_duration",
            "crrg.terms_duration",
            format!("terms duration {td:?} does not fit portfolio type {}", b.portfolio_type),
        );
    }
    if b.portfolio_type == "O" && b.scheduled_monthly_payment_amount > 0 {
        c.field(
            "scheduled_monthly_payment_amount",
            "crrg.smpa_open",
            "an open-portfolio account reports no scheduled monthly payment",
        );
    }
    if b.terms_frequency == "D"
        && r.k4.as_ref().is_none_or(|k| k.deferred_payment_start_date.is_none())
    {
        c.field(
            "terms_frequency",
            "crrg.deferred_k4",
            "deferred terms need a K4 deferred payment start date",
        );
    }
}

fn check_collection(c: &mut Checker<'_>, r: &DataRecord, dates: &Dates) {
    let b = &r.base;
    if b.portfolio_type != "O" {
        c.field(
            "portfolio_type",
            "collection.portfolio_type",
            format!(
                "a collection account (type {}) is reported with portfolio O, not {:?}",
                b.account_type, b.portfolio_type
            ),
        );
    }
    if !b.account_status.is_empty() && !is(&b.account_status, &["93", "62", "DA", "DF"]) {
        c.field(
            "account_status",
            "collection.account_status",
            format!("a collection account reports 93, 62, DA or DF, not {}", b.account_status),
        );
    }
    if r.k1.as_ref().is_none_or(|k| k.original_creditor_name.trim().is_empty()) {
        c.field(
            "account_type",
            "collection.k1_required",
            "a collection account needs a K1 segment naming the original creditor",
        );
    }
    if b.account_type == "0C" && r.k2.as_ref().is_none_or(|k| k.purchased_indicator != 1) {
        c.field(
            "account_type",
            "collection.k2_debt_buyer",
            "a debt-buyer account should name the seller in a K2 segment (indicator 1)",
        );
    }
    if let (Some(d), Some(o)) = (b.date_first_delinquency, b.date_opened)
        && d > o
    {
        c.field(
            "date_first_delinquency",
            "collection.dofd_after_opened",
            format!("the first delinquency ({d}) must precede placement / purchase ({o})"),
        );
    }
    if let (Some(d), Some(cutoff)) = (b.date_first_delinquency, dates.obsolete_before)
        && d < cutoff
        && !is(&b.account_status, &["DA", "DF"])
    {
        let purge = crate::dates::add_years(crate::dates::add_days(d, 180), 7);
        c.field(
            "date_first_delinquency",
            "collection.obsolete",
            format!(
                "the first delinquency ({d}) is past the 7-year reporting period (ended {purge})"
            ),
        );
    }
    if is(&b.compliance_condition_code, &["XA", "XD", "XE", "XJ"]) {
        c.field(
            "compliance_condition_code",
            "collection.ccc_consumer_closed",
            format!(
                "{} (closed at the consumer's request) does not apply to a collection account",
                b.compliance_condition_code
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{K1, SsnField};
    use jiff::civil::date;

    /// A clean unpaid collection record.
    pub(crate) fn good() -> DataRecord {
        let mut r = DataRecord::new(Base {
            processing_indicator: 1,
            identification_number: "AGENCY01".into(),
            consumer_account_number: "A10001".into(),
            portfolio_type: "O".into(),
            account_type: "48".into(),
            date_opened: Some(date(2026, 1, 15)),
            highest_credit: 1200,
            terms_duration: "001".into(),
            terms_frequency: "P".into(),
            account_status: "93".into(),
            payment_history_profile: "B".repeat(24),
            current_balance: 1200,
            amount_past_due: 1200,
            date_account_information: Some(date(2026, 10, 31)),
            date_first_delinquency: Some(date(2025, 6, 1)),
            surname: "DOE".into(),
            first_name: "JANE".into(),
            social_security_number: SsnField(123456789),
            ecoa_code: "1".into(),
            first_line_address: "1 MAIN ST".into(),
            city: "AUSTIN".into(),
            state: "TX".into(),
            zip_code: "78701".into(),
            ..Default::default()
        });
        r.k1 = Some(K1 { original_creditor_name: "ACME BANK".into(), creditor_classification: 8 });
        r
    }

    fn rules(r: &DataRecord) -> Vec<&'static str> {
        let opts = ValidateOptions { as_of: Some(date(2026, 11, 20)), collection_profile: true };
        let rep = validate_records(&Header::default(), std::slice::from_ref(r), None, opts);
        rep.findings.iter().filter(|f| f.segment != Some(Segment::Header)).map(|f| f.rule).collect()
    }

    #[test]
    fn a_clean_collection_record_has_no_findings() {
        assert_eq!(rules(&good()), Vec::<&str>::new());
    }

    #[test]
    fn findings_carry_account_field_and_no_ssn() {
        let mut r = good();
        r.base.date_first_delinquency = None;
        r.base.social_security_number = SsnField(0);
        let opts = ValidateOptions::default();
        let rep = validate_records(&Header::default(), &[good(), r], None, opts);
        let f = rep.findings.iter().find(|f| f.rule == "cfpb.status_dofd_1").unwrap();
        assert_eq!((f.record, f.account.as_str()), (2, "A10001"));
        assert_eq!(f.field.unwrap().crrg, "25");
        assert!(rep.findings.iter().any(|f| f.rule == "account.duplicate"));
        assert!(rep.findings.iter().any(|f| f.rule == "consumer.ssn_or_dob"));
        assert!(rep.findings.iter().all(|f| !f.message.contains("123456789")));
        assert_eq!(rep.summary.by_status.get("93"), Some(&2));
        assert_eq!(rep.summary.records, 2);
        assert_eq!(rep.summary.records_clean, 1);
    }

    #[test]
    fn code_lists_are_sorted_for_binary_search() {
        for l in
            [ACCOUNT_TYPES, STATUSES, SPECIAL_COMMENTS, CCC, CII, ECOA, DELINQUENT, PAST_DUE, PAID]
        {
            assert!(l.windows(2).all(|w| w[0] < w[1] && code(w[0]) < code(w[1])), "{l:?}");
            assert!(l.iter().all(|x| x.len() <= 3), "{l:?}");
        }
        assert!(
            in_list("0C", &ACCOUNT_TYPES_K)
                && in_list("9B", &ACCOUNT_TYPES_K)
                && !in_list("0B", &ACCOUNT_TYPES_K)
        );
        assert!(
            in_list("DF", &STATUSES_K)
                && in_list("1A", &CII_K)
                && in_list("DE", &SPECIAL_COMMENTS_K)
        );
        assert!(
            !in_list("DFX", &STATUSES_K) && !is("LOCX", &["LOC"]) && is("LOC", &["REV", "LOC"])
        );
        assert!(!is("", &["A"]) && !in_list("1", &CII_K) && in_list("A", &CII_K));
    }

    #[test]
    fn ssn_inside_an_account_number_is_found() {
        assert!(contains_ssn(b"X-012345678-9", 12_345_678));
        assert!(!contains_ssn(b"X-12345678", 12_345_678));
        assert!(!contains_ssn(b"C000000001", 123_456_789));
    }

    #[test]
    fn duplicate_check_is_bounded_and_says_so() {
        let mut v = Validator::new(ValidateOptions::default());
        v.duplicate_limit = 2;
        let mut out = Vec::new();
        for (i, acct) in ["A", "B", "A", "C", "C"].iter().enumerate() {
            let mut r = good();
            r.base.consumer_account_number = (*acct).into();
            v.record(i as u64 + 1, &r, &mut out);
        }
        let rules: Vec<(u64, &str)> = out.iter().map(|f| (f.record, f.rule)).collect();
        assert!(rules.contains(&(3, "account.duplicate")), "{rules:?}");
        assert!(rules.contains(&(3, "account.duplicate_check_limited")), "{rules:?}");
        assert!(!rules.contains(&(5, "account.duplicate")), "{rules:?}");
    }

    #[test]
    fn every_rule_id_is_declared_once() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.0).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}
