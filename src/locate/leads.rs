//! Leads: scored matches become candidate addresses, phones and e-mails (`leads`), deceased
//! and bankruptcy hits (`flag_hits`), and — above the auto-accept threshold — current contact
//! data. Also the review queue's decisions (accept, reject, confirm, dismiss) and the per-run
//! `leads.csv` / `leads.json`.
//!
//! Rules kept here: nothing is overwritten (a new current address turns the old one into
//! `previous`; every change is a `consumer_events` / `account_events` row with its cause);
//! a lead is unique per consumer, kind, value and source, so re-running the same locate
//! creates nothing twice; family and business moves never go past review; lead files never
//! contain an SSN (last four only) or a date of birth. Every decision is audited.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;

use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::Value;

use crate::error::ConfigError;
use crate::exit::{ExitStatus, StatusError};
use crate::locate::mapping::normalize_address;
use crate::locate::matcher::{Decision, LinkResult};
use crate::locate::ncoa;
use crate::locate::record::{Debtor, LocateRecord, MoveType, PostalAddress};
use crate::store::events::{self, Change};
use crate::store::{Db, now_rfc3339};

/// Lead and flag counters of one source in one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeadStats {
    /// Source records matched (at review or accept) to at least one debtor.
    pub matched_records: u64,
    /// New leads by kind (`address`, `phone`, `email`).
    pub new_leads: BTreeMap<String, u64>,
    /// Leads found again (already stored by an earlier run).
    pub existing_leads: u64,
    /// Values the consumer already has as current contact data (no lead made).
    pub already_current: u64,
    /// Addresses the consumer had before (`previous`) that the source saw no later than the
    /// current one (no lead made: a source's list of past addresses is not a move back).
    pub already_previous: u64,
    /// New leads applied automatically (at or above the auto-accept threshold).
    pub auto_accepted: u64,
    /// New leads waiting for review.
    pub pending: u64,
    /// New deceased hits.
    pub deceased_hits: u64,
    /// New bankruptcy hits.
    pub bankruptcy_hits: u64,
    /// Addresses marked bad because a change of address left no forwarding address.
    pub addresses_marked_bad: u64,
}

/// State shared by the sources of one run.
#[derive(Debug, Default)]
pub struct RunState {
    /// Leads found by this run (new or existing), for the lead files.
    pub lead_ids: BTreeSet<i64>,
    /// Consumers that already received an automatic address in this run.
    pub moved: HashSet<i64>,
}

/// The decision after the source's own rules: family and business moves go to review at most.
pub fn capped(decision: Decision, record: &LocateRecord) -> Decision {
    match (decision, record.move_type) {
        (Decision::Accept, Some(MoveType::Family | MoveType::Business)) => Decision::Review,
        (d, _) => d,
    }
}

/// Where a value came from, for `source_ref` and event causes.
fn origin(record: &LocateRecord) -> String {
    format!("{}/{}", record.source, record.source_record_id)
}

