//! `skiptrace furnish`: build, validate and publish the Metro 2 file(s) of a reporting cycle.
//!
//! Takes the run lock, records the run in the ledger and the audit log, calls
//! [`crate::furnish::run_cycle`], and prints the cycle report (text or JSON). Exit status:
//! 5 when a file was blocked by validation, 1 when accounts went to the exceptions list,
//! else 0.

use std::path::PathBuf;

use jiff::civil::Date;

use crate::cmd::Ctx;
use crate::error::ConfigError;
use crate::exit::ExitStatus;
use crate::furnish::{Bureau, CycleOptions, FileStatus, run_cycle};
use crate::store::RunLock;

/// Output format of the cycle report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable text.
    #[default]
    Text,
    /// JSON (one document for the whole cycle).
    Json,
}

/// Flags of `skiptrace furnish`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Cycle date: header activity date, date of account information, file name.
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
    pub as_of: Date,
    /// One bureau (equifax, experian, transunion, innovis) or `all` (default).
    #[arg(long, value_name = "NAME|all", default_value = "all")]
    pub bureau: String,
    /// Build and validate, but publish nothing and store nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output directory (default: [furnish] out_dir, else out/furnish beside the database).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Runs `skiptrace furnish`.
pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let bureau = if args.bureau.eq_ignore_ascii_case("all") {
        None
    } else {
        Some(Bureau::parse(&args.bureau).ok_or_else(|| {
            ConfigError(format!(
                "unknown bureau {:?} (equifax, experian, transunion, innovis or all)",
                args.bureau
            ))
        })?)
    };
    let out_dir =
        match (&args.out, ctx.config.raw.furnish.as_ref().and_then(|f| f.out_dir.as_ref())) {
            (Some(o), _) => o.clone(),
            (None, Some(o)) => ctx.resolve(o),
            (None, None) => default_out_dir(&ctx.db_path()),
        };
    let _lock = RunLock::acquire(&ctx.db_path())?;
    let mut db = ctx.open_db()?;
    let run_id = db.begin_run("furnish", Some(args.as_of))?;
    let opts = CycleOptions { bureau, dry_run: args.dry_run, out_dir };
    let outcome = match run_cycle(&mut db, &ctx.config, args.as_of, &opts) {
        Ok(o) => o,
        Err(e) => {
            let status = crate::exit::status_of(&e);
            db.finish_run(run_id, status, &serde_json::json!({ "error": format!("{e:#}") }))?;
            return Err(e);
        }
    };
    let status = outcome.exit_status();
    let summary = outcome.to_json();
    audit_and_print(&db, run_id, ctx, &outcome, args.format, true)?;
    db.finish_run(run_id, status, &summary)?;
    Ok(status)
}

/// Audits each file of a cycle and prints the cycle report (shared with the nightly batch,
/// which prints the compact form: `list_exclusions = false`).
pub fn audit_and_print(
    db: &crate::store::Db,
    run_id: i64,
    ctx: &Ctx,
    outcome: &crate::furnish::CycleOutcome,
    format: Format,
    list_exclusions: bool,
) -> anyhow::Result<()> {
    let status = outcome.exit_status();
    for f in &outcome.files {
        let action = match f.status {
            FileStatus::Published => "furnish.publish",
            FileStatus::Blocked => "furnish.blocked",
            FileStatus::DryRun => "furnish.dry_run",
        };
        db.audit(
            Some(run_id),
            &crate::store::actor(),
            action,
            f.path.as_ref().map(|p| format!("file:{}", p.display())).as_deref(),
            &serde_json::json!({
                "cycle_date": outcome.as_of.to_string(),
                "bureau": f.label,
                "accounts": f.report.accounts,
                "furnished": f.report.furnished,
                "excluded": f.report.excluded,
                "validation_errors": f.report.validation.errors,
            }),
        )?;
    }
    if !ctx.quiet || status != ExitStatus::Ok {
        match format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&outcome.to_json())?),
            Format::Text => {
                for f in &outcome.files {
                    print!("{}", f.report.to_text_with(list_exclusions));
                    match (&f.path, f.status) {
                        (Some(p), FileStatus::Published) => println!("  published {}", p.display()),
                        (Some(p), FileStatus::Blocked) => {
                            println!("  BLOCKED: kept aside as {}", p.display());
                            if let Some(fp) = &f.findings_path {
                                println!("  findings: {}", fp.display());
                            }
                        }
                        _ => println!("  dry run: nothing published or stored"),
                    }
                }
            }
        }
    }
    Ok(())
}

/// `out/furnish` in the database's directory.
pub fn default_out_dir(db_path: &std::path::Path) -> PathBuf {
    let dir = match db_path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    dir.join("out").join("furnish")
}
