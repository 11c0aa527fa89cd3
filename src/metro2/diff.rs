//! Cycle-to-cycle comparison of two Metro 2 files from the same furnisher, in bounded memory.
//!
//! Accounts are joined on (identification number, consumer account number), following an L1
//! change reported in the earlier file. For each account present in both, the fields that
//! changed (SSN and date of birth masked); and flags for the longitudinal checks (metro2.md
//! §5.3 PROG-* rules): a re-aged date of first delinquency, an account gone without a DA,
//! status moves that make no sense, a changed date opened or charge-off amount, a repeated L1.
//!
//! The earlier file's data records (key, encoded record, file order) and its L1 aliases go
//! into SQLite's private temporary database (a throwaway index with a bounded page cache,
//! owner-only, deleted by SQLite as it opens it, so nothing is left even if the process is
//! killed); the later file streams, and each of its accounts is looked up by key and marked
//! matched (in a small table: marking leaves the large record pages clean, so they are never
//! written back). The accounts left unmatched at the end are the removed ones, in the
//! earlier file's order. Results are handed to a sink as they are found ([`Event`]); only counts are kept,
//! so memory does not grow with the number of accounts.
//!
//! Two threads: the calling thread reads the earlier file, then compares and calls the sink;
//! a second thread owns the temporary store, loads it, reads the later file and looks its
//! accounts up. Batches go between them over bounded channels, in file order, so the report
//! is the same as a single thread's.
//!
//! The temporary store is not the system of record: this module must not open the skiptrace
//! database, and must not print.

use std::io::{self, Read, Write};
use std::sync::mpsc::{self, Receiver, SyncSender};

use rusqlite::Connection;
use serde::Serialize;

use super::codec::{FieldIssue, TextMode, Value};
use super::layout::{FieldSpec, Segment};
use super::model::DataRecord;
use super::reader::{Kind, ReadError, Reader, Slot};

/// Appended to the later value of a changed SSN or date of birth that masks like the earlier
/// one (the same last four digits, the same year).
pub const MASKED_ALIKE: &str = " (changed; masks alike)";

/// Page cache of the temporary store, in KiB (SQLite's negative `cache_size`).
const CACHE_KIB: i64 = 32 * 1024;

/// One changed field of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// `segment.field` (`base.current_balance`, `j1[0].surname`).
    pub field: String,
    /// CRRG field number.
    pub crrg: &'static str,
    /// Value in the earlier file (masked for SSN and date of birth).
    pub old: String,
    /// Value in the later file (masked for SSN and date of birth).
    pub new: String,
}

/// The changes of one account between the two files.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AccountChanges {
    /// Consumer account number in the later file.
    pub account: String,
    /// Changed fields, in layout order (fields of segments the later file no longer has
    /// come last).
    pub changes: Vec<FieldChange>,
}

/// Something between the two cycles that needs a look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Flag id: `diff.reaged_dofd`, `diff.disappeared_without_da`, `diff.status_move`,
    /// `diff.date_opened_changed`, `diff.chargeoff_changed`, `diff.l1_repeated`,
    /// `diff.deleted_account_reappears`, `diff.php_continuity`.
    pub kind: &'static str,
    /// Consumer account number.
    pub account: String,
    /// Plain-language explanation.
    pub message: String,
}

/// The counts of a comparison (the report itself streams as [`Event`]s).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Data records in the earlier file.
    pub old_records: u64,
    /// Data records in the later file.
    pub new_records: u64,
    /// Accounts only in the later file.
    pub added: u64,
    /// Accounts only in the earlier file.
    pub removed: u64,
    /// Accounts with changed fields.
    pub changed: u64,
    /// Flags raised.
    pub flags: u64,
    /// Structural problems met while reading either file (run `metro2 validate` for details).
    pub read_findings: u64,
}

