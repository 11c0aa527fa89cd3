//! File-level validation: reads a Metro 2 file and validates it record by record, in memory
//! bounded by a few batches of records (plus 8 bytes per account for the duplicate check).
//!
//! Reading and checking run on two threads: one parses batches of records, the other checks
//! them and hands the findings, in file order, to a sink (so a caller can print them without
//! holding them all). This module joins [`super::reader`] and [`super::validate`]; it must
//! not format output (that is the command's job).

use std::io::Read;
use std::sync::mpsc::sync_channel;

use super::reader::{Kind, ReadError, Reader, Slot};
use super::validate::{Finding, Severity, Summary, ValidateOptions, Validator};

/// Records per batch handed from the reading thread to the checking thread.
const BATCH: usize = 512;

#[derive(Default)]
struct Entry {
    kind: Option<Kind>,
    slot: Slot,
    findings: Vec<Finding>,
}

#[derive(Default)]
struct Batch {
    entries: Vec<Entry>,
    len: usize,
    /// Findings met after the last record (missing trailer, stray bytes).
    tail: Vec<Finding>,
    error: Option<ReadError>,
    last: bool,
}

/// Validates a whole file from `src`, calling `sink` with each finding in file order.
/// A file that cannot be read as Metro 2 at all (packed, not Metro 2) gives one
/// `structure.*` finding. I/O errors are returned.
pub fn validate_stream<R: Read + Send>(
    src: R,
    opts: ValidateOptions,
    sink: &mut dyn FnMut(&Finding) -> std::io::Result<()>,
) -> std::io::Result<Summary> {
    let (full_tx, full_rx) = sync_channel::<Batch>(2);
    let (free_tx, free_rx) = sync_channel::<Batch>(4);
    for _ in 0..3 {
        // Cannot fail: the receiver is alive and the channel has room.
        free_tx.send(Batch::default()).ok();
    }
    std::thread::scope(|s| {
        s.spawn(move || {
            let mut reader = Reader::new(src);
            while let Ok(mut b) = free_rx.recv() {
                b.len = 0;
                b.tail.clear();
                while b.len < BATCH {
                    if b.entries.len() == b.len {
                        b.entries.push(Entry::default());
                    }
                    let Some(e) = b.entries.get_mut(b.len) else { break };
                    e.findings.clear();
                    match reader.read(&mut e.slot, &mut e.findings) {
                        Ok(Some(k)) => {
                            e.kind = Some(k);
                            b.len += 1;
                        }
                        Ok(None) => {
                            b.tail.append(&mut e.findings);
                            b.last = true;
                            break;
                        }
                        Err(err) => {
                            b.error = Some(err);
                            b.last = true;
                            break;
                        }
                    }
                }
                let last = b.last;
                if full_tx.send(b).is_err() || last {
                    return;
                }
            }
        });
        check(full_rx, free_tx, opts, sink)
    })
}

fn check(
    full_rx: std::sync::mpsc::Receiver<Batch>,
    free_tx: std::sync::mpsc::SyncSender<Batch>,
    opts: ValidateOptions,
    sink: &mut dyn FnMut(&Finding) -> std::io::Result<()>,
) -> std::io::Result<Summary> {
    let mut v = Validator::new(opts);
    let mut rules = Vec::new();
    while let Ok(mut b) = full_rx.recv() {
        for e in b.entries.iter_mut().take(b.len) {
            rules.clear();
            let slot = &e.slot;
            match e.kind {
                Some(Kind::Header) => {
                    v.count_extra(&e.findings);
                    v.header(&slot.header, &mut rules);
                }
                Some(Kind::Data) => {
                    v.record(slot.record, &slot.data, &mut rules);
                    // Structural findings count against the record too.
                    v.count_record_extra(&e.findings);
                }
                Some(Kind::Trailer) => {
                    v.count_extra(&e.findings);
                    v.trailer(&slot.trailer, &mut rules);
                }
                None => {}
            }
            for f in &e.findings {
                sink(f)?;
            }
            for f in &mut rules {
                f.offset = Some(slot.offset);
                sink(f)?;
            }
        }
        v.count_extra(&b.tail);
        for f in &b.tail {
            sink(f)?;
        }
        if let Some(err) = b.error.take() {
            let rule = match err {
                ReadError::Io(e) => return Err(e),
                ReadError::Packed => "structure.packed_format",
                ReadError::NotMetro2(_) => "structure.not_metro2",
            };
            let f = Finding::new(Severity::Error, rule, err.to_string());
            v.count_extra(std::slice::from_ref(&f));
            sink(&f)?;
        }
        if b.last {
            break;
        }
        // The reader may already have finished; then the batch is simply dropped.
        free_tx.send(b).ok();
    }
    Ok(v.into_summary())
}
