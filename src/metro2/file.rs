//! File-level validation: reads a Metro 2 file record by record and validates as it goes,
//! in memory bounded by one record (plus the bounded duplicate-account check).
//!
//! One thread: a reading thread handing batches to a checking thread was measured slower
//! on a shared 2-core machine (records change cores and caches between parse and check).
//!
//! Findings are handed to a sink as they are found, so a caller can print them without
//! holding them all. This module joins [`super::reader`] and [`super::validate`]; it must not
//! format output (that is the command's job).

use std::io::Read;

use super::reader::{Kind, ReadError, Reader, Slot};
use super::validate::{Finding, Severity, Summary, ValidateOptions, Validator};

/// Validates a whole file from `src`, calling `sink` with each finding in file order.
/// A file that cannot be read as Metro 2 at all (packed, not Metro 2) gives one
/// `structure.*` finding. I/O errors are returned.
pub fn validate_stream<R: Read>(
    src: R,
    opts: ValidateOptions,
    sink: &mut dyn FnMut(&Finding) -> std::io::Result<()>,
) -> std::io::Result<Summary> {
    let mut reader = Reader::new(src);
    let mut v = Validator::new(opts);
    let mut slot = Slot::default();
    let mut structural = Vec::new();
    let mut rules = Vec::new();
    loop {
        structural.clear();
        rules.clear();
        let kind = match reader.read(&mut slot, &mut structural) {
            Ok(k) => k,
            Err(ReadError::Io(e)) => return Err(e),
            Err(e) => {
                let rule = match e {
                    ReadError::Packed => "structure.packed_format",
                    _ => "structure.not_metro2",
                };
                let f = Finding::new(Severity::Error, rule, e.to_string());
                v.count_extra(std::slice::from_ref(&f));
                sink(&f)?;
                break;
            }
        };
        match kind {
            None => {
                v.count_extra(&structural);
                for f in &structural {
                    sink(f)?;
                }
                break;
            }
            Some(Kind::Header) => {
                v.count_extra(&structural);
                v.header(&slot.header, &mut rules);
            }
            Some(Kind::Data) => {
                v.record(slot.record, &slot.data, &mut rules);
                // Structural findings count against the record too.
                v.count_record_extra(&structural);
            }
            Some(Kind::Trailer) => {
                v.count_extra(&structural);
                v.trailer(&slot.trailer, &mut rules);
            }
        }
        for f in structural.iter().chain(rules.iter_mut().map(|f| {
            f.offset = Some(slot.offset);
            &*f
        })) {
            sink(f)?;
        }
    }
    Ok(v.into_summary())
}