/// Stores the leads and flags of one source's linkage, on `tx` (the caller's transaction:
/// the locate stage stores every source's matches in one, so that a run stopped half-way
/// leaves nothing and a re-run gives what an uninterrupted run gives).
pub fn store_matches(
    tx: &Connection,
    run_id: i64,
    as_of: Date,
    debtors: &[Debtor],
    records: &[LocateRecord],
    link: &LinkResult,
    state: &mut RunState,
) -> anyhow::Result<LeadStats> {
    let mut stats = LeadStats::default();
    let mut matched = BTreeSet::new();
    // (consumer, lead id, score, last seen) of new address leads eligible for auto-accept.
    let mut movers: Vec<(i64, i64, f64, Option<Date>)> = Vec::new();
    for pair in &link.pairs {
        let (Some(d), Some(r)) = (debtors.get(pair.debtor), records.get(pair.record)) else {
            continue;
        };
        let decision = capped(pair.decision, r);
        if decision == Decision::Reject {
            continue;
        }
        let Some(&account_id) = d.account_ids.first() else { continue };
        matched.insert(pair.record);
        let explanation = serde_json::json!({
            "decision": decision,
            "match": pair.explanation,
            "hit": {
                "reference": r.reference,
                "move_type": r.move_type,
                "return_code": r.ncoa_return_code,
                "move_effective": r.move_effective.map(|x| x.to_string()),
            },
        });
        let base = NewLead {
            account_id,
            consumer_id: d.consumer_id,
            source: &r.source,
            source_record_id: &r.source_record_id,
            score: pair.weight,
            probability: pair.probability,
            run_id,
        };
        // A change of address without a forwarding address: the old address is bad.
        if decision == Decision::Accept
            && r.ncoa_return_code.as_deref().and_then(ncoa::classify)
                == Some(ncoa::Action::OldAddressBad)
            && let Some(old) = &r.known_address
        {
            let cause = format!("ncoa:{}", origin(r));
            stats.addresses_marked_bad += mark_address_bad(tx, d.consumer_id, old, run_id, &cause)?;
        }
        // What the consumer's history says of each address the source gives, and when the
        // source last saw the one that is current for us (if it gives it).
        let mut given = Vec::with_capacity(r.addresses.len());
        let mut current_seen: Option<Option<Date>> = None;
        for a in &r.addresses {
            let addr = normalize_address(&a.address);
            let value = serde_json::to_string(&addr)?;
            let known = contact_status(tx, d.consumer_id, Kind::Address, &value)?;
            if known.as_deref() == Some("current") {
                current_seen = Some(current_seen.flatten().max(a.last_seen));
            }
            given.push((a, value, known));
        }
        for (a, value, known) in given {
            if let Some(id) = base.existing(tx, Kind::Address, &value)? {
                state.lead_ids.insert(id);
                stats.existing_leads += 1;
                continue;
            }
            match known.as_deref() {
                Some("current") => {
                    stats.already_current += 1;
                    continue;
                }
                Some("previous") if !moved_back(tx, d.consumer_id, a.last_seen, current_seen)? => {
                    // A past address the source lists with the others: nothing new.
                    stats.already_previous += 1;
                    continue;
                }
                _ => {}
            }
            let mut expl = explanation.clone();
            expl["hit"]["known_status"] = serde_json::json!(known);
            let (id, new) =
                base.insert(tx, Kind::Address, &value, a.first_seen, a.last_seen, &expl)?;
            state.lead_ids.insert(id);
            if !new {
                stats.existing_leads += 1;
                continue;
            }
            *stats.new_leads.entry("address".into()).or_default() += 1;
            // A bad address, or a previous one the consumer may have moved back to, waits
            // for a reviewer whatever the score.
            if decision == Decision::Accept && known.is_none_or(|k| k != "bad" && k != "previous") {
                movers.push((d.consumer_id, id, pair.weight, a.last_seen));
            } else {
                stats.pending += 1;
            }
        }
        // Phones and e-mails: a lead each, auto-accepted when the match is.
        let others = r
            .phones
            .iter()
            .map(|p| {
                let hit = serde_json::json!({
                    "line_type": p.line_type, "vendor_score": p.vendor_score,
                });
                (Kind::Phone, p.number.as_str(), p.first_seen, p.last_seen, hit)
            })
            .chain(r.emails.iter().map(|e| (Kind::Email, e.as_str(), None, None, Value::Null)));
        for (kind, value, first_seen, last_seen, hit) in others {
            if let Some(id) = base.existing(tx, kind, value)? {
                state.lead_ids.insert(id);
                stats.existing_leads += 1;
                continue;
            }
            let known = contact_status(tx, d.consumer_id, kind, value)?;
            if known.as_deref() == Some("current") {
                stats.already_current += 1;
                continue;
            }
            let mut expl = explanation.clone();
            if let Value::Object(extra) = hit {
                for (k, v) in extra {
                    expl["hit"][k] = v;
                }
            }
            expl["hit"]["known_status"] = serde_json::json!(known);
            let (id, new) = base.insert(tx, kind, value, first_seen, last_seen, &expl)?;
            state.lead_ids.insert(id);
            if !new {
                stats.existing_leads += 1;
                continue;
            }
            *stats.new_leads.entry(kind.as_str().into()).or_default() += 1;
            // A bad or previous number or e-mail waits for a reviewer whatever the score.
            if decision == Decision::Accept && known.is_none_or(|k| k != "bad" && k != "previous") {
                apply_lead(tx, id, as_of, Some(run_id), "auto_accepted", "skiptrace")?;
                stats.auto_accepted += 1;
            } else {
                stats.pending += 1;
            }
        }
        let flags = [
            r.deceased.as_ref().map(|dec| {
                let detail = serde_json::json!({
                    "date": dec.date.map(|x| x.to_string()), "decision": decision,
                });
                ("deceased", detail)
            }),
            r.bankruptcy.as_ref().map(|b| {
                let detail = serde_json::json!({
                    "chapter": b.chapter, "filed": b.filed.map(|x| x.to_string()),
                    "status": b.status, "decision": decision,
                });
                ("bankruptcy", detail)
            }),
        ];
        for (kind, detail) in flags.into_iter().flatten() {
            if let Some(id) = base.insert_flag(tx, kind, &detail)? {
                if kind == "deceased" {
                    stats.deceased_hits += 1;
                } else {
                    stats.bankruptcy_hits += 1;
                }
                if decision == Decision::Accept {
                    let values = flag_values(kind, &detail, as_of, origin(r));
                    let cause = format!("flag_hit:{id}");
                    set_consumer_fields(tx, d.consumer_id, &values, Some(run_id), &cause)?;
                }
            }
        }
    }
    // One automatic new address per consumer and run: the best score, then the most recently
    // seen; the others wait for review.
    movers.sort_by(|a, b| {
        a.0.cmp(&b.0).then(b.2.total_cmp(&a.2)).then(b.3.cmp(&a.3)).then(a.1.cmp(&b.1))
    });
    for (consumer, id, _, _) in movers {
        if state.moved.insert(consumer) {
            apply_lead(tx, id, as_of, Some(run_id), "auto_accepted", "skiptrace")?;
            stats.auto_accepted += 1;
        } else {
            stats.pending += 1;
        }
    }
    stats.matched_records = matched.len() as u64;
    Ok(stats)
}

/// Kinds of contact lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Address,
    Phone,
    Email,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Address => "address",
            Kind::Phone => "phone",
            Kind::Email => "email",
        }
    }
}

struct NewLead<'a> {
    account_id: i64,
    consumer_id: i64,
    source: &'a str,
    source_record_id: &'a str,
    score: f64,
    probability: f64,
    run_id: i64,
}

impl NewLead<'_> {
    /// The id of the lead this source already gave for this value.
    fn existing(&self, conn: &Connection, kind: Kind, value: &str) -> anyhow::Result<Option<i64>> {
        Ok(conn
            .query_row(
                "SELECT id FROM leads
                 WHERE consumer_id = ?1 AND kind = ?2 AND value = ?3 AND source = ?4",
                params![self.consumer_id, kind.as_str(), value, self.source],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Inserts a pending lead unless it exists; returns (id, newly inserted).
    fn insert(
        &self,
        conn: &Connection,
        kind: Kind,
        value: &str,
        first_seen: Option<Date>,
        last_seen: Option<Date>,
        explanation: &serde_json::Value,
    ) -> anyhow::Result<(i64, bool)> {
        let n = conn.execute(
            "INSERT INTO leads (account_id, consumer_id, kind, value, source, source_record_id,
                 first_seen, last_seen, score, probability, explanation, status, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'pending', ?12)
             ON CONFLICT (consumer_id, kind, value, source) DO NOTHING",
            params![
                self.account_id,
                self.consumer_id,
                kind.as_str(),
                value,
                self.source,
                self.source_record_id,
                first_seen,
                last_seen,
                self.score,
                self.probability,
                explanation.to_string(),
                self.run_id
            ],
        )?;
        if n == 1 {
            return Ok((conn.last_insert_rowid(), true));
        }
        let id = conn.query_row(
            "SELECT id FROM leads WHERE consumer_id = ?1 AND kind = ?2 AND value = ?3 AND source = ?4",
            params![self.consumer_id, kind.as_str(), value, self.source],
            |r| r.get(0),
        )?;
        Ok((id, false))
    }

    /// Inserts a pending flag hit unless it exists; returns the new id.
    fn insert_flag(
        &self,
        conn: &Connection,
        kind: &str,
        detail: &serde_json::Value,
    ) -> anyhow::Result<Option<i64>> {
        let n = conn.execute(
            "INSERT INTO flag_hits (account_id, consumer_id, kind, detail, source,
                 source_record_id, score, status, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)
             ON CONFLICT (consumer_id, kind, source, source_record_id) DO NOTHING",
            params![
                self.account_id,
                self.consumer_id,
                kind,
                detail.to_string(),
                self.source,
                self.source_record_id,
                self.score,
                self.run_id
            ],
        )?;
        Ok((n == 1).then(|| conn.last_insert_rowid()))
    }
}

