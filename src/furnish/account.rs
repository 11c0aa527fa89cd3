//! Accounts as the furnishing rules see them, streamed from the system of record.
//!
//! One SQL query (ordered by client and account number, so a cycle's file is always in the
//! same order) joins each account with its primary consumer, the consumer's current address and
//! phone (the most recently recorded row in state `current`) and the last snapshot furnished to
//! the same bureau; a second query in the same order streams the associated consumers (J1/J2)
//! and is merged with the first by account id;
//! dispute state is loaded once per cycle into a map (disputes are few). Values the database
//! stores as text are parsed here; a value that does not parse is recorded on the account as a
//! data error rather than failing the cycle.
//!
//! This module only reads; it must not decide anything about reporting.

use std::collections::HashMap;

use jiff::civil::Date;
use rusqlite::fallible_streaming_iterator::FallibleStreamingIterator;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, params};
use rust_decimal::Decimal;

use crate::dates::DateFormat;
use crate::money::Money;
use crate::pii::{Dob, Ssn};

/// A person on an account (primary or associated consumer).
#[derive(Clone, Debug, Default)]
pub struct Person {
    /// Surname.
    pub surname: String,
    /// First name.
    pub first_name: String,
    /// Middle name (may be empty).
    pub middle_name: String,
    /// Metro 2 generation code (J, S, 2-9) or empty.
    pub generation: String,
    /// Structurally valid SSN, when one is on file.
    pub ssn: Option<Ssn>,
    /// Date of birth, when on file.
    pub dob: Option<Dob>,
    /// Date of death, when reported.
    pub deceased_date: Option<Date>,
    /// Bankruptcy chapter (`7`, `11`, `12`, `13`) when reported.
    pub bankruptcy_chapter: Option<String>,
    /// Bankruptcy status (`petition`, `discharged`, `dismissed`, `withdrawn`).
    pub bankruptcy_status: Option<String>,
    /// Current mailing address.
    pub address: Option<Address>,
    /// Current phone, 10 digits.
    pub phone: Option<String>,
}

/// A mailing address as stored (already normalised by ingest).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Address {
    /// First line.
    pub line1: String,
    /// Second line (may be empty).
    pub line2: String,
    /// City.
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    /// 5- or 9-digit ZIP.
    pub zip: String,
}

/// An associated consumer (Metro 2 J1/J2) with the ECOA code of their liability.
#[derive(Clone, Debug, Default)]
pub struct Associate {
    /// The person.
    pub person: Person,
    /// ECOA code from `account_consumers`.
    pub ecoa: String,
}

/// What was furnished for this account to the same bureau in the latest earlier cycle.
#[derive(Clone, Debug, Default)]
pub struct Prior {
    /// Cycle date of that snapshot.
    pub cycle_date: Option<Date>,
    /// Metro 2 status reported (93, 62, DA, DF).
    pub status: String,
    /// Account number stored with the snapshot (the account's number at that time).
    pub account_number: String,
    /// Identification number reported.
    pub identification_number: Option<String>,
    /// DOFD reported (ISO text), if any.
    pub dofd: Option<String>,
    /// Payment history profile reported.
    pub php: Option<String>,
    /// Consumer information indicator reported.
    pub cii: Option<String>,
}

impl Prior {
    /// True when the account is on file at the bureau (last status not a deletion).
    pub fn is_live(&self) -> bool {
        self.status != "DA" && self.status != "DF"
    }
}

/// Dispute state of an account at the cycle date (from the `disputes` table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DisputeState {
    /// A dispute is open (investigation in progress).
    pub open: bool,
    /// A finished dispute records that the consumer disagrees with its outcome
    /// (a `consumer_disagrees` entry in `dispute_events`).
    pub consumer_disagrees: bool,
    /// A finished dispute deleted the account (outcome `deleted`).
    pub deleted: bool,
    /// A finished dispute deleted the account as fraud (outcome `deleted_fraud`).
    pub deleted_fraud: bool,
}

/// A stored value that could not be parsed: the column and the error code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadValue {
    /// Column name.
    pub column: &'static str,
    /// Error code (`invalid_date`, `invalid_amount`).
    pub code: &'static str,
}

