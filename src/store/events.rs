//! The change history every stage writes: `account_events` and `consumer_events` (field, old
//! value, new value, cause, run, time). One place for their inserts, so that ingest, leads
//! and later corrections record a change the same way. Values arrive already masked where
//! they are an SSN or a date of birth; this module does not look at them.

use rusqlite::{Connection, params};

/// One change of one field.
#[derive(Clone, Copy, Debug)]
pub struct Change<'a> {
    /// `balance`, `address:12.status`, `associated_consumer:7.ecoa`, ...
    pub field: &'a str,
    /// Value before (none for a new value).
    pub old: Option<&'a str>,
    /// Value after (none for a removed value).
    pub new: Option<&'a str>,
    /// Why: `portfolio:<file>:<line>`, `lead:<id>`, `ncoa:<source>/<record>`, ...
    pub cause: &'a str,
    /// The run that made the change (none for a reviewer's decision outside a run).
    pub run_id: Option<i64>,
    /// When (RFC 3339).
    pub at: &'a str,
}

/// Records a change of an account.
pub fn account_event(conn: &Connection, account_id: i64, c: &Change<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO account_events (account_id, run_id, at, field, old_value, new_value, cause)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![account_id, c.run_id, c.at, c.field, c.old, c.new, c.cause])?;
    Ok(())
}

/// Records a change of a consumer (name, identity, flags, contact data).
pub fn consumer_event(conn: &Connection, consumer_id: i64, c: &Change<'_>) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO consumer_events (consumer_id, run_id, at, field, old_value, new_value, cause)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![consumer_id, c.run_id, c.at, c.field, c.old, c.new, c.cause])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Db;

    #[test]
    fn changes_are_recorded_with_their_cause_run_and_time() {
        let db = Db::open_in_memory().unwrap();
        let run = db.begin_run("test", None).unwrap();
        let c = db.conn();
        c.execute("INSERT INTO consumers (id, surname, first_name) VALUES (7, 'DOE', 'JO')", [])
            .unwrap();
        let change = Change {
            field: "address:3.status",
            old: Some("current"),
            new: Some("bad"),
            cause: "contact_events:e.csv:4",
            run_id: Some(run),
            at: "2026-11-20T00:00:00Z",
        };
        consumer_event(c, 7, &change).unwrap();
        consumer_event(c, 7, &Change { run_id: None, old: None, ..change }).unwrap();
        let rows: Vec<(Option<i64>, String, Option<String>, String)> = c
            .prepare("SELECT run_id, field, old_value, cause FROM consumer_events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, Some(run));
        assert_eq!(rows[0].1, "address:3.status");
        assert_eq!(rows[0].2.as_deref(), Some("current"));
        assert_eq!(rows[0].3, "contact_events:e.csv:4");
        assert_eq!((rows[1].0, rows[1].2.as_deref()), (None, None));
        // An account event needs its account.
        assert!(account_event(c, 999, &change).is_err());
    }
}
