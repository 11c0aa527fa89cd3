//! Portfolio rows: new placements and updates of existing accounts.
//!
//! A new account number creates the account, its consumer (or reuses the consumer with the
//! same SSN and surname), the current address, phone and e-mail, and the associated consumer.
//! A known account number is an update: every changed account field writes an
//! `account_events` row, every changed consumer field a `consumer_events` row (SSN and DOB
//! masked), and contact data goes through [`super::contacts`] (never overwritten). Empty
//! cells mean "not given" and never clear a stored value. The rows a new placement creates
//! (account, a new consumer's contact data, the associated consumer) are queued and inserted
//! many per statement ([`Pending`]); look-ups that cannot hit are skipped with bit sets of
//! the keys that may exist. This module must not print.

use jiff::civil::Date;

use rusqlite::{Connection, OptionalExtension, Statement, Transaction, params};

use crate::config::ClientConfig;
use crate::ingest::{Applied, FileCtx, Pii, Row, RowError, RowHandler};
use crate::money::Money;
use crate::pii::Ssn;
use crate::store::events;

use super::contacts::{self, Origin, Table};
use super::row::{clean_text, ecoa_code, generation_code};
use super::ssn_lookup::{HashBits, SsnLookup};

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

/// The tables a portfolio file writes (besides `input_files` and the audit log).
pub const TABLES: &[&str] = &[
    "consumers",
    "accounts",
    "account_consumers",
    "addresses",
    "phones",
    "emails",
    "account_events",
    "consumer_events",
];

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
    /// Set when the client had no account before this file: the account numbers this file
    /// may have created. A number whose bit is clear cannot be on file, so its look-up is
    /// skipped (a first placement of a whole portfolio); a set bit means "look it up".
    /// `None` otherwise, and once it holds `max_remembered` numbers (the share of needless
    /// look-ups grows with them): every row is looked up.
    new_client_numbers: Option<HashBits>,
    /// Capacity of `new_client_numbers`.
    max_remembered: usize,
}

/// At most this many account numbers are remembered per file (then about one look-up in
/// eight is needless).
const MAX_REMEMBERED_NUMBERS: usize = 1 << 23;

/// The statements of the per-row path, prepared once per file. Values that are the same for
/// every row of the file (client, account type, run, business date, source) are bound once;
/// SQLite keeps bindings across executions, so a row binds only its own values.
struct Stmts<'c> {
    select_account: Statement<'c>,
    /// Finds consumers by SSN and surname.
    ssn: SsnLookup<'c>,
    insert_consumer: Statement<'c>,
    /// New rows of each table, one row and [`ROWS_PER_INSERT`] rows per statement.
    accounts: Inserts<'c>,
    addresses: Inserts<'c>,
    phones: Inserts<'c>,
    emails: Inserts<'c>,
    links: Inserts<'c>,
    /// The id of the last account stored (new accounts get the next ids, see [`Pending`]).
    last_account_id: i64,
    /// Reused buffer for the row's cause (`portfolio:<file>:<line>`).
    cause: String,
    /// `portfolio:<file>:`, the cause without its line.
    cause_prefix: String,
    /// Reused buffer for the `source_ref` of queued contact data.
    source_ref: String,
}

/// Rows per multi-row `INSERT` of new placements: statement overhead (cursors opened and
/// closed, registers released, reset) is paid once per this many rows. The inserts are
/// `INSERT OR ROLLBACK`: a constraint failure ends the file's transaction (as any database
/// error does), so SQLite keeps no statement journal to undo half a statement (writing it
/// cost 7% of the writer's time).
const ROWS_PER_INSERT: usize = 32;

/// The two `INSERT`s of one table: one row, and [`ROWS_PER_INSERT`] rows.
struct Inserts<'c> {
    one: Statement<'c>,
    many: Statement<'c>,
    /// Parameters bound once per file, numbered first.
    shared: usize,
    /// Parameters per row (the `#` of the row template).
    per_row: usize,
}

impl<'c> Inserts<'c> {
    /// Prepares `head VALUES tuple, tuple, ...` where each `#` of `tuple` is the next row
    /// parameter, numbered after the `shared` ones (`?1` .. `?shared`, bound once per file).
    fn prepare(
        tx: &'c Connection,
        head: &str,
        tuple: &str,
        shared: usize,
    ) -> rusqlite::Result<Self> {
        let sql = |rows: usize| {
            let mut sql = format!("{head} VALUES ");
            let mut next = shared + 1;
            for r in 0..rows {
                if r > 0 {
                    sql.push_str(", ");
                }
                for c in tuple.chars() {
                    if c == '#' {
                        sql.push('?');
                        sql.push_str(&next.to_string());
                        next += 1;
                    } else {
                        sql.push(c);
                    }
                }
            }
            sql
        };
        Ok(Inserts {
            one: tx.prepare(&sql(1))?,
            many: tx.prepare(&sql(ROWS_PER_INSERT))?,
            shared,
            per_row: tuple.matches('#').count(),
        })
    }

