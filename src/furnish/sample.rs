//! Synthetic accounts inserted straight into the system of record, for tests, the property
//! test and the benchmark (the ingest commands are the production path). Never real personal
//! data: names come from a short fictional list, SSNs from a generated synthetic range.
//!
//! This module must not be used by any command.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rusqlite::{Connection, params};

/// An associated consumer to insert.
#[derive(Clone, Debug)]
pub struct SampleAssociate {
    /// Surname.
    pub surname: String,
    /// First name.
    pub first_name: String,
    /// SSN text (stored as given).
    pub ssn: Option<String>,
    /// DOB text (ISO).
    pub dob: Option<String>,
    /// ECOA code.
    pub ecoa: String,
    /// Current address `(line1, city, state, zip)`; `None` for none.
    pub address: Option<(String, String, String, String)>,
    /// Deceased date (ISO).
    pub deceased_date: Option<String>,
}

/// One account with its primary consumer, as stored. Text fields are stored verbatim (tests
/// use this to store broken values).
#[derive(Clone, Debug)]
pub struct SampleAccount {
    /// Client id (created when missing).
    pub client_id: String,
    /// Client kind (`agency`, `debt_buyer`, `returned_check`).
    pub client_kind: String,
    /// Account number.
    pub account_number: String,
    /// ECOA of the primary consumer.
    pub ecoa: String,
    /// Account type (48, 0C, 77).
    pub account_type: String,
    /// Original creditor.
    pub original_creditor: String,
    /// Creditor classification.
    pub creditor_class: String,
    /// Seller (debt buyers).
    pub purchased_from: Option<String>,
    /// Placed date.
    pub placed_date: String,
    /// Placed amount.
    pub placed_amount: String,
    /// Current balance.
    pub current_balance: String,
    /// Amount past due.
    pub amount_past_due: String,
    /// DOFD.
    pub dofd: Option<String>,
    /// Last payment date.
    pub last_payment_date: Option<String>,
    /// Last payment amount.
    pub last_payment_amount: Option<String>,
    /// Date closed.
    pub date_closed: Option<String>,
    /// `open`, `paid`, `settled`, `recalled`, `closed`.
    pub status: String,
    /// Medical debt.
    pub medical: bool,
    /// Validation notice date.
    pub validation_notice_date: Option<String>,
    /// First conversation date.
    pub first_communication_date: Option<String>,
    /// Undeliverable notice date.
    pub undeliverable_date: Option<String>,
    /// Fraud confirmed.
    pub fraud_confirmed: bool,
    /// Furnish flag.
    pub furnish: bool,
    /// Surname.
    pub surname: String,
    /// First name.
    pub first_name: String,
    /// Middle name.
    pub middle_name: Option<String>,
    /// Generation code.
    pub generation: Option<String>,
    /// SSN.
    pub ssn: Option<String>,
    /// DOB.
    pub dob: Option<String>,
    /// Deceased date.
    pub deceased_date: Option<String>,
    /// Bankruptcy chapter.
    pub bankruptcy_chapter: Option<String>,
    /// Bankruptcy status.
    pub bankruptcy_status: Option<String>,
    /// Current address `(line1, city, state, zip)`.
    pub address: Option<(String, String, String, String)>,
    /// Current phone.
    pub phone: Option<String>,
    /// Associated consumers.
    pub associates: Vec<SampleAssociate>,
}

