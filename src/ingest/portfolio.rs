//! Portfolio rows: new placements and updates of existing accounts.
//!
//! A new account number creates the account, its consumer (or reuses the consumer with the
//! same SSN and surname), the current address, phone and e-mail, and the associated consumer.
//! A known account number is an update: every changed account field writes an
//! `account_events` row, every changed consumer field a `consumer_events` row (SSN and DOB
//! masked), and contact data goes through [`super::contacts`] (never overwritten). Empty
//! cells mean "not given" and never clear a stored value. This module must not print.

use jiff::civil::Date;
use std::hash::BuildHasher as _;

use rusqlite::{Connection, OptionalExtension, Statement, Transaction, params};
use rustc_hash::FxHashSet;

use crate::config::ClientConfig;
use crate::ingest::{Applied, FileCtx, Pii, Row, RowError, RowHandler};
use crate::money::Money;
use crate::pii::Ssn;

use super::contacts::{self, Origin, Table};
use super::row::{clean_text, ecoa_code, generation_code};

super::fields! {
    ACCOUNT_NUMBER = ("account_number", true, Pii::No),
    PREVIOUS_ACCOUNT_NUMBER = ("previous_account_number", false, Pii::No),
    ORIGINAL_CREDITOR = ("original_creditor", true, Pii::No),
    CREDITOR_CLASS = ("creditor_class", false, Pii::No),
    MEDICAL = ("medical", false, Pii::No),
    PURCHASED_FROM = ("purchased_from", false, Pii::No),
    PLACED_DATE = ("placed_date", true, Pii::No),
    PLACED_AMOUNT = ("placed_amount", true, Pii::No),
    CURRENT_BALANCE = ("current_balance", true, Pii::No),
    AMOUNT_PAST_DUE = ("amount_past_due", false, Pii::No),
    DOFD = ("dofd", false, Pii::No),
    LAST_PAYMENT_DATE = ("last_payment_date", false, Pii::No),
    LAST_PAYMENT_AMOUNT = ("last_payment_amount", false, Pii::No),
    DATE_CLOSED = ("date_closed", false, Pii::No),
    STATUS = ("status", true, Pii::No),
    VALIDATION_NOTICE_DATE = ("validation_notice_date", false, Pii::No),
    FIRST_COMMUNICATION_DATE = ("first_communication_date", false, Pii::No),
    SURNAME = ("surname", true, Pii::No),
    FIRST_NAME = ("first_name", true, Pii::No),
    MIDDLE_NAME = ("middle_name", false, Pii::No),
    GENERATION = ("generation", false, Pii::No),
    SSN = ("ssn", false, Pii::Ssn),
    DOB = ("dob", false, Pii::Dob),
    ADDRESS1 = ("address1", true, Pii::No),
    ADDRESS2 = ("address2", false, Pii::No),
    CITY = ("city", true, Pii::No),
    STATE = ("state", true, Pii::No),
    ZIP = ("zip", true, Pii::No),
    PHONE = ("phone", false, Pii::No),
    EMAIL = ("email", false, Pii::No),
    CO_SURNAME = ("co_surname", false, Pii::No),
    CO_FIRST_NAME = ("co_first_name", false, Pii::No),
    CO_MIDDLE_NAME = ("co_middle_name", false, Pii::No),
    CO_GENERATION = ("co_generation", false, Pii::No),
    CO_SSN = ("co_ssn", false, Pii::Ssn),
    CO_DOB = ("co_dob", false, Pii::Dob),
    CO_ECOA = ("co_ecoa", false, Pii::No),
}

const CONSUMER_BY_SSN: &str = "SELECT min(id) FROM consumers WHERE ssn = ?1 AND surname = ?2";

/// Account statuses a portfolio may carry.
pub const STATUSES: &[&str] = &["open", "paid", "settled", "recalled", "closed"];

/// Account columns compared on update, in the order of [`Placement::account_values`].
const ACCOUNT_FIELDS: &[&str] = &[
    "previous_account_number",
    "original_creditor",
    "creditor_class",
    "medical",
    "purchased_from",
    "placed_date",
    "placed_amount",
    "current_balance",
    "amount_past_due",
    "dofd",
    "last_payment_date",
    "last_payment_amount",
    "date_closed",
    "status",
    "validation_notice_date",
    "first_communication_date",
];

