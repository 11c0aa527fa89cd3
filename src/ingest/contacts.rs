//! Contact data with history: addresses, phones and e-mails of a consumer.
//!
//! Nothing is overwritten. A value seen again has its `last_seen` moved forward; a new value
//! becomes `current` and the previous current one becomes `previous`; a value reported bad
//! becomes `bad` and never comes back to `current` from a client file. Each value keeps the
//! date a client file last sent it (`client_seen`): the value the client sent last, sent
//! again, is no news, so a value skip tracing replaced stays `previous` while the client
//! repeats it; a value the client sent before another one and sends again is a move back. Every state change of
//! an existing consumer's contact data is written to `consumer_events`. This module must not
//! decide *whether* a value is valid (the row parser does).

use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use crate::store::events::{self, Change};

/// Where a change came from, for `source`, `source_ref` and the event rows.
pub struct Origin<'a> {
    /// `client:<ID>`.
    pub source: &'a str,
    /// `<kind>:<file>:<line>`.
    pub cause: &'a str,
    /// Business date (first/last seen).
    pub as_of: Date,
    /// Run id.
    pub run_id: i64,
    /// Timestamp of the events.
    pub at: &'a str,
}

impl<'a> Origin<'a> {
    /// A change of `field` made by this origin, for the event tables.
    pub fn change(&self, field: &'a str, old: Option<&'a str>, new: Option<&'a str>) -> Change<'a> {
        Change { field, old, new, cause: self.cause, run_id: Some(self.run_id), at: self.at }
    }
}

/// A contact table and the columns that identify a value in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// `addresses` (line1, line2, city, state, zip).
    Addresses,
    /// `phones` (number).
    Phones,
    /// `emails` (address).
    Emails,
}

/// The same statement for each table: `$before`, the table's name, `$after`.
macro_rules! each_table {
    ($table:expr, $before:literal, $after:literal) => {
        match $table {
            Table::Addresses => concat!($before, "addresses", $after),
            Table::Phones => concat!($before, "phones", $after),
            Table::Emails => concat!($before, "emails", $after),
        }
    };
}

impl Table {
    fn event_field(self) -> &'static str {
        match self {
            Table::Addresses => "address",
            Table::Phones => "phone",
            Table::Emails => "email",
        }
    }

    fn find_sql(self) -> &'static str {
        match self {
            Table::Addresses => {
                "SELECT id, status, client_seen FROM addresses WHERE consumer_id = ?1 \
                 AND line1 = ?2 AND line2 = ?3 AND city = ?4 AND state = ?5 AND zip = ?6"
            }
            Table::Phones => {
                "SELECT id, status, client_seen FROM phones WHERE consumer_id = ?1 AND number = ?2"
            }
            Table::Emails => {
                "SELECT id, status, client_seen FROM emails WHERE consumer_id = ?1 AND address = ?2"
            }
        }
    }

    fn insert_sql(self) -> &'static str {
        match self {
            Table::Addresses => {
                "INSERT INTO addresses (consumer_id, line1, line2, city, state, zip, source, \
                 source_ref, first_seen, last_seen, status, client_seen) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11)"
            }
            Table::Phones => {
                "INSERT INTO phones (consumer_id, number, source, source_ref, first_seen, \
                 last_seen, status, client_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)"
            }
            Table::Emails => {
                "INSERT INTO emails (consumer_id, address, source, source_ref, first_seen, \
                 last_seen, status, client_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7)"
            }
        }
    }

    fn current_sql(self) -> &'static str {
        each_table!(
            self,
            "SELECT id, status FROM ",
            " WHERE consumer_id = ?1 AND status = 'current' ORDER BY id"
        )
    }

    fn status_sql(self) -> &'static str {
        each_table!(self, "UPDATE ", " SET status = ?1 WHERE id = ?2")
    }

    /// A client file sent the value again (on `?1`).
    fn seen_sql(self) -> &'static str {
        each_table!(
            self,
            "UPDATE ",
            " SET last_seen = max(last_seen, ?1), client_seen = ?1 WHERE id = ?2"
        )
    }

    /// Whether a client file sent the consumer (`?1`) another value than row `?2` after
    /// `?3`.
    fn sent_other_since_sql(self) -> &'static str {
        each_table!(
            self,
            "SELECT EXISTS (SELECT 1 FROM ",
            " WHERE consumer_id = ?1 AND id != ?2 AND client_seen > ?3)"
        )
    }
}

