//! The `skiptrace` binary: parse flags, set up logging, load the configuration, dispatch the
//! command, and turn its outcome into an exit code (see `skiptrace::exit`).

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use skiptrace::cli::Cli;
use skiptrace::cmd::{self, Ctx};
use skiptrace::config::Config;
use skiptrace::exit::{self, ExitStatus};
use skiptrace::progress::Progress;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    match run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("skiptrace: error: {err:#}");
            exit::status_of(&err).into()
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    let config = Config::load(cli.config.as_deref())?;
    let ctx = Ctx {
        config,
        db_override: cli.db,
        progress: Progress::new(!cli.no_progress),
        quiet: cli.quiet,
    };
    cmd::dispatch(cli.command, &ctx)
}

/// Human-readable logs on stderr; `SKIPTRACE_LOG` (an env-filter directive) overrides the
/// level chosen by -v/-q. Logs carry ids and counts, never names, SSNs or dates of birth.
fn init_logging(verbose: u8, quiet: bool) {
    use tracing_subscriber::EnvFilter;
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_env("SKIPTRACE_LOG").unwrap_or_else(|_| EnvFilter::new(level));
    // A second initialisation (only possible in tests) keeps the first subscriber.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init()
        .ok();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
