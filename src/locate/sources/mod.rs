//! Locate sources: configuration (`[locate.sources.<name>]`) and the readers that turn a
//! source's records into [`LocateRecord`]s.
//!
//! Every source kind produces a [`SourceRead`]: the records it could read, the records it had
//! to reject (with file, record, line or byte position, error code and a PII-safe message)
//! and its counters. Readers never touch the database except the API source's request cache
//! and audit (through [`api`]); matching and leads are not their business.

pub mod api;
pub mod csv;
pub mod json;
pub mod xml;

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{ConfigError, ErrorCode};
use crate::locate::mapping::{FieldError, FlatRecord, Format, Mapping, RecordKind};
use crate::locate::record::LocateRecord;

/// The kind of a configured source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// NCOALink-style change-of-address result file (CSV).
    NcoaCsv,
    /// Vendor batch result file, CSV.
    VendorCsv,
    /// Vendor batch result file, XML (streamed).
    VendorXml,
    /// Vendor HTTP API (JSON or XML responses), one request per debtor.
    VendorApi,
}

impl SourceKind {
    /// The name used in config and summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::NcoaCsv => "ncoa_csv",
            SourceKind::VendorCsv => "vendor_csv",
            SourceKind::VendorXml => "vendor_xml",
            SourceKind::VendorApi => "vendor_api",
        }
    }

    /// How the source's records are interpreted.
    pub fn record_kind(self) -> RecordKind {
        if self == SourceKind::NcoaCsv { RecordKind::Ncoa } else { RecordKind::Vendor }
    }
}

/// HTTP method of an API source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// Query in the URL's query string.
    Get,
    /// Query as a JSON body.
    Post,
}

/// `[locate.sources.<name>]`. Keys not used by a source's kind are refused by
/// [`SourceConfig::check`].
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `ncoa_csv`, `vendor_csv`, `vendor_xml` or `vendor_api`.
    pub kind: SourceKind,
    /// Layout mapping file (relative to the config file), e.g.
    /// `formats/sources/ncoa-default.toml`.
    pub mapping: PathBuf,
    /// File sources: the result file (relative to the config file).
    pub path: Option<PathBuf>,
    /// Permissible-purpose code recorded with every request and in the audit log (GLBA /
    /// FCRA purpose agreed with the vendor).
    pub permissible_purpose: String,
    /// Set to `false` to keep a source configured but skip it.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// API: endpoint URL.
    pub url: Option<String>,
    /// API: `GET` (query string) or `POST` (JSON body; default).
    #[serde(default = "default_method")]
    pub method: HttpMethod,
    /// API: name of the environment variable holding the API key (never the key itself).
    pub api_key_env: Option<String>,
    /// API: header that carries the key (default `Authorization`).
    #[serde(default = "default_key_header")]
    pub api_key_header: String,
    /// API: text before the key in that header (default `Bearer `).
    #[serde(default = "default_key_prefix")]
    pub api_key_prefix: String,
    /// API: the vendor charges per request (default true). Billable requests that are not
    /// idempotent are never retried once sent.
    #[serde(default = "yes")]
    pub billable: bool,
    /// API: the vendor documents that repeating a request (same `Idempotency-Key`) is not
    /// billed twice, so sent requests may be retried.
    #[serde(default)]
    pub idempotent: bool,
    /// API: timeout of one attempt, in milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// API: requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub max_concurrency: u32,
    /// API: requests per second (the vendor's rate limit).
    #[serde(default = "default_rate")]
    pub rate_per_sec: u32,
    /// API: retries after the first attempt.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// API: first backoff delay, in milliseconds (doubles each retry, with jitter).
    #[serde(default = "default_backoff_initial_ms")]
    pub backoff_initial_ms: u64,
    /// API: longest backoff delay, in milliseconds.
    #[serde(default = "default_backoff_max_ms")]
    pub backoff_max_ms: u64,
    /// API: longest `Retry-After` honoured, in seconds; a longer one gives up on the request.
    #[serde(default = "default_retry_after_max_secs")]
    pub retry_after_max_secs: u64,
    /// API: an answer stays in the response cache (is not asked and billed again) for this
    /// many days.
    #[serde(default = "default_cache_days")]
    pub cache_days: u32,
}

fn default_cache_days() -> u32 {
    30
}

fn yes() -> bool {
    true
}
fn default_method() -> HttpMethod {
    HttpMethod::Post
}
fn default_key_header() -> String {
    "Authorization".into()
}
fn default_key_prefix() -> String {
    "Bearer ".into()
}
fn default_timeout_ms() -> u64 {
    10_000
}
fn default_concurrency() -> u32 {
    4
}
fn default_rate() -> u32 {
    5
}
fn default_retries() -> u32 {
    3
}
fn default_backoff_initial_ms() -> u64 {
    500
}
fn default_backoff_max_ms() -> u64 {
    30_000
}
fn default_retry_after_max_secs() -> u64 {
    120
}

impl SourceConfig {
    /// Checks the keys a source of this kind needs.
    pub fn check(&self, name: &str) -> Result<(), ConfigError> {
        let err = |m: &str| Err(ConfigError(format!("[locate.sources.{name}]: {m}")));
        if self.permissible_purpose.trim().is_empty() {
            return err("`permissible_purpose` must not be empty");
        }
        match self.kind {
            SourceKind::VendorApi => {
                if self.url.as_deref().is_none_or(|u| u.trim().is_empty()) {
                    return err("`url` is required for kind = \"vendor_api\"");
                }
                if self.api_key_env.is_none() {
                    return err("`api_key_env` is required for kind = \"vendor_api\"");
                }
                if self.path.is_some() {
                    return err("`path` is for file sources, not kind = \"vendor_api\"");
                }
                if self.max_concurrency == 0 || self.rate_per_sec == 0 || self.timeout_ms == 0 {
                    return err("`max_concurrency`, `rate_per_sec` and `timeout_ms` must be > 0");
                }
            }
            _ => {
                if self.path.is_none() {
                    return err("`path` (the result file) is required for file sources");
                }
                if self.url.is_some() || self.api_key_env.is_some() {
                    return err("`url` and `api_key_env` are for kind = \"vendor_api\" only");
                }
            }
        }
        Ok(())
    }