/// Whether a source's sighting of a previous address (last seen `last_seen`) may mean the
/// consumer moved back: the source saw it after it last saw the current address
/// (`current_seen`, when the same record gives the current address with a date), or else
/// after the current address was first seen by us. Unknown dates, or no current address, say
/// "maybe".
fn moved_back(
    conn: &Connection,
    consumer_id: i64,
    last_seen: Option<Date>,
    current_seen: Option<Option<Date>>,
) -> anyhow::Result<bool> {
    let Some(seen) = last_seen else { return Ok(true) };
    let since = match current_seen.flatten() {
        Some(in_record) => Some(in_record),
        None => conn
            .prepare_cached(
                "SELECT max(first_seen) FROM addresses WHERE consumer_id = ?1 AND status = 'current'",
            )?
            .query_row(params![consumer_id], |r| r.get::<_, Option<Date>>(0))?,
    };
    Ok(since.is_none_or(|since| seen > since))
}

/// The status of a value among the consumer's contact data, if present.
fn contact_status(
    conn: &Connection,
    consumer_id: i64,
    kind: Kind,
    value: &str,
) -> anyhow::Result<Option<String>> {
    Ok(find_contact(conn, consumer_id, kind, value)?.map(|(_, status)| status))
}

/// The consumer's stored row (id, status) for a lead value: addresses compared ignoring case,
/// spacing and ZIP+4, phones by number, e-mails ignoring case.
fn find_contact(
    conn: &Connection,
    consumer_id: i64,
    kind: Kind,
    value: &str,
) -> anyhow::Result<Option<(i64, String)>> {
    let sql = match kind {
        Kind::Address => {
            let a: PostalAddress = serde_json::from_str(value)?;
            return find_address(conn, consumer_id, &a);
        }
        Kind::Phone => "SELECT id, status FROM phones WHERE consumer_id = ?1 AND number = ?2",
        Kind::Email => {
            "SELECT id, status FROM emails WHERE consumer_id = ?1 AND lower(address) = lower(?2)"
        }
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row(params![consumer_id, value], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The consumer's stored address equal to `a` (case, spacing and ZIP+4 ignored).
fn find_address(
    conn: &Connection,
    consumer_id: i64,
    a: &PostalAddress,
) -> anyhow::Result<Option<(i64, String)>> {
    let want = address_key(a);
    let mut stmt = conn.prepare_cached(
        "SELECT id, line1, line2, city, state, zip, status FROM addresses
         WHERE consumer_id = ?1 ORDER BY id",
    )?;
    let mut rows = stmt.query(params![consumer_id])?;
    while let Some(r) = rows.next()? {
        let stored = PostalAddress {
            line1: r.get(1)?,
            line2: r.get(2)?,
            city: r.get(3)?,
            state: r.get(4)?,
            zip: r.get(5)?,
        };
        if address_key(&stored) == want {
            return Ok(Some((r.get(0)?, r.get(6)?)));
        }
    }
    Ok(None)
}

fn address_key(a: &PostalAddress) -> (String, String, String, String, String) {
    let n = normalize_address(a);
    let zip5: String = n.zip.chars().filter(char::is_ascii_digit).take(5).collect();
    (n.line1, n.line2, n.city, n.state, zip5)
}

/// One-line form of an address for files and events.
pub fn format_address(a: &PostalAddress) -> String {
    let mut s = a.line1.clone();
    if !a.line2.is_empty() {
        s.push_str(", ");
        s.push_str(&a.line2);
    }
    format!("{s}, {}, {} {}", a.city, a.state, a.zip)
}

fn mark_address_bad(
    conn: &Connection,
    consumer_id: i64,
    old: &PostalAddress,
    run_id: i64,
    cause: &str,
) -> anyhow::Result<u64> {
    let Some((id, status)) = find_address(conn, consumer_id, old)? else { return Ok(0) };
    if status == "bad" {
        return Ok(0);
    }
    let change = ContactChange { conn, consumer_id, run_id: Some(run_id), cause };
    change.set_status(Kind::Address, id, &status, "bad", None)?;
    Ok(1)
}

/// A change to a consumer's contact data made by this stage: the status moves of existing
/// rows and the insertion of new ones, each written to `consumer_events` with its cause.
/// The contact-history rules themselves (nothing overwritten, `current` → `previous`) are
/// those of [`crate::ingest::contacts`]; this is their form for locate results, which carry
/// the source's own first/last-seen dates and never touch values the client gave as bad.
struct ContactChange<'a> {
    conn: &'a Connection,
    consumer_id: i64,
    run_id: Option<i64>,
    cause: &'a str,
}

impl ContactChange<'_> {
    fn table(kind: Kind) -> &'static str {
        match kind {
            Kind::Address => "addresses",
            Kind::Phone => "phones",
            Kind::Email => "emails",
        }
    }

    fn event(&self, field: &str, old: Option<&str>, new: Option<&str>) -> anyhow::Result<()> {
        consumer_event(self.conn, self.consumer_id, self.run_id, field, old, new, self.cause)
    }

    /// Moves row `id` from `old` to `new` status (and its last-seen date forward to `seen`).
    fn set_status(
        &self,
        kind: Kind,
        id: i64,
        old: &str,
        new: &str,
        seen: Option<Date>,
    ) -> anyhow::Result<()> {
        let table = Self::table(kind);
        self.conn
            .prepare_cached(&format!(
                "UPDATE {table} SET status = ?2, last_seen = max(last_seen, coalesce(?3, last_seen))
                 WHERE id = ?1"
            ))?
            .execute(params![id, new, seen])?;
        self.event(&format!("{}:{id}.status", kind.as_str()), Some(old), Some(new))
    }

    /// Every `current` row of the kind except `keep` becomes `previous`.
    fn demote_current(&self, kind: Kind, keep: Option<i64>) -> anyhow::Result<()> {
        let table = Self::table(kind);
        let currents: Vec<i64> = self
            .conn
            .prepare_cached(&format!(
                "SELECT id FROM {table} WHERE consumer_id = ?1 AND status = 'current' ORDER BY id"
            ))?
            .query_map(params![self.consumer_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in currents.into_iter().filter(|id| Some(*id) != keep) {
            self.set_status(kind, id, "current", "previous", None)?;
        }
        Ok(())
    }

    /// Makes the value current: the `existing` row changes status, or `insert` adds it (as
    /// `current`) and the new row is recorded with its `display` form.
    fn make_current(
        &self,
        kind: Kind,
        existing: Option<(i64, String)>,
        last_seen: Date,
        display: &str,
        insert: impl FnOnce(&Connection) -> rusqlite::Result<usize>,
    ) -> anyhow::Result<()> {
        match existing {
            Some((id, old)) => self.set_status(kind, id, &old, "current", Some(last_seen)),
            None => {
                insert(self.conn)?;
                let id = self.conn.last_insert_rowid();
                self.event(&format!("{}:{id}", kind.as_str()), None, Some(display))
            }
        }
    }
}

fn consumer_event(
    conn: &Connection,
    consumer_id: i64,
    run_id: Option<i64>,
    field: &str,
    old: Option<&str>,
    new: Option<&str>,
    cause: &str,
) -> anyhow::Result<()> {
    let at = now_rfc3339();
    let change = Change { field, old, new, cause, run_id, at: &at };
    events::consumer_event(conn, consumer_id, &change)?;
    Ok(())
}

/// The consumer columns a confirmed deceased or bankruptcy hit sets.
const FLAG_COLUMNS: &[&str] = &[
    "deceased_date",
    "deceased_source",
    "bankruptcy_chapter",
    "bankruptcy_status",
    "bankruptcy_date",
];

/// The values a confirmed hit of `kind` sets, from its stored detail: a deceased hit its date
/// (the business date when the source gave none) and its source record; a bankruptcy hit its
/// chapter, status (a petition unless the source said otherwise) and filing date.
fn flag_values(
    kind: &str,
    detail: &Value,
    as_of: Date,
    origin: String,
) -> Vec<(&'static str, Option<String>)> {
    let text = |k: &str| detail[k].as_str().map(str::to_string);
    if kind == "deceased" {
        vec![
            ("deceased_date", Some(text("date").unwrap_or_else(|| as_of.to_string()))),
            ("deceased_source", Some(origin)),
        ]
    } else {
        vec![
            ("bankruptcy_chapter", text("chapter")),
            ("bankruptcy_status", Some(text("status").unwrap_or_else(|| "petition".into()))),
            ("bankruptcy_date", text("filed")),
        ]
    }
}

/// Sets consumer columns from a confirmed hit, each with an event; values already on file are
/// kept (a hit never overwrites what the client or an earlier hit gave).
fn set_consumer_fields(
    conn: &Connection,
    consumer_id: i64,
    values: &[(&str, Option<String>)],
    run_id: Option<i64>,
    cause: &str,
) -> anyhow::Result<()> {
    for (column, value) in values {
        set_consumer_field(conn, consumer_id, column, value.as_deref(), run_id, cause, true)?;
    }
    Ok(())
}

/// Sets a consumer column with an event; with `only_if_empty`, an existing value is kept.
fn set_consumer_field(
    conn: &Connection,
    consumer_id: i64,
    column: &str,
    value: Option<&str>,
    run_id: Option<i64>,
    cause: &str,
    only_if_empty: bool,
) -> anyhow::Result<()> {
    let Some(column) = FLAG_COLUMNS.iter().find(|c| **c == column) else {
        anyhow::bail!("unknown consumer column {column}");
    };
    let old: Option<String> = conn.query_row(
        &format!("SELECT {column} FROM consumers WHERE id = ?1"),
        params![consumer_id],
        |r| r.get(0),
    )?;
    if value.is_none() || old.as_deref() == value || (only_if_empty && old.is_some()) {
        return Ok(());
    }
    conn.execute(
        &format!("UPDATE consumers SET {column} = ?1, updated_run = coalesce(?2, updated_run) WHERE id = ?3"),
        params![value, run_id, consumer_id],
    )?;
    consumer_event(conn, consumer_id, run_id, column, old.as_deref(), value, cause)
}

/// Makes a lead current contact data and sets its status (`accepted` or `auto_accepted`).
/// A new current address turns the previous current address into `previous` and clears the
/// account's undeliverable date; nothing is deleted; every change is an event.
fn apply_lead(
    conn: &Connection,
    lead_id: i64,
    as_of: Date,
    run_id: Option<i64>,
    status: &str,
    by: &str,
) -> anyhow::Result<()> {
    let (consumer_id, kind, value, source, srid, first_seen, last_seen): (
        i64,
        String,
        String,
        String,
        String,
        Option<Date>,
        Option<Date>,
    ) = conn.query_row(
        "SELECT consumer_id, kind, value, source, source_record_id, first_seen, last_seen
         FROM leads WHERE id = ?1",
        params![lead_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?)),
    )?;
    let cause = format!("lead:{lead_id}");
    let src = format!("lead:{lead_id}");
    let src_ref = format!("{source}/{srid}");
    let first = first_seen.unwrap_or(as_of).min(as_of);
    let last = last_seen.unwrap_or(as_of).max(as_of);
    let change = ContactChange { conn, consumer_id, run_id, cause: &cause };
    match kind.as_str() {
        "address" => {
            let a: PostalAddress = serde_json::from_str(&value)?;
            let existing = find_address(conn, consumer_id, &a)?;
            // The current address (if another) becomes previous.
            change.demote_current(Kind::Address, existing.as_ref().map(|e| e.0))?;
            change.make_current(Kind::Address, existing, last, &format_address(&a), |c| {
                c.execute(
                    "INSERT INTO addresses (consumer_id, line1, line2, city, state, zip, source,
                         source_ref, first_seen, last_seen, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'current')",
                    params![
                        consumer_id,
                        a.line1,
                        a.line2,
                        a.city,
                        a.state,
                        a.zip,
                        src,
                        src_ref,
                        first,
                        last
                    ],
                )
            })?;
            // The returned-mail condition is resolved by the new address.
            let mut stmt = conn.prepare_cached(
                "SELECT a.id, a.undeliverable_date FROM accounts a
                 WHERE a.consumer_id = ?1 AND a.undeliverable_date IS NOT NULL ORDER BY a.id",
            )?;
            let undeliverable: Vec<(i64, String)> = stmt
                .query_map(params![consumer_id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            for (acc, old) in undeliverable {
                conn.execute(
                    "UPDATE accounts SET undeliverable_date = NULL WHERE id = ?1",
                    params![acc],
                )?;
                let at = now_rfc3339();
                let change = Change {
                    field: "undeliverable_date",
                    old: Some(&old),
                    new: None,
                    cause: &cause,
                    run_id,
                    at: &at,
                };
                events::account_event(conn, acc, &change)?;
            }
        }
        "phone" => {
            let line_type: Option<String> = conn
                .query_row(
                    "SELECT json_extract(explanation, '$.hit.line_type') FROM leads WHERE id = ?1",
                    params![lead_id],
                    |r| r.get(0),
                )
                .optional()?
                .flatten();
            let existing = find_contact(conn, consumer_id, Kind::Phone, &value)?;
            // Skip-traced numbers carry no consent to autodialled calls (TCPA).
            change.make_current(Kind::Phone, existing, last, &value, |c| {
                c.execute(
                    "INSERT INTO phones (consumer_id, number, line_type, consent, source, source_ref,
                         first_seen, last_seen, status)
                     VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, 'current')",
                    params![consumer_id, value, line_type, src, src_ref, first, last],
                )
            })?;
        }
        _ => {
            let existing = find_contact(conn, consumer_id, Kind::Email, &value)?;
            change.make_current(Kind::Email, existing, last, &value, |c| {
                c.execute(
                    "INSERT INTO emails (consumer_id, address, source, source_ref, first_seen, last_seen, status)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'current')",
                    params![consumer_id, value, src, src_ref, first, last],
                )
            })?;
        }
    }
    conn.execute(
        "UPDATE leads SET status = ?2, decided_by = ?3, decided_at = ?4 WHERE id = ?1",
        params![lead_id, status, by, now_rfc3339()],
    )?;
    Ok(())
}

