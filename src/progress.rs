//! Progress bars for long work (indicatif). Bars draw only when stderr is a terminal and
//! `--no-progress` was not given, so cron and systemd logs stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether this run may draw progress bars.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    enabled: bool,
}

impl Progress {
    /// `enabled = false` for `--no-progress`; bars are also hidden when stderr is not a TTY.
    pub fn new(enabled: bool) -> Progress {
        Progress { enabled: enabled && std::io::IsTerminal::is_terminal(&std::io::stderr()) }
    }

    /// A hidden progress source (tests, library use).
    pub fn hidden() -> Progress {
        Progress { enabled: false }
    }

    /// A byte-based bar for reading a file of `total` bytes.
    pub fn bytes(&self, total: u64, what: &str) -> ProgressBar {
        self.bar(total, what, "{msg} {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta})")
    }

    /// A count-based bar (`total` items; 0 for a spinner).
    pub fn items(&self, total: u64, what: &str) -> ProgressBar {
        if total == 0 {
            return self.bar(0, what, "{spinner} {msg} {pos} ({per_sec})");
        }
        self.bar(total, what, "{msg} {bar:40} {pos}/{len} ({per_sec}, eta {eta})")
    }

    fn bar(&self, total: u64, what: &str, template: &str) -> ProgressBar {
        if !self.enabled {
            return ProgressBar::hidden();
        }
        let pb = if total == 0 { ProgressBar::new_spinner() } else { ProgressBar::new(total) };
        pb.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
        if let Ok(style) = ProgressStyle::with_template(template) {
            pb.set_style(style);
        }
        pb.set_message(what.to_string());
        pb
    }
}