    /// Checks that the mapping's format suits the kind.
    pub fn check_mapping(&self, name: &str, m: &Mapping) -> Result<(), ConfigError> {
        let ok = match self.kind {
            SourceKind::NcoaCsv | SourceKind::VendorCsv => m.format == Format::Csv,
            SourceKind::VendorXml => m.format == Format::Xml,
            SourceKind::VendorApi => m.format != Format::Csv,
        };
        if ok {
            Ok(())
        } else {
            Err(ConfigError(format!(
                "[locate.sources.{name}]: mapping format {:?} does not suit kind {}",
                m.format,
                self.kind.as_str()
            )))
        }
    }
}

/// A rejected source record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceReject {
    /// 1-based record number.
    pub record: u64,
    /// 1-based line where the record starts (0 when unknown).
    pub line: u64,
    /// Byte offset of the record (or of the syntax error).
    pub byte: u64,
    /// The source's record id, when it could be read.
    pub source_record_id: String,
    /// Canonical field at fault (empty for the whole record).
    pub field: String,
    /// Bounded error code.
    pub code: ErrorCode,
    /// PII-safe message.
    pub message: String,
    /// CSV sources: the row's original cells, SSN and DOB masked.
    pub raw: Vec<String>,
}

impl SourceReject {
    /// From a conversion error of a flat record.
    pub fn from_field(flat: &FlatRecord, id: &str, e: FieldError) -> SourceReject {
        SourceReject {
            record: flat.record,
            line: flat.line,
            byte: flat.byte,
            source_record_id: id.to_string(),
            field: e.field,
            code: e.code,
            message: e.message,
            raw: Vec::new(),
        }
    }

    /// One line for the terminal: `file: record 3 (line 4, byte 120), field `dob`: code: msg`.
    pub fn describe(&self, file: &str) -> String {
        if self.line == 0 && self.byte == 0 {
            // API responses: the message names the source and the record.
            return format!("{}: {}", self.code, self.message);
        }
        let mut s =
            format!("{file}: record {} (line {}, byte {})", self.record, self.line, self.byte);
        if !self.source_record_id.is_empty() {
            s.push_str(&format!(", record id {}", self.source_record_id));
        }
        if !self.field.is_empty() {
            s.push_str(&format!(", field `{}`", self.field));
        }
        format!("{s}: {}: {}", self.code, self.message)
    }
}

/// Counters of one API source.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ApiStats {
    /// Debtors for which a lookup was needed.
    pub lookups: u64,
    /// HTTP requests sent (attempts, retries included).
    pub requests: u64,
    /// Lookups answered from the response cache (nothing sent).
    pub cache_hits: u64,
    /// Billable calls made in this run.
    pub billable_calls: u64,
    /// Lookups that failed after their retries.
    pub failed: u64,
}

/// What one source produced.
#[derive(Debug, Default)]
pub struct SourceRead {
    /// Records read and converted, in source order.
    pub records: Vec<LocateRecord>,
    /// Rejected records.
    pub rejects: Vec<SourceReject>,
    /// Records seen (= records + rejects).
    pub rows: u64,
    /// Where the rejects file was written.
    pub rejects_path: Option<PathBuf>,
    /// API counters.
    pub api: ApiStats,
    /// Vendor failures (each names the source and the record); make the run exit 3.
    pub vendor_errors: Vec<String>,
    /// Why the source was skipped, when it was.
    pub skipped: Option<String>,
    /// SHA-256 of a file source's bytes, computed while it was read.
    pub sha256: Option<String>,
}

/// The path of a rejects file beside an input: `ncoa.csv` → `ncoa.rejects.csv`,
/// `vendor.xml` → `vendor.xml.rejects.csv`.
pub fn rejects_path(input: &Path) -> PathBuf {
    let is_csv = input.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let base = if is_csv { input.file_stem() } else { input.file_name() };
    let base = base.map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    input.with_file_name(format!("{base}.rejects.csv"))
}

/// Publishes the rejects file of an input, or removes a stale one when nothing was rejected.
pub fn publish_rejects(
    input: &Path,
    rejects: &[SourceReject],
    write: impl FnOnce(&Path) -> anyhow::Result<()>,
) -> anyhow::Result<Option<PathBuf>> {
    let p = rejects_path(input);
    if rejects.is_empty() {
        if p.exists() {
            std::fs::remove_file(&p)
                .map_err(|e| anyhow::anyhow!("removing stale {}: {e}", p.display()))?;
        }
        return Ok(None);
    }
    write(&p)?;
    Ok(Some(p))
}

/// Writes the rejects of a non-CSV source (atomically, 0600):
/// `record, line, byte_offset, source_record_id, column, error_code, error_message`.
pub fn write_rejects(path: &Path, rejects: &[SourceReject]) -> anyhow::Result<()> {
    crate::fsutil::write_atomic(path, |w| {
        let mut out = ::csv::Writer::from_writer(w);
        out.write_record([
            "record",
            "line",
            "byte_offset",
            "source_record_id",
            "column",
            "error_code",
            "error_message",
        ])?;
        for r in rejects {
            out.write_record([
                r.record.to_string(),
                r.line.to_string(),
                r.byte.to_string(),
                r.source_record_id.clone(),
                r.field.clone(),
                r.code.to_string(),
                r.message.clone(),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}