/// One account with everything the furnishing rules need.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// `accounts.id`.
    pub id: i64,
    /// Client id.
    pub client_id: String,
    /// Client kind from the `clients` table (`agency`, `debt_buyer`, `returned_check`).
    pub client_kind: String,
    /// Client's account number.
    pub account_number: String,
    /// ECOA code of the primary consumer.
    pub ecoa: String,
    /// Metro 2 account type (48, 0C, 77).
    pub account_type: String,
    /// Original creditor (K1).
    pub original_creditor: String,
    /// K1 creditor classification.
    pub creditor_class: String,
    /// Seller, for debt buyers (K2).
    pub purchased_from: Option<String>,
    /// Date placed / purchased / check date.
    pub placed_date: Option<Date>,
    /// Amount placed / purchased.
    pub placed_amount: Option<Money>,
    /// Current balance.
    pub current_balance: Option<Money>,
    /// Amount past due.
    pub amount_past_due: Option<Money>,
    /// Original creditor's date of first delinquency.
    pub dofd: Option<Date>,
    /// Date of the last payment.
    pub last_payment_date: Option<Date>,
    /// Amount of the last payment.
    pub last_payment_amount: Option<Money>,
    /// Date closed.
    pub date_closed: Option<Date>,
    /// Account status in the system of record (`open`, `paid`, `settled`, `recalled`, `closed`).
    pub status: String,
    /// Medical debt.
    pub medical: bool,
    /// Date the validation notice was sent.
    pub validation_notice_date: Option<Date>,
    /// Date of the first conversation with the consumer.
    pub first_communication_date: Option<Date>,
    /// Most recent notice of undeliverability.
    pub undeliverable_date: Option<Date>,
    /// Identity theft confirmed.
    pub fraud_confirmed: bool,
    /// Furnishing allowed for this account (`accounts.furnish`).
    pub furnish: bool,
    /// Primary consumer.
    pub consumer: Person,
    /// Associated consumers, ordered by consumer id.
    pub associates: Vec<Associate>,
    /// Last snapshot furnished to the same bureau in an earlier cycle.
    pub prior: Option<Prior>,
    /// Last compliance condition code reported (non-blank) in an earlier cycle.
    pub last_ccc: Option<String>,
    /// Dispute state.
    pub disputes: DisputeState,
    /// Stored values that did not parse.
    pub bad_values: Vec<BadValue>,
}

const ACCOUNT_SQL: &str = "
SELECT a.id, a.client_id, COALESCE(cl.kind, ''), a.account_number, a.ecoa, a.account_type,
       a.original_creditor, a.creditor_class, a.purchased_from, a.placed_date, a.placed_amount,
       a.current_balance, a.amount_past_due, a.dofd, a.last_payment_date,
       a.last_payment_amount, a.date_closed, a.status, a.medical, a.validation_notice_date,
       a.first_communication_date, a.undeliverable_date, a.fraud_confirmed, a.furnish,
       c.surname, c.first_name, c.middle_name, c.generation, c.ssn, c.dob, c.deceased_date,
       c.bankruptcy_chapter, c.bankruptcy_status,
       ad.line1, ad.line2, ad.city, ad.state, ad.zip,
       ph.number,
       s.cycle_date, s.account_status, s.account_number, s.identification_number,
       CASE WHEN substr(s.fields, 190, 8) <> '00000000' THEN substr(s.fields, 194, 4) || '-' ||
            substr(s.fields, 190, 2) || '-' || substr(s.fields, 192, 2) END,
       rtrim(substr(s.fields, 127, 24)), rtrim(substr(s.fields, 326, 2)),
       (SELECT x.ccc FROM furnish_snapshots x
         WHERE x.account_id = a.id AND x.bureau = ?1 AND x.cycle_date < ?2 AND x.ccc <> ''
         ORDER BY x.cycle_date DESC LIMIT 1)
FROM accounts a
JOIN consumers c ON c.id = a.consumer_id
LEFT JOIN clients cl ON cl.id = a.client_id
LEFT JOIN addresses ad ON ad.id = (SELECT max(id) FROM addresses
       WHERE consumer_id = c.id AND status = 'current')
LEFT JOIN phones ph ON ph.id = (SELECT max(id) FROM phones
       WHERE consumer_id = c.id AND status = 'current')
LEFT JOIN furnish_snapshots s ON s.id = (SELECT id FROM furnish_snapshots
       WHERE account_id = a.id AND bureau = ?1 AND cycle_date < ?2
       ORDER BY cycle_date DESC LIMIT 1)
ORDER BY a.client_id, a.account_number";

/// Base-segment fields the account query reads from the prior snapshot (the masked Metro 2
/// record in `furnish_snapshots.fields`) as `substr(fields, start, length)`: DOFD (MMDDYYYY,
/// read back as ISO), payment history profile and consumer information indicator.
#[cfg(test)]
const SNAPSHOT_FIELDS_READ: [(&str, usize, usize); 3] = [
    ("date_first_delinquency", 190, 8),
    ("payment_history_profile", 127, 24),
    ("consumer_information_indicator", 326, 2),
];

/// Associated consumers of every account, in the account query's order (then by consumer
/// id), merged with it by account id: one streaming pass instead of a look-up (or a JSON
/// aggregate) per account. `CROSS JOIN` keeps the accounts index as the outer loop, so the
/// rows come in that order without a sort.
const ASSOCIATE_SQL: &str = "
SELECT a.id, ac.ecoa, o.surname, o.first_name, o.middle_name, o.generation, o.ssn, o.dob,
       o.deceased_date, o.bankruptcy_chapter, o.bankruptcy_status,
       oa.line1, oa.line2, oa.city, oa.state, oa.zip, ph.number
