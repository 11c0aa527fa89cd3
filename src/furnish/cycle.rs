//! One reporting cycle, end to end: for each output file (one per bureau, or one shared file)
//! stream the accounts, decide each, write the furnished records through the Metro 2 writer,
//! validate, and then either publish (file renamed into place, snapshots and exclusions
//! committed in the same database transaction) or block (file kept aside as `<name>.blocked`
//! with `<name>.findings.json`, nothing stored).
//!
//! This is the library entry point the nightly batch calls ([`run_cycle`]); the
//! `skiptrace furnish` command is a thin wrapper. It takes no lock and opens no run in the
//! ledger: callers do.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::civil::Date;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::account::{
    Account, DisputeState, RawAccount, for_each_account, for_each_raw_account, load_disputes,
};
use super::record::{FurnishRecord, write_snapshot_record};
use super::report::CycleReport;
use super::rules::{Decision, Exclusion, Gate, RuleContext, decide};
use super::{Bureau, FileMode, FurnishConfig, identification_numbers, m2};
use crate::config::Config;
use crate::error::ConfigError;
use crate::exit::ExitStatus;
use crate::metro2::model::{DataRecord, Header};
use crate::metro2::validate::{Finding, ValidateOptions, Validator};
use crate::metro2::writer::{Writer, WriterOptions};
use crate::store::Db;

/// What to run.
#[derive(Clone, Debug)]
pub struct CycleOptions {
    /// One bureau, or `None` for every configured bureau.
    pub bureau: Option<Bureau>,
    /// Build and validate, but publish nothing and store nothing.
    pub dry_run: bool,
    /// Output directory.
    pub out_dir: PathBuf,
}

/// How one file ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Validated clean and published; snapshots stored.
    Published,
    /// Validation found errors: kept aside, nothing stored.
    Blocked,
    /// Dry run: built and validated, then discarded.
    DryRun,
}

/// One file of a cycle.
#[derive(Clone, Debug)]
pub struct FileOutcome {
    /// Bureau name, or `all`.
    pub label: String,
    /// Where the file is now: the published file, the `.blocked` file, or `None` (dry run).
    pub path: Option<PathBuf>,
    /// Findings JSON beside a blocked file.
    pub findings_path: Option<PathBuf>,
    /// Outcome.
    pub status: FileStatus,
    /// The cycle report.
    pub report: CycleReport,
}

/// The outcome of a cycle.
#[derive(Clone, Debug)]
pub struct CycleOutcome {
    /// Cycle date.
    pub as_of: Date,
    /// One entry per file.
    pub files: Vec<FileOutcome>,
}

impl CycleOutcome {
    /// Exit status: 5 when a file was blocked, 1 when accounts went to the exceptions list
    /// (data errors), else 0.
    pub fn exit_status(&self) -> ExitStatus {
        let mut s = ExitStatus::Ok;
        for f in &self.files {
            if f.status == FileStatus::Blocked {
                s = s.worst(ExitStatus::Blocked);
            }
            if f.report.by_gate.get(Gate::DataError.code()).is_some_and(|n| *n > 0) {
                s = s.worst(ExitStatus::Rejects);
            }
        }
        s
    }

