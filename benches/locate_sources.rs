//! Locate source readers: records/s and peak RSS when streaming a generated vendor batch XML
//! file and an NCOA CSV file through their default mappings.
//!
//! `cargo bench --bench locate_sources [-- RECORDS]` (default 200,000 records per file). The
//! data is generated into a temporary directory first (not timed) and removed afterwards.

mod common;

use common::peak_rss_kb;
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use indicatif::ProgressBar;
use skiptrace::locate::mapping::Mapping;
use skiptrace::locate::sources::{SourceKind, csv, xml};

const FIRST: &[&str] = &["JOHN", "MARIA", "WEI", "AISHA", "DMITRI", "LUCIA", "OMAR", "GRACE"];
const LAST: &[&str] = &["SMITH", "GARCIA", "CHEN", "OKAFOR", "IVANOV", "ROSSI", "HADDAD", "KIM"];
const CITY: &[(&str, &str, &str)] = &[
    ("AUSTIN", "TX", "787"),
    ("DENVER", "CO", "802"),
    ("BOSTON", "MA", "021"),
    ("TAMPA", "FL", "336"),
];

fn pick<T: Copy>(list: &[T], i: usize) -> T {
    list[i % list.len()]
}

fn ssn(i: usize) -> String {
    format!("{:03}{:02}{:04}", 100 + i % 600, 10 + i % 89, 1000 + i % 8999)
}

fn generate_xml(path: &Path, n: usize) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        w,
        "<?xml version=\"1.0\"?>\n<LocateResults vendor=\"BENCH\" generated=\"2026-11-20\">"
    )?;
    for i in 0..n {
        let (city, st, z3) = pick(CITY, i / 7);
        writeln!(
            w,
            "  <Subject id=\"V{i:08}\" reference=\"A-{i}\">\n    <Name first=\"{}\" middle=\"Q\" last=\"{}\" suffix=\"\"/>\n    <SSN>{}</SSN>\n    <DOB>19{:02}-{:02}-{:02}</DOB>\n    <Address firstSeen=\"2025-01-04\" lastSeen=\"2026-10-30\">\n      <Line1>{} MAIN ST</Line1><Line2>APT {}</Line2><City>{city}</City><State>{st}</State><Zip>{z3}{:02}</Zip>\n    </Address>\n    <Phone type=\"mobile\" score=\"{}\" firstSeen=\"2025-02-01\" lastSeen=\"2026-10-30\">512555{:04}</Phone>\n    <Email>p{i}@example.com</Email>\n  </Subject>",
            pick(FIRST, i),
            pick(LAST, i / 3),
            ssn(i),
            40 + i % 60,
            1 + i % 12,
            1 + i % 28,
            1 + i % 9000,
            1 + i % 40,
            i % 100,
            i % 100,
            i % 10000
        )?;
    }
    writeln!(w, "</LocateResults>")?;
    w.flush()
}

fn generate_ncoa(path: &Path, n: usize) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        w,
        "record_id,input_reference,first_name,middle_name,last_name,suffix,old_address1,old_address2,old_city,old_state,old_zip,return_code,move_type,move_effective_date,new_address1,new_address2,new_city,new_state,new_zip"
    )?;
    for i in 0..n {
        let (city, st, z3) = pick(CITY, i);
        let (ncity, nst, nz3) = pick(CITY, i + 1);
        let (code, mt) = match i % 10 {
            0 => ("02", "I"),
            1 => ("00", ""),
            2 => ("A", "F"),
            _ => ("A", "I"),
        };
        let new = if code == "A" {
            format!("{} OAK AVE,,{ncity},{nst},{nz3}{:02}", 1 + i % 5000, i % 100)
        } else {
            ",,,,".to_string()
        };
        writeln!(
            w,
            "N{i:08},A-{i},{},,{},,{} MAIN ST,,{city},{st},{z3}{:02},{code},{mt},2026-09-01,{new}",
            pick(FIRST, i),
            pick(LAST, i / 3),
            1 + i % 9000,
            i % 100
        )?;
    }
    w.flush()
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let xml_map = Mapping::load(&root.join("formats/sources/vendor-xml-default.toml")).unwrap();
    let ncoa_map = Mapping::load(&root.join("formats/sources/ncoa-default.toml")).unwrap();

    let t = Instant::now();
    let xml_path = dir.path().join("vendor.xml");
    let ncoa_path = dir.path().join("ncoa.csv");
    generate_xml(&xml_path, n).unwrap();
    generate_ncoa(&ncoa_path, n).unwrap();
    let mb = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    println!(
        "generated {n} records per file in {:.1}s (vendor.xml {:.0} MB, ncoa.csv {:.0} MB)",
        t.elapsed().as_secs_f64(),
        mb(&xml_path),
        mb(&ncoa_path)
    );

    let t = Instant::now();
    let r =
        xml::read(&xml_path, "bench_xml", SourceKind::VendorXml, &xml_map, &ProgressBar::hidden())
            .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.records.len() + r.rejects.len(), n);
    println!(
        "vendor_xml: {} records ({} rejected) in {secs:.2}s = {:.0} records/s, {:.0} MB/s",
        r.rows,
        r.rejects.len(),
        r.rows as f64 / secs,
        mb(&xml_path) / secs
    );
    drop(r);

    let t = Instant::now();
    let r =
        csv::read(&ncoa_path, "bench_ncoa", SourceKind::NcoaCsv, &ncoa_map, &ProgressBar::hidden())
            .unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(r.records.len() + r.rejects.len(), n);
    println!(
        "ncoa_csv:   {} records ({} rejected) in {secs:.2}s = {:.0} records/s, {:.0} MB/s",
        r.rows,
        r.rejects.len(),
        r.rows as f64 / secs,
        mb(&ncoa_path) / secs
    );
    println!("peak RSS (VmHWM): {:.0} MB", peak_rss_kb() as f64 / 1024.0);
}