FROM accounts a
CROSS JOIN account_consumers ac ON ac.account_id = a.id
JOIN consumers o ON o.id = ac.consumer_id
LEFT JOIN addresses oa ON oa.id = (SELECT max(id) FROM addresses
       WHERE consumer_id = o.id AND status = 'current')
LEFT JOIN phones ph ON ph.id = (SELECT max(id) FROM phones
       WHERE consumer_id = o.id AND status = 'current')
ORDER BY a.client_id, a.account_number, ac.consumer_id";

/// Loads the dispute state of every account with a dispute received on or before `as_of`.
pub fn load_disputes(
    conn: &Connection,
    as_of: Date,
) -> rusqlite::Result<HashMap<i64, DisputeState>> {
    let mut stmt = conn.prepare(
        "SELECT d.account_id, d.status, COALESCE(d.outcome, ''),
                EXISTS (SELECT 1 FROM dispute_events e
                        WHERE e.dispute_id = d.id AND e.action = 'consumer_disagrees')
         FROM disputes d WHERE d.received_date <= ?1 ORDER BY d.id",
    )?;
    let mut rows = stmt.query(params![as_of.to_string()])?;
    let mut out: HashMap<i64, DisputeState> = HashMap::new();
    while let Some(r) = rows.next()? {
        let account: i64 = r.get(0)?;
        let status: String = r.get(1)?;
        let outcome: String = r.get(2)?;
        let disagrees: bool = r.get(3)?;
        let st = out.entry(account).or_default();
        if status == "open" {
            st.open = true;
        } else {
            st.consumer_disagrees |= disagrees;
            st.deleted |= outcome == "deleted";
            st.deleted_fraud |= outcome == "deleted_fraud";
        }
    }
    Ok(out)
}

/// Streams every account, in file order, to `each`. `label` is the bureau name the
/// snapshots are stored under (a bureau, or `all` for a shared file); only snapshots of
/// cycles before `as_of` count as prior.
pub fn for_each_account<F>(
    conn: &Connection,
    label: &str,
    as_of: Date,
    disputes: &HashMap<i64, DisputeState>,
    each: F,
) -> anyhow::Result<()>
where
    F: FnMut(Account) -> anyhow::Result<()>,
{
    let mut sink = Parsed { disputes, associates: Vec::new(), bad: Vec::new(), each };
    scan(conn, label, as_of, &mut sink)
}

/// Streams every account, in file order, as the rows SQLite returned, copied ([`RawAccount`])
/// and not parsed: the cheap half of [`for_each_account`], for a reader thread that hands
/// the parsing ([`RawAccount::parse`]) to another. `each` gets the account just read; what it
/// leaves in its place (swap in a used [`RawAccount`]) is refilled, so buffers are reused.
pub fn for_each_raw_account<F>(
    conn: &Connection,
    label: &str,
    as_of: Date,
    each: F,
) -> anyhow::Result<()>
where
    F: FnMut(&mut RawAccount) -> anyhow::Result<()>,
{
    let mut sink = Copied { current: RawAccount::default(), each };
    scan(conn, label, as_of, &mut sink)
}

/// What [`scan`] hands each row to.
trait Sink {
    /// An associated consumer's row ([`ASSOCIATE_SQL`]) of the account that comes next.
    fn associate(&mut self, r: &Row<'_>) -> anyhow::Result<()>;
    /// An account's row ([`ACCOUNT_SQL`]), after its associated consumers.
    fn account(&mut self, r: &Row<'_>) -> anyhow::Result<()>;
}

/// Runs the account query and the associated-consumer query side by side (same order) and
/// hands each account's associate rows, then its own row, to `sink`.
fn scan(conn: &Connection, label: &str, as_of: Date, sink: &mut dyn Sink) -> anyhow::Result<()> {
    // Before the first cycle for this bureau there is nothing to look up in the snapshots.
    let any_prior: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM furnish_snapshots WHERE bureau = ?1 AND cycle_date < ?2)",
        params![label, as_of.to_string()],
        |r| r.get(0),
    )?;
    let sql = if any_prior { ACCOUNT_SQL.to_string() } else { without_snapshots(ACCOUNT_SQL) };
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![label, as_of.to_string()])?;
    let mut assoc_stmt = conn.prepare(ASSOCIATE_SQL)?;
    let mut assoc_rows = assoc_stmt.query([])?;
    // The associate cursor stays on the first row not yet matched to an account.
    assoc_rows.advance()?;
    while let Some(r) = rows.next()? {
        let id = int(r, 0)?;
        while let Some(a) = assoc_rows.get() {
            if int(a, 0)? != id {
                break;
            }
            sink.associate(a)?;
            assoc_rows.advance()?;
        }
        sink.account(r)?;
    }
    Ok(())
}