/// A consumer as given on a row.
#[derive(Debug)]
struct Person {
    surname: String,
    first_name: String,
    middle_name: Option<String>,
    generation: Option<&'static str>,
    ssn: Option<Ssn>,
    dob: Option<Date>,
    /// `dob` as stored (ISO text), formatted on the reader thread.
    dob_text: Option<String>,
}

/// A checked portfolio row, owned and ready to bind: built by [`check`] on the reader thread,
/// stored by [`Handler::apply_checked`] on the writer thread.
#[derive(Debug)]
pub struct Placement {
    account_number: String,
    previous_account_number: Option<String>,
    original_creditor: String,
    creditor_class: Option<String>,
    medical: Option<bool>,
    purchased_from: Option<String>,
    placed_date: Date,
    placed_amount: Money,
    current_balance: Money,
    amount_past_due: Option<Money>,
    dofd: Option<Date>,
    last_payment_date: Option<Date>,
    last_payment_amount: Option<Money>,
    date_closed: Option<Date>,
    status: &'static str,
    validation_notice_date: Option<Date>,
    first_communication_date: Option<Date>,
    primary: Person,
    address: [String; 5],
    phone: Option<String>,
    email: Option<String>,
    co: Option<(Person, &'static str)>,
    /// Canonical text of each of [`ACCOUNT_FIELDS`] (`None` = not given), exactly as bound
    /// on insert and compared on update.
    values: [Option<String>; 16],
    /// The reject a new placement gets without a creditor class (the writer decides: an
    /// existing account may omit it).
    missing_class: Option<RowError>,
}

impl Placement {
    /// Whether the writer may still reject this row (so the reader keeps its cells).
    pub fn may_be_rejected(&self) -> bool {
        self.missing_class.is_some()
    }

