//! Furnishing throughput: a generated portfolio (default 1,000,000 accounts, or
//! `FURNISH_BENCH_ACCOUNTS`) is inserted straight into a temporary SQLite database (timed
//! separately), then one cycle furnishes it to one bureau — decisions, Metro 2 writing,
//! validation, snapshots and exclusions in one transaction. Prints accounts/s and peak RSS
//! (VmHWM from /proc/self/status, reset between the two phases).
//!
//! Run: `cargo bench --bench furnish` (release profile).

use std::path::Path;
use std::time::Instant;

use skiptrace::config::Config;
use skiptrace::furnish::{Bureau, CycleOptions, FileStatus, run_cycle, sample};
use skiptrace::store::Db;

const CONFIG: &str = r#"
[clients.ACME]
name = "Acme Bank"
kind = "agency"
identification_number = "ACMEAGY01"
[clients.BUYCO]
name = "Buy Co"
kind = "debt_buyer"
[clients.CHECKS]
name = "Checks"
kind = "returned_check"
[furnish]
reporter_name = "NORTHWIND RECOVERY LLC"
reporter_address = "100 MAIN ST AUSTIN TX 78701"
identification_number = "NWRDEFAULT"
report_list_limit = 100
[furnish.program_identifiers]
equifax = "EQ12345"
"#;

fn status_kb(key: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Resets VmHWM to the current RSS (Linux: write 5 to clear_refs).
fn reset_peak() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("(could not reset the peak RSS counter; peak includes the setup)");
    }
}

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::var("FURNISH_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let mut db = Db::open(&dir.path().join("bench.db"))?;

    let t = Instant::now();
    sample::generate(db.conn_mut(), n, 42)?;
    let setup = t.elapsed().as_secs_f64();
    println!(
        "setup: inserted {n} accounts in {setup:.2} s ({:.0} accounts/s), peak RSS {} MB",
        n as f64 / setup,
        status_kb("VmHWM:") / 1024
    );

    let config = Config::parse(CONFIG, Path::new("skiptrace.toml"))?;
    let opts = CycleOptions {
        bureau: Some(Bureau::Equifax),
        dry_run: false,
        out_dir: dir.path().join("out"),
    };
    reset_peak();
    let t = Instant::now();
    let out = run_cycle(&mut db, &config, jiff::civil::date(2026, 11, 20), &opts)?;
    let secs = t.elapsed().as_secs_f64();
    let f = &out.files[0];
    assert_eq!(f.status, FileStatus::Published, "{}", f.report.to_text());
    assert_eq!(f.report.accounts, n);
    let size = std::fs::metadata(f.path.as_ref().expect("published"))?.len();
    println!(
        "furnish: {n} accounts ({} furnished, {} excluded, {} validation errors) in {secs:.2} s",
        f.report.furnished, f.report.excluded, f.report.validation.errors
    );
    println!("furnish: {:.0} accounts/s, file {} MB", n as f64 / secs, size / 1_000_000);
    println!("furnish: peak RSS {} MB (VmHWM)", status_kb("VmHWM:") / 1024);
    Ok(())
}
