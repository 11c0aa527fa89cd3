//! `skiptrace metro2 ...`.

use crate::cmd::Ctx;
use crate::exit::ExitStatus;

/// `skiptrace metro2` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Args {}

/// Runs `skiptrace metro2`.
pub fn run(args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match args {}
}
