//! Ingest: client files (portfolios, payments, contact events) into the system of record.

use serde::Deserialize;

/// `[ingest]` settings.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {}
