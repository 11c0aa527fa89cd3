//! `skiptrace ingest portfolio|payments|contact-events FILE`: one client file into the system
//! of record, with a rejects CSV beside it and counts on stdout.

use std::path::{Path, PathBuf};

use jiff::civil::Date;

use crate::cmd::Ctx;
use crate::exit::ExitStatus;
use crate::ingest::{self, FileKind, FileReport, Source};
use crate::store::RunLock;

/// `skiptrace ingest` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// New placements and updates of existing accounts of one client.
    Portfolio {
        /// The portfolio file (CSV).
        file: PathBuf,
        /// Client ID (a `[clients.<ID>]` table); optional when one client is configured.
        #[arg(long, value_name = "ID")]
        client: Option<String>,
        /// Layout and business date.
        #[command(flatten)]
        common: Common,
    },
    /// Payments, adjustments and reversals.
    Payments {
        /// The payments file (CSV).
        file: PathBuf,
        /// Layout and business date.
        #[command(flatten)]
        common: Common,
    },
    /// Returned mail, bad phones, letters, conversations, recalls, deceased and bankruptcy
    /// notices.
    ContactEvents {
        /// The contact-events file (CSV).
        file: PathBuf,
        /// Layout and business date.
        #[command(flatten)]
        common: Common,
    },
}

/// Flags shared by the ingest subcommands.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Layout mapping file (TOML) instead of the client's or the default layout.
    #[arg(long, value_name = "FILE")]
    pub layout: Option<PathBuf>,
    /// Business date: first/last seen of contact data (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
    pub as_of: Option<Date>,
}

/// Runs `skiptrace ingest`.
pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let (kind, file, client, common) = match args {
        Args::Portfolio { file, client, common } => (FileKind::Portfolio, file, client, common),
        Args::Payments { file, common } => (FileKind::Payments, file, None, common),
        Args::ContactEvents { file, common } => (FileKind::ContactEvents, file, None, common),
    };
    // A layout given on the command line is relative to the working directory.
    let layout = common.layout.map(|p| {
        if p.is_absolute() { p } else { std::env::current_dir().map(|d| d.join(&p)).unwrap_or(p) }
    });
    let layout = layout.as_ref().map(|p| p.display().to_string());
    let as_of = common.as_of.unwrap_or_else(crate::dates::today);
    let _lock = RunLock::acquire(&ctx.db_path())?;
    let mut db = ctx.open_db()?;
    let command = format!("ingest {}", kind.as_str().replace('_', "-"));
    let run_id = db.begin_run(&command, Some(as_of))?;
    let src = Source { kind, path: &file, client: client.as_deref(), layout: layout.as_deref() };
    match ingest::ingest_configured(&mut db, &ctx.config, &src, as_of, run_id, ctx.progress) {
        Ok(report) => {
            let status = status_of(&report);
            if !ctx.quiet {
                println!("{}", describe(&report));
            }
            db.finish_run(run_id, status, &serde_json::json!({ "files": [report] }))?;
            Ok(status)
        }
        Err(e) => {
            let summary = serde_json::json!({"error": format!("{e:#}")});
            if let Err(e2) = db.finish_run(run_id, ExitStatus::Failure, &summary) {
                tracing::warn!(run_id, "could not record the failed run: {e2:#}");
            }
            Err(e)
        }
    }
}

/// Exit status of one file: 1 when anything was rejected.
pub fn status_of(r: &FileReport) -> ExitStatus {
    if r.rejected > 0 { ExitStatus::Rejects } else { ExitStatus::Ok }
}

/// One line (two with rejects) describing a file's outcome; never holds PII.
pub fn describe(r: &FileReport) -> String {
    let client = r.client.as_ref().map(|c| format!(" (client {c})")).unwrap_or_default();
    let what = format!("{} {}{client}", r.kind.replace('_', " "), show(&r.path));
    if let Some(id) = r.already_ingested {
        return format!(
            "{what}: already ingested (same content as input file #{id}); nothing changed"
        );
    }
    let mut s = format!(
        "{what}: {} rows read = {} accepted ({} new, {} updated, {} unchanged) + {} rejected",
        r.rows_read, r.accepted, r.created, r.updated, r.unchanged, r.rejected
    );
    if let Some(p) = &r.rejects_path {
        let codes: Vec<String> =
            r.rejects_by_code.iter().map(|(c, n)| format!("{c} {n}")).collect();
        s.push_str(&format!("\n  rejects: {} ({})", show(p), codes.join(", ")));
    }
    s
}

fn show(p: &Path) -> String {
    p.display().to_string()
}
