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
mod ssn_lookup;

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
    /// A portfolio file of at least this many rows (estimated from its size, 128 bytes a
    /// row) into a system of record with no more consumers than the file has rows rebuilds
    /// the SSN index once, in one sort, instead of updating it row by row.
    #[serde(default = "default_bulk_min_rows")]
    pub bulk_min_rows: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            progress_min_bytes: default_progress_min_bytes(),
            bulk_min_rows: default_bulk_min_rows(),
        }
    }
}

fn default_progress_min_bytes() -> u64 {
    4 << 20
}

fn default_bulk_min_rows() -> u64 {
    1 << 16
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

    // A 128 MiB page cache keeps the indexes of a large portfolio in memory (bounded: the
    // cache does not grow with the file).
    db.conn().pragma_update(None, "cache_size", -131072)?;
    // Plans must not depend on bound values: otherwise SQLite re-prepares a lookup on every
    // row (STAT4 builds), which costs a fifth of the ingest time.
    db.conn().set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    // Foreign keys are not enforced by SQLite during the file's transaction: every parent a
    // row refers to is one this writer has just inserted or looked up in the same
    // transaction (consumers, accounts, the client row synced above, this run, this file).
    // Enforcing them cost an eighth of the writer's instructions (a parent look-up per
    // reference and a statement journal per insert). The pragma only takes effect outside a
    // transaction; it is restored after the commit or the rollback, also on error.
    let fk_before: bool = db.conn().pragma_query_value(None, "foreign_keys", |r| r.get(0))?;
    db.conn().pragma_update(None, "foreign_keys", false)?;
    let stored = store_rows(db, config, req, report, rdr, header, resolved, size);
    let restored = db
        .conn()
        .pragma_update(None, "foreign_keys", fk_before)
        .context("restoring foreign-key enforcement");
    let report = stored?;
    restored?;
    Ok(report)
}

