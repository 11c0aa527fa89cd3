//! Writes a [`Synth`] to disk in the default layouts of `formats/README.md`: one portfolio
//! per client, payments, contact events, the change-of-address result (`ncoa.csv`), the vendor
//! batch results (`vendor.csv`, `vendor.xml`) and `truth.csv`.
//!
//! Owns file rendering only (atomic, 0600 via `fsutil::write_atomic`); it must not change
//! the generated data.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use jiff::civil::Date;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;

use super::Synth;
use crate::dates::add_days;
use crate::fsutil::write_atomic;
use crate::locate::record::{Debtor, LocateRecord, MoveType, PostalAddress, SsnEvidence};

/// The clients accounts are spread over: an agency and a debt buyer.
pub const CLIENTS: [&str; 2] = ["AGENCY01", "BUYER01"];

/// The client of account `i` (3 in 5 agency accounts, 2 in 5 debt-buyer accounts).
pub fn client_of(i: usize) -> &'static str {
    if i % 5 < 3 { CLIENTS[0] } else { CLIENTS[1] }
}

/// The account number of account `i`.
pub fn account_number(i: usize) -> String {
    let prefix = if i % 5 < 3 { "AG" } else { "DB" };
    format!("{prefix}-{:08}", i + 1)
}

/// What [`write`] produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Portfolio rows per client file.
    pub portfolio_rows: Vec<(String, usize)>,
    /// Payment rows.
    pub payments: usize,
    /// Contact-event rows.
    pub contact_events: usize,
    /// Change-of-address records.
    pub ncoa: usize,
    /// Vendor CSV records.
    pub vendor_csv: usize,
    /// Vendor XML records.
    pub vendor_xml: usize,
}

const PORTFOLIO_COLUMNS: [&str; 37] = [
    "account_number",
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
    "surname",
    "first_name",
    "middle_name",
    "generation",
    "ssn",
    "dob",
    "address1",
    "address2",
    "city",
    "state",
    "zip",
    "phone",
    "email",
    "co_surname",
    "co_first_name",
    "co_middle_name",
    "co_generation",
    "co_ssn",
    "co_dob",
    "co_ecoa",
];

fn date_s(d: Option<Date>) -> String {
    d.map(|d| d.to_string()).unwrap_or_default()
}

fn money(cents: i64) -> String {
    Decimal::new(cents, 2).to_string()
}

struct AccountFacts {
    row: Vec<String>,
    payments: Vec<[String; 6]>,
    events: Vec<[String; 5]>,
}

