//! Conversions: Metro 2 ⇄ JSON, Metro 2 → flat CSV view, Metro 2 → Metro 2 (normalised).
//!
//! The JSON form follows moov-io/metro2's model (`header`, `data[]` with `base`, `j1[]`,
//! `j2[]`, `k1` … `n1`, `trailer`; camelCase field names; zero and blank fields omitted;
//! dates `YYYY-MM-DD`), plus the framing needed to reproduce the input byte for byte:
//! `lineEnding`, and per record `recordDescriptorWord`, `blockDescriptorWord` and `padding`.
//! Both directions stream (one record in memory). The CSV view is one row per data record for
//! spreadsheets: the first J1 and J2 only, SSNs and dates of birth masked; it is one-way.
//! Output files are written atomically with mode 0600. This module must not validate.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, Write};
use std::path::Path;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

use super::codec::TextMode;
use super::layout::{FieldType, Segment};
use super::model::{Base, DataRecord, Header, J1, J2, K1, K2, K3, K4, L1, N1, Trailer};
use super::reader::{Kind, ReadError, Reader, Slot};
use super::writer::{Framing, LineEnding, Writer, WriterOptions};

/// A file format `convert` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Metro 2, 426-character format.
    Metro2,
    /// JSON (moov-io/metro2 model plus framing).
    Json,
    /// Flat CSV view, one row per data record (one-way).
    Csv,
}

impl Format {
    /// The format an output path's extension implies (`.json`, `.csv`, else Metro 2).
    pub fn from_extension(p: &Path) -> Format {
        match p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Format::Json,
            Some("csv") => Format::Csv,
            _ => Format::Metro2,
        }
    }
}

/// What a conversion did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Data records written.
    pub records: u64,
    /// Structural findings met in a Metro 2 input (the conversion goes on; `validate`
    /// explains them).
    pub findings: u64,
}

/// Converts `input` (Metro 2 or JSON, detected from the first byte) to `output` in format
/// `to`. `normalize` applies to Metro 2 output: recompute descriptor words and trailer,
/// upper-case text, one record per line.
pub fn convert<R: BufRead>(
    mut input: R,
    output: &Path,
    to: Format,
    normalize: bool,
) -> anyhow::Result<Stats> {
    let is_json = {
        let head = input.fill_buf()?;
        head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
    };
    let mut stats = Stats::default();
    crate::fsutil::write_atomic(output, |w| {
        stats = match (is_json, to) {
            (true, Format::Metro2) => json_to_metro2(&mut input, w, normalize)?,
            (true, _) => anyhow::bail!("JSON input converts to Metro 2 only"),
            (false, Format::Json) => metro2_to_json(&mut input, w)?,
            (false, Format::Csv) => metro2_to_csv(&mut input, w)?,
            (false, Format::Metro2) => metro2_to_metro2(&mut input, w, normalize)?,
        };
        Ok(())
    })?;
    Ok(stats)
}

fn read_err(e: ReadError) -> anyhow::Error {
    anyhow::Error::new(e)
}

fn framing_json(obj: &mut serde_json::Value, f: &Framing, content: usize) {
    if let serde_json::Value::Object(m) = obj {
        let rdw = f.rdw.map_or((content + f.padding as usize) as u64, u64::from);
        let mut out = serde_json::Map::new();
        if let Some(b) = f.bdw {
            out.insert("blockDescriptorWord".into(), b.into());
        }
        out.insert("recordDescriptorWord".into(), rdw.into());
        if f.padding > 0 {
            out.insert("padding".into(), f.padding.into());
        }
        out.append(m);
        *m = out;
    }
}

fn line_ending_name(l: LineEnding) -> &'static str {
    match l {
        LineEnding::Lf => "lf",
        LineEnding::CrLf => "crlf",
        LineEnding::None => "none",
    }
}

