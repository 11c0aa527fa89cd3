//! Global behaviour: configuration errors, exit codes, the database file and the run lock.

use std::os::unix::fs::PermissionsExt;

use crate::util::{Workdir, show};

#[test]
fn unknown_config_key_is_a_usage_error_with_its_line() {
    let wd = Workdir::new();
    wd.write("skiptrace.toml", "[store]\npaht = \"x.db\"\n");
    let o = wd.cmd().args(["run", "--as-of", "2026-11-20"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("unknown field `paht`") && err.contains("line 2"), "{err}");
}

#[test]
fn run_creates_a_private_database_and_records_the_run() {
    let wd = Workdir::new();
    let o = wd.cmd().args(["run", "--as-of", "2026-11-20"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let db = wd.join("var/skiptrace.db");
    assert_eq!(std::fs::metadata(&db).unwrap().permissions().mode() & 0o777, 0o600);
    let (cmd, as_of, status): (String, String, String) = wd
        .db()
        .query_row("SELECT command, as_of, status FROM runs", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((cmd.as_str(), as_of.as_str(), status.as_str()), ("run", "2026-11-20", "ok"));
}

#[test]
fn bad_as_of_is_a_usage_error() {
    let wd = Workdir::new();
    let o = wd.cmd().args(["run", "--as-of", "2026-02-30"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
}