    /// Canonical text of each of [`ACCOUNT_FIELDS`]; `None` = not given.
    fn account_values(&self) -> [Option<String>; 16] {
        let d = |d: Option<Date>| d.map(|d| d.to_string());
        let m = |m: Option<Money>| m.map(|m| m.0.normalize().to_string());
        [
            self.previous_account_number.clone(),
            Some(self.original_creditor.clone()),
            self.creditor_class.clone(),
            self.medical.map(|b| if b { "1" } else { "0" }.to_string()),
            self.purchased_from.clone(),
            Some(self.placed_date.to_string()),
            m(Some(self.placed_amount)),
            m(Some(self.current_balance)),
            m(self.amount_past_due),
            d(self.dofd),
            d(self.last_payment_date),
            m(self.last_payment_amount),
            d(self.date_closed),
            Some(self.status.to_string()),
            d(self.validation_notice_date),
            d(self.first_communication_date),
        ]
    }
}

fn person(
    row: &Row<'_>,
    f: [usize; 6],
    what: &str,
    required: bool,
) -> Result<Option<Person>, RowError> {
    let [sur, first, middle, generation, ssn, dob] = f;
    let any = f.iter().any(|i| row.get(*i).is_some());
    if !required && !any {
        return Ok(None);
    }
    // The field's name is only formatted for a message when the value is missing.
    let req = |f: usize, name: &str| {
        row.get(f).ok_or_else(|| row.err(f, "missing_field", format!("{what} {name} is required")))
    };
    let surname = clean_text(req(sur, "surname")?);
    let first_name = clean_text(req(first, "first name")?);
    let generation = match row.get(generation) {
        None => None,
        Some(g) => Some(generation_code(g).ok_or_else(|| {
            row.err(generation, "invalid_generation", format!("unknown generation code {g:?}"))
        })?),
    };
    let ssn_v = row.ssn(ssn)?;
    let dob_v = row.dob(dob)?;
    if ssn_v.is_none() && dob_v.is_none() {
        return Err(row.err(
            ssn,
            "missing_identifier",
            format!("{what} needs an SSN or a date of birth"),
        ));
    }
    Ok(Some(Person {
        surname,
        first_name,
        middle_name: row.get(middle).map(clean_text),
        generation,
        ssn: ssn_v,
        dob: dob_v,
        dob_text: dob_v.map(|d| d.to_string()),
    }))
}

/// Checks a portfolio row and turns it into an owned [`Placement`] with every value in the
/// text it is stored as. Touches no database (runs on the reader thread).
pub fn check(row: &Row<'_>) -> Result<Placement, RowError> {
    let account_number = row.req(ACCOUNT_NUMBER, "account number")?;
    let original_creditor = clean_text(row.req(ORIGINAL_CREDITOR, "original creditor")?);
    let medical = row.flag(MEDICAL)?;
    let creditor_class = match row.get(CREDITOR_CLASS) {
        None => None,
        Some(c) => {
            let n: Option<u8> = c.parse().ok().filter(|n| (1..=15).contains(n));
            let n = n.ok_or_else(|| {
                row.err(CREDITOR_CLASS, "invalid_creditor_class", format!("{c:?} is not 01-15"))
            })?;
            Some(format!("{n:02}"))
        }
    };
    let (creditor_class, medical) = match (creditor_class, medical) {
        (None, Some(true)) => (Some("02".to_string()), Some(true)),
        (Some(c), Some(true)) if c != "02" => {
            return Err(row.err(
                CREDITOR_CLASS,
                "medical_class_mismatch",
                format!("medical account with creditor class {c} (medical is 02)"),
            ));
        }
        (Some(c), Some(false)) if c == "02" => {
            return Err(row.err(
                MEDICAL,
                "medical_class_mismatch",
                "creditor class 02 (medical) with medical = N",
            ));
        }
        (Some(c), None) if c == "02" => (Some(c), Some(true)),
        (c, m) => (c, m),
    };
    let placed_date = row.req_date(PLACED_DATE, "placed date")?;
    let placed_amount = row.req_amount(PLACED_AMOUNT, "placed amount")?;
    let current_balance = row.req_amount(CURRENT_BALANCE, "current balance")?;
    let amount_past_due = row.amount(AMOUNT_PAST_DUE)?;
    let dofd = row.date(DOFD)?;
    let last_payment_date = row.date(LAST_PAYMENT_DATE)?;
    let last_payment_amount = row.amount(LAST_PAYMENT_AMOUNT)?;
    let date_closed = row.date(DATE_CLOSED)?;
    let status_text = row.req(STATUS, "status")?;
    let status =
        STATUSES.iter().copied().find(|s| s.eq_ignore_ascii_case(status_text)).ok_or_else(
            || {
                row.err(
                    STATUS,
                    "invalid_status",
                    format!("{status_text:?} is not one of {}", STATUSES.join(", ")),
                )
            },
        )?;
    if status == "paid" && current_balance.0.is_sign_positive() && !current_balance.is_zero() {
        return Err(row.err(
            CURRENT_BALANCE,
            "paid_with_balance",
            format!("status paid with balance {current_balance}"),
        ));
    }
    let validation_notice_date = row.date(VALIDATION_NOTICE_DATE)?;
    let first_communication_date = row.date(FIRST_COMMUNICATION_DATE)?;
    let primary =
        person(row, [SURNAME, FIRST_NAME, MIDDLE_NAME, GENERATION, SSN, DOB], "consumer", true)?
            .ok_or_else(|| row.err(SURNAME, "missing_field", "consumer is required"))?;
    let line1 = clean_text(row.req(ADDRESS1, "address line 1")?);
    let line2 = row.get(ADDRESS2).map(clean_text).unwrap_or_default();
    let city = clean_text(row.req(CITY, "city")?);
    let state = crate::normalize::state(row.req(STATE, "state")?)
        .map_err(|e| row.err(STATE, "invalid_state", e.to_string()))?;
    let zip = crate::normalize::zip(row.req(ZIP, "ZIP")?)
        .map_err(|e| row.err(ZIP, "invalid_zip", e.to_string()))?;
    let phone = row.phone(PHONE)?;
    let email = row.email(EMAIL)?;
    let co = person(
        row,
        [CO_SURNAME, CO_FIRST_NAME, CO_MIDDLE_NAME, CO_GENERATION, CO_SSN, CO_DOB],
        "associated consumer",
        false,
    )?;
    let co = match co {
        None => None,
        Some(p) => {
            let e = row.req(CO_ECOA, "ECOA code of the associated consumer")?;
            let code = ecoa_code(e).ok_or_else(|| {
                row.err(CO_ECOA, "invalid_ecoa", format!("unknown ECOA code {e:?}"))
            })?;
            Some((p, code))
        }
    };
    let missing_class = creditor_class.is_none().then(|| {
        row.err(
            CREDITOR_CLASS,
            "missing_field",
            "creditor class is required for a non-medical placement",
        )
    });
    let mut p = Placement {
        account_number: account_number.to_string(),
        previous_account_number: row.get(PREVIOUS_ACCOUNT_NUMBER).map(str::to_string),
        original_creditor,
        creditor_class,
        medical,
        purchased_from: row.get(PURCHASED_FROM).map(clean_text),
        placed_date,
        placed_amount,
        current_balance,
        amount_past_due,
        dofd,
        last_payment_date,
        last_payment_amount,
        date_closed,
        status,
        validation_notice_date,
        first_communication_date,
        primary,
        address: [line1, line2, city, state, zip],
        phone,
        email,
        co,
        values: Default::default(),
        missing_class,
    };
    p.values = p.account_values();
    Ok(p)
}

/// Applies portfolio rows of one client.
pub struct Handler<'c> {
    source: String,
    stmts: Stmts<'c>,
    /// Set when the client had no account before this file: hashes of every account number
    /// this file may have created. A number not in it cannot be on file, so its look-up is
    /// skipped (a first placement of a whole portfolio). `None` otherwise, and once the set
    /// is full (bounded memory whatever the file size): every row is looked up.
    new_client_numbers: Option<FxHashSet<u64>>,
    /// Capacity of `new_client_numbers`.
    max_remembered: usize,
}