    /// Binds a parameter shared by every row of the file (both statements).
    fn bind_shared<T: rusqlite::ToSql>(&mut self, i: usize, v: T) -> rusqlite::Result<()> {
        self.one.raw_bind_parameter(i, &v)?;
        self.many.raw_bind_parameter(i, &v)
    }

    /// Inserts the queued rows: full statements of [`ROWS_PER_INSERT`] rows, and with `all`
    /// the rest one by one. `bind(statement, base, row)` binds a row's parameter `j` (from 1)
    /// at `base + j`.
    fn insert<T>(
        &mut self,
        rows: &mut Vec<T>,
        all: bool,
        mut bind: impl FnMut(&mut Statement<'c>, usize, &T) -> rusqlite::Result<()>,
    ) -> rusqlite::Result<()> {
        let chunks = rows.chunks_exact(ROWS_PER_INSERT);
        let rest = chunks.remainder().len();
        for chunk in chunks {
            for (k, r) in chunk.iter().enumerate() {
                bind(&mut self.many, self.shared + k * self.per_row, r)?;
            }
            self.many.raw_execute()?;
        }
        if all {
            for r in rows.iter().skip(rows.len() - rest) {
                bind(&mut self.one, self.shared, r)?;
                self.one.raw_execute()?;
            }
            rows.clear();
        } else {
            rows.drain(..rows.len() - rest);
        }
        Ok(())
    }
}

/// New rows of a file's placements waiting for their multi-row `INSERT`s, borrowed from the
/// writer's batch of checked rows. Nothing but the writer inserts during the file's
/// transaction (it holds SQLite's write lock from before the first row), so a new account's
/// id is the next after the largest on file, known before the row is inserted; a clash
/// would be a fatal primary-key error, never a silent one. Queued rows are inserted before
/// anything reads their table for the same account or consumer, and before the batch ends.
#[derive(Default)]
pub struct Pending<'b> {
    /// (placement, account id, consumer id).
    accounts: Vec<(&'b Placement, i64, i64)>,
    /// (address, consumer id, line).
    addresses: Vec<(&'b [String; 5], i64, u64)>,
    /// (number, consumer id, line).
    phones: Vec<(&'b str, i64, u64)>,
    /// (address, consumer id, line).
    emails: Vec<(&'b str, i64, u64)>,
    /// Associated consumers: (account id, consumer id, ECOA code).
    links: Vec<(i64, i64, &'static str)>,
}

impl Pending<'_> {
    /// Whether contact data is still queued. Contact data of an existing consumer is
    /// written row by row (its history is looked up); the queue is emptied first, so that
    /// contact rows get the same ids, in file order, as if every row were inserted at once.
    fn has_contacts(&self) -> bool {
        !(self.addresses.is_empty() && self.phones.is_empty() && self.emails.is_empty())
    }
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
        let ssn = SsnLookup::new(tx)?;
        let mut insert_consumer = tx.prepare(
            "INSERT INTO consumers (surname, first_name, middle_name, generation, ssn, dob,
                                    created_run, updated_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?;
        insert_consumer.raw_bind_parameter(7, ctx.run_id)?;
        // Per row: id, account_number, previous_account_number, consumer_id,
        // original_creditor .. first_communication_date (as in `queue_account`).
        let mut accounts = Inserts::prepare(
            tx,
            "INSERT OR ROLLBACK INTO accounts (id, client_id, account_number, previous_account_number,
                consumer_id, account_type, original_creditor, creditor_class, purchased_from,
                placed_date, placed_amount, current_balance, amount_past_due, dofd,
                last_payment_date, last_payment_amount, date_closed, status, medical,
                validation_notice_date, first_communication_date, created_run, updated_run)",
            "(#, ?1, #, #, #, ?2, #, #, #, #, #, #, #, #, #, #, #, #, #, #, #, ?3, ?3)",
            3,
        )?;
        accounts.bind_shared(1, id)?;
        accounts.bind_shared(2, client.kind.account_type())?;
        accounts.bind_shared(3, ctx.run_id)?;
        // A new consumer's contact data: the same columns as `contacts::observe_current`
        // writes for a fresh consumer (status current, first seen = last seen = as-of).
        let mut addresses = Inserts::prepare(
            tx,
            "INSERT OR ROLLBACK INTO addresses (consumer_id, line1, line2, city, state, zip,
                                    source, source_ref, first_seen, last_seen, status,
                                    client_seen)",
            "(#, #, #, #, #, #, ?1, #, ?2, ?2, 'current', ?2)",
            2,
        )?;
        let mut phones = Inserts::prepare(
            tx,
            "INSERT OR ROLLBACK INTO phones (consumer_id, number, source, source_ref, first_seen,
                                 last_seen, status, client_seen)",
            "(#, #, ?1, #, ?2, ?2, 'current', ?2)",
            2,
        )?;
        let mut emails = Inserts::prepare(
            tx,
            "INSERT OR ROLLBACK INTO emails (consumer_id, address, source, source_ref, first_seen,
                                 last_seen, status, client_seen)",
            "(#, #, ?1, #, ?2, ?2, 'current', ?2)",
            2,
        )?;
        for st in [&mut addresses, &mut phones, &mut emails] {
            st.bind_shared(1, source.as_str())?;
            st.bind_shared(2, ctx.as_of)?;
        }
        let links = Inserts::prepare(
            tx,
            "INSERT OR IGNORE INTO account_consumers (account_id, consumer_id, ecoa)",
            "(#, #, #)",
            0,
        )?;
        let last_account_id: i64 =
            tx.query_row("SELECT coalesce(max(id), 0) FROM accounts", [], |r| r.get(0))?;
        let has_accounts: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM accounts WHERE client_id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        Ok(Handler {
            source,
            new_client_numbers: (!has_accounts).then(HashBits::new),
            max_remembered: MAX_REMEMBERED_NUMBERS,
            stmts: Stmts {
                select_account,
                ssn,
                insert_consumer,
                accounts,
                addresses,
                phones,
                emails,
                links,
                last_account_id,
                cause: String::with_capacity(64),
                cause_prefix: format!("portfolio:{}:", ctx.file_name),
                source_ref: String::with_capacity(64),
            },
        })
    }
}