fn metro2_to_json<R: BufRead>(input: R, w: &mut dyn Write) -> anyhow::Result<Stats> {
    let mut reader = Reader::new(input);
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    let mut stats = Stats::default();
    let mut started_data = false;
    let mut wrote_header = false;
    while let Some(kind) = reader.read(&mut slot, &mut findings).map_err(read_err)? {
        stats.findings += findings.len() as u64;
        findings.clear();
        match kind {
            Kind::Header => {
                if wrote_header {
                    anyhow::bail!("a second header record cannot be represented in JSON");
                }
                let mut v = serde_json::to_value(&slot.header)?;
                framing_json(&mut v, &slot.framing, 426);
                write!(
                    w,
                    "{{\"lineEnding\":\"{}\",\"header\":",
                    line_ending_name(reader.line_ending())
                )?;
                serde_json::to_writer(&mut *w, &v)?;
                wrote_header = true;
            }
            Kind::Data => {
                w.write_all(if started_data { b",\n" } else { b",\"data\":[\n" })?;
                started_data = true;
                let mut v = serde_json::to_value(&slot.data)?;
                if let Some(b) = v.get_mut("base") {
                    framing_json(b, &slot.framing, slot.data.content_len());
                }
                serde_json::to_writer(&mut *w, &v)?;
                stats.records += 1;
            }
            Kind::Trailer => {
                if !started_data {
                    w.write_all(b",\"data\":[")?;
                }
                w.write_all(b"\n],")?;
                if reader.last_line_unterminated() {
                    w.write_all(b"\"finalLineEnding\":false,")?;
                }
                w.write_all(b"\"trailer\":")?;
                let mut v = serde_json::to_value(&slot.trailer)?;
                framing_json(&mut v, &slot.framing, 426);
                serde_json::to_writer(&mut *w, &v)?;
                w.write_all(b"}\n")?;
                return Ok(stats);
            }
        }
    }
    anyhow::bail!("the Metro 2 file has no trailer record; it cannot be converted to JSON")
}

fn metro2_to_metro2<R: BufRead>(
    input: R,
    w: &mut dyn Write,
    normalize: bool,
) -> anyhow::Result<Stats> {
    let mut reader = Reader::new(input);
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    let mut stats = Stats::default();
    let mut writer: Option<Writer<&mut dyn Write>> = None;
    let mut out = Some(w);
    while let Some(kind) = reader.read(&mut slot, &mut findings).map_err(read_err)? {
        stats.findings += findings.len() as u64;
        findings.clear();
        let opts = if normalize {
            WriterOptions::default()
        } else {
            WriterOptions {
                line_ending: reader.line_ending(),
                text: TextMode::Preserve,
                blocked: false,
                no_final_line_ending: reader.last_line_unterminated(),
            }
        };
        let framing = if normalize { Framing::default() } else { slot.framing };
        match kind {
            Kind::Header => {
                let Some(o) = out.take() else {
                    anyhow::bail!("a second header record");
                };
                writer = Some(Writer::with_header_framing(o, &slot.header, &framing, opts)?);
            }
            Kind::Data => {
                let Some(wr) = writer.as_mut() else { anyhow::bail!("no header") };
                wr.write_framed(&slot.data, &framing)?;
                stats.records += 1;
            }
            Kind::Trailer => {
                let Some(wr) = writer.take() else { anyhow::bail!("no header") };
                if normalize {
                    wr.finish()?;
                } else {
                    wr.finish_with(&slot.trailer, &framing)?;
                }
                return Ok(stats);
            }
        }
    }
    match writer {
        Some(wr) if normalize => {
            wr.finish()?;
            Ok(stats)
        }
        _ => anyhow::bail!(
            "the Metro 2 file has no trailer record; convert with --normalize to compute one"
        ),
    }
}

