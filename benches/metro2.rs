//! Metro 2 throughput: writes 1,000,000 generated collection records (base + K1, J1 on every
//! fifth), then parses and validates the file, printing records/s for each step and the peak
//! resident memory (VmHWM). Run with `cargo bench --bench metro2` (set `METRO2_BENCH_RECORDS`
//! for another count). The data is synthetic and generated on the fly; nothing is committed.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

use jiff::civil::date;
use skiptrace::metro2::file::validate_stream;
use skiptrace::metro2::model::{Base, DataRecord, Header, J1, K1, SsnField};
use skiptrace::metro2::reader::{Reader, Slot};
use skiptrace::metro2::validate::ValidateOptions;
use skiptrace::metro2::writer::{Writer, WriterOptions};

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn template() -> DataRecord {
    let mut r = DataRecord::new(Base {
        processing_indicator: 1,
        identification_number: "AGENCY0001".into(),
        portfolio_type: "O".into(),
        account_type: "48".into(),
        date_opened: Some(date(2025, 3, 14)),
        highest_credit: 1850,
        terms_duration: "001".into(),
        terms_frequency: "P".into(),
        account_status: "93".into(),
        payment_history_profile: "B".repeat(24),
        current_balance: 1850,
        amount_past_due: 1850,
        date_account_information: Some(date(2026, 10, 31)),
        date_first_delinquency: Some(date(2024, 11, 2)),
        surname: "SAMPLE".into(),
        first_name: "ALEX".into(),
        social_security_number: SsnField(123_456_789),
        ecoa_code: "1".into(),
        first_line_address: "100 EXAMPLE AVE".into(),
        city: "SPRINGFIELD".into(),
        state: "IL".into(),
        zip_code: "62701".into(),
        ..Default::default()
    });
    r.k1 = Some(K1 {
        original_creditor_name: "EXAMPLE MEDICAL GROUP".into(),
        creditor_classification: 2,
    });
    r
}

fn main() {
    let n: u64 = std::env::var("METRO2_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.m2");
    let header = Header {
        activity_date: Some(date(2026, 10, 31)),
        date_created: Some(date(2026, 11, 1)),
        reporter_name: "SAMPLE AGENCY".into(),
        reporter_address: "1 MAIN ST SPRINGFIELD IL 62701".into(),
        ..Default::default()
    };
    let j1 = J1 {
        surname: "SAMPLE".into(),
        first_name: "JORDAN".into(),
        social_security_number: SsnField(234_567_890),
        ecoa_code: "2".into(),
        ..Default::default()
    };

    // Write.
    let t = Instant::now();
    let mut rec = template();
    let mut w = Writer::new(
        BufWriter::with_capacity(1 << 20, File::create(&path).expect("create")),
        &header,
        WriterOptions::default(),
    )
    .expect("header");
    for i in 0..n {
        rec.base.consumer_account_number.clear();
        rec.base.consumer_account_number.push_str(&format!("C{i:09}"));
        rec.j1.clear();
        if i % 5 == 0 {
            rec.j1.push(j1.clone());
        }
        w.write(&rec).expect("write");
    }
    let (trailer, _) = w.finish().expect("finish");
    let secs = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    assert_eq!(trailer.total_base_records, n);
    println!(
        "write:    {n} records in {secs:.2} s = {:>10.0} records/s ({:.0} MB)",
        n as f64 / secs,
        size as f64 / 1e6
    );

    // Parse.
    let t = Instant::now();
    let mut reader = Reader::new(BufReader::new(File::open(&path).expect("open")));
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    let mut count = 0u64;
    while let Some(k) = reader.read(&mut slot, &mut findings).expect("read") {
        if k == skiptrace::metro2::reader::Kind::Data {
            count += 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(count, n);
    assert!(findings.is_empty(), "{:?}", findings.first());
    println!("parse:    {n} records in {secs:.2} s = {:>10.0} records/s", n as f64 / secs);

    // Validate.
    let t = Instant::now();
    let opts = ValidateOptions { as_of: Some(date(2026, 11, 20)), collection_profile: true };
    let mut found = 0u64;
    let summary =
        validate_stream(BufReader::new(File::open(&path).expect("open")), opts, &mut |_| {
            found += 1;
            Ok(())
        })
        .expect("validate");
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(summary.records, n);
    println!(
        "validate: {n} records in {secs:.2} s = {:>10.0} records/s ({found} findings)",
        n as f64 / secs
    );
    println!("peak RSS (VmHWM): {:.1} MB", peak_rss_mb());
}