/// One lead as collectors see it (files and `leads list`). No SSN (last four only), no DOB.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LeadView {
    /// Lead id.
    pub id: i64,
    /// `pending`, `accepted`, `rejected`, `auto_accepted`.
    pub status: String,
    /// `address`, `phone`, `email`.
    pub kind: String,
    /// The value: one-line address, 10-digit phone or e-mail.
    pub value: String,
    /// Client.
    pub client_id: String,
    /// Account number.
    pub account_number: String,
    /// Consumer id.
    pub consumer_id: i64,
    /// Consumer's name on file.
    pub name: String,
    /// SSN masked to the last four (`***-**-6789`), empty when unknown.
    pub ssn_masked: String,
    /// Source name.
    pub source: String,
    /// Source record id.
    pub source_record_id: String,
    /// First seen by the source.
    pub first_seen: Option<String>,
    /// Last seen by the source.
    pub last_seen: Option<String>,
    /// Match weight (log2 odds).
    pub score: f64,
    /// Match probability.
    pub probability: f64,
    /// Decision of the match (`accept`, `review`).
    pub decision: String,
    /// Phone line type, when the source gave one.
    pub line_type: Option<String>,
    /// The source's own phone score.
    pub vendor_score: Option<i64>,
    /// Per-field explanation `field=level(weight)`, `;`-separated.
    pub explanation: String,
    /// Who decided (review decisions).
    pub decided_by: Option<String>,
}

