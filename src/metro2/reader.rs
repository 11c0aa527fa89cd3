//! The streaming Metro 2 reader: bytes to typed records, with every structural problem
//! reported as a positioned [`Finding`].
//!
//! Accepts the three framings of the 426-character format: one record per line (`\n` or
//! `\r\n`, what the bureaus ask for), fixed- or variable-length records without line breaks
//! (delimited by their record descriptor words; stray CR/LF bytes are ignored), and the
//! variable-blocked form with a block descriptor word before each record. Each record's
//! descriptor word is checked against the segments present. A record is the trailer only
//! when it says `TRAILER` (a broken base record is never read as the trailer). Memory is
//! bounded by the longest record (at most 9,999 bytes, or one 64 KiB line). Packed (366-byte)
//! files are detected and refused with a clear error. Never panics on any input.
//!
//! This module reads; it must not judge business rules (that is [`super::validate`]).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use super::codec::FieldIssue;
use super::layout::Segment;
use super::model::{DataRecord, Header, Trailer};
use super::validate::{Finding, Severity};
use super::writer::{Framing, LineEnding};

/// Longest line accepted in line mode; longer lines are reported and skipped.
const MAX_LINE: usize = 65_536;

/// A file that cannot be read as Metro 2 at all (row problems are findings instead).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading failed.
    #[error("reading the Metro 2 file: {0}")]
    Io(#[from] io::Error),
    /// A packed (366-byte) file.
    #[error(
        "packed format not supported: this is a 366-byte packed Metro 2 file (binary descriptor words); only the 426-character format is read"
    )]
    Packed,
    /// The file does not start with a header record.
    #[error("not a Metro 2 character file: {0}")]
    NotMetro2(String),
}

impl ReadError {
    /// The bounded error code.
    pub fn code(&self) -> &'static str {
        match self {
            ReadError::Io(_) => "io_error",
            ReadError::Packed => "metro2_packed_not_supported",
            ReadError::NotMetro2(_) => "metro2_not_a_metro2_file",
        }
    }
}

/// What [`Reader::read`] put into the [`Slot`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `slot.header` holds the header record.
    Header,
    /// `slot.data` holds a data record.
    Data,
    /// `slot.trailer` holds the trailer record.
    Trailer,
}

/// The reader's output buffers, reused from record to record (no allocation per record once
/// warmed up).
#[derive(Clone, Debug, Default)]
pub struct Slot {
    /// The header, after [`Kind::Header`].
    pub header: Header,
    /// The data record, after [`Kind::Data`].
    pub data: DataRecord,
    /// The trailer, after [`Kind::Trailer`].
    pub trailer: Trailer,
    /// How the record was framed in the file.
    pub framing: Framing,
    /// Byte offset of the record (its block descriptor word, if any) in the file.
    pub offset: u64,
    /// 1-based data record number (0 for the header, last + 1 for the trailer).
    pub record: u64,
}

/// A read record, owned (see [`Reader::items`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// The header record.
    Header(Header, Framing),
    /// A data record.
    Data(Box<DataRecord>, Framing),
    /// The trailer record.
    Trailer(Trailer, Framing),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Lines,
    Stream,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    Body,
    AfterTrailer,
    Done,
}

/// Streaming reader. Call [`Reader::read`] until it returns `Ok(None)`; structural findings
/// for each record are appended to the `findings` vector given.
pub struct Reader<R: Read> {
    src: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    consumed: u64,
    mode: Mode,
    bdw: bool,
    line_ending: LineEnding,
    state: State,
    data_records: u64,
    rec: Vec<u8>,
    issues: Vec<FieldIssue>,
    seen_trailer: bool,
    detected: bool,
    unterminated: bool,
    /// Appended segments of earlier records, reused to avoid allocating per record.
    spare: DataRecord,
}

impl Reader<File> {
    /// Opens a file for reading.
    pub fn open(path: &Path) -> io::Result<Reader<File>> {
        Ok(Reader::new(File::open(path)?))
    }
}