/// CSV columns: record metadata, then every stored field of base, J1, J2, K1-K4, L1, N1.
fn csv_header() -> Vec<String> {
    let mut cols = vec!["record".to_string(), "j1Count".into(), "j2Count".into()];
    for seg in &Segment::ALL[1..10] {
        for f in seg.layout().fields {
            if !matches!(f.kind, FieldType::Rdw | FieldType::Identifier) {
                cols.push(format!("{seg}.{}", f.json));
            }
        }
    }
    cols
}

fn metro2_to_csv<R: BufRead>(input: R, w: &mut dyn Write) -> anyhow::Result<Stats> {
    let mut reader = Reader::new(input);
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    let mut stats = Stats::default();
    let mut out = csv::Writer::from_writer(w);
    let cols = csv_header();
    out.write_record(&cols)?;
    let mut row: Vec<String> = Vec::with_capacity(cols.len());
    while let Some(kind) = reader.read(&mut slot, &mut findings).map_err(read_err)? {
        stats.findings += findings.len() as u64;
        findings.clear();
        if kind != Kind::Data {
            continue;
        }
        let d = &slot.data;
        row.clear();
        row.push(slot.record.to_string());
        row.push(d.j1.len().to_string());
        row.push(d.j2.len().to_string());
        let push_seg = |row: &mut Vec<String>, seg: Segment, present: bool| {
            let n = seg
                .layout()
                .fields
                .iter()
                .filter(|f| !matches!(f.kind, FieldType::Rdw | FieldType::Identifier))
                .count();
            if !present {
                row.extend(std::iter::repeat_n(String::new(), n));
            }
        };
        d.base.visit(&mut |_, v| row.push(v.masked()));
        match d.j1.first() {
            Some(j) => j.visit(&mut |_, v| row.push(v.masked())),
            None => push_seg(&mut row, Segment::J1, false),
        }
        match d.j2.first() {
            Some(j) => j.visit(&mut |_, v| row.push(v.masked())),
            None => push_seg(&mut row, Segment::J2, false),
        }
        macro_rules! one {
            ($opt:expr, $seg:expr) => {
                match &$opt {
                    Some(s) => s.visit(&mut |_, v| row.push(v.masked())),
                    None => push_seg(&mut row, $seg, false),
                }
            };
        }
        one!(d.k1, Segment::K1);
        one!(d.k2, Segment::K2);
        one!(d.k3, Segment::K3);
        one!(d.k4, Segment::K4);
        one!(d.l1, Segment::L1);
        one!(d.n1, Segment::N1);
        out.write_record(&row)?;
        stats.records += 1;
    }
    out.flush()?;
    Ok(stats)
}

// ---- JSON input ----

