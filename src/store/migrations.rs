//! Schema migrations, applied in order inside one transaction each; `PRAGMA user_version`
//! records how many have been applied. A migration, once released, is never edited: add a
//! new file to `sql/` and a line to [`MIGRATIONS`].

use rusqlite::Connection;

/// The migrations, in order. Index `i` brings the schema from version `i` to `i + 1`.
pub const MIGRATIONS: &[(&str, &str)] = &[("0001_init", include_str!("sql/0001_init.sql"))];

/// Applies every migration newer than the database's `user_version`.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if current > known {
        return Err(rusqlite::Error::InvalidQuery).map_err(|_| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_MISMATCH),
                Some(format!(
                    "database schema version {current} is newer than this skiptrace ({known})"
                )),
            )
        });
    }
    for (i, (_name, sql)) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