impl<R: Read> Reader<R> {
    /// A reader over any byte source (it buffers internally).
    pub fn new(src: R) -> Self {
        Reader {
            src,
            buf: vec![0; 1 << 18],
            start: 0,
            end: 0,
            eof: false,
            consumed: 0,
            mode: Mode::Lines,
            bdw: false,
            line_ending: LineEnding::Lf,
            state: State::Start,
            data_records: 0,
            rec: Vec::with_capacity(16 * 1024),
            issues: Vec::new(),
            seen_trailer: false,
            detected: false,
            unterminated: false,
            spare: DataRecord::default(),
        }
    }

    /// The record terminator the file uses (known after the header was read).
    pub fn line_ending(&self) -> LineEnding {
        self.line_ending
    }

    /// True when the file is in line mode and its last line has no line break.
    pub fn last_line_unterminated(&self) -> bool {
        self.unterminated
    }

    /// Data records read so far.
    pub fn data_records(&self) -> u64 {
        self.data_records
    }

    /// Ensures at least `n` bytes are buffered (fewer only at end of input).
    fn fill(&mut self, n: usize) -> io::Result<()> {
        while self.end - self.start < n && !self.eof {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            if self.end == self.buf.len() {
                let len = self.buf.len();
                self.buf.resize(len * 2, 0);
            }
            let got = match self.src.read(&mut self.buf[self.end..]) {
                Ok(g) => g,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if got == 0 {
                self.eof = true;
            }
            self.end += got;
        }
        Ok(())
    }

    fn avail(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.start);
        self.start += n;
        self.consumed += n as u64;
    }

    fn detect(&mut self) -> Result<(), ReadError> {
        self.fill(MAX_LINE)?;
        let head = self.buf.get(self.start..self.end).unwrap_or_default();
        if head.is_empty() {
            return Err(ReadError::NotMetro2("the file is empty".into()));
        }
        // Identify the framing on the first bytes with line breaks removed (some files wrap
        // records, or put the block descriptor word on a line of its own).
        let first: Vec<u8> =
            head.iter().copied().filter(|&b| b != b'\n' && b != b'\r').take(16).collect();
        let head_nl = head;
        let head = first.as_slice();
        let zero_pair = |a: usize| head.get(a..a + 2) == Some(&[0u8, 0][..]);
        if zero_pair(2) || zero_pair(6) {
            return Err(ReadError::Packed);
        }
        if head.get(8..14) == Some(b"HEADER") {
            self.bdw = true;
        } else if head.get(4..10) == Some(b"HEADER") {
            self.bdw = false;
        } else {
            return Err(ReadError::NotMetro2(
                "no HEADER record identifier at positions 5-10 (or 9-14 after a block descriptor word)"
                    .into(),
            ));
        }
        match memchr::memchr(b'\n', head_nl) {
            Some(p) if p >= 366 => {
                self.mode = Mode::Lines;
                let cr = p > 0 && head_nl.get(p - 1) == Some(&b'\r');
                self.line_ending = if cr { LineEnding::CrLf } else { LineEnding::Lf };
            }
            _ => {
                self.mode = Mode::Stream;
                self.line_ending = LineEnding::None;
            }
        }
        Ok(())
    }

    /// Number of the record about to be read (0 while the header is expected).
    fn next_number(&self) -> u64 {
        if self.state == State::Start { 0 } else { self.data_records + 1 }
    }

