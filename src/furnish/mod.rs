//! Furnish: accounts to a bureau-ready Metro 2 file per reporting cycle.

use serde::Deserialize;

/// `[furnish]` settings: furnisher identity and reporting policy.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FurnishConfig {}