/// Stores the rows of a file whose header is resolved, in one transaction (committed when
/// every row is accepted or rejected; rolled back on any error).
#[allow(clippy::too_many_arguments)]
fn store_rows(
    db: &mut Db,
    config: &Config,
    req: &Request<'_>,
    mut report: FileReport,
    mut rdr: csv::Reader<BufReader<File>>,
    header: Vec<String>,
    resolved: layout::Resolved,
    size: u64,
) -> anyhow::Result<FileReport> {
    let path = req.path;
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
    let mut writer = match (req.kind, portfolio_client) {
        (FileKind::Portfolio, Some((id, client))) => {
            let mut h = portfolio::Handler::new(id, client, &tx, &ctx)?;
            // Rows of a portfolio take about 100 to 200 bytes.
            h.expect_rows(&tx, size / 128, config.raw.ingest.bulk_min_rows)?;
            Writer::Portfolio(Box::new(h))
        }
        (FileKind::Portfolio, None) => anyhow::bail!("a portfolio file needs a client"),
        (FileKind::Payments, _) => Writer::Rows(Box::new(payments::Handler)),
        (FileKind::ContactEvents, _) => Writer::Rows(Box::new(contact_events::Handler)),
    };

    let kind = req.kind;
    crate::fsutil::write_atomic(&rejects, |w| {
        let mut out = csv::WriterBuilder::new().flexible(false).from_writer(w);
        let mut out_header = header.clone();
        out_header.extend(["line", "column", "error_code", "error_message"].map(String::from));
        out.write_record(&out_header)?;
        let reader =
            Reader { path, kind, header: &header, resolved: &resolved, progress: &progress };
        // The reader thread reads, checks and normalises rows in file order; this thread
        // stores them in the same order, so counts and the rejects file are as if sequential.
        pipelined(
            |send| reader.run(&mut rdr, send),
            |batch: &[Item]| {
                // New placements' rows are inserted many per statement, before the batch
                // goes back to the reader.
                let mut pending = portfolio::Pending::default();
                for item in batch {
                    report.rows_read += 1;
                    let outcome = match &item.outcome {
                        Ok(Prepared::Placement(p)) => match &mut writer {
                            Writer::Portfolio(h) => {
                                h.apply_queued(&tx, p, item.line, &ctx, &mut pending)?
                            }
                            Writer::Rows(_) => anyhow::bail!("a portfolio row outside a portfolio"),
                        },
                        Ok(Prepared::Record(r)) => match &mut writer {
                            Writer::Rows(h) => {
                                h.apply(&tx, &Row::new(r, &resolved), item.line, &ctx)?
                            }
                            Writer::Portfolio(h) => {
                                // Stored at once: earlier queued rows first.
                                h.flush(&mut pending)?;
                                h.apply(&tx, &Row::new(r, &resolved), item.line, &ctx)?
                            }
                        },
                        Err(e) => Err(e.clone()),
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
                            *report
                                .rejects_by_code
                                .entry(e.code.as_str().to_string())
                                .or_default() += 1;
                            let mut at = RecordRef::new(path, item.record, item.line);
                            at.column = e.column.clone();
                            let reject = Reject { at, code: e.code, message: e.message.clone() };
                            tracing::debug!(code = %reject.code, "rejected: {reject}");
                            let mut fields = match (&item.cells, &item.outcome) {
                                (Some(c), _) => c.clone(),
                                (None, Ok(Prepared::Record(r))) => {
                                    reject_cells(r.as_byte_record(), header.len(), &resolved)
                                }
                                (None, _) => anyhow::bail!(
                                    "{}: line {}: rejected row without its cells",
                                    path.display(),
                                    item.line
                                ),
                            };
                            fields.push(item.line.to_string());
                            fields.push(e.column.clone().unwrap_or_default());
                            fields.push(e.code.as_str().to_string());
                            fields.push(e.message.clone());
                            out.write_record(&fields)?;
                        }
                    }
                }
                if let Writer::Portfolio(h) = &mut writer {
                    h.flush(&mut pending)?;
                }
                Ok(())
            },
        )?;
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
    // What the portfolio writer set aside for the file (the SSN index) is restored in the
    // same transaction, before the commit.
    if let Writer::Portfolio(h) = &mut writer {
        h.finish(&tx)?;
    }
    drop(writer);
    tx.commit().with_context(|| format!("committing {}", path.display()))?;
    Ok(report)
}

/// The row handler of the writer thread.
enum Writer<'c> {
    /// Portfolio rows arrive checked ([`Prepared::Placement`]).
    Portfolio(Box<portfolio::Handler<'c>>),
    /// Other kinds check and apply a row on the writer ([`Prepared::Record`]).
    Rows(Box<dyn RowHandler + 'c>),
}

/// A row as the reader thread hands it to the writer.
pub enum Prepared {
    /// A checked portfolio row, every value in the text it is stored as.
    Placement(Box<portfolio::Placement>),
    /// A row checked and applied on the writer (payments, contact events).
    Record(csv::StringRecord),
}

/// One data row in file order, with its position.
struct Item {
    /// Ordinal of the data row (header excluded), from 1.
    record: u64,
    /// Line of the row in the file.
    line: u64,
    /// The prepared row, or the reason the reader rejected it.
    outcome: Result<Prepared, RowError>,
    /// The row's cells as the rejects file shows them (masked), kept only for rows that are
    /// rejected or that the writer may still reject.
    cells: Option<Vec<String>>,
}

/// Rows per message between the reader and the writer.
const BATCH: usize = 1024;
/// Messages in flight: bounds the memory of the pipeline (a few thousand rows).
const IN_FLIGHT: usize = 4;

/// The reader side of a file: reads records, checks and normalises rows, in batches.
struct Reader<'a> {
    path: &'a Path,
    kind: FileKind,
    header: &'a [String],
    resolved: &'a layout::Resolved,
    progress: &'a indicatif::ProgressBar,
}

impl Reader<'_> {
    /// Reads every record of `rdr` and passes batches of prepared rows to `send`; stops early
    /// when `send` returns `None` (the writer stopped).
    fn run<R: std::io::Read>(
        &self,
        rdr: &mut csv::Reader<R>,
        send: &mut Send<'_, Item>,
    ) -> anyhow::Result<()> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut record = 0u64;
        let mut raw = csv::ByteRecord::new();
        loop {
            let more = rdr.read_byte_record(&mut raw).with_context(|| {
                format!("reading {} after data row {record}", self.path.display())
            })?;
            if !more {
                break;
            }
            record += 1;
            let line = raw.position().map(|p| p.line()).unwrap_or(0);
            if record.is_multiple_of(4096) {
                self.progress.set_position(raw.position().map(|p| p.byte()).unwrap_or(0));
            }
            batch.push(self.prepare(std::mem::take(&mut raw), record, line));
            if batch.len() == BATCH {
                match send(batch) {
                    Some(empty) => batch = empty,
                    None => return Ok(()),
                }
            }
        }
        if !batch.is_empty() {
            send(batch);
        }
        Ok(())
    }

    /// Checks one record.
    fn prepare(&self, raw: csv::ByteRecord, record: u64, line: u64) -> Item {
        let width = self.header.len();
        let rejected = |raw: &csv::ByteRecord, e: RowError| Item {
            record,
            line,
            outcome: Err(e),
            cells: Some(reject_cells(raw, width, self.resolved)),
        };
        if raw.len() != width {
            let e = RowError::row(
                "wrong_field_count",
                format!("{} fields, the header has {}", raw.len(), width),
            );
            return rejected(&raw, e);
        }
        let rec = match csv::StringRecord::from_byte_record(raw) {
            Ok(r) => r,
            Err(e) => {
                let raw = e.into_byte_record();
                let e = RowError {
                    column: e_field(&raw, self.header),
                    code: crate::error::ErrorCode("invalid_encoding"),
                    message: "field is not valid UTF-8".to_string(),
                };
                return rejected(&raw, e);
            }
        };
        match self.kind {
            FileKind::Portfolio => match portfolio::check(&Row::new(&rec, self.resolved)) {
                Ok(p) => {
                    let cells = p
                        .may_be_rejected()
                        .then(|| reject_cells(rec.as_byte_record(), width, self.resolved));
                    Item { record, line, outcome: Ok(Prepared::Placement(Box::new(p))), cells }
                }
                Err(e) => rejected(rec.as_byte_record(), e),
            },
            FileKind::Payments | FileKind::ContactEvents => {
                Item { record, line, outcome: Ok(Prepared::Record(rec)), cells: None }
            }
        }
    }
}

