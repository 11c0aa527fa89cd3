//! skiptrace: the nightly batch processor of a collection agency or debt buyer.
//!
//! Three jobs run over one system of record (an embedded SQLite database):
//!
//! * **locate** — debtors who moved are matched against change-of-address files, vendor batch
//!   files and vendor APIs; matches become scored, explained contact leads ([`locate`]);
//! * **furnish** — each reporting cycle, accounts become a Metro 2 file for the credit bureaus
//!   ([`furnish`], built on the format engine in [`metro2`]);
//! * **reconcile** — disputes are recorded with their legal deadlines and turned into
//!   corrections for the next cycle ([`reconcile`]).
//!
//! Client files enter through [`ingest`]. The command-line front end lives in [`cli`] and
//! [`cmd`] (one file per subcommand). See `ARCHITECTURE.md` for the code map and invariants.

/// The process's allocator: mimalloc, whose small-object allocation and release cost a
/// fraction of the system allocator's in the ingest and furnishing hot loops (rows, batches,
/// field strings handed between threads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod cli;
pub mod cmd;
pub mod config;
pub mod dates;
pub mod error;
pub mod exit;
pub mod fsutil;
pub mod furnish;
pub mod ingest;
pub mod locate;
pub mod metro2;
pub mod money;
pub mod normalize;
pub mod pii;
pub mod progress;
pub mod reconcile;
pub mod store;
pub mod synth;
