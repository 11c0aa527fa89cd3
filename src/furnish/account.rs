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
    mut each: F,
) -> anyhow::Result<()>
where
    F: FnMut(Account) -> anyhow::Result<()>,
{
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
    // The next associate row not yet matched to an account: (account id, associate, values
    // that did not parse).
    let mut pending: Option<(i64, Associate, Vec<BadValue>)> = None;
    let mut associates = Vec::new();
    let mut assoc_bad = Vec::new();
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        associates.clear();
        assoc_bad.clear();
        loop {
            if pending.is_none() {
                pending = match assoc_rows.next()? {
                    Some(a) => Some(associate_from_row(a)?),
                    None => None,
                };
            }
            match pending.take() {
                Some((account, a, bad)) if account == id => {
                    associates.push(a);
                    assoc_bad.extend(bad);
                }
                other => {
                    pending = other;
                    break;
                }
            }
        }
        let mut acc = from_row(r, &mut associates, &mut assoc_bad)?;
        acc.disputes = disputes.get(&acc.id).copied().unwrap_or_default();
        each(acc)?;
    }
    Ok(())
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
fn str_ref<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
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
fn raw_ref<'r>(r: &'r Row<'_>, i: usize) -> rusqlite::Result<Option<&'r str>> {
    let v = r.get_ref(i)?;
    let s = match v {
        rusqlite::types::ValueRef::Null => None,
        rusqlite::types::ValueRef::Text(t) => Some(std::str::from_utf8(t).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })?),
        _ => return Err(rusqlite::Error::InvalidColumnType(i, String::new(), v.data_type())),
    };
    Ok(s)
}

fn text(r: &Row<'_>, i: usize) -> rusqlite::Result<String> {
    Ok(str_ref(r, i)?.unwrap_or_default().to_string())
}

fn opt_text(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(str_ref(r, i)?.map(str::to_string))
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

fn from_row(
    r: &Row<'_>,
    associates: &mut Vec<Associate>,
    associate_bad: &mut Vec<BadValue>,
) -> anyhow::Result<Account> {
    let mut bad = Vec::new();
    let mut acc = Account {
        id: r.get(0)?,
        client_id: text(r, 1)?,
        client_kind: text(r, 2)?,
        account_number: text(r, 3)?,
        ecoa: text(r, 4)?,
        account_type: text(r, 5)?,
        original_creditor: text(r, 6)?,
        creditor_class: text(r, 7)?,
        purchased_from: opt_text(r, 8)?,
        ..Account::default()
    };
    acc.placed_date = date(str_ref(r, 9)?, "placed_date", &mut bad);
    acc.placed_amount = money(str_ref(r, 10)?, "placed_amount", &mut bad);
    acc.current_balance = money(str_ref(r, 11)?, "current_balance", &mut bad);
    acc.amount_past_due = money(str_ref(r, 12)?, "amount_past_due", &mut bad);
    acc.dofd = date(str_ref(r, 13)?, "dofd", &mut bad);
    acc.last_payment_date = date(str_ref(r, 14)?, "last_payment_date", &mut bad);
    acc.last_payment_amount = money(str_ref(r, 15)?, "last_payment_amount", &mut bad);
    acc.date_closed = date(str_ref(r, 16)?, "date_closed", &mut bad);
    acc.status = text(r, 17)?;
    acc.medical = r.get::<_, i64>(18)? != 0;
    acc.validation_notice_date = date(str_ref(r, 19)?, "validation_notice_date", &mut bad);
    acc.first_communication_date = date(str_ref(r, 20)?, "first_communication_date", &mut bad);
    acc.undeliverable_date = date(str_ref(r, 21)?, "undeliverable_date", &mut bad);
    acc.fraud_confirmed = r.get::<_, i64>(22)? != 0;
    acc.furnish = r.get::<_, i64>(23)? != 0;
    let mut consumer = Person {
        surname: text(r, 24)?,
        first_name: text(r, 25)?,
        middle_name: text(r, 26)?,
        generation: text(r, 27)?,
        ssn: str_ref(r, 28)?.and_then(|s| Ssn::parse(s).ok()),
        ..Person::default()
    };
    consumer.dob = date(str_ref(r, 29)?, "dob", &mut bad).map(Dob::new);
    consumer.deceased_date = date(str_ref(r, 30)?, "deceased_date", &mut bad);
    consumer.bankruptcy_chapter = opt_text(r, 31)?;
    consumer.bankruptcy_status = opt_text(r, 32)?;
    if let Some(line1) = opt_text(r, 33)? {
        consumer.address = Some(Address {
            line1,
            line2: text(r, 34)?,
            city: text(r, 35)?,
            state: text(r, 36)?,
            zip: text(r, 37)?,
        });
    }
    consumer.phone = opt_text(r, 38)?;
    acc.consumer = consumer;
    acc.associates = std::mem::take(associates);
    bad.append(associate_bad);
    if let Some(status) = opt_text(r, 40)? {
        acc.prior = Some(Prior {
            cycle_date: date(str_ref(r, 39)?, "snapshot.cycle_date", &mut bad),
            status,
            account_number: text(r, 41)?,
            identification_number: opt_text(r, 42)?,
            dofd: opt_text(r, 43)?,
            php: opt_text(r, 44)?,
            cii: opt_text(r, 45)?,
        });
    }
    acc.last_ccc = opt_text(r, 46)?;
    acc.bad_values = bad;
    Ok(acc)
}

/// One row of [`ASSOCIATE_SQL`]. Text is taken as stored (blank stays blank) except where a
/// blank means "none" (SSN, dates, bankruptcy, address line 1, phone).
fn associate_from_row(r: &Row<'_>) -> anyhow::Result<(i64, Associate, Vec<BadValue>)> {
    let mut bad = Vec::new();
    let raw = |i: usize| -> rusqlite::Result<String> {
        Ok(raw_ref(r, i)?.unwrap_or_default().to_string())
    };
    let address = match str_ref(r, 11)? {
        Some(line1) => Some(Address {
            line1: line1.to_string(),
            line2: raw(12)?,
            city: raw(13)?,
            state: raw(14)?,
            zip: raw(15)?,
        }),
        None => None,
    };
    let person = Person {
        surname: raw(2)?,
        first_name: raw(3)?,
        middle_name: raw(4)?,
        generation: raw(5)?,
        ssn: str_ref(r, 6)?.and_then(|s| Ssn::parse(s).ok()),
        dob: date(str_ref(r, 7)?, "associate.dob", &mut bad).map(Dob::new),
        deceased_date: date(str_ref(r, 8)?, "associate.deceased_date", &mut bad),
        bankruptcy_chapter: opt_text(r, 9)?,
        bankruptcy_status: opt_text(r, 10)?,
        address,
        phone: opt_text(r, 16)?,
    };
    Ok((r.get(0)?, Associate { ecoa: raw(1)?, person }, bad))
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
