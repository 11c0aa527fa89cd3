//! Ingest: client files (portfolios, payments, contact events) into the system of record.
//!
//! This module owns reading client files in their layouts ([`layout`]), checking every row
//! ([`row`]), applying accepted rows ([`portfolio`], [`payments`], [`contact_events`],
//! contact history in [`contacts`]) and the file-level contract: one transaction per file,
//! idempotence by content hash (`input_files`), a rejects CSV beside the input, counts where
//! rows read = accepted + rejected, and an audit entry per file. It must not print (commands
//! do) and must not change the schema.

pub mod contact_events;
pub mod contacts;
pub mod layout;
pub mod payments;
pub mod portfolio;
pub mod row;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::civil::Date;
use rusqlite::{Transaction, params};
use serde::{Deserialize, Serialize};

use crate::config::{ClientConfig, Config};
use crate::error::{RecordRef, Reject};
use crate::progress::Progress;
use crate::store::Db;

pub use layout::{FieldSpec, Layout, Pii};
pub use row::{Row, RowError};

/// `[ingest]` settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    /// Files at least this large show a progress bar (when stderr is a terminal).
    #[serde(default = "default_progress_min_bytes")]
    pub progress_min_bytes: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { progress_min_bytes: default_progress_min_bytes() }
    }
}

fn default_progress_min_bytes() -> u64 {
    4 << 20
}

/// The kinds of client file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    /// Placements and updates of accounts (one client per file).
    Portfolio,
    /// Payments, adjustments and reversals.
    Payments,
    /// Returned mail, bad phones, letters, conversations, recalls, deceased, bankruptcy.
    ContactEvents,
}

impl FileKind {
    /// The name used in `input_files.kind`, messages and layouts.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Portfolio => "portfolio",
            FileKind::Payments => "payments",
            FileKind::ContactEvents => "contact_events",
        }
    }

    /// The canonical fields of this kind, in index order.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            FileKind::Portfolio => portfolio::FIELDS,
            FileKind::Payments => payments::FIELDS,
            FileKind::ContactEvents => contact_events::FIELDS,
        }
    }
}

/// Declares the canonical fields of a file kind: `FIELDS` (specs, in order) and one `usize`
/// constant per field.
macro_rules! fields {
    ($( $c:ident = ($n:literal, $req:expr, $pii:expr) ),* $(,)?) => {
        /// Canonical fields of this file kind, in index order.
        pub const FIELDS: &[$crate::ingest::FieldSpec] = &[
            $($crate::ingest::FieldSpec { name: $n, required: $req, pii: $pii }),*
        ];
        #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
        #[derive(Clone, Copy)]
        #[repr(usize)]
        enum FieldIdx { $($c),* }
        $(#[allow(dead_code)] const $c: usize = FieldIdx::$c as usize;)*
    };
}
pub(crate) use fields;

/// What an accepted row did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applied {
    /// A new account (or payment, or event) was stored.
    Created,
    /// An existing account changed.
    Updated,
    /// Nothing changed (the same values, or a row already recorded).
    Unchanged,
}

/// Everything a row handler needs besides the row.
pub struct FileCtx<'a> {
    /// The file's name (for causes: `<kind>:<name>:<line>`).
    pub file_name: String,
    /// Business date.
    pub as_of: Date,
    /// Run id.
    pub run_id: i64,
    /// Event timestamp (one per file).
    pub at: String,
    /// `input_files.id` of this file.
    pub input_file_id: i64,
    /// The configuration (clients).
    pub config: &'a Config,
}

/// Applies one kind of row. Row checks come before any write, so a rejected row leaves
/// nothing behind.
pub trait RowHandler {
    /// Checks and applies one row. The outer error is fatal (database failure); the inner
    /// one rejects the row.
    fn apply(
        &mut self,
        tx: &Transaction<'_>,
        row: &Row<'_>,
        line: u64,
        ctx: &FileCtx<'_>,
    ) -> anyhow::Result<Result<Applied, RowError>>;
}