    /// JSON summary (for the run ledger and `--format json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "as_of": self.as_of.to_string(),
            "files": self.files.iter().map(|f| serde_json::json!({
                "bureau": f.label,
                "status": f.status,
                "path": f.path.as_ref().map(|p| p.display().to_string()),
                "findings": f.findings_path.as_ref().map(|p| p.display().to_string()),
                "report": f.report.to_json(),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The file name of a cycle file: `metro2-<bureau>-<YYYYMMDD>.txt`.
pub fn file_name(label: &str, as_of: Date) -> String {
    format!("metro2-{label}-{}.txt", as_of.strftime("%Y%m%d"))
}

/// Runs a furnishing cycle for `as_of`.
pub fn run_cycle(
    db: &mut Db,
    config: &Config,
    as_of: Date,
    opts: &CycleOptions,
) -> anyhow::Result<CycleOutcome> {
    let cfg = config
        .raw
        .furnish
        .as_ref()
        .ok_or_else(|| ConfigError("furnish needs a [furnish] section in the config".into()))?;
    check_identity(cfg)?;
    let active = cfg.active_bureaus();
    if active.is_empty() {
        return Err(ConfigError(
            "[furnish] names no bureau: set `bureaus` or [furnish.program_identifiers]".into(),
        )
        .into());
    }
    for b in &active {
        if cfg.program_identifiers.get(*b).is_none() {
            return Err(ConfigError(format!(
                "[furnish.program_identifiers] has no identifier for {b}"
            ))
            .into());
        }
    }
    let wanted: Vec<Bureau> = match opts.bureau {
        Some(b) if !active.contains(&b) => {
            return Err(ConfigError(format!(
                "bureau {b} is not configured (configured: {})",
                active.iter().map(|b| b.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .into());
        }
        Some(b) => vec![b],
        None => active.clone(),
    };
    let ids = identification_numbers(config);
    let disputes = load_disputes(db.conn(), as_of)?;
    // A cycle reads every account and writes a snapshot for most: a larger page cache (bounded,
    // 64 MiB) keeps SQLite from re-reading and spilling pages; restored afterwards.
    let cache: i64 = db.conn().query_row("PRAGMA cache_size", [], |r| r.get(0))?;
    db.conn().pragma_update(None, "cache_size", CYCLE_CACHE_KIB)?;
    let result = run_files(db, cfg, &ids, &disputes, as_of, opts, &wanted, &active);
    db.conn().pragma_update(None, "cache_size", cache)?;
    result
}

/// Page cache for a cycle, in KiB (SQLite's negative `cache_size`).
const CYCLE_CACHE_KIB: i64 = -65536;

#[allow(clippy::too_many_arguments)]
fn run_files(
    db: &mut Db,
    cfg: &FurnishConfig,
    ids: &BTreeMap<String, String>,
    disputes: &HashMap<i64, DisputeState>,
    as_of: Date,
    opts: &CycleOptions,
    wanted: &[Bureau],
    active: &[Bureau],
) -> anyhow::Result<CycleOutcome> {
    let files: Vec<(String, Vec<Bureau>)> = match cfg.files {
        FileMode::PerBureau => wanted.iter().map(|b| (b.as_str().to_string(), vec![*b])).collect(),
        FileMode::Shared => vec![("all".to_string(), active.to_vec())],
    };
    let mut out = CycleOutcome { as_of, files: Vec::new() };
    for (label, bureaus) in files {
        let header = m2::header(cfg, &bureaus, as_of);
        let f = run_file(db, cfg, ids, disputes, as_of, opts, &label, &header)?;
        out.files.push(f);
    }
    Ok(out)
}

fn check_identity(cfg: &FurnishConfig) -> Result<(), ConfigError> {
    for (key, v) in
        [("reporter_name", &cfg.reporter_name), ("reporter_address", &cfg.reporter_address)]
    {
        if v.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(ConfigError(format!("[furnish] {key} is required to furnish")));
        }
    }
    if let Some(p) = &cfg.reporter_phone {
        crate::normalize::phone10(p)
            .map_err(|e| ConfigError(format!("[furnish] reporter_phone: {e}")))?;
    }
    Ok(())
}

/// At most this many validation findings are listed in a blocked file's findings JSON (all
/// are counted).
const FINDINGS_LISTED: usize = 1000;

fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "severity": f.severity.as_str(),
        "rule": f.rule,
        "record": f.record,
        "account": f.account,
        "segment": f.segment.map(|s| s.as_str()),
        "field": f.field.map(|x| x.name),
        "message": f.message,
    })
}

fn list_findings(listed: &mut Vec<serde_json::Value>, found: &mut Vec<Finding>) {
    for f in found.drain(..) {
        if listed.len() < FINDINGS_LISTED {
            listed.push(finding_json(&f));
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_file(
    db: &mut Db,
    cfg: &FurnishConfig,
    ids: &BTreeMap<String, String>,
    disputes: &HashMap<i64, DisputeState>,
    as_of: Date,
    opts: &CycleOptions,
    label: &str,
    header: &Header,
) -> anyhow::Result<FileOutcome> {
    let name = file_name(label, as_of);
    let final_path = opts.out_dir.join(&name);
    let pending = opts.out_dir.join(format!(".{name}.pending"));
    let mut report = CycleReport::new(&as_of.to_string(), label, &name);
    let mut validator =
        Validator::new(ValidateOptions { as_of: Some(as_of), collection_profile: true });
    let mut found: Vec<Finding> = Vec::new();
    let mut listed: Vec<serde_json::Value> = Vec::new();
    validator.header(header, &mut found);
    list_findings(&mut listed, &mut found);
    let rcx = RuleContext { as_of, config: cfg, identification_numbers: ids };

    // A file database is read on its own connection in a second thread (WAL: it sees the
    // committed prior cycles, not this transaction); an in-memory one on the same connection.
    let read_path = (db.path() != Path::new(":memory:")).then(|| db.path().to_path_buf());
    let tx = db.conn_mut().transaction()?;
    let cycle_id = prepare_cycle(&tx, as_of, label)?;
    let mut trailer_matches = false;
    let mut file_sha = String::new();
    crate::fsutil::write_atomic(&pending, |w| {
        let out = HashingWriter { inner: &mut *w, hash: Sha256::new() };
        let mut writer = Writer::new(out, header, WriterOptions::default())
            .context("writing the Metro 2 header")?;
        let mut snap = tx.prepare(
            "INSERT INTO furnish_snapshots (cycle_id, account_id, cycle_date, bureau,
                account_number, identification_number, account_status, ccc, deleted_by, fields)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        let mut excl = tx.prepare(
            "INSERT INTO furnish_exclusions (cycle_id, account_id, gate, reason)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        let cycle_date = as_of.to_string();
        let mut m2rec = DataRecord::default();
        let mut fields = Vec::with_capacity(1024);
        let mut consume = |item: Item<'_>| -> anyhow::Result<()> {
            match item {
                Item::Exclude { account_id, client_id, account_number, exclusion } => {
                    excl.execute(params![
                        cycle_id,
                        account_id,
                        exclusion.gate.code(),
                        exclusion.reason
                    ])?;
                    report.add_exclusion(
                        client_id,
                        account_number,
                        &exclusion,
                        cfg.report_list_limit,
                    );
                }
                Item::Furnish { rec } => {
                    m2::fill(&mut m2rec, &rec, as_of);
                    if let Err(err) = writer.write(&m2rec) {
                        if let crate::metro2::writer::WriteError::Io(_) = err {
                            return Err(err.into());
                        }
                        // A value the format cannot carry: an exception, never a broken record.
                        let e = Exclusion {
                            gate: Gate::DataError,
                            reason: format!("{}: {}", err.code(), field_message(&err)),
                        };
                        excl.execute(params![cycle_id, rec.account_id, e.gate.code(), e.reason])?;
                        report.add_exclusion(
                            &rec.client_id,
                            &rec.current_account_number,
                            &e,
                            cfg.report_list_limit,
                        );
                        return Ok(());
                    }
                    validator.record(writer.records_written(), &m2rec, &mut found);
                    list_findings(&mut listed, &mut found);
                    // The snapshot is the record's own bytes, masked: no second encoding.
                    write_snapshot_record(writer.last_record(), &mut fields);
                    let fields =
                        std::str::from_utf8(&fields).context("snapshot record is not text")?;
                    snap.execute(params![
                        cycle_id,
                        rec.account_id,
                        cycle_date,
                        label,
                        rec.current_account_number,
                        rec.current_identification_number,
                        rec.status.code(),
                        rec.ccc,
                        rec.deleted_by,
                        fields,
                    ])?;
                    report.add_record(&rec);
                }
            }
            Ok(())
        };
        produce(&tx, read_path.as_deref(), label, as_of, disputes, &rcx, &mut consume)?;
        let (trailer, out) = writer.finish().context("writing the Metro 2 trailer")?;
        file_sha = out.hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        validator.trailer(&trailer, &mut found);
        list_findings(&mut listed, &mut found);
        trailer_matches = trailer_matches_totals(&trailer, &report);
        Ok(())
    })?;
    let summary = validator.into_summary();
    let mut errors = summary.errors;
    let mut by_rule: BTreeMap<String, u64> =
        summary.by_rule.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    if !trailer_matches {
        // The records furnished and the trailer written disagree: never publish.
        errors += 1;
        *by_rule.entry("furnish.trailer_reconciliation".into()).or_default() += 1;
        listed.push(serde_json::json!({
            "severity": "error", "rule": "furnish.trailer_reconciliation",
            "message": "trailer totals do not match the records furnished",
        }));
    }
    report.trailer_matches = trailer_matches;
    report.validation.errors = errors;
    report.validation.warnings = summary.warnings;
    report.validation.by_rule = by_rule.clone();

    if errors > 0 {
        // Blocked: keep the file aside with its findings; store nothing.
        drop(tx);
        report.outcome = "blocked".into();
        let blocked = opts.out_dir.join(format!("{name}.blocked"));
        let findings_path = opts.out_dir.join(format!("{name}.findings.json"));
        publish_rename(&pending, &blocked)?;
        let doc = serde_json::json!({
            "file": name,
            "cycle_date": as_of.to_string(),
            "bureau": label,
            "errors": errors,
            "warnings": summary.warnings,
            "by_rule": by_rule,
            "findings": listed,
        });
        crate::fsutil::write_atomic(&findings_path, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            w.write_all(b"\n")?;
            Ok(())
        })?;
        return Ok(FileOutcome {
            label: label.to_string(),
            path: Some(blocked),
            findings_path: Some(findings_path),
            status: FileStatus::Blocked,
            report,
        });
    }
    if opts.dry_run {
        drop(tx);
        std::fs::remove_file(&pending)
            .with_context(|| format!("removing {}", pending.display()))?;
        report.outcome = "dry_run".into();
        return Ok(FileOutcome {
            label: label.to_string(),
            path: None,
            findings_path: None,
            status: FileStatus::DryRun,
            report,
        });
    }
    report.outcome = "published".into();
    // The SHA-256 of the bytes written, computed while writing (the file is not read back).
    let sha = file_sha;
    tx.execute(
        "UPDATE furnish_cycles SET file_path = ?1, file_sha256 = ?2, status = 'published',
            records = ?3, report = ?4, created_at = ?5 WHERE id = ?6",
        params![
            final_path.display().to_string(),
            sha,
            report.furnished as i64,
            report.to_json().to_string(),
            crate::store::now_rfc3339(),
            cycle_id,
        ],
    )?;
    publish_rename(&pending, &final_path)?;
    tx.commit().context("storing the cycle's snapshots")?;
    // A blocked attempt of this cycle is superseded by the published file.
    for stale in [format!("{name}.blocked"), format!("{name}.findings.json")] {
        let p = opts.out_dir.join(stale);
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(FileOutcome {
        label: label.to_string(),
        path: Some(final_path),
        findings_path: None,
        status: FileStatus::Published,
        report,
    })
}

/// Creates (or resets, on a re-run) the cycle row and empties its snapshots and exclusions,
/// inside the caller's transaction. Returns the cycle id.
fn prepare_cycle(tx: &rusqlite::Transaction<'_>, as_of: Date, label: &str) -> anyhow::Result<i64> {
    let existing: Option<i64> = tx
        .query_row(
            "SELECT id FROM furnish_cycles WHERE cycle_date = ?1 AND bureau = ?2",
            params![as_of.to_string(), label],
            |r| r.get(0),
        )
        .optional()?;
    let id = match existing {
        Some(id) => {
            tx.execute("DELETE FROM furnish_snapshots WHERE cycle_id = ?1", [id])?;
            tx.execute("DELETE FROM furnish_exclusions WHERE cycle_id = ?1", [id])?;
            id
        }
        None => {
            tx.execute(
                "INSERT INTO furnish_cycles (cycle_date, bureau, status, records, report, created_at)
                 VALUES (?1, ?2, 'published', 0, '{}', ?3)",
                params![as_of.to_string(), label, crate::store::now_rfc3339()],
            )?;
            tx.last_insert_rowid()
        }
    };
    Ok(id)
}

/// One decided account on its way from the reader to the file and the database.
enum Item<'a> {
    /// Not furnished.
    Exclude { account_id: i64, client_id: &'a str, account_number: &'a str, exclusion: Exclusion },
    /// Furnished (the Metro 2 form and the snapshot are made by the writer side, which has
    /// less to do than the reader).
    Furnish { rec: Box<FurnishRecord> },
}

fn item<'a>(acc: &'a Account, rcx: &RuleContext<'_>) -> Item<'a> {
    match decide(acc, rcx) {
        Decision::Exclude(exclusion) => Item::Exclude {
            account_id: acc.id,
            client_id: &acc.client_id,
            account_number: &acc.account_number,
            exclusion,
        },
        Decision::Furnish(rec) => Item::Furnish { rec },
    }
}

/// Accounts per batch handed from the reader thread to the writer.
const BATCH: usize = 512;
/// Batches in flight (bounds memory).
const BATCHES_IN_FLIGHT: usize = 4;

/// A batch of accounts handed from the reader thread to the writer: `rows[..len]` are
/// filled; the rest are buffers kept for reuse.
#[derive(Default)]
struct Batch {
    rows: Vec<RawAccount>,
    len: usize,
}

/// Streams decided accounts, in file order, to `consume`. With `read_path`, a second thread
/// with its own read-only connection runs the queries and copies the rows out of SQLite
/// (the part that cannot be split), and this thread parses them, runs the rules and
/// consumes (writing, validating, inserting): the two then carry similar loads. Batches go
/// back to the reader once consumed, so their buffers are reused and memory stays at
/// [`BATCHES_IN_FLIGHT`] batches. Without `read_path` (an in-memory database) everything
/// runs on `conn` in this thread.
fn produce(
    conn: &rusqlite::Connection,
    read_path: Option<&Path>,
    label: &str,
    as_of: Date,
    disputes: &HashMap<i64, DisputeState>,
    rcx: &RuleContext<'_>,
    consume: &mut dyn FnMut(Item<'_>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let Some(path) = read_path else {
        return for_each_account(conn, label, as_of, disputes, |acc| consume(item(&acc, rcx)));
    };
    let (send, recv) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT);
    // Consumed batches on their way back (never more than are in flight, so sends never
    // block).
    let (give_back, take_back) = std::sync::mpsc::sync_channel::<Batch>(BATCHES_IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || -> anyhow::Result<()> {
            let rconn = rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                    | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )
            .with_context(|| format!("opening {} for reading", path.display()))?;
            rconn.busy_timeout(std::time::Duration::from_secs(5))?;
            rconn.pragma_update(None, "cache_size", CYCLE_CACHE_KIB)?;
            let fresh = || Batch { rows: Vec::with_capacity(BATCH), len: 0 };
            let mut batch = fresh();
            // The writer stopped (it failed): stop reading; its error is reported.
            let stopped = |_| anyhow::anyhow!("cycle writer stopped");
            for_each_raw_account(&rconn, label, as_of, |raw| {
                match batch.rows.get_mut(batch.len) {
                    Some(slot) => std::mem::swap(slot, raw),
                    None => batch.rows.push(std::mem::take(raw)),
                }
                batch.len += 1;
                if batch.len == BATCH {
                    let mut next = take_back.try_recv().unwrap_or_else(|_| fresh());
                    next.len = 0;
                    send.send(std::mem::replace(&mut batch, next)).map_err(stopped)?;
                }
                Ok(())
            })?;
            if batch.len > 0 {
                send.send(batch).map_err(stopped)?;
            }
            Ok(())
        });
        let mut result = Ok(());
        // One account parsed into again and again: its strings are reused.
        let mut acc = Account::default();
        'batches: for batch in recv.iter() {
            for raw in batch.rows.iter().take(batch.len) {
                let done =
                    raw.parse_into(&mut acc, disputes).and_then(|()| consume(item(&acc, rcx)));
                if let Err(e) = done {
                    result = Err(e);
                    break 'batches;
                }
            }
            // The reader may have finished: then the batch is simply dropped.
            give_back.try_send(batch).ok();
        }
        drop(recv);
        let read = reader.join().map_err(|_| anyhow::anyhow!("the account reader panicked"))?;
        result.and(read)
    })
}