/// At most this many account numbers are remembered per file (about 36 MB).
const MAX_REMEMBERED_NUMBERS: usize = 1 << 21;

/// The statements of the per-row path, prepared once per file. Values that are the same for
/// every row of the file (client, account type, run, business date, source) are bound once;
/// SQLite keeps bindings across executions, so a row binds only its own values.
struct Stmts<'c> {
    select_account: Statement<'c>,
    consumer_by_ssn: Statement<'c>,
    insert_consumer: Statement<'c>,
    insert_account: Statement<'c>,
    insert_address: Statement<'c>,
    insert_phone: Statement<'c>,
    insert_email: Statement<'c>,
    insert_co: Statement<'c>,
    /// Reused buffer for the row's cause (`portfolio:<file>:<line>`).
    cause: String,
}

impl<'c> Handler<'c> {
    /// A handler for the client `id`, preparing its statements on the file's transaction.
    pub fn new(
        id: &str,
        client: &ClientConfig,
        tx: &'c Connection,
        ctx: &FileCtx<'_>,
    ) -> rusqlite::Result<Handler<'c>> {
        let cols: Vec<String> =
            ACCOUNT_FIELDS.iter().map(|f| format!("CAST({f} AS TEXT)")).collect();
        let source = format!("client:{id}");
        let mut select_account = tx.prepare(&format!(
            "SELECT id, consumer_id, {} FROM accounts WHERE client_id = ?1 AND account_number = ?2",
            cols.join(", ")
        ))?;
        select_account.raw_bind_parameter(1, id)?;
        let consumer_by_ssn = tx.prepare(CONSUMER_BY_SSN)?;
        let mut insert_consumer = tx.prepare(
            "INSERT INTO consumers (surname, first_name, middle_name, generation, ssn, dob,
                                    created_run, updated_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?;
        insert_consumer.raw_bind_parameter(7, ctx.run_id)?;
        let mut insert_account = tx.prepare(
            "INSERT INTO accounts (client_id, account_number, previous_account_number,
                consumer_id, account_type, original_creditor, creditor_class, purchased_from,
                placed_date, placed_amount, current_balance, amount_past_due, dofd,
                last_payment_date, last_payment_amount, date_closed, status, medical,
                validation_notice_date, first_communication_date, created_run, updated_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                     ?18, ?19, ?20, ?21, ?21)",
        )?;
        insert_account.raw_bind_parameter(1, id)?;
        insert_account.raw_bind_parameter(5, client.kind.account_type())?;
        insert_account.raw_bind_parameter(21, ctx.run_id)?;
        // A new consumer's contact data: the same columns as `contacts::observe_current`
        // writes for a fresh consumer (status current, first seen = last seen = as-of).
        let mut insert_address = tx.prepare(
            "INSERT INTO addresses (consumer_id, line1, line2, city, state, zip, source,
                                    source_ref, first_seen, last_seen, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, 'current')",
        )?;
        insert_address.raw_bind_parameter(7, source.as_str())?;
        insert_address.raw_bind_parameter(9, ctx.as_of)?;
        let mut insert_phone = tx.prepare(
            "INSERT INTO phones (consumer_id, number, source, source_ref, first_seen, last_seen,
                                 status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'current')",
        )?;
        let mut insert_email = tx.prepare(
            "INSERT INTO emails (consumer_id, address, source, source_ref, first_seen, last_seen,
                                 status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'current')",
        )?;
        for st in [&mut insert_phone, &mut insert_email] {
            st.raw_bind_parameter(3, source.as_str())?;
            st.raw_bind_parameter(5, ctx.as_of)?;
        }
        let insert_co = tx.prepare(
            "INSERT OR IGNORE INTO account_consumers (account_id, consumer_id, ecoa)
             VALUES (?1, ?2, ?3)",
        )?;
        let has_accounts: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE client_id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        Ok(Handler {
            source,
            new_client_numbers: (!has_accounts).then(FxHashSet::default),
            max_remembered: MAX_REMEMBERED_NUMBERS,
            stmts: Stmts {
                select_account,
                consumer_by_ssn,
                insert_consumer,
                insert_account,
                insert_address,
                insert_phone,
                insert_email,
                insert_co,
                cause: String::with_capacity(64),
            },
        })
    }
}