/// What to ingest.
pub struct Request<'a> {
    /// Kind of file.
    pub kind: FileKind,
    /// The input file.
    pub path: &'a Path,
    /// Its layout.
    pub layout: &'a Layout,
    /// Portfolio files: the client (ID and table).
    pub client: Option<(&'a str, &'a ClientConfig)>,
    /// Business date (first/last seen of contact data).
    pub as_of: Date,
    /// Run id (the caller began the run).
    pub run_id: i64,
    /// Progress bars.
    pub progress: Progress,
}

/// The outcome of one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileReport {
    /// Kind of file.
    pub kind: String,
    /// Input path as given.
    pub path: PathBuf,
    /// Client, for portfolio files.
    pub client: Option<String>,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
    /// When the same bytes were already ingested: that `input_files` id (nothing changed).
    pub already_ingested: Option<i64>,
    /// Data rows read (header excluded).
    pub rows_read: u64,
    /// Rows accepted (= created + updated + unchanged).
    pub accepted: u64,
    /// Rows rejected.
    pub rejected: u64,
    /// Accepted rows that created a record.
    pub created: u64,
    /// Accepted rows that changed an existing account.
    pub updated: u64,
    /// Accepted rows that changed nothing.
    pub unchanged: u64,
    /// Rejects by error code.
    pub rejects_by_code: BTreeMap<String, u64>,
    /// The rejects CSV, when rows were rejected.
    pub rejects_path: Option<PathBuf>,
}

/// The rejects file of `input`: `<stem>.rejects.csv` beside it.
pub fn rejects_path(input: &Path) -> PathBuf {
    let stem = input.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    input.with_file_name(format!("{stem}.rejects.csv"))
}

/// Registers the configured clients in the `clients` table (insert or refresh).
pub fn sync_clients(db: &Db, config: &Config) -> anyhow::Result<()> {
    let mut stmt = db.conn().prepare(
        "INSERT INTO clients (id, name, kind) VALUES (?1, ?2, ?3)
         ON CONFLICT(id) DO UPDATE SET name = excluded.name, kind = excluded.kind",
    )?;
    for (id, c) in &config.raw.clients {
        stmt.execute(params![id, c.name, c.kind.as_str()])?;
    }
    Ok(())
}