/// The cells of a rejected row as the rejects file shows them: SSN and DOB columns masked;
/// when the row has the wrong number of fields (values may be shifted out of their
/// columns), every cell that looks like an SSN or a date is masked.
fn reject_cells(raw: &csv::ByteRecord, width: usize, resolved: &layout::Resolved) -> Vec<String> {
    let shifted = raw.len() != width;
    let mut fields = Vec::with_capacity(width + 4);
    for i in 0..width {
        let v = raw.get(i).map(String::from_utf8_lossy).unwrap_or_default();
        fields.push(match resolved.sensitive.get(i) {
            _ if shifted => mask_lookalike(&v, resolved.date_format),
            Some(pii) if *pii != Pii::No => pii.mask(&v),
            _ => v.into_owned(),
        });
    }
    fields
}

/// How the reader thread hands a batch to the writer: returns an empty batch to fill next
/// (a recycled one when the writer has given one back), or `None` when the writer stopped.
type Send<'a, U> = dyn FnMut(Vec<U>) -> Option<Vec<U>> + 'a;

/// Runs `produce` on a second thread and `consume` on this one, passing batches over a
/// bounded channel. Consumed batches go back to the producer, which drops their rows: memory
/// is freed by the thread that allocated it (the C allocator trims and refaults its
/// per-thread heaps otherwise) and the batches are reused.
///
/// Returns the consumer's error first, then the producer's; a panic of the producer becomes
/// an error. Never waits forever: when the consumer stops, the producer's `send` returns
/// `None`; when the producer stops (done, error or panic), the consumer's loop ends.
fn pipelined<U: std::marker::Send>(
    produce: impl FnOnce(&mut Send<'_, U>) -> anyhow::Result<()> + std::marker::Send,
    mut consume: impl FnMut(&[U]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<U>>(IN_FLIGHT);
    let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<U>>();
    std::thread::scope(|s| {
        let reader = std::thread::Builder::new()
            .name("ingest-reader".to_string())
            .spawn_scoped(s, move || {
                let mut send = |batch: Vec<U>| {
                    let cap = batch.capacity();
                    tx.send(batch).ok()?;
                    let mut next = None;
                    for mut used in back_rx.try_iter() {
                        used.clear();
                        next.get_or_insert(used);
                    }
                    Some(next.unwrap_or_else(|| Vec::with_capacity(cap)))
                };
                produce(&mut send)
            })
            .context("starting the reader thread")?;
        let mut consumed = Ok(());
        for batch in rx.iter() {
            if let Err(e) = consume(&batch) {
                consumed = Err(e);
                break;
            }
            if let Err(returned) = back_tx.send(batch) {
                // The reader has finished: the batch is dropped here.
                drop(returned.0);
            }
        }
        // Unblocks a reader waiting to send.
        drop(rx);
        let produced = match reader.join() {
            Ok(r) => r,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(anyhow::anyhow!("the reader thread stopped unexpectedly: {what}"))
            }
        };
        consumed?;
        produced
    })
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
    fn foreign_key_enforcement_is_restored_after_a_file_and_after_a_failed_one() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::parse(
            "[clients.C]\nname = \"C\"\nkind = \"agency\"\n",
            &dir.path().join("skiptrace.toml"),
        )
        .unwrap();
        let csv = dir.path().join("p.csv");
        std::fs::write(
            &csv,
            "account_number,original_creditor,creditor_class,placed_date,placed_amount,\
             current_balance,status,surname,first_name,ssn,address1,city,state,zip\n\
             A1,BANK,01,2026-01-02,100,100,open,DOE,JANE,123-45-6789,1 MAIN ST,AUSTIN,TX,78701\n",
        )
        .unwrap();
        let mut db = Db::open(&dir.path().join("t.db")).unwrap();
        let fk = |db: &Db| -> bool {
            db.conn().pragma_query_value(None, "foreign_keys", |r| r.get(0)).unwrap()
        };
        assert!(fk(&db));
        let as_of = jiff::civil::date(2026, 11, 20);
        let run = db.begin_run("test", Some(as_of)).unwrap();
        let layout = Layout::load("default", dir.path(), FileKind::Portfolio).unwrap();
        let client = config.client("C").unwrap();
        let mut req = Request {
            kind: FileKind::Portfolio,
            path: &csv,
            layout: &layout,
            client: None,
            as_of,
            run_id: run,
            progress: Progress::hidden(),
        };
        // Fails inside the file's transaction: nothing stored, enforcement back on.
        let failed = ingest_file(&mut db, &config, &req).unwrap_err();
        assert!(failed.to_string().contains("needs a client"), "{failed}");
        assert!(fk(&db));
        let n: i64 =
            db.conn().query_row("SELECT count(*) FROM input_files", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 0);
        req.client = Some(("C", client));
        let report = ingest_file(&mut db, &config, &req).unwrap();
        assert_eq!((report.accepted, report.created), (1, 1));
        assert!(fk(&db));
        // A database whose connection had enforcement off keeps it off.
        std::fs::write(&csv, std::fs::read_to_string(&csv).unwrap().replace("A1,", "A2,")).unwrap();
        db.conn().pragma_update(None, "foreign_keys", false).unwrap();
        ingest_file(&mut db, &config, &req).unwrap();
        assert!(!fk(&db));
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
    #[test]
    fn pipeline_passes_every_batch_in_order() {
        let mut seen = Vec::new();
        pipelined(
            |send: &mut Send<'_, u32>| {
                let mut batch = Vec::with_capacity(3);
                for i in 0..10 {
                    batch.push(i);
                    if batch.len() == 3 {
                        batch = send(batch).expect("writer running");
                        assert!(batch.is_empty());
                    }
                }
                send(batch);
                Ok(())
            },
            |b: &[u32]| {
                seen.extend_from_slice(b);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn a_reader_panic_or_error_is_an_error_not_a_hang() {
        let panicked = pipelined(
            |send: &mut Send<'_, u32>| {
                send(vec![1]);
                panic!("reader broke");
            },
            |_: &[u32]| Ok(()),
        );
        let msg = format!("{:#}", panicked.unwrap_err());
        assert!(msg.contains("reader thread") && msg.contains("reader broke"), "{msg}");
        let failed = pipelined(
            |_: &mut Send<'_, u32>| Err(anyhow::anyhow!("disk gone")),
            |_: &[u32]| Ok(()),
        );
        assert_eq!(failed.unwrap_err().to_string(), "disk gone");
    }

    #[test]
    fn a_writer_error_stops_the_reader() {
        let stopped = std::sync::atomic::AtomicBool::new(false);
        let r = pipelined(
            |send: &mut Send<'_, u32>| {
                // Far more batches than the channel holds: the reader must learn that the
                // writer stopped instead of blocking.
                for i in 0..10_000 {
                    if send(vec![i]).is_none() {
                        stopped.store(true, std::sync::atomic::Ordering::SeqCst);
                        return Ok(());
                    }
                }
                Ok(())
            },
            |b: &[u32]| if b == [3] { Err(anyhow::anyhow!("database full")) } else { Ok(()) },
        );
        assert_eq!(r.unwrap_err().to_string(), "database full");
        assert!(stopped.load(std::sync::atomic::Ordering::SeqCst));
    }

    /// Gives `ok` bytes, then fails.
    struct Failing<'a> {
        data: &'a [u8],
        ok: usize,
    }

    impl std::io::Read for Failing<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.ok == 0 {
                return Err(std::io::Error::other("device error"));
            }
            let n = buf.len().min(self.ok).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            self.ok -= n;
            Ok(n)
        }
    }

    #[test]
    fn a_read_error_names_the_file_and_the_last_row_read() {
        let layout = Layout::load("default", Path::new("."), FileKind::Payments).unwrap();
        let text = "client_id,account_number,posted_date,amount,kind,reference\n\
                    ACME,A1,2026-01-02,10.00,payment,R1\n\
                    ACME,A2,2026-01-02,10.00,payment,R2\n\
                    ACME,A3,2026-01-02,10.00,payment,R3\n";
        let third = text.find("ACME,A3").unwrap();
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .buffer_capacity(1)
            .from_reader(Failing { data: text.as_bytes(), ok: third + 5 });
        let header: Vec<String> =
            rdr.byte_headers().unwrap().iter().map(|h| String::from_utf8_lossy(h).into()).collect();
        let resolved = layout.resolve(&header).unwrap();
        let progress = indicatif::ProgressBar::hidden();
        let reader = Reader {
            path: Path::new("in/payments.csv"),
            kind: FileKind::Payments,
            header: &header,
            resolved: &resolved,
            progress: &progress,
        };
        let r = pipelined(|send| reader.run(&mut rdr, send), |_: &[Item]| Ok(()));
        let msg = format!("{:#}", r.unwrap_err());
        assert!(msg.contains("in/payments.csv after data row 2"), "{msg}");
        assert!(msg.contains("device error"), "{msg}");
    }
}
