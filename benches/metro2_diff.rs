//! `metro2 diff` throughput and memory: generates two 1,000,000-account cycle files of one
//! furnisher (the later one with the balance and date of account information changed on
//! most accounts, a few accounts removed and added, and account-number changes reported by
//! L1 segments in the earlier file), compares them with the report written as JSON Lines to
//! a null sink, and prints accounts/s and the peak resident memory (VmHWM). Run with
//! `cargo bench --bench metro2_diff` (`METRO2_DIFF_BENCH_ACCOUNTS` for another count;
//! `METRO2_DIFF_BENCH_SHUFFLE=1` writes the later cycle in a scrambled order). The
//! data is synthetic and generated into a temporary directory; nothing is committed.

mod common;

use common::{cpu_seconds, metro2_j1, metro2_template, peak_rss_mib};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::time::Instant;

use jiff::civil::date;
use skiptrace::metro2::diff::{self, Event};
use skiptrace::metro2::model::{Header, L1};
use skiptrace::metro2::writer::{Writer, WriterOptions};

fn header(activity: jiff::civil::Date) -> Header {
    Header {
        activity_date: Some(activity),
        date_created: Some(activity),
        reporter_name: "SAMPLE AGENCY".into(),
        reporter_address: "1 MAIN ST SPRINGFIELD IL 62701".into(),
        ..Default::default()
    }
}

/// Account `i` changes its number in the later cycle (reported by an L1 in the earlier one).
fn renumbered(i: u64) -> bool {
    i % 1000 == 7
}

/// Account `i` is not in the later cycle.
fn removed(i: u64) -> bool {
    i % 10_000 == 3
}

/// Writes one cycle; the later one in a scrambled account order when `shuffle` is set (the
/// store is then read at random instead of in order).
fn write_cycle(path: &std::path::Path, n: u64, later: bool, shuffle: bool) -> u64 {
    let activity = if later { date(2026, 10, 31) } else { date(2026, 9, 30) };
    let out = BufWriter::with_capacity(1 << 20, File::create(path).expect("create"));
    let mut w = Writer::new(out, &header(activity), WriterOptions::default()).expect("header");
    let j1 = metro2_j1();
    let mut rec = metro2_template(date(2026, 9, 30));
    let mut written = 0;
    for j in 0..n {
        // A step prime to n walks a permutation of 0..n.
        let step = if n.is_multiple_of(7919) { 7907 } else { 7919 };
        let i = if shuffle && later { (j * step) % n } else { j };
        if later && removed(i) {
            continue;
        }
        rec.j1.clear();
        if i % 5 == 0 {
            rec.j1.push(j1.clone());
        }
        rec.l1 = None;
        rec.base.consumer_account_number.clear();
        if later {
            let prefix = if renumbered(i) { 'N' } else { 'C' };
            write!(rec.base.consumer_account_number, "{prefix}{i:09}").expect("format");
            // Most accounts: a payment lowered the balance; every account: a new date of
            // account information.
            let paid = if i % 10 == 0 { 0 } else { 25 + i % 200 };
            rec.base.current_balance = 1850 - paid;
            rec.base.amount_past_due = 1850 - paid;
            rec.base.date_account_information = Some(activity);
        } else {
            write!(rec.base.consumer_account_number, "C{i:09}").expect("format");
            rec.base.current_balance = 1850;
            rec.base.amount_past_due = 1850;
            rec.base.date_account_information = Some(activity);
            if renumbered(i) {
                rec.l1 = Some(L1 {
                    change_indicator: 1,
                    new_consumer_account_number: format!("N{i:09}"),
                    ..Default::default()
                });
            }
        }
        w.write(&rec).expect("write");
        written += 1;
        // New placements in the later cycle.
        if later && i % 10_000 == 9 {
            rec.j1.clear();
            rec.base.consumer_account_number.clear();
            write!(rec.base.consumer_account_number, "P{i:09}").expect("format");
            w.write(&rec).expect("write");
            written += 1;
        }
    }
    w.finish().expect("finish");
    written
}

fn main() {
    let n: u64 = std::env::var("METRO2_DIFF_BENCH_ACCOUNTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let (old, new) = (dir.path().join("september.m2"), dir.path().join("october.m2"));
    let t = Instant::now();
    let shuffle = std::env::var_os("METRO2_DIFF_BENCH_SHUFFLE").is_some();
    let n_old = write_cycle(&old, n, false, shuffle);
    let n_new = write_cycle(&new, n, true, shuffle);
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0) as f64;
    println!(
        "generated{} {n_old} + {n_new} accounts ({:.0} MB + {:.0} MB) in {:.1} s; peak RSS so far {:.1} MB",
        if shuffle { " (later cycle in scrambled order)" } else { "" },
        size(&old) / 1e6,
        size(&new) / 1e6,
        t.elapsed().as_secs_f64(),
        peak_rss_mib()
    );

    let c = cpu_seconds();
    let t = Instant::now();
    let mut out = std::io::sink();
    let mut lines = 0u64;
    let mut store_bytes = 0u64;
    let summary = diff::diff(
        BufReader::new(File::open(&old).expect("open")),
        BufReader::new(File::open(&new).expect("open")),
        &mut |e: Event<'_>| {
            lines += 1;
            if matches!(e, Event::Removed { .. }) {
                // The temporary store is still open while the removed accounts come out.
                store_bytes = store_bytes.max(temp_store_bytes());
            }
            diff::write_json_line(&mut out, &e)
        },
    )
    .expect("diff");
    let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
    assert_eq!(summary.old_records, n_old);
    assert_eq!(summary.new_records, n_new);
    assert_eq!(summary.removed, (0..n).filter(|&i| removed(i)).count() as u64);
    assert_eq!(summary.added, (0..n).filter(|i| i % 10_000 == 9).count() as u64);
    println!(
        "diff:     {n_new} accounts (later file) in {wall:.2} s = {:>9.0} accounts/s wall, {:>9.0} accounts/CPU-s",
        n_new as f64 / wall,
        n_new as f64 / cpu.max(1e-9)
    );
    println!(
        "          {} changed, {} added, {} removed, {} flags, {} read findings; {lines} report lines",
        summary.changed, summary.added, summary.removed, summary.flags, summary.read_findings
    );
    println!(
        "temporary store at the end: {:.0} MB on disk (closed and gone since: {})",
        store_bytes as f64 / 1e6,
        temp_store_bytes() == 0
    );
    println!("peak RSS (VmHWM): {:.1} MB", peak_rss_mib());
}

/// Bytes of the comparison's temporary store: the deleted files (SQLite's temporary files,
/// in its temporary directory) this process still holds open; the store has no name to look
/// up.
fn temp_store_bytes() -> u64 {
    let Ok(fds) = std::fs::read_dir("/proc/self/fd") else { return 0 };
    fds.flatten()
        .filter(|fd| {
            std::fs::read_link(fd.path()).is_ok_and(|l| {
                let l = l.display().to_string();
                l.ends_with(" (deleted)")
            })
        })
        .filter_map(|fd| std::fs::metadata(fd.path()).ok())
        .map(|m| m.len())
        .sum()
}