/// One flag hit as the queue shows it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct FlagView {
    /// Flag hit id.
    pub id: i64,
    /// `pending`, `confirmed`, `dismissed`.
    pub status: String,
    /// `deceased` or `bankruptcy`.
    pub kind: String,
    /// Details (date, chapter, status) as JSON text.
    pub detail: String,
    /// Client.
    pub client_id: String,
    /// Account number.
    pub account_number: String,
    /// Consumer id.
    pub consumer_id: i64,
    /// Consumer's name on file.
    pub name: String,
    /// Source name.
    pub source: String,
    /// Source record id.
    pub source_record_id: String,
    /// Match weight.
    pub score: f64,
    /// Who decided.
    pub decided_by: Option<String>,
}

fn explanation_text(json: &serde_json::Value) -> String {
    let mut parts = Vec::new();
    if let Some(fields) = json["match"]["fields"].as_array() {
        for f in fields {
            parts.push(format!(
                "{}={}({:+.2})",
                f["field"].as_str().unwrap_or_default(),
                f["level"].as_str().unwrap_or_default(),
                f["weight"].as_f64().unwrap_or_default()
            ));
        }
    }
    parts.join(";")
}

/// Lead filter for [`list_leads`].
#[derive(Clone, Debug, Default)]
pub struct LeadFilter {
    /// Only these statuses (empty: all).
    pub statuses: Vec<String>,
    /// Only these ids (empty: all).
    pub ids: Vec<i64>,
    /// Only this source.
    pub source: Option<String>,
}

/// Leads by id.
pub fn list_leads(conn: &Connection, filter: &LeadFilter) -> anyhow::Result<Vec<LeadView>> {
    let mut stmt = conn.prepare(
        "SELECT l.id, l.status, l.kind, l.value, a.client_id, a.account_number, l.consumer_id,
                c.first_name, c.middle_name, c.surname, c.ssn, l.source, l.source_record_id,
                l.first_seen, l.last_seen, l.score, l.probability, l.explanation, l.decided_by
         FROM leads l JOIN accounts a ON a.id = l.account_id JOIN consumers c ON c.id = l.consumer_id
         ORDER BY l.id",
    )?;
    let ids: HashSet<i64> = filter.ids.iter().copied().collect();
    let mut out = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let status: String = r.get(1)?;
        let source: String = r.get(11)?;
        if (!ids.is_empty() && !ids.contains(&id))
            || (!filter.statuses.is_empty() && !filter.statuses.contains(&status))
            || filter.source.as_ref().is_some_and(|s| *s != source)
        {
            continue;
        }
        let kind: String = r.get(2)?;
        let raw: String = r.get(3)?;
        let value = if kind == "address" {
            serde_json::from_str::<PostalAddress>(&raw).map(|a| format_address(&a)).unwrap_or(raw)
        } else {
            raw
        };
        let middle: Option<String> = r.get(8)?;
        let name = [r.get::<_, String>(7)?, middle.unwrap_or_default(), r.get::<_, String>(9)?]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let ssn: Option<String> = r.get(10)?;
        let expl: serde_json::Value =
            serde_json::from_str(&r.get::<_, String>(17)?).unwrap_or_default();
        out.push(LeadView {
            id,
            status,
            kind,
            value,
            client_id: r.get(4)?,
            account_number: r.get(5)?,
            consumer_id: r.get(6)?,
            name,
            ssn_masked: ssn.map(|s| crate::pii::mask_ssn(&s)).unwrap_or_default(),
            source,
            source_record_id: r.get(12)?,
            first_seen: r.get(13)?,
            last_seen: r.get(14)?,
            score: round3(r.get(15)?),
            probability: round6(r.get(16)?),
            decision: expl["decision"].as_str().unwrap_or_default().to_string(),
            line_type: expl["hit"]["line_type"].as_str().map(str::to_string),
            vendor_score: expl["hit"]["vendor_score"].as_i64(),
            explanation: explanation_text(&expl),
            decided_by: r.get(18)?,
        });
    }
    Ok(out)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