    /// Reads the next physical record into `self.rec` (BDW included when present). Returns
    /// false at end of input.
    fn next_physical(&mut self, findings: &mut Vec<Finding>) -> Result<bool, ReadError> {
        self.rec.clear();
        match self.mode {
            Mode::Lines => loop {
                self.fill(MAX_LINE + 2)?;
                if self.avail().is_empty() {
                    return Ok(false);
                }
                let a = self.buf.get(self.start..self.end).unwrap_or_default();
                match memchr::memchr(b'\n', a) {
                    Some(p) => {
                        let line = a.get(..p).unwrap_or_default();
                        let line = line.strip_suffix(b"\r").unwrap_or(line);
                        self.rec.extend_from_slice(line);
                        self.consume(p + 1);
                    }
                    None if a.len() > MAX_LINE => {
                        let offset = self.consumed;
                        findings.push(structure(
                            "structure.record",
                            format!("a line longer than {MAX_LINE} bytes cannot be a Metro 2 record; skipped"),
                            self.next_number(),
                            offset,
                        ));
                        // Skip to the next line break.
                        loop {
                            let a = self.buf.get(self.start..self.end).unwrap_or_default();
                            if a.is_empty() {
                                return Ok(false);
                            }
                            if let Some(p) = memchr::memchr(b'\n', a) {
                                self.consume(p + 1);
                                break;
                            }
                            let n = a.len();
                            self.consume(n);
                            self.fill(MAX_LINE)?;
                        }
                        continue;
                    }
                    None => {
                        let n = a.len();
                        let line = a.strip_suffix(b"\r").unwrap_or(a);
                        self.rec.extend_from_slice(line);
                        self.consume(n);
                        self.unterminated = true;
                    }
                }
                if self.rec.is_empty() {
                    continue;
                }
                return Ok(true);
            },
            Mode::Stream => {
                let offset = self.consumed;
                let prefix = if self.bdw { 8 } else { 4 };
                if !self.take_skipping_newlines(prefix)? {
                    if !self.rec.is_empty() {
                        findings.push(structure(
                            "structure.record",
                            format!("{} stray bytes at the end of the file", self.rec.len()),
                            self.next_number(),
                            offset,
                        ));
                    }
                    return Ok(false);
                }
                let at = if self.bdw { 4 } else { 0 };
                let rdw_bytes = self.rec.get(at..at + 4).unwrap_or_default();
                let Some(rdw) = digits4(rdw_bytes) else {
                    findings.push(structure(
                        "structure.record",
                        "record descriptor word is not numeric: the record cannot be delimited; the rest of the file is not read".into(),
                        self.next_number(),
                        offset,
                    ));
                    self.state = State::Done;
                    return Ok(false);
                };
                if rdw < 30 {
                    findings.push(structure(
                        "structure.record",
                        format!("record descriptor word {rdw} is too small to hold a record; the rest of the file is not read"),
                        self.next_number(),
                        offset,
                    ));
                    self.state = State::Done;
                    return Ok(false);
                }
                let full = prefix + rdw as usize - 4;
                if !self.take_skipping_newlines(full)? {
                    findings.push(structure(
                        "structure.record",
                        format!(
                            "the file ends inside a record: descriptor word says {rdw} bytes, {} found",
                            self.rec.len() - at
                        ),
                        self.next_number(),
                        offset,
                    ));
                }
                Ok(true)
            }
        }
    }

    /// Appends bytes to `self.rec` until it holds `n` bytes, skipping CR and LF. False when
    /// the input ends first.
    fn take_skipping_newlines(&mut self, n: usize) -> Result<bool, ReadError> {
        while self.rec.len() < n {
            self.fill(1)?;
            let a = self.buf.get(self.start..self.end).unwrap_or_default();
            if a.is_empty() {
                return Ok(false);
            }
            let want = n - self.rec.len();
            let window = a.get(..want.min(a.len())).unwrap_or_default();
            // Copy up to the next line break in one go; skip the line break itself.
            let used = match memchr::memchr2(b'\n', b'\r', window) {
                Some(p) => {
                    self.rec.extend_from_slice(window.get(..p).unwrap_or_default());
                    p + 1
                }
                None => {
                    self.rec.extend_from_slice(window);
                    window.len()
                }
            };
            self.consume(used);
        }
        Ok(true)
    }

    /// Reads the next record into `slot`. Returns `Ok(None)` at the end of the file. Problems
    /// that do not stop reading are appended to `findings`, positioned.
    pub fn read(
        &mut self,
        slot: &mut Slot,
        findings: &mut Vec<Finding>,
    ) -> Result<Option<Kind>, ReadError> {
        if self.state == State::Done {
            return Ok(None);
        }
        if !self.detected {
            self.detect()?;
            self.detected = true;
        }
        let offset = self.consumed;
        if !self.next_physical(findings)? {
            if self.state != State::AfterTrailer && self.state != State::Done {
                findings.push(structure(
                    "structure.trailer",
                    "the file has no trailer record".into(),
                    self.data_records + 1,
                    self.consumed,
                ));
            }
            self.state = State::Done;
            return Ok(None);
        }
        let rec = std::mem::take(&mut self.rec);
        let out = self.parse(&rec, offset, slot, findings);
        self.rec = rec;
        Ok(Some(out))
    }

