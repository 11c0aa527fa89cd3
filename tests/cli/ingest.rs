//! Ingest: portfolios, payments and contact events; rejects with positions; idempotence;
//! account events; client layouts; the demo nightly batch.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::util::{Workdir, copy_demo, repo, show};

const CONFIG: &str = r#"
[clients.ACME]
name = "Acme Health"
kind = "agency"

[clients.NORTHWIND]
name = "Northwind Receivables"
kind = "debt_buyer"
layout = "northwind.toml"
"#;

const HEADER: &str = "account_number,original_creditor,creditor_class,medical,placed_date,\
placed_amount,current_balance,status,surname,first_name,ssn,dob,address1,address2,city,state,\
zip,phone,email,co_surname,co_first_name,co_ssn,co_ecoa";

/// A valid default-layout row; `f` edits the fields before they are joined.
fn row(acct: &str, ssn: &str, f: impl FnOnce(&mut Vec<String>)) -> String {
    let mut v: Vec<String> = [
        acct,
        "Acme Health",
        "",
        "Y",
        "2026-03-01",
        "\"$1,250.00\"",
        "1250.00",
        "open",
        "Smith",
        "John",
        ssn,
        "1980-03-07",
        "12 Main St",
        "\"Apt 4, Rear\"",
        "Springfield",
        "IL",
        "62704",
        "(217) 555-0100",
        "john@example.com",
        "",
        "",
        "",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    f(&mut v);
    v.join(",")
}

fn col(name: &str) -> usize {
    HEADER.split(',').position(|h| h == name).unwrap()
}

fn setup() -> Workdir {
    let wd = Workdir::new();
    wd.write("skiptrace.toml", CONFIG);
    wd.write(
        "northwind.toml",
        std::fs::read(repo("formats/ingest/portfolio-northwind.toml")).unwrap(),
    );
    wd
}

fn count(wd: &Workdir, sql: &str) -> i64 {
    wd.db().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn ingest(wd: &Workdir, args: &[&str]) -> std::process::Output {
    wd.cmd().arg("ingest").args(args).args(["--as-of", "2026-11-20"]).output().unwrap()
}

fn read_rejects(p: &Path) -> Vec<csv::StringRecord> {
    let mut r = csv::Reader::from_path(p).unwrap();
    r.records().map(|r| r.unwrap()).collect()
}

#[test]
fn portfolio_rejects_carry_line_column_and_code_and_valid_rows_are_kept() {
    let wd = setup();
    // (edit, expected column, expected code)
    type Edit = Box<dyn Fn(&mut Vec<String>)>;
    let cases: Vec<(Edit, &str, &str)> = vec![
        (
            Box::new(|v| v[col("current_balance")] = String::new()),
            "current_balance",
            "missing_field",
        ),
        (
            Box::new(|v| {
                v[col("ssn")] = String::new();
                v[col("dob")] = String::new();
            }),
            "ssn",
            "missing_identifier",
        ),
        (Box::new(|v| v[col("placed_date")] = "2026-02-30".into()), "placed_date", "invalid_date"),
        (
            Box::new(|v| v[col("current_balance")] = "\"12,3x\"".into()),
            "current_balance",
            "invalid_amount",
        ),
        (Box::new(|v| v[col("ssn")] = "666-12-3456".into()), "ssn", "invalid_ssn"),
        (Box::new(|v| v[col("phone")] = "555-1234".into()), "phone", "invalid_phone"),
        (Box::new(|v| v[col("zip")] = "ABCDE".into()), "zip", "invalid_zip"),
        (Box::new(|v| v[col("state")] = "XX".into()), "state", "invalid_state"),
        (Box::new(|v| v[col("email")] = "nope".into()), "email", "invalid_email"),
        (Box::new(|v| v[col("status")] = "charged_off".into()), "status", "invalid_status"),
        (Box::new(|v| v[col("medical")] = "maybe".into()), "medical", "invalid_flag"),
        (
            Box::new(|v| {
                v[col("medical")] = "N".into();
                v[col("creditor_class")] = "42".into();
            }),
            "creditor_class",
            "invalid_creditor_class",
        ),
        (
            Box::new(|v| v[col("creditor_class")] = "01".into()),
            "creditor_class",
            "medical_class_mismatch",
        ),
        (
            Box::new(|v| {
                v[col("co_surname")] = "Doe".into();
                v[col("co_first_name")] = "Jane".into();
                v[col("co_ssn")] = "223-45-6789".into();
                v[col("co_ecoa")] = "4".into();
            }),
            "co_ecoa",
            "invalid_ecoa",
        ),
        (Box::new(|v| v[col("status")] = "paid".into()), "current_balance", "paid_with_balance"),
        (
            Box::new(|v| {
                v[col("medical")] = "N".into();
                v[col("creditor_class")] = String::new();
            }),
            "creditor_class",
            "missing_field",
        ),
        (Box::new(|v| v.truncate(5)), "", "wrong_field_count"),
    ];
    let mut text = format!("{HEADER}\n");
    text.push_str(&row("GOOD-1", "123-45-6701", |_| {}));
    text.push('\n');
    for (i, (edit, _, _)) in cases.iter().enumerate() {
        text.push_str(&row(&format!("BAD-{i}"), &format!("123-45-{:04}", 7000 + i), edit));
        text.push('\n');
    }
    let mut bytes = text.into_bytes();
    // invalid_encoding: a Latin-1 byte in the surname of the last row.
    bytes.extend_from_slice(
        row("BAD-ENC", "123-45-6799", |v| v[col("surname")] = "MUELLERX".into()).as_bytes(),
    );
    let pos = bytes.windows(8).position(|w| w == b"MUELLERX").unwrap();
    bytes.splice(pos..pos + 8, b"M\xdcLLER".iter().copied());
    bytes.push(b'\n');
    bytes.extend_from_slice(row("GOOD-2", "123-45-6702", |_| {}).as_bytes());
    bytes.push(b'\n');
    let input = wd.write("in/portfolio.csv", &bytes);

    let o = ingest(&wd, &["portfolio", "in/portfolio.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let total = cases.len() + 3;
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains(&format!("{total} rows read = 2 accepted"))
            && out.contains(&format!("+ {} rejected", cases.len() + 1)),
        "{out}"
    );
    let rejects = read_rejects(&wd.join("in/portfolio.rejects.csv"));
    assert_eq!(rejects.len(), cases.len() + 1);
    let hdr = HEADER.split(',').count();
    for (i, (_, column, code)) in cases.iter().enumerate() {
        let r = &rejects[i];
        assert_eq!(&r[0], format!("BAD-{i}"), "{r:?}");
        // line: header is line 1, GOOD-1 line 2, BAD-0 line 3.
        assert_eq!(&r[hdr], (i + 3).to_string(), "{r:?}");
        assert_eq!(&r[hdr + 1], *column, "{r:?}");
        assert_eq!(&r[hdr + 2], *code, "{r:?}");
        assert!(!r[hdr + 3].is_empty());
    }
    let enc = rejects.last().unwrap();
    assert_eq!((&enc[hdr + 1], &enc[hdr + 2]), ("surname", "invalid_encoding"));
    assert_eq!(&enc[hdr], (cases.len() + 3).to_string());
    // Valid rows are stored; counts are recorded and add up.
    assert_eq!(count(&wd, "SELECT count(*) FROM accounts"), 2);
    let (read, acc, rej): (i64, i64, i64) = wd
        .db()
        .query_row("SELECT rows_read, accepted, rejected FROM input_files", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((read, acc, rej), (total as i64, 2, cases.len() as i64 + 1));
    assert_eq!(count(&wd, "SELECT count(*) FROM runs WHERE status = 'rejects'"), 1);
    assert_eq!(count(&wd, "SELECT count(*) FROM audit_log WHERE action = 'ingest.file'"), 1);
    // Database and rejects file are owner-only.
    for p in [wd.join("var/skiptrace.db"), input.with_file_name("portfolio.rejects.csv")] {
        assert_eq!(std::fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600, "{p:?}");
    }
}

#[test]
fn no_ssn_or_dob_in_clear_in_output_rejects_or_events() {
    let wd = setup();
    let ssns = ["123-45-6701", "123456702", "666-45-6703", "123-45-6704"];
    let mut text = format!("{HEADER}\n");
    text.push_str(&row("A-1", ssns[0], |_| {}));
    text.push('\n');
    // Rejected for the phone: the row's SSN and DOB must be masked in the rejects file.
    text.push_str(&row("A-2", ssns[1], |v| v[col("phone")] = "12".into()));
    text.push('\n');
    text.push_str(&row("A-3", ssns[2], |v| v[col("dob")] = "1980-13-07".into()));
    text.push('\n');
    // Too many fields (an unquoted comma): values shift out of their columns.
    text.push_str(&row("A-4", "123-45-6704", |v| v[col("placed_amount")] = "1,250".into()));
    text.push('\n');
    wd.write("p1.csv", &text);
    // Debug logging prints every reject with its position: still no PII.
    let o1 = wd
        .cmd()
        .args(["-vv", "ingest", "portfolio", "p1.csv", "--client", "ACME", "--as-of", "2026-11-20"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&o1.stderr)
            .contains("record 3 (line 4), column `ssn`: invalid_ssn"),
        "{}",
        show(&o1)
    );
    assert_eq!(o1.status.code(), Some(1), "{}", show(&o1));
    // An update changes the SSN and DOB: the consumer events must be masked.
    let upd = format!(
        "{HEADER}\n{}\n",
        row("A-1", "123-45-6799", |v| v[col("dob")] = "1981-04-08".into())
    );
    wd.write("p2.csv", &upd);
    let o2 = ingest(&wd, &["portfolio", "p2.csv", "--client", "ACME"]);
    assert_eq!(o2.status.code(), Some(0), "{}", show(&o2));
    let rejects = std::fs::read_to_string(wd.join("p1.rejects.csv")).unwrap();
    assert!(rejects.contains("***-**-6702") && rejects.contains("1980-**-**"), "{rejects}");
    assert!(rejects.contains("***-**-6704") && rejects.contains("wrong_field_count"), "{rejects}");
    let events: String = wd
        .db()
        .query_row(
            "SELECT group_concat(coalesce(old_value, '') || ' ' || coalesce(new_value, ''), ' ')
             FROM consumer_events",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(events.contains("***-**-6799") && events.contains("1981-**-**"), "{events}");
    let audit: String = wd
        .db()
        .query_row("SELECT group_concat(detail, ' ') FROM audit_log", [], |r| r.get(0))
        .unwrap();
    let everything = format!("{}{}{}{}{rejects}{events}{audit}", show(&o1), show(&o2), "", "");
    for s in ssns.iter().chain(["123-45-6799"].iter()) {
        let digits: String = s.chars().filter(char::is_ascii_digit).collect();
        assert!(!everything.contains(&digits) && !everything.contains(s), "{s} leaked");
    }
    for dob in ["1980-03-07", "1981-04-08", "1980-13-07"] {
        assert!(!everything.contains(dob), "{dob} leaked");
    }
}

#[test]
fn reingesting_the_same_file_changes_nothing() {
    let wd = setup();
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        row("A-1", "123-45-6701", |_| {}),
        row("A-2", "", |v| v[col("zip")] = "x".into())
    );
    wd.write("p.csv", &text);
    let o = ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let snapshot = |wd: &Workdir| {
        [
            "accounts",
            "consumers",
            "addresses",
            "phones",
            "emails",
            "account_events",
            "consumer_events",
            "input_files",
        ]
        .map(|t| count(wd, &format!("SELECT count(*) FROM {t}")))
    };
    let before = snapshot(&wd);
    let rejects_before = std::fs::read(wd.join("p.rejects.csv")).unwrap();
    let o = ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("already ingested") && out.contains("nothing changed"), "{out}");
    assert_eq!(snapshot(&wd), before);
    assert_eq!(std::fs::read(wd.join("p.rejects.csv")).unwrap(), rejects_before);
    assert_eq!(count(&wd, "SELECT count(*) FROM audit_log WHERE action = 'ingest.skip'"), 1);
}

#[test]
fn an_update_writes_one_event_per_changed_field_and_keeps_contact_history() {
    let wd = setup();
    wd.write("p1.csv", format!("{HEADER}\n{}\n", row("A-1", "123-45-6701", |_| {})));
    assert_eq!(ingest(&wd, &["portfolio", "p1.csv", "--client", "ACME"]).status.code(), Some(0));
    let p2 = row("A-1", "123-45-6701", |v| {
        v[col("current_balance")] = "1000.50".into();
        v[col("address1")] = "99 New Rd".into();
        v[col("address2")] = String::new();
    });
    wd.write("p2.csv", format!("{HEADER}\n{p2}\n"));
    let o = ingest(&wd, &["portfolio", "p2.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 updated"), "{}", show(&o));
    let db = wd.db();
    let mut st = db
        .prepare("SELECT field, old_value, new_value, cause FROM account_events ORDER BY field")
        .unwrap();
    let ev: Vec<(String, String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        ev,
        vec![
            ("amount_past_due".into(), "1250".into(), "1000.5".into(), "portfolio:p2.csv:2".into()),
            ("current_balance".into(), "1250".into(), "1000.5".into(), "portfolio:p2.csv:2".into()),
        ]
    );
    let addrs: Vec<(String, String)> = db
        .prepare("SELECT line1, status FROM addresses ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        addrs,
        vec![("12 MAIN ST".into(), "previous".into()), ("99 NEW RD".into(), "current".into())]
    );
    // The same values again (a different file): accepted, nothing changes.
    wd.write("p3.csv", format!("{HEADER}\n{p2}\n\n"));
    let o = ingest(&wd, &["portfolio", "p3.csv", "--client", "ACME"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("1 unchanged"), "{}", show(&o));
    assert_eq!(count(&wd, "SELECT count(*) FROM account_events"), 2);
}

#[test]
fn client_layout_reads_us_dates_dollar_amounts_bom_crlf_and_quoted_fields() {
    let wd = setup();
    let header = "Acct No,Orig Creditor,Cred Class,Medical?,Seller,Purchase Date,Face Value,\
Balance,Acct Status,Last Name,First Name,SSN,Birth Date,Street,Unit,City,ST,Zip Code,Home Phone";
    let r1 = "NW-1,\"Example Card Services, Inc.\",01,NO,First Example Bank,03/07/2026,\
\"$12,345.67\",\"$1,000.00\",ACTIVE,O'Brien,Mary,223-45-6789,07/04/1975,\"1 Elm St\",\"Unit 2, Rear\",Salem,OR,97301,503-555-0101";
    let r2 = "NW-2,Sample Wireless,07,NO,First Example Bank,3/7/2026,$80.00,$0.00,PIF,Lee,Ann,,\
12/31/1990,2 Oak St,,Salem,or,97301-1234,";
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend_from_slice(format!("{header}\r\n{r1}\r\n{r2}\r\n").as_bytes());
    wd.write("nw.csv", &bytes);
    let o = ingest(&wd, &["portfolio", "nw.csv", "--client", "NORTHWIND"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let db = wd.db();
    let got: Vec<(String, String, String, String, String, String, String)> = db
        .prepare(
            "SELECT account_number, original_creditor, placed_date, placed_amount,
                    current_balance, status, account_type FROM accounts ORDER BY account_number",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        got[0],
        (
            "NW-1".into(),
            "EXAMPLE CARD SERVICES, INC.".into(),
            "2026-03-07".into(),
            "12345.67".into(),
            "1000".into(),
            "open".into(),
            "0C".into()
        )
    );
    assert_eq!(got[1].2, "2026-03-07");
    assert_eq!((got[1].4.as_str(), got[1].5.as_str()), ("0", "paid"));
    let (line2, zip, dob): (String, String, String) = db
        .query_row(
            "SELECT a.line2, a.zip, c.dob FROM addresses a JOIN consumers c ON c.id = a.consumer_id
             WHERE c.surname = 'LEE'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((line2.as_str(), zip.as_str(), dob.as_str()), ("", "973011234", "1990-12-31"));
    let unit: String = db
        .query_row("SELECT line2 FROM addresses WHERE line1 = '1 ELM ST'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(unit, "UNIT 2, REAR");
}

#[test]
fn missing_required_column_is_a_clear_fatal_error_and_stores_nothing() {
    let wd = setup();
    wd.write("p.csv", "account_number,surname\nA-1,Smith\n");
    let o = ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("header lacks required column"),
        "{}",
        show(&o)
    );
    assert_eq!(count(&wd, "SELECT count(*) FROM input_files"), 0);
    assert_eq!(count(&wd, "SELECT count(*) FROM runs WHERE status = 'failed'"), 1);
}

#[test]
fn a_failed_file_leaves_nothing_half_applied_and_a_rerun_completes_it() {
    let wd = setup();
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        row("A-1", "123-45-6701", |_| {}),
        row("A-2", "123-45-6702", |v| v[col("zip")] = "x".into())
    );
    wd.write("p.csv", &text);
    // The rejects file cannot be published (a directory is in the way): the run fails after
    // every row was applied inside the transaction, which must roll back.
    std::fs::create_dir_all(wd.join("p.rejects.csv/blocker")).unwrap();
    let o = ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
    assert_eq!(count(&wd, "SELECT count(*) FROM accounts"), 0);
    assert_eq!(count(&wd, "SELECT count(*) FROM input_files"), 0);
    std::fs::remove_dir_all(wd.join("p.rejects.csv")).unwrap();
    let o = ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(count(&wd, "SELECT count(*) FROM accounts"), 1);
}

#[test]
fn payments_update_balance_last_payment_and_pay_off() {
    let wd = setup();
    wd.write(
        "p.csv",
        format!(
            "{HEADER}\n{}\n{}\n",
            row("A-1", "123-45-6701", |_| {}),
            row("A-2", "123-45-6702", |_| {})
        ),
    );
    assert_eq!(ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]).status.code(), Some(0));
    wd.write(
        "pay.csv",
        "client_id,account_number,posted_date,amount,kind,reference\n\
         ACME,A-1,2026-11-02,250.00,payment,R1\n\
         ACME,A-1,2026-11-05,\"$1,000.00\",payment,R2\n\
         ACME,A-1,2026-11-05,\"$1,000.00\",payment,R2\n\
         ACME,A-2,2026-11-06,100,payment,R3\n\
         ACME,A-2,2026-11-07,100,reversal,R4\n\
         ACME,A-2,2026-11-08,-50.50,adjustment,R5\n\
         ACME,A-9,2026-11-08,5,payment,R6\n",
    );
    let o = ingest(&wd, &["payments", "pay.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("7 rows read = 6 accepted (5 new, 0 updated, 1 unchanged) + 1 rejected"),
        "{out}"
    );
    let acct = |n: &str| -> (String, String, Option<String>, Option<String>, Option<String>) {
        wd.db()
            .query_row(
                "SELECT current_balance, status, last_payment_date, last_payment_amount, date_closed
                 FROM accounts WHERE account_number = ?1",
                [n],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap()
    };
    assert_eq!(
        acct("A-1"),
        (
            "0".into(),
            "paid".into(),
            Some("2026-11-05".into()),
            Some("1000".into()),
            Some("2026-11-05".into())
        )
    );
    assert_eq!(acct("A-2").0, "1199.5");
    assert_eq!(acct("A-2").1, "open");
    assert_eq!(count(&wd, "SELECT count(*) FROM payments"), 5);
    assert_eq!(
        count(
            &wd,
            "SELECT count(*) FROM account_events WHERE field = 'status' AND new_value = 'paid' AND cause = 'payment:pay.csv:3'"
        ),
        1
    );
}

#[test]
fn contact_events_mark_bad_contacts_and_set_dates_and_flags() {
    let wd = setup();
    wd.write(
        "p.csv",
        format!(
            "{HEADER}\n{}\n{}\n",
            row("A-1", "123-45-6701", |_| {}),
            row("A-2", "123-45-6702", |v| v[col("surname")] = "Jones".into())
        ),
    );
    assert_eq!(ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]).status.code(), Some(0));
    wd.write(
        "ev.csv",
        "client_id,account_number,event_date,kind,detail\n\
         ACME,A-1,2026-11-01,validation_notice,initial\n\
         ACME,A-1,2026-11-03,conversation,inbound\n\
         ACME,A-1,2026-11-04,conversation,second call\n\
         ACME,A-1,2026-11-05,returned_mail,\n\
         ACME,A-1,2026-11-06,disconnected_phone,(217) 555-0100\n\
         ACME,A-1,2026-11-06,email_bounce,john@example.com\n\
         ACME,A-2,2026-11-07,recall,\n\
         ACME,A-2,2026-11-08,deceased,\n\
         ACME,A-1,2026-11-09,bankruptcy,Chapter 13\n",
    );
    let o = ingest(&wd, &["contact-events", "ev.csv"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let (vnd, fcd, und): (String, String, String) = wd
        .db()
        .query_row(
            "SELECT validation_notice_date, first_communication_date, undeliverable_date
             FROM accounts WHERE account_number = 'A-1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (vnd.as_str(), fcd.as_str(), und.as_str()),
        ("2026-11-01", "2026-11-03", "2026-11-05")
    );
    assert_eq!(count(&wd, "SELECT count(*) FROM addresses WHERE status = 'bad'"), 1);
    assert_eq!(
        count(&wd, "SELECT count(*) FROM phones WHERE status = 'bad' AND number = '2175550100'"),
        1
    );
    assert_eq!(count(&wd, "SELECT count(*) FROM emails WHERE status = 'bad'"), 1);
    let status: String = wd
        .db()
        .query_row("SELECT status FROM accounts WHERE account_number = 'A-2'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(status, "recalled");
    assert_eq!(
        count(
            &wd,
            "SELECT count(*) FROM consumers WHERE surname = 'JONES' AND deceased_date = '2026-11-08'"
        ),
        1
    );
    assert_eq!(
        count(
            &wd,
            "SELECT count(*) FROM consumers WHERE surname = 'SMITH' AND bankruptcy_chapter = '13' AND bankruptcy_status = 'petition'"
        ),
        1
    );
    assert_eq!(count(&wd, "SELECT count(*) FROM contact_events"), 9);
}

#[test]
fn demo_batch_runs_end_to_end_and_is_idempotent() {
    let wd = Workdir::new();
    copy_demo(&wd);
    let run = |wd: &Workdir| {
        wd.cmd()
            .args(["--config", "fixtures/demo/skiptrace.toml", "run", "--as-of", "2026-11-20"])
            .output()
            .unwrap()
    };
    let o = run(&wd);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("batch 2026-11-20: 10 file(s)"), "{out}");
    // Every file's counts add up, and so does the total.
    let db = wd.db();
    let bad: i64 = db
        .query_row(
            "SELECT count(*) FROM input_files WHERE rows_read != accepted + rejected",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(bad, 0);
    let (read, acc, rej): (i64, i64, i64) = db
        .query_row(
            "SELECT sum(rows_read), sum(accepted), sum(rejected) FROM input_files",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert!(
        last.contains(&format!("{read} rows read = {acc} accepted + {rej} rejected")),
        "{last}"
    );
    assert!(rej > 0);
    let accounts: i64 = db.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).unwrap();
    assert!((480..=560).contains(&accounts), "{accounts}");
    for (sql, what) in [
        ("SELECT count(DISTINCT client_id) FROM accounts", "clients"),
        ("SELECT count(*) FROM accounts WHERE medical = 1", "medical"),
        ("SELECT count(*) FROM accounts WHERE status = 'paid'", "paid"),
        ("SELECT count(*) FROM accounts WHERE status = 'settled'", "settled"),
        ("SELECT count(*) FROM accounts WHERE status = 'recalled'", "recalled"),
        ("SELECT count(*) FROM account_consumers", "associated consumers"),
        ("SELECT count(*) FROM consumers WHERE deceased_date IS NOT NULL", "deceased"),
        ("SELECT count(*) FROM consumers WHERE bankruptcy_chapter IS NOT NULL", "bankruptcy"),
        ("SELECT count(*) FROM addresses WHERE status = 'bad'", "returned mail"),
        ("SELECT count(*) FROM account_events", "events"),
    ] {
        let n: i64 = db.query_row(sql, [], |r| r.get(0)).unwrap();
        assert!(n > 0, "demo has no {what}");
    }
    let rej_codes =
        std::fs::read_to_string(wd.join("fixtures/demo/bad-portfolio.rejects.csv")).unwrap();
    for (code, _) in skiptrace::ingest::row::ERROR_CODES {
        let in_any = rej_codes.contains(code)
            || std::fs::read_to_string(wd.join("fixtures/demo/bad-payments.rejects.csv"))
                .unwrap()
                .contains(code)
            || std::fs::read_to_string(wd.join("fixtures/demo/bad-contact-events.rejects.csv"))
                .unwrap()
                .contains(code);
        assert!(in_any, "the demo's bad rows do not show {code}");
    }
    // The second run finds every file already ingested (its exit status then comes from the
    // later stages alone, which see the same data as the first run).
    let before: i64 = db.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).unwrap();
    let o = run(&wd);
    assert!(matches!(o.status.code(), Some(0) | Some(1)), "{}", show(&o));
    let after: i64 = db.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0)).unwrap();
    assert_eq!(before, after);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("10 file(s) (10 already ingested)"),
        "{}",
        show(&o)
    );
}

#[test]
fn the_documented_sample_files_ingest_without_rejects() {
    let wd = Workdir::new();
    wd.write("skiptrace.toml", "[clients.RIVERBEND]\nname = \"Riverbend\"\nkind = \"agency\"\n");
    for (kind, file, rows) in [
        ("portfolio", "portfolio-default.sample.csv", 2),
        ("payments", "payments-default.sample.csv", 3),
        ("contact-events", "contact-events-default.sample.csv", 5),
    ] {
        wd.write(file, std::fs::read(repo(&format!("formats/ingest/{file}"))).unwrap());
        let o = ingest(&wd, &[kind, file]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains(&format!("{rows} rows read = {rows} accepted")), "{out}");
    }
    assert_eq!(count(&wd, "SELECT count(*) FROM account_consumers WHERE ecoa = '2'"), 1);
    let balance: String = wd
        .db()
        .query_row(
            "SELECT current_balance FROM accounts WHERE account_number = 'A-10001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(balance, "1235");
}

#[test]
fn payment_and_contact_event_rejects_carry_line_column_and_code() {
    let wd = setup();
    wd.write("p.csv", format!("{HEADER}\n{}\n", row("A-1", "123-45-6701", |_| {})));
    assert_eq!(ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]).status.code(), Some(0));
    wd.write(
        "pay.csv",
        "client_id,account_number,posted_date,amount,kind,reference\n\
         ACME,A-1,2026-11-10,25.00,refund,B1\n\
         NOBODY,A-1,2026-11-10,25.00,payment,B2\n\
         ACME,A-9,2026-11-10,25.00,payment,B3\n\
         ACME,A-1,2026-11-10,0,payment,B4\n\
         ACME,A-1,11/10/2026,25.00,payment,B5\n\
         ACME,A-1,2026-11-10,25.00,payment,\n\
         ACME,A-1,2026-11-10,25.00,payment,OK1\n",
    );
    let o = ingest(&wd, &["payments", "pay.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let got: Vec<(String, String, String)> = read_rejects(&wd.join("pay.rejects.csv"))
        .iter()
        .map(|r| (r[6].to_string(), r[7].to_string(), r[8].to_string()))
        .collect();
    let want = [
        ("2", "kind", "invalid_kind"),
        ("3", "client_id", "unknown_client"),
        ("4", "account_number", "unknown_account"),
        ("5", "amount", "invalid_amount"),
        ("6", "posted_date", "invalid_date"),
        ("7", "reference", "missing_field"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, want);
    wd.write(
        "ev.csv",
        "client_id,account_number,event_date,kind,detail\n\
         ACME,A-1,2026-11-10,carrier_pigeon,\n\
         ACME,A-1,2026-11-10,bankruptcy,9\n\
         ACME,A-1,2026-11-10,bankruptcy,\n\
         ACME,A-1,2026-11-10,bad_phone,12345\n\
         ACME,A-1,2026-11-10,email_bounce,nobody\n\
         ACME,A-2,2026-11-10,conversation,\n\
         ACME,A-1,2026-13-10,conversation,\n",
    );
    let o = ingest(&wd, &["contact-events", "ev.csv"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let got: Vec<(String, String, String)> = read_rejects(&wd.join("ev.rejects.csv"))
        .iter()
        .map(|r| (r[5].to_string(), r[6].to_string(), r[7].to_string()))
        .collect();
    let want = [
        ("2", "kind", "invalid_kind"),
        ("3", "detail", "invalid_detail"),
        ("4", "detail", "missing_field"),
        ("5", "detail", "invalid_phone"),
        ("6", "detail", "invalid_email"),
        ("7", "account_number", "unknown_account"),
        ("8", "event_date", "invalid_date"),
    ];
    let want: Vec<(String, String, String)> =
        want.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect();
    assert_eq!(got, want);
    assert_eq!(
        count(&wd, "SELECT count(*) FROM input_files WHERE rows_read = accepted + rejected"),
        3
    );
}

/// account number, type, creditor class, placed date, medical, balance, past due, status.
type AccountRow = (String, String, String, String, i64, String, String, String);

#[test]
fn new_accounts_share_a_known_consumer_and_store_every_value_of_the_row() {
    let wd = setup();
    let co = |v: &mut Vec<String>| {
        v[col("co_surname")] = "Smith".into();
        v[col("co_first_name")] = "Jane".into();
        v[col("co_ssn")] = "123-45-6702".into();
        v[col("co_ecoa")] = "2".into();
    };
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        row("A-1", "123-45-6701", co),
        // Same consumer (SSN and surname), another account, a new address and no e-mail.
        row("A-2", "123-45-6701", |v| {
            co(v);
            v[col("address1")] = "7 Oak Ave".into();
            v[col("email")] = String::new();
            v[col("medical")] = "N".into();
            v[col("creditor_class")] = "12".into();
        })
    );
    wd.write("p.csv", &text);
    let o = ingest(&wd, &["portfolio", "p.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(count(&wd, "SELECT count(*) FROM consumers"), 2);
    assert_eq!(count(&wd, "SELECT count(DISTINCT consumer_id) FROM accounts"), 1);
    assert_eq!(count(&wd, "SELECT count(*) FROM account_consumers WHERE ecoa = '2'"), 2);
    let db = wd.db();
    let accounts: Vec<AccountRow> = db
        .prepare(
            "SELECT account_number, account_type, creditor_class, placed_date, medical,
                    current_balance, amount_past_due, status FROM accounts ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let acct = |n: &str, class: &str, medical| {
        let (n, t, c, d) = (n.into(), "48".into(), class.into(), "2026-03-01".into());
        (n, t, c, d, medical, "1250".into(), "1250".into(), "open".into())
    };
    assert_eq!(accounts, vec![acct("A-1", "02", 1), acct("A-2", "12", 0)]);
    // The second row's address is new for a known consumer: the first becomes previous.
    let addrs: Vec<(String, String, String, String)> = db
        .prepare("SELECT line1, status, source, source_ref FROM addresses ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let a = |l: &str, s: &str, line: u32| {
        (l.into(), s.into(), "client:ACME".into(), format!("portfolio:p.csv:{line}"))
    };
    assert_eq!(addrs, vec![a("12 MAIN ST", "previous", 2), a("7 OAK AVE", "current", 3)]);
    let seen: Vec<(String, String, String)> = db
        .prepare("SELECT number, first_seen, last_seen FROM phones")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(seen, vec![("2175550100".into(), "2026-11-20".into(), "2026-11-20".into())]);
    assert_eq!(count(&wd, "SELECT count(*) FROM emails WHERE status = 'current'"), 1);
    let ssns: Vec<Option<String>> = db
        .prepare("SELECT ssn FROM consumers ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(ssns, vec![Some("123456701".into()), Some("123456702".into())]);
}

#[test]
fn rejects_of_a_large_portfolio_keep_file_order_and_counts_add_up() {
    // Enough rows for several reader batches; bad rows of the reader (invalid SSN, wrong
    // field count) and of the writer (new non-medical account without a creditor class)
    // interleaved, and one account updated later in the file.
    let wd = setup();
    let n = 3000;
    let mut text = format!("{HEADER}\n");
    let mut expected: Vec<(usize, &str)> = Vec::new();
    for i in 0..n {
        let line = i + 2;
        let ssn = format!("{:03}-45-{:04}", 100 + i % 500, 1 + i);
        let r = match i {
            _ if i % 397 == 5 => {
                expected.push((line, "invalid_ssn"));
                row(&format!("A{i}"), "666-12-3456", |_| {})
            }
            _ if i % 701 == 11 => {
                expected.push((line, "wrong_field_count"));
                row(&format!("A{i}"), &ssn, |v| v.truncate(7))
            }
            _ if i % 503 == 17 => {
                expected.push((line, "missing_field"));
                row(&format!("A{i}"), &ssn, |v| v[col("medical")] = "N".into())
            }
            // The same account as row 0 with another balance: an update, not a reject.
            2500 => row("A0", "100-45-0001", |v| v[col("current_balance")] = "99.00".into()),
            _ => row(&format!("A{i}"), &ssn, |_| {}),
        };
        text.push_str(&r);
        text.push('\n');
    }
    wd.write("in/big.csv", &text);
    let o = ingest(&wd, &["portfolio", "in/big.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let rejects = read_rejects(&wd.join("in/big.rejects.csv"));
    let hdr = HEADER.split(',').count();
    let got: Vec<(usize, String)> =
        rejects.iter().map(|r| (r[hdr].parse().unwrap(), r[hdr + 2].to_string())).collect();
    let want: Vec<(usize, String)> = expected.iter().map(|(l, c)| (*l, c.to_string())).collect();
    assert_eq!(got, want);
    // SSNs stay masked in the rejects, also for rows rejected by the writer.
    let raw = std::fs::read_to_string(wd.join("in/big.rejects.csv")).unwrap();
    assert!(!raw.contains("666-12-3456") && !raw.contains("-45-0018"), "{raw}");
    let (read, acc, rej): (i64, i64, i64) = wd
        .db()
        .query_row("SELECT rows_read, accepted, rejected FROM input_files", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((read, rej), (n as i64, expected.len() as i64));
    assert_eq!(read, acc + rej);
    assert_eq!(count(&wd, "SELECT count(*) FROM accounts"), acc - 1);
    assert_eq!(
        count(&wd, "SELECT count(*) FROM account_events WHERE field = 'current_balance'"),
        1
    );
}

#[test]
fn ingest_leaves_no_dangling_reference_although_sqlite_does_not_enforce_them_during_it() {
    // The ingest writer stores rows with foreign-key enforcement off (every parent is one it
    // inserted or looked up itself); the schema's references must hold all the same.
    let wd = Workdir::new();
    copy_demo(&wd);
    let files: [(&str, &str, Option<&str>); 10] = [
        ("portfolio", "riverbend-portfolio.csv", Some("RIVERBEND")),
        ("portfolio", "northwind-portfolio.csv", Some("NORTHWIND")),
        ("portfolio", "riverbend-portfolio-update.csv", Some("RIVERBEND")),
        ("portfolio", "bad-portfolio.csv", Some("RIVERBEND")),
        ("portfolio", "locate/portfolio.csv", Some("LOCDEMO")),
        ("payments", "payments.csv", None),
        ("payments", "bad-payments.csv", None),
        ("contact-events", "contact-events.csv", None),
        ("contact-events", "bad-contact-events.csv", None),
        ("contact-events", "locate/contact-events.csv", None),
    ];
    let mut rejected_files = 0;
    for (kind, file, client) in files {
        let path = format!("fixtures/demo/{file}");
        let mut cmd = wd.cmd();
        cmd.args(["--config", "fixtures/demo/skiptrace.toml", "ingest", kind, &path]);
        if let Some(c) = client {
            cmd.args(["--client", c]);
        }
        let o = cmd.args(["--as-of", "2026-11-20"]).output().unwrap();
        assert!(matches!(o.status.code(), Some(0) | Some(1)), "{file}: {}", show(&o));
        rejected_files += i32::from(o.status.code() == Some(1));
    }
    assert!(rejected_files >= 3, "the bad-rows files were not rejected in part");
    let db = wd.db();
    let counts: (i64, i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM account_consumers),
                    (SELECT count(*) FROM payments), (SELECT count(*) FROM contact_events)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert!(counts.0 > 400 && counts.1 > 0 && counts.2 > 0 && counts.3 > 0, "{counts:?}");
    let mut stmt = db.prepare("PRAGMA foreign_key_check").unwrap();
    let dangling: Vec<(String, i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.unwrap_or(0), r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(dangling.is_empty(), "rows referring to missing parents: {dangling:?}");
    // The check itself sees a dangling reference (so an empty answer means something).
    db.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO account_consumers (account_id, consumer_id, ecoa) VALUES (999999, 1, '2');",
    )
    .unwrap();
    let n: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check('account_consumers')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn a_large_file_rebuilding_the_ssn_index_stores_exactly_what_row_by_row_upkeep_stores() {
    // `[ingest] bulk_min_rows = 1` makes every demo portfolio "large": the SSN index is set
    // aside for the file's transaction and rebuilt before the commit.
    let ingest_all = |bulk: bool| {
        let wd = Workdir::new();
        copy_demo(&wd);
        let cfg = wd.join("fixtures/demo/skiptrace.toml");
        let text = std::fs::read_to_string(&cfg).unwrap();
        let min = if bulk { 1 } else { u64::MAX };
        let text = text.replace("[ingest]\n", &format!("[ingest]\nbulk_min_rows = {min}\n"));
        std::fs::write(&cfg, text).unwrap();
        let version = |wd: &Workdir| -> i64 {
            wd.db().query_row("PRAGMA schema_version", [], |r| r.get(0)).unwrap()
        };
        // The database exists (and is migrated) before the first file.
        drop(skiptrace::store::Db::open(&wd.join("var/skiptrace.db")).unwrap());
        let before = version(&wd);
        for (file, client) in [
            ("riverbend-portfolio.csv", "RIVERBEND"),
            ("northwind-portfolio.csv", "NORTHWIND"),
            ("riverbend-portfolio-update.csv", "RIVERBEND"),
            ("bad-portfolio.csv", "RIVERBEND"),
            ("locate/portfolio.csv", "LOCDEMO"),
        ] {
            let path = format!("fixtures/demo/{file}");
            let o = wd
                .cmd()
                .args(["--config", "fixtures/demo/skiptrace.toml", "ingest", "portfolio", &path])
                .args(["--client", client, "--as-of", "2026-11-20"])
                .output()
                .unwrap();
            assert!(matches!(o.status.code(), Some(0) | Some(1)), "{file}: {}", show(&o));
        }
        let db = wd.db();
        let sql: Option<String> = db
            .query_row("SELECT sql FROM sqlite_schema WHERE name = 'consumers_ssn'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(sql.is_some_and(|s| s.contains("CAST(ssn AS INTEGER), surname")));
        let ok: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(ok, "ok");
        let mut rows = Vec::new();
        for t in skiptrace::ingest::portfolio::TABLES {
            let mut s = db.prepare(&format!("SELECT * FROM {t} ORDER BY 1, 2")).unwrap();
            let names: Vec<String> = s.column_names().map(String::from).collect();
            let mut q = s.raw_query();
            while let Some(r) = q.next().unwrap() {
                let vals: Vec<String> = (0..names.len())
                    .filter(|&i| names[i] != "at")
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                rows.push(format!("{t}: {}", vals.join("|")));
            }
        }
        (rows, version(&wd) - before)
    };
    let (bulk, bulk_changes) = ingest_all(true);
    let (rowwise, rowwise_changes) = ingest_all(false);
    // The index was dropped and created again (each bumps the schema version) only when asked.
    assert!(bulk_changes >= 2, "{bulk_changes}");
    assert_eq!(rowwise_changes, 0);
    assert!(bulk.len() > 1000, "{}", bulk.len());
    assert_eq!(bulk.len(), rowwise.len());
    for (b, r) in bulk.iter().zip(&rowwise) {
        assert_eq!(b, r);
    }
}

#[test]
fn a_client_file_repeating_its_values_does_not_undo_payments_but_its_changes_apply() {
    let wd = setup();
    let placed = |extra: &str| {
        format!(
            "{HEADER}\n{}\n{}\n",
            row("A-1", "123-45-6701", |_| {}),
            row(extra, "123-45-6702", |_| {})
        )
    };
    wd.write("p1.csv", placed("A-2"));
    assert_eq!(ingest(&wd, &["portfolio", "p1.csv", "--client", "ACME"]).status.code(), Some(0));
    wd.write(
        "pay.csv",
        "client_id,account_number,posted_date,amount,kind,reference\n\
         ACME,A-1,2026-11-05,\"$1,250.00\",payment,R1\n",
    );
    assert_eq!(ingest(&wd, &["payments", "pay.csv"]).status.code(), Some(0));
    let a1 = |wd: &Workdir| -> (String, String) {
        wd.db()
            .query_row(
                "SELECT current_balance, status FROM accounts WHERE account_number = 'A-1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(a1(&wd), ("0".into(), "paid".into()));
    // The client's next file still carries A-1 as it was (balance 1,250, open).
    wd.write("p2.csv", placed("A-3"));
    let o = ingest(&wd, &["portfolio", "p2.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("(1 new, 0 updated, 1 unchanged)"), "{out}");
    assert_eq!(a1(&wd), ("0".into(), "paid".into()));
    let refresh_events =
        "SELECT count(*) FROM account_events WHERE cause LIKE 'portfolio:p2.csv:%'";
    assert_eq!(count(&wd, refresh_events), 0);
    // A value the client changed is applied, with its event.
    wd.write(
        "p3.csv",
        format!(
            "{HEADER}\n{}\n",
            row("A-1", "123-45-6701", |v| v[col("status")] = "recalled".into())
        ),
    );
    let o = ingest(&wd, &["portfolio", "p3.csv", "--client", "ACME"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(a1(&wd), ("0".into(), "recalled".into()));
    let status_events = "SELECT count(*) FROM account_events
         WHERE cause LIKE 'portfolio:p3.csv:%' AND field = 'status' AND old_value = 'paid'
           AND new_value = 'recalled'";
    assert_eq!(count(&wd, status_events), 1);
    assert_eq!(
        count(&wd, "SELECT count(*) FROM account_events WHERE cause LIKE 'portfolio:p3.csv:%'"),
        1
    );
}

#[test]
fn past_due_left_blank_follows_only_a_balance_the_row_sets() {
    let wd = setup();
    let file = |name: &str, past_due: &str, blank_lines: usize| {
        let r = row("A-1", "123-45-6701", |_| {});
        // Blank lines after the row (ignored) keep the files' bytes apart.
        let blank = "\n".repeat(blank_lines);
        wd.write(name, format!("{HEADER},amount_past_due\n{r},{past_due}\n{blank}"));
        let o = ingest(&wd, &["portfolio", name, "--client", "ACME"]);
        assert!(o.status.success(), "{}", show(&o));
    };
    let amounts = |wd: &Workdir| -> (String, String) {
        wd.db()
            .query_row(
                "SELECT current_balance, amount_past_due FROM accounts WHERE account_number = 'A-1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    file("p1.csv", "", 0);
    assert_eq!(amounts(&wd), ("1250".into(), "1250".into()));
    file("p2.csv", "400", 0);
    assert_eq!(amounts(&wd), ("1250".into(), "400".into()));
    wd.write(
        "pay.csv",
        "client_id,account_number,posted_date,amount,kind,reference\nACME,A-1,2026-11-05,300,payment,R1\n",
    );
    assert!(ingest(&wd, &["payments", "pay.csv"]).status.success());
    let after_payment = amounts(&wd);
    assert_eq!(after_payment.0, "950");
    // The client sends its placement row again (balance repeated, past due blank): neither the
    // balance nor the past due moves (past due must not jump to the repeated balance).
    file("p3.csv", "", 1);
    assert_eq!(amounts(&wd), after_payment);
}