/// Ingests one file: skips it when the same bytes were ingested before; otherwise reads it
/// row by row in one transaction, stores the accepted rows, writes the rejects CSV beside it
/// and records the file in `input_files` and the audit log.
pub fn ingest_file(db: &mut Db, config: &Config, req: &Request<'_>) -> anyhow::Result<FileReport> {
    let path = req.path;
    let mut report = FileReport {
        kind: req.kind.as_str().to_string(),
        path: path.to_path_buf(),
        client: req.client.map(|(id, _)| id.to_string()),
        ..FileReport::default()
    };
    report.sha256 =
        crate::fsutil::sha256_file(path).with_context(|| format!("reading {}", path.display()))?;
    if let Some(id) = db.input_file_seen(req.kind.as_str(), &report.sha256)? {
        report.already_ingested = Some(id);
        db.audit(
            Some(req.run_id),
            &crate::store::actor(),
            "ingest.skip",
            Some(&format!("file:{}", path.display())),
            &serde_json::json!({"kind": req.kind.as_str(), "sha256": report.sha256, "same_as_input_file": id}),
        )?;
        return Ok(report);
    }
    sync_clients(db, config)?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .delimiter(req.layout.delimiter_byte())
        .from_reader(BufReader::with_capacity(1 << 16, file));
    let header: Vec<String> = rdr
        .byte_headers()
        .with_context(|| format!("reading the header of {}", path.display()))?
        .iter()
        .map(|h| String::from_utf8_lossy(h).trim().to_string())
        .collect();
    let resolved = req
        .layout
        .resolve(&header)
        .map_err(|m| anyhow::anyhow!("{}: {m} (layout expects {})", path.display(), mapped(req)))?;

    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let rejects = rejects_path(path);
    let portfolio_client = match req.kind {
        FileKind::Portfolio => {
            Some(req.client.ok_or_else(|| anyhow::anyhow!("a portfolio file needs a client"))?)
        }
        FileKind::Payments | FileKind::ContactEvents => None,
    };
    let progress = if size >= config.raw.ingest.progress_min_bytes {
        req.progress.bytes(size, &file_name)
    } else {
        indicatif::ProgressBar::hidden()
    };

    // A 128 MiB page cache keeps the indexes of a large portfolio in memory (bounded: the
    // cache does not grow with the file).
    db.conn().pragma_update(None, "cache_size", -131072)?;
    // Plans must not depend on bound values: otherwise SQLite re-prepares a lookup on every
    // row (STAT4 builds), which costs a fifth of the ingest time.
    db.conn().set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    let tx = db.conn_mut().transaction()?;
    tx.execute(
        "INSERT INTO input_files (kind, client_id, path, sha256, run_id, rows_read, accepted,
                                  rejected, completed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 0, 0, 0, ?6)",
        params![
            req.kind.as_str(),
            report.client,
            path.display().to_string(),
            report.sha256,
            req.run_id,
            crate::store::now_rfc3339()
        ],
    )?;
    let ctx = FileCtx {
        file_name,
        as_of: req.as_of,
        run_id: req.run_id,
        at: crate::store::now_rfc3339(),
        input_file_id: tx.last_insert_rowid(),
        config,
    };
    // Handlers prepare their statements once, on this file's transaction.
    let mut handler: Box<dyn RowHandler + '_> = match (req.kind, portfolio_client) {
        (FileKind::Portfolio, Some((id, client))) => {
            Box::new(portfolio::Handler::new(id, client, &tx, &ctx)?)
        }
        (FileKind::Portfolio, None) => anyhow::bail!("a portfolio file needs a client"),
        (FileKind::Payments, _) => Box::new(payments::Handler),
        (FileKind::ContactEvents, _) => Box::new(contact_events::Handler),
    };

    crate::fsutil::write_atomic(&rejects, |w| {
        let mut out = csv::WriterBuilder::new().flexible(false).from_writer(w);
        let mut out_header = header.clone();
        out_header.extend(["line", "column", "error_code", "error_message"].map(String::from));
        out.write_record(&out_header)?;
        let mut raw = csv::ByteRecord::new();
        while rdr
            .read_byte_record(&mut raw)
            .with_context(|| format!("reading {}", path.display()))?
        {
            report.rows_read += 1;
            let line = raw.position().map(|p| p.line()).unwrap_or(0);
            if report.rows_read.is_multiple_of(4096) {
                progress.set_position(raw.position().map(|p| p.byte()).unwrap_or(0));
            }
            let outcome = if raw.len() != header.len() {
                Err(RowError::row(
                    "wrong_field_count",
                    format!("{} fields, the header has {}", raw.len(), header.len()),
                ))
            } else {
                match csv::StringRecord::from_byte_record(std::mem::take(&mut raw)) {
                    Ok(r) => {
                        let res = handler.apply(&tx, &Row::new(&r, &resolved), line, &ctx)?;
                        raw = r.into_byte_record();
                        res
                    }
                    Err(e) => {
                        raw = e.into_byte_record();
                        let col = e_field(&raw, &header);
                        Err(RowError {
                            column: col,
                            code: crate::error::ErrorCode("invalid_encoding"),
                            message: "field is not valid UTF-8".to_string(),
                        })
                    }
                }
            };
            match outcome {
                Ok(a) => {
                    report.accepted += 1;
                    match a {
                        Applied::Created => report.created += 1,
                        Applied::Updated => report.updated += 1,
                        Applied::Unchanged => report.unchanged += 1,
                    }
                }
                Err(e) => {
                    report.rejected += 1;
                    *report.rejects_by_code.entry(e.code.as_str().to_string()).or_default() += 1;
                    let mut at = RecordRef::new(path, report.rows_read, line);
                    at.column = e.column.clone();
                    let reject = Reject { at, code: e.code, message: e.message.clone() };
                    tracing::debug!(code = %reject.code, "rejected: {reject}");
                    // A row with the wrong number of fields may have its values shifted out
                    // of their columns: every cell that looks like an SSN or a date is masked.
                    let shifted = raw.len() != header.len();
                    let mut fields: Vec<String> = (0..header.len())
                        .map(|i| {
                            let v = raw.get(i).map(String::from_utf8_lossy).unwrap_or_default();
                            match resolved.sensitive.get(i) {
                                _ if shifted => mask_lookalike(&v, resolved.date_format),
                                Some(pii) if *pii != Pii::No => pii.mask(&v),
                                _ => v.into_owned(),
                            }
                        })
                        .collect();
                    fields.push(line.to_string());
                    fields.push(e.column.clone().unwrap_or_default());
                    fields.push(e.code.as_str().to_string());
                    fields.push(e.message.clone());
                    out.write_record(&fields)?;
                }
            }
        }
        out.flush()?;
        Ok(())
    })?;
    progress.finish_and_clear();
    if report.rejected == 0 {
        std::fs::remove_file(&rejects)
            .with_context(|| format!("removing empty {}", rejects.display()))?;
    } else {
        report.rejects_path = Some(rejects.clone());
    }
    tx.execute(
        "UPDATE input_files SET rows_read = ?1, accepted = ?2, rejected = ?3, rejects_path = ?4,
                                completed_at = ?5
         WHERE id = ?6",
        params![
            report.rows_read as i64,
            report.accepted as i64,
            report.rejected as i64,
            report.rejects_path.as_ref().map(|p| p.display().to_string()),
            crate::store::now_rfc3339(),
            ctx.input_file_id
        ],
    )?;
    tx.execute(
        "INSERT INTO audit_log (at, run_id, actor, action, subject, detail)
         VALUES (?1, ?2, ?3, 'ingest.file', ?4, ?5)",
        params![
            crate::store::now_rfc3339(),
            req.run_id,
            crate::store::actor(),
            format!("file:{}", path.display()),
            serde_json::json!({
                "kind": req.kind.as_str(),
                "client": report.client,
                "sha256": report.sha256,
                "rows_read": report.rows_read,
                "accepted": report.accepted,
                "rejected": report.rejected,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
            })
            .to_string()
        ],
    )?;
    drop(handler);
    tx.commit().with_context(|| format!("committing {}", path.display()))?;
    Ok(report)
}