impl Handler<'_> {
    /// Stores one checked row (writer thread). The outer error is fatal (database failure);
    /// the inner one rejects the row.
    pub fn apply_checked(
        &mut self,
        tx: &Connection,
        p: &Placement,
        line: u64,
        ctx: &FileCtx<'_>,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        let st = &mut self.stmts;
        let mut cause = std::mem::take(&mut st.cause);
        cause.clear();
        {
            use std::fmt::Write as _;
            write!(cause, "portfolio:{}:{line}", ctx.file_name)?;
        }
        let o = Origin {
            source: &self.source,
            cause: &cause,
            as_of: ctx.as_of,
            run_id: ctx.run_id,
            at: &ctx.at,
        };
        let unseen = match &mut self.new_client_numbers {
            Some(seen) if seen.len() < self.max_remembered => {
                seen.insert(rustc_hash::FxBuildHasher.hash_one(p.account_number.as_str()))
            }
            Some(_) => {
                self.new_client_numbers = None;
                false
            }
            None => false,
        };
        st.select_account.raw_bind_parameter(2, p.account_number.as_str())?;
        let existing: Option<(i64, i64, Vec<Option<String>>)> = if unseen {
            // Neither on file before this file nor created by an earlier row of it.
            None
        } else {
            let mut rows = st.select_account.raw_query();
            match rows.next()? {
                None => None,
                Some(r) => {
                    let mut old = Vec::with_capacity(ACCOUNT_FIELDS.len());
                    for i in 0..ACCOUNT_FIELDS.len() {
                        old.push(r.get::<_, Option<String>>(i + 2)?);
                    }
                    Some((r.get(0)?, r.get(1)?, old))
                }
            }
        };
        let applied = match (existing, &p.missing_class) {
            (None, Some(reject)) => {
                st.cause = cause;
                return Ok(Err(reject.clone()));
            }
            (None, None) => {
                create(tx, st, p, &o)?;
                Applied::Created
            }
            (Some((account_id, consumer_id, old)), _) => {
                let changed = update(tx, st, account_id, consumer_id, p, &old, &o)?;
                if changed { Applied::Updated } else { Applied::Unchanged }
            }
        };
        st.cause = cause;
        Ok(Ok(applied))
    }
}

impl RowHandler for Handler<'_> {
    fn apply(
        &mut self,
        tx: &Transaction<'_>,
        row: &Row<'_>,
        line: u64,
        ctx: &FileCtx<'_>,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        match check(row) {
            Ok(p) => self.apply_checked(tx, &p, line, ctx),
            Err(e) => Ok(Err(e)),
        }
    }
}