    fn parse(
        &mut self,
        phys: &[u8],
        offset: u64,
        slot: &mut Slot,
        findings: &mut Vec<Finding>,
    ) -> Kind {
        slot.offset = offset;
        slot.framing = Framing::default();
        let has_id = |r: &[u8], at: usize, id: &[u8]| r.get(at..at + id.len()) == Some(id);
        // Per record: a BDW precedes unless the record identifier sits right after 4 bytes.
        let with_bdw = self.bdw
            && match self.mode {
                Mode::Stream => true,
                Mode::Lines => !(has_id(phys, 4, b"HEADER") || has_id(phys, 4, b"TRAILER")),
            };
        let (rec, bdw) = if with_bdw {
            (phys.get(4..).unwrap_or_default(), Some(phys.get(..4).unwrap_or_default()))
        } else {
            (phys, None)
        };
        let kind = if has_id(rec, 4, b"TRAILER") {
            Kind::Trailer
        } else if has_id(rec, 4, b"HEADER") {
            Kind::Header
        } else {
            Kind::Data
        };
        let number = match kind {
            Kind::Header => 0,
            Kind::Data => self.data_records + 1,
            Kind::Trailer => self.data_records + 1,
        };
        slot.record = number;
        let mut pending = Vec::new();
        let mut push = |rule: &'static str, msg: String| {
            pending.push(structure(rule, msg, number, offset));
        };
        if let Some(b) = bdw {
            let v = digits4(b);
            slot.framing.bdw = v.map(|v| v as u32);
            match v {
                None => push("structure.bdw", "block descriptor word is not numeric".into()),
                Some(v) if v as usize != phys.len() && self.mode == Mode::Lines => push(
                    "structure.bdw",
                    format!("block descriptor word says {v} bytes, the block has {}", phys.len()),
                ),
                _ => {}
            }
            if v.is_none() {
                slot.framing.bdw = None;
            }
        }
        match digits4(rec.get(..4).unwrap_or_default()) {
            None => push("structure.rdw", "record descriptor word is not numeric".into()),
            Some(v) if v as usize != rec.len() => {
                slot.framing.rdw = Some(v as u32);
                push(
                    "structure.rdw",
                    format!("record descriptor word says {v} bytes, the record has {}", rec.len()),
                );
            }
            _ => {}
        }
        match kind {
            Kind::Header => {
                if self.state != State::Start {
                    push("structure.record", "a second header record".into());
                }
                self.state = State::Body;
                let (fixed, pad) = self.fixed_part(rec, 426, &mut push);
                slot.framing.padding = pad;
                slot.header.decode_into(&fixed, &mut self.issues);
            }
            Kind::Trailer => {
                if self.seen_trailer {
                    push("structure.trailer", "a second trailer record".into());
                }
                self.seen_trailer = true;
                self.state = State::AfterTrailer;
                let (fixed, pad) = self.fixed_part(rec, 426, &mut push);
                slot.framing.padding = pad;
                slot.trailer.decode_into(&fixed, &mut self.issues);
            }
            Kind::Data => {
                if self.state == State::AfterTrailer {
                    push("structure.trailer", "a data record after the trailer".into());
                }
                self.data_records += 1;
                let d = &mut slot.data;
                self.spare.recycle(d);
                if rec.len() < 426 {
                    push(
                        "structure.record",
                        format!("record has {} bytes, fewer than a base segment (426)", rec.len()),
                    );
                    let mut padded = rec.to_vec();
                    padded.resize(426, b' ');
                    d.base.decode_into(&padded, &mut self.issues);
                    self.issues.retain(|i| {
                        let end = i.field.start + i.field.length - 1;
                        end <= rec.len()
                    });
                } else {
                    d.base.decode_into(rec, &mut self.issues);
                }
                let mut pos = 426;
                let mut last = 0usize;
                while pos < rec.len() {
                    let id = rec.get(pos..pos + 2).unwrap_or_default();
                    let Some(seg) = Segment::appended(id) else {
                        let rest = rec.get(pos..).unwrap_or_default();
                        if rest.iter().all(|&b| b == b' ') {
                            slot.framing.padding = rest.len() as u32;
                        } else {
                            push(
                                "structure.segment",
                                format!(
                                    "unknown segment identifier {:?} at position {}; the rest of the record ({} bytes) is not read",
                                    String::from_utf8_lossy(id),
                                    pos + 1,
                                    rest.len()
                                ),
                            );
                        }
                        break;
                    };
                    let len = seg.layout().length;
                    let Some(bytes) = rec.get(pos..pos + len) else {
                        push(
                            "structure.segment",
                            format!(
                                "{seg} segment at position {} is truncated: {} of {len} bytes",
                                pos + 1,
                                rec.len() - pos
                            ),
                        );
                        break;
                    };
                    let order = seg as usize;
                    if order < last {
                        push(
                            "structure.segment_order",
                            format!(
                                "{seg} segment at position {} comes after a later segment",
                                pos + 1
                            ),
                        );
                    }
                    let repeatable = matches!(seg, Segment::J1 | Segment::J2);
                    if order == last && !repeatable {
                        push(
                            "structure.segment_order",
                            format!(
                                "{seg} segment repeated at position {}; the last one is kept",
                                pos + 1
                            ),
                        );
                    }
                    last = last.max(order);
                    let issues = &mut self.issues;
                    let sp = &mut self.spare;
                    macro_rules! one {
                        ($f:ident) => {{
                            let mut v = sp.$f.take().unwrap_or_default();
                            v.decode_into(bytes, issues);
                            d.$f = Some(v);
                        }};
                    }
                    match seg {
                        Segment::J1 => {
                            let mut v = sp.j1.pop().unwrap_or_default();
                            v.decode_into(bytes, issues);
                            d.j1.push(v);
                        }
                        Segment::J2 => {
                            let mut v = sp.j2.pop().unwrap_or_default();
                            v.decode_into(bytes, issues);
                            d.j2.push(v);
                        }
                        Segment::K1 => one!(k1),
                        Segment::K2 => one!(k2),
                        Segment::K3 => one!(k3),
                        Segment::K4 => one!(k4),
                        Segment::L1 => one!(l1),
                        Segment::N1 => one!(n1),
                        _ => {}
                    }
                    pos += len;
                }
            }
        }
        let account = if kind == Kind::Data && !(pending.is_empty() && self.issues.is_empty()) {
            slot.data.base.consumer_account_number.clone()
        } else {
            String::new()
        };
        let seg = match kind {
            Kind::Header => Segment::Header,
            Kind::Data => Segment::Base,
            Kind::Trailer => Segment::Trailer,
        };
        for f in &mut pending {
            f.account.clone_from(&account);
            f.segment = Some(seg);
        }
        findings.append(&mut pending);
        for i in self.issues.drain(..) {
            let seg = segment_of(i.field);
            findings.push(Finding {
                severity: Severity::Error,
                rule: "structure.field_format",
                message: format!(
                    "{} (CRRG {}, positions {}-{}) {}",
                    i.field.name,
                    i.field.crrg,
                    i.field.start,
                    i.field.end(),
                    i.kind
                ),
                record: number,
                offset: Some(offset),
                account: account.clone(),
                segment: Some(seg),
                field: Some(i.field),
            });
        }
        kind
    }

    /// The first `len` bytes of a header or trailer (blank-padded when short) and the number
    /// of blank padding bytes after them.
    fn fixed_part(
        &self,
        rec: &[u8],
        len: usize,
        push: &mut impl FnMut(&'static str, String),
    ) -> (Vec<u8>, u32) {
        let mut fixed = rec.get(..len.min(rec.len())).unwrap_or_default().to_vec();
        if fixed.len() < len {
            push("structure.record", format!("record has {} bytes, fewer than {len}", rec.len()));
            fixed.resize(len, b' ');
        }
        let rest = rec.get(len..).unwrap_or_default();
        if !rest.iter().all(|&b| b == b' ') {
            push(
                "structure.record",
                format!("{} bytes of unexpected content after the record", rest.len()),
            );
        }
        (fixed, rest.len() as u32)
    }

    /// Owned items, for small files and tests. Findings are collected into `findings`.
    pub fn items(mut self, findings: &mut Vec<Finding>) -> Result<Vec<Item>, ReadError> {
        let mut slot = Slot::default();
        let mut out = Vec::new();
        while let Some(k) = self.read(&mut slot, findings)? {
            out.push(match k {
                Kind::Header => Item::Header(slot.header.clone(), slot.framing),
                Kind::Data => Item::Data(Box::new(slot.data.clone()), slot.framing),
                Kind::Trailer => Item::Trailer(slot.trailer.clone(), slot.framing),
            });
        }
        Ok(out)
    }
}