/// Passes every byte to `inner` and to a SHA-256, so the published file's hash costs no
/// second pass over it.
struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write_all(buf)?;
        self.hash.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn publish_rename(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::rename(from, to)
        .with_context(|| format!("publishing {} as {}", from.display(), to.display()))?;
    if let Some(dir) = to.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        // Best effort, as in fsutil::write_atomic.
        d.sync_all().ok();
    }
    Ok(())
}

fn field_message(err: &crate::metro2::writer::WriteError) -> String {
    // The writer's message names the segment and field; it carries no value.
    err.to_string()
}

fn trailer_matches_totals(t: &crate::metro2::model::Trailer, r: &CycleReport) -> bool {
    let x = &r.totals;
    t.total_base_records == x.base_records
        && t.total_status_code_93 == x.status_93
        && t.total_status_code_62 == x.status_62
        && t.total_status_code_da == x.status_da
        && t.total_status_code_df == x.status_df
        && t.total_consumer_segments_j1 == x.j1_segments
        && t.total_consumer_segments_j2 == x.j2_segments
        && t.total_original_creditor_segments == x.k1_segments
        && t.total_purchased_to_segments == x.k2_segments
        && t.total_change_segments == x.l1_segments
        && t.total_social_numbers_base_segments == x.ssn_base
        && t.total_social_numbers_all_segments == x.ssn_all
        && t.total_dates_birth_base_segments == x.dob_base
        && t.total_dates_birth_all_segments == x.dob_all
        && t.total_telephone_numbers_all_segments == x.phones_all
}