fn round6(x: f64) -> f64 {
    (x * 1_000_000.0).round() / 1_000_000.0
}

/// Flag hits, optionally only some statuses.
pub fn list_flags(conn: &Connection, statuses: &[String]) -> anyhow::Result<Vec<FlagView>> {
    let mut stmt = conn.prepare(
        "SELECT f.id, f.status, f.kind, f.detail, a.client_id, a.account_number, f.consumer_id,
                c.first_name, c.surname, f.source, f.source_record_id, f.score, f.decided_by
         FROM flag_hits f JOIN accounts a ON a.id = f.account_id JOIN consumers c ON c.id = f.consumer_id
         ORDER BY f.id",
    )?;
    let mut out = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let status: String = r.get(1)?;
        if !statuses.is_empty() && !statuses.contains(&status) {
            continue;
        }
        out.push(FlagView {
            id: r.get(0)?,
            status,
            kind: r.get(2)?,
            detail: r.get(3)?,
            client_id: r.get(4)?,
            account_number: r.get(5)?,
            consumer_id: r.get(6)?,
            name: format!("{} {}", r.get::<_, String>(7)?, r.get::<_, String>(8)?),
            source: r.get(9)?,
            source_record_id: r.get(10)?,
            score: round3(r.get(11)?),
            decided_by: r.get(12)?,
        });
    }
    Ok(out)
}

/// The columns of `leads.csv`, in order.
pub const LEADS_CSV_COLUMNS: &[&str] = &[
    "lead_id",
    "status",
    "kind",
    "value",
    "client_id",
    "account_number",
    "consumer_id",
    "name",
    "ssn_masked",
    "source",
    "source_record_id",
    "first_seen",
    "last_seen",
    "score",
    "probability",
    "decision",
    "line_type",
    "vendor_score",
    "explanation",
];

/// Writes `leads.csv` and `leads.json` (atomically, 0600).
pub fn write_lead_files(dir: &Path, leads: &[LeadView]) -> anyhow::Result<()> {
    crate::fsutil::write_atomic(&dir.join("leads.csv"), |w| {
        let mut out = ::csv::Writer::from_writer(w);
        out.write_record(LEADS_CSV_COLUMNS)?;
        for l in leads {
            out.write_record([
                l.id.to_string(),
                l.status.clone(),
                l.kind.clone(),
                l.value.clone(),
                l.client_id.clone(),
                l.account_number.clone(),
                l.consumer_id.to_string(),
                l.name.clone(),
                l.ssn_masked.clone(),
                l.source.clone(),
                l.source_record_id.clone(),
                l.first_seen.clone().unwrap_or_default(),
                l.last_seen.clone().unwrap_or_default(),
                format!("{:.3}", l.score),
                format!("{:.6}", l.probability),
                l.decision.clone(),
                l.line_type.clone().unwrap_or_default(),
                l.vendor_score.map(|s| s.to_string()).unwrap_or_default(),
                l.explanation.clone(),
            ])?;
        }
        out.flush()?;
        Ok(())
    })?;
    crate::fsutil::write_atomic(&dir.join("leads.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, leads)?;
        std::io::Write::write_all(w, b"\n")?;
        Ok(())
    })
}

fn usage(message: String) -> anyhow::Error {
    StatusError { status: ExitStatus::Usage, message }.into()
}

/// A reviewer accepts a pending lead: it becomes current contact data. Audited.
pub fn accept(db: &Db, id: i64, by: &str, as_of: Date) -> anyhow::Result<()> {
    let tx = db.conn().unchecked_transaction()?;
    let status = lead_status(&tx, id)?;
    if status != "pending" {
        return Err(usage(format!("lead {id} is {status}, not pending")));
    }
    apply_lead(&tx, id, as_of, None, "accepted", by)?;
    audit_decision(&tx, by, "lead.accept", &format!("lead:{id}"), id, None)?;
    tx.commit()?;
    Ok(())
}

/// A reviewer rejects a pending lead. Audited with the reason.
pub fn reject(db: &Db, id: i64, by: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let tx = db.conn().unchecked_transaction()?;
    let status = lead_status(&tx, id)?;
    if status != "pending" {
        return Err(usage(format!("lead {id} is {status}, not pending")));
    }
    tx.execute(
        "UPDATE leads SET status = 'rejected', decided_by = ?2, decided_at = ?3 WHERE id = ?1",
        params![id, by, now_rfc3339()],
    )?;
    audit_decision(&tx, by, "lead.reject", &format!("lead:{id}"), id, reason)?;
    tx.commit()?;
    Ok(())
}

