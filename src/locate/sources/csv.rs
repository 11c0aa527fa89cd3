//! CSV result files (change-of-address and vendor batch results), streamed row by row.
//!
//! The header names the columns; the mapping says which column holds which field, so column
//! order does not matter and a new vendor layout is a new mapping file. A UTF-8 BOM and CRLF
//! line ends are accepted. Bad rows go to `<input>.rejects.csv` (original cells with SSN and
//! DOB masked, plus `line, column, error_code, error_message`); the rest are read.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::Path;
use std::rc::Rc;

use anyhow::Context;

use indicatif::ProgressBar;

use crate::error::ErrorCode;
use crate::locate::mapping::{self, FlatRecord, Mapping};
use crate::locate::sources::{SourceKind, SourceRead, SourceReject, publish_rejects};
use crate::pii::{mask_dob, mask_ssn};

/// Reads a CSV result file, advancing `progress` by the bytes read. Fails only when the file cannot be read or lacks a mapped column.
pub fn read(
    path: &Path,
    source: &str,
    kind: SourceKind,
    m: &Mapping,
    progress: &ProgressBar,
) -> anyhow::Result<SourceRead> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("source {source}: cannot open {}", path.display()))?;
    let mut input = crate::fsutil::HashingReader::new(progress.wrap_read(file));
    let mut out = read_from(&mut input, path, source, kind, m)?;
    out.sha256 = Some(
        input
            .finish()
            .with_context(|| format!("source {source}: cannot read {}", path.display()))?,
    );
    Ok(out)
}

/// Remembers where the newlines are in the bytes read ahead, so that a record's first line is
/// exact (csv's own line counter lags by one after a CRLF line end).
struct Newlines<R> {
    inner: R,
    offset: u64,
    seen: Rc<RefCell<(u64, VecDeque<u64>)>>,
}

impl<R: std::io::Read> std::io::Read for Newlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.seen.borrow_mut();
        for (i, b) in buf.iter().take(n).enumerate() {
            if *b == b'\n' {
                seen.1.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// The 1-based line of the record starting at byte `start` (queries must not go backwards).
fn line_at(seen: &RefCell<(u64, VecDeque<u64>)>, start: u64) -> u64 {
    let mut s = seen.borrow_mut();
    while s.1.front().is_some_and(|p| *p < start) {
        s.1.pop_front();
        s.0 += 1;
    }
    // A record that starts on the LF of a CRLF begins on the next line.
    1 + s.0 + u64::from(s.1.front() == Some(&start))
}

/// Reads CSV from any reader; `path` names it in positions and places the rejects file.
pub fn read_from<R: std::io::Read>(
    input: R,
    path: &Path,
    source: &str,
    kind: SourceKind,
    m: &Mapping,
) -> anyhow::Result<SourceRead> {
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let seen = Rc::new(RefCell::new((0u64, VecDeque::new())));
    let input = Newlines { inner: input, offset: 0, seen: seen.clone() };
    let mut rdr = ::csv::ReaderBuilder::new().flexible(true).from_reader(input);
    let headers: Vec<String> = rdr
        .headers()
        .with_context(|| format!("source {source}: cannot read the header of {file_name}"))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    // (group, canonical key, column index)
    let mut columns: Vec<(Option<&'static str>, &'static str, usize)> = Vec::new();
    for (group, key, col) in m.csv_columns() {
        let Some(i) = headers.iter().position(|h| h.eq_ignore_ascii_case(col)) else {
            anyhow::bail!(
                "source {source}: {file_name} has no column `{col}` (mapped as `{}{key}`); \
                 header: {}",
                group.map(|g| format!("{g}.")).unwrap_or_default(),
                headers.join(",")
            );
        };
        columns.push((group, key, i));
    }
    let ssn_cols: Vec<usize> = columns
        .iter()
        .filter(|(g, k, _)| g.is_none() && (*k == "ssn" || *k == "ssn_last4"))
        .map(|(_, _, i)| *i)
        .collect();
    let dob_cols: Vec<usize> =
        columns.iter().filter(|(g, k, _)| g.is_none() && *k == "dob").map(|(_, _, i)| *i).collect();
    let mask_row = |cells: Vec<String>| -> Vec<String> {
        cells
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                if ssn_cols.contains(&i) {
                    mask_ssn(&c)
                } else if dob_cols.contains(&i) {
                    mask_dob(&c)
                } else {
                    c
                }
            })
            .collect()
    };

    let mut out = SourceRead::default();
    let mut row = ::csv::ByteRecord::new();
    let mut n: u64 = 0;
    loop {
        let pos_before = rdr.position().clone();
        match rdr.read_byte_record(&mut row) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                n += 1;
                out.rejects.push(SourceReject {
                    record: n,
                    line: line_at(&seen, pos_before.byte()),
                    byte: pos_before.byte(),
                    source_record_id: String::new(),
                    field: String::new(),
                    code: ErrorCode("malformed_csv"),
                    message: e.to_string(),
                    raw: Vec::new(),
                });
                continue;
            }
        }
        n += 1;
        let pos = row.position().cloned().unwrap_or(pos_before);
        let cells: Vec<String> =
            row.iter().map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        let line = line_at(&seen, pos.byte());
        let mut flat = FlatRecord { record: n, line, byte: pos.byte(), ..FlatRecord::default() };
        let reject =
            |flat: &FlatRecord, id: &str, field: &str, code, message: String| SourceReject {
                record: flat.record,
                line: flat.line,
                byte: flat.byte,
                source_record_id: id.to_string(),
                field: field.to_string(),
                code: ErrorCode(code),
                message,
                raw: Vec::new(),
            };
        if std::str::from_utf8(row.as_slice()).is_err() {
            let mut r = reject(&flat, "", "", "invalid_utf8", "row is not valid UTF-8".into());
            r.raw = mask_row(cells);
            out.rejects.push(r);
            continue;
        }
        if row.len() != headers.len() {
            let msg = format!("row has {} fields, the header has {}", row.len(), headers.len());
            let mut r = reject(&flat, "", "", "wrong_field_count", msg);
            r.raw = mask_row(cells);
            out.rejects.push(r);
            continue;
        }
        let mut address = std::collections::BTreeMap::new();
        let mut phone = std::collections::BTreeMap::new();
        let mut email = std::collections::BTreeMap::new();
        for (group, key, i) in &columns {
            let v = cells.get(*i).map(|s| s.trim()).unwrap_or_default();
            if v.is_empty() {
                continue;
            }
            let target = match *group {
                Some("address") => &mut address,
                Some("phone") => &mut phone,
                Some(_) => &mut email,
                None => &mut flat.fields,
            };
            target.insert(*key, v.to_string());
        }
        if !address.is_empty() {
            flat.addresses.push(address);
        }
        if !phone.is_empty() {
            flat.phones.push(phone);
        }
        if !email.is_empty() {
            flat.emails.push(email);
        }
        let fallback = format!("{file_name}:{}", flat.line);
        let id = flat.fields.get("record_id").cloned().unwrap_or_else(|| fallback.clone());
        match mapping::to_locate_record(&flat, source, m, kind.record_kind(), &fallback) {
            Ok(rec) => out.records.push(rec),
            Err(e) => {
                let mut r = SourceReject::from_field(&flat, &id, e);
                r.raw = mask_row(cells);
                out.rejects.push(r);
            }
        }
    }
    out.rows = n;
    out.rejects_path =
        publish_rejects(path, &out.rejects, |p| write_csv_rejects(p, &headers, &out.rejects))?;
    Ok(out)
}

