//! One file per subcommand. Each exposes `Args` (clap) and
//! `run(args, &Ctx) -> anyhow::Result<ExitStatus>`. Commands parse and validate what they
//! need from [`Ctx`], call into the stage modules, and print the outcome; they hold no domain
//! logic of their own.

pub mod furnish;
pub mod ingest;
pub mod leads;
pub mod locate;
pub mod metro2;
pub mod run;

use std::path::{Path, PathBuf};

use crate::cli::Command;
use crate::config::Config;
use crate::exit::ExitStatus;
use crate::progress::Progress;
use crate::store::Db;

/// What every command gets: the loaded configuration and the run's global flags.
pub struct Ctx {
    /// Loaded configuration.
    pub config: Config,
    /// `--db`, when given.
    pub db_override: Option<PathBuf>,
    /// Progress bars (disabled by `--no-progress` or a non-terminal stderr).
    pub progress: Progress,
    /// `-q` was given: print only errors.
    pub quiet: bool,
}

impl Ctx {
    /// The database path for this run.
    pub fn db_path(&self) -> PathBuf {
        self.config.db_path(self.db_override.as_deref())
    }

    /// Opens (creating and migrating) the system of record.
    pub fn open_db(&self) -> anyhow::Result<Db> {
        Db::open(&self.db_path())
    }

    /// Resolves a path given in the config file.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        self.config.resolve(p)
    }
}

/// Dispatches a parsed command.
pub fn dispatch(command: Command, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Run(a) => run::run(a, ctx),
        Command::Ingest(a) => ingest::run(a, ctx),
        Command::Metro2(a) => metro2::run(a, ctx),
        Command::Furnish(a) => furnish::run(a, ctx),
        Command::Locate(a) => locate::run(a, ctx),
        Command::Leads(a) => leads::run(a, ctx),
    }
}