/// Stores a new account: its consumer (found or created), the account, the consumer's
/// contact data and the associated consumer.
fn create(
    tx: &Connection,
    st: &mut Stmts<'_>,
    p: &Placement,
    o: &Origin<'_>,
) -> anyhow::Result<()> {
    let (consumer_id, fresh) = find_or_create_consumer(tx, st, &p.primary)?;
    let v = &p.values;
    let text = |i: usize| v.get(i).and_then(|t| t.as_deref());
    // "Not given" past-due follows the balance.
    let past_due = text(8).or(text(7));
    let s = &mut st.insert_account;
    s.raw_bind_parameter(2, p.account_number.as_str())?;
    s.raw_bind_parameter(3, p.previous_account_number.as_deref())?;
    s.raw_bind_parameter(4, consumer_id)?;
    s.raw_bind_parameter(6, p.original_creditor.as_str())?;
    s.raw_bind_parameter(7, p.creditor_class.as_deref().unwrap_or(""))?;
    s.raw_bind_parameter(8, p.purchased_from.as_deref())?;
    s.raw_bind_parameter(9, text(5))?;
    s.raw_bind_parameter(10, text(6))?;
    s.raw_bind_parameter(11, text(7))?;
    s.raw_bind_parameter(12, past_due)?;
    s.raw_bind_parameter(13, text(9))?;
    s.raw_bind_parameter(14, text(10))?;
    s.raw_bind_parameter(15, text(11))?;
    s.raw_bind_parameter(16, text(12))?;
    s.raw_bind_parameter(17, p.status)?;
    s.raw_bind_parameter(18, p.medical.unwrap_or(false))?;
    s.raw_bind_parameter(19, text(14))?;
    s.raw_bind_parameter(20, text(15))?;
    s.raw_execute()?;
    let account_id = tx.last_insert_rowid();
    if fresh {
        insert_fresh_contacts(st, consumer_id, p, o)?;
    } else {
        contacts_of(tx, consumer_id, p, false, o)?;
    }
    if let Some((co, ecoa)) = &p.co {
        let (co_id, _) = find_or_create_consumer(tx, st, co)?;
        let s = &mut st.insert_co;
        s.raw_bind_parameter(1, account_id)?;
        s.raw_bind_parameter(2, co_id)?;
        s.raw_bind_parameter(3, *ecoa)?;
        s.raw_execute()?;
    }
    Ok(())
}

/// The contact data of a consumer created by this row: no history to look up or demote, so
/// each value is inserted as current (what [`contacts::observe_current`] does when fresh).
fn insert_fresh_contacts(
    st: &mut Stmts<'_>,
    consumer_id: i64,
    p: &Placement,
    o: &Origin<'_>,
) -> rusqlite::Result<()> {
    let s = &mut st.insert_address;
    s.raw_bind_parameter(1, consumer_id)?;
    for (i, v) in p.address.iter().enumerate() {
        s.raw_bind_parameter(i + 2, v.as_str())?;
    }
    s.raw_bind_parameter(8, o.cause)?;
    s.raw_execute()?;
    for (s, v) in [(&mut st.insert_phone, &p.phone), (&mut st.insert_email, &p.email)] {
        if let Some(v) = v {
            s.raw_bind_parameter(1, consumer_id)?;
            s.raw_bind_parameter(2, v.as_str())?;
            s.raw_bind_parameter(4, o.cause)?;
            s.raw_execute()?;
        }
    }
    Ok(())
}

/// Stores the row's address, phone and e-mail as the consumer's current contact data.
fn contacts_of(
    tx: &Connection,
    consumer_id: i64,
    p: &Placement,
    fresh: bool,
    o: &Origin<'_>,
) -> rusqlite::Result<bool> {
    let a = &p.address;
    let key = [a[0].as_str(), a[1].as_str(), a[2].as_str(), a[3].as_str(), a[4].as_str()];
    let mut changed = contacts::observe_current(tx, Table::Addresses, consumer_id, &key, fresh, o)?;
    if let Some(ph) = &p.phone {
        changed |=
            contacts::observe_current(tx, Table::Phones, consumer_id, &[ph.as_str()], fresh, o)?;
    }
    if let Some(em) = &p.email {
        changed |=
            contacts::observe_current(tx, Table::Emails, consumer_id, &[em.as_str()], fresh, o)?;
    }
    Ok(changed)
}