impl Default for SampleAccount {
    /// An unpaid agency account placed 2025-06-01, DOFD 2025-01-15, validation notice sent
    /// 2025-06-10: furnishable as status 93 on any cycle date from 2025-06-24.
    fn default() -> Self {
        SampleAccount {
            client_id: "ACME".into(),
            client_kind: "agency".into(),
            account_number: "A1001".into(),
            ecoa: "1".into(),
            account_type: "48".into(),
            original_creditor: "ACME BANK".into(),
            creditor_class: "08".into(),
            purchased_from: None,
            placed_date: "2025-06-01".into(),
            placed_amount: "1250.75".into(),
            current_balance: "1100.40".into(),
            amount_past_due: "1100.40".into(),
            dofd: Some("2025-01-15".into()),
            last_payment_date: None,
            last_payment_amount: None,
            date_closed: None,
            status: "open".into(),
            medical: false,
            validation_notice_date: Some("2025-06-10".into()),
            first_communication_date: None,
            undeliverable_date: None,
            fraud_confirmed: false,
            furnish: true,
            surname: "TESTER".into(),
            first_name: "ALEX".into(),
            middle_name: None,
            generation: None,
            ssn: Some("123456789".into()),
            dob: Some("1980-03-07".into()),
            deceased_date: None,
            bankruptcy_chapter: None,
            bankruptcy_status: None,
            address: Some(("12 ELM ST".into(), "AUSTIN".into(), "TX".into(), "78701".into())),
            phone: Some("5125550100".into()),
            associates: Vec::new(),
        }
    }
}

/// Creates the client row when missing.
pub fn ensure_client(conn: &Connection, id: &str, kind: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO clients (id, name, kind) VALUES (?1, ?1, ?2)",
        params![id, kind],
    )?;
    Ok(())
}

/// Surname, first name, then middle name, generation, SSN, DOB and date of death.
type PersonRow<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

fn insert_person(conn: &Connection, p: PersonRow<'_>) -> rusqlite::Result<i64> {
    let mut st = conn.prepare_cached(
        "INSERT INTO consumers (surname, first_name, middle_name, generation, ssn, dob, deceased_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    st.execute(params![p.0, p.1, p.2, p.3, p.4, p.5, p.6])?;
    Ok(conn.last_insert_rowid())
}

fn insert_address(
    conn: &Connection,
    consumer: i64,
    a: &(String, String, String, String),
) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached(
        "INSERT INTO addresses (consumer_id, line1, city, state, zip, source, first_seen, last_seen, status)
         VALUES (?1, ?2, ?3, ?4, ?5, 'client:sample', '2025-01-01', '2025-01-01', 'current')",
    )?;
    st.execute(params![consumer, a.0, a.1, a.2, a.3])?;
    Ok(())
}

/// Inserts one account (and its consumers, address, phone) and returns its id.
pub fn insert(conn: &Connection, a: &SampleAccount) -> rusqlite::Result<i64> {
    ensure_client(conn, &a.client_id, &a.client_kind)?;
    let consumer = insert_person(
        conn,
        (
            &a.surname,
            &a.first_name,
            a.middle_name.as_deref(),
            a.generation.as_deref(),
            a.ssn.as_deref(),
            a.dob.as_deref(),
            a.deceased_date.as_deref(),
        ),
    )?;
    if a.bankruptcy_chapter.is_some() || a.bankruptcy_status.is_some() {
        conn.execute(
            "UPDATE consumers SET bankruptcy_chapter = ?1, bankruptcy_status = ?2 WHERE id = ?3",
            params![a.bankruptcy_chapter, a.bankruptcy_status, consumer],
        )?;
    }
    if let Some(addr) = &a.address {
        insert_address(conn, consumer, addr)?;
    }
    if let Some(phone) = &a.phone {
        let mut st = conn.prepare_cached(
            "INSERT INTO phones (consumer_id, number, source, first_seen, last_seen, status)
             VALUES (?1, ?2, 'client:sample', '2025-01-01', '2025-01-01', 'current')",
        )?;
        st.execute(params![consumer, phone])?;
    }
    let mut st = conn.prepare_cached(
        "INSERT INTO accounts (client_id, account_number, consumer_id, ecoa, account_type,
            original_creditor, creditor_class, purchased_from, placed_date, placed_amount,
            current_balance, amount_past_due, dofd, last_payment_date, last_payment_amount,
            date_closed, status, medical, validation_notice_date, first_communication_date,
            undeliverable_date, fraud_confirmed, furnish)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                 ?19, ?20, ?21, ?22, ?23)",
    )?;
    st.execute(params![
        a.client_id,
        a.account_number,
        consumer,
        a.ecoa,
        a.account_type,
        a.original_creditor,
        a.creditor_class,
        a.purchased_from,
        a.placed_date,
        a.placed_amount,
        a.current_balance,
        a.amount_past_due,
        a.dofd,
        a.last_payment_date,
        a.last_payment_amount,
        a.date_closed,
        a.status,
        a.medical,
        a.validation_notice_date,
        a.first_communication_date,
        a.undeliverable_date,
        a.fraud_confirmed,
        a.furnish,
    ])?;
    let account = conn.last_insert_rowid();
    for s in &a.associates {
        let id = insert_person(
            conn,
            (
                &s.surname,
                &s.first_name,
                None,
                None,
                s.ssn.as_deref(),
                s.dob.as_deref(),
                s.deceased_date.as_deref(),
            ),
        )?;
        if let Some(addr) = &s.address {
            insert_address(conn, id, addr)?;
        }
        let mut st = conn.prepare_cached(
            "INSERT INTO account_consumers (account_id, consumer_id, ecoa) VALUES (?1, ?2, ?3)",
        )?;
        st.execute(params![account, id, s.ecoa])?;
    }
    Ok(account)
}