/// The column names a layout maps, for the missing-column message.
fn mapped(req: &Request<'_>) -> String {
    let cols: Vec<&str> = req.layout.columns.values().map(String::as_str).collect();
    cols.join(", ")
}

/// Masks a cell of a shifted row when it looks like an SSN (nine digits) or a date.
fn mask_lookalike(v: &str, format: crate::dates::DateFormat) -> String {
    let digits = v.chars().filter(char::is_ascii_digit).count();
    let ssn_like = digits == 9 && v.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    if ssn_like {
        crate::pii::mask_ssn(v)
    } else if format.parse(v).is_ok() || crate::dates::DateFormat::Iso.parse(v).is_ok() {
        crate::pii::mask_dob(v)
    } else {
        v.to_string()
    }
}

/// The column of the first field that is not UTF-8.
fn e_field(raw: &csv::ByteRecord, header: &[String]) -> Option<String> {
    raw.iter().position(|f| std::str::from_utf8(f).is_err()).and_then(|i| header.get(i).cloned())
}

/// A file to ingest as named on the command line or in `[inputs]`.
pub struct Source<'a> {
    /// Kind of file.
    pub kind: FileKind,
    /// The file.
    pub path: &'a Path,
    /// Portfolio files: the client ID (may be omitted when one client is configured).
    pub client: Option<&'a str>,
    /// Layout override (`default` or a mapping file); otherwise the client's layout.
    pub layout: Option<&'a str>,
}