#[derive(Debug, Default, Deserialize)]
struct JFraming {
    #[serde(rename = "blockDescriptorWord")]
    bdw: Option<u32>,
    #[serde(rename = "recordDescriptorWord")]
    rdw: Option<u32>,
    padding: Option<u32>,
    #[serde(rename = "segmentIdentifier")]
    _segment_identifier: Option<String>,
    #[serde(rename = "recordIdentifier")]
    _record_identifier: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct JRec<T> {
    #[serde(flatten)]
    v: T,
    #[serde(flatten)]
    f: JFraming,
    #[serde(flatten)]
    extra: BTreeMap<String, serde_json::Value>,
}

impl<T> JRec<T> {
    fn check<E: de::Error>(self, what: &str) -> Result<(T, JFraming), E> {
        if let Some(k) = self.extra.keys().next() {
            return Err(E::custom(format!("unknown field `{k}` in {what}")));
        }
        Ok((self.v, self.f))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JData {
    base: JRec<Base>,
    #[serde(default)]
    j1: Vec<JRec<J1>>,
    #[serde(default)]
    j2: Vec<JRec<J2>>,
    k1: Option<JRec<K1>>,
    k2: Option<JRec<K2>>,
    k3: Option<JRec<K3>>,
    k4: Option<JRec<K4>>,
    l1: Option<JRec<L1>>,
    n1: Option<JRec<N1>>,
}

fn opt<T, E: de::Error>(v: Option<JRec<T>>, what: &str) -> Result<Option<T>, E> {
    v.map(|r| r.check(what).map(|x| x.0)).transpose()
}

impl JData {
    fn into_record<E: de::Error>(self) -> Result<(DataRecord, JFraming), E> {
        let (base, f) = self.base.check("base")?;
        let mut r = DataRecord::new(base);
        for j in self.j1 {
            r.j1.push(j.check("j1")?.0);
        }
        for j in self.j2 {
            r.j2.push(j.check("j2")?.0);
        }
        r.k1 = opt(self.k1, "k1")?;
        r.k2 = opt(self.k2, "k2")?;
        r.k3 = opt(self.k3, "k3")?;
        r.k4 = opt(self.k4, "k4")?;
        r.l1 = opt(self.l1, "l1")?;
        r.n1 = opt(self.n1, "n1")?;
        Ok((r, f))
    }
}

fn to_framing(f: &JFraming, content: usize) -> Framing {
    let padding = f.padding.unwrap_or(0);
    let natural = content as u32 + padding;
    Framing { bdw: f.bdw, rdw: f.rdw.filter(|&r| r != natural), padding }
}

struct JsonSink<'a> {
    out: Option<&'a mut dyn Write>,
    writer: Option<Writer<&'a mut dyn Write>>,
    header: Option<(Header, Framing)>,
    line_ending: LineEnding,
    final_line_ending: bool,
    normalize: bool,
    records: u64,
    done: bool,
}

impl<'a> JsonSink<'a> {
    fn opts(&self) -> WriterOptions {
        if self.normalize {
            WriterOptions::default()
        } else {
            WriterOptions {
                line_ending: self.line_ending,
                text: TextMode::Preserve,
                blocked: false,
                no_final_line_ending: !self.final_line_ending,
            }
        }
    }

    fn writer<E: de::Error>(&mut self) -> Result<&mut Writer<&'a mut dyn Write>, E> {
        if self.writer.is_none() {
            let Some((h, f)) = self.header.take() else {
                return Err(E::custom("`header` must come before `data` and `trailer`"));
            };
            let Some(out) = self.out.take() else { return Err(E::custom("a second header")) };
            let f = if self.normalize { Framing::default() } else { f };
            let w = Writer::with_header_framing(out, &h, &f, self.opts()).map_err(E::custom)?;
            self.writer = Some(w);
        }
        self.writer.as_mut().ok_or_else(|| E::custom("no writer"))
    }
}

struct FileSeed<'s, 'a>(&'s mut JsonSink<'a>);

impl<'de> DeserializeSeed<'de> for FileSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FileSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Metro 2 JSON object with header, data and trailer")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.0;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "lineEnding" => {
                    let v: String = map.next_value()?;
                    sink.line_ending = match v.as_str() {
                        "lf" => LineEnding::Lf,
                        "crlf" => LineEnding::CrLf,
                        "none" => LineEnding::None,
                        o => {
                            return Err(de::Error::custom(format!(
                                "lineEnding {o:?}: expected lf, crlf or none"
                            )));
                        }
                    };
                }
                "finalLineEnding" => {
                    sink.final_line_ending = map.next_value()?;
                    let omit = !sink.final_line_ending && !sink.normalize;
                    if let Some(w) = sink.writer.as_mut() {
                        w.set_no_final_line_ending(omit);
                    }
                }
                "header" => {
                    let r: JRec<Header> = map.next_value()?;
                    let (h, f) = r.check("header")?;
                    sink.header = Some((h, to_framing(&f, 426)));
                }
                "data" => map.next_value_seed(DataSeed(&mut *sink))?,
                "trailer" => {
                    let r: JRec<Trailer> = map.next_value()?;
                    let (t, f) = r.check("trailer")?;
                    let normalize = sink.normalize;
                    sink.writer::<A::Error>()?;
                    let Some(w) = sink.writer.take() else {
                        return Err(de::Error::custom("no writer"));
                    };
                    if normalize {
                        w.finish().map_err(de::Error::custom)?;
                    } else {
                        w.finish_with(&t, &to_framing(&f, 426)).map_err(de::Error::custom)?;
                    }
                    sink.done = true;
                }
                other => {
                    return Err(de::Error::custom(format!(
                        "unknown key `{other}` (expected lineEnding, header, data, trailer)"
                    )));
                }
            }
        }
        Ok(())
    }
}