fn account_facts(
    rng: &mut ChaCha8Rng,
    i: usize,
    d: &Debtor,
    as_of: Date,
    co: Option<&Debtor>,
) -> AccountFacts {
    let client = client_of(i);
    let buyer = client == CLIENTS[1];
    let medical = !buyer && rng.random_bool(0.25);
    let class = if medical {
        "02".to_string()
    } else {
        format!("{:02}", [1, 3, 5, 6, 7, 11, 12][rng.random_range(0..7)])
    };
    let placed = add_days(as_of, -rng.random_range(10..1500));
    let dofd = add_days(placed, -rng.random_range(60..720));
    let placed_cents: i64 = rng.random_range(5_000..2_500_000);
    let status = match rng.random_range(0..100) {
        0..70 => "open",
        70..80 => "paid",
        80..88 => "settled",
        88..93 => "recalled",
        _ => "closed",
    };
    let mut payments = Vec::new();
    let mut paid: i64 = 0;
    let mut last_payment: Option<(Date, i64)> = None;
    if status != "open" || rng.random_bool(0.3) {
        for k in 0..rng.random_range(1..4) {
            let day = add_days(
                placed,
                rng.random_range(1..400).min(crate::dates::days_between(placed, as_of).max(1)),
            );
            let amount = (placed_cents / 10).max(100) + rng.random_range(0..5000);
            paid += amount;
            last_payment = Some((day, amount));
            payments.push([
                client.to_string(),
                account_number(i),
                day.to_string(),
                money(amount),
                "payment".to_string(),
                format!("P{i}-{k}"),
            ]);
        }
    }
    let balance = match status {
        "paid" | "settled" => 0,
        _ => (placed_cents - paid).max(0),
    };
    let closed = matches!(status, "paid" | "settled" | "closed")
        .then(|| add_days(as_of, -rng.random_range(1..60)));
    let validation = rng.random_bool(0.8).then(|| add_days(placed, 5));
    let conversation = rng.random_bool(0.3).then(|| add_days(placed, 20));
    let mut events = Vec::new();
    let ev = |kind: &str, day: Date, detail: String| {
        [client.to_string(), account_number(i), day.to_string(), kind.to_string(), detail]
    };
    if let Some(v) = validation {
        events.push(ev("validation_notice", v, String::new()));
    }
    if let Some(c) = conversation {
        events.push(ev("conversation", c, String::new()));
    }
    if rng.random_bool(0.2) {
        events.push(ev("returned_mail", add_days(placed, 30), String::new()));
    }
    if rng.random_bool(0.1) {
        events.push(ev(
            "disconnected_phone",
            add_days(placed, 40),
            d.phones.first().cloned().unwrap_or_default(),
        ));
    }
    if status == "recalled" {
        events.push(ev("recall", add_days(as_of, -5), String::new()));
    }
    if rng.random_bool(0.005) {
        events.push(ev("bankruptcy", add_days(as_of, -30), "7".to_string()));
    }
    let addr = d.addresses.first().cloned().unwrap_or_default();
    let (co_last, co_first, co_middle, co_gen, co_ssn, co_dob, co_ecoa) = match co {
        Some(c) => (
            c.name.last.clone(),
            c.name.first.clone(),
            c.name.middle.clone(),
            c.name.suffix.clone(),
            c.ssn.as_ref().map(|s| s.expose_digits().to_string()).unwrap_or_default(),
            date_s(c.dob),
            "2".to_string(),
        ),
        None => Default::default(),
    };
    let row = vec![
        account_number(i),
        if rng.random_bool(0.05) { format!("OLD{:07}", i + 1) } else { String::new() },
        if medical {
            "SYNTH HEALTH PARTNERS"
        } else {
            ["SYNTH BANK NA", "EXAMPLE CARD CO", "DEMO AUTO FINANCE"][i % 3]
        }
        .to_string(),
        class,
        if medical { "Y" } else { "N" }.to_string(),
        if buyer { "EXAMPLE CARD CO".to_string() } else { String::new() },
        placed.to_string(),
        money(placed_cents),
        money(balance),
        money(balance),
        dofd.to_string(),
        date_s(last_payment.map(|p| p.0)),
        last_payment.map(|p| money(p.1)).unwrap_or_default(),
        date_s(closed),
        status.to_string(),
        date_s(validation),
        date_s(conversation),
        d.name.last.clone(),
        d.name.first.clone(),
        d.name.middle.clone(),
        d.name.suffix.clone(),
        d.ssn.as_ref().map(|s| s.expose_digits().to_string()).unwrap_or_default(),
        date_s(d.dob),
        addr.line1,
        addr.line2,
        addr.city,
        addr.state,
        addr.zip,
        d.phones.first().cloned().unwrap_or_default(),
        if rng.random_bool(0.4) {
            format!("{}.{}@example.com", d.name.first, d.name.last).to_ascii_lowercase()
        } else {
            String::new()
        },
        co_last,
        co_first,
        co_middle,
        co_gen,
        co_ssn,
        co_dob,
        co_ecoa,
    ];
    AccountFacts { row, payments, events }
}

fn ssn_text(s: &SsnEvidence) -> String {
    match s {
        SsnEvidence::Full(x) => x.expose_digits().to_string(),
        SsnEvidence::Last4(l) => l.clone(),
        SsnEvidence::Missing => String::new(),
    }
}

