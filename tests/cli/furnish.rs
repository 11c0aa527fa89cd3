//! `skiptrace furnish`: cycle files, gates, snapshots, determinism, blocking and dry runs, on
//! real SQLite databases filled with the sample-account helper (straight SQL on the schema).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use rusqlite::Connection;
use skiptrace::config::Config;
use skiptrace::furnish::sample::{self, SampleAccount, SampleAssociate};
use skiptrace::furnish::{CycleOptions, FileStatus, run_cycle};
use skiptrace::store::Db;

use crate::util::{Workdir, copy_demo, repo, show};

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

const EQUIFAX_NOV: &str = "var/out/furnish/metro2-equifax-20261120.txt";

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

fn furnish(wd: &Workdir, args: &[&str]) -> std::process::Output {
    wd.cmd().arg("furnish").args(args).output().unwrap()
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// The data records of a Metro 2 file (header and trailer dropped).
fn data_lines(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines.first().unwrap().starts_with("0426HEADER"));
    assert!(lines.last().unwrap().starts_with("0426TRAILER"));
    lines[1..lines.len() - 1].to_vec()
}

/// Field at 1-based positions `from..=to` of a record line.
fn field(line: &str, from: usize, to: usize) -> &str {
    line.get(from - 1..to).unwrap_or_else(|| panic!("no positions {from}-{to} in {line:?}"))
}

fn line_for<'a>(lines: &'a [String], account: &str) -> &'a str {
    lines
        .iter()
        .find(|l| field(l, 43, 72).trim_end() == account)
        .unwrap_or_else(|| panic!("no record for {account}"))
}

fn acct(number: &str) -> SampleAccount {
    SampleAccount { account_number: number.into(), ..SampleAccount::default() }
}

/// The fixture portfolio: one account per profile and per gate.
fn fixture_portfolio() -> Vec<SampleAccount> {
    let same_address =
        ("12 ELM ST".to_string(), "AUSTIN".to_string(), "TX".to_string(), "78701".to_string());
    vec![
        // 93, agency, with a J1 (same address) and a J2 (different address).
        SampleAccount {
            associates: vec![
                SampleAssociate {
                    surname: "TESTER".into(),
                    first_name: "SAM".into(),
                    ssn: Some("223456780".into()),
                    dob: None,
                    ecoa: "2".into(),
                    address: Some(same_address),
                    deceased_date: None,
                },
                SampleAssociate {
                    surname: "OTHERLY".into(),
                    first_name: "PAT".into(),
                    ssn: None,
                    dob: Some("1972-02-02".into()),
                    ecoa: "5".into(),
                    address: Some(("9 OAK AVE".into(), "RENO".into(), "NV".into(), "89501".into())),
                    deceased_date: None,
                },
            ],
            ..acct("A1001")
        },
        // 62 paid in full.
        SampleAccount {
            status: "paid".into(),
            current_balance: "0".into(),
            amount_past_due: "0".into(),
            last_payment_date: Some("2026-11-05".into()),
            last_payment_amount: Some("1100.40".into()),
            ssn: Some("323456781".into()),
            ..acct("A1002")
        },
        // 62 + AU settled, debt buyer with K2.
        SampleAccount {
            client_id: "BUYCO".into(),
            client_kind: "debt_buyer".into(),
            account_type: "0C".into(),
            purchased_from: Some("SELLER CAPITAL".into()),
            status: "settled".into(),
            current_balance: "300".into(),
            amount_past_due: "300".into(),
            last_payment_date: Some("2026-10-30".into()),
            last_payment_amount: Some("800".into()),
            ssn: Some("423456782".into()),
            ..acct("B2001")
        },
        // 93 debt buyer, consumer in Chapter 13 bankruptcy.
        SampleAccount {
            client_id: "BUYCO".into(),
            client_kind: "debt_buyer".into(),
            account_type: "0C".into(),
            purchased_from: Some("SELLER CAPITAL".into()),
            bankruptcy_chapter: Some("13".into()),
            bankruptcy_status: Some("petition".into()),
            ssn: None,
            ..acct("B2002")
        },
        // 77 returned check, deceased consumer (ECOA X).
        SampleAccount {
            client_id: "CHECKS".into(),
            client_kind: "returned_check".into(),
            account_type: "77".into(),
            original_creditor: "CORNER GROCERY".into(),
            creditor_class: "01".into(),
            placed_amount: "84.12".into(),
            current_balance: "84.12".into(),
            amount_past_due: "84.12".into(),
            deceased_date: Some("2026-03-01".into()),
            ssn: Some("523456783".into()),
            ..acct("C3001")
        },
        // Medical, furnishable (over $500, more than a year past DOFD).
        SampleAccount {
            medical: true,
            creditor_class: "02".into(),
            original_creditor: "VALLEY CLINIC".into(),
            ssn: Some("623456784".into()),
            ..acct("A1003")
        },
        // Gates.
        SampleAccount { validation_notice_date: None, ..acct("A1101") },
        SampleAccount {
            dofd: Some("2018-01-10".into()),
            placed_date: "2019-01-01".into(),
            ..acct("A1102")
        },
        SampleAccount {
            medical: true,
            creditor_class: "02".into(),
            placed_amount: "320".into(),
            current_balance: "320".into(),
            amount_past_due: "320".into(),
            ..acct("A1103")
        },
        SampleAccount { status: "recalled".into(), ..acct("A1104") },
        SampleAccount { dofd: None, ..acct("A1105") },
        // Will be recalled after the first cycle (DA), renumbered (L1), disputed (XB).
        SampleAccount { ssn: Some("723456785".into()), ..acct("A1201") },
        SampleAccount { ssn: Some("723456786".into()), ..acct("A1202") },
        SampleAccount { ssn: Some("723456787".into()), ..acct("A1203") },
    ]
}

