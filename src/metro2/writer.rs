//! The streaming Metro 2 writer: typed records to bytes.
//!
//! The writer computes every record descriptor word from what it writes, and the trailer
//! from the records it wrote ([`super::totals::Totals`]); a caller cannot get either wrong.
//! Text is upper-case ASCII (names transliterated), numbers zero-filled, text blank-filled;
//! a value too long for its field is an error, never a truncation, and a record that fails
//! is not written at all (the writer stays usable). One record per line (`\n`) by default.
//! It must not decide what to report (that is the furnish stage) nor validate business rules
//! (that is [`super::validate`]).

use std::io::{self, Write};

use super::codec::{FieldError, TextMode};
use super::layout::Segment;
use super::model::{DataRecord, Header, Trailer};
use super::totals::Totals;

/// What ends each record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n` after each record (what the bureaus ask for).
    #[default]
    Lf,
    /// `\r\n` after each record.
    CrLf,
    /// Nothing: records follow each other, delimited by their descriptor words.
    None,
}

impl LineEnding {
    fn bytes(self) -> &'static [u8] {
        match self {
            LineEnding::Lf => b"\n",
            LineEnding::CrLf => b"\r\n",
            LineEnding::None => b"",
        }
    }
}

/// Writer settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriterOptions {
    /// Record terminator.
    pub line_ending: LineEnding,
    /// Text handling: normalise (default) or preserve exactly.
    pub text: TextMode,
    /// Variable-blocked output: each record is preceded by a block descriptor word
    /// (record length + 4), one record per block.
    pub blocked: bool,
    /// Leave the line break off the trailer (reproduces files whose last line has none).
    pub no_final_line_ending: bool,
}

/// How one record was framed in the file it was read from. Only `convert` uses it, to
/// reproduce a file byte for byte; records built by the product use [`Framing::default`]
/// (descriptor words computed, no padding).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Framing {
    /// Block descriptor word as read, when the file had one before this record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bdw: Option<u32>,
    /// Record descriptor word as read, when it differs from the record's real length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdw: Option<u32>,
    /// Blank bytes after the last segment (fixed-length files pad records).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub padding: u32,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// Why a record could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// A value does not fit its field (the record was not written).
    #[error("record {record}, segment {segment}: {error}")]
    Field {
        /// 1-based data record number (0 = header, and the trailer number for the trailer).
        record: u64,
        /// Segment holding the field.
        segment: Segment,
        /// The field problem.
        error: FieldError,
    },
    /// The record is longer than a 4-digit record descriptor word allows.
    #[error("record {record}: {len} bytes do not fit a 4-digit record descriptor word")]
    TooLong {
        /// 1-based data record number.
        record: u64,
        /// Length of the record.
        len: usize,
    },
    /// Writing to the output failed.
    #[error("writing the Metro 2 file: {0}")]
    Io(#[from] io::Error),
}

impl WriteError {
    /// The bounded error code.
    pub fn code(&self) -> &'static str {
        match self {
            WriteError::Field { error, .. } => error.code(),
            WriteError::TooLong { .. } => "metro2_record_too_long",
            WriteError::Io(_) => "io_error",
        }
    }
}

/// Streams a Metro 2 file: header on creation, one data record per [`Writer::write`], the
/// computed trailer on [`Writer::finish`].
pub struct Writer<W: Write> {
    out: W,
    opts: WriterOptions,
    buf: Vec<u8>,
    /// Where the last record's own bytes (its RDW) start in `buf`, after any BDW.
    record_start: usize,
    totals: Totals,
    records: u64,
}

impl<W: Write> Writer<W> {
    /// Starts a file and writes its header.
    pub fn new(out: W, header: &Header, opts: WriterOptions) -> Result<Self, WriteError> {
        Self::with_header_framing(out, header, &Framing::default(), opts)
    }

    /// Starts a file whose header keeps the framing it was read with (see [`Framing`]).
    pub fn with_header_framing(
        out: W,
        header: &Header,
        framing: &Framing,
        opts: WriterOptions,
    ) -> Result<Self, WriteError> {
        let mut w = Writer {
            out,
            opts,
            buf: Vec::with_capacity(4096),
            record_start: 0,
            totals: Totals::new(),
            records: 0,
        };
        w.buf.clear();
        if framing.padding as usize + 426 > 9999 {
            return Err(WriteError::TooLong { record: 0, len: framing.padding as usize + 426 });
        }
        let rdw = w.rdw(426, framing);
        w.begin(rdw, framing);
        let r = header.encode(&mut w.buf, rdw, w.opts.text);
        r.map_err(|error| WriteError::Field { record: 0, segment: Segment::Header, error })?;
        w.end(framing)?;
        Ok(w)
    }

