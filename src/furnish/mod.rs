//! Furnish: accounts to a bureau-ready Metro 2 file per reporting cycle.
//!
//! This module owns the furnishing *policy*: which accounts are reported and how (the
//! collection-account profile of metro2.md §5.2a), which are deliberately not reported and why
//! (the gates: Regulation F contact, obsolescence, medical debt, recalls, fraud, data errors),
//! the immutable per-cycle snapshots (`furnish_snapshots`), the exclusions list
//! (`furnish_exclusions`) and the cycle report (`furnish_cycles.report`).
//!
//! It must not format Metro 2 bytes itself: records are handed to the format engine
//! ([`crate::metro2`]) which writes and validates them. It reads the system of record but never
//! changes accounts, consumers or disputes.
//!
//! Layout: [`account`] streams accounts from SQLite, [`rules`] decides each account
//! (gates and status), [`record`] holds the typed intermediate record and its Metro 2 form,
//! [`report`] the cycle report, [`cycle`] runs a cycle end to end, [`sample`] inserts synthetic
//! accounts for tests and benchmarks.

pub mod account;
pub mod cycle;
pub mod m2;
pub mod record;
pub mod report;
pub mod rules;
pub mod sample;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use cycle::{CycleOptions, CycleOutcome, FileOutcome, FileStatus, run_cycle};

/// A consumer reporting agency we furnish to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bureau {
    /// Equifax.
    Equifax,
    /// Experian.
    Experian,
    /// TransUnion.
    Transunion,
    /// Innovis.
    Innovis,
}

impl Bureau {
    /// Every bureau, in header-field order of the file name listing.
    pub const ALL: [Bureau; 4] =
        [Bureau::Equifax, Bureau::Experian, Bureau::Transunion, Bureau::Innovis];