/// [`Sink`] of [`for_each_account`]: parses in place.
struct Parsed<'d, F> {
    disputes: &'d HashMap<i64, DisputeState>,
    associates: Vec<Associate>,
    bad: Vec<BadValue>,
    each: F,
}

impl<F: FnMut(Account) -> anyhow::Result<()>> Sink for Parsed<'_, F> {
    fn associate(&mut self, r: &Row<'_>) -> anyhow::Result<()> {
        let (_, a, bad) = associate_from_row(r)?;
        self.associates.push(a);
        self.bad.extend(bad);
        Ok(())
    }

    fn account(&mut self, r: &Row<'_>) -> anyhow::Result<()> {
        let mut acc = from_row(r, &mut self.associates, &mut self.bad)?;
        self.associates.clear();
        self.bad.clear();
        acc.disputes = self.disputes.get(&acc.id).copied().unwrap_or_default();
        (self.each)(acc)
    }
}

/// [`Sink`] of [`for_each_raw_account`]: copies.
struct Copied<F> {
    current: RawAccount,
    each: F,
}

impl<F: FnMut(&mut RawAccount) -> anyhow::Result<()>> Sink for Copied<F> {
    fn associate(&mut self, r: &Row<'_>) -> anyhow::Result<()> {
        self.current.associates.push_row(r)
    }

    fn account(&mut self, r: &Row<'_>) -> anyhow::Result<()> {
        self.current.main.clear();
        self.current.main.push_row(r)?;
        (self.each)(&mut self.current)?;
        self.current.associates.clear();
        Ok(())
    }
}

/// One copied column value: text and blobs are byte ranges of [`RawRow`]'s buffer.
#[derive(Clone, Copy, Debug)]
enum RawCol {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

/// Rows of one query copied out of SQLite: every value in one buffer, no parsing.
#[derive(Clone, Debug, Default)]
struct RawRow {
    /// Columns per row.
    width: usize,
    cols: Vec<RawCol>,
    buf: Vec<u8>,
}

impl RawRow {
    fn clear(&mut self) {
        self.cols.clear();
        self.buf.clear();
    }

    /// Appends every column of `r`.
    fn push_row(&mut self, r: &Row<'_>) -> anyhow::Result<()> {
        let n = r.as_ref().column_count();
        self.width = n;
        for i in 0..n {
            let mut bytes = |b: &[u8]| {
                let from = self.buf.len();
                self.buf.extend_from_slice(b);
                (from, self.buf.len())
            };
            let col = match r.get_ref(i)? {
                ValueRef::Null => RawCol::Null,
                ValueRef::Integer(v) => RawCol::Integer(v),
                ValueRef::Real(v) => RawCol::Real(v),
                ValueRef::Text(t) => {
                    let (a, b) = bytes(t);
                    RawCol::Text(a, b)
                }
                ValueRef::Blob(t) => {
                    let (a, b) = bytes(t);
                    RawCol::Blob(a, b)
                }
            };
            self.cols.push(col);
        }
        Ok(())
    }

    /// Rows held.
    fn rows(&self) -> usize {
        self.cols.len().checked_div(self.width).unwrap_or(0)
    }

    /// Row `n`; `text` is the whole buffer as text, when it is valid UTF-8 (checked once for
    /// all rows).
    fn row<'a>(&'a self, n: usize, text: Option<&'a str>) -> RawView<'a> {
        RawView { row: self, first: n * self.width, text }
    }
}

/// One row of a [`RawRow`].
struct RawView<'a> {
    row: &'a RawRow,
    first: usize,
    /// The whole buffer as text, when it is valid UTF-8.
    text: Option<&'a str>,
}

/// An account's rows as the account query and the associated-consumer query returned them,
/// copied and not yet parsed (see [`for_each_raw_account`]).
#[derive(Clone, Debug, Default)]
pub struct RawAccount {
    main: RawRow,
    associates: RawRow,
}

impl RawAccount {
    /// Parses the copied rows exactly as [`for_each_account`] parses live ones.
    pub fn parse(&self, disputes: &HashMap<i64, DisputeState>) -> anyhow::Result<Account> {
        let mut acc = Account::default();
        self.parse_into(&mut acc, disputes)?;
        Ok(acc)
    }

    /// [`Self::parse`] into `acc`, reusing its allocations (every field is replaced).
    pub fn parse_into(
        &self,
        acc: &mut Account,
        disputes: &HashMap<i64, DisputeState>,
    ) -> anyhow::Result<()> {
        let n = self.associates.rows();
        let text = std::str::from_utf8(&self.associates.buf).ok();
        acc.associates.truncate(n);
        let mut associate_bad = Vec::new();
        for k in 0..n {
            let row = self.associates.row(k, text);
            match acc.associates.get_mut(k) {
                Some(a) => fill_associate(a, &row, &mut associate_bad)?,
                None => {
                    let mut a = Associate::default();
                    fill_associate(&mut a, &row, &mut associate_bad)?;
                    acc.associates.push(a);
                }
            }
        }
        let main = self.main.row(0, std::str::from_utf8(&self.main.buf).ok());
        fill_account(acc, &main, &mut associate_bad)?;
        acc.disputes = disputes.get(&acc.id).copied().unwrap_or_default();
        Ok(())
    }
}

