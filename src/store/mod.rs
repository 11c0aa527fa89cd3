//! The system of record: one SQLite database (rusqlite, bundled), created owner-only (0600).
//!
//! This module owns opening the database (pragmas, permissions), the schema and its
//! migrations ([`migrations`]), the run ledger ([`Db::begin_run`] / [`Db::finish_run`]), the
//! single-run lock ([`RunLock`]) and the append-only audit log ([`Db::audit`]). Stage modules
//! own their own queries; they must not change the schema except through a new migration.

pub mod events;
pub mod migrations;

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::exit::{ExitStatus, StatusError};

/// An open system of record.
pub struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Opens (creating when missing, mode 0600) and migrates the database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        if let Some(dir) = path.parent() {
            crate::fsutil::ensure_private_dir(dir)
                .with_context(|| format!("creating database directory {}", dir.display()))?;
        }
        // Create the file ourselves so that it is owner-only from the first byte; SQLite
        // gives its -wal and -shm files the permissions of the database file.
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .with_context(|| format!("opening database {}", path.display()))?;
        let meta = std::fs::metadata(path)?;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("restricting permissions of {}", path.display()))?;
        }
        let conn = Connection::open(path)
            .with_context(|| format!("opening database {}", path.display()))?;
        Db::init(conn, path.to_path_buf())
    }

    /// An in-memory database with the full schema (tests and dry runs).
    pub fn open_in_memory() -> anyhow::Result<Db> {
        Db::init(Connection::open_in_memory()?, PathBuf::from(":memory:"))
    }

    fn init(mut conn: Connection, path: PathBuf) -> anyhow::Result<Db> {
        // 8 KiB pages halve the page writes (and system time) of a large ingest. Takes effect
        // only when the database is created; an existing database keeps its page size.
        conn.pragma_update(None, "page_size", 8192)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)
            .with_context(|| format!("migrating database {}", path.display()))?;
        Ok(Db { conn, path })
    }

    /// The underlying connection (for stage modules' own queries).
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Mutable access, for transactions.
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records the start of a run and returns its id.
    pub fn begin_run(&self, command: &str, as_of: Option<Date>) -> anyhow::Result<i64> {
        self.conn.execute(
            "INSERT INTO runs (command, as_of, started_at, status, pid, actor)
             VALUES (?1, ?2, ?3, 'running', ?4, ?5)",
            params![command, as_of, now_rfc3339(), std::process::id(), actor()],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Records the end of a run with its outcome and JSON summary.
    pub fn finish_run(
        &self,
        run_id: i64,
        status: ExitStatus,
        summary: &serde_json::Value,
    ) -> anyhow::Result<()> {
        let s = match status {
            ExitStatus::Ok => "ok",
            ExitStatus::Rejects => "rejects",
            ExitStatus::Blocked => "blocked",
            _ => "failed",
        };
        self.conn.execute(
            "UPDATE runs SET finished_at = ?1, status = ?2, summary = ?3 WHERE id = ?4",
            params![now_rfc3339(), s, summary.to_string(), run_id],
        )?;
        Ok(())
    }

    /// Appends to the audit log. `detail` must not contain an SSN or DOB in clear.
    pub fn audit(
        &self,
        run_id: Option<i64>,
        actor: &str,
        action: &str,
        subject: Option<&str>,
        detail: &serde_json::Value,
    ) -> anyhow::Result<()> {
        self.conn.execute(
            "INSERT INTO audit_log (at, run_id, actor, action, subject, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![now_rfc3339(), run_id, actor, action, subject, detail.to_string()],
        )?;
        Ok(())
    }

    /// The id of a previously completed input file with this kind and content hash.
    pub fn input_file_seen(&self, kind: &str, sha256: &str) -> anyhow::Result<Option<i64>> {
        Ok(self
            .conn
            .query_row(
                "SELECT id FROM input_files WHERE kind = ?1 AND sha256 = ?2",
                params![kind, sha256],
                |r| r.get(0),
            )
            .optional()?)
    }
}

/// The operator's name for the run ledger and audit log: `$SKIPTRACE_USER`, else `$USER`,
/// else `unknown`.
pub fn actor() -> String {
    std::env::var("SKIPTRACE_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Current UTC time, RFC 3339, second precision.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

/// The single-run guarantee: an advisory lock on `<db>.lock`, held for the whole run and
/// released when dropped (or when the process dies).
pub struct RunLock {
    _file: File,
}

impl RunLock {
    /// Takes the lock beside `db_path`, or fails with exit status 4 when another run holds it.
    pub fn acquire(db_path: &Path) -> anyhow::Result<RunLock> {
        let mut lock_path = db_path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_path = PathBuf::from(lock_path);
        if let Some(dir) = lock_path.parent() {
            crate::fsutil::ensure_private_dir(dir)?;
        }
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .with_context(|| format!("opening lock file {}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(StatusError {
                status: ExitStatus::Locked,
                message: format!(
                    "another skiptrace run holds {} (see the runs table for its pid)",
                    lock_path.display()
                ),
            }
            .into()),
            Err(std::fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::new(e).context(format!("locking {}", lock_path.display())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_sqlite_creates_itself_are_private() {
        // Built with SQLITE_DEFAULT_FILE_PERMISSIONS=0600 (.cargo/config.toml): a database
        // SQLite creates without our help, its WAL, and its temporary files (the sorter's
        // runs hold SSNs) are owner-only whatever the umask.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("plain.db");
        let c = Connection::open(&p).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.execute_batch("CREATE TABLE t (x)").unwrap();
        for f in [p.clone(), dir.path().join("plain.db-wal")] {
            let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", f.display());
        }
        let opts: Vec<String> = c
            .prepare("PRAGMA compile_options")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(opts.iter().any(|o| o == "DEFAULT_FILE_PERMISSIONS=0600"), "{opts:?}");
    }

    #[test]
    fn database_is_private_and_migrated() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("var/skiptrace.db");
        let db = Db::open(&p).unwrap();
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        let v: i64 = db.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, migrations::MIGRATIONS.len() as i64);
        let page: i64 = db.conn().query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        assert_eq!(page, 8192);
        let run = db.begin_run("test", None).unwrap();
        db.audit(Some(run), "tester", "test.action", None, &serde_json::json!({"n": 1})).unwrap();
        db.finish_run(run, ExitStatus::Ok, &serde_json::json!({})).unwrap();
        drop(db);
        // Re-opening applies no migration twice.
        let db = Db::open(&p).unwrap();
        let status: String =
            db.conn().query_row("SELECT status FROM runs", [], |r| r.get(0)).unwrap();
        assert_eq!(status, "ok");
        // The audit log is append-only.
        assert!(db.conn().execute("DELETE FROM audit_log", []).is_err());
        assert!(db.conn().execute("UPDATE audit_log SET actor = 'x'", []).is_err());
    }

    #[test]
    fn second_lock_is_refused_with_status_4() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let _held = RunLock::acquire(&p).unwrap();
        let err = RunLock::acquire(&p).err().unwrap();
        assert_eq!(crate::exit::status_of(&err), ExitStatus::Locked);
    }
}
