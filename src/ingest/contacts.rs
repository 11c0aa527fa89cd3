//! Contact data with history: addresses, phones and e-mails of a consumer.
//!
//! Nothing is overwritten. A value seen again has its `last_seen` moved forward; a new value
//! becomes `current` and the previous current one becomes `previous`; a value reported bad
//! becomes `bad` and never comes back to `current` from a client file. A client value that
//! skip tracing replaced (a current value from an accepted lead) does not come back while the
//! client repeats it: the client is sending what it had, not news. Every state change of
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
                "SELECT id, status, source FROM addresses WHERE consumer_id = ?1 AND line1 = ?2 \
                 AND line2 = ?3 AND city = ?4 AND state = ?5 AND zip = ?6"
            }
            Table::Phones => {
                "SELECT id, status, source FROM phones WHERE consumer_id = ?1 AND number = ?2"
            }
            Table::Emails => {
                "SELECT id, status, source FROM emails WHERE consumer_id = ?1 AND address = ?2"
            }
        }
    }

    fn insert_sql(self) -> &'static str {
        match self {
            Table::Addresses => {
                "INSERT INTO addresses (consumer_id, line1, line2, city, state, zip, source, \
                 source_ref, first_seen, last_seen, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10)"
            }
            Table::Phones => {
                "INSERT INTO phones (consumer_id, number, source, source_ref, first_seen, \
                 last_seen, status) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)"
            }
            Table::Emails => {
                "INSERT INTO emails (consumer_id, address, source, source_ref, first_seen, \
                 last_seen, status) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)"
            }
        }
    }

    fn current_sql(self) -> &'static str {
        match self {
            Table::Addresses => {
                "SELECT id, status FROM addresses WHERE consumer_id = ?1 AND status = 'current' \
                 ORDER BY id"
            }
            Table::Phones => {
                "SELECT id, status FROM phones WHERE consumer_id = ?1 AND status = 'current' \
                 ORDER BY id"
            }
            Table::Emails => {
                "SELECT id, status FROM emails WHERE consumer_id = ?1 AND status = 'current' \
                 ORDER BY id"
            }
        }
    }

    /// Whether a current value of the consumer came from skip tracing (an accepted lead).
    fn located_current_sql(self) -> &'static str {
        match self {
            Table::Addresses => {
                "SELECT EXISTS (SELECT 1 FROM addresses WHERE consumer_id = ?1 \
                 AND status = 'current' AND source LIKE 'lead:%')"
            }
            Table::Phones => {
                "SELECT EXISTS (SELECT 1 FROM phones WHERE consumer_id = ?1 \
                 AND status = 'current' AND source LIKE 'lead:%')"
            }
            Table::Emails => {
                "SELECT EXISTS (SELECT 1 FROM emails WHERE consumer_id = ?1 \
                 AND status = 'current' AND source LIKE 'lead:%')"
            }
        }
    }

    fn status_sql(self) -> &'static str {
        match self {
            Table::Addresses => "UPDATE addresses SET status = ?1 WHERE id = ?2",
            Table::Phones => "UPDATE phones SET status = ?1 WHERE id = ?2",
            Table::Emails => "UPDATE emails SET status = ?1 WHERE id = ?2",
        }
    }

    fn seen_sql(self) -> &'static str {
        match self {
            Table::Addresses => "UPDATE addresses SET last_seen = max(last_seen, ?1) WHERE id = ?2",
            Table::Phones => "UPDATE phones SET last_seen = max(last_seen, ?1) WHERE id = ?2",
            Table::Emails => "UPDATE emails SET last_seen = max(last_seen, ?1) WHERE id = ?2",
        }
    }
}

