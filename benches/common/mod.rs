//! What the benchmarks share: what a benchmark reads about its own process from Linux `/proc`
//! (peak resident memory, CPU time, the load average), and the Metro 2 record the format
//! benchmarks copy. Each benchmark uses a part of it.
#![allow(dead_code)]

use jiff::civil::{Date, date};
use skiptrace::metro2::model::{Base, DataRecord, J1, K1, SsnField};

/// A `/proc/self/status` value in kB (`key` such as `VmHWM:` or `VmRSS:`); 0 when unknown.
pub fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Peak resident memory so far (VmHWM), in kB.
pub fn peak_rss_kb() -> u64 {
    status_kb("VmHWM:")
}

/// Peak resident memory so far (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    peak_rss_kb() as f64 / 1024.0
}

/// Resets VmHWM to the current RSS (Linux: 5 written to `clear_refs`), so that a later
/// phase's peak leaves out the setup's.
pub fn reset_peak() {
    if std::fs::write("/proc/self/clear_refs", "5").is_err() {
        eprintln!("(could not reset the peak RSS counter; peak includes the setup)");
    }
}

/// CPU seconds (user + system, all threads) this process has used so far. The machine is
/// shared, so records per CPU-second is printed beside wall-clock throughput.
pub fn cpu_seconds() -> f64 {
    stat_cpu_seconds("/proc/self/stat")
}

/// The same for the calling thread alone.
pub fn thread_cpu_seconds() -> f64 {
    stat_cpu_seconds("/proc/thread-self/stat")
}

fn stat_cpu_seconds(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    // Fields after the command name (in parentheses, and it may hold spaces): utime and
    // stime, fields 14 and 15 of the line, are the 12th and 13th after it.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The one-minute load average, as printed by the kernel.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

/// A collection account's base segment with a K1 (medical original creditor), reported on
/// `date_account_information`: the record the Metro 2 benchmarks copy and vary.
pub fn metro2_template(date_account_information: Date) -> DataRecord {
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
        date_account_information: Some(date_account_information),
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

/// An associated consumer (ECOA 2) for the template's account.
pub fn metro2_j1() -> J1 {
    J1 {
        surname: "SAMPLE".into(),
        first_name: "JORDAN".into(),
        social_security_number: SsnField(234_567_890),
        ecoa_code: "2".into(),
        ..Default::default()
    }
}