/// Column access shared by a live SQLite row and a copied one.
trait Cols {
    /// The value of column `i`.
    fn value(&self, i: usize) -> rusqlite::Result<ValueRef<'_>>;

    /// Column `i` as text without copying (`None` for NULL; not text or not UTF-8: an error).
    fn text(&self, i: usize) -> rusqlite::Result<Option<&str>> {
        checked_text(self.value(i)?, i)
    }
}

impl Cols for Row<'_> {
    fn value(&self, i: usize) -> rusqlite::Result<ValueRef<'_>> {
        self.get_ref(i)
    }
}

impl Cols for RawView<'_> {
    fn text(&self, i: usize) -> rusqlite::Result<Option<&str>> {
        // The row's text was checked once as a whole: a column that starts and ends on
        // character boundaries of it is valid UTF-8 by itself.
        if let (Some(all), Some(RawCol::Text(a, b))) =
            (self.text, self.row.cols.get(self.first + i))
            && i < self.row.width
            && let Some(s) = all.get(*a..*b)
        {
            return Ok(Some(s));
        }
        checked_text(self.value(i)?, i)
    }

    fn value(&self, i: usize) -> rusqlite::Result<ValueRef<'_>> {
        // The error is only built when needed (building and dropping one per column shows).
        let missing = || rusqlite::Error::InvalidColumnIndex(i);
        if i >= self.row.width {
            return Err(missing());
        }
        let bytes = |a: usize, b: usize| self.row.buf.get(a..b).ok_or_else(missing);
        Ok(match self.row.cols.get(self.first + i) {
            None => return Err(missing()),
            Some(RawCol::Null) => ValueRef::Null,
            Some(RawCol::Integer(v)) => ValueRef::Integer(*v),
            Some(RawCol::Real(v)) => ValueRef::Real(*v),
            Some(RawCol::Text(a, b)) => ValueRef::Text(bytes(*a, *b)?),
            Some(RawCol::Blob(a, b)) => ValueRef::Blob(bytes(*a, *b)?),
        })
    }
}

/// An integer column (as `Row::get::<i64>` reads it: integers only).
fn int<C: Cols + ?Sized>(r: &C, i: usize) -> rusqlite::Result<i64> {
    match r.value(i)? {
        ValueRef::Integer(v) => Ok(v),
        v => Err(rusqlite::Error::InvalidColumnType(i, String::new(), v.data_type())),
    }
}

/// The account query with the snapshot columns replaced by NULLs and the snapshot join
/// removed (same column positions).
fn without_snapshots(sql: &str) -> String {
    let cols_from = sql.find("       s.cycle_date,").unwrap_or(sql.len());
    let cols_to = sql.find("FROM accounts a").unwrap_or(sql.len());
    let join_from = sql.find("LEFT JOIN furnish_snapshots s").unwrap_or(sql.len());
    let join_to = sql.find("ORDER BY a.client_id").unwrap_or(sql.len());
    match (sql.get(..cols_from), sql.get(cols_to..join_from), sql.get(join_to..)) {
        (Some(head), Some(middle), Some(tail)) => format!(
            "{head}       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ?1 IS NULL AND ?2 IS NULL\n{middle}{tail}"
        ),
        _ => sql.to_string(),
    }
}

/// The column as text without copying (`None` for NULL or blank).
fn str_ref<C: Cols + ?Sized>(r: &C, i: usize) -> rusqlite::Result<Option<&str>> {
    Ok(raw_ref(r, i)?.filter(|s| !is_blank(s)))
}

/// `s.trim().is_empty()`, answered from the first byte when it is a visible ASCII character
/// (almost always).
fn is_blank(s: &str) -> bool {
    match s.as_bytes().first() {
        None => true,
        Some(&b) if b.is_ascii() && !matches!(b, b' ' | b'\t'..=b'\r') => false,
        Some(_) => s.trim().is_empty(),
    }
}

/// The column as text without copying (`None` for NULL only).
fn raw_ref<C: Cols + ?Sized>(r: &C, i: usize) -> rusqlite::Result<Option<&str>> {
    r.text(i)
}

/// A column's value as text, checked as rusqlite checks it: `None` for NULL, an error for
/// anything but valid UTF-8 text.
fn checked_text(v: ValueRef<'_>, i: usize) -> rusqlite::Result<Option<&str>> {
    let s = match v {
        ValueRef::Null => None,
        ValueRef::Text(t) => Some(std::str::from_utf8(t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })?),
        _ => return Err(rusqlite::Error::InvalidColumnType(i, String::new(), v.data_type())),
    };
    Ok(s)
}

