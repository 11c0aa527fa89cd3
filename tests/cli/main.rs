//! Integration tests: each runs the real `skiptrace` binary against real files and a real
//! SQLite database in a fresh temporary directory. One test binary (see Cargo.toml).

mod util;

mod foundation;
mod furnish;
mod ingest;
mod locate;
mod matching;
mod metro2;