/// The consumer with the same SSN and surname, else the same name and DOB (no SSN), else a
/// new one. Returns the id and whether it was created.
fn find_or_create_consumer(
    tx: &Connection,
    st: &mut Stmts<'_>,
    p: &Person,
) -> rusqlite::Result<(i64, bool)> {
    let found: Option<i64> = match (&p.ssn, p.dob) {
        (Some(ssn), _) => {
            let s = &mut st.consumer_by_ssn;
            s.raw_bind_parameter(1, ssn.expose_digits())?;
            s.raw_bind_parameter(2, p.surname.as_str())?;
            let mut rows = s.raw_query();
            match rows.next()? {
                Some(r) => r.get(0)?,
                None => None,
            }
        }
        (None, Some(dob)) => tx
            .prepare_cached(
                "SELECT min(id) FROM consumers WHERE surname = ?1 AND first_name = ?2 AND dob = ?3
                 AND ssn IS NULL",
            )?
            .query_row(params![p.surname, p.first_name, dob], |r| r.get(0))?,
        (None, None) => None,
    };
    if let Some(id) = found {
        return Ok((id, false));
    }
    let s = &mut st.insert_consumer;
    s.raw_bind_parameter(1, p.surname.as_str())?;
    s.raw_bind_parameter(2, p.first_name.as_str())?;
    s.raw_bind_parameter(3, p.middle_name.as_deref())?;
    s.raw_bind_parameter(4, p.generation)?;
    s.raw_bind_parameter(5, p.ssn.as_ref().map(|s| s.expose_digits()))?;
    s.raw_bind_parameter(6, p.dob_text.as_deref())?;
    s.raw_execute()?;
    Ok((tx.last_insert_rowid(), true))
}