impl<'c> Handler<'c> {
    /// Tells the handler that the file holds about `rows` rows, so that it chooses how to
    /// find consumers by SSN (see [`SsnLookup::plan`]; `bulk_min_rows` is
    /// `[ingest] bulk_min_rows`).
    pub fn expect_rows(
        &mut self,
        tx: &Connection,
        rows: u64,
        bulk_min_rows: u64,
    ) -> rusqlite::Result<()> {
        self.stmts.ssn.plan(tx, rows, bulk_min_rows)
    }

    /// Ends the file's rows: restores what [`Handler::expect_rows`] set aside (the SSN index,
    /// rebuilt in one sort). Must be called, after the last [`Handler::flush`], before the
    /// file's transaction commits.
    pub fn finish(&mut self, tx: &Connection) -> rusqlite::Result<()> {
        self.stmts.ssn.finish(tx)
    }

    /// Stores one checked row (writer thread) at once. The outer error is fatal (database
    /// failure); the inner one rejects the row.
    pub fn apply_checked(
        &mut self,
        tx: &Connection,
        p: &Placement,
        line: u64,
        ctx: &FileCtx<'_>,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        let mut pending = Pending::default();
        let applied = self.apply_queued(tx, p, line, ctx, &mut pending)?;
        self.flush(&mut pending)?;
        Ok(applied)
    }

