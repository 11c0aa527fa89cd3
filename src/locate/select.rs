//! Selection: which accounts need a locate tonight, and the [`Debtor`] (one per consumer) the
//! matcher compares against locate records.
//!
//! An open account needs a locate when its mail came back (an undeliverable date is set), its
//! consumer has no current address, has phones but all of them are bad or disconnected, or
//! has not been in contact for `[locate.selection] no_contact_days`. Accounts that are not
//! open (paid, settled, recalled, closed) and consumers who are deceased or in bankruptcy are
//! never selected. This module only reads the store.

use std::collections::BTreeMap;

use jiff::civil::Date;
use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::locate::record::{Debtor, PersonName, PostalAddress};
use crate::pii::Ssn;
use crate::store::Db;

/// `[locate.selection]`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SelectionConfig {
    /// An account with no conversation or payment for this many days needs a locate
    /// (0 turns the rule off). Default 90.
    #[serde(default = "default_no_contact_days")]
    pub no_contact_days: u32,
}

fn default_no_contact_days() -> u32 {
    90
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig { no_contact_days: default_no_contact_days() }
    }
}

/// Why an account was selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Mail came back undeliverable.
    ReturnedMail,
    /// No current address on file.
    NoCurrentAddress,
    /// Phones on file, all bad or disconnected.
    BadPhonesOnly,
    /// No contact for `no_contact_days`.
    NoContact,
}

impl Reason {
    /// The reason's name in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::ReturnedMail => "returned_mail",
            Reason::NoCurrentAddress => "no_current_address",
            Reason::BadPhonesOnly => "bad_phones_only",
            Reason::NoContact => "no_contact",
        }
    }
}

/// One selected account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectedAccount {
    /// Account id.
    pub account_id: i64,
    /// Client's account number.
    pub account_number: String,
    /// Client id.
    pub client_id: String,
    /// Primary consumer.
    pub consumer_id: i64,
    /// Why it needs a locate.
    pub reasons: Vec<Reason>,
}

/// The selection: accounts and the debtors built from them (one per consumer, by id).
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Selected accounts, by consumer then account id.
    pub accounts: Vec<SelectedAccount>,
    /// One debtor per consumer, by consumer id.
    pub debtors: Vec<Debtor>,
}

impl Selection {
    /// Count of selected accounts per reason.
    pub fn reason_counts(&self) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for a in &self.accounts {
            for r in &a.reasons {
                *m.entry(r.as_str()).or_insert(0) += 1;
            }
        }
        m
    }
}

/// Selects the accounts that need a locate on `as_of`.
pub fn select(db: &Db, cfg: &SelectionConfig, as_of: Date) -> anyhow::Result<Selection> {
    let conn = db.conn();
    let cutoff = (cfg.no_contact_days > 0)
        .then(|| crate::dates::add_days(as_of, -i64::from(cfg.no_contact_days)));
    let mut stmt = conn.prepare(
        "SELECT a.id, a.account_number, a.client_id, a.consumer_id,
                a.undeliverable_date IS NOT NULL,
                NOT EXISTS (SELECT 1 FROM addresses ad
                            WHERE ad.consumer_id = a.consumer_id AND ad.status = 'current'),
                EXISTS (SELECT 1 FROM phones p WHERE p.consumer_id = a.consumer_id)
                  AND NOT EXISTS (SELECT 1 FROM phones p
                                  WHERE p.consumer_id = a.consumer_id AND p.status = 'current'),
                max(coalesce(a.first_communication_date, ''),
                    coalesce(a.last_payment_date, ''),
                    coalesce((SELECT max(e.event_date) FROM contact_events e
                              WHERE e.account_id = a.id AND e.kind = 'conversation'), ''),
                    a.placed_date)
         FROM accounts a JOIN consumers c ON c.id = a.consumer_id
         WHERE a.status = 'open'
           AND c.deceased_date IS NULL
           AND (c.bankruptcy_chapter IS NULL
                OR c.bankruptcy_status IN ('dismissed', 'withdrawn'))
         ORDER BY a.consumer_id, a.id",
    )?;
    let mut accounts = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let mut reasons = Vec::new();
        if r.get::<_, bool>(4)? {
            reasons.push(Reason::ReturnedMail);
        }
        if r.get::<_, bool>(5)? {
            reasons.push(Reason::NoCurrentAddress);
        }
        if r.get::<_, bool>(6)? {
            reasons.push(Reason::BadPhonesOnly);
        }
        let last_contact: String = r.get(7)?;
        if let Some(cut) = cutoff
            && last_contact.as_str() < cut.to_string().as_str()
        {
            reasons.push(Reason::NoContact);
        }
        if reasons.is_empty() {
            continue;
        }
        accounts.push(SelectedAccount {
            account_id: r.get(0)?,
            account_number: r.get(1)?,
            client_id: r.get(2)?,
            consumer_id: r.get(3)?,
            reasons,
        });
    }
    let mut debtors: Vec<Debtor> = Vec::new();
    for a in &accounts {
        match debtors.last_mut() {
            Some(d) if d.consumer_id == a.consumer_id => {
                d.account_ids.push(a.account_id);
                d.account_numbers.push(a.account_number.clone());
            }
            _ => {
                let mut d = load_debtor(db, a.consumer_id)?;
                d.account_ids.push(a.account_id);
                d.account_numbers.push(a.account_number.clone());
                debtors.push(d);
            }
        }
    }
    Ok(Selection { accounts, debtors })
}

/// What the store knows of one consumer, as a [`Debtor`] (accounts not filled in).
pub fn load_debtor(db: &Db, consumer_id: i64) -> anyhow::Result<Debtor> {
    let conn = db.conn();
    let (first, middle, last, generation, ssn, dob): (
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
        Option<Date>,
    ) = conn.query_row(
        "SELECT first_name, middle_name, surname, generation, ssn, dob FROM consumers WHERE id = ?1",
        params![consumer_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT line1, line2, city, state, zip FROM addresses WHERE consumer_id = ?1
         ORDER BY CASE status WHEN 'current' THEN 0 WHEN 'previous' THEN 1 ELSE 2 END,
                  last_seen DESC, id DESC",
    )?;
    let addresses = stmt
        .query_map(params![consumer_id], |r| {
            Ok(PostalAddress {
                line1: r.get(0)?,
                line2: r.get(1)?,
                city: r.get(2)?,
                state: r.get(3)?,
                zip: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT number FROM phones WHERE consumer_id = ?1
         ORDER BY CASE status WHEN 'current' THEN 0 WHEN 'previous' THEN 1 ELSE 2 END,
                  last_seen DESC, id DESC",
    )?;
    let phones = stmt
        .query_map(params![consumer_id], |r| r.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Debtor {
        consumer_id,
        account_ids: Vec::new(),
        account_numbers: Vec::new(),
        name: PersonName {
            first,
            middle: middle.unwrap_or_default(),
            last,
            suffix: generation.map(|g| suffix_of(&g)).unwrap_or_default(),
        },
        ssn: ssn.and_then(|s| Ssn::parse(&s).ok()),
        dob,
        addresses,
        phones,
    })
}

/// Metro 2 generation code → the suffix as people write it.
fn suffix_of(code: &str) -> String {
    match code.trim() {
        "J" => "JR".into(),
        "S" => "SR".into(),
        "2" => "II".into(),
        "3" => "III".into(),
        "4" => "IV".into(),
        "5" => "V".into(),
        "6" => "VI".into(),
        "7" => "VII".into(),
        "8" => "VIII".into(),
        "9" => "IX".into(),
        other => other.to_string(),
    }
}