fn xml(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

/// The account facts of account `i`, from its own random stream (so that each file is
/// written in one streaming pass without holding every account's rows).
fn facts_of(s: &Synth, i: usize, d: &Debtor) -> AccountFacts {
    let mut rng = ChaCha8Rng::seed_from_u64(
        s.config.seed ^ 0xACC0_0A7F ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    // Associated consumers: 10% of accounts, taken from another debtor.
    let co = if rng.random_bool(0.1) && s.debtors.len() > 1 {
        s.debtors.get((i + 1) % s.debtors.len())
    } else {
        None
    };
    account_facts(&mut rng, i, d, s.config.as_of, co)
}

/// Writes every file of the data set into `dir` (created 0700 when missing).
pub fn write(s: &Synth, dir: &Path) -> anyhow::Result<Written> {
    let mut out = Written::default();
    let facts = || s.debtors.iter().enumerate().map(|(i, d)| facts_of(s, i, d));
    let header = PORTFOLIO_COLUMNS;
    for (ci, client) in CLIENTS.iter().enumerate() {
        let name =
            if ci == 0 { "portfolio.csv".to_string() } else { format!("portfolio-{client}.csv") };
        let mut rows = 0;
        write_atomic(&dir.join(&name), |w| {
            let mut csv = csv::Writer::from_writer(w);
            csv.write_record(header)?;
            for (i, d) in s.debtors.iter().enumerate() {
                if client_of(i) == *client {
                    csv.write_record(&facts_of(s, i, d).row)?;
                    rows += 1;
                }
            }
            csv.flush()?;
            Ok(())
        })
        .with_context(|| format!("writing {name}"))?;
        out.portfolio_rows.push((name, rows));
    }
    write_atomic(&dir.join("payments.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([
            "client_id",
            "account_number",
            "posted_date",
            "amount",
            "kind",
            "reference",
        ])?;
        for f in facts() {
            for p in &f.payments {
                csv.write_record(p)?;
                out.payments += 1;
            }
        }
        csv.flush()?;
        Ok(())
    })?;
    write_atomic(&dir.join("contact_events.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["client_id", "account_number", "event_date", "kind", "detail"])?;
        for f in facts() {
            for e in &f.events {
                csv.write_record(e)?;
                out.contact_events += 1;
            }
        }
        csv.flush()?;
        Ok(())
    })?;
    out.ncoa = write_ncoa(s, dir)?;
    out.vendor_csv = write_vendor_csv(s, dir)?;
    out.vendor_xml = write_vendor_xml(s, dir)?;
    write_atomic(&dir.join("truth.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["source", "record_id", "account_number"])?;
        for (r, t) in s.records.iter().zip(&s.truth) {
            let acct = t
                .and_then(|d| s.debtors.get(d))
                .and_then(|d| d.account_numbers.first().cloned())
                .unwrap_or_default();
            csv.write_record([r.source.as_str(), r.source_record_id.as_str(), acct.as_str()])?;
        }
        csv.flush()?;
        Ok(())
    })?;
    Ok(out)
}

fn addr_cols(a: Option<&PostalAddress>) -> [String; 5] {
    match a {
        Some(a) => {
            [a.line1.clone(), a.line2.clone(), a.city.clone(), a.state.clone(), a.zip.clone()]
        }
        None => Default::default(),
    }
}

fn write_ncoa(s: &Synth, dir: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    write_atomic(&dir.join("ncoa.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([
            "record_id",
            "input_reference",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "old_address1",
            "old_address2",
            "old_city",
            "old_state",
            "old_zip",
            "return_code",
            "move_type",
            "move_effective_date",
            "new_address1",
            "new_address2",
            "new_city",
            "new_state",
            "new_zip",
        ])?;
        for r in s.records.iter().filter(|r| r.source == "ncoa") {
            let old = addr_cols(r.known_address.as_ref());
            let new = addr_cols(r.addresses.first().map(|h| &h.address));
            let mt = match r.move_type {
                Some(MoveType::Individual) => "I",
                Some(MoveType::Family) => "F",
                Some(MoveType::Business) => "B",
                None => "",
            };
            let mut row = vec![
                r.source_record_id.clone(),
                r.reference.clone().unwrap_or_default(),
                r.name.first.clone(),
                r.name.middle.clone(),
                r.name.last.clone(),
                r.name.suffix.clone(),
            ];
            row.extend(old);
            row.push(r.ncoa_return_code.clone().unwrap_or_default());
            row.push(mt.to_string());
            row.push(add_days(s.config.as_of, -45).to_string());
            row.extend(new);
            csv.write_record(&row)?;
            n += 1;
        }
        csv.flush()?;
        Ok(())
    })?;
    Ok(n)
}