/// Ingests a file, resolving a portfolio's client and layout from the configuration. Used by
/// both `skiptrace ingest` and the nightly batch.
pub fn ingest_configured(
    db: &mut Db,
    config: &Config,
    src: &Source<'_>,
    as_of: Date,
    run_id: i64,
    progress: Progress,
) -> anyhow::Result<FileReport> {
    let kind = src.kind;
    let client = match (kind, src.client) {
        (FileKind::Portfolio, Some(id)) => Some((id, config.client(id)?)),
        (FileKind::Portfolio, None) => {
            let mut it = config.raw.clients.iter();
            match (it.next(), it.next()) {
                (Some((id, c)), None) => Some((id.as_str(), c)),
                _ => {
                    return Err(crate::error::ConfigError(
                        "a portfolio file needs --client ID (the config has no single client)"
                            .to_string(),
                    )
                    .into());
                }
            }
        }
        _ => None,
    };
    let spec = match (src.layout, client) {
        (Some(l), _) => l.to_string(),
        (None, Some((_, c))) => c.layout.clone(),
        (None, None) => "default".to_string(),
    };
    let layout = Layout::load(&spec, &config.base_dir, kind)?;
    let req = Request { kind, path: src.path, layout: &layout, client, as_of, run_id, progress };
    ingest_file(db, config, &req)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dates::DateFormat;

    #[test]
    fn schema_still_refuses_unknown_states() {
        // The value checks of the tables ingest writes per row are spelled without IN lists
        // (speed); they must refuse the same values.
        let db = Db::open_in_memory().unwrap();
        let c = db.conn();
        c.execute("INSERT INTO consumers (surname, first_name) VALUES ('A', 'B')", []).unwrap();
        c.execute("INSERT INTO clients (id, name, kind) VALUES ('C', 'C', 'agency')", []).unwrap();
        let bad_bk = "UPDATE consumers SET bankruptcy_status = 'filed' WHERE id = 1";
        assert!(c.execute(bad_bk, []).is_err());
        c.execute("UPDATE consumers SET bankruptcy_status = 'petition' WHERE id = 1", []).unwrap();
        c.execute("UPDATE consumers SET bankruptcy_status = NULL WHERE id = 1", []).unwrap();
        for (table, cols) in [
            (
                "addresses",
                "(consumer_id, line1, city, state, zip, source, first_seen, last_seen, status) VALUES (1, 'L', 'C', 'TX', '78701', 's', 'd', 'd', ?1)",
            ),
            (
                "phones",
                "(consumer_id, number, source, first_seen, last_seen, status) VALUES (1, ?1, 's', 'd', 'd', ?1)",
            ),
            (
                "emails",
                "(consumer_id, address, source, first_seen, last_seen, status) VALUES (1, ?1, 's', 'd', 'd', ?1)",
            ),
        ] {
            let sql = format!("INSERT INTO {table} {cols}");
            assert!(c.execute(&sql, ["gone"]).is_err(), "{table} took status gone");
            c.execute(&sql, ["candidate"]).unwrap();
        }
        let account = "INSERT INTO accounts (client_id, account_number, consumer_id, account_type,
            original_creditor, creditor_class, placed_date, placed_amount, current_balance,
            amount_past_due, status) VALUES ('C', ?1, 1, '48', 'O', '01', 'd', '1', '1', '1', ?2)";
        assert!(c.execute(account, ["A1", "charged_off"]).is_err());
        c.execute(account, ["A1", "settled"]).unwrap();
        let payment = "INSERT INTO payments (account_id, kind, posted_date, amount, reference)
            VALUES (1, ?1, 'd', '1', ?1)";
        assert!(c.execute(payment, ["refund"]).is_err());
        c.execute(payment, ["reversal"]).unwrap();
    }

    #[test]
    fn rejects_file_sits_beside_the_input() {
        assert_eq!(rejects_path(Path::new("in/p.csv")), PathBuf::from("in/p.rejects.csv"));
        assert_eq!(rejects_path(Path::new("p")), PathBuf::from("p.rejects.csv"));
    }

    #[test]
    fn shifted_cells_that_look_like_ssns_or_dates_are_masked() {
        assert_eq!(mask_lookalike("123-45-6789", DateFormat::Iso), "***-**-6789");
        assert_eq!(mask_lookalike("123456789", DateFormat::Iso), "***-**-6789");
        assert_eq!(mask_lookalike("1980-03-07", DateFormat::Iso), "1980-**-**");
        assert_eq!(mask_lookalike("03/07/1980", DateFormat::Us), "**/**/1980");
        assert_eq!(mask_lookalike("1980-03-07", DateFormat::Us), "1980-**-**");
        for keep in ["SMITH", "1250.00", "$1,250.00", "(217) 555-0100", "62704"] {
            assert_eq!(mask_lookalike(keep, DateFormat::Iso), keep);
        }
    }
}
