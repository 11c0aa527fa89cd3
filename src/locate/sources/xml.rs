//! XML result files and responses, streamed with quick-xml: one record element at a time is
//! held in memory, never the document.
//!
//! The mapping names the record element and, for each field, a path relative to it
//! (`Name/@first`, `SSN`, `Deceased/@date`); repeated groups (`Address`, `Phone`, `Email`) are
//! child elements of the record with paths relative to the group (`Line1`, `@firstSeen`, `.`
//! for the element's own text). Positions are the record's number, line and byte offset. A
//! record with bad values is rejected and reading goes on; a syntax error rejects the record
//! it occurs in and ends the file (nothing after it can be trusted).

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, Read};
use std::path::Path;
use std::rc::Rc;

use anyhow::Context;
use indicatif::ProgressBar;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

use crate::error::ErrorCode;
use crate::locate::mapping::{self, FlatRecord, Mapping};
use crate::locate::sources::{
    SourceKind, SourceRead, SourceReject, publish_rejects, write_rejects,
};

/// Counts the newlines the XML reader consumes, so that a record's line is known exactly.
struct LineCounter<R> {
    inner: R,
    newlines: Rc<Cell<u64>>,
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let c = buf.get(..n).map(|b| b.iter().filter(|x| **x == b'\n').count()).unwrap_or(0);
        self.newlines.set(self.newlines.get() + c as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let c = buf.get(..amt).unwrap_or(buf).iter().filter(|x| **x == b'\n').count();
            self.newlines.set(self.newlines.get() + c as u64);
        }
        self.inner.consume(amt);
    }
}

/// Which part of the record a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Group {
    Address,
    Phone,
    Email,
}

/// Field lookup tables built from the mapping.
struct Paths {
    record: String,
    /// Record-level path → fields.
    fields: HashMap<String, Vec<&'static str>>,
    /// Group element name → group.
    groups: HashMap<String, Group>,
    /// Group → (path relative to the group element, `.` for its text) → fields.
    group_fields: HashMap<Group, HashMap<String, Vec<&'static str>>>,
}

impl Paths {
    fn new(m: &Mapping) -> Paths {
        let norm = |p: &str| p.trim().trim_start_matches("./").to_string();
        let mut fields: HashMap<String, Vec<&'static str>> = HashMap::new();
        for (k, p) in m.fields.entries() {
            fields.entry(norm(p)).or_default().push(k);
        }
        let mut groups = HashMap::new();
        let mut group_fields: HashMap<Group, HashMap<String, Vec<&'static str>>> = HashMap::new();
        type Spec<'a> = (Group, Option<&'a String>, Vec<(&'static str, &'a str)>);
        let specs: [Spec<'_>; 3] = [
            (
                Group::Address,
                m.address.as_ref().and_then(|g| g.element.as_ref()),
                m.address.as_ref().map(|g| g.entries()).unwrap_or_default(),
            ),
            (
                Group::Phone,
                m.phone.as_ref().and_then(|g| g.element.as_ref()),
                m.phone.as_ref().map(|g| g.entries()).unwrap_or_default(),
            ),
            (
                Group::Email,
                m.email.as_ref().and_then(|g| g.element.as_ref()),
                m.email.as_ref().map(|g| g.entries()).unwrap_or_default(),
            ),
        ];
        for (g, element, entries) in specs {
            let Some(element) = element else { continue };
            groups.insert(element.trim().to_string(), g);
            for (k, p) in entries {
                group_fields.entry(g).or_default().entry(norm(p)).or_default().push(k);
            }
        }
        Paths { record: m.record.trim().to_string(), fields, groups, group_fields }
    }
}

/// The record being assembled.
struct Current {
    flat: FlatRecord,
    /// Path of the current element below the record element (`Address/Line1`).
    path: String,
    /// Length of `path` before each open element was appended.
    lens: Vec<usize>,
    /// The group item being read (its element is a child of the record) and its values.
    group: Option<(Group, BTreeMap<&'static str, String>)>,
    /// Text of the innermost element.
    text: String,
    /// First value error (e.g. a bad attribute encoding) of the record.
    error: Option<(String, String)>,
}

impl Current {
    /// Stores `value` for the element/attribute at `rel_path` (`Name/@first`, `SSN`).
    fn put(&mut self, paths: &Paths, rel_path: &str, value: &str) {
        if let Some((g, values)) = &mut self.group {
            let inner = rel_path.split_once('/').map(|(_, r)| r).unwrap_or(".");
            if let Some(keys) = paths.group_fields.get(g).and_then(|m| m.get(inner)) {
                for k in keys {
                    values.insert(k, value.to_string());
                }
            }
            return;
        }
        if let Some(keys) = paths.fields.get(rel_path) {
            for k in keys {
                let slot = self.flat.fields.entry(k).or_default();
                if slot.is_empty() {
                    *slot = value.to_string();
                }
            }
        }
    }
}

fn attr_value(a: &quick_xml::events::attributes::Attribute<'_>) -> Result<String, String> {
    a.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).map_err(|e| e.to_string())
}