/// Applies a row to an existing account. Returns whether anything changed.
fn update(
    tx: &Connection,
    st: &mut Stmts<'_>,
    account_id: i64,
    consumer_id: i64,
    p: &Placement,
    old: &[Option<String>],
    o: &Origin<'_>,
) -> anyhow::Result<bool> {
    let mut changed = false;
    let mut new = p.values.clone();
    // "Not given" past-due follows the balance, as on a new placement.
    if new[8].is_none() {
        new[8] = new[7].clone();
    }
    for (i, field) in ACCOUNT_FIELDS.iter().enumerate() {
        let Some(v) = &new[i] else { continue };
        let before = old.get(i).cloned().flatten();
        if before.as_deref() == Some(v.as_str()) {
            continue;
        }
        tx.prepare_cached(&format!(
            "UPDATE accounts SET {field} = ?1, updated_run = ?2 WHERE id = ?3"
        ))?
        .execute(params![v, o.run_id, account_id])?;
        account_event(tx, account_id, field, before.as_deref(), Some(v), o)?;
        changed = true;
    }
    changed |= update_consumer(tx, consumer_id, &p.primary, o)?;
    changed |= contacts_of(tx, consumer_id, p, false, o)?;
    if let Some((co, ecoa)) = &p.co {
        let (co_id, _) = find_or_create_consumer(tx, st, co)?;
        let old_ecoa: Option<String> = tx
            .prepare_cached(
                "SELECT ecoa FROM account_consumers WHERE account_id = ?1 AND consumer_id = ?2",
            )?
            .query_row(params![account_id, co_id], |r| r.get(0))
            .optional()?;
        if old_ecoa.as_deref() != Some(*ecoa) {
            tx.prepare_cached(
                "INSERT INTO account_consumers (account_id, consumer_id, ecoa) VALUES (?1, ?2, ?3)
                 ON CONFLICT(account_id, consumer_id) DO UPDATE SET ecoa = excluded.ecoa",
            )?
            .execute(params![account_id, co_id, ecoa])?;
            let field = format!("associated_consumer:{co_id}.ecoa");
            account_event(tx, account_id, &field, old_ecoa.as_deref(), Some(ecoa), o)?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Writes an account event.
pub(crate) fn account_event(
    tx: &Connection,
    account_id: i64,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    o: &Origin<'_>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO account_events (account_id, run_id, at, field, old_value, new_value, cause)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![account_id, o.run_id, o.at, field, old, new, o.cause])?;
    Ok(())
}

/// Writes a consumer event (values already masked where they are SSN or DOB).
pub(crate) fn consumer_event(
    tx: &Connection,
    consumer_id: i64,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    o: &Origin<'_>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO consumer_events (consumer_id, run_id, at, field, old_value, new_value, cause)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![consumer_id, o.run_id, o.at, field, old, new, o.cause])?;
    Ok(())
}

/// Updates the primary consumer's name parts, SSN and DOB where given and different.
fn update_consumer(
    tx: &Connection,
    consumer_id: i64,
    p: &Person,
    o: &Origin<'_>,
) -> rusqlite::Result<bool> {
    let old: (String, String, Option<String>, Option<String>, Option<String>, Option<String>) = tx
        .prepare_cached(
            "SELECT surname, first_name, middle_name, generation, ssn, dob FROM consumers
             WHERE id = ?1",
        )?
        .query_row(params![consumer_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
        })?;
    let ssn = p.ssn.as_ref().map(|s| s.expose_digits().to_string());
    let dob = p.dob_text.as_deref();
    // (column, old, new, masking)
    let fields: [(&str, Option<&str>, Option<&str>, Pii); 6] = [
        ("surname", Some(old.0.as_str()), Some(p.surname.as_str()), Pii::No),
        ("first_name", Some(old.1.as_str()), Some(p.first_name.as_str()), Pii::No),
        ("middle_name", old.2.as_deref(), p.middle_name.as_deref(), Pii::No),
        ("generation", old.3.as_deref(), p.generation, Pii::No),
        ("ssn", old.4.as_deref(), ssn.as_deref(), Pii::Ssn),
        ("dob", old.5.as_deref(), dob, Pii::Dob),
    ];
    let mut changed = false;
    for (col, before, after, pii) in fields {
        let Some(after) = after else { continue };
        if before == Some(after) {
            continue;
        }
        tx.prepare_cached(&format!(
            "UPDATE consumers SET {col} = ?1, updated_run = ?2 WHERE id = ?3"
        ))?
        .execute(params![after, o.run_id, consumer_id])?;
        let mask = |v: &str| pii.mask(v);
        consumer_event(tx, consumer_id, col, before.map(mask).as_deref(), Some(&mask(after)), o)?;
        changed = true;
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::ingest::{FileKind, Layout};
    use crate::store::Db;

    const HEADER: &str = "account_number,original_creditor,creditor_class,placed_date,\
        placed_amount,current_balance,status,surname,first_name,ssn,address1,city,state,zip";

    fn store(
        h: &mut Handler<'_>,
        tx: &Transaction<'_>,
        ctx: &FileCtx<'_>,
        rows: &[&str],
    ) -> Vec<Applied> {
        let header: Vec<String> = HEADER.split(',').map(String::from).collect();
        let layout =
            Layout::load("default", std::path::Path::new("."), FileKind::Portfolio).unwrap();
        let resolved = layout.resolve(&header).unwrap();
        rows.iter()
            .enumerate()
            .map(|(i, r)| {
                let rec = csv::StringRecord::from(r.split(',').collect::<Vec<_>>());
                let p = check(&Row::new(&rec, &resolved)).unwrap();
                h.apply_checked(tx, &p, i as u64 + 2, ctx).unwrap().unwrap()
            })
            .collect()
    }

    fn placement(number: &str, balance: &str) -> String {
        format!(
            "{number},BANK,01,2026-01-02,100,{balance},open,DOE,JANE,123-45-6789,1 MAIN ST,AUSTIN,TX,78701"
        )
    }

    #[test]
    fn a_new_clients_repeated_numbers_are_updates_also_past_the_remembered_limit() {
        let config = Config::parse(
            "[clients.C]\nname = \"C\"\nkind = \"agency\"\n",
            std::path::Path::new("x.toml"),
        )
        .unwrap();
        let mut db = Db::open_in_memory().unwrap();
        crate::ingest::sync_clients(&db, &config).unwrap();
        let as_of = jiff::civil::date(2026, 11, 20);
        let run = db.begin_run("test", Some(as_of)).unwrap();
        let tx = db.conn_mut().transaction().unwrap();
        let ctx = FileCtx {
            file_name: "p.csv".into(),
            as_of,
            run_id: run,
            at: "2026-11-20T00:00:00Z".into(),
            input_file_id: 0,
            config: &config,
        };
        let client = config.client("C").unwrap();
        let mut h = Handler::new("C", client, &tx, &ctx).unwrap();
        assert!(h.new_client_numbers.is_some(), "a client without accounts skips look-ups");
        h.max_remembered = 2;
        let rows = [
            placement("A1", "100"),
            placement("A2", "100"),
            placement("A1", "90"),  // remembered: looked up, an update
            placement("A3", "100"), // the set is full: looked up from here on
            placement("A3", "80"),
            placement("A2", "70"),
        ];
        let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
        use Applied::{Created, Updated};
        assert_eq!(
            store(&mut h, &tx, &ctx, &rows),
            [Created, Created, Updated, Created, Updated, Updated]
        );
        assert!(h.new_client_numbers.is_none());
        drop(h);
        let n: i64 = tx.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 3);
        // A client with accounts on file looks every row up.
        let h = Handler::new("C", client, &tx, &ctx).unwrap();
        assert!(h.new_client_numbers.is_none());
    }
}