/// Parses one record (header, data record or trailer) given on its own, as in moov-io's
/// per-record sample files: line breaks anywhere are ignored, a block descriptor word is
/// recognised when it equals the record descriptor word + 4. `Ok(None)` for empty input.
pub fn parse_record(bytes: &[u8], findings: &mut Vec<Finding>) -> Result<Option<Item>, ReadError> {
    let clean: Vec<u8> = bytes.iter().copied().filter(|&b| b != b'\n' && b != b'\r').collect();
    let b = digits4(clean.get(..4).unwrap_or_default());
    let r = digits4(clean.get(4..8).unwrap_or_default());
    if !matches!((b, r), (Some(b), Some(r)) if b == r + 4) {
        return parse_framed(&clean, false, findings);
    }
    // Four digits that are the next four plus four may be a block descriptor and an RDW, or
    // an RDW followed by the processing indicator and the start of the time stamp (a record
    // of 1024 bytes, indicator 1, time stamp 02/0x: "1024" "1020"). Take the unblocked
    // reading when it is clean, else whichever reading has fewer findings.
    let mut plain = Vec::new();
    let unblocked = parse_framed(&clean, false, &mut plain);
    if matches!(unblocked, Ok(Some(_))) && plain.is_empty() {
        return unblocked;
    }
    let mut framed = Vec::new();
    let blocked = parse_framed(&clean, true, &mut framed);
    let blocked_better = match (&unblocked, &blocked) {
        (Ok(_), Ok(_)) => framed.len() < plain.len(),
        (Err(_), Ok(_)) => true,
        _ => false,
    };
    if blocked_better {
        findings.append(&mut framed);
        blocked
    } else {
        findings.append(&mut plain);
        unblocked
    }
}

