//! Generates the Metro 2 record types and field tables from `formats/metro2/*.csv`.
//!
//! The CSV tables are the one place where a Metro 2 field is defined (name, JSON name, CRRG
//! field number, position, length, type, fill, requiredness). This script turns each table
//! into a `FieldSpec` table, a typed struct, and its decoder and encoder; `src/metro2/model.rs`
//! includes the result. It checks that every table is contiguous and sums to the segment
//! length, so a wrong layout fails the build rather than a bureau upload.

macro_rules! wl {
    ($o:expr, $($t:tt)*) => {{
        $o.push_str(&format!($($t)*));
        $o.push('\n');
    }};
}
use std::path::{Path, PathBuf};

struct Field {
    name: String,
    json: String,
    crrg: String,
    start: usize,
    length: usize,
    kind: String,
    fill: String,
    required: String,
}

struct Segment {
    key: String,
    ident: String,
    length: usize,
    fields: Vec<Field>,
}

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"))
        .join("formats/metro2");
    println!("cargo:rerun-if-changed={}", dir.display());
    let index = read_csv(&dir.join("segments.csv"));
    let mut segments = Vec::new();
    for row in index {
        let [key, ident, length, layout] = row.as_slice() else {
            panic!("segments.csv: each row needs segment,identifier,length,layout");
        };
        let path = dir.join(layout);
        println!("cargo:rerun-if-changed={}", path.display());
        let mut fields = Vec::new();
        for r in read_csv(&path) {
            let [name, json, crrg, start, len, kind, fill, req] = r.as_slice() else {
                panic!("{layout}: each row needs 8 columns");
            };
            fields.push(Field {
                name: name.clone(),
                json: json.clone(),
                crrg: crrg.clone(),
                start: start.parse().expect("start"),
                length: len.parse().expect("length"),
                kind: kind.clone(),
                fill: fill.clone(),
                required: req.clone(),
            });
        }
        let seg = Segment {
            key: key.clone(),
            ident: ident.clone(),
            length: length.parse().expect("length"),
            fields,
        };
        check(&seg);
        segments.push(seg);
    }
    let mut out = String::new();
    for s in &segments {
        generate(&mut out, s);
    }
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("out dir")).join("metro2_layouts.rs");
    std::fs::write(dest, out).expect("writing generated layouts");
}

fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().to_string()).collect())
        .collect()
}

fn check(s: &Segment) {
    let mut pos = 1;
    for f in &s.fields {
        assert_eq!(
            f.start, pos,
            "{}: field {} starts at {} (expected {pos})",
            s.key, f.name, f.start
        );
        pos += f.length;
        let numeric = matches!(f.kind.as_str(), "N" | "DATE" | "TS" | "SSN" | "DOB" | "RDW");
        assert!(
            (numeric && f.fill == "zero") || (!numeric && f.fill == "blank"),
            "{}: field {} has type {} but fill {}",
            s.key,
            f.name,
            f.kind,
            f.fill
        );
        assert!(matches!(f.required.as_str(), "Y" | "A" | "N"), "{}: {}", s.key, f.name);
        match f.kind.as_str() {
            "DATE" | "DOB" => assert_eq!(f.length, 8, "{}: {}", s.key, f.name),
            "TS" => assert_eq!(f.length, 14, "{}: {}", s.key, f.name),
            "N" | "SSN" | "RDW" => assert!(f.length <= 19, "{}: {}", s.key, f.name),
            "AN" | "ID" => {}
            k => panic!("{}: {}: unknown type {k}", s.key, f.name),
        }
    }
    assert_eq!(pos - 1, s.length, "{}: fields sum to {} (expected {})", s.key, pos - 1, s.length);
}

fn type_name(key: &str) -> String {
    match key {
        "header" => "Header".into(),
        "base" => "Base".into(),
        "trailer" => "Trailer".into(),
        k => k.to_uppercase(),
    }
}

fn rust_type(kind: &str) -> &'static str {
    match kind {
        "AN" => "String",
        "N" => "u64",
        "DATE" => "Option<jiff::civil::Date>",
        "TS" => "Option<jiff::civil::DateTime>",
        "SSN" => "SsnField",
        "DOB" => "DobField",
        _ => unreachable!(),
    }
}

fn skip_if(kind: &str) -> &'static str {
    match kind {
        "AN" => "String::is_empty",
        "N" => "is_zero",
        "DATE" | "TS" => "Option::is_none",
        "SSN" => "SsnField::is_zero",
        "DOB" => "DobField::is_none",
        _ => unreachable!(),
    }
}

