//! `skiptrace locate`: selection → sources → matching → leads, with a per-source summary.

use std::path::PathBuf;

use jiff::civil::Date;

use crate::cmd::Ctx;
use crate::exit::ExitStatus;
use crate::locate::{LocateOptions, run_locate};
use crate::store::RunLock;

/// Flags of `skiptrace locate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run only this source (repeatable; default: every enabled source).
    #[arg(long = "source", value_name = "NAME")]
    pub sources: Vec<String>,
    /// Business date (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
    pub as_of: Option<Date>,
    /// Directory for leads.csv and leads.json (default: out/ beside the database).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also write every scored candidate pair to this CSV file.
    #[arg(long, value_name = "FILE")]
    pub matches_out: Option<PathBuf>,
}

/// Runs `skiptrace locate`.
pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let _lock = RunLock::acquire(&ctx.db_path())?;
    let as_of = args.as_of.unwrap_or_else(crate::dates::today);
    let db = ctx.open_db()?;
    let out_dir = args.out.unwrap_or_else(|| default_out_dir(&ctx.db_path()));
    let opts = LocateOptions {
        as_of,
        sources: args.sources,
        out_dir,
        matches_out: args.matches_out,
        progress: ctx.progress,
    };
    let run_id = db.begin_run("locate", Some(as_of))?;
    let outcome = match run_locate(&db, &ctx.config, &opts, run_id) {
        Ok(o) => o,
        Err(e) => {
            let status = crate::exit::status_of(&e);
            db.finish_run(run_id, status, &serde_json::json!({"error": format!("{e:#}")}))?;
            return Err(e);
        }
    };
    db.finish_run(run_id, outcome.status, &serde_json::to_value(&outcome)?)?;
    print_outcome(&outcome, ctx);
    Ok(outcome.status)
}

/// Prints a locate run's rejects, vendor errors and per-source summary (shared with the
/// nightly batch).
pub fn print_outcome(outcome: &crate::locate::LocateOutcome, ctx: &Ctx) {
    for src in &outcome.sources {
        for r in &src.reject_samples {
            eprintln!("skiptrace: {r}");
        }
        for e in &src.vendor_errors {
            eprintln!("skiptrace: error: {e}");
        }
        if let Some(e) = &src.error {
            eprintln!("skiptrace: error: {e}");
        }
    }
    if !ctx.quiet {
        print!("{}", outcome.render());
    }
}

/// `out/` beside the database file.
pub fn default_out_dir(db: &std::path::Path) -> PathBuf {
    match db.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.join("out"),
        _ => PathBuf::from("out"),
    }
}