struct DataSeed<'s, 'a>(&'s mut JsonSink<'a>);

impl<'de> DeserializeSeed<'de> for DataSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of data records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let sink = self.0;
        while let Some(d) = seq.next_element::<JData>()? {
            let (rec, f) = d.into_record::<A::Error>()?;
            let framing =
                if sink.normalize { Framing::default() } else { to_framing(&f, rec.content_len()) };
            let n = sink.records + 1;
            sink.writer::<A::Error>()?
                .write_framed(&rec, &framing)
                .map_err(|e| de::Error::custom(format!("data record {n}: {e}")))?;
            sink.records = n;
        }
        Ok(())
    }
}

fn json_to_metro2<R: BufRead>(
    input: R,
    w: &mut dyn Write,
    normalize: bool,
) -> anyhow::Result<Stats> {
    let mut sink = JsonSink {
        out: Some(w),
        writer: None,
        header: None,
        line_ending: LineEnding::Lf,
        final_line_ending: true,
        normalize,
        records: 0,
        done: false,
    };
    let mut de = serde_json::Deserializer::from_reader(input);
    FileSeed(&mut sink).deserialize(&mut de)?;
    de.end()?;
    if !sink.done {
        if normalize {
            sink.writer::<serde_json::Error>()?;
            if let Some(w) = sink.writer.take() {
                w.finish()?;
            }
        } else {
            anyhow::bail!("the JSON has no trailer; convert with --normalize to compute one");
        }
    }
    Ok(Stats { records: sink.records, findings: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{Base, K1};
    use crate::metro2::writer::write_to_vec;

    #[test]
    fn metro2_json_metro2_is_byte_identical() {
        let mut r = DataRecord::new(Base {
            consumer_account_number: "A1".into(),
            account_status: "93".into(),
            date_opened: Some(jiff::civil::date(2026, 1, 2)),
            ..Default::default()
        });
        r.k1 = Some(K1 { original_creditor_name: "ACME".into(), creditor_classification: 2 });
        let dir = tempfile::tempdir().unwrap();
        for opts in [
            WriterOptions::default(),
            WriterOptions { line_ending: LineEnding::None, blocked: true, ..Default::default() },
        ] {
            let bytes = write_to_vec(&Header::default(), &[r.clone(), r.clone()], opts).unwrap();
            let json = dir.path().join("f.json");
            let back = dir.path().join("f.dat");
            convert(&bytes[..], &json, Format::Json, false).unwrap();
            let text = std::fs::read_to_string(&json).unwrap();
            assert!(text.contains("\"dateOpened\":\"2026-01-02\""), "{text}");
            let st =
                convert(std::fs::read(&json).unwrap().as_slice(), &back, Format::Metro2, false)
                    .unwrap();
            assert_eq!(st.records, 2);
            assert_eq!(std::fs::read(&back).unwrap(), bytes);
        }
    }

    #[test]
    fn json_errors_are_clean() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("x.dat");
        let bad = br#"{"header":{},"data":[{"base":{"bogus":1}}],"trailer":{}}"#;
        let e = convert(&bad[..], &out, Format::Metro2, false).unwrap_err();
        assert!(format!("{e:#}").contains("unknown field `bogus` in base"), "{e:#}");
        let bad = br#"{"header":{},"data":[{"base":{"surname":"X"}}]"#;
        assert!(convert(&bad[..], &out, Format::Metro2, false).is_err());
        assert!(!out.exists());
    }
}