fn generate(out: &mut String, s: &Segment) {
    let ty = type_name(&s.key);
    let upper = s.key.to_uppercase();
    let w = |out: &mut String, t: &str| out.push_str(t);
    // Field table.
    wl!(
        out,
        "/// Field table of the {ty} ({} bytes), from `formats/metro2/{}.csv`.",
        s.length,
        s.key
    );
    wl!(out, "pub static {upper}_LAYOUT: Layout = Layout {{");
    wl!(out, "    segment: Segment::{ty},");
    wl!(out, "    identifier: {:?},", s.ident);
    wl!(out, "    length: {},", s.length);
    w(out, "    fields: &[\n");
    for f in &s.fields {
        let kind = match f.kind.as_str() {
            "AN" => "FieldType::Alphanumeric",
            "N" => "FieldType::Numeric",
            "DATE" => "FieldType::Date",
            "TS" => "FieldType::Timestamp",
            "SSN" => "FieldType::Ssn",
            "DOB" => "FieldType::DateOfBirth",
            "RDW" => "FieldType::Rdw",
            "ID" => "FieldType::Identifier",
            _ => unreachable!(),
        };
        let req = match f.required.as_str() {
            "Y" => "Required::Yes",
            "A" => "Required::Applicable",
            _ => "Required::No",
        };
        wl!(
            out,
            "        FieldSpec {{ name: {:?}, json: {:?}, crrg: {:?}, start: {}, length: {}, kind: {kind}, required: {req} }},",
            f.name,
            f.json,
            f.crrg,
            f.start,
            f.length
        );
    }
    w(out, "    ],\n};\n\n");

    // Struct.
    wl!(
        out,
        "/// {ty} of the 426-character format ({} bytes). Generated from `formats/metro2/{}.csv`;\n/// record descriptor words and constant identifiers are not stored (the writer computes them).",
        s.length,
        s.key
    );
    w(
        out,
        "#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]\n",
    );
    w(out, "#[serde(default)]\n");
    wl!(out, "pub struct {ty} {{");
    for f in data_fields(s) {
        let end = f.start + f.length - 1;
        wl!(
            out,
            "    /// CRRG field {}, positions {}-{end} ({} {}, {}).",
            f.crrg,
            f.start,
            f.kind,
            f.length,
            match f.required.as_str() {
                "Y" => "required",
                "A" => "when applicable",
                _ => "optional",
            }
        );
        wl!(
            out,
            "    #[serde(rename = {:?}, skip_serializing_if = {:?})]",
            f.json,
            skip_if(&f.kind)
        );
        wl!(out, "    pub {}: {},", f.name, rust_type(&f.kind));
    }
    w(out, "}\n\n");

    // Decoder, encoder, visitor.
    wl!(out, "impl {ty} {{");
    w(out, "    /// The field table of this record type.\n");
    wl!(out, "    pub fn layout() -> &'static Layout {{ &{upper}_LAYOUT }}\n");
    w(
        out,
        "    /// Decodes the fields of one record or segment (exactly its length in bytes) into\n",
    );
    w(out, "    /// `self`, reusing its allocations; every field problem is pushed to `issues`\n");
    w(out, "    /// (the field keeps its default value).\n");
    wl!(out, "    pub fn decode_into(&mut self, bytes: &[u8], issues: &mut Vec<FieldIssue>) {{");
    wl!(out, "        let Some(b) = bytes.first_chunk::<{}>() else {{", s.length);
    wl!(
        out,
        "            issues.push(FieldIssue {{ field: &{upper}_LAYOUT.fields[0], kind: IssueKind::Truncated }});"
    );
    w(out, "            return;\n        };\n");
    for (i, f) in s.fields.iter().enumerate() {
        let (a, e) = (f.start - 1, f.start - 1 + f.length);
        let call = match f.kind.as_str() {
            "AN" => format!("codec::dec_an(&b[{a}..{e}], &mut self.{})", f.name),
            "N" => format!("codec::dec_n(&b[{a}..{e}]).map(|v| self.{} = v)", f.name),
            "DATE" => format!("codec::dec_date(&b[{a}..{e}]).map(|v| self.{} = v)", f.name),
            "TS" => format!("codec::dec_ts(&b[{a}..{e}]).map(|v| self.{} = v)", f.name),
            "SSN" => format!("codec::dec_n(&b[{a}..{e}]).map(|v| self.{} = SsnField(v))", f.name),
            "DOB" => {
                format!("codec::dec_date(&b[{a}..{e}]).map(|v| self.{} = DobField(v))", f.name)
            }
            _ => continue,
        };
        let reset = match f.kind.as_str() {
            "AN" => String::new(),
            _ => format!("self.{} = Default::default(); ", f.name),
        };
        wl!(
            out,
            "        if let Err(kind) = {call} {{ {reset}issues.push(FieldIssue {{ field: &{upper}_LAYOUT.fields[{i}], kind }}); }}"
        );
    }
    w(out, "    }\n\n");
    w(out, "    /// Decodes a fresh value (see [`Self::decode_into`]).\n");
    w(out, "    pub fn decode(bytes: &[u8], issues: &mut Vec<FieldIssue>) -> Self {\n");
    w(
        out,
        "        let mut v = Self::default();\n        v.decode_into(bytes, issues);\n        v\n    }\n\n",
    );
    w(
        out,
        "    /// Appends the encoded fields (exactly the segment length) to `out`. The record\n",
    );
    w(out, "    /// descriptor word, when the layout has one, is written as `rdw`.\n");
    wl!(
        out,
        "    pub fn encode(&self, out: &mut Vec<u8>, rdw: u64, mode: TextMode) -> Result<(), FieldError> {{"
    );
    w(out, "        let _ = rdw;\n");
    for (i, f) in s.fields.iter().enumerate() {
        let fs = format!("&{upper}_LAYOUT.fields[{i}]");
        let call = match f.kind.as_str() {
            "AN" => format!("codec::enc_an(out, &self.{}, {fs}, mode)", f.name),
            "N" => format!("codec::enc_n(out, self.{}, {fs})", f.name),
            "DATE" => format!("codec::enc_date(out, self.{}, {fs})", f.name),
            "TS" => format!("codec::enc_ts(out, self.{}, {fs})", f.name),
            "SSN" => format!("codec::enc_n(out, self.{}.0, {fs})", f.name),
            "DOB" => format!("codec::enc_date(out, self.{}.0, {fs})", f.name),
            "RDW" => format!("codec::enc_n(out, rdw, {fs})"),
            "ID" => format!("codec::enc_an(out, {:?}, {fs}, TextMode::Preserve)", s.ident),
            _ => unreachable!(),
        };
        wl!(out, "        {call}?;");
    }
    w(out, "        Ok(())\n    }\n\n");
    w(out, "    /// Calls `f` with each required field that is zero or blank.\n");
    let any_req = s.fields.iter().any(|f| {
        f.required == "Y" && matches!(f.kind.as_str(), "AN" | "N" | "DATE" | "TS" | "SSN" | "DOB")
    });
    let fname = if any_req { "f" } else { "_f" };
    wl!(out, "    pub fn missing_required(&self, {fname}: &mut dyn FnMut(&'static FieldSpec)) {{");
    for (i, fd) in s.fields.iter().enumerate() {
        if fd.required != "Y" {
            continue;
        }
        let test = match fd.kind.as_str() {
            "AN" => format!("self.{}.trim_start().is_empty()", fd.name),
            "N" => format!("self.{} == 0", fd.name),
            "DATE" | "TS" => format!("self.{}.is_none()", fd.name),
            "SSN" => format!("self.{}.0 == 0", fd.name),
            "DOB" => format!("self.{}.0.is_none()", fd.name),
            _ => continue,
        };
        wl!(out, "        if {test} {{ f(&{upper}_LAYOUT.fields[{i}]); }}");
    }
    w(out, "    }\n\n");
    w(out, "    /// Calls `f` with each text field holding a lower-case letter.\n");
    w(out, "    pub fn lower_case(&self, f: &mut dyn FnMut(&'static FieldSpec)) {\n");
    for (i, fd) in s.fields.iter().enumerate() {
        if fd.kind == "AN" {
            wl!(
                out,
                "        if self.{}.bytes().any(|b| b.is_ascii_lowercase()) {{ f(&{upper}_LAYOUT.fields[{i}]); }}",
                fd.name
            );
        }
    }
    w(out, "    }\n\n");
    w(out, "    /// Calls `f` with each stored field and its value, in layout order.\n");
    w(out, "    pub fn visit(&self, f: &mut dyn FnMut(&'static FieldSpec, Value<'_>)) {\n");
    for (i, fd) in s.fields.iter().enumerate() {
        let v = match fd.kind.as_str() {
            "AN" => format!("Value::Text(&self.{})", fd.name),
            "N" => format!("Value::Number(self.{})", fd.name),
            "DATE" => format!("Value::Date(self.{})", fd.name),
            "TS" => format!("Value::Timestamp(self.{})", fd.name),
            "SSN" => format!("Value::Ssn(self.{}.0)", fd.name),
            "DOB" => format!("Value::Dob(self.{}.0)", fd.name),
            _ => continue,
        };
        wl!(out, "        f(&{upper}_LAYOUT.fields[{i}], {v});");
    }
    w(out, "    }\n}\n\n");
}

fn data_fields(s: &Segment) -> impl Iterator<Item = &Field> {
    s.fields.iter().filter(|f| f.kind != "RDW" && f.kind != "ID")
}
