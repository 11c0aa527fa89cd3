//! `skiptrace furnish`: cycle files, gates, snapshots, determinism, blocking and dry runs,
//! on real SQLite databases built with the sample-account helper.

use std::os::unix::fs::PermissionsExt;

use skiptrace::furnish::sample::{self, SampleAccount};
use skiptrace::store::Db;

use crate::util::{Workdir, show};

const CONFIG: &str = r#"
[clients.ACME]
name = "Acme Bank"
kind = "agency"
identification_number = "ACMEAGY01"

[clients.BUYCO]
name = "Buy Co"
kind = "debt_buyer"

[clients.CHECKS]
name = "Checks"
kind = "returned_check"

[furnish]
reporter_name = "Northwind Recovery LLC"
reporter_address = "100 Main St, Austin TX 78701"
reporter_phone = "512-555-0199"
identification_number = "NWRDEFAULT"

[furnish.program_identifiers]
equifax = "EQ12345"
experian = "EX123"
"#;

/// A work directory with the config and a database holding `accounts`.
fn setup(accounts: &[SampleAccount]) -> Workdir {
    let wd = Workdir::new();
    wd.write("skiptrace.toml", CONFIG);
    let db = Db::open(&wd.join("var/skiptrace.db")).unwrap();
    for a in accounts {
        sample::insert(db.conn(), a).unwrap();
    }
    wd
}

fn random_portfolio(wd: &Workdir, n: u64, seed: u64) {
    let mut db = Db::open(&wd.join("var/skiptrace.db")).unwrap();
    sample::generate(db.conn_mut(), n, seed).unwrap();
}

#[test]
fn random_portfolio_validates_clean() {
    let wd = setup(&[]);
    random_portfolio(&wd, 300, 7);
    let o = wd.cmd().args(["furnish", "--as-of", "2026-11-20"]).output().unwrap();
    if let Ok(f) = std::fs::read_to_string(
        wd.join("var/out/furnish/metro2-equifax-20261120.txt.findings.json"),
    ) {
        println!("{f}");
    }
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", show(&o));
    let p = wd.join("var/out/furnish/metro2-equifax-20261120.txt");
    assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
    let keep = std::path::Path::new("/tmp/fz/out");
    let _ = std::fs::remove_dir_all(keep);
    std::fs::create_dir_all(keep).unwrap();
    for e in std::fs::read_dir(wd.join("var/out/furnish")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), keep.join(e.file_name())).unwrap();
    }
}