/// Runs the October cycle, then changes the portfolio the way a month does.
fn two_cycles(wd: &Workdir) {
    let o = furnish(wd, &["--as-of", "2026-10-20", "--bureau", "equifax"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let db = wd.db();
    db.execute("UPDATE accounts SET status = 'recalled' WHERE account_number = 'A1201'", [])
        .unwrap();
    db.execute(
        "UPDATE accounts SET account_number = 'A1202N', previous_account_number = 'A1202'
         WHERE account_number = 'A1202'",
        [],
    )
    .unwrap();
    db.execute(
        "INSERT INTO disputes (account_id, channel, control_number, received_date, response_due_date, status)
         SELECT id, 'direct', 'D-1', '2026-11-02', '2026-12-02', 'open' FROM accounts
         WHERE account_number = 'A1203'",
        [],
    )
    .unwrap();
}

#[test]
fn golden_file_for_the_fixture_portfolio() {
    let wd = setup(&fixture_portfolio());
    two_cycles(&wd);
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--bureau", "equifax"]);
    // A1105 has no DOFD: an exception, so the run exits 1.
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let got = std::fs::read_to_string(wd.join(EQUIFAX_NOV)).unwrap();
    let golden = repo("tests/fixtures/furnish/golden-equifax-20261120.txt");
    if std::env::var_os("SKIPTRACE_BLESS").is_some() {
        std::fs::write(&golden, &got).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap();
    assert!(
        got == want,
        "file differs from {} (SKIPTRACE_BLESS=1 to update)\n{got}",
        golden.display()
    );

    let lines = data_lines(&wd.join(EQUIFAX_NOV));
    let stdout = String::from_utf8_lossy(&o.stdout);
    // Status rules, by position (metro2.md §3).
    let status = |a: &str| field(line_for(&lines, a), 124, 125).to_string();
    assert_eq!(status("A1001"), "93");
    assert_eq!(status("A1002"), "62");
    assert_eq!((status("B2001"), field(line_for(&lines, "B2001"), 151, 152)), ("62".into(), "AU"));
    assert_eq!(status("A1201"), "DA", "recalled after being furnished ⇒ DA");
    // L1: the base keeps the old number, L1 carries the new one.
    let l1 = line_for(&lines, "A1202");
    assert!(l1.contains("L11A1202N"), "{l1}");
    assert_eq!(field(line_for(&lines, "A1203"), 153, 154), "XB");
    assert_eq!(field(line_for(&lines, "C3001"), 325, 325), "X", "deceased ⇒ ECOA X");
    assert_eq!(field(line_for(&lines, "B2002"), 326, 327), "D ", "Chapter 13 petition ⇒ CII D");
    assert!(line_for(&lines, "B2001").contains("K21SELLER CAPITAL"));
    // Every record carries K1; gated accounts are absent and explained.
    assert!(lines.iter().all(|l| l.contains("K1")));
    for (a, gate) in [
        ("A1101", "not_contacted"),
        ("A1102", "obsolete"),
        ("A1103", "medical_under_threshold"),
        ("A1104", "recalled"),
        ("A1105", "data_error"),
    ] {
        assert!(lines.iter().all(|l| field(l, 43, 72).trim_end() != a), "{a} furnished");
        assert!(stdout.contains(&format!("{a}: {gate}:")), "{a} {gate}\n{stdout}");
    }
    let db = wd.db();
    let (reason,): (String,) = db
        .query_row(
            "SELECT reason FROM furnish_exclusions e JOIN accounts a ON a.id = e.account_id
             JOIN furnish_cycles c ON c.id = e.cycle_id
             WHERE a.account_number = 'A1105' AND c.cycle_date = '2026-11-20'",
            [],
            |r| Ok((r.get(0)?,)),
        )
        .unwrap();
    assert!(reason.contains("missing_dofd"), "{reason}");
}

#[test]
fn published_file_is_private_validates_clean_and_the_trailer_reconciles() {
    let wd = setup(&fixture_portfolio());
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = doc["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "one file per configured bureau");
    for f in files {
        let path = PathBuf::from(f["path"].as_str().unwrap());
        let path = if path.is_absolute() { path } else { wd.join(path.to_str().unwrap()) };
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        let r = &f["report"];
        assert_eq!(r["validation"]["errors"], 0);
        assert_eq!(r["trailer_matches"], true);
        let (acc, fur, exc) =
            (r["accounts"].as_u64(), r["furnished"].as_u64(), r["excluded"].as_u64());
        assert_eq!(acc.unwrap(), fur.unwrap() + exc.unwrap());
        // The trailer (positions 12-20: total base records) equals the records furnished.
        let text = std::fs::read_to_string(&path).unwrap();
        let trailer = text.lines().last().unwrap();
        assert_eq!(field(trailer, 12, 20).parse::<u64>().unwrap(), fur.unwrap());
        assert_eq!(data_lines(&path).len() as u64, fur.unwrap());
    }
    // Each bureau's header carries only its own program identifier.
    let eq = std::fs::read_to_string(wd.join(EQUIFAX_NOV)).unwrap();
    let header = eq.lines().next().unwrap();
    assert_eq!(field(header, 23, 32).trim_end(), "EQ12345");
    assert_eq!(field(header, 33, 37).trim_end(), "");
    assert_eq!(field(header, 48, 55), "11202026", "activity date = as-of");
    let db = wd.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM furnish_cycles WHERE status = 'published'"), 2);
    let snaps = count(&db, "SELECT COUNT(*) FROM furnish_snapshots WHERE bureau = 'equifax'");
    assert_eq!(snaps as u64, files[0]["report"]["furnished"].as_u64().unwrap());
}

#[test]
fn stored_file_hash_is_the_sha256_of_the_published_file() {
    let wd = setup(&fixture_portfolio());
    let o = furnish(&wd, &["--as-of", "2026-11-20"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let db = wd.db();
    let mut stmt = db
        .prepare("SELECT file_path, file_sha256 FROM furnish_cycles WHERE status = 'published'")
        .unwrap();
    let rows: Vec<(String, String)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    for (path, sha) in rows {
        let path = PathBuf::from(&path);
        let path = if path.is_absolute() { path } else { wd.join(path.to_str().unwrap()) };
        assert_eq!(sha, skiptrace::fsutil::sha256_file(&path).unwrap(), "{}", path.display());
    }
}

#[test]
fn same_database_and_as_of_give_identical_bytes_and_re_runs_replace_snapshots() {
    let wd = setup(&fixture_portfolio());
    furnish(&wd, &["--as-of", "2026-11-20"]);
    let first = std::fs::read(wd.join(EQUIFAX_NOV)).unwrap();
    let db = wd.db();
    let snaps = count(&db, "SELECT COUNT(*) FROM furnish_snapshots");
    let excl = count(&db, "SELECT COUNT(*) FROM furnish_exclusions");
    let o = furnish(&wd, &["--as-of", "2026-11-20"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(std::fs::read(wd.join(EQUIFAX_NOV)).unwrap(), first, "re-run changed the bytes");
    assert_eq!(count(&db, "SELECT COUNT(*) FROM furnish_snapshots"), snaps);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM furnish_exclusions"), excl);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM furnish_cycles"), 2);
    // A second database built from the same data writes the same file.
    let other = setup(&fixture_portfolio());
    furnish(&other, &["--as-of", "2026-11-20"]);
    assert_eq!(std::fs::read(other.join(EQUIFAX_NOV)).unwrap(), first);
    // No snapshot is duplicated per account, cycle and bureau.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM (SELECT account_id, cycle_date, bureau, COUNT(*) n
             FROM furnish_snapshots GROUP BY 1, 2, 3 HAVING n > 1)"
        ),
        0
    );
}

#[test]
fn dry_run_builds_and_validates_but_stores_and_publishes_nothing() {
    let wd = setup(&fixture_portfolio());
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--dry-run"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("dry run: nothing published"),
        "{}",
        show(&o)
    );
    let db = wd.db();
    for t in ["furnish_cycles", "furnish_snapshots", "furnish_exclusions"] {
        assert_eq!(count(&db, &format!("SELECT COUNT(*) FROM {t}")), 0, "{t}");
    }
    let left: Vec<_> = std::fs::read_dir(wd.join("var/out/furnish")).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_file_with_validation_errors_is_blocked_kept_aside_and_exits_5() {
    // A state code the Metro 2 validator rejects (the rules leave code lists to it).
    let bad = SampleAccount {
        address: Some(("1 NOWHERE RD".into(), "SPRINGFIELD".into(), "ZZ".into(), "12345".into())),
        ..acct("A9999")
    };
    let wd = setup(&[acct("A1001"), bad]);
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--bureau", "equifax"]);
    assert_eq!(o.status.code(), Some(5), "{}", show(&o));
    assert!(!wd.join(EQUIFAX_NOV).exists(), "blocked file was published");
    let blocked = wd.join(&format!("{EQUIFAX_NOV}.blocked"));
    assert_eq!(std::fs::metadata(&blocked).unwrap().permissions().mode() & 0o777, 0o600);
    let findings: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(wd.join(&format!("{EQUIFAX_NOV}.findings.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(findings["by_rule"]["address.state"], 1, "{findings:#}");
    assert_eq!(findings["findings"][0]["account"], "A9999");
    let db = wd.db();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM furnish_snapshots"), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM furnish_cycles"), 0);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM runs WHERE status = 'blocked'"), 1);
}

#[test]
fn no_ssn_or_dob_in_clear_in_reports_logs_or_snapshots() {
    let mut accounts = fixture_portfolio();
    accounts.push(SampleAccount { dofd: None, ssn: Some("812345678".into()), ..acct("A1301") });
    let wd = setup(&accounts);
    let secrets: Vec<String> = {
        let db = wd.db();
        let mut st = db.prepare("SELECT ssn, dob FROM consumers").unwrap();
        let rows = st
            .query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)))
            .unwrap();
        let mut v = Vec::new();
        for r in rows {
            let (ssn, dob) = r.unwrap();
            v.extend(ssn);
            v.extend(dob);
        }
        v
    };
    assert!(secrets.len() > 10);
    let mut seen = String::new();
    for fmt in ["text", "json"] {
        let o = wd
            .cmd()
            .args(["-vvv", "furnish", "--as-of", "2026-11-20", "--format", fmt])
            .output()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&o.stdout));
        seen.push_str(&String::from_utf8_lossy(&o.stderr));
    }
    let db = wd.db();
    for sql in [
        "SELECT group_concat(report, '') FROM furnish_cycles",
        "SELECT group_concat(fields, '') FROM furnish_snapshots",
        "SELECT group_concat(reason, '') FROM furnish_exclusions",
        "SELECT group_concat(detail, '') FROM audit_log",
        "SELECT group_concat(summary, '') FROM runs",
    ] {
        seen.push_str(
            &db.query_row(sql, [], |r| r.get::<_, Option<String>>(0)).unwrap().unwrap_or_default(),
        );
    }
    assert!(seen.contains("***-**-5678") || seen.contains("A1301"), "nothing was checked");
    for s in &secrets {
        assert!(!seen.contains(s.as_str()), "{} appears in clear", skiptrace::pii::mask_ssn(s));
    }
}

