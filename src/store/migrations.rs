//! Schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
//! records how many have been applied, and `schema_migrations` the SHA-256 of each one's SQL.
//! A migration, once released, is never edited: add a new file to `sql/` and a line to
//! [`MIGRATIONS`]. Opening a database whose applied migrations differ from this build's (an
//! edited migration, or a database made before the hashes were kept) is a clear error, never a
//! half-understood schema.

use rusqlite::{Connection, OptionalExtension};

/// The migrations, in order. Index `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("sql/0001_init.sql")),
    ("0002_client_seen", include_str!("sql/0002_client_seen.sql")),
];

/// Applies every migration newer than the database's `user_version`, after checking that the
/// ones already applied are this build's.
pub fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        anyhow::bail!("database schema version {current} is newer than this skiptrace ({known})");
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().take(current as usize) {
        let stored: Option<String> = if table_exists(conn)? {
            conn.query_row(
                "SELECT sha256 FROM schema_migrations WHERE version = ?1",
                [(i + 1) as i64],
                |r| r.get(0),
            )
            .optional()?
        } else {
            None
        };
        if stored.as_deref() != Some(crate::fsutil::sha256_bytes(sql.as_bytes()).as_str()) {
            anyhow::bail!(
                "the database's schema migration {name} differs from this skiptrace's (the \
                 database was made by another, pre-release build); restore a database made by \
                 that build, or start a new one"
            );
        }
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (
                 version INTEGER PRIMARY KEY,
                 name    TEXT NOT NULL,
                 sha256  TEXT NOT NULL
             ) STRICT;",
        )?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, sha256) VALUES (?1, ?2, ?3)",
            rusqlite::params![(i + 1) as i64, name, crate::fsutil::sha256_bytes(sql.as_bytes())],
        )?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}

fn table_exists(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_made_with_other_migrations_is_refused_clearly() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        // Applying again changes nothing.
        migrate(&mut conn).unwrap();
        let n: i64 =
            conn.query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0)).unwrap();
        assert_eq!(n, MIGRATIONS.len() as i64);
        // A migration edited after the database was made.
        conn.execute("UPDATE schema_migrations SET sha256 = 'other' WHERE version = 1", [])
            .unwrap();
        let e = migrate(&mut conn).unwrap_err().to_string();
        assert!(e.contains("migration 0001_init differs"), "{e}");
        // A database from before the hashes were kept.
        conn.execute_batch("DROP TABLE schema_migrations").unwrap();
        let e = migrate(&mut conn).unwrap_err().to_string();
        assert!(e.contains("start a new one"), "{e}");
    }
}
