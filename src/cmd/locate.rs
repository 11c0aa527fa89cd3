//! `skiptrace locate`.

use crate::cmd::Ctx;
use crate::exit::ExitStatus;

/// Flags of `skiptrace locate`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `skiptrace locate`.
pub fn run(_args: Args, _ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("skiptrace locate is not available in this build yet")
}