    fn rdw(&self, content: usize, framing: &Framing) -> u64 {
        framing.rdw.map_or((content + framing.padding as usize) as u64, u64::from)
    }

    fn begin(&mut self, rdw: u64, framing: &Framing) {
        self.buf.clear();
        let bdw = match framing.bdw {
            Some(b) => Some(u64::from(b)),
            None if self.opts.blocked => Some(rdw + 4),
            None => None,
        };
        if let Some(b) = bdw {
            self.buf.extend_from_slice(format!("{:04}", b.min(9999)).as_bytes());
        }
        self.record_start = self.buf.len();
    }

    fn end(&mut self, framing: &Framing) -> Result<(), WriteError> {
        self.buf.resize(self.buf.len() + framing.padding as usize, b' ');
        self.buf.extend_from_slice(self.opts.line_ending.bytes());
        self.out.write_all(&self.buf)?;
        Ok(())
    }

    /// Writes one data record. On error nothing of the record is written and the writer can
    /// go on with the next record.
    pub fn write(&mut self, rec: &DataRecord) -> Result<(), WriteError> {
        self.write_framed(rec, &Framing::default())
    }

    /// Writes one data record with the framing it was read with (see [`Framing`]).
    pub fn write_framed(&mut self, rec: &DataRecord, framing: &Framing) -> Result<(), WriteError> {
        let number = self.records + 1;
        let content = rec.content_len();
        let rdw = self.rdw(content, framing);
        let len = content + framing.padding as usize;
        if rdw > 9999 || len > 9999 {
            return Err(WriteError::TooLong { record: number, len: len.max(rdw as usize) });
        }
        self.begin(rdw, framing);
        if let Err(error) = rec.encode(&mut self.buf, rdw, self.opts.text) {
            let segment = segment_of(&error);
            return Err(WriteError::Field { record: number, segment, error });
        }
        self.end(framing)?;
        self.totals.add(rec);
        self.records = number;
        Ok(())
    }

    /// The bytes of the record written last (the header, right after [`Writer::new`], then
    /// each data record) as they went to the output, from its RDW on: without the block
    /// descriptor word of blocked output and without the line ending.
    pub fn last_record(&self) -> &[u8] {
        let ending = self.opts.line_ending.bytes();
        let line = self.buf.strip_suffix(ending).unwrap_or(&self.buf);
        line.get(self.record_start..).unwrap_or(line)
    }

    /// Leaves the line break off the trailer (see [`WriterOptions::no_final_line_ending`]).
    pub fn set_no_final_line_ending(&mut self, v: bool) {
        self.opts.no_final_line_ending = v;
    }

    /// Data records written so far.
    pub fn records_written(&self) -> u64 {
        self.records
    }

    /// The trailer the records written so far call for.
    pub fn trailer(&self) -> Trailer {
        self.totals.trailer()
    }

    /// Writes the computed trailer, flushes, and returns it with the output.
    pub fn finish(self) -> Result<(Trailer, W), WriteError> {
        let t = self.totals.trailer();
        let out = self.finish_with(&t, &Framing::default())?;
        Ok((t, out))
    }

    /// Writes a given trailer (as read from a file, for `convert`), flushes and returns the
    /// output. Products should use [`Writer::finish`].
    pub fn finish_with(mut self, trailer: &Trailer, framing: &Framing) -> Result<W, WriteError> {
        let record = self.records + 1;
        if framing.padding as usize + 426 > 9999 {
            return Err(WriteError::TooLong { record, len: framing.padding as usize + 426 });
        }
        let rdw = self.rdw(426, framing);
        self.begin(rdw, framing);
        let r = trailer.encode(&mut self.buf, rdw, self.opts.text);
        r.map_err(|error| WriteError::Field { record, segment: Segment::Trailer, error })?;
        if self.opts.no_final_line_ending {
            self.opts.line_ending = LineEnding::None;
        }
        self.end(framing)?;
        self.out.flush()?;
        Ok(self.out)
    }
}

fn segment_of(e: &FieldError) -> Segment {
    let f = e.field();
    Segment::ALL
        .into_iter()
        .find(|s| s.layout().fields.iter().any(|x| std::ptr::eq(x, f)))
        .unwrap_or(Segment::Base)
}