fn write_csv_rejects(
    path: &Path,
    headers: &[String],
    rejects: &[SourceReject],
) -> anyhow::Result<()> {
    crate::fsutil::write_atomic(path, |w| {
        let mut out = ::csv::WriterBuilder::new().flexible(true).from_writer(w);
        let mut head: Vec<String> = headers.to_vec();
        head.extend(["line", "column", "error_code", "error_message"].map(String::from));
        out.write_record(&head)?;
        for r in rejects {
            let mut cells: Vec<String> = r.raw.clone();
            cells.resize(headers.len(), String::new());
            cells.extend([
                r.line.to_string(),
                r.field.clone(),
                r.code.to_string(),
                r.message.clone(),
            ]);
            out.write_record(&cells)?;
        }
        out.flush()?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ncoa_rows_and_rejects_bad_ones_with_positions() {
        let dir = tempfile::tempdir().unwrap();
        let m = Mapping::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("formats/sources/ncoa-default.toml"),
        )
        .unwrap();
        let head = "record_id,input_reference,first_name,middle_name,last_name,suffix,old_address1,old_address2,old_city,old_state,old_zip,return_code,move_type,move_effective_date,new_address1,new_address2,new_city,new_state,new_zip\r\n";
        let text = format!(
            "\u{feff}{head}\
N1,A-1,ANN,,LEE,,1 OAK ST,,AUSTIN,TX,78701,A,I,2026-09-01,9 ELM ST,APT 2,DALLAS,TX,75201\r\n\
N2,A-2,BOB,,RAY,,2 OAK ST,,AUSTIN,TX,78701,ZZ,I,2026-09-01,,,,,\r\n\
N3,A-3,CY,,DOE,,3 OAK ST,,AUSTIN,TX,78701,02,,,,,,,\r\n"
        );
        let p = dir.path().join("ncoa.csv");
        std::fs::write(&p, text).unwrap();
        let r = read(&p, "ncoa", SourceKind::NcoaCsv, &m, &ProgressBar::hidden()).unwrap();
        assert_eq!(r.rows, 3);
        assert_eq!(r.records.len(), 2);
        assert_eq!(r.records[0].addresses[0].address.city, "DALLAS");
        assert_eq!(r.records[1].ncoa_return_code.as_deref(), Some("02"));
        assert!(r.records[1].addresses.is_empty());
        assert_eq!(r.rejects.len(), 1);
        assert_eq!((r.rejects[0].record, r.rejects[0].line), (2, 3));
        assert_eq!(r.rejects[0].code.as_str(), "unknown_return_code");
        let rej = std::fs::read_to_string(dir.path().join("ncoa.rejects.csv")).unwrap();
        assert!(
            rej.contains("N2,A-2") && rej.contains(",3,return_code,unknown_return_code,"),
            "{rej}"
        );
    }
}
