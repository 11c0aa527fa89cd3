//! `skiptrace furnish`.

use crate::cmd::Ctx;
use crate::exit::ExitStatus;

/// Flags of `skiptrace furnish`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `skiptrace furnish`.
pub fn run(_args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("skiptrace furnish is not available in this build yet")
}