/// Writes a whole file to bytes (header, records, computed trailer). Convenient for tests
/// and small files; stream with [`Writer`] for large ones.
pub fn write_to_vec(
    header: &Header,
    records: &[DataRecord],
    opts: WriterOptions,
) -> Result<Vec<u8>, WriteError> {
    let mut w = Writer::new(Vec::new(), header, opts)?;
    for r in records {
        w.write(r)?;
    }
    Ok(w.finish()?.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{Base, J1, K1};

    fn rec(acct: &str) -> DataRecord {
        let mut r = DataRecord::new(Base {
            consumer_account_number: acct.into(),
            account_status: "93".into(),
            surname: "Zoë".into(),
            ..Default::default()
        });
        r.k1 = Some(K1 { original_creditor_name: "acme".into(), creditor_classification: 2 });
        r
    }

    #[test]
    fn rdw_and_trailer_come_from_content() {
        let mut a = rec("A1");
        a.j1.push(J1 { surname: "DOE".into(), ..Default::default() });
        let bytes =
            write_to_vec(&Header::default(), &[a, rec("A2")], WriterOptions::default()).unwrap();
        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        assert_eq!(lines.len(), 5); // header, 2 records, trailer, empty tail
        assert!(lines[0].starts_with(b"0426HEADER") && lines[0].len() == 426);
        assert!(lines[1].starts_with(b"0560") && lines[1].len() == 560);
        assert!(lines[2].starts_with(b"0460") && lines[2].len() == 460);
        assert!(lines[3].starts_with(b"0426TRAILER000000002"));
        // Upper case, transliterated.
        assert_eq!(&lines[2][231..236], b"ZOE  ");
        assert_eq!(&lines[2][428..432], b"ACME");
        // Status 93 counted (positions 219-227), K1 counted (282-290).
        assert_eq!(&lines[3][218..227], b"000000002");
        assert_eq!(&lines[3][281..290], b"000000002");
    }

    #[test]
    fn a_bad_record_is_skipped_whole_and_the_writer_goes_on() {
        let mut w = Writer::new(Vec::new(), &Header::default(), WriterOptions::default()).unwrap();
        let mut bad = rec("A1");
        bad.base.consumer_account_number = "X".repeat(31);
        let e = w.write(&bad).unwrap_err();
        assert_eq!(e.code(), "metro2_field_overflow");
        assert!(e.to_string().contains("record 1, segment base"), "{e}");
        w.write(&rec("A2")).unwrap();
        let (t, out) = w.finish().unwrap();
        assert_eq!(t.total_base_records, 1);
        assert_eq!(out.len(), 427 + 461 + 427);
    }

    #[test]
    fn last_record_is_the_line_just_written() {
        for ending in [LineEnding::Lf, LineEnding::CrLf] {
            let opts = WriterOptions { line_ending: ending, ..Default::default() };
            let mut w = Writer::new(Vec::new(), &Header::default(), opts).unwrap();
            assert!(w.last_record().starts_with(b"0426HEADER"));
            w.write(&rec("A1")).unwrap();
            let record = w.last_record().to_vec();
            assert_eq!(record.len(), 460);
            let (_, out) = w.finish().unwrap();
            let start = 426 + ending.bytes().len();
            assert_eq!(&out[start..start + 460], &record[..]);
            assert_eq!(&out[start + 460..start + 460 + ending.bytes().len()], ending.bytes());
        }
    }

    #[test]
    fn last_record_leaves_out_the_block_descriptor() {
        let opts = WriterOptions { blocked: true, ..Default::default() };
        let mut w = Writer::new(Vec::new(), &Header::default(), opts).unwrap();
        w.write(&rec("A1")).unwrap();
        assert_eq!(w.last_record().len(), 460);
        assert!(w.last_record().starts_with(b"0460"), "{:?}", &w.last_record()[..8]);
    }

    #[test]
    fn absurd_framing_is_an_error_not_an_allocation() {
        let huge = Framing { padding: u32::MAX, rdw: Some(500), bdw: None };
        let mut w = Writer::new(Vec::new(), &Header::default(), WriterOptions::default()).unwrap();
        assert_eq!(w.write_framed(&rec("A"), &huge).unwrap_err().code(), "metro2_record_too_long");
        assert!(
            Writer::with_header_framing(
                Vec::new(),
                &Header::default(),
                &huge,
                WriterOptions::default()
            )
            .is_err()
        );
    }

    #[test]
    fn blocked_and_crlf_options() {
        let opts =
            WriterOptions { line_ending: LineEnding::CrLf, blocked: true, ..Default::default() };
        let bytes = write_to_vec(&Header::default(), &[rec("A")], opts).unwrap();
        assert!(bytes.starts_with(b"04300426HEADER"));
        assert_eq!(&bytes[430..432], b"\r\n");
        assert_eq!(&bytes[432..440], b"04640460");
    }
}
