//! Locate (skip tracing): accounts that lost contact, matched against locate sources.

pub mod matcher;
pub mod record;

use serde::Deserialize;

/// `[locate]` settings: sources and matching thresholds.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocateConfig {
    /// `[locate.matching]`: thresholds and model settings.
    #[serde(default)]
    pub matching: matcher::MatchConfig,
}