/// Reads one record, with or without a block descriptor word in front of it.
fn parse_framed(
    clean: &[u8],
    bdw: bool,
    findings: &mut Vec<Finding>,
) -> Result<Option<Item>, ReadError> {
    let mut reader = Reader::new(clean);
    reader.mode = Mode::Stream;
    reader.bdw = bdw;
    reader.detected = true;
    reader.state = State::Start;
    let mut slot = Slot::default();
    let item = match reader.read(&mut slot, findings)? {
        None => None,
        Some(Kind::Header) => Some(Item::Header(slot.header, slot.framing)),
        Some(Kind::Data) => Some(Item::Data(Box::new(slot.data), slot.framing)),
        Some(Kind::Trailer) => Some(Item::Trailer(slot.trailer, slot.framing)),
    };
    // A lone record has no trailer after it: drop that finding.
    findings.retain(|f| !(f.rule == "structure.trailer" && f.message.contains("no trailer")));
    Ok(item)
}

fn segment_of(f: &'static super::layout::FieldSpec) -> Segment {
    Segment::ALL
        .into_iter()
        .find(|s| s.layout().fields.iter().any(|x| std::ptr::eq(x, f)))
        .unwrap_or(Segment::Base)
}

fn digits4(b: &[u8]) -> Option<u64> {
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |a, &c| a * 10 + u64::from(c - b'0')))
}

