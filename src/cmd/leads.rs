//! `skiptrace leads ...`.

use crate::cmd::Ctx;
use crate::exit::ExitStatus;

/// `skiptrace leads` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Args {}

/// Runs `skiptrace leads`.
pub fn run(args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match args {}
}
