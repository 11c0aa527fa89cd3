//! Command-line interface (clap derive): global flags shared by every command and the list of
//! subcommands. Each subcommand's own flags live in its file under [`crate::cmd`].
//!
//! Conventions kept by every command: `--config FILE` (default `skiptrace.toml` when present)
//! and `--db PATH` are global; commands that write files take `--out DIR`; dated commands take
//! `--as-of YYYY-MM-DD`; `--no-progress` hides progress bars; `-v`/`-q` set log verbosity.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::cmd;

/// skiptrace — nightly skip tracing, Metro 2 furnishing and dispute reconciliation for
/// collection agencies and debt buyers.
#[derive(Debug, Parser)]
#[command(name = "skiptrace", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Configuration file (TOML). Default: ./skiptrace.toml when it exists.
    #[arg(long, global = true, value_name = "FILE", env = "SKIPTRACE_CONFIG")]
    pub config: Option<PathBuf>,
    /// SQLite database (system of record). Default: [store] path, else var/skiptrace.db.
    #[arg(long, global = true, value_name = "PATH", env = "SKIPTRACE_DB")]
    pub db: Option<PathBuf>,
    /// Never draw progress bars (they are also hidden when stderr is not a terminal).
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// More log output (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Errors only.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands, one file each under `src/cmd/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the nightly batch: ingest the configured inputs, locate, furnish when due.
    Run(cmd::run::Args),
    /// Ingest client files: portfolios, payments, contact events.
    #[command(subcommand)]
    Ingest(cmd::ingest::Args),
    /// Metro 2 files: validate, convert, diff.
    #[command(subcommand)]
    Metro2(cmd::metro2::Args),
    /// Build the Metro 2 furnishing file of a reporting cycle.
    Furnish(cmd::furnish::Args),
    /// Skip tracing: match accounts that lost contact against locate sources.
    Locate(cmd::locate::Args),
    /// The lead review queue: list, accept, reject.
    #[command(subcommand)]
    Leads(cmd::leads::Args),
}