/// A contact value: the identifying columns in the table's order.
pub type Key<'a> = &'a [&'a str];

/// The stored value: id, status, and when a client file last sent it.
fn find(
    tx: &Connection,
    table: Table,
    consumer: i64,
    key: Key<'_>,
) -> rusqlite::Result<Option<(i64, String, Option<Date>)>> {
    let mut p: Vec<&dyn ToSql> = Vec::with_capacity(key.len() + 1);
    p.push(&consumer);
    p.extend(key.iter().map(|k| k as &dyn ToSql));
    tx.prepare_cached(table.find_sql())?
        .query_row(p.as_slice(), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

/// Adds a value; `client_seen` when a client file sends it as current.
fn insert(
    tx: &Connection,
    table: Table,
    consumer: i64,
    key: Key<'_>,
    status: &str,
    client_seen: Option<Date>,
    o: &Origin<'_>,
) -> rusqlite::Result<i64> {
    let mut p: Vec<&dyn ToSql> = Vec::with_capacity(key.len() + 6);
    p.push(&consumer);
    p.extend(key.iter().map(|k| k as &dyn ToSql));
    p.push(&o.source);
    p.push(&o.cause);
    p.push(&o.as_of);
    p.push(&status);
    p.push(&client_seen);
    tx.prepare_cached(table.insert_sql())?.execute(p.as_slice())?;
    Ok(tx.last_insert_rowid())
}

/// Records that the client file gives `key` as the consumer's current value. `fresh` is true
/// for a consumer created by this row (no history to demote, no events to write). Returns
/// whether a value was added or changed state (a `last_seen` move is not a change).
pub fn observe_current(
    tx: &Connection,
    table: Table,
    consumer: i64,
    key: Key<'_>,
    fresh: bool,
    o: &Origin<'_>,
) -> rusqlite::Result<bool> {
    if fresh {
        insert(tx, table, consumer, key, "current", Some(o.as_of), o)?;
        return Ok(true);
    }
    if let Some((id, status, client_seen)) = find(tx, table, consumer, key)? {
        // The value the client sent last, sent again, is no news. If it is `previous`,
        // something other than a client file replaced it (skip tracing: an automatic or
        // a reviewed lead), and that stays current. A value the client sent before another
        // one and sends again now is a move back by the client.
        let repeated = match client_seen {
            Some(seen) => !tx
                .prepare_cached(table.sent_other_since_sql())?
                .query_row(params![consumer, id, seen], |r| r.get::<_, bool>(0))?,
            None => false,
        };
        tx.prepare_cached(table.seen_sql())?.execute(params![o.as_of, id])?;
        if (status == "previous" && !repeated) || status == "candidate" {
            demote_current(tx, table, consumer, Some(id), o)?;
            set_status(tx, table, consumer, id, &status, "current", o)?;
            return Ok(true);
        }
        return Ok(false);
    }
    demote_current(tx, table, consumer, None, o)?;
    let id = insert(tx, table, consumer, key, "current", Some(o.as_of), o)?;
    event(tx, table, consumer, id, None, "current", o)?;
    Ok(true)
}

fn current(tx: &Connection, table: Table, consumer: i64) -> rusqlite::Result<Vec<(i64, String)>> {
    tx.prepare_cached(table.current_sql())?
        .query_map(params![consumer], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// Turns every `current` value of the consumer (except `keep`) into `previous`.
fn demote_current(
    tx: &Connection,
    table: Table,
    consumer: i64,
    keep: Option<i64>,
    o: &Origin<'_>,
) -> rusqlite::Result<()> {
    for (id, _) in current(tx, table, consumer)? {
        if Some(id) != keep {
            set_status(tx, table, consumer, id, "current", "previous", o)?;
        }
    }
    Ok(())
}

fn set_status(
    tx: &Connection,
    table: Table,
    consumer: i64,
    id: i64,
    old: &str,
    new: &str,
    o: &Origin<'_>,
) -> rusqlite::Result<()> {
    tx.prepare_cached(table.status_sql())?.execute(params![new, id])?;
    event(tx, table, consumer, id, Some(old), new, o)
}

fn event(
    tx: &Connection,
    table: Table,
    consumer: i64,
    id: i64,
    old: Option<&str>,
    new: &str,
    o: &Origin<'_>,
) -> rusqlite::Result<()> {
    let field = format!("{}:{id}.status", table.event_field());
    events::consumer_event(tx, consumer, &o.change(&field, old, Some(new)))
}

/// Marks a value bad (returned mail, disconnected phone, bounced e-mail). When `key` is
/// `None`, every current value of the consumer is marked bad. A value not on file is added
/// as `bad`, so that it is never used. Returns how many values changed state.
pub fn mark_bad(
    tx: &Connection,
    table: Table,
    consumer: i64,
    key: Option<Key<'_>>,
    o: &Origin<'_>,
) -> rusqlite::Result<usize> {
    let rows = match key {
        None => current(tx, table, consumer)?,
        Some(k) => match find(tx, table, consumer, k)? {
            Some((id, status, _)) => vec![(id, status)],
            None => {
                let id = insert(tx, table, consumer, k, "bad", None, o)?;
                event(tx, table, consumer, id, None, "bad", o)?;
                return Ok(1);
            }
        },
    };
    let mut changed = 0;
    for (id, status) in rows {
        if status != "bad" {
            set_status(tx, table, consumer, id, &status, "bad", o)?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    fn statuses(db: &Db) -> Vec<(String, String)> {
        db.conn()
            .prepare("SELECT line1, status FROM addresses ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn a_client_repeating_an_address_skip_tracing_replaced_does_not_move_the_consumer_back() {
        let db = Db::open_in_memory().unwrap();
        let run = db.begin_run("test", None).unwrap();
        // The client sent ELM ST long ago, then PINE AVE; skip tracing found the consumer at
        // ELM ST again and a reviewer accepted it (the row keeps its client source).
        db.conn()
            .execute_batch(
                "INSERT INTO consumers (id, surname, first_name) VALUES (1, 'LEE', 'ANN');
                 INSERT INTO addresses (consumer_id, line1, city, state, zip, source, first_seen,
                     last_seen, status, client_seen)
                 VALUES (1, '5 PINE AVE', 'DALLAS', 'TX', '75201', 'client:C', '2026-01-01',
                         '2026-01-01', 'previous', '2026-01-01'),
                        (1, '9 ELM ST', 'DALLAS', 'TX', '75201', 'client:C', '2025-06-01',
                         '2026-11-20', 'current', '2025-06-01');",
            )
            .unwrap();
        let o = |day: i8| Origin {
            source: "client:C",
            cause: "portfolio:p.csv:2",
            as_of: jiff::civil::date(2026, 11, day),
            run_id: run,
            at: "2026-11-21T00:00:00Z",
        };
        let pine = ["5 PINE AVE", "", "DALLAS", "TX", "75201"];
        let tx = db.conn();
        // The client's file still carries the address it sent last: seen again, nothing moves.
        let changed = observe_current(tx, Table::Addresses, 1, &pine, false, &o(21)).unwrap();
        assert!(!changed);
        let want = |a: &str, b: &str| {
            vec![("5 PINE AVE".to_string(), a.to_string()), ("9 ELM ST".into(), b.into())]
        };
        assert_eq!(statuses(&db), want("previous", "current"));
        let seen: (String, String) = tx
            .query_row(
                "SELECT last_seen, client_seen FROM addresses WHERE line1 = '5 PINE AVE'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(seen, ("2026-11-21".into(), "2026-11-21".into()));
        // A new address from the client is news: it becomes current.
        let oak = ["1 OAK LN", "", "DALLAS", "TX", "75201"];
        assert!(observe_current(tx, Table::Addresses, 1, &oak, false, &o(22)).unwrap());
        let mut w = want("previous", "previous");
        w.push(("1 OAK LN".into(), "current".into()));
        assert_eq!(statuses(&db), w);
        // Then the older one again, after the client's own newer value: a move back.
        assert!(observe_current(tx, Table::Addresses, 1, &pine, false, &o(23)).unwrap());
        let mut w = want("current", "previous");
        w.push(("1 OAK LN".into(), "previous".into()));
        assert_eq!(statuses(&db), w);
    }
}