/// One item of the report, handed to the sink as soon as it is known. The order is
/// deterministic: the later file's accounts in its order (an account's changes, then its
/// flags), then the removed accounts in the earlier file's order (each followed by its
/// flag), then the summary. Serialised as one JSON object with a `type` member
/// (`changed`, `flag`, `added`, `removed`, `summary`).
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<'a> {
    /// An account present in both files whose fields changed.
    Changed(&'a AccountChanges),
    /// A flag on an account.
    Flag(&'a Flag),
    /// An account only in the later file.
    Added {
        /// Consumer account number.
        account: &'a str,
    },
    /// An account only in the earlier file.
    Removed {
        /// Consumer account number.
        account: &'a str,
    },
    /// The counts, last.
    Summary(&'a Summary),
}

/// A comparison that could not be completed (problems inside records are counted as read
/// findings instead).
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The earlier file cannot be read as Metro 2 (or reading it failed).
    #[error("the earlier file")]
    Old(#[source] ReadError),
    /// The later file cannot be read as Metro 2 (or reading it failed).
    #[error("the later file")]
    New(#[source] ReadError),
    /// The temporary store of the earlier file's records failed (disk full, ...).
    #[error("temporary store of the earlier file's records")]
    Store(#[from] rusqlite::Error),
    /// The sink failed (writing the report).
    #[error("writing the report")]
    Output(#[source] io::Error),
    /// The thread that keeps the earlier file's records stopped without saying why.
    #[error("the comparison stopped unexpectedly")]
    Stopped,
}

impl DiffError {
    /// The bounded error code.
    pub fn code(&self) -> &'static str {
        match self {
            DiffError::Old(e) | DiffError::New(e) => e.code(),
            DiffError::Store(_) => "diff_temp_store_failed",
            DiffError::Output(_) => "io_error",
            DiffError::Stopped => "diff_stopped",
        }
    }
}

/// The earlier file's records, outside the process heap: SQLite's private temporary
/// database (an empty file name), which SQLite creates owner-only in its temporary directory
/// (`SQLITE_TMPDIR`, else `TMPDIR`, else `/var/tmp` or `/tmp`) and deletes as it opens it, so
/// the records (SSNs and dates of birth in clear) are never reachable by name and nothing is
/// left behind, even when the process is killed.
struct Store {
    conn: Connection,
}

impl Store {
    fn open() -> Result<Store, DiffError> {
        let conn = Connection::open("")?;
        // A throwaway database: no journal, no fsync, one connection.
        conn.pragma_update(None, "journal_mode", "OFF")?;
        conn.pragma_update(None, "synchronous", "OFF")?;
        conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
        conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
        conn.execute_batch(
            "CREATE TABLE earlier (seq INTEGER PRIMARY KEY, id TEXT NOT NULL, acct TEXT NOT NULL,
                                   rec BLOB NOT NULL);
             CREATE UNIQUE INDEX earlier_key ON earlier (id, acct);
             CREATE TABLE matched (seq INTEGER PRIMARY KEY);
             CREATE TABLE alias (id TEXT NOT NULL, acct TEXT NOT NULL, old_id TEXT NOT NULL,
                                 old_acct TEXT NOT NULL, PRIMARY KEY (id, acct)) WITHOUT ROWID;
             BEGIN;",
        )?;
        Ok(Store { conn })
    }
}

/// Records per batch handed between the two threads.
const BATCH: usize = 512;
/// Batches in flight in each direction (memory: a few MB whatever the file size).
const IN_FLIGHT: usize = 4;

/// A range of a batch buffer.
type Span = (usize, usize);

/// Earlier-file records on their way into the store: text (keys) and encodings in two
/// buffers, one [`LoadItem`] per data record.
#[derive(Debug, Default)]
struct LoadBatch {
    text: String,
    recs: Vec<u8>,
    items: Vec<LoadItem>,
}

/// One data record of the earlier file.
#[derive(Debug)]
struct LoadItem {
    id: Span,
    acct: Span,
    /// The key it is known by after its L1 change.
    alias: Option<(Span, Span)>,
    /// Its encoding (none when it does not encode).
    rec: Option<Span>,
}

impl LoadBatch {
    fn clear(&mut self) {
        self.text.clear();
        self.recs.clear();
        self.items.clear();
    }

    fn text(&mut self, t: &str) -> Span {
        let a = self.text.len();
        self.text.push_str(t);
        (a, self.text.len())
    }

    fn str(&self, (a, b): Span) -> &str {
        self.text.get(a..b).unwrap_or_default()
    }
}

/// What the loading side sends: batches, then `Done` (a closed channel without `Done` means
/// the loading side gave up).
enum Load {
    Batch(LoadBatch),
    Done,
}

/// What the store side found, in report order.
#[derive(Clone, Copy, Debug)]
enum Found {
    /// `news[new]` joined the earlier record encoded in `olds[old]`.
    Matched { new: usize, old: Span },
    /// `news[new]` is only in the later file.
    Added { new: usize },
    /// The earlier record `olds[old]` (account number `olds[acct]`) has no later record.
    Removed { acct: Span, old: Span },
}

/// Later-file records with what the store found for them (buffers reused).
#[derive(Debug, Default)]
struct Batch {
    news: Vec<DataRecord>,
    used: usize,
    olds: Vec<u8>,
    found: Vec<Found>,
}

impl Batch {
    fn clear(&mut self) {
        self.used = 0;
        self.olds.clear();
        self.found.clear();
    }

    /// Moves the record just read into the batch (the slot gets a spare record back).
    fn keep(&mut self, rec: &mut DataRecord) -> usize {
        let i = self.used;
        match self.news.get_mut(i) {
            Some(r) => std::mem::swap(r, rec),
            None => self.news.push(std::mem::take(rec)),
        }
        self.used += 1;
        i
    }

    fn old(&mut self, bytes: &[u8]) -> Span {
        let a = self.olds.len();
        self.olds.extend_from_slice(bytes);
        (a, self.olds.len())
    }

    fn bytes(&self, (a, b): Span) -> &[u8] {
        self.olds.get(a..b).unwrap_or_default()
    }
}

/// Counts kept by the store side.
#[derive(Debug, Default)]
struct StoreCounts {
    new_records: u64,
    read_findings: u64,
}

/// Compares two files, handing each result to `sink` as it is found (see [`Event`] for the
/// order), the summary last, and returns the counts. Memory stays bounded whatever the file
/// sizes: the earlier file's records wait in a temporary on-disk store (somewhat larger than
/// the earlier file, deleted before returning).
///
/// Two threads: this one reads the earlier file, then compares and calls the sink; the
/// other owns the temporary store, loads it, reads the later file and looks its accounts
/// up. Batches of records go between them over bounded channels, in order.
pub fn diff<A: Read, B: Read + Send>(
    old: A,
    new: B,
    sink: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
) -> Result<Summary, DiffError> {
    let Store { conn } = Store::open()?;
    let (load_tx, load_rx) = mpsc::sync_channel::<Load>(IN_FLIGHT);
    let (load_back_tx, load_back_rx) = mpsc::sync_channel::<LoadBatch>(IN_FLIGHT + 2);
    let (tx, rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
    let (back_tx, back_rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT + 2);
    let result = std::thread::scope(|scope| {
        // The connection moves to the store thread and closes when it ends.
        let store_side = std::thread::Builder::new()
            .name("diff-store".into())
            .spawn_scoped(scope, move || {
                if !load(&conn, load_rx, load_back_tx)? {
                    return Ok(StoreCounts::default());
                }
                stream(&conn, new, tx, back_rx)
            })
            .map_err(|_| DiffError::Stopped)?;
        let front = compare_side(old, sink, load_tx, load_back_rx, rx, back_tx);
        let back = store_side.join().map_err(|_| DiffError::Stopped)?;
        let (mut sum, counts) = match (front, back) {
            (Err(e), _) | (Ok(_), Err(e)) => return Err(e),
            (Ok(None), Ok(_)) => return Err(DiffError::Stopped),
            (Ok(Some(sum)), Ok(counts)) => (sum, counts),
        };
        sum.new_records = counts.new_records;
        sum.read_findings += counts.read_findings;
        sink(Event::Summary(&sum)).map_err(DiffError::Output)?;
        Ok(sum)
    });
    // The connection closed when its thread ended, and with it SQLite's temporary file.
    result
}

/// This thread's part: reads the earlier file into load batches, then compares what the
/// store side sends back and calls the sink. `Ok(None)` when the store side hung up (its
/// own result says why). Owns its channel ends, so returning releases the other side.
fn compare_side<A: Read>(
    old: A,
    sink: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    load_tx: SyncSender<Load>,
    load_back: Receiver<LoadBatch>,
    rx: Receiver<Batch>,
    back_tx: SyncSender<Batch>,
) -> Result<Option<Summary>, DiffError> {
    let mut sum = Summary::default();
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    let mut lb = LoadBatch::default();
    let mut r = Reader::new(old);
    loop {
        let k = r.read(&mut slot, &mut findings).map_err(DiffError::Old)?;
        sum.read_findings += findings.len() as u64;
        findings.clear();
        let Some(k) = k else { break };
        if k != Kind::Data {
            continue;
        }
        sum.old_records += 1;
        let d = &slot.data;
        let b = &d.base;
        let (id, acct) = (b.identification_number.trim(), b.consumer_account_number.as_str());
        let alias = d.l1.as_ref().map(|l1| {
            let new_acct = match l1.change_indicator {
                1 | 3 => l1.new_consumer_account_number.as_str(),
                _ => acct,
            };
            let new_id = match l1.change_indicator {
                2 | 3 => l1.new_identification_number.trim(),
                _ => id,
            };
            (lb.text(new_id), lb.text(new_acct))
        });
        let (id, acct) = (lb.text(id), lb.text(acct));
        let a = lb.recs.len();
        let rec = match d.encode(&mut lb.recs, 0, TextMode::Preserve) {
            Ok(()) => Some((a, lb.recs.len())),
            Err(_) => {
                lb.recs.truncate(a);
                None
            }
        };
        lb.items.push(LoadItem { id, acct, alias, rec });
        if lb.items.len() >= BATCH {
            let mut next = load_back.try_recv().unwrap_or_default();
            next.clear();
            if load_tx.send(Load::Batch(std::mem::replace(&mut lb, next))).is_err() {
                return Ok(None);
            }
        }
    }
    if load_tx.send(Load::Batch(lb)).is_err() || load_tx.send(Load::Done).is_err() {
        return Ok(None);
    }
    drop(load_tx);

    let mut cmp = Comparer::default();
    let mut issues: Vec<FieldIssue> = Vec::new();
    let mut o = DataRecord::default();
    for b in rx.iter() {
        for f in &b.found {
            match *f {
                Found::Added { new } => {
                    let Some(n) = b.news.get(new) else { continue };
                    sum.added += 1;
                    let account = n.base.consumer_account_number.as_str();
                    sink(Event::Added { account }).map_err(DiffError::Output)?;
                }
                Found::Matched { new, old } => {
                    let Some(n) = b.news.get(new) else { continue };
                    decode(b.bytes(old), &mut o, &mut issues);
                    cmp.compare(&o, n, &mut sum, sink)?;
                }
                Found::Removed { acct, old } => {
                    let account = String::from_utf8_lossy(b.bytes(acct));
                    decode_base(b.bytes(old), &mut o, &mut issues);
                    sum.removed += 1;
                    sink(Event::Removed { account: &account }).map_err(DiffError::Output)?;
                    let s = o.base.account_status.as_str();
                    if !matches!(s, "DA" | "DF") {
                        sum.flags += 1;
                        let f = Flag {
                            kind: "diff.disappeared_without_da",
                            account: account.into_owned(),
                            message: format!(
                                "the account (status {s}) is missing from the later file without having been reported as DA or DF"
                            ),
                        };
                        sink(Event::Flag(&f)).map_err(DiffError::Output)?;
                    }
                }
            }
        }
        // The store side may have finished already: a batch not taken back is dropped.
        back_tx.try_send(b).ok();
    }
    Ok(Some(sum))
}

/// Store side, first part: loads the earlier file's records and L1 aliases. False when the
/// reading side gave up (no `Done`).
fn load(
    conn: &Connection,
    rx: Receiver<Load>,
    back: SyncSender<LoadBatch>,
) -> Result<bool, DiffError> {
    // The first of a repeated key wins; the last alias of a key wins.
    let mut insert =
        conn.prepare("INSERT OR IGNORE INTO earlier (id, acct, rec) VALUES (?1, ?2, ?3)")?;
    let mut alias = conn.prepare(
        "INSERT OR REPLACE INTO alias (id, acct, old_id, old_acct) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for msg in rx.iter() {
        let lb = match msg {
            Load::Done => return Ok(true),
            Load::Batch(lb) => lb,
        };
        for it in &lb.items {
            let (id, acct) = (lb.str(it.id), lb.str(it.acct));
            if let Some((nid, nacct)) = it.alias {
                alias.execute((lb.str(nid), lb.str(nacct), id, acct))?;
            }
            if let Some((a, b)) = it.rec {
                insert.execute((id, acct, lb.recs.get(a..b).unwrap_or_default()))?;
            }
        }
        back.try_send(lb).ok();
    }
    Ok(false)
}

/// Store side, second part: reads the later file, takes each account's earlier record from
/// the store and marks it matched (directly or through an L1 alias), then sends the
/// unmatched ones (the removed accounts, in the earlier file's order).
fn stream<B: Read>(
    conn: &Connection,
    new: B,
    tx: SyncSender<Batch>,
    back: Receiver<Batch>,
) -> Result<StoreCounts, DiffError> {
    let mut counts = StoreCounts::default();
    let mut take = Statements {
        find: conn.prepare("SELECT seq, rec FROM earlier WHERE id = ?1 AND acct = ?2")?,
        mark: conn.prepare("INSERT OR IGNORE INTO matched (seq) VALUES (?1)")?,
    };
    let mut find_alias =
        conn.prepare("SELECT old_id, old_acct FROM alias WHERE id = ?1 AND acct = ?2")?;
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    let mut b = Batch::default();
    // Sends a full batch and starts the next one; false when the other side hung up.
    let flush = |b: &mut Batch, force: bool| -> bool {
        if !force && b.found.len() < BATCH {
            return true;
        }
        let mut next = back.try_recv().unwrap_or_default();
        next.clear();
        tx.send(std::mem::replace(b, next)).is_ok()
    };
    let mut r = Reader::new(new);
    loop {
        let k = r.read(&mut slot, &mut findings).map_err(DiffError::New)?;
        counts.read_findings += findings.len() as u64;
        findings.clear();
        let Some(k) = k else { break };
        if k != Kind::Data {
            continue;
        }
        counts.new_records += 1;
        let n = &slot.data;
        let (id, acct) =
            (n.base.identification_number.trim(), n.base.consumer_account_number.as_str());
        let mut old = take_into(&mut take, id, acct, &mut b)?;
        if old.is_none() {
            let target: Option<(String, String)> = {
                let mut rows = find_alias.query((id, acct))?;
                match rows.next()? {
                    Some(row) => Some((row.get(0)?, row.get(1)?)),
                    None => None,
                }
            };
            match target {
                // An alias whose account was already matched (or never stored): nothing to
                // compare, and not a new account either.
                Some((oid, oacct)) => {
                    old = take_into(&mut take, &oid, &oacct, &mut b)?;
                    if old.is_none() {
                        continue;
                    }
                }
                None => {
                    let new = b.keep(&mut slot.data);
                    b.found.push(Found::Added { new });
                    if !flush(&mut b, false) {
                        return Ok(counts);
                    }
                    continue;
                }
            }
        }
        if let Some(old) = old {
            let new = b.keep(&mut slot.data);
            b.found.push(Found::Matched { new, old });
            if !flush(&mut b, false) {
                return Ok(counts);
            }
        }
    }
    // What is left was removed, in the earlier file's order.
    let mut rest = conn.prepare(
        "SELECT acct, rec FROM earlier e
         WHERE NOT EXISTS (SELECT 1 FROM matched m WHERE m.seq = e.seq) ORDER BY seq",
    )?;
    let mut rows = rest.query(())?;
    while let Some(row) = rows.next()? {
        let acct = b.old(row.get_ref(0)?.as_bytes().map_err(rusqlite::Error::from)?);
        let old = b.old(row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?);
        b.found.push(Found::Removed { acct, old });
        if !flush(&mut b, false) {
            return Ok(counts);
        }
    }
    flush(&mut b, true);
    Ok(counts)
}

/// Takes the earlier record stored under (`id`, `acct`) into the batch and marks it matched;
/// `None` when there is none or it was matched before.
fn take_into(
    st: &mut Statements<'_>,
    id: &str,
    acct: &str,
    b: &mut Batch,
) -> Result<Option<Span>, DiffError> {
    let mut rows = st.find.query((id, acct))?;
    let Some(row) = rows.next()? else { return Ok(None) };
    let seq: i64 = row.get(0)?;
    if st.mark.execute([seq])? == 0 {
        return Ok(None);
    }
    let bytes = row.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?;
    Ok(Some(b.old(bytes)))
}

/// The look-up statements of the later file.
struct Statements<'c> {
    find: rusqlite::Statement<'c>,
    mark: rusqlite::Statement<'c>,
}

/// Decodes only the base segment of a stored record.
fn decode_base(bytes: &[u8], d: &mut DataRecord, issues: &mut Vec<FieldIssue>) {
    if bytes.len() < 426 {
        d.base = Default::default();
    }
    d.base.decode_into(bytes, issues);
    issues.clear();
}

/// Decodes a record encoded by [`DataRecord::encode`] (the store holds only records that
/// encoded cleanly).
fn decode(bytes: &[u8], d: &mut DataRecord, issues: &mut Vec<FieldIssue>) {
    use super::model::*;
    d.clear();
    decode_base(bytes, d, issues);
    let mut pos = 426;
    while let Some(seg) = bytes.get(pos..pos + 2).and_then(Segment::appended) {
        let len = seg.layout().length;
        let Some(b) = bytes.get(pos..pos + len) else { break };
        match seg {
            Segment::J1 => d.j1.push(J1::decode(b, issues)),
            Segment::J2 => d.j2.push(J2::decode(b, issues)),
            Segment::K1 => d.k1 = Some(K1::decode(b, issues)),
            Segment::K2 => d.k2 = Some(K2::decode(b, issues)),
            Segment::K3 => d.k3 = Some(K3::decode(b, issues)),
            Segment::K4 => d.k4 = Some(K4::decode(b, issues)),
            Segment::L1 => d.l1 = Some(L1::decode(b, issues)),
            Segment::N1 => d.n1 = Some(N1::decode(b, issues)),
            _ => {}
        }
        pos += len;
    }
    issues.clear();
}

/// A field's value copied out of a record (text into the owner's buffer), so that two
/// records' fields can be lined up without allocating per field.
#[derive(Clone, Copy, Debug)]
enum Val {
    Text(usize, usize),
    Number(u64),
    Date(Option<jiff::civil::Date>),
    Timestamp(Option<jiff::civil::DateTime>),
    Ssn(u64),
    Dob(Option<jiff::civil::Date>),
}

/// One field of a flattened record.
#[derive(Clone, Copy, Debug)]
struct Entry {
    seg: Segment,
    idx: usize,
    spec: &'static FieldSpec,
    val: Val,
}

impl Entry {
    /// Position of the field in visiting order (segment, repetition, start position).
    fn key(&self) -> (Segment, usize, usize) {
        (self.seg, self.idx, self.spec.start)
    }

    /// `segment.field` (`j1[0].surname`).
    fn name(&self) -> String {
        match self.seg {
            Segment::J1 | Segment::J2 => format!("{}[{}].{}", self.seg, self.idx, self.spec.name),
            _ => format!("{}.{}", self.seg, self.spec.name),
        }
    }
}

/// A record's fields in visiting order, with their text in one reused buffer.
#[derive(Debug, Default)]
struct Flat {
    text: String,
    entries: Vec<Entry>,
}

impl Flat {
    fn fill(&mut self, d: &DataRecord) {
        self.text.clear();
        self.entries.clear();
        let (text, entries) = (&mut self.text, &mut self.entries);
        d.visit(&mut |seg, idx, spec, v| {
            let val = match v {
                Value::Text(t) => {
                    let start = text.len();
                    text.push_str(t);
                    Val::Text(start, text.len())
                }
                Value::Number(n) => Val::Number(n),
                Value::Date(d) => Val::Date(d),
                Value::Timestamp(t) => Val::Timestamp(t),
                Value::Ssn(n) => Val::Ssn(n),
                Value::Dob(d) => Val::Dob(d),
            };
            entries.push(Entry { seg, idx, spec, val });
        });
    }

    fn value(&self, v: Val) -> Value<'_> {
        match v {
            Val::Text(a, b) => Value::Text(self.text.get(a..b).unwrap_or_default()),
            Val::Number(n) => Value::Number(n),
            Val::Date(d) => Value::Date(d),
            Val::Timestamp(t) => Value::Timestamp(t),
            Val::Ssn(n) => Value::Ssn(n),
            Val::Dob(d) => Value::Dob(d),
        }
    }
}

/// Compares matched accounts, reusing its buffers from account to account.
#[derive(Debug, Default)]
struct Comparer {
    old: Flat,
    new: Flat,
    changes: AccountChanges,
    tail: Vec<FieldChange>,
    flags: Vec<Flag>,
}

const DELINQUENT: &[&str] = &[
    "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95",
    "96", "97",
];

fn bucket(s: &str) -> Option<u8> {
    Some(match s {
        "11" => 0,
        "71" => 1,
        "78" => 2,
        "80" => 3,
        "82" => 4,
        "83" => 5,
        "84" => 6,
        _ => return None,
    })
}

impl Comparer {
    /// Compares one matched account and hands its changes, then its flags, to `sink`.
    fn compare(
        &mut self,
        o: &DataRecord,
        n: &DataRecord,
        sum: &mut Summary,
        sink: &mut dyn FnMut(Event<'_>) -> io::Result<()>,
    ) -> Result<(), DiffError> {
        self.field_changes(o, n);
        self.flags(o, n);
        if !self.changes.changes.is_empty() {
            sum.changed += 1;
            sink(Event::Changed(&self.changes)).map_err(DiffError::Output)?;
        }
        for f in &self.flags {
            sum.flags += 1;
            sink(Event::Flag(f)).map_err(DiffError::Output)?;
        }
        Ok(())
    }

    /// The changed fields, compared as stored and shown masked (a change the masking hides
    /// is marked [`MASKED_ALIKE`]): fields of both records in layout order, then fields only
    /// the earlier record has (when not blank).
    fn field_changes(&mut self, o: &DataRecord, n: &DataRecord) {
        self.old.fill(o);
        self.new.fill(n);
        self.changes.account.clear();
        self.changes.account.push_str(&n.base.consumer_account_number);
        self.changes.changes.clear();
        self.tail.clear();
        let (of, nf) = (&self.old, &self.new);
        let (mut i, mut j) = (0, 0);
        loop {
            let (a, b) = (of.entries.get(i), nf.entries.get(j));
            let order = match (a, b) {
                (None, None) => break,
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (Some(a), Some(b)) => a.key().cmp(&b.key()),
            };
            match (order, a, b) {
                (std::cmp::Ordering::Equal, Some(a), Some(b)) => {
                    let (ov, nv) = (of.value(a.val), nf.value(b.val));
                    if ov != nv {
                        let (ov, mut nv) = (ov.masked(), nv.masked());
                        if ov == nv {
                            // An SSN with the same last four digits, a date of birth in the
                            // same year: another value all the same, shown masked.
                            nv.push_str(MASKED_ALIKE);
                        }
                        self.changes.changes.push(FieldChange {
                            field: b.name(),
                            crrg: b.spec.crrg,
                            old: ov,
                            new: nv,
                        });
                    }
                    i += 1;
                    j += 1;
                }
                (std::cmp::Ordering::Less, Some(a), _) => {
                    let ov = of.value(a.val).masked();
                    if !ov.is_empty() {
                        self.tail.push(FieldChange {
                            field: a.name(),
                            crrg: a.spec.crrg,
                            old: ov,
                            new: String::new(),
                        });
                    }
                    i += 1;
                }
                (_, _, Some(b)) => {
                    let nv = nf.value(b.val).masked();
                    if !nv.is_empty() {
                        self.changes.changes.push(FieldChange {
                            field: b.name(),
                            crrg: b.spec.crrg,
                            old: String::new(),
                            new: nv,
                        });
                    }
                    j += 1;
                }
                _ => break,
            }
        }
        self.changes.changes.append(&mut self.tail);
    }

    /// The longitudinal checks on a matched account.
    fn flags(&mut self, o: &DataRecord, n: &DataRecord) {
        self.flags.clear();
        let account = n.base.consumer_account_number.as_str();
        let (ob, nb) = (&o.base, &n.base);
        let (os, ns) = (ob.account_status.as_str(), nb.account_status.as_str());
        let flags = &mut self.flags;
        let mut flag = |kind: &'static str, message: String| {
            flags.push(Flag { kind, account: account.to_string(), message });
        };
        if let Some(od) = ob.date_first_delinquency
            && DELINQUENT.contains(&ns)
            && nb.date_first_delinquency != Some(od)
        {
            let nd = nb.date_first_delinquency.map_or("none".to_string(), |d| d.to_string());
            flag(
                "diff.reaged_dofd",
                format!(
                    "date of first delinquency changed from {od} to {nd} while the account is still delinquent (re-aging)"
                ),
            );
        }
        if ob.date_opened != nb.date_opened {
            flag("diff.date_opened_changed", "date opened changed between cycles".into());
        }
        if matches!(os, "64" | "97")
            && ob.original_charge_off_amount != nb.original_charge_off_amount
        {
            flag(
                "diff.chargeoff_changed",
                "original charge-off amount changed after the charge-off".into(),
            );
        }
        let paid = |s: &str| matches!(s, "13" | "61" | "62" | "63" | "64" | "65");
        let unpaid = |s: &str| {
            matches!(
                s,
                "71" | "78"
                    | "80"
                    | "82"
                    | "83"
                    | "84"
                    | "88"
                    | "89"
                    | "93"
                    | "94"
                    | "95"
                    | "96"
                    | "97"
            )
        };
        let bad_move = if matches!(os, "DA" | "DF") {
            Some("a deleted account (DA/DF) is reported again".to_string())
        } else if paid(os) && (unpaid(ns) || ns == "11") {
            Some(format!("a paid account ({os}) is reported unpaid again ({ns})"))
        } else if matches!(os, "64" | "97") && bucket(ns).is_some() {
            Some(format!("a charged-off account ({os}) is reported current or past due ({ns})"))
        } else if let (Some(a), Some(b)) = (bucket(os), bucket(ns))
            && b > a + 1
        {
            Some(format!("status jumped from {os} to {ns}, skipping a delinquency bucket"))
        } else {
            None
        };
        if let Some(m) = bad_move {
            let kind = if matches!(os, "DA" | "DF") {
                "diff.deleted_account_reappears"
            } else {
                "diff.status_move"
            };
            flag(kind, m);
        }
        let php_first = nb.payment_history_profile.as_bytes().first().copied().unwrap_or(b' ');
        if bucket(os).is_some_and(|b| b > 0)
            && ob.consumer_information_indicator.is_empty()
            && !(b'1'..=b'6').contains(&php_first)
        {
            flag(
                "diff.php_continuity",
                format!(
                    "the previous period's status was {os} (past due), but the payment history profile does not start with a 1-6 rating"
                ),
            );
        }
        if let (Some(ol), Some(nl)) = (&o.l1, &n.l1)
            && ol.change_indicator == nl.change_indicator
            && ol.new_consumer_account_number == nl.new_consumer_account_number
            && ol.new_identification_number == nl.new_identification_number
        {
            flag("diff.l1_repeated", "the same L1 change is reported again".into());
        }
    }
}

/// Writes one report item as text: an account's changed fields (one indented line each),
/// `FLAG ...`, `added account ...`, `removed account ...`, and the summary line.
pub fn write_text(out: &mut dyn Write, e: &Event<'_>) -> io::Result<()> {
    match e {
        Event::Changed(c) => {
            writeln!(out, "account {}:", c.account)?;
            for ch in &c.changes {
                writeln!(out, "  {} (CRRG {}): {:?} -> {:?}", ch.field, ch.crrg, ch.old, ch.new)?;
            }
            Ok(())
        }
        Event::Flag(f) => writeln!(out, "FLAG {} account {}: {}", f.kind, f.account, f.message),
        Event::Added { account } => writeln!(out, "added account {account}"),
        Event::Removed { account } => writeln!(out, "removed account {account}"),
        Event::Summary(s) => {
            writeln!(
                out,
                "{} -> {} data records: {} changed, {} added, {} removed, {} flags",
                s.old_records, s.new_records, s.changed, s.added, s.removed, s.flags
            )?;
            if s.read_findings > 0 {
                writeln!(
                    out,
                    "{} structural findings while reading (run `metro2 validate` for details)",
                    s.read_findings
                )?;
            }
            Ok(())
        }
    }
}

/// Writes one report item as a JSON Lines line (one object with a `type` member).
pub fn write_json_line(out: &mut dyn Write, e: &Event<'_>) -> io::Result<()> {
    serde_json::to_writer(&mut *out, e)?;
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{Base, Header, L1, SsnField};
    use crate::metro2::writer::{WriterOptions, write_to_vec};
    use jiff::civil::date;

    /// The report collected from the sink, owned.
    #[derive(Debug, Default)]
    struct Collected {
        changed: Vec<AccountChanges>,
        flags: Vec<Flag>,
        added: Vec<String>,
        removed: Vec<String>,
        summary: Option<Summary>,
    }

    fn run(old: &[DataRecord], new: &[DataRecord]) -> (Collected, Summary) {
        let ob = write_to_vec(&Header::default(), old, WriterOptions::default()).unwrap();
        let nb = write_to_vec(&Header::default(), new, WriterOptions::default()).unwrap();
        run_bytes(&ob, &nb)
    }

    fn run_bytes(ob: &[u8], nb: &[u8]) -> (Collected, Summary) {
        let mut c = Collected::default();
        let s = diff(ob, nb, &mut |e| {
            match e {
                Event::Changed(a) => c.changed.push(a.clone()),
                Event::Flag(f) => c.flags.push(f.clone()),
                Event::Added { account } => c.added.push(account.into()),
                Event::Removed { account } => c.removed.push(account.into()),
                Event::Summary(s) => c.summary = Some(s.clone()),
            }
            Ok(())
        })
        .unwrap();
        (c, s)
    }

    fn rec(acct: &str, status: &str, dofd: (i16, i8, i8)) -> DataRecord {
        DataRecord::new(Base {
            identification_number: "X1".into(),
            consumer_account_number: acct.into(),
            account_status: status.into(),
            date_first_delinquency: Some(date(dofd.0, dofd.1, dofd.2)),
            current_balance: 100,
            ..Default::default()
        })
    }

    #[test]
    fn flags_reaging_disappearance_and_odd_moves() {
        let o = [
            rec("A", "93", (2024, 1, 1)),
            rec("B", "93", (2024, 1, 1)),
            rec("C", "62", (2024, 1, 1)),
            rec("D", "DA", (2024, 1, 1)),
            rec("F", "71", (2024, 1, 1)),
        ];
        let mut a = rec("A", "93", (2025, 3, 1));
        a.base.current_balance = 50;
        let n = [
            a,
            rec("C", "93", (2024, 1, 1)),
            rec("E", "93", (2024, 1, 1)),
            rec("F", "78", (2024, 1, 1)),
        ];
        let (r, s) = run(&o, &n);
        let kinds: Vec<_> = r.flags.iter().map(|f| (f.kind, f.account.as_str())).collect();
        assert!(kinds.contains(&("diff.reaged_dofd", "A")), "{kinds:?}");
        assert!(kinds.contains(&("diff.status_move", "C")), "{kinds:?}");
        assert!(kinds.contains(&("diff.disappeared_without_da", "B")), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.1 == "D"), "{kinds:?}");
        assert!(kinds.contains(&("diff.php_continuity", "F")), "{kinds:?}");
        assert_eq!(r.added, vec!["E"]);
        assert_eq!(r.removed, vec!["B", "D"]);
        let a = r.changed.iter().find(|c| c.account == "A").unwrap();
        let bal = a.changes.iter().find(|c| c.field == "base.current_balance").unwrap();
        assert_eq!((bal.old.as_str(), bal.new.as_str(), bal.crrg), ("100", "50", "21"));
        // The counts match what went to the sink, and the summary came last.
        assert_eq!(r.summary.as_ref(), Some(&s));
        assert_eq!((s.old_records, s.new_records), (5, 4));
        assert_eq!((s.added, s.removed), (1, 2));
        assert_eq!(s.changed, r.changed.len() as u64);
        assert_eq!(s.flags, r.flags.len() as u64);
    }

    #[test]
    fn an_ssn_change_the_masking_hides_is_still_reported() {
        let o = [rec("A", "93", (2024, 1, 1)), rec("B", "93", (2024, 1, 1))];
        let (mut a, mut b) = (o[0].clone(), o[1].clone());
        a.base.social_security_number = SsnField(123_456_789);
        b.base.social_security_number = SsnField(123_456_789);
        let old = [a.clone(), b.clone()];
        a.base.social_security_number = SsnField(987_656_789);
        let (r, _) = run(&old, &[a, b]);
        assert_eq!(r.changed.len(), 1, "{:?}", r.changed);
        let c = &r.changed[0];
        assert_eq!(c.account, "A");
        let ssn = c.changes.iter().find(|f| f.field == "base.social_security_number").unwrap();
        assert_eq!(ssn.old, "***-**-6789");
        assert_eq!(ssn.new, format!("***-**-6789{MASKED_ALIKE}"));
        assert!(!format!("{:?}", r.changed).contains("987"));
    }

    #[test]
    fn changed_fields_come_in_layout_order_with_dropped_segments_last() {
        let mut o = rec("A", "93", (2024, 1, 1));
        o.j1.push(crate::metro2::model::J1 {
            surname: "DOE".into(),
            social_security_number: crate::metro2::model::SsnField(123_456_789),
            ..Default::default()
        });
        let mut n = rec("A", "93", (2024, 1, 1));
        n.base.current_balance = 70;
        n.base.social_security_number = crate::metro2::model::SsnField(987_654_321);
        n.l1 = Some(L1 {
            change_indicator: 1,
            new_consumer_account_number: "A2".into(),
            ..Default::default()
        });
        let (r, _) = run(&[o], &[n]);
        let a = &r.changed[0];
        let got: Vec<(&str, &str, &str)> =
            a.changes.iter().map(|c| (c.field.as_str(), c.old.as_str(), c.new.as_str())).collect();
        assert_eq!(
            got,
            [
                ("base.current_balance", "100", "70"),
                ("base.social_security_number", "", "***-**-4321"),
                ("l1.change_indicator", "", "1"),
                ("l1.new_consumer_account_number", "", "A2"),
                ("j1[0].surname", "DOE", ""),
                ("j1[0].social_security_number", "***-**-6789", ""),
                ("j1[0].telephone_number", "0", ""),
            ]
        );
    }

    #[test]
    fn an_l1_alias_joins_and_a_repeated_key_keeps_the_first_record() {
        let mut moved = rec("OLD1", "93", (2024, 1, 1));
        moved.l1 = Some(L1 {
            change_indicator: 1,
            new_consumer_account_number: "NEW1".into(),
            ..Default::default()
        });
        let mut dup = rec("K", "93", (2024, 1, 1));
        dup.base.current_balance = 999;
        let o = [moved, rec("K", "93", (2024, 1, 1)), dup];
        let mut k = rec("K", "93", (2024, 1, 1));
        k.base.current_balance = 5;
        let (r, s) = run(&o, &[rec("NEW1", "93", (2024, 1, 1)), k]);
        assert!(r.added.is_empty() && r.removed.is_empty(), "{r:?}");
        let k = r.changed.iter().find(|c| c.account == "K").unwrap();
        assert_eq!((k.changes[0].old.as_str(), k.changes[0].new.as_str()), ("100", "5"));
        assert_eq!((s.old_records, s.new_records), (3, 2));
    }

    #[test]
    fn removed_accounts_come_in_the_earlier_files_order() {
        let o: Vec<DataRecord> =
            ["M", "C", "Z", "A", "Q"].iter().map(|a| rec(a, "93", (2024, 1, 1))).collect();
        let (r, s) = run(&o, &[rec("C", "93", (2024, 1, 1)), rec("A", "93", (2024, 1, 1))]);
        assert_eq!(r.removed, ["M", "Z", "Q"]);
        let gone: Vec<&str> = r.flags.iter().map(|f| f.account.as_str()).collect();
        assert_eq!(gone, ["M", "Z", "Q"]);
        assert_eq!((s.removed, s.flags, s.changed), (3, 3, 0));
    }

    #[test]
    fn order_holds_across_many_batches() {
        // Earlier: 0..1700; later: every account not divisible by 7, in reverse order, with
        // a new placement after every hundredth; balance changed on the odd ones.
        let o: Vec<DataRecord> =
            (0..1700).map(|i| rec(&format!("A{i:05}"), "93", (2024, 1, 1))).collect();
        let mut n = Vec::new();
        let (mut want_changed, mut want_added) = (Vec::new(), Vec::new());
        for i in (0..1700).rev() {
            if i % 7 == 0 {
                continue;
            }
            let mut r = rec(&format!("A{i:05}"), "93", (2024, 1, 1));
            if i % 2 == 1 {
                r.base.current_balance = 7;
                want_changed.push(format!("A{i:05}"));
            }
            n.push(r);
            if i % 100 == 0 {
                n.push(rec(&format!("P{i:05}"), "93", (2024, 1, 1)));
                want_added.push(format!("P{i:05}"));
            }
        }
        let want_removed: Vec<String> =
            (0..1700).filter(|i| i % 7 == 0).map(|i| format!("A{i:05}")).collect();
        let (r, s) = run(&o, &n);
        let changed: Vec<&str> = r.changed.iter().map(|c| c.account.as_str()).collect();
        assert_eq!(changed, want_changed);
        assert_eq!(r.added, want_added);
        assert_eq!(r.removed, want_removed);
        assert_eq!((s.old_records, s.new_records), (1700, n.len() as u64));
        assert_eq!(s.flags, want_removed.len() as u64);
    }

    #[test]
    fn a_garbled_record_is_a_read_finding_not_a_failure() {
        let o = [rec("A", "93", (2024, 1, 1)), rec("B", "93", (2024, 1, 1))];
        let ob = write_to_vec(&Header::default(), &o, WriterOptions::default()).unwrap();
        let mut nb = ob.clone();
        // Damage the second data record's balance and date of account information.
        let text = String::from_utf8(nb.clone()).unwrap();
        let second = text.match_indices('\n').nth(1).map(|(i, _)| i + 1).unwrap();
        nb[second + 154..second + 163].copy_from_slice(b"12X4Z6789");
        nb[second + 181..second + 189].copy_from_slice(b"99999999");
        let (r, s) = run_bytes(&ob, &nb);
        assert!(s.read_findings > 0, "{s:?}");
        assert_eq!((s.old_records, s.new_records), (2, 2));
        assert!(r.added.is_empty() && r.removed.is_empty(), "{r:?}");
        // Not a Metro 2 file at all: an error naming the file, not a panic.
        let e = diff(&ob[..], &b"hello"[..], &mut |_| Ok(())).unwrap_err();
        assert!(matches!(e, DiffError::New(_)), "{e:?}");
        assert_eq!(e.code(), "metro2_not_a_metro2_file");
        let e = diff(&b"hello"[..], &ob[..], &mut |_| Ok(())).unwrap_err();
        assert!(matches!(e, DiffError::Old(_)), "{e:?}");
    }

    #[test]
    fn a_failing_sink_stops_the_comparison_with_an_error() {
        let o = [rec("A", "93", (2024, 1, 1))];
        let ob = write_to_vec(&Header::default(), &o, WriterOptions::default()).unwrap();
        let e = diff(&ob[..], &ob[..], &mut |_| Err(io::Error::other("disk full"))).unwrap_err();
        assert!(matches!(e, DiffError::Output(_)), "{e:?}");
    }
}