#[test]
fn shared_file_mode_writes_one_file_for_all_bureaus() {
    let wd = setup(&[acct("A1001")]);
    wd.write("skiptrace.toml", CONFIG.replace("[furnish]\n", "[furnish]\nfiles = \"shared\"\n"));
    let o = furnish(&wd, &["--as-of", "2026-11-20"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let text = std::fs::read_to_string(wd.join("var/out/furnish/metro2-all-20261120.txt")).unwrap();
    let header = text.lines().next().unwrap();
    assert_eq!((field(header, 23, 32).trim_end(), field(header, 33, 37)), ("EQ12345", "EX123"));
    assert_eq!(count(&wd.db(), "SELECT COUNT(*) FROM furnish_snapshots WHERE bureau = 'all'"), 1);
}

#[test]
fn configuration_errors_exit_2() {
    let wd = setup(&[acct("A1001")]);
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--bureau", "transunion"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not configured"), "{}", show(&o));
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--bureau", "nobody"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    wd.write("skiptrace.toml", CONFIG.replace("reporter_name = \"Northwind Recovery LLC\"\n", ""));
    let o = furnish(&wd, &["--as-of", "2026-11-20"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("reporter_name"), "{}", show(&o));
}

#[test]
fn dispute_closed_after_xb_reports_xh_and_dofd_changes_are_held() {
    let wd = setup(&[acct("A1001"), acct("A1002")]);
    let db = wd.db();
    db.execute(
        "INSERT INTO disputes (account_id, channel, control_number, received_date, response_due_date, status)
         SELECT id, 'direct', 'D-9', '2026-09-01', '2026-10-01', 'open' FROM accounts WHERE account_number = 'A1001'",
        [],
    )
    .unwrap();
    assert_eq!(
        furnish(&wd, &["--as-of", "2026-09-20", "--bureau", "equifax"]).status.code(),
        Some(0)
    );
    db.execute("UPDATE disputes SET status = 'closed', outcome = 'verified'", []).unwrap();
    db.execute("UPDATE accounts SET dofd = '2025-02-01' WHERE account_number = 'A1002'", [])
        .unwrap();
    let o = furnish(&wd, &["--as-of", "2026-10-20", "--bureau", "equifax"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let lines = data_lines(&wd.join("var/out/furnish/metro2-equifax-20261020.txt"));
    assert_eq!(field(line_for(&lines, "A1001"), 153, 154), "XH");
    assert!(lines.iter().all(|l| field(l, 43, 72).trim_end() != "A1002"));
    assert!(String::from_utf8_lossy(&o.stdout).contains("dofd_changed"), "{}", show(&o));
    // Next month nothing new: blank (the bureau keeps XH).
    furnish(&wd, &["--as-of", "2026-11-20", "--bureau", "equifax"]);
    let lines = data_lines(&wd.join(EQUIFAX_NOV));
    assert_eq!(field(line_for(&lines, "A1001"), 153, 154), "  ");
}

fn proptest_config() -> Config {
    Config::parse(CONFIG, Path::new("skiptrace.toml")).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever valid accounts the database holds, every file furnish writes passes the
    /// Metro 2 validator with no errors.
    #[test]
    fn every_file_furnish_writes_validates(seed in any::<u64>(), n in 1u64..40, day in 1i8..=28) {
        let dir = tempfile::tempdir().unwrap();
        let mut db = Db::open(&dir.path().join("s.db")).unwrap();
        sample::generate(db.conn_mut(), n, seed).unwrap();
        let as_of = jiff::civil::date(2026, 11, day);
        let opts = CycleOptions { bureau: None, dry_run: false, out_dir: dir.path().join("out") };
        let out = run_cycle(&mut db, &proptest_config(), as_of, &opts).unwrap();
        for f in &out.files {
            prop_assert_eq!(f.status, FileStatus::Published, "{}", f.report.to_text());
            prop_assert_eq!(f.report.accounts, n);
            prop_assert_eq!(f.report.by_gate.get("data_error").copied().unwrap_or(0), 0, "{}", f.report.to_text());
            prop_assert_eq!(f.report.validation.errors, 0);
            prop_assert!(f.report.trailer_matches);
            let text = std::fs::read_to_string(f.path.as_ref().unwrap()).unwrap();
            prop_assert_eq!(text.lines().count() as u64, f.report.furnished + 2);
        }
    }
}

/// `[furnish]` for the demo configuration (the demo's own file has none).
/// The demo portfolio, ingested by the nightly batch, furnished: the file validates clean,
/// every account is either furnished or excluded with a reason, and the cycle's counts match
/// the checked-in summary (`SKIPTRACE_BLESS=1` to update it).
#[test]
fn demo_portfolio_furnishes_clean_and_explains_every_exclusion() {
    let wd = Workdir::new();
    copy_demo(&wd);
    let o = wd
        .cmd()
        .args(["--config", "fixtures/demo/skiptrace.toml", "run", "--as-of", "2026-11-20"])
        .output()
        .unwrap();
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", show(&o));
    let args = [
        "--config",
        "fixtures/demo/skiptrace.toml",
        "furnish",
        "--as-of",
        "2026-11-20",
        "--format",
        "json",
    ];
    let o = wd.cmd().args(args).output().unwrap();
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", show(&o));
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let db = wd.db();
    let accounts = count(&db, "SELECT COUNT(*) FROM accounts") as u64;
    assert!(accounts > 100, "the demo ingested {accounts} accounts");
    for f in doc["files"].as_array().unwrap() {
        let r = &f["report"];
        assert_eq!(f["status"], "published", "{r:#}");
        assert_eq!(
            (r["validation"]["errors"].as_u64(), r["validation"]["warnings"].as_u64()),
            (Some(0), Some(0)),
            "{r:#}"
        );
        assert_eq!(r["accounts"].as_u64(), Some(accounts));
        assert!(r["furnished"].as_u64().unwrap() > 0);
        assert_eq!(r["trailer_matches"], true);
    }
    // Every excluded account is explained, in the database too.
    let unexplained = count(
        &db,
        "SELECT COUNT(*) FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM furnish_snapshots s WHERE s.account_id = a.id AND s.bureau = 'equifax')
           AND NOT EXISTS (SELECT 1 FROM furnish_exclusions e JOIN furnish_cycles c ON c.id = e.cycle_id
                           WHERE e.account_id = a.id AND c.bureau = 'equifax' AND e.reason <> '')",
    );
    assert_eq!(unexplained, 0);
    // The cycle's counts, checked in.
    let r = &doc["files"][0]["report"];
    let summary = serde_json::json!({
        "accounts": r["accounts"], "furnished": r["furnished"], "excluded": r["excluded"],
        "by_status": r["by_status"], "by_account_type": r["by_account_type"],
        "by_gate": r["by_gate"], "segments": r["segments"], "totals": r["totals"],
    });
    let golden = repo("tests/fixtures/furnish/demo-equifax-20261120.summary.json");
    let text = serde_json::to_string_pretty(&summary).unwrap() + "\n";
    if std::env::var_os("SKIPTRACE_BLESS").is_some() {
        std::fs::write(&golden, &text).unwrap();
    }
    assert_eq!(text, std::fs::read_to_string(&golden).unwrap(), "SKIPTRACE_BLESS=1 to update");
}

/// What the next cycle reads back from a snapshot (the masked Metro 2 record plus the current
/// account and identification numbers): a changed identification number gives an L1 with the
/// old number in the base, and the payment history shifts by the month since.
#[test]
fn next_cycle_reads_the_snapshot_record_back() {
    let wd = setup(&[acct("A1001")]);
    let o = furnish(&wd, &["--as-of", "2026-10-20", "--bureau", "equifax"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let db = wd.db();
    let (id, fields): (String, String) = db
        .query_row(
            "SELECT identification_number, fields FROM furnish_snapshots WHERE bureau = 'equifax'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(id, "ACMEAGY01");
    let october = data_lines(&wd.join("var/out/furnish/metro2-equifax-20261020.txt"));
    let line = line_for(&october, "A1001");
    assert_eq!(fields.len(), line.len());
    assert_eq!(field(&fields, 1, 297), field(line, 1, 297), "the record up to the SSN");
    assert!(field(&fields, 298, 302).bytes().all(|b| b == b'*'), "SSN masked");
    wd.write("skiptrace.toml", CONFIG.replace("\"ACMEAGY01\"", "\"ACMEAGY02\""));
    let o = furnish(&wd, &["--as-of", "2026-11-20", "--bureau", "equifax"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let lines = data_lines(&wd.join(EQUIFAX_NOV));
    let line = line_for(&lines, "A1001");
    assert_eq!(field(line, 21, 40).trim_end(), "ACMEAGY01", "base keeps the old number");
    assert_eq!(field(line, 127, 150), format!("G{}", "B".repeat(23)));
    let l1 = line.find("L1").expect("an L1 segment");
    assert_eq!(line.get(l1 + 2..l1 + 3), Some("2"), "identification number changed");
    let new_id: String = db
        .query_row(
            "SELECT identification_number FROM furnish_snapshots WHERE cycle_date = '2026-11-20'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(new_id, "ACMEAGY02");
}
