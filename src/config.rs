//! The configuration file (TOML): what describes the *pipeline* — clients and their file
//! layouts, the nightly inputs, furnisher identity, locate sources and thresholds.
//!
//! What describes *this run* (`--as-of`, `--dry-run`, `--no-progress`) is a command-line flag,
//! never a config key. Every table is `deny_unknown_fields`, so a typo is an error with the
//! line and column of the offending key. Relative paths are resolved against the directory of
//! the config file. Each stage owns its own section type (`ingest::IngestConfig`,
//! `furnish::FurnishConfig`, `locate::LocateConfig`); this module only composes them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ConfigError;

/// Default database path when neither `--db` nor `[store] path` is given (relative to the
/// working directory).
pub const DEFAULT_DB_PATH: &str = "var/skiptrace.db";

/// The whole configuration file, as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[store]`: the system of record.
    #[serde(default)]
    pub store: StoreConfig,
    /// `[clients.<ID>]`: one table per client whose accounts we hold.
    #[serde(default)]
    pub clients: BTreeMap<String, ClientConfig>,
    /// `[inputs]`: files the nightly batch ingests.
    #[serde(default)]
    pub inputs: InputsConfig,
    /// `[ingest]`: ingest settings.
    #[serde(default)]
    pub ingest: crate::ingest::IngestConfig,
    /// `[furnish]`: furnisher identity and reporting policy.
    #[serde(default)]
    pub furnish: Option<crate::furnish::FurnishConfig>,
    /// `[locate]`: locate sources and matching thresholds.
    #[serde(default)]
    pub locate: Option<crate::locate::LocateConfig>,
}

/// `[store]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Path of the SQLite database (default `var/skiptrace.db`).
    pub path: Option<PathBuf>,
}

/// What a client is to us; decides the Metro 2 account type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// Third-party collection agency placement (Metro 2 account type 48).
    Agency,
    /// Debt we bought (account type 0C; K2 names the seller).
    DebtBuyer,
    /// Returned checks (account type 77).
    ReturnedCheck,
}

impl ClientKind {
    /// The Metro 2 account type code.
    pub fn account_type(self) -> &'static str {
        match self {
            ClientKind::Agency => "48",
            ClientKind::DebtBuyer => "0C",
            ClientKind::ReturnedCheck => "77",
        }
    }

    /// The name used in config and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientKind::Agency => "agency",
            ClientKind::DebtBuyer => "debt_buyer",
            ClientKind::ReturnedCheck => "returned_check",
        }
    }
}

/// `[clients.<ID>]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientConfig {
    /// Display name.
    pub name: String,
    /// `agency`, `debt_buyer` or `returned_check`.
    pub kind: ClientKind,
    /// Portfolio layout: a mapping file in `formats/ingest/` (relative to the config file), or
    /// `default` for the documented default layout.
    #[serde(default = "default_layout")]
    pub layout: String,
    /// Metro 2 Identification Number (Base field 5) under which this client's accounts are
    /// furnished; falls back to `[furnish] identification_number`.
    pub identification_number: Option<String>,
}

fn default_layout() -> String {
    "default".to_string()
}

/// `[inputs]`: the files the nightly batch (`skiptrace run`) ingests, in this order:
/// portfolios, then payments, then contact events.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputsConfig {
    /// `[[inputs.portfolio]]`.
    #[serde(default)]
    pub portfolio: Vec<PortfolioInput>,
    /// `[[inputs.payments]]`.
    #[serde(default)]
    pub payments: Vec<FileInput>,
    /// `[[inputs.contact_events]]`.
    #[serde(default)]
    pub contact_events: Vec<FileInput>,
}

/// One portfolio file and the client it belongs to.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioInput {
    /// Client ID (a key of `[clients]`).
    pub client: String,
    /// File path (relative to the config file).
    pub path: PathBuf,
}

/// One input file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    /// File path (relative to the config file).
    pub path: PathBuf,
    /// Layout mapping for this file (`default` when absent).
    #[serde(default = "default_layout")]
    pub layout: String,
}

/// A loaded configuration: the raw sections plus where it came from.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The sections as written.
    pub raw: RawConfig,
    /// The config file, when one was read.
    pub path: Option<PathBuf>,
    /// Directory that relative paths in the file are resolved against.
    pub base_dir: PathBuf,
}

impl Config {
    /// Loads `path`, or `skiptrace.toml` in the working directory when `path` is `None` and
    /// that file exists; otherwise the built-in defaults.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let path = match path {
            Some(p) => Some(p.to_path_buf()),
            None => Some(PathBuf::from("skiptrace.toml")).filter(|p| p.exists()),
        };
        let Some(path) = path else {
            return Ok(Config { base_dir: PathBuf::from("."), ..Config::default() });
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| ConfigError(format!("cannot read config {}: {e}", path.display())))?;
        Config::parse(&text, &path)
    }

    /// Parses config text; `path` is used for messages and to resolve relative paths.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError(format!("invalid config {}: {e}", path.display())))?;
        let base_dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let cfg = Config { raw, path: Some(path.to_path_buf()), base_dir };
        cfg.check()?;
        Ok(cfg)
    }

    /// Cross-section checks that need the whole file.
    fn check(&self) -> Result<(), ConfigError> {
        for input in &self.raw.inputs.portfolio {
            if !self.raw.clients.contains_key(&input.client) {
                return Err(ConfigError(format!(
                    "[[inputs.portfolio]] names client {:?}, which has no [clients.{}] table",
                    input.client, input.client
                )));
            }
        }
        Ok(())
    }

    /// Resolves a path from the config file against its directory.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { self.base_dir.join(p) }
    }

    /// The database path: `--db` wins, then `[store] path`, then [`DEFAULT_DB_PATH`].
    pub fn db_path(&self, cli_db: Option<&Path>) -> PathBuf {
        if let Some(p) = cli_db {
            return p.to_path_buf();
        }
        match &self.raw.store.path {
            Some(p) => self.resolve(p),
            None => PathBuf::from(DEFAULT_DB_PATH),
        }
    }

    /// The client table for `id`, or a configuration error naming the known clients.
    pub fn client(&self, id: &str) -> Result<&ClientConfig, ConfigError> {
        self.raw.clients.get(id).ok_or_else(|| {
            let known: Vec<&str> = self.raw.clients.keys().map(String::as_str).collect();
            ConfigError(format!("unknown client {id:?} (configured: {})", known.join(", ")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_position() {
        let e = Config::parse("[store]\npaht = \"x\"\n", Path::new("c/s.toml")).unwrap_err();
        assert!(e.0.contains("unknown field `paht`"), "{}", e.0);
        assert!(e.0.contains("line 2"), "{}", e.0);
    }

    #[test]
    fn resolves_paths_and_checks_clients() {
        let text = r#"
[store]
path = "db/x.db"
[clients.ACME]
name = "Acme Bank"
kind = "agency"
[[inputs.portfolio]]
client = "ACME"
path = "p.csv"
"#;
        let c = Config::parse(text, Path::new("conf/skiptrace.toml")).unwrap();
        assert_eq!(c.db_path(None), PathBuf::from("conf/db/x.db"));
        assert_eq!(c.db_path(Some(Path::new("o.db"))), PathBuf::from("o.db"));
        assert_eq!(c.client("ACME").unwrap().kind.account_type(), "48");
        assert!(c.client("NOPE").unwrap_err().0.contains("ACME"));
        let bad = text.replace("client = \"ACME\"", "client = \"ZED\"");
        assert!(Config::parse(&bad, Path::new("s.toml")).unwrap_err().0.contains("ZED"));
    }
}
