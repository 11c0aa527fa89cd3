//! `skiptrace run`: the nightly batch. Takes the run lock, then runs each stage in order over
//! the configured inputs; a stage's row rejects do not stop the batch, a fatal error does.
//!
//! Stages, in order: ingest (portfolios, then payments, then contact events from `[inputs]`),
//! then the later stages (locate, furnish) — see [`later_stages`].

use jiff::civil::Date;

use crate::cmd::Ctx;
use crate::cmd::furnish::Format;
use crate::cmd::ingest::{describe, status_of};
use crate::exit::ExitStatus;
use crate::furnish::{CycleOptions, run_cycle};
use crate::ingest::{self, FileKind, FileReport, Source};
use crate::locate::{LocateOptions, run_locate};
use crate::store::{Db, RunLock};

/// Flags of `skiptrace run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Business date of the batch (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
    pub as_of: Option<Date>,
    /// Directory for the batch's output files (default: out/ beside the database): leads in
    /// `locate/`, Metro 2 files in `furnish/` (unless `[furnish] out_dir` is set).
    #[arg(long, value_name = "DIR")]
    pub out: Option<std::path::PathBuf>,
}

/// Runs the nightly batch.
pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let _lock = RunLock::acquire(&ctx.db_path())?;
    let as_of = args.as_of.unwrap_or_else(crate::dates::today);
    let mut db = ctx.open_db()?;
    let run_id = db.begin_run("run", Some(as_of))?;
    let mut reports = Vec::new();
    let outcome = ingest_stage(&mut db, ctx, as_of, run_id, &mut reports)
        .and_then(|s| Ok(s.worst(later_stages(&mut db, ctx, &args, as_of, run_id)?)));
    let summary = summary(&reports);
    match outcome {
        Ok(status) => {
            if !ctx.quiet {
                print_summary(&reports, as_of, status);
            }
            db.finish_run(run_id, status, &summary)?;
            Ok(status)
        }
        Err(e) => {
            let mut s = summary;
            s["error"] = serde_json::Value::String(format!("{e:#}"));
            if let Err(e2) = db.finish_run(run_id, ExitStatus::Failure, &s) {
                tracing::warn!(run_id, "could not record the failed run: {e2:#}");
            }
            Err(e)
        }
    }
}

/// Stage 1: ingest the configured inputs (portfolios, then payments, then contact events).
/// Prints one line per file as it completes.
fn ingest_stage(
    db: &mut Db,
    ctx: &Ctx,
    as_of: Date,
    run_id: i64,
    reports: &mut Vec<FileReport>,
) -> anyhow::Result<ExitStatus> {
    let inputs = &ctx.config.raw.inputs;
    let mut status = ExitStatus::Ok;
    let mut sources: Vec<(FileKind, std::path::PathBuf, Option<String>, Option<String>)> =
        Vec::new();
    for p in &inputs.portfolio {
        sources.push((FileKind::Portfolio, ctx.resolve(&p.path), Some(p.client.clone()), None));
    }
    for p in &inputs.payments {
        sources.push((FileKind::Payments, ctx.resolve(&p.path), None, Some(p.layout.clone())));
    }
    for p in &inputs.contact_events {
        sources.push((FileKind::ContactEvents, ctx.resolve(&p.path), None, Some(p.layout.clone())));
    }
    for (kind, path, client, layout) in &sources {
        let src =
            Source { kind: *kind, path, client: client.as_deref(), layout: layout.as_deref() };
        let report = ingest::ingest_configured(db, &ctx.config, &src, as_of, run_id, ctx.progress)?;
        if !ctx.quiet {
            println!("{}", describe(&report));
        }
        status = status.worst(status_of(&report));
        reports.push(report);
    }
    Ok(status)
}

/// The stages after ingest, in order, each returning its exit status (row-level findings)
/// or an error (fatal): locate (skip tracing of the accounts that lost contact), when
/// `[locate]` names sources; then furnish (the Metro 2 file), when `[furnish]` is configured
/// and the as-of date is one of its `cycle_days`.
fn later_stages(
    db: &mut Db,
    ctx: &Ctx,
    args: &Args,
    as_of: Date,
    run_id: i64,
) -> anyhow::Result<ExitStatus> {
    let out =
        args.out.clone().unwrap_or_else(|| crate::cmd::locate::default_out_dir(&ctx.db_path()));
    let mut status = ExitStatus::Ok;
    match &ctx.config.raw.locate {
        Some(l) if !l.sources.is_empty() => {
            let opts = LocateOptions {
                as_of,
                sources: Vec::new(),
                out_dir: out.join("locate"),
                matches_out: None,
                progress: ctx.progress,
            };
            let outcome = run_locate(db, &ctx.config, &opts, run_id)?;
            crate::cmd::locate::print_outcome(&outcome, ctx);
            status = status.worst(outcome.status);
        }
        _ => {
            if !ctx.quiet {
                println!("locate: no [locate.sources] configured; skipped");
            }
        }
    }
    match &ctx.config.raw.furnish {
        Some(f) if f.is_due(as_of) => {
            let out_dir = match &f.out_dir {
                Some(o) => ctx.resolve(o),
                None => out.join("furnish"),
            };
            let opts = CycleOptions { bureau: None, dry_run: false, out_dir };
            let outcome = run_cycle(db, &ctx.config, as_of, &opts)?;
            crate::cmd::furnish::audit_and_print(db, run_id, ctx, &outcome, Format::Text, false)?;
            status = status.worst(outcome.exit_status());
        }
        Some(f) => {
            if !ctx.quiet {
                println!("furnish: not due on {as_of} (cycle days {:?})", f.cycle_days);
            }
        }
        None => {
            if !ctx.quiet {
                println!("furnish: no [furnish] section configured; skipped");
            }
        }
    }
    Ok(status)
}

/// The run's JSON summary for the run ledger.
fn summary(reports: &[FileReport]) -> serde_json::Value {
    let total = |f: fn(&FileReport) -> u64| reports.iter().map(f).sum::<u64>();
    serde_json::json!({
        "ingest": {
            "files": reports,
            "rows_read": total(|r| r.rows_read),
            "accepted": total(|r| r.accepted),
            "rejected": total(|r| r.rejected),
        }
    })
}

fn print_summary(reports: &[FileReport], as_of: Date, status: ExitStatus) {
    let total = |f: fn(&FileReport) -> u64| reports.iter().map(f).sum::<u64>();
    let skipped = reports.iter().filter(|r| r.already_ingested.is_some()).count();
    println!(
        "batch {as_of}: {} file(s) ({} already ingested), {} rows read = {} accepted + {} rejected; exit {}",
        reports.len(),
        skipped,
        total(|r| r.rows_read),
        total(|r| r.accepted),
        total(|r| r.rejected),
        status as u8
    );
}