/// `YYYY-MM-DD` exactly as ingest stores it, without the general parser's splitting and
/// error text; anything else (or an impossible date) is left to [`DateFormat::parse`], so
/// the accepted values and the errors are the same.
fn iso_fast(raw: &str) -> Option<Date> {
    let b: &[u8; 10] = raw.as_bytes().try_into().ok()?;
    let digit = |i: usize| -> Option<i16> {
        let c = b[i];
        c.is_ascii_digit().then(|| i16::from(c - b'0'))
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digit(0)? * 1000 + digit(1)? * 100 + digit(2)? * 10 + digit(3)?;
    let m = digit(5)? * 10 + digit(6)?;
    let d = digit(8)? * 10 + digit(9)?;
    if y < 1800 {
        return None;
    }
    Date::new(y, i8::try_from(m).ok()?, i8::try_from(d).ok()?).ok()
}

fn date(raw: Option<&str>, column: &'static str, bad: &mut Vec<BadValue>) -> Option<Date> {
    let raw = raw?;
    if let Some(d) = iso_fast(raw) {
        return Some(d);
    }
    match DateFormat::Iso.parse(raw) {
        Ok(d) => Some(d),
        Err(_) => {
            bad.push(BadValue { column, code: "invalid_date" });
            None
        }
    }
}

fn money(raw: Option<&str>, column: &'static str, bad: &mut Vec<BadValue>) -> Option<Money> {
    let raw = raw?;
    match Decimal::from_str_exact(raw.trim()) {
        Ok(d) => Some(Money(d)),
        Err(_) => {
            bad.push(BadValue { column, code: "invalid_amount" });
            None
        }
    }
}

fn from_row<C: Cols + ?Sized>(
    r: &C,
    associates: &mut Vec<Associate>,
    associate_bad: &mut Vec<BadValue>,
) -> anyhow::Result<Account> {
    let mut acc = Account::default();
    fill_account(&mut acc, r, associate_bad)?;
    acc.associates = std::mem::take(associates);
    Ok(acc)
}

/// `dst` = the column's text (blank stays blank; NULL is empty), reusing its allocation.
fn set_raw<C: Cols + ?Sized>(dst: &mut String, r: &C, i: usize) -> rusqlite::Result<()> {
    dst.clear();
    dst.push_str(raw_ref(r, i)?.unwrap_or_default());
    Ok(())
}

/// `dst` = the column's text, NULL or blank as empty, reusing its allocation.
fn set_text<C: Cols + ?Sized>(dst: &mut String, r: &C, i: usize) -> rusqlite::Result<()> {
    dst.clear();
    dst.push_str(str_ref(r, i)?.unwrap_or_default());
    Ok(())
}

/// `dst` = the column's text, `None` for NULL or blank, reusing its allocation.
fn set_opt<C: Cols + ?Sized>(dst: &mut Option<String>, r: &C, i: usize) -> rusqlite::Result<()> {
    set_opt_str(dst, str_ref(r, i)?);
    Ok(())
}

fn set_opt_str(dst: &mut Option<String>, v: Option<&str>) {
    match (v, dst.as_mut()) {
        (Some(v), Some(d)) => {
            d.clear();
            d.push_str(v);
        }
        (Some(v), None) => *dst = Some(v.to_string()),
        (None, _) => *dst = None,
    }
}

/// Fills `acc` (every field but the associates and the dispute state, reusing its
/// allocations) from an account row; the values that do not parse are listed in the order
/// of the columns, with `associate_bad` (emptied) after the consumer's.
fn fill_account<C: Cols + ?Sized>(
    acc: &mut Account,
    r: &C,
    associate_bad: &mut Vec<BadValue>,
) -> anyhow::Result<()> {
    let mut bad = std::mem::take(&mut acc.bad_values);
    bad.clear();
    acc.id = int(r, 0)?;
    set_text(&mut acc.client_id, r, 1)?;
    set_text(&mut acc.client_kind, r, 2)?;
    set_text(&mut acc.account_number, r, 3)?;
    set_text(&mut acc.ecoa, r, 4)?;
    set_text(&mut acc.account_type, r, 5)?;
    set_text(&mut acc.original_creditor, r, 6)?;
    set_text(&mut acc.creditor_class, r, 7)?;
    set_opt(&mut acc.purchased_from, r, 8)?;
    acc.placed_date = date(str_ref(r, 9)?, "placed_date", &mut bad);
    acc.placed_amount = money(str_ref(r, 10)?, "placed_amount", &mut bad);
    acc.current_balance = money(str_ref(r, 11)?, "current_balance", &mut bad);
    acc.amount_past_due = money(str_ref(r, 12)?, "amount_past_due", &mut bad);
    acc.dofd = date(str_ref(r, 13)?, "dofd", &mut bad);
    acc.last_payment_date = date(str_ref(r, 14)?, "last_payment_date", &mut bad);
    acc.last_payment_amount = money(str_ref(r, 15)?, "last_payment_amount", &mut bad);
    acc.date_closed = date(str_ref(r, 16)?, "date_closed", &mut bad);
    set_text(&mut acc.status, r, 17)?;
    acc.medical = int(r, 18)? != 0;
    acc.validation_notice_date = date(str_ref(r, 19)?, "validation_notice_date", &mut bad);
    acc.first_communication_date = date(str_ref(r, 20)?, "first_communication_date", &mut bad);
    acc.undeliverable_date = date(str_ref(r, 21)?, "undeliverable_date", &mut bad);
    acc.fraud_confirmed = int(r, 22)? != 0;
    acc.furnish = int(r, 23)? != 0;
    let c = &mut acc.consumer;
    set_text(&mut c.surname, r, 24)?;
    set_text(&mut c.first_name, r, 25)?;
    set_text(&mut c.middle_name, r, 26)?;
    set_text(&mut c.generation, r, 27)?;
    c.ssn = str_ref(r, 28)?.and_then(|s| Ssn::parse(s).ok());
    c.dob = date(str_ref(r, 29)?, "dob", &mut bad).map(Dob::new);
    c.deceased_date = date(str_ref(r, 30)?, "deceased_date", &mut bad);
    set_opt(&mut c.bankruptcy_chapter, r, 31)?;
    set_opt(&mut c.bankruptcy_status, r, 32)?;
    match str_ref(r, 33)? {
        Some(line1) => {
            let a = c.address.get_or_insert_with(Address::default);
            a.line1.clear();
            a.line1.push_str(line1);
            set_text(&mut a.line2, r, 34)?;
            set_text(&mut a.city, r, 35)?;
            set_text(&mut a.state, r, 36)?;
            set_text(&mut a.zip, r, 37)?;
        }
        None => c.address = None,
    }
    set_opt(&mut c.phone, r, 38)?;
    bad.append(associate_bad);
    match str_ref(r, 40)? {
        Some(status) => {
            let p = acc.prior.get_or_insert_with(Prior::default);
            p.status.clear();
            p.status.push_str(status);
            p.cycle_date = date(str_ref(r, 39)?, "snapshot.cycle_date", &mut bad);
            set_text(&mut p.account_number, r, 41)?;
            set_opt(&mut p.identification_number, r, 42)?;
            set_opt(&mut p.dofd, r, 43)?;
            set_opt(&mut p.php, r, 44)?;
            set_opt(&mut p.cii, r, 45)?;
        }
        None => acc.prior = None,
    }
    set_opt(&mut acc.last_ccc, r, 46)?;
    acc.bad_values = bad;
    Ok(())
}

/// One row of [`ASSOCIATE_SQL`]. Text is taken as stored (blank stays blank) except where a
/// blank means "none" (SSN, dates, bankruptcy, address line 1, phone).
fn associate_from_row<C: Cols + ?Sized>(r: &C) -> anyhow::Result<(i64, Associate, Vec<BadValue>)> {
    let mut a = Associate::default();
    let mut bad = Vec::new();
    fill_associate(&mut a, r, &mut bad)?;
    Ok((int(r, 0)?, a, bad))
}

/// Fills `a` (reusing its allocations) from an [`ASSOCIATE_SQL`] row, appending the values
/// that do not parse to `bad`.
fn fill_associate<C: Cols + ?Sized>(
    a: &mut Associate,
    r: &C,
    bad: &mut Vec<BadValue>,
) -> anyhow::Result<()> {
    let p = &mut a.person;
    match str_ref(r, 11)? {
        Some(line1) => {
            let addr = p.address.get_or_insert_with(Address::default);
            addr.line1.clear();
            addr.line1.push_str(line1);
            set_raw(&mut addr.line2, r, 12)?;
            set_raw(&mut addr.city, r, 13)?;
            set_raw(&mut addr.state, r, 14)?;
            set_raw(&mut addr.zip, r, 15)?;
        }
        None => p.address = None,
    }
    set_raw(&mut p.surname, r, 2)?;
    set_raw(&mut p.first_name, r, 3)?;
    set_raw(&mut p.middle_name, r, 4)?;
    set_raw(&mut p.generation, r, 5)?;
    p.ssn = str_ref(r, 6)?.and_then(|s| Ssn::parse(s).ok());
    p.dob = date(str_ref(r, 7)?, "associate.dob", bad).map(Dob::new);
    p.deceased_date = date(str_ref(r, 8)?, "associate.deceased_date", bad);
    set_opt(&mut p.bankruptcy_chapter, r, 9)?;
    set_opt(&mut p.bankruptcy_status, r, 10)?;
    set_opt(&mut p.phone, r, 16)?;
    set_raw(&mut a.ecoa, r, 1)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_positions_in_the_account_query_are_the_base_layout_positions() {
        let base = crate::metro2::layout::Segment::Base.layout();
        for (name, start, length) in SNAPSHOT_FIELDS_READ {
            let f = base.field(name).unwrap();
            assert_eq!((f.start, f.length), (start, length), "{name}");
            assert!(
                ACCOUNT_SQL.contains(&format!("substr(s.fields, {start}, {length})")),
                "{name}"
            );
        }
        let dofd = base.field("date_first_delinquency").unwrap().start;
        for (from, len) in [(dofd + 4, 4), (dofd, 2), (dofd + 2, 2)] {
            assert!(ACCOUNT_SQL.contains(&format!("substr(s.fields, {from}, {len})")));
        }
    }

    #[test]
    fn copied_rows_parse_exactly_as_live_rows() {
        use crate::furnish::sample::{SampleAccount, generate, insert};
        let as_of = jiff::civil::date(2026, 11, 20);
        let mut db = crate::store::Db::open_in_memory().unwrap();
        generate(db.conn_mut(), 300, 7).unwrap();
        let broken = SampleAccount {
            account_number: "Z-BROKEN".into(),
            placed_date: "2024-13-45".into(),
            current_balance: "12,3x".into(),
            ..SampleAccount::default()
        };
        insert(db.conn(), &broken).unwrap();
        let disputes = load_disputes(db.conn(), as_of).unwrap();
        let mut live = Vec::new();
        for_each_account(db.conn(), "equifax", as_of, &disputes, |a| {
            live.push(format!("{a:?}"));
            Ok(())
        })
        .unwrap();
        let mut copied = Vec::new();
        let mut kept = RawAccount::default();
        // One account parsed into again and again, as the cycle does: nothing may be left
        // over from the account before.
        let mut reused = Account::default();
        for_each_raw_account(db.conn(), "equifax", as_of, |raw| {
            raw.parse_into(&mut reused, &disputes)?;
            copied.push(format!("{reused:?}"));
            // Hand back a used account, as the cycle's batches do.
            std::mem::swap(raw, &mut kept);
            Ok(())
        })
        .unwrap();
        assert_eq!(live.len(), 301);
        assert!(live.iter().any(|a| a.contains("invalid_amount")), "the broken row is read");
        assert!(live.iter().filter(|a| !a.contains("associates: []")).count() > 10);
        assert_eq!(copied, live);
        // Text that is not UTF-8 by itself fails both ways alike, even when two neighbouring
        // columns would make valid UTF-8 together (the copied row is checked as a whole).
        db.conn()
            .execute(
                "UPDATE consumers SET surname = CAST(x'41c3' AS TEXT),
                     first_name = CAST(x'a942' AS TEXT)
                 WHERE id = (SELECT consumer_id FROM accounts WHERE account_number = 'Z-BROKEN')",
                [],
            )
            .unwrap();
        let live = for_each_account(db.conn(), "equifax", as_of, &disputes, |_| Ok(()));
        let copied =
            for_each_raw_account(db.conn(), "equifax", as_of, |raw| raw.parse(&disputes).map(drop));
        let (live, copied) = (live.unwrap_err().to_string(), copied.unwrap_err().to_string());
        assert!(live.contains("utf-8") || live.contains("UTF-8"), "{live}");
        assert_eq!(copied, live);
    }

    #[test]
    fn last_compliance_code_is_looked_up_in_its_small_index() {
        let db = crate::store::Db::open_in_memory().unwrap();
        let mut stmt = db.conn().prepare(&format!("EXPLAIN QUERY PLAN {ACCOUNT_SQL}")).unwrap();
        let plan: Vec<String> = stmt
            .query_map(params!["equifax", "2026-11-20"], |r| r.get::<_, String>(3))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert!(
            plan.iter().any(|l| l.contains("COVERING INDEX furnish_snapshots_ccc")),
            "{plan:#?}"
        );
    }

    #[test]
    fn blank_test_agrees_with_trim() {
        for s in [
            "", " ", "\t\n", "\u{b}x", "\u{c}", "\r ", "a", " a", "\u{a0}", "\u{a0}b", "é",
            "\u{85}", "-",
        ] {
            assert_eq!(is_blank(s), s.trim().is_empty(), "{s:?}");
        }
    }

    #[test]
    fn fast_iso_dates_agree_with_the_general_parser() {
        let cases = [
            "2024-03-07",
            "1800-01-01",
            "1799-12-31",
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "0000-01-01",
            "2024-3-07",
            "2024/03/07",
            " 2024-03-07",
            "2024-03-07 ",
            "2024-0a-07",
            "9999-12-31",
            "",
        ];
        for text in cases {
            let general = DateFormat::Iso.parse(text).ok();
            let mut bad = Vec::new();
            assert_eq!(date(Some(text), "x", &mut bad), general, "{text:?}");
            assert_eq!(bad.is_empty(), general.is_some(), "{text:?}");
            if let Some(fast) = iso_fast(text) {
                assert_eq!(Some(fast), general, "{text:?}");
            }
        }
    }
}