    /// The lower-case name used in config, file names and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Bureau::Equifax => "equifax",
            Bureau::Experian => "experian",
            Bureau::Transunion => "transunion",
            Bureau::Innovis => "innovis",
        }
    }

    /// Parses a bureau name (case-insensitive).
    pub fn parse(text: &str) -> Option<Bureau> {
        Bureau::ALL.into_iter().find(|b| b.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl fmt::Display for Bureau {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the cycle's output is split.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// One file per bureau, each header carrying only that bureau's program identifier.
    #[default]
    PerBureau,
    /// One file for all bureaus (header carries every configured program identifier);
    /// stored under the bureau name `all`.
    Shared,
}

/// `[furnish.program_identifiers]`: the program identifier each bureau assigned to us.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramIdentifiers {
    /// Equifax program identifier (header, 10 characters at most).
    pub equifax: Option<String>,
    /// Experian program identifier (header, 5 characters at most).
    pub experian: Option<String>,
    /// TransUnion program identifier (header, 10 characters at most).
    pub transunion: Option<String>,
    /// Innovis program identifier (header, 10 characters at most).
    pub innovis: Option<String>,
}

impl ProgramIdentifiers {
    /// The identifier configured for `bureau`, if any (blank counts as none).
    pub fn get(&self, bureau: Bureau) -> Option<&str> {
        let v = match bureau {
            Bureau::Equifax => &self.equifax,
            Bureau::Experian => &self.experian,
            Bureau::Transunion => &self.transunion,
            Bureau::Innovis => &self.innovis,
        };
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }
}

/// `[furnish]` settings: furnisher identity and reporting policy.
///
/// Identity keys have no default (a cycle refuses to run without them); policy thresholds
/// default to the values in the README ("Furnishing (Metro 2)").
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FurnishConfig {
    /// Reporter name (header field 12).
    pub reporter_name: Option<String>,
    /// Reporter address: street, city, state and ZIP in one line (header field 13).
    pub reporter_address: Option<String>,
    /// Reporter telephone number, 10 digits (header field 14).
    pub reporter_phone: Option<String>,
    /// Default Metro 2 Identification Number (base field 5) for clients without their own
    /// `[clients.<ID>] identification_number`.
    pub identification_number: Option<String>,
    /// Bureaus we furnish to (default: every bureau with a program identifier).
    #[serde(default)]
    pub bureaus: Vec<Bureau>,
    /// Program identifier per bureau.
    #[serde(default)]
    pub program_identifiers: ProgramIdentifiers,
    /// `per_bureau` (default) or `shared`.
    #[serde(default)]
    pub files: FileMode,
    /// Output directory for cycle files (default `out/furnish` beside the database).
    pub out_dir: Option<PathBuf>,
    /// Days of the month on which the nightly batch furnishes (default `[1]`); a day past
    /// the end of a month means its last day.
    #[serde(default = "default_cycle_days")]
    pub cycle_days: Vec<u8>,
    /// Regulation F §1006.30(a): days to wait after a validation notice for a notice of
    /// undeliverability (default 14).
    #[serde(default = "default_contact_wait_days")]
    pub contact_wait_days: u32,
    /// Extra days before the FCRA §605 obsolescence date at which accounts stop being
    /// furnished (default 0: exactly DOFD + 180 days + 7 years).
    #[serde(default)]
    pub obsolete_margin_days: u32,
    /// Medical debt is not furnished until this many days after the DOFD (default 365).
    #[serde(default = "default_medical_wait_days")]
    pub medical_wait_days: u32,
    /// Medical debt placed with an initial balance under this amount is never furnished
    /// (default 500).
    #[serde(default = "default_medical_min_amount")]
    pub medical_min_amount: Decimal,
    /// At most this many excluded accounts are listed in the cycle report (all are in
    /// `furnish_exclusions`); default 1000.
    #[serde(default = "default_report_list_limit")]
    pub report_list_limit: usize,
    /// Software vendor name (header field 15).
    pub software_vendor: Option<String>,
    /// Software version (header field 16).
    pub software_version: Option<String>,
}

fn default_cycle_days() -> Vec<u8> {
    vec![1]
}
fn default_contact_wait_days() -> u32 {
    14
}
fn default_medical_wait_days() -> u32 {
    365
}
fn default_medical_min_amount() -> Decimal {
    Decimal::from(500)
}
fn default_report_list_limit() -> usize {
    1000
}

impl Default for FurnishConfig {
    fn default() -> Self {
        FurnishConfig {
            reporter_name: None,
            reporter_address: None,
            reporter_phone: None,
            identification_number: None,
            bureaus: Vec::new(),
            program_identifiers: ProgramIdentifiers::default(),
            files: FileMode::default(),
            out_dir: None,
            cycle_days: default_cycle_days(),
            contact_wait_days: default_contact_wait_days(),
            obsolete_margin_days: 0,
            medical_wait_days: default_medical_wait_days(),
            medical_min_amount: default_medical_min_amount(),
            report_list_limit: default_report_list_limit(),
            software_vendor: None,
            software_version: None,
        }
    }
}

impl FurnishConfig {
    /// The bureaus this configuration furnishes to: `bureaus` when given, else every bureau
    /// with a program identifier, in [`Bureau::ALL`] order.
    pub fn active_bureaus(&self) -> Vec<Bureau> {
        let mut v: Vec<Bureau> = if self.bureaus.is_empty() {
            Bureau::ALL.into_iter().filter(|b| self.program_identifiers.get(*b).is_some()).collect()
        } else {
            self.bureaus.clone()
        };
        v.sort();
        v.dedup();
        v
    }

    /// True when the nightly batch should furnish on `as_of` (a configured cycle day; a day
    /// past the end of the month means the month's last day).
    pub fn is_due(&self, as_of: Date) -> bool {
        let last = as_of.days_in_month();
        self.cycle_days.iter().any(|&d| {
            let d = i8::try_from(d).unwrap_or(i8::MAX);
            d >= 1 && d.min(last) == as_of.day()
        })
    }
}

/// The Identification Number (base field 5) of each client, from `[clients.<ID>]`, falling
/// back to `[furnish] identification_number`.
pub fn identification_numbers(config: &crate::config::Config) -> BTreeMap<String, String> {
    let fallback = config
        .raw
        .furnish
        .as_ref()
        .and_then(|f| f.identification_number.clone())
        .filter(|s| !s.trim().is_empty());
    let mut out = BTreeMap::new();
    for (id, c) in &config.raw.clients {
        if let Some(n) = c.identification_number.clone().filter(|s| !s.trim().is_empty()) {
            out.insert(id.clone(), n.trim().to_string());
        } else if let Some(f) = &fallback {
            out.insert(id.clone(), f.trim().to_string());
        }
    }
    if let Some(f) = fallback {
        out.insert(String::new(), f.trim().to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn config_defaults_and_due_days() {
        let c: FurnishConfig = toml::from_str("reporter_name = \"X\"").unwrap();
        assert_eq!(c.contact_wait_days, 14);
        assert_eq!(c.medical_min_amount, Decimal::from(500));
        assert!(c.is_due(date(2026, 11, 1)));
        assert!(!c.is_due(date(2026, 11, 2)));
        let c: FurnishConfig = toml::from_str("cycle_days = [15, 31]").unwrap();
        assert!(c.is_due(date(2026, 2, 28)));
        assert!(c.is_due(date(2026, 2, 15)));
        assert!(!c.is_due(date(2026, 3, 30)));
        assert!(toml::from_str::<FurnishConfig>("cycle_dayz = [1]").is_err());
    }

    #[test]
    fn active_bureaus_follow_program_identifiers() {
        let c: FurnishConfig = toml::from_str(
            "[program_identifiers]\nequifax = \"EQ1\"\ntransunion = \" \"\ninnovis = \"IN1\"",
        )
        .unwrap();
        assert_eq!(c.active_bureaus(), vec![Bureau::Equifax, Bureau::Innovis]);
        let c: FurnishConfig = toml::from_str("bureaus = [\"experian\", \"equifax\"]").unwrap();
        assert_eq!(c.active_bureaus(), vec![Bureau::Equifax, Bureau::Experian]);
        assert_eq!(Bureau::parse("TransUnion"), Some(Bureau::Transunion));
    }
}