fn structure(rule: &'static str, message: String, record: u64, offset: u64) -> Finding {
    Finding {
        severity: Severity::Error,
        rule,
        message,
        record,
        offset: Some(offset),
        account: String::new(),
        segment: None,
        field: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{Base, K1};
    use crate::metro2::writer::{WriterOptions, write_to_vec};

    fn sample(opts: WriterOptions) -> Vec<u8> {
        let mut r = DataRecord::new(Base {
            consumer_account_number: "A1".into(),
            account_status: "93".into(),
            ..Default::default()
        });
        r.k1 = Some(K1 { original_creditor_name: "ACME".into(), creditor_classification: 2 });
        write_to_vec(&Header::default(), &[r.clone(), r], opts).unwrap()
    }

    fn read_all(bytes: &[u8]) -> (Result<Vec<Item>, ReadError>, Vec<Finding>) {
        let mut f = Vec::new();
        let r = Reader::new(bytes).items(&mut f);
        (r, f)
    }

    #[test]
    fn reads_all_three_framings() {
        for opts in [
            WriterOptions::default(),
            WriterOptions { line_ending: LineEnding::None, ..Default::default() },
            WriterOptions { blocked: true, ..Default::default() },
            WriterOptions { blocked: true, line_ending: LineEnding::CrLf, ..Default::default() },
        ] {
            let (items, f) = read_all(&sample(opts));
            let items = items.unwrap();
            assert!(f.is_empty(), "{opts:?}: {f:?}");
            assert_eq!(items.len(), 4, "{opts:?}");
            assert!(matches!(&items[1], Item::Data(d, _) if d.k1.is_some()));
            assert!(matches!(&items[3], Item::Trailer(t, _) if t.total_base_records == 2));
        }
    }

    #[test]
    fn packed_and_foreign_files_are_clean_errors() {
        let packed = b"\x01r\x00\x00\x01n\x00\x00HEADER   ";
        assert!(matches!(read_all(packed).0, Err(ReadError::Packed)));
        assert!(matches!(read_all(b"hello").0, Err(ReadError::NotMetro2(_))));
        assert!(matches!(read_all(b"").0, Err(ReadError::NotMetro2(_))));
    }

    #[test]
    fn a_broken_base_record_is_not_the_trailer_and_rdw_is_checked() {
        let mut bytes = sample(WriterOptions::default());
        // Second data record: corrupt the date opened and shorten the record by 10 bytes.
        let start = 427 + 461;
        bytes[start + 75..start + 83].copy_from_slice(b"13452019");
        bytes.drain(start + 440..start + 450);
        let (items, f) = read_all(&bytes);
        let items = items.unwrap();
        assert_eq!(items.len(), 4);
        assert!(matches!(items[2], Item::Data(..)));
        let rules: Vec<_> = f.iter().map(|x| (x.rule, x.record)).collect();
        assert!(rules.contains(&("structure.field_format", 2)), "{rules:?}");
        assert!(rules.contains(&("structure.rdw", 2)), "{rules:?}");
        assert!(rules.contains(&("structure.segment", 2)), "{rules:?}");
        let ff = f.iter().find(|x| x.rule == "structure.field_format").unwrap();
        assert_eq!(ff.field.unwrap().crrg, "10");
        assert_eq!(ff.offset, Some(start as u64));
        assert_eq!(ff.account, "A1");
    }

    #[test]
    fn missing_trailer_and_truncation_are_findings() {
        let bytes = sample(WriterOptions { line_ending: LineEnding::None, ..Default::default() });
        let (items, f) = read_all(&bytes[..426 + 300]);
        assert_eq!(items.unwrap().len(), 2);
        assert!(f.iter().any(|x| x.rule == "structure.record"));
        assert!(f.iter().any(|x| x.rule == "structure.trailer"));
    }
}

#[cfg(test)]
mod roundtrip {
    //! Property: for any record the layouts can express, `parse(write(r)) == r`, and writing
    //! what was parsed reproduces the bytes.

    use proptest::prelude::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::metro2::codec::TextMode;
    use crate::metro2::layout::FieldType;
    use crate::metro2::writer::{Writer, WriterOptions};

    /// Random bytes that are a valid encoding of `seg` (every field well-formed).
    fn segment_bytes(seg: Segment, rng: &mut ChaCha8Rng, out: &mut Vec<u8>) {
        let layout = seg.layout();
        for f in layout.fields {
            match f.kind {
                FieldType::Identifier => out.extend_from_slice(layout.identifier.as_bytes()),
                FieldType::Rdw => out.extend_from_slice(b"0000"),
                FieldType::Alphanumeric => {
                    let n = rng.random_range(0..=f.length);
                    const CH: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -&/#.,'";
                    for _ in 0..n {
                        out.push(CH[rng.random_range(0..CH.len())]);
                    }
                    out.extend(std::iter::repeat_n(b' ', f.length - n));
                }
                FieldType::Numeric | FieldType::Ssn => {
                    for _ in 0..f.length {
                        out.push(b'0' + rng.random_range(0..10u8));
                    }
                }
                FieldType::Date | FieldType::DateOfBirth | FieldType::Timestamp => {
                    if rng.random_bool(0.3) {
                        out.extend(std::iter::repeat_n(b'0', f.length));
                    } else {
                        let (m, d, y) = (
                            rng.random_range(1..=12),
                            rng.random_range(1..=28),
                            rng.random_range(1900..=2099),
                        );
                        out.extend_from_slice(format!("{m:02}{d:02}{y:04}").as_bytes());
                        if f.kind == FieldType::Timestamp {
                            let (h, mi, s) = (
                                rng.random_range(0..24),
                                rng.random_range(0..60),
                                rng.random_range(0..60),
                            );
                            out.extend_from_slice(format!("{h:02}{mi:02}{s:02}").as_bytes());
                        }
                    }
                }
            }
        }
    }

    fn record_bytes(seed: u64) -> Vec<u8> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut rec = Vec::new();
        segment_bytes(Segment::Base, &mut rng, &mut rec);
        for seg in [Segment::J1, Segment::J2] {
            for _ in 0..rng.random_range(0..3) {
                segment_bytes(seg, &mut rng, &mut rec);
            }
        }
        for seg in [Segment::K1, Segment::K2, Segment::K3, Segment::K4, Segment::L1, Segment::N1] {
            if rng.random_bool(0.5) {
                segment_bytes(seg, &mut rng, &mut rec);
            }
        }
        let rdw = format!("{:04}", rec.len());
        rec[..4].copy_from_slice(rdw.as_bytes());
        rec
    }

    #[test]
    fn a_lone_record_whose_rdw_and_next_digits_look_like_a_bdw_reads_unblocked() {
        // 1024 bytes, processing indicator 1, time stamp in early February: "1024" "1020...".
        let bytes = record_bytes(15_336_921_423_594_093_321);
        assert_eq!(&bytes[..8], b"10241020");
        let mut findings = Vec::new();
        let Some(Item::Data(r, framing)) = parse_record(&bytes, &mut findings).unwrap() else {
            panic!("not a data record");
        };
        assert!(findings.is_empty(), "{findings:?}");
        assert_eq!(framing.bdw, None);
        assert_eq!(r.base.processing_indicator, 1);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        #[test]
        fn parse_of_write_is_identity(seed in any::<u64>()) {
            let bytes = record_bytes(seed);
            let mut findings = Vec::new();
            let Some(Item::Data(r, _)) = parse_record(&bytes, &mut findings).unwrap() else {
                panic!("not a data record");
            };
            prop_assert!(findings.is_empty(), "{:?}", findings);
            let opts = WriterOptions { text: TextMode::Preserve, ..Default::default() };
            let mut w = Writer::new(Vec::new(), &Header::default(), opts).unwrap();
            w.write(&r).unwrap();
            let (_, file) = w.finish().unwrap();
            prop_assert_eq!(&file[427..427 + bytes.len()], &bytes[..]);
            let items = Reader::new(file.as_slice()).items(&mut findings).unwrap();
            prop_assert!(findings.is_empty(), "{:?}", findings);
            prop_assert_eq!(&items[1], &Item::Data(r, Framing::default()));
        }

        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000), seed in any::<u64>()) {
            let mut findings = Vec::new();
            // Any outcome is fine as long as it is not a panic.
            Reader::new(bytes.as_slice()).items(&mut findings).ok();
            drop(parse_record(&bytes, &mut findings));
            // Mutations of a valid file too.
            let mut file = b"0426HEADER".to_vec();
            file.resize(426, b' ');
            file.push(b'\n');
            file.extend_from_slice(&record_bytes(seed));
            file.push(b'\n');
            let n = file.len();
            for (i, b) in bytes.iter().take(64).enumerate() {
                let at = (seed as usize).wrapping_add(i * 7919) % n;
                file[at] = *b;
            }
            Reader::new(file.as_slice()).items(&mut findings).ok();
        }
    }
}
