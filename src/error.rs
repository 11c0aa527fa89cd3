//! Row-level error positions and the bounded set of error codes.
//!
//! Every rejected input row, every locate failure and every furnish finding carries a
//! [`RecordRef`] (file, record, line, column) and an [`ErrorCode`] from a bounded, documented
//! set of snake_case codes. Raw library messages (serde, csv, reqwest) belong in the
//! human-readable message, never in the code. Messages must never contain an SSN or a date of
//! birth in clear: use [`crate::pii`] to mask them.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a record came from: the file, the 1-based record number (data rows, header
/// excluded), the 1-based physical line and, where known, the column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRef {
    /// Input file.
    pub file: PathBuf,
    /// 1-based data record number (the header row is not counted).
    pub record: u64,
    /// 1-based line where the record starts.
    pub line: u64,
    /// Column (field) name, when the error belongs to one field.
    pub column: Option<String>,
}

impl RecordRef {
    /// A reference to a whole record.
    pub fn new(file: &Path, record: u64, line: u64) -> Self {
        Self { file: file.to_path_buf(), record, line, column: None }
    }

    /// The same record, narrowed to one column.
    pub fn with_column(&self, column: impl Into<String>) -> Self {
        Self { column: Some(column.into()), ..self.clone() }
    }
}

impl fmt::Display for RecordRef {
    /// csv-style: ``portfolio.csv: record 17 (line 18), column `balance` ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.file.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
        write!(f, "{name}: record {} (line {})", self.record, self.line)?;
        if let Some(c) = &self.column {
            write!(f, ", column `{c}`")?;
        }
        Ok(())
    }
}

/// A bounded snake_case error code (`invalid_amount`, `missing_ssn`, ...). Codes are part of
/// the product's interface: they appear in rejects files, run summaries and logs, and are
/// listed in the README.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ErrorCode(pub &'static str);

impl ErrorCode {
    /// The code as text.
    pub fn as_str(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// A rejected record: where, which code, and a message safe to print (no PII in clear).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// Position of the record (and column, when known).
    pub at: RecordRef,
    /// Bounded error code.
    pub code: ErrorCode,
    /// Human-readable explanation; never contains an SSN or DOB in clear.
    pub message: String,
}

impl fmt::Display for Reject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.at, self.code, self.message)
    }
}

impl std::error::Error for Reject {}

/// A configuration error: fatal, reported once, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ref_displays_like_csv() {
        let r = RecordRef::new(Path::new("/in/portfolio.csv"), 17, 18).with_column("balance");
        assert_eq!(r.to_string(), "portfolio.csv: record 17 (line 18), column `balance`");
        let rej = Reject { at: r, code: ErrorCode("invalid_amount"), message: "\"12,3x\"".into() };
        assert_eq!(
            rej.to_string(),
            "portfolio.csv: record 17 (line 18), column `balance`: invalid_amount: \"12,3x\""
        );
    }
}