    /// Stores one checked row (writer thread), queueing the new rows of a new placement in
    /// `pending` for multi-row inserts; [`Handler::flush`] inserts the rest before `pending`
    /// is dropped. The outer error is fatal (database failure); the inner one rejects the row.
    pub fn apply_queued<'b>(
        &mut self,
        tx: &Connection,
        p: &'b Placement,
        line: u64,
        ctx: &FileCtx<'_>,
        pending: &mut Pending<'b>,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        let mut cause = std::mem::take(&mut self.stmts.cause);
        cause.clear();
        cause.push_str(&self.stmts.cause_prefix);
        {
            use std::fmt::Write as _;
            write!(cause, "{line}")?;
        }
        let source = std::mem::take(&mut self.source);
        let applied = self.apply_with(tx, p, line, ctx, pending, &cause, &source);
        self.source = source;
        self.stmts.cause = cause;
        applied
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_with<'b>(
        &mut self,
        tx: &Connection,
        p: &'b Placement,
        line: u64,
        ctx: &FileCtx<'_>,
        pending: &mut Pending<'b>,
        cause: &str,
        source: &str,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        let o = Origin { source, cause, as_of: ctx.as_of, run_id: ctx.run_id, at: &ctx.at };
        let unseen = match &mut self.new_client_numbers {
            Some(seen) if seen.len() < self.max_remembered => {
                seen.insert(p.account_number.as_str())
            }
            Some(_) => {
                self.new_client_numbers = None;
                false
            }
            None => false,
        };
        let existing: Option<(i64, i64, Vec<Option<String>>)> = if unseen {
            // Neither on file before this file nor created by an earlier row of it.
            None
        } else {
            if pending.accounts.iter().any(|a| a.0.account_number == p.account_number) {
                self.flush(pending)?;
            }
            let st = &mut self.stmts;
            st.select_account.raw_bind_parameter(2, p.account_number.as_str())?;
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
            (None, Some(reject)) => return Ok(Err(reject.clone())),
            (None, None) => {
                self.create(tx, p, line, &o, pending)?;
                Applied::Created
            }
            (Some((account_id, consumer_id, old)), _) => {
                if pending.has_contacts() || pending.links.iter().any(|l| l.0 == account_id) {
                    self.flush(pending)?;
                }
                let changed = update(tx, &mut self.stmts, account_id, consumer_id, p, &old, &o)?;
                if changed { Applied::Updated } else { Applied::Unchanged }
            }
        };
        Ok(Ok(applied))
    }

    /// Stores a new account: its consumer (found or created), the account, the consumer's
    /// contact data and the associated consumer. The account, a new consumer's contact data
    /// and the association are queued in `pending`.
    fn create<'b>(
        &mut self,
        tx: &Connection,
        p: &'b Placement,
        line: u64,
        o: &Origin<'_>,
        pending: &mut Pending<'b>,
    ) -> anyhow::Result<()> {
        let (consumer_id, fresh) = find_or_create_consumer(tx, &mut self.stmts, &p.primary)?;
        let st = &mut self.stmts;
        let account_id = st
            .last_account_id
            .checked_add(1)
            .ok_or_else(|| anyhow::anyhow!("no account id left after {}", st.last_account_id))?;
        st.last_account_id = account_id;
        pending.accounts.push((p, account_id, consumer_id));
        if fresh {
            // No history to look up or demote: each value is inserted as current (what
            // `contacts::observe_current` does when fresh).
            pending.addresses.push((&p.address, consumer_id, line));
            if let Some(v) = &p.phone {
                pending.phones.push((v.as_str(), consumer_id, line));
            }
            if let Some(v) = &p.email {
                pending.emails.push((v.as_str(), consumer_id, line));
            }
        } else {
            if pending.has_contacts() {
                self.flush(pending)?;
            }
            contacts_of(tx, consumer_id, p, false, o)?;
        }
        if let Some((co, ecoa)) = &p.co {
            let (co_id, _) = find_or_create_consumer(tx, &mut self.stmts, co)?;
            pending.links.push((account_id, co_id, *ecoa));
        }
        self.insert_queued(pending, false)?;
        Ok(())
    }

    /// Inserts every row queued in `pending`.
    pub fn flush(&mut self, pending: &mut Pending<'_>) -> rusqlite::Result<()> {
        self.insert_queued(pending, true)
    }

    /// Inserts the queued rows of each table that fill a multi-row statement; with `all`,
    /// every queued row.
    fn insert_queued(&mut self, pending: &mut Pending<'_>, all: bool) -> rusqlite::Result<()> {
        let st = &mut self.stmts;
        let full = |n: usize| all || n >= ROWS_PER_INSERT;
        if full(pending.accounts.len()) {
            st.accounts.insert(&mut pending.accounts, all, |s, b, &(p, id, consumer_id)| {
                bind_account(s, b, p, id, consumer_id)
            })?;
        }
        let (prefix, buf) = (st.cause_prefix.as_str(), &mut st.source_ref);
        if full(pending.addresses.len()) {
            st.addresses.insert(&mut pending.addresses, all, |s, b, &(a, consumer_id, line)| {
                s.raw_bind_parameter(b + 1, consumer_id)?;
                for (i, v) in a.iter().enumerate() {
                    s.raw_bind_parameter(b + 2 + i, v.as_str())?;
                }
                s.raw_bind_parameter(b + 7, source_ref(buf, prefix, line)?)
            })?;
        }
        for (ins, rows) in
            [(&mut st.phones, &mut pending.phones), (&mut st.emails, &mut pending.emails)]
        {
            if full(rows.len()) {
                ins.insert(rows, all, |s, b, &(v, consumer_id, line)| {
                    s.raw_bind_parameter(b + 1, consumer_id)?;
                    s.raw_bind_parameter(b + 2, v)?;
                    s.raw_bind_parameter(b + 3, source_ref(buf, prefix, line)?)
                })?;
            }
        }
        if full(pending.links.len()) {
            st.links.insert(&mut pending.links, all, |s, b, &(account_id, co_id, ecoa)| {
                s.raw_bind_parameter(b + 1, account_id)?;
                s.raw_bind_parameter(b + 2, co_id)?;
                s.raw_bind_parameter(b + 3, ecoa)
            })?;
        }
        Ok(())
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

/// `<prefix><line>` written into `buf` (a row's cause, stored as its contact data's
/// `source_ref`).
fn source_ref<'a>(buf: &'a mut String, prefix: &str, line: u64) -> rusqlite::Result<&'a str> {
    use std::fmt::Write as _;
    buf.clear();
    buf.push_str(prefix);
    write!(buf, "{line}").map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    Ok(buf.as_str())
}