fn lead_status(conn: &Connection, id: i64) -> anyhow::Result<String> {
    conn.query_row("SELECT status FROM leads WHERE id = ?1", params![id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| usage(format!("no lead with id {id}")))
}

fn audit_decision(
    conn: &Connection,
    by: &str,
    action: &str,
    subject: &str,
    id: i64,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let table = if subject.starts_with("flag") { "flag_hits" } else { "leads" };
    let (account_id, source, srid): (i64, String, String) = conn.query_row(
        &format!("SELECT account_id, source, source_record_id FROM {table} WHERE id = ?1"),
        params![id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    conn.execute(
        "INSERT INTO audit_log (at, run_id, actor, action, subject, detail) VALUES (?1, NULL, ?2, ?3, ?4, ?5)",
        params![
            now_rfc3339(),
            by,
            action,
            subject,
            serde_json::json!({
                "account_id": account_id, "source": source, "source_record_id": srid,
                "reason": reason,
            })
            .to_string()
        ],
    )?;
    Ok(())
}

/// A reviewer confirms a flag hit: the consumer is flagged (when not already). Audited.
pub fn confirm_flag(db: &Db, id: i64, by: &str, as_of: Date) -> anyhow::Result<()> {
    let tx = db.conn().unchecked_transaction()?;
    let (status, kind, detail, consumer_id, source, srid): (String, String, String, i64, String, String) = tx
        .query_row(
            "SELECT status, kind, detail, consumer_id, source, source_record_id FROM flag_hits WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?
        .ok_or_else(|| usage(format!("no flag hit with id {id}")))?;
    if status != "pending" {
        return Err(usage(format!("flag hit {id} is {status}, not pending")));
    }
    let d: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
    let values = flag_values(&kind, &d, as_of, format!("{source}/{srid}"));
    set_consumer_fields(&tx, consumer_id, &values, None, &format!("flag_hit:{id}"))?;
    tx.execute(
        "UPDATE flag_hits SET status = 'confirmed', decided_by = ?2, decided_at = ?3 WHERE id = ?1",
        params![id, by, now_rfc3339()],
    )?;
    audit_decision(&tx, by, "flag.confirm", &format!("flag_hit:{id}"), id, None)?;
    tx.commit()?;
    Ok(())
}

/// A reviewer dismisses a flag hit: flags this hit set automatically are taken back (with
/// events), unless something changed them since. Audited with the reason.
pub fn dismiss_flag(db: &Db, id: i64, by: &str, reason: Option<&str>) -> anyhow::Result<()> {
    let tx = db.conn().unchecked_transaction()?;
    let (status, consumer_id): (String, i64) = tx
        .query_row("SELECT status, consumer_id FROM flag_hits WHERE id = ?1", params![id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .ok_or_else(|| usage(format!("no flag hit with id {id}")))?;
    if status != "pending" {
        return Err(usage(format!("flag hit {id} is {status}, not pending")));
    }
    let cause = format!("flag_hit:{id}");
    let mut stmt = tx.prepare(
        "SELECT field, old_value, new_value FROM consumer_events
         WHERE consumer_id = ?1 AND cause = ?2 ORDER BY id",
    )?;
    let set: Vec<(String, Option<String>, Option<String>)> = stmt
        .query_map(params![consumer_id, cause], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    drop(stmt);
    for (field, old, new) in set {
        let Some(column) = FLAG_COLUMNS.iter().find(|c| **c == field) else { continue };
        let current: Option<String> = tx.query_row(
            &format!("SELECT {column} FROM consumers WHERE id = ?1"),
            params![consumer_id],
            |r| r.get(0),
        )?;
        if current == new {
            tx.execute(
                &format!("UPDATE consumers SET {column} = ?1 WHERE id = ?2"),
                params![old, consumer_id],
            )?;
            consumer_event(
                &tx,
                consumer_id,
                None,
                column,
                current.as_deref(),
                old.as_deref(),
                &format!("flag_dismissed:{id}"),
            )?;
        }
    }
    tx.execute(
        "UPDATE flag_hits SET status = 'dismissed', decided_by = ?2, decided_at = ?3 WHERE id = ?1",
        params![id, by, now_rfc3339()],
    )?;
    audit_decision(&tx, by, "flag.dismiss", &format!("flag_hit:{id}"), id, reason)?;
    tx.commit()?;
    Ok(())
}

/// Refuses an empty reviewer name.
pub fn check_reviewer(by: &str) -> Result<(), ConfigError> {
    if by.trim().is_empty() {
        return Err(ConfigError("--by needs the reviewer's user name".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::matcher::{Explanation, ScoredPair};
    use crate::locate::record::AddressHit;

    fn db() -> Db {
        let db = Db::open_in_memory().unwrap();
        let c = db.conn();
        c.execute_batch(
            "INSERT INTO clients VALUES ('C', 'Client', 'agency');
             INSERT INTO consumers (id, surname, first_name) VALUES (1, 'LEE', 'ANN');
             INSERT INTO accounts (id, client_id, account_number, consumer_id, account_type,
                 original_creditor, creditor_class, placed_date, placed_amount, current_balance,
                 amount_past_due, status, undeliverable_date)
             VALUES (10, 'C', 'A-10', 1, '48', 'X', '12', '2026-01-01', '1', '1', '1', 'open',
                     '2026-10-01');
             INSERT INTO addresses (id, consumer_id, line1, city, state, zip, source, first_seen,
                 last_seen, status)
             VALUES (100, 1, '5 Pine Ave', 'Dallas', 'TX', '75201', 'client:C', '2026-01-01',
                     '2026-01-01', 'current');",
        )
        .unwrap();
        assert_eq!(db.begin_run("locate", None).unwrap(), 1);
        db
    }

    fn debtor() -> Debtor {
        Debtor {
            consumer_id: 1,
            account_ids: vec![10],
            account_numbers: vec!["A-10".into()],
            ..Debtor::default()
        }
    }

    fn ncoa(code: &str, mt: Option<MoveType>, new: Option<&str>) -> LocateRecord {
        LocateRecord {
            source: "coa".into(),
            source_record_id: format!("N-{code}"),
            known_address: Some(PostalAddress {
                line1: "5 PINE AVE".into(),
                city: "DALLAS".into(),
                state: "TX".into(),
                zip: "752010001".into(),
                ..PostalAddress::default()
            }),
            addresses: new
                .map(|l| AddressHit {
                    address: PostalAddress {
                        line1: l.into(),
                        city: "DALLAS".into(),
                        state: "TX".into(),
                        zip: "75202".into(),
                        ..PostalAddress::default()
                    },
                    first_seen: None,
                    last_seen: None,
                })
                .into_iter()
                .collect(),
            move_type: mt,
            ncoa_return_code: Some(code.into()),
            ..LocateRecord::default()
        }
    }

    fn link(decision: Decision, n: usize) -> LinkResult {
        LinkResult {
            pairs: (0..n)
                .map(|i| ScoredPair {
                    debtor: 0,
                    record: i,
                    weight: 12.0,
                    probability: 0.9998,
                    decision,
                    explanation: Explanation::default(),
                })
                .collect(),
            ..LinkResult::default()
        }
    }

    /// Stores `recs`, each matched to the test debtor with `decision` (run 1, 2026-11-20).
    fn store(db: &Db, recs: &[LocateRecord], decision: Decision, st: &mut RunState) -> LeadStats {
        let (as_of, d) = (jiff::civil::date(2026, 11, 20), [debtor()]);
        store_matches(db.conn(), 1, as_of, &d, recs, &link(decision, recs.len()), st).unwrap()
    }

    fn status_of(db: &Db, id: i64) -> String {
        db.conn()
            .query_row("SELECT status FROM addresses WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    }

    /// A vendor record listing addresses with the dates the vendor saw them.
    fn vendor(id: &str, addresses: &[(&str, &str)]) -> LocateRecord {
        LocateRecord {
            source: "vendor".into(),
            source_record_id: id.into(),
            addresses: addresses
                .iter()
                .map(|&(line1, last_seen)| AddressHit {
                    address: PostalAddress {
                        line1: line1.into(),
                        city: "DALLAS".into(),
                        state: "TX".into(),
                        zip: "75201".into(),
                        ..PostalAddress::default()
                    },
                    first_seen: Some(jiff::civil::date(2025, 1, 1)),
                    last_seen: Some(last_seen.parse().unwrap()),
                })
                .collect(),
            ..LocateRecord::default()
        }
    }

    fn current_line1(db: &Db) -> Vec<String> {
        db.conn()
            .prepare("SELECT line1 FROM addresses WHERE consumer_id = 1 AND status = 'current'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_past_address_listed_again_never_displaces_the_current_one() {
        let db = db();
        // Night 1: the vendor lists a new address and the one on file, seen alike; the new
        // one is applied and the address on file becomes previous.
        let recs = vec![vendor("V1", &[("9 ELM ST", "2026-11-17"), ("5 PINE AVE", "2026-11-17")])];
        let mut st = RunState::default();
        let s = store(&db, &recs, Decision::Accept, &mut st);
        assert_eq!((s.auto_accepted, s.already_current), (1, 1));
        assert_eq!(current_line1(&db), ["9 ELM ST"]);
        assert_eq!(status_of(&db, 100), "previous");
        // Night 2, the same record: the previous address is not news, nothing moves.
        let mut st = RunState::default();
        let s = store(&db, &recs, Decision::Accept, &mut st);
        assert_eq!((s.auto_accepted, s.pending, s.already_previous), (0, 0, 1), "{s:?}");
        assert_eq!(current_line1(&db), ["9 ELM ST"]);
        let leads: i64 =
            db.conn().query_row("SELECT count(*) FROM leads", [], |r| r.get(0)).unwrap();
        assert_eq!(leads, 1);
        // A record giving the past address alone, last seen before the current address was
        // first seen (2025-01-01, the vendor's first sighting): nothing either.
        let stale = vec![vendor("V2", &[("5 PINE AVE", "2024-12-01")])];
        let s = store(&db, &stale, Decision::Accept, &mut st);
        assert_eq!((s.auto_accepted, s.pending, s.already_previous), (0, 0, 1), "{s:?}");
        // Seen there after the current address: maybe a move back, for a reviewer only.
        let back = vec![vendor("V3", &[("9 ELM ST", "2026-03-01"), ("5 PINE AVE", "2026-11-17")])];
        let s = store(&db, &back, Decision::Accept, &mut st);
        assert_eq!((s.auto_accepted, s.pending), (0, 1), "{s:?}");
        assert_eq!(current_line1(&db), ["9 ELM ST"]);
        let known: String = db
            .conn()
            .query_row(
                "SELECT json_extract(explanation, '$.hit.known_status') FROM leads
                 WHERE source_record_id = 'V3'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(known, "previous");
    }

    #[test]
    fn a_previous_or_bad_phone_waits_for_review_and_a_new_one_applies() {
        let db = db();
        db.conn()
            .execute_batch(
                "INSERT INTO phones (consumer_id, number, source, first_seen, last_seen, status)
                 VALUES (1, '2145550100', 'client:C', '2026-01-01', '2026-01-01', 'previous'),
                        (1, '2145550101', 'client:C', '2026-01-01', '2026-01-01', 'bad');",
            )
            .unwrap();
        let phone = |n: &str| crate::locate::record::PhoneHit {
            number: n.into(),
            line_type: None,
            vendor_score: None,
            first_seen: None,
            last_seen: None,
        };
        let rec = LocateRecord {
            source: "vendor".into(),
            source_record_id: "P1".into(),
            phones: vec![phone("2145550100"), phone("2145550101"), phone("2145550102")],
            ..LocateRecord::default()
        };
        let as_of = jiff::civil::date(2026, 11, 20);
        let mut st = RunState::default();
        let s = store_matches(
            db.conn(),
            1,
            as_of,
            &[debtor()],
            &[rec],
            &link(Decision::Accept, 1),
            &mut st,
        )
        .unwrap();
        assert_eq!((s.auto_accepted, s.pending), (1, 2), "{s:?}");
        let phones: Vec<(String, String)> = db
            .conn()
            .prepare("SELECT number, status FROM phones ORDER BY number")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let want = [("2145550100", "previous"), ("2145550101", "bad"), ("2145550102", "current")];
        let want: Vec<(String, String)> =
            want.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        assert_eq!(phones, want);
    }

    #[test]
    fn moved_left_no_address_marks_the_old_address_bad_once() {
        let db = db();
        let recs = vec![ncoa("02", Some(MoveType::Individual), None)];
        let mut st = RunState::default();
        // A review-level match changes nothing.
        let s = store(&db, &recs, Decision::Review, &mut st);
        assert_eq!(s.addresses_marked_bad, 0);
        assert_eq!(status_of(&db, 100), "current");
        let s = store(&db, &recs, Decision::Accept, &mut st);
        assert_eq!(s.addresses_marked_bad, 1);
        assert_eq!(status_of(&db, 100), "bad");
        let s = store(&db, &recs, Decision::Accept, &mut st);
        assert_eq!(s.addresses_marked_bad, 0);
        let events: i64 = db
            .conn()
            .query_row(
                "SELECT count(*) FROM consumer_events WHERE cause = 'ncoa:coa/N-02'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(events, 1);
    }

    #[test]
    fn individual_moves_apply_and_family_moves_wait_for_review() {
        let db = db();
        let as_of = jiff::civil::date(2026, 11, 20);
        let recs = vec![
            ncoa("A", Some(MoveType::Family), Some("8 FIR ST")),
            ncoa("A", Some(MoveType::Individual), Some("9 ELM ST")),
        ];
        let mut st = RunState::default();
        let s = store(&db, &recs, Decision::Accept, &mut st);
        assert_eq!((s.auto_accepted, s.pending), (1, 1));
        let rows: Vec<(String, String)> = db
            .conn()
            .prepare("SELECT line1, status FROM addresses ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![("5 Pine Ave".into(), "previous".into()), ("9 ELM ST".into(), "current".into())]
        );
        let pending: String = db
            .conn()
            .query_row("SELECT value FROM leads WHERE status = 'pending'", [], |r| r.get(0))
            .unwrap();
        assert!(pending.contains("8 FIR ST"), "{pending}");
        let und: Option<String> = db
            .conn()
            .query_row("SELECT undeliverable_date FROM accounts WHERE id = 10", [], |r| r.get(0))
            .unwrap();
        assert_eq!(und, None);
        // The family move's lead, accepted by a reviewer, replaces the current address.
        let id: i64 = db
            .conn()
            .query_row("SELECT id FROM leads WHERE status = 'pending'", [], |r| r.get(0))
            .unwrap();
        accept(&db, id, "rev", as_of).unwrap();
        assert_eq!(status_of(&db, 101), "previous");
        assert!(accept(&db, id, "rev", as_of).is_err());
    }
}