fn write_vendor_csv(s: &Synth, dir: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    let seen = add_days(s.config.as_of, -400);
    let last = add_days(s.config.as_of, -3);
    write_atomic(&dir.join("vendor.csv"), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record([
            "record_id",
            "reference",
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "ssn",
            "dob",
            "address1",
            "address2",
            "city",
            "state",
            "zip",
            "addr_first_seen",
            "addr_last_seen",
            "phone",
            "phone_type",
            "phone_score",
            "email",
            "deceased_date",
            "bankruptcy_chapter",
            "bankruptcy_date",
        ])?;
        for r in s.records.iter().filter(|r| r.source == "vendor_csv") {
            // One row per reported address (the vendor CSV repeats the person per address).
            let phone = r.phones.first();
            let addrs: Vec<Option<&PostalAddress>> = if r.addresses.is_empty() {
                vec![None]
            } else {
                r.addresses.iter().map(|h| Some(&h.address)).collect()
            };
            for a in addrs {
                let mut row = vec![
                    r.source_record_id.clone(),
                    r.reference.clone().unwrap_or_default(),
                    r.name.first.clone(),
                    r.name.middle.clone(),
                    r.name.last.clone(),
                    r.name.suffix.clone(),
                    ssn_text(&r.ssn),
                    date_s(r.dob),
                ];
                row.extend(addr_cols(a));
                row.push(seen.to_string());
                row.push(last.to_string());
                row.push(phone.map(|p| p.number.clone()).unwrap_or_default());
                row.push(phone.and_then(|p| p.line_type.clone()).unwrap_or_default());
                row.push(
                    phone.and_then(|p| p.vendor_score).map(|v| v.to_string()).unwrap_or_default(),
                );
                row.extend([String::new(), String::new(), String::new(), String::new()]);
                csv.write_record(&row)?;
            }
            n += 1;
        }
        csv.flush()?;
        Ok(())
    })?;
    Ok(n)
}

fn write_vendor_xml(s: &Synth, dir: &Path) -> anyhow::Result<usize> {
    let mut n = 0;
    let seen = add_days(s.config.as_of, -400);
    let last = add_days(s.config.as_of, -3);
    write_atomic(&dir.join("vendor.xml"), |w| {
        writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(w, r#"<LocateResults vendor="SYNTHETIC DATA" generated="{}">"#, s.config.as_of)?;
        for r in s.records.iter().filter(|r| r.source == "vendor_xml") {
            write!(w, r#"  <Subject id="{}""#, xml(&r.source_record_id))?;
            if let Some(rf) = &r.reference {
                write!(w, r#" reference="{}""#, xml(rf))?;
            }
            writeln!(w, ">")?;
            writeln!(
                w,
                r#"    <Name first="{}" middle="{}" last="{}" suffix="{}"/>"#,
                xml(&r.name.first),
                xml(&r.name.middle),
                xml(&r.name.last),
                xml(&r.name.suffix)
            )?;
            match &r.ssn {
                SsnEvidence::Full(x) => writeln!(w, "    <SSN>{}</SSN>", x.expose_digits())?,
                SsnEvidence::Last4(l) => writeln!(w, "    <SSNLast4>{}</SSNLast4>", xml(l))?,
                SsnEvidence::Missing => {}
            }
            if let Some(d) = r.dob {
                writeln!(w, "    <DOB>{d}</DOB>")?;
            }
            for h in &r.addresses {
                let a = &h.address;
                writeln!(
                    w,
                    r#"    <Address firstSeen="{seen}" lastSeen="{last}"><Line1>{}</Line1><Line2>{}</Line2><City>{}</City><State>{}</State><Zip>{}</Zip></Address>"#,
                    xml(&a.line1),
                    xml(&a.line2),
                    xml(&a.city),
                    xml(&a.state),
                    xml(&a.zip)
                )?;
            }
            for p in &r.phones {
                writeln!(
                    w,
                    r#"    <Phone type="{}" score="{}" firstSeen="{seen}" lastSeen="{last}">{}</Phone>"#,
                    xml(p.line_type.as_deref().unwrap_or("")),
                    p.vendor_score.unwrap_or(0),
                    xml(&p.number)
                )?;
            }
            writeln!(w, "  </Subject>")?;
            n += 1;
        }
        writeln!(w, "</LocateResults>")?;
        Ok(())
    })?;
    Ok(n)
}

/// Reads back `truth.csv` as (source, record id, account number or empty).
pub fn read_truth(path: &Path) -> anyhow::Result<Vec<(String, String, String)>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("opening {}", path.display()))?;
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec?;
        out.push((
            rec.get(0).unwrap_or("").to_string(),
            rec.get(1).unwrap_or("").to_string(),
            rec.get(2).unwrap_or("").to_string(),
        ));
    }
    Ok(out)
}

/// The record ids of a source in the in-memory data (for tests).
pub fn record_ids<'a>(
    records: &'a [LocateRecord],
    source: &'a str,
) -> impl Iterator<Item = &'a str> {
    records.iter().filter(move |r| r.source == source).map(|r| r.source_record_id.as_str())
}