/// Binds a new account's row parameters at `b + 1 ..` (the row template of `accounts`).
fn bind_account(
    s: &mut Statement<'_>,
    b: usize,
    p: &Placement,
    id: i64,
    consumer_id: i64,
) -> rusqlite::Result<()> {
    let v = &p.values;
    let text = |i: usize| v.get(i).and_then(|t| t.as_deref());
    // "Not given" past-due follows the balance.
    let past_due = text(8).or(text(7));
    s.raw_bind_parameter(b + 1, id)?;
    s.raw_bind_parameter(b + 2, p.account_number.as_str())?;
    s.raw_bind_parameter(b + 3, p.previous_account_number.as_deref())?;
    s.raw_bind_parameter(b + 4, consumer_id)?;
    s.raw_bind_parameter(b + 5, p.original_creditor.as_str())?;
    s.raw_bind_parameter(b + 6, p.creditor_class.as_deref().unwrap_or(""))?;
    s.raw_bind_parameter(b + 7, p.purchased_from.as_deref())?;
    s.raw_bind_parameter(b + 8, text(5))?;
    s.raw_bind_parameter(b + 9, text(6))?;
    s.raw_bind_parameter(b + 10, text(7))?;
    s.raw_bind_parameter(b + 11, past_due)?;
    s.raw_bind_parameter(b + 12, text(9))?;
    s.raw_bind_parameter(b + 13, text(10))?;
    s.raw_bind_parameter(b + 14, text(11))?;
    s.raw_bind_parameter(b + 15, text(12))?;
    s.raw_bind_parameter(b + 16, p.status)?;
    s.raw_bind_parameter(b + 17, p.medical.unwrap_or(false))?;
    s.raw_bind_parameter(b + 18, text(14))?;
    s.raw_bind_parameter(b + 19, text(15))
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
        (Some(ssn), _) => st.ssn.find(ssn, &p.surname)?,
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
    let id = tx.last_insert_rowid();
    if let Some(ssn) = &p.ssn {
        st.ssn.took(tx, ssn, id)?;
    }
    Ok((id, true))
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
    // "Not given" past-due follows the balance, as on a new placement, when this row sets
    // the balance (a balance the client only repeats is not set, and neither is past-due).
    let past_due_given = new[8].is_some();
    if !past_due_given {
        new[8] = new[7].clone();
    }
    let mut balance_set = false;
    for (i, field) in ACCOUNT_FIELDS.iter().enumerate() {
        let Some(v) = &new[i] else { continue };
        if i == 8 && !past_due_given && !balance_set {
            continue;
        }
        let before = old.get(i).cloned().flatten();
        if before.as_deref() == Some(v.as_str()) {
            continue;
        }
        if client_last(tx, account_id, field, before.as_deref())?.as_deref() == Some(v.as_str()) {
            // The client sends what it sent before; the value on file changed since through
            // skiptrace itself (a payment, a contact event, a dispute ...) and stays.
            continue;
        }
        tx.prepare_cached(&format!(
            "UPDATE accounts SET {field} = ?1, updated_run = ?2 WHERE id = ?3"
        ))?
        .execute(params![v, o.run_id, account_id])?;
        account_event(tx, account_id, field, before.as_deref(), Some(v), o)?;
        changed = true;
        balance_set |= i == 7;
    }
    changed |= update_consumer(tx, consumer_id, &p.primary, o)?;
    if let Some(ssn) = &p.primary.ssn {
        // The consumer may have taken this SSN.
        st.ssn.took(tx, ssn, consumer_id)?;
    }
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

/// The value the client last sent for an account field: the value before the field's first
/// change (an account is created from its client's file), then each value a client file set
/// (events caused by `portfolio:` rows); `stored` when the field never changed.
fn client_last(
    tx: &Connection,
    account_id: i64,
    field: &str,
    stored: Option<&str>,
) -> rusqlite::Result<Option<String>> {
    let mut st = tx.prepare_cached(
        "SELECT old_value, new_value, cause LIKE 'portfolio:%' FROM account_events
         WHERE account_id = ?1 AND field = ?2 ORDER BY id",
    )?;
    let mut rows = st.query(params![account_id, field])?;
    let mut last: Option<Option<String>> = None;
    while let Some(r) = rows.next()? {
        if last.is_none() {
            last = Some(r.get(0)?);
        }
        if r.get::<_, bool>(2)? {
            last = Some(r.get(1)?);
        }
    }
    Ok(last.unwrap_or_else(|| stored.map(str::to_string)))
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
    events::account_event(tx, account_id, &o.change(field, old, new))
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
    events::consumer_event(tx, consumer_id, &o.change(field, old, new))
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
mod test_support {
    //! What the unit tests of this module share: a database with one agency client `C` and a
    //! run, and the context of a file ingested in it.
    use super::*;
    use crate::config::Config;
    use crate::store::Db;

    /// The config (client `C`, an agency), an in-memory database knowing it, and a run.
    pub(super) fn fixture() -> (Config, Db, i64) {
        let config = Config::parse(
            "[clients.C]\nname = \"C\"\nkind = \"agency\"\n",
            std::path::Path::new("x.toml"),
        )
        .unwrap();
        let db = Db::open_in_memory().unwrap();
        crate::ingest::sync_clients(&db, &config).unwrap();
        let run = db.begin_run("test", Some(jiff::civil::date(2026, 11, 20))).unwrap();
        (config, db, run)
    }

    /// The context of a file `p.csv` ingested in run `run` as of 2026-11-20.
    pub(super) fn file_ctx(config: &Config, run: i64) -> FileCtx<'_> {
        FileCtx {
            file_name: "p.csv".into(),
            as_of: jiff::civil::date(2026, 11, 20),
            run_id: run,
            at: "2026-11-20T00:00:00Z".into(),
            input_file_id: 0,
            config,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{FileKind, Layout};

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
        let (config, mut db, run) = test_support::fixture();
        let tx = db.conn_mut().transaction().unwrap();
        let ctx = test_support::file_ctx(&config, run);
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

#[cfg(test)]
mod queued_tests {
    use super::*;
    use crate::ingest::{FileKind, Layout};

    const HEADER: &str = "account_number,original_creditor,creditor_class,placed_date,\
        placed_amount,current_balance,status,surname,first_name,ssn,address1,city,state,zip,\
        phone,email,co_surname,co_first_name,co_ssn,co_ecoa";

    /// 100 rows of one batch: new placements (some with phone, e-mail, an associated
    /// consumer), repeats of accounts still queued and long stored (updates), consumers
    /// shared with a queued row (a second address), associated consumers changing ECOA, an
    /// SSN shared by two surnames (two consumers), and a consumer given a new SSN by an
    /// update whose SSN a later new account then carries.
    fn rows() -> Vec<String> {
        (0..100u32)
            .map(|i| {
                let (n, ssn, street, balance, ecoa) = match i {
                    // The account of row i - 1 again, a new balance, the same consumer.
                    _ if i % 10 == 5 => (i - 1, i - 1, i - 1, 90, "2"),
                    // Account of row 4 (long stored) again, a new address, ECOA changed.
                    _ if i % 17 == 16 => (4, 4, 1000 + i, 80, "3"),
                    // A new account of the consumer of row i - 2 at a new address.
                    _ if i % 10 == 8 => (i, i - 2, 2000 + i, 100, "2"),
                    _ => (i, i, i, 100, "2"),
                };
                let mut surname = "DOE";
                let mut ssn_text = format!("1234{:05}", ssn + 1);
                match i {
                    // The SSN of row i - 1 under another surname; the row after, again.
                    22 | 23 | 62 | 63 => {
                        surname = "ROE";
                        ssn_text = format!("1234{:05}", 21 + 40 * (i / 60) + 1);
                    }
                    // The account of row 3 (stored) with a new SSN; the row after is a new
                    // account with that SSN (the same consumer).
                    30 | 31 => {
                        ssn_text = "555121234".to_string();
                        if i == 30 {
                            return format!(
                                "A3,BANK,01,2026-01-02,100,100,open,DOE,JANE,{ssn_text},3 MAIN ST,\
                                 AUSTIN,TX,78701,,,,,,"
                            );
                        }
                    }
                    _ => {}
                }
                let co = if n % 4 == 0 {
                    format!("DOE,JOHN,23456{:04},{ecoa}", 100 + n)
                } else {
                    ",,,".to_string()
                };
                let phone = if ssn % 3 != 1 { format!("512555{:04}", ssn) } else { String::new() };
                let email =
                    if ssn % 2 == 0 { format!("c{ssn}@example.com") } else { String::new() };
                format!(
                    "A{n},BANK,01,2026-01-02,100,{balance},open,{surname},JANE,{ssn_text},\
                     {street} MAIN ST,AUSTIN,TX,78701,{phone},{email},{co}"
                )
            })
            .collect()
    }

    /// Every row of the tables a portfolio writes, in id order.
    fn dump(c: &Connection) -> Vec<String> {
        let mut out = Vec::new();
        for t in TABLES {
            let mut s = c.prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2")).unwrap();
            let n = s.column_count();
            let mut rows = s.raw_query();
            while let Some(r) = rows.next().unwrap() {
                let vals: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                out.push(format!("{t}: {}", vals.join("|")));
            }
        }
        out
    }

    /// How [`ingest`] finds consumers by SSN.
    #[derive(Clone, Copy, PartialEq)]
    enum By {
        Index,
        Filter,
        Memory,
        /// In memory until more SSNs than fit, then filtered.
        MemoryThenFilter,
    }

    fn ingest(queued: bool, by: By) -> Vec<String> {
        let (config, mut db, run) = test_support::fixture();
        let tx = db.conn_mut().transaction().unwrap();
        let ctx = test_support::file_ctx(&config, run);
        let header: Vec<String> = HEADER.split(',').map(String::from).collect();
        let layout =
            Layout::load("default", std::path::Path::new("."), FileKind::Portfolio).unwrap();
        let resolved = layout.resolve(&header).unwrap();
        let placements: Vec<Placement> = rows()
            .iter()
            .map(|r| {
                let rec = csv::StringRecord::from(r.split(',').collect::<Vec<_>>());
                check(&Row::new(&rec, &resolved)).unwrap()
            })
            .collect();
        // One consumer on file before the file, found by the SSN of row 7; and two with the
        // SSN and surname of row 11 (an older duplicate): the first of them is found.
        tx.execute_batch(
            "INSERT INTO consumers (surname, first_name, ssn) VALUES ('DOE', 'JANE', '123400008');
             INSERT INTO consumers (surname, first_name, ssn) VALUES ('DOE', 'JAN', '123400012');
             INSERT INTO consumers (surname, first_name, ssn) VALUES ('DOE', 'J', '123400012');",
        )
        .unwrap();
        let mut h = Handler::new("C", config.client("C").unwrap(), &tx, &ctx).unwrap();
        let index_sql = || -> Option<String> {
            tx.query_row("SELECT sql FROM sqlite_schema WHERE name = 'consumers_ssn'", [], |r| {
                r.get(0)
            })
            .optional()
            .unwrap()
        };
        let index_before = index_sql();
        assert!(index_before.is_some());
        match by {
            By::Index => h.expect_rows(&tx, 100, u64::MAX).unwrap(),
            By::Filter => {
                h.expect_rows(&tx, 100, u64::MAX).unwrap();
                assert!(h.stmts.ssn.filtered());
            }
            By::Memory | By::MemoryThenFilter => {
                h.expect_rows(&tx, 100, 1).unwrap();
                assert!(h.stmts.ssn.in_memory());
                assert_eq!(index_sql(), None, "the index is set aside during the file");
                if by == By::MemoryThenFilter {
                    h.stmts.ssn.max_in_memory = 40;
                }
            }
        }
        let mut pending = Pending::default();
        let mut applied = Vec::new();
        for (i, p) in placements.iter().enumerate() {
            let line = i as u64 + 2;
            let a = if queued {
                h.apply_queued(&tx, p, line, &ctx, &mut pending)
            } else {
                h.apply_checked(&tx, p, line, &ctx)
            };
            applied.push(format!("{:?}", a.unwrap().unwrap()));
        }
        h.flush(&mut pending).unwrap();
        if by == By::MemoryThenFilter {
            // Past 40 SSNs the index was rebuilt mid-file and SSNs filtered from then on.
            assert!(h.stmts.ssn.filtered());
            assert_eq!(index_sql(), index_before);
        }
        h.finish(&tx).unwrap();
        drop(h);
        // The index is back as it was, and look-ups use it.
        assert_eq!(index_sql(), index_before);
        let plan: String = tx
            .query_row(
                &format!("EXPLAIN QUERY PLAN {}", crate::ingest::ssn_lookup::CONSUMER_BY_SSN),
                ["123400008", "DOE", "123400008"],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("consumers_ssn"), "{plan}");
        let mut out = dump(&tx);
        out.extend(applied);
        out
    }

    #[test]
    fn queued_multi_row_inserts_store_exactly_what_row_by_row_inserts_store() {
        let one_by_one = ingest(false, By::Index);
        let queued = ingest(true, By::Index);
        let filtered = ingest(true, By::Filter);
        let in_memory = ingest(true, By::Memory);
        let spilled = ingest(true, By::MemoryThenFilter);
        let count = |t: &str| one_by_one.iter().filter(|l| l.starts_with(t)).count();
        // The batch exercises what it is meant to: full multi-row statements, updates of
        // queued and stored accounts, shared consumers with a second address, ECOA changes.
        assert!(count("accounts:") > 2 * ROWS_PER_INSERT, "{}", count("accounts:"));
        assert!(count("Updated") >= 12, "{}", count("Updated"));
        assert!(one_by_one.iter().any(|l| l.starts_with("addresses:") && l.contains("previous")));
        assert!(one_by_one.iter().any(|l| l.contains("associated_consumer:")));
        // The consumer on file (id 1) got the account of SSN 123400008.
        let of_first = one_by_one
            .iter()
            .filter(|l| l.starts_with("accounts:") && l.contains("|Null|Integer(1)|Text(\"1\")|"))
            .count();
        assert_eq!(of_first, 1);
        let of_second = one_by_one
            .iter()
            .filter(|l| l.starts_with("accounts:") && l.contains("|Null|Integer(2)|Text(\"1\")|"))
            .count();
        assert_eq!(of_second, 1);
        assert!(count("phones:") > ROWS_PER_INSERT && count("emails:") > ROWS_PER_INSERT);
        // One SSN under two surnames is two consumers, each found again by its surname.
        let roe: Vec<&String> = one_by_one
            .iter()
            .filter(|l| l.starts_with("consumers:") && l.contains("ROE"))
            .collect();
        assert_eq!(roe.len(), 2, "{roe:?}");
        // The consumer of account A3 took SSN 555121234, and the new account A31 is theirs.
        let took: Vec<&String> = one_by_one
            .iter()
            .filter(|l| l.starts_with("consumers:") && l.contains("555121234"))
            .collect();
        assert_eq!(took.len(), 1, "{took:?}");
        assert!(one_by_one.iter().any(|l| l.starts_with("consumer_events:") && l.contains("ssn")));
        // Multi-row inserts store what one-row inserts store; the SSN bit set skips only
        // look-ups that cannot hit; so does holding the SSNs in memory with the index set
        // aside, and going on filtered when more SSNs than fit in memory come.
        for (way, rows) in [
            ("queued", queued),
            ("filtered", filtered),
            ("in memory", in_memory),
            ("spilled", spilled),
        ] {
            assert_eq!(rows.len(), one_by_one.len(), "{way}");
            for (r, o) in rows.iter().zip(&one_by_one) {
                assert_eq!(r, o, "{way}");
            }
        }
    }
}

#[cfg(test)]
mod plan_tests {
    use crate::store::Db;

    #[test]
    fn the_consumer_look_up_by_ssn_seeks_the_ssn_index() {
        let db = Db::open_in_memory().unwrap();
        let plan: Vec<String> = db
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {}", crate::ingest::ssn_lookup::CONSUMER_BY_SSN))
            .unwrap()
            .query_map(["123456789", "DOE", "123456789"], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join("\n");
        assert!(plan.contains("USING INDEX consumers_ssn (<expr>=? AND surname=?)"), "{plan}");
    }
}

#[cfg(test)]
mod rollback_tests {
    use super::*;
    use crate::ingest::{FileKind, Layout};

    #[test]
    fn a_failed_multi_row_insert_ends_the_files_transaction_with_an_error() {
        let (config, mut db, run) = test_support::fixture();
        let tx = db.conn_mut().transaction().unwrap();
        let ctx = test_support::file_ctx(&config, run);
        let header: Vec<String> = "account_number,original_creditor,creditor_class,placed_date,\
            placed_amount,current_balance,status,surname,first_name,ssn,address1,city,state,zip"
            .split(',')
            .map(String::from)
            .collect();
        let layout =
            Layout::load("default", std::path::Path::new("."), FileKind::Portfolio).unwrap();
        let resolved = layout.resolve(&header).unwrap();
        let placements: Vec<Placement> = (0..40)
            .map(|i| {
                let r = format!(
                    "N{i},BANK,01,2026-01-02,100,100,open,DOE,JANE,1234{:05},1 MAIN ST,AUSTIN,TX,78701",
                    i + 1
                );
                let rec = csv::StringRecord::from(r.split(',').collect::<Vec<_>>());
                check(&Row::new(&rec, &resolved)).unwrap()
            })
            .collect();
        let mut h = Handler::new("C", config.client("C").unwrap(), &tx, &ctx).unwrap();
        // Another account takes the id the handler gives its first new account.
        tx.execute("INSERT INTO consumers (id, surname, first_name) VALUES (1000, 'X', 'Y')", [])
            .unwrap();
        tx.execute(
            "INSERT INTO accounts (id, client_id, account_number, consumer_id, account_type,
                original_creditor, creditor_class, placed_date, placed_amount, current_balance,
                amount_past_due, status) VALUES (1, 'C', 'OTHER', 1000, '48', 'O', '01', 'd',
                '1', '1', '1', 'open')",
            [],
        )
        .unwrap();
        let mut pending = Pending::default();
        let mut failed = None;
        for (i, p) in placements.iter().enumerate() {
            if let Err(e) = h.apply_queued(&tx, p, i as u64 + 2, &ctx, &mut pending) {
                failed = Some(e);
                break;
            }
        }
        let failed = match failed {
            Some(e) => e,
            None => anyhow::Error::from(h.flush(&mut pending).unwrap_err()),
        };
        assert!(
            format!("{failed:#}").contains("UNIQUE constraint failed: accounts.id"),
            "{failed:#}"
        );
        drop(h);
        // SQLite rolled the whole transaction back: nothing of it is left.
        assert!(tx.is_autocommit());
        let n: i64 = tx.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
    }
}
