//! Ingest throughput: generates a synthetic portfolio in the default layout (1,000,000
//! accounts unless `SKIPTRACE_BENCH_ACCOUNTS` says otherwise), ingests it into a fresh
//! database and prints accounts/s and the peak resident memory (VmHWM).
//!
//! Run: `cargo bench --bench ingest`. Target: at least 100,000 accounts/s and a peak RSS under
//! 300 MB, whatever the file size.

mod common;

use common::{cpu_seconds, peak_rss_kb, thread_cpu_seconds};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use skiptrace::config::Config;
use skiptrace::ingest::{self, FileKind, Source};
use skiptrace::progress::Progress;
use skiptrace::store::Db;

const SURNAMES: &[&str] = &[
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "GARCIA",
    "MILLER",
    "DAVIS",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "WILSON",
    "ANDERSON",
    "THOMAS",
    "TAYLOR",
    "MOORE",
    "JACKSON",
    "MARTIN",
    "LEE",
    "PEREZ",
    "THOMPSON",
    "WHITE",
    "HARRIS",
    "SANCHEZ",
];
const FIRST: &[&str] = &[
    "JAMES",
    "MARY",
    "ROBERT",
    "PATRICIA",
    "JOHN",
    "JENNIFER",
    "MICHAEL",
    "LINDA",
    "DAVID",
    "ELIZABETH",
    "WILLIAM",
    "BARBARA",
    "RICHARD",
    "SUSAN",
    "JOSEPH",
    "JESSICA",
    "MARIA",
    "JOSE",
];
const STREETS: &[&str] =
    &["MAPLE", "OAK", "PINE", "CEDAR", "ELM", "WALNUT", "LAKE", "HILL", "RIVER", "PARK"];
const CITIES: &[(&str, &str, &str)] = &[
    ("AUSTIN", "TX", "787"),
    ("DENVER", "CO", "802"),
    ("COLUMBUS", "OH", "432"),
    ("TAMPA", "FL", "336"),
    ("FRESNO", "CA", "937"),
    ("RALEIGH", "NC", "276"),
];
const CREDITORS: &[(&str, &str, bool)] = &[
    ("FIRST TEST BANK", "01", false),
    ("SAMPLE MEDICAL CENTER", "02", true),
    ("EXAMPLE TELECOM", "07", false),
    ("DEMO UTILITIES", "08", false),
    ("PLACEHOLDER RETAIL", "12", false),
];

/// Writes a portfolio of `n` varied accounts in the default layout to `path`, streaming.
fn generate_portfolio(path: &Path, n: u64, seed: u64) -> std::io::Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let f = std::fs::File::create(path)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(
        w,
        "account_number,original_creditor,creditor_class,medical,placed_date,placed_amount,\
         current_balance,status,surname,first_name,middle_name,ssn,dob,address1,address2,city,\
         state,zip,phone,email,co_surname,co_first_name,co_ssn,co_ecoa"
    )?;
    for i in 0..n {
        let (cred, class, medical) = CREDITORS[rng.random_range(0..CREDITORS.len())];
        let sur = SURNAMES[rng.random_range(0..SURNAMES.len())];
        let first = FIRST[rng.random_range(0..FIRST.len())];
        let (city, state, zip3) = CITIES[rng.random_range(0..CITIES.len())];
        let cents: u32 = rng.random_range(5_000..2_500_000);
        let amount = if rng.random_bool(0.3) {
            format!("\"${},{:03}.{:02}\"", cents / 100_000, (cents / 100) % 1000, cents % 100)
        } else {
            format!("{}.{:02}", cents / 100, cents % 100)
        };
        let area = loop {
            let a = rng.random_range(1..900u32);
            if a != 666 {
                break a;
            }
        };
        let ssn = format!(
            "{area:03}-{:02}-{:04}",
            rng.random_range(1..100u32),
            rng.random_range(1..10_000u32)
        );
        let co = if rng.random_bool(0.15) {
            format!(
                "{sur},{},{:03}{:02}{:04},2",
                FIRST[rng.random_range(0..FIRST.len())],
                rng.random_range(1..600u32),
                rng.random_range(1..100u32),
                rng.random_range(1..10_000u32)
            )
        } else {
            ",,,".to_string()
        };
        writeln!(
            w,
            "B{i:09},{cred},{class},{},2025-{:02}-{:02},{amount},{amount},open,{sur},{first},{},{ssn},\
             19{}-{:02}-{:02},{} {} ST,{},{city},{state},{zip3}{:02},{}{:03}{:04},{},{co}",
            if medical { "Y" } else { "N" },
            rng.random_range(1..13u32),
            rng.random_range(1..29u32),
            if rng.random_bool(0.5) { "Q" } else { "" },
            rng.random_range(40..99u32),
            rng.random_range(1..13u32),
            rng.random_range(1..29u32),
            rng.random_range(1..9999u32),
            STREETS[rng.random_range(0..STREETS.len())],
            if rng.random_bool(0.2) { "APT 4" } else { "" },
            rng.random_range(0..100u32),
            rng.random_range(200..999u32),
            rng.random_range(200..999u32),
            rng.random_range(0..10_000u32),
            if rng.random_bool(0.4) { format!("p{i}@example.com") } else { String::new() },
        )?;
    }
    w.flush()
}

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::var("SKIPTRACE_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let csv = dir.path().join("portfolio.csv");
    let t = Instant::now();
    generate_portfolio(&csv, n, 42)?;
    let size = std::fs::metadata(&csv)?.len();
    println!(
        "generated {n} accounts ({:.1} MB) in {:.1}s",
        size as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let cfg_path = dir.path().join("skiptrace.toml");
    let config =
        Config::parse("[clients.BENCH]\nname = \"Bench Bank\"\nkind = \"agency\"\n", &cfg_path)?;
    let mut db = Db::open(&dir.path().join("bench.db"))?;
    let as_of = jiff::civil::date(2026, 11, 20);
    let run = db.begin_run("bench ingest", Some(as_of))?;
    let src = Source { kind: FileKind::Portfolio, path: &csv, client: Some("BENCH"), layout: None };
    let t = Instant::now();
    let cpu0 = cpu_seconds();
    let writer0 = thread_cpu_seconds();
    let r = ingest::ingest_configured(&mut db, &config, &src, as_of, run, Progress::hidden())?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let writer = thread_cpu_seconds() - writer0;
    assert_eq!(r.rows_read, r.accepted + r.rejected);
    println!(
        "ingest: {} rows, {} accepted, {} rejected in {secs:.2}s = {:.0} accounts/s",
        r.rows_read,
        r.accepted,
        r.rejected,
        r.accepted as f64 / secs
    );
    println!(
        "cpu: {cpu:.2}s user+system = {:.0} accounts per CPU-second",
        r.accepted as f64 / cpu.max(0.01)
    );
    // Rows are read and checked on a second thread; the writer (this thread) bounds the
    // wall-clock throughput when a second core is free.
    println!(
        "writer thread: {writer:.2}s CPU = {:.0} accounts per writer CPU-second",
        r.accepted as f64 / writer.max(0.01)
    );
    println!("peak RSS (VmHWM): {:.1} MB", peak_rss_kb() as f64 / 1024.0);
    Ok(())
}
