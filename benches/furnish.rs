//! Furnishing throughput: a generated portfolio (default 1,000,000 accounts, or
//! `FURNISH_BENCH_ACCOUNTS`) is inserted straight into a temporary SQLite database (timed
//! separately), then one cycle furnishes it to one bureau — decisions, Metro 2 writing,
//! validation, snapshots and exclusions in one transaction. Prints accounts/s and peak RSS
//! (VmHWM from /proc/self/status, reset between the two phases).
//!
//! Run: `cargo bench --bench furnish` (release profile). `FURNISH_BENCH_DB` keeps the
//! generated database; `FURNISH_BENCH_AS_OF` then furnishes a later cycle over it.

mod common;

use common::{cpu_seconds, load_average, reset_peak, status_kb};
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

fn main() -> anyhow::Result<()> {
    let n: u64 = std::env::var("FURNISH_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    // FURNISH_BENCH_AS_OF (YYYY-MM-DD) runs a later cycle over a kept database
    // (FURNISH_BENCH_DB): the steady state, with the previous cycle's snapshots as priors.
    let as_of = match std::env::var("FURNISH_BENCH_AS_OF") {
        Ok(v) => v.parse()?,
        Err(_) => jiff::civil::date(2026, 11, 20),
    };
    let dir = tempfile::tempdir()?;
    // FURNISH_BENCH_DB keeps the generated database between runs (profiling).
    let db_path = std::env::var_os("FURNISH_BENCH_DB")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("bench.db"));
    let reuse = db_path.exists();
    let mut db = Db::open(&db_path)?;
    if !reuse {
        let t = Instant::now();
        sample::generate(db.conn_mut(), n, 42)?;
        let setup = t.elapsed().as_secs_f64();
        println!(
            "setup: inserted {n} accounts in {setup:.2} s ({:.0} accounts/s), peak RSS {} MB",
            n as f64 / setup,
            status_kb("VmHWM:") / 1024
        );
    }

    // Breakdown: reading and parsing the accounts alone.
    let t = Instant::now();
    let c = cpu_seconds();
    let mut read = 0u64;
    let disputes = skiptrace::furnish::account::load_disputes(db.conn(), as_of)?;
    skiptrace::furnish::account::for_each_account(db.conn(), "equifax", as_of, &disputes, |_| {
        read += 1;
        Ok(())
    })?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c;
    println!(
        "read: {read} accounts in {secs:.2} s ({:.0} accounts/s; {cpu:.2} CPU s)",
        read as f64 / secs
    );

    let config = Config::parse(CONFIG, Path::new("skiptrace.toml"))?;
    let opts = CycleOptions {
        bureau: Some(Bureau::Equifax),
        dry_run: false,
        out_dir: dir.path().join("out"),
    };
    reset_peak();
    let load = load_average();
    let c = cpu_seconds();
    let t = Instant::now();
    let out = run_cycle(&mut db, &config, as_of, &opts)?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - c;
    let f = &out.files[0];
    assert_eq!(f.status, FileStatus::Published, "{}", f.report.to_text());
    assert_eq!(f.report.accounts, n);
    let size = std::fs::metadata(f.path.as_ref().expect("published"))?.len();
    println!(
        "furnish: {n} accounts ({} furnished, {} excluded, {} validation errors) in {secs:.2} s",
        f.report.furnished, f.report.excluded, f.report.validation.errors
    );
    println!("furnish: {:.0} accounts/s, file {} MB", n as f64 / secs, size / 1_000_000);
    println!(
        "furnish: {cpu:.2} CPU s over 2 threads ({:.0} accounts per CPU second); load average {load}",
        n as f64 / cpu
    );
    println!("furnish: peak RSS {} MB (VmHWM)", status_kb("VmHWM:") / 1024);
    Ok(())
}
