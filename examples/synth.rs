//! Synthetic data generator: a portfolio (two clients), payments, contact events and
//! locate-source files with ground truth, deterministic per seed. No real personal data.
//!
//! `cargo run --release --example synth -- --accounts 100000 --seed 7 --out var/synth`

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use skiptrace::synth::{self, SynthConfig};

/// Generates a synthetic data set.
#[derive(Parser)]
struct Args {
    /// Accounts (= debtors) to generate; the locate files hold as many records.
    #[arg(long, default_value_t = 1000)]
    accounts: usize,
    /// Seed: the same seed gives byte-identical files.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output directory (created 0700 when missing).
    #[arg(long)]
    out: PathBuf,
    /// Share of locate records from the change-of-address source.
    #[arg(long, default_value_t = 0.15)]
    ncoa_share: f64,
    /// Date the data is generated for (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-20")]
    as_of: String,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let as_of = match skiptrace::dates::parse_as_of(&args.as_of) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: --as-of: {e}");
            return ExitCode::from(2);
        }
    };
    if !(0.0..=1.0).contains(&args.ncoa_share) {
        eprintln!("error: --ncoa-share must be between 0 and 1");
        return ExitCode::from(2);
    }
    let mut config = SynthConfig::new(args.accounts, args.seed);
    config.ncoa_share = args.ncoa_share;
    config.as_of = as_of;
    let data = synth::generate(&config);
    match synth::write::write(&data, &args.out) {
        Ok(w) => {
            for (file, rows) in &w.portfolio_rows {
                println!("{file}: {rows} accounts");
            }
            println!("payments.csv: {} rows", w.payments);
            println!("contact_events.csv: {} rows", w.contact_events);
            println!("ncoa.csv: {} records", w.ncoa);
            println!("vendor.csv: {} records", w.vendor_csv);
            println!("vendor.xml: {} records", w.vendor_xml);
            println!(
                "truth.csv: {} records, {} true links",
                data.records.len(),
                data.truth.iter().filter(|t| t.is_some()).count()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