/// Reads an XML result file, advancing `progress` by the bytes read.
pub fn read(
    path: &Path,
    source: &str,
    kind: SourceKind,
    m: &Mapping,
    progress: &ProgressBar,
) -> anyhow::Result<SourceRead> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("source {source}: cannot open {}", path.display()))?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut input = crate::fsutil::HashingReader::new(progress.wrap_read(file));
    let mut out = read_from(
        std::io::BufReader::with_capacity(1 << 16, &mut input),
        &file_name,
        source,
        kind,
        m,
    );
    out.sha256 = Some(
        input
            .finish()
            .with_context(|| format!("source {source}: cannot read {}", path.display()))?,
    );
    out.rejects_path = publish_rejects(path, &out.rejects, |p| write_rejects(p, &out.rejects))?;
    Ok(out)
}

/// Streams records from any buffered reader. `name` labels fallback record ids.
pub fn read_from<R: BufRead>(
    input: R,
    name: &str,
    source: &str,
    kind: SourceKind,
    m: &Mapping,
) -> SourceRead {
    let paths = Paths::new(m);
    let newlines = Rc::new(Cell::new(0u64));
    let mut reader = Reader::from_reader(LineCounter { inner: input, newlines: newlines.clone() });
    reader.config_mut().trim_text(false);
    let mut out = SourceRead::default();
    let mut buf = Vec::with_capacity(4096);
    let mut cur: Option<Current> = None;
    let mut n: u64 = 0;
    loop {
        let line_before = newlines.get() + 1;
        let byte_before = reader.buffer_position();
        let ev = match reader.read_event_into(&mut buf) {
            Ok(ev) => ev,
            Err(e) => {
                let (record, line, byte, id) = match &cur {
                    Some(c) => (
                        c.flat.record,
                        c.flat.line,
                        c.flat.byte,
                        c.flat.fields.get("record_id").cloned().unwrap_or_default(),
                    ),
                    None => {
                        n += 1;
                        (n, line_before, byte_before, String::new())
                    }
                };
                out.rejects.push(SourceReject {
                    record,
                    line,
                    byte,
                    source_record_id: id,
                    field: String::new(),
                    code: ErrorCode("malformed_xml"),
                    message: format!(
                        "XML syntax error at byte {} (line {}): {e}; the rest of the file was not read",
                        reader.error_position(),
                        newlines.get() + 1
                    ),
                    raw: Vec::new(),
                });
                break;
            }
        };
        match ev {
            Event::Eof => {
                if let Some(c) = cur.take() {
                    out.rejects.push(SourceReject {
                        record: c.flat.record,
                        line: c.flat.line,
                        byte: c.flat.byte,
                        source_record_id: c
                            .flat
                            .fields
                            .get("record_id")
                            .cloned()
                            .unwrap_or_default(),
                        field: String::new(),
                        code: ErrorCode("malformed_xml"),
                        message: format!("the file ends inside <{}>", paths.record),
                        raw: Vec::new(),
                    });
                }
                break;
            }
            Event::Start(e) if cur.is_none() && is_record(&e, &paths) => {
                n += 1;
                cur = Some(start_record(&paths, &e, n, line_before, byte_before));
            }
            Event::Empty(e) if cur.is_none() && is_record(&e, &paths) => {
                n += 1;
                let mut c = start_record(&paths, &e, n, line_before, byte_before);
                if let Some(done) = close(&mut c, &paths) {
                    finish(done, &mut out, name, source, kind, m);
                }
            }
            Event::Start(e) => {
                if let Some(c) = cur.as_mut() {
                    open(c, &paths, &e);
                }
            }
            Event::Empty(e) => {
                if let Some(c) = cur.as_mut() {
                    open(c, &paths, &e);
                    if let Some(done) = close(c, &paths) {
                        finish(done, &mut out, name, source, kind, m);
                        cur = None;
                    }
                }
            }
            Event::End(_) => {
                if let Some(c) = cur.as_mut()
                    && let Some(done) = close(c, &paths)
                {
                    finish(done, &mut out, name, source, kind, m);
                    cur = None;
                }
            }
            Event::Text(t) => {
                if let Some(c) = cur.as_mut() {
                    c.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(c) = cur.as_mut() {
                    c.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                if let Some(c) = cur.as_mut() {
                    match r.resolve_char_ref() {
                        Ok(Some(ch)) => c.text.push(ch),
                        _ => {
                            let name = r.xml10_content();
                            match quick_xml::escape::resolve_predefined_entity(&name) {
                                Some(s) => c.text.push_str(s),
                                None => {
                                    c.error.get_or_insert((
                                        String::new(),
                                        format!("unknown entity &{name};"),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
        buf.clear();
    }
    out.rows = n.max(out.records.len() as u64 + out.rejects.len() as u64);
    out
}

fn start_record(paths: &Paths, e: &BytesStart<'_>, n: u64, line: u64, byte: u64) -> Current {
    let mut c = Current {
        flat: FlatRecord { record: n, line, byte, ..FlatRecord::default() },
        path: String::new(),
        lens: Vec::new(),
        group: None,
        text: String::new(),
        error: None,
    };
    attributes(&mut c, paths, e, "");
    c
}

fn is_record(e: &BytesStart<'_>, paths: &Paths) -> bool {
    let n = e.local_name();
    let s: &str = n.as_ref();
    s == paths.record
}

/// Handles the attributes of an element at `rel_path` ("" for the record element).
fn attributes(c: &mut Current, paths: &Paths, e: &BytesStart<'_>, rel_path: &str) {
    for a in e.attributes() {
        match a {
            Ok(a) => {
                let key = a.key.local_name().as_ref().to_string();
                let p = if rel_path.is_empty() {
                    format!("@{key}")
                } else {
                    format!("{rel_path}/@{key}")
                };
                match attr_value(&a) {
                    Ok(v) => c.put(paths, &p, &v),
                    Err(msg) => {
                        c.error.get_or_insert((p, msg));
                    }
                }
            }
            Err(err) => {
                c.error.get_or_insert((rel_path.to_string(), err.to_string()));
            }
        }
    }
}

/// A child element of the record opens.
fn open(c: &mut Current, paths: &Paths, e: &BytesStart<'_>) {
    let n = e.local_name();
    let name: &str = n.as_ref();
    c.lens.push(c.path.len());
    if !c.path.is_empty() {
        c.path.push('/');
    }
    c.path.push_str(name);
    c.text.clear();
    if c.group.is_none()
        && c.lens.len() == 1
        && let Some(g) = paths.groups.get(name)
    {
        c.group = Some((*g, BTreeMap::new()));
    }
    let rel_path = std::mem::take(&mut c.path);
    // Presence of a mapped element (e.g. `<Deceased/>`) is recorded even when it has no text.
    if c.group.is_none()
        && let Some(keys) = paths.fields.get(&rel_path)
    {
        for k in keys {
            c.flat.fields.entry(k).or_default();
        }
    }
    attributes(c, paths, e, &rel_path);
    c.path = rel_path;
}

/// An element closes; returns the finished record when it was the record element.
fn close(c: &mut Current, paths: &Paths) -> Option<FlatRecord> {
    let Some(len) = c.lens.pop() else {
        let mut done = std::mem::take(&mut c.flat);
        if let Some((field, msg)) = c.error.take() {
            done.fields.insert("\u{0}error", format!("{field}\u{0}{msg}"));
        }
        return Some(done);
    };
    let rel_path = std::mem::take(&mut c.path);
    let text = std::mem::take(&mut c.text);
    let text = text.trim();
    if !text.is_empty() {
        c.put(paths, &rel_path, text);
    }
    c.path = rel_path;
    c.path.truncate(len);
    if c.lens.is_empty()
        && let Some((g, values)) = c.group.take()
    {
        match g {
            Group::Address => c.flat.addresses.push(values),
            Group::Phone => c.flat.phones.push(values),
            Group::Email => c.flat.emails.push(values),
        }
    }
    None
}

fn finish(
    mut flat: FlatRecord,
    out: &mut SourceRead,
    name: &str,
    source: &str,
    kind: SourceKind,
    m: &Mapping,
) {
    let fallback = format!("{name}:{}", flat.record);
    let id = flat.fields.get("record_id").cloned().unwrap_or_else(|| fallback.clone());
    if let Some(err) = flat.fields.remove("\u{0}error") {
        let (field, msg) = err.split_once('\u{0}').unwrap_or(("", err.as_str()));
        out.rejects.push(SourceReject {
            record: flat.record,
            line: flat.line,
            byte: flat.byte,
            source_record_id: id,
            field: field.to_string(),
            code: ErrorCode("malformed_xml"),
            message: msg.to_string(),
            raw: Vec::new(),
        });
        return;
    }
    match mapping::to_locate_record(&flat, source, m, kind.record_kind(), &fallback) {
        Ok(r) => out.records.push(r),
        Err(e) => out.rejects.push(SourceReject::from_field(&flat, &id, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping::load(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("formats/sources/vendor-xml-default.toml"),
        )
        .unwrap()
    }

    const DOC: &str = r#"<?xml version="1.0"?>
<LocateResults vendor="ACME DATA" generated="2026-11-20">
  <Subject id="V1" reference="A-1">
    <Name first="JOHN" middle="Q" last="SMITH &amp; SONS" suffix=""/>
    <SSN>123456789</SSN>
    <DOB>1980-03-07</DOB>
    <Address firstSeen="2025-01-04" lastSeen="2026-10-30">
      <Line1>12 MAIN ST</Line1><Line2>APT 4</Line2><City>AUSTIN</City><State>TX</State><Zip>78701</Zip>
    </Address>
    <Address firstSeen="2020-01-04" lastSeen="2021-10-30">
      <Line1>1 OLD RD</Line1><City>WACO</City><State>TX</State><Zip>76701</Zip>
    </Address>
    <Phone type="mobile" score="87" firstSeen="2025-02-01" lastSeen="2026-10-30">5125550100</Phone>
    <Email>John@Example.com</Email>
    <Deceased date="2026-01-15"/>
    <Bankruptcy chapter="7" filed="2025-06-01" status="petition"/>
  </Subject>
  <Subject id="V2">
    <Name first="ANN" last="LEE"/>
    <SSNLast4>6789</SSNLast4>
    <DOB>1980-02-30</DOB>
  </Subject>
  <Subject id="V3">
    <Name first="BO" last="KIM"/>
    <Deceased/>
  </Subject>
  <Subject id="V4">
    <Name first="CY" last="NG"/>
  </Sbject>
  <Subject id="V5"><Name first="X" last="Y"/></Subject>
</LocateResults>
"#;

    #[test]
    fn streams_subjects_and_rejects_bad_ones() {
        let r = read_from(DOC.as_bytes(), "v.xml", "acme", SourceKind::VendorXml, &mapping());
        assert_eq!(r.records.len(), 2, "{:?}", r.rejects);
        let a = &r.records[0];
        assert_eq!(a.source_record_id, "V1");
        assert_eq!(a.reference.as_deref(), Some("A-1"));
        assert_eq!(a.name.last, "SMITH & SONS");
        assert_eq!(a.addresses.len(), 2);
        assert_eq!(a.addresses[0].address.line2, "APT 4");
        assert_eq!(a.addresses[1].last_seen, Some(jiff::civil::date(2021, 10, 30)));
        assert_eq!(a.phones[0].line_type.as_deref(), Some("mobile"));
        assert_eq!(a.phones[0].vendor_score, Some(87));
        assert_eq!(a.emails, vec!["john@example.com".to_string()]);
        assert_eq!(a.deceased.as_ref().unwrap().date, Some(jiff::civil::date(2026, 1, 15)));
        assert_eq!(a.bankruptcy.as_ref().unwrap().chapter.as_deref(), Some("7"));
        let b = &r.records[1];
        assert_eq!(b.source_record_id, "V3");
        assert!(b.deceased.is_some() && b.deceased.as_ref().unwrap().date.is_none());
        // V2: bad DOB (masked); V4: syntax error ends the file.
        assert_eq!(r.rejects.len(), 2);
        assert_eq!(r.rejects[0].source_record_id, "V2");
        assert_eq!(r.rejects[0].code.as_str(), "invalid_dob");
        assert_eq!(r.rejects[0].line, 18);
        assert!(!r.rejects[0].message.contains("02-30"));
        assert_eq!(r.rejects[1].code.as_str(), "malformed_xml");
        assert_eq!(r.rejects[1].source_record_id, "V4");
        assert_eq!(r.rows, 4);
    }
}
