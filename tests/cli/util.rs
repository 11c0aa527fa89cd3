//! Test harness: a per-test working directory and a command builder for the binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// A fresh temporary directory for one test, removed on drop.
pub struct Workdir {
    dir: tempfile::TempDir,
}

impl Workdir {
    /// Creates the directory.
    pub fn new() -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// Path of the directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Path of a file inside it.
    pub fn join(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file (creating parent directories).
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(name);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// A `skiptrace` command run in this directory, with its own database and no progress
    /// bars. Arguments go after the global flags.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut c = assert_cmd::Command::cargo_bin("skiptrace").unwrap();
        c.current_dir(self.path())
            .env_remove("SKIPTRACE_CONFIG")
            .env_remove("SKIPTRACE_DB")
            .env("SKIPTRACE_USER", "tester")
            .arg("--no-progress");
        c
    }

    /// Opens the database the commands wrote (default path).
    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.join("var/skiptrace.db")).unwrap()
    }
}

/// Path of a file under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Path of a file under the shared reference folder beside the checkout.
pub fn shared(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared").join(rel)
}

/// stdout and stderr of an output, for assertion messages.
pub fn show(o: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Copies a directory tree (files only), skipping rejects files a previous run left behind.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        let ty = e.file_type().unwrap();
        if ty.is_dir() {
            copy_tree(&e.path(), &to.join(&name));
        } else if ty.is_file() && !name.to_string_lossy().contains(".rejects.") {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// Copies the demo (`fixtures/demo/` and the `formats/` mappings it names) into `wd`, keeping
/// the repository's relative layout, so `--config fixtures/demo/skiptrace.toml` works there.
pub fn copy_demo(wd: &Workdir) {
    copy_tree(&repo("fixtures/demo"), &wd.join("fixtures/demo"));
    copy_tree(&repo("formats"), &wd.join("formats"));
}
