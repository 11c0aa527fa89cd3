//! Exit codes, decided in one place. The README's "Exit codes" table mirrors [`ExitStatus`].

use std::process::ExitCode;

/// How a command ended. Commands return it; `main` turns it into the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum ExitStatus {
    /// 0: everything succeeded.
    Ok = 0,
    /// 1: the command completed, but some rows were rejected or the file has findings.
    Rejects = 1,
    /// 2: usage or configuration error (nothing was done).
    Usage = 2,
    /// 3: a vendor or network step gave up after its retries.
    Vendor = 3,
    /// 4: another run holds the lock on this database.
    Locked = 4,
    /// 5: validation blocked an output file (it was kept aside, not published).
    Blocked = 5,
    /// 6: a fatal error (unreadable input, database or file-system failure).
    Failure = 6,
}

impl ExitStatus {
    /// The worse of two outcomes (higher code wins, except that `Ok` never wins).
    pub fn worst(self, other: ExitStatus) -> ExitStatus {
        self.max(other)
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> ExitCode {
        ExitCode::from(s as u8)
    }
}

/// An error that carries its own exit status (for example a held run lock); anything else
/// that reaches `main` is a [`ExitStatus::Failure`], or [`ExitStatus::Usage`] for a
/// [`crate::error::ConfigError`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StatusError {
    /// Exit status to use.
    pub status: ExitStatus,
    /// Message printed once by `main`.
    pub message: String,
}

/// Picks the exit status for an error that reached `main`.
pub fn status_of(err: &anyhow::Error) -> ExitStatus {
    for cause in err.chain() {
        if let Some(s) = cause.downcast_ref::<StatusError>() {
            return s.status;
        }
        if cause.downcast_ref::<crate::error::ConfigError>().is_some() {
            return ExitStatus::Usage;
        }
    }
    ExitStatus::Failure
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worst_and_status_of() {
        assert_eq!(ExitStatus::Ok.worst(ExitStatus::Rejects), ExitStatus::Rejects);
        assert_eq!(ExitStatus::Blocked.worst(ExitStatus::Rejects), ExitStatus::Blocked);
        let e = anyhow::Error::new(crate::error::ConfigError("bad".into())).context("loading");
        assert_eq!(status_of(&e), ExitStatus::Usage);
        let e = anyhow::Error::new(StatusError { status: ExitStatus::Locked, message: "x".into() });
        assert_eq!(status_of(&e), ExitStatus::Locked);
        assert_eq!(status_of(&anyhow::anyhow!("io")), ExitStatus::Failure);
    }
}
