//! `skiptrace ingest ...`.

use crate::cmd::Ctx;
use crate::exit::ExitStatus;

/// `skiptrace ingest` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Args {}

/// Runs `skiptrace ingest`.
pub fn run(args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match args {}
}