/// A contact value: the identifying columns in the table's order.
pub type Key<'a> = &'a [&'a str];

/// The stored value: id, status and source.
fn find(
    tx: &Connection,
    table: Table,
    consumer: i64,
    key: Key<'_>,
) -> rusqlite::Result<Option<(i64, String, String)>> {
    let mut p: Vec<&dyn ToSql> = Vec::with_capacity(key.len() + 1);
    p.push(&consumer);
    p.extend(key.iter().map(|k| k as &dyn ToSql));
    tx.prepare_cached(table.find_sql())?
        .query_row(p.as_slice(), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()
}

fn insert(
    tx: &Connection,
    table: Table,
    consumer: i64,
    key: Key<'_>,
    status: &str,
    o: &Origin<'_>,
) -> rusqlite::Result<i64> {
    let mut p: Vec<&dyn ToSql> = Vec::with_capacity(key.len() + 5);
    p.push(&consumer);
    p.extend(key.iter().map(|k| k as &dyn ToSql));
    p.push(&o.source);
    p.push(&o.cause);
    p.push(&o.as_of);
    p.push(&status);
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
        insert(tx, table, consumer, key, "current", o)?;
        return Ok(true);
    }
    if let Some((id, status, source)) = find(tx, table, consumer, key)? {
        tx.prepare_cached(table.seen_sql())?.execute(params![o.as_of, id])?;
        if status == "previous"
            && source.starts_with("client:")
            && located_current(tx, table, consumer)?
        {
            // The client still sends the value it had; skip tracing has found a newer one,
            // which stays current. Only a value the client has not sent before is news.
            return Ok(false);
        }
        if status == "previous" || status == "candidate" {
            demote_current(tx, table, consumer, Some(id), o)?;
            set_status(tx, table, consumer, id, &status, "current", o)?;
            return Ok(true);
        }
        return Ok(false);
    }
    demote_current(tx, table, consumer, None, o)?;
    let id = insert(tx, table, consumer, key, "current", o)?;
    event(tx, table, consumer, id, None, "current", o)?;
    Ok(true)
}

fn located_current(tx: &Connection, table: Table, consumer: i64) -> rusqlite::Result<bool> {
    tx.prepare_cached(table.located_current_sql())?.query_row(params![consumer], |r| r.get(0))
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
                let id = insert(tx, table, consumer, k, "bad", o)?;
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
        db.conn()
            .execute_batch(
                "INSERT INTO consumers (id, surname, first_name) VALUES (1, 'LEE', 'ANN');
                 INSERT INTO addresses (consumer_id, line1, city, state, zip, source, first_seen,
                     last_seen, status)
                 VALUES (1, '5 PINE AVE', 'DALLAS', 'TX', '75201', 'client:C', '2026-01-01',
                         '2026-01-01', 'previous'),
                        (1, '9 ELM ST', 'DALLAS', 'TX', '75201', 'lead:7', '2026-11-01',
                         '2026-11-20', 'current');",
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
        // The client's file still carries the old address: seen again, nothing moves.
        let changed = observe_current(tx, Table::Addresses, 1, &pine, false, &o(21)).unwrap();
        assert!(!changed);
        let want =
            |a: &str, b: &str| vec![("5 PINE AVE".into(), a.into()), ("9 ELM ST".into(), b.into())];
        assert_eq!(statuses(&db), want("previous", "current"));
        let seen: String = tx
            .query_row("SELECT last_seen FROM addresses WHERE line1 = '5 PINE AVE'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(seen, "2026-11-21");
        // A new address from the client is news: it becomes current.
        let oak = ["1 OAK LN", "", "DALLAS", "TX", "75201"];
        assert!(observe_current(tx, Table::Addresses, 1, &oak, false, &o(22)).unwrap());
        let mut w = want("previous", "previous");
        w.push(("1 OAK LN".into(), "current".into()));
        assert_eq!(statuses(&db), w);
        // Then the old one again, over the client's own newer value: the consumer moved back.
        assert!(observe_current(tx, Table::Addresses, 1, &pine, false, &o(23)).unwrap());
        let mut w = want("current", "previous");
        w.push(("1 OAK LN".into(), "previous".into()));
        assert_eq!(statuses(&db), w);
    }
}