const SURNAMES: [&str; 12] = [
    "ASHFORD",
    "BRIGHTWATER",
    "COLDMOOR",
    "DUNMERE",
    "ELDERIDGE",
    "FALLOWAY",
    "GREYSTONE",
    "HOLLOWAY-KEYNE",
    "IRONWELL",
    "JUNIPERO",
    "KESTREL",
    "LARKSPUR",
];
const FIRST_NAMES: [&str; 10] =
    ["AVERY", "BLAKE", "CASEY", "DREW", "EMERSON", "FINLEY", "GRAY", "HARPER", "IVY", "JORDAN"];
const CITIES: [(&str, &str, &str); 5] = [
    ("AUSTIN", "TX", "78701"),
    ("DENVER", "CO", "80202"),
    ("TAMPA", "FL", "33602"),
    ("BOISE", "ID", "83702"),
    ("OMAHA", "NE", "68102"),
];

/// A random, valid, furnishable-or-gated account for cycle dates around 2026-11: every field
/// well-formed (so any gate may apply, but no data error). `n` makes the account number
/// unique.
pub fn random_account(rng: &mut ChaCha8Rng, n: u64) -> SampleAccount {
    let kind = rng.random_range(0..3u8);
    let (client, client_kind, account_type) = match kind {
        0 => ("ACME", "agency", "48"),
        1 => ("BUYCO", "debt_buyer", "0C"),
        _ => ("CHECKS", "returned_check", "77"),
    };
    let day = |rng: &mut ChaCha8Rng, y0: i16, y1: i16| -> String {
        let y = rng.random_range(y0..=y1);
        let m = rng.random_range(1..=12u8);
        let d = rng.random_range(1..=28u8);
        format!("{y:04}-{m:02}-{d:02}")
    };
    let dofd = day(rng, 2017, 2025);
    // Placement after the DOFD.
    let dofd_year: i16 = dofd.get(0..4).and_then(|t| t.parse().ok()).unwrap_or(2020);
    let placed = {
        let p = day(rng, dofd_year + 1, (dofd_year + 2).min(2026));
        let p = p.replace("2026-11", "2026-10").replace("2026-12", "2026-10");
        if p > dofd { p } else { dofd.clone() }
    };
    let placed_year: i16 = placed.get(0..4).and_then(|t| t.parse().ok()).unwrap_or(2021);
    let placed_cents = rng.random_range(10_000..5_000_000u64);
    let status = match rng.random_range(0..10u8) {
        0 => "paid",
        1 => "settled",
        2 => "recalled",
        3 => "closed",
        _ => "open",
    };
    let open_like = status == "open";
    let balance_cents = if open_like { rng.random_range(100..=placed_cents) } else { 0 };
    let money = |c: u64| format!("{}.{:02}", c / 100, c % 100);
    let (lpd, lpa) = if status == "paid" || status == "settled" {
        let paid = day(rng, placed_year, 2026).replace("2026-11", "2026-10");
        let paid = paid.replace("2026-12", "2026-10");
        let paid = if paid >= placed { paid } else { placed.clone() };
        (Some(paid), Some(money(placed_cents / 3 + 1)))
    } else {
        (None, None)
    };
    let medical = rng.random_range(0..5u8) == 0;
    let surname = SURNAMES[rng.random_range(0..SURNAMES.len())];
    let first = FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())];
    let (city, state, zip) = CITIES[rng.random_range(0..CITIES.len())];
    let has_ssn = rng.random_range(0..10u8) != 0;
    let ssn = format!(
        "{:03}{:02}{:04}",
        rng.random_range(100..665u32),
        rng.random_range(10..99u32),
        rng.random_range(1000..9999u32)
    );
    let bankrupt = (rng.random_range(0..40u8) == 0).then(|| {
        (
            ["7", "13"][rng.random_range(0..2usize)],
            ["petition", "discharged"][rng.random_range(0..2usize)],
        )
    });
    let mut associates = Vec::new();
    if rng.random_range(0..5u8) == 0 {
        let other_address = rng.random_range(0..2u8) == 0;
        associates.push(SampleAssociate {
            surname: SURNAMES[rng.random_range(0..SURNAMES.len())].into(),
            first_name: FIRST_NAMES[rng.random_range(0..FIRST_NAMES.len())].into(),
            ssn: Some(format!(
                "{:03}{:02}{:04}",
                rng.random_range(100..665u32),
                rng.random_range(10..99u32),
                rng.random_range(1000..9999u32)
            )),
            dob: Some(day(rng, 1950, 1999)),
            ecoa: ["2", "5", "7"][rng.random_range(0..3usize)].into(),
            address: other_address
                .then(|| ("9 OAK AVE".into(), "RENO".into(), "NV".into(), "89501".into())),
            deceased_date: None,
        });
    }
    SampleAccount {
        client_id: client.into(),
        client_kind: client_kind.into(),
        account_number: format!("{}{n:09}", client.chars().next().unwrap_or('X')),
        ecoa: "1".into(),
        account_type: account_type.into(),
        original_creditor: if medical { "VALLEY CLINIC".into() } else { "NORTHWIND BANK".into() },
        creditor_class: if medical { "02".into() } else { "08".into() },
        purchased_from: (account_type == "0C").then(|| "SELLER FUNDING LLC".into()),
        placed_date: placed,
        placed_amount: money(placed_cents),
        current_balance: money(balance_cents),
        amount_past_due: money(balance_cents),
        dofd: Some(dofd),
        last_payment_date: lpd.clone(),
        last_payment_amount: lpa,
        date_closed: None,
        status: status.into(),
        medical,
        validation_notice_date: (rng.random_range(0..6u8) != 0)
            .then(|| day(rng, 2024, 2026).replace("2026-12", "2026-10")),
        first_communication_date: (rng.random_range(0..3u8) == 0).then(|| day(rng, 2024, 2025)),
        undeliverable_date: (rng.random_range(0..10u8) == 0)
            .then(|| day(rng, 2024, 2026).replace("2026-12", "2026-10")),
        fraud_confirmed: rng.random_range(0..100u8) == 0,
        furnish: true,
        surname: surname.into(),
        first_name: first.into(),
        middle_name: None,
        generation: None,
        ssn: has_ssn.then_some(ssn),
        dob: Some(day(rng, 1945, 2000)),
        deceased_date: (rng.random_range(0..50u8) == 0).then(|| "2026-01-15".into()),
        bankruptcy_chapter: bankrupt.map(|(c, _)| c.into()),
        bankruptcy_status: bankrupt.map(|(_, s)| s.into()),
        address: Some((
            format!("{} MAIN ST", rng.random_range(1..9999u32)),
            city.into(),
            state.into(),
            zip.into(),
        )),
        phone: (rng.random_range(0..2u8) == 0)
            .then(|| format!("512555{:04}", rng.random_range(0..9999u32))),
        associates,
    }
}

/// Inserts `count` random accounts (seeded, so the same seed gives the same portfolio) in
/// one transaction.
pub fn generate(conn: &mut Connection, count: u64, seed: u64) -> rusqlite::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let tx = conn.transaction()?;
    for n in 0..count {
        let a = random_account(&mut rng, n);
        insert(&tx, &a)?;
    }
    tx.commit()
}
