//! Skip tracing end to end: `skiptrace locate` over file sources and a vendor API served by a
//! real local HTTP server (wiremock), and the `skiptrace leads` review queue.
//!
//! Debtors are put into the store directly (SQL on the schema) so that these tests do not
//! depend on the portfolio layout.

use std::time::Duration;

use rusqlite::{Connection, params};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::util::{Workdir, repo, show};

const AS_OF: &str = "2026-11-20";
const SSN1: &str = "123456789";
const SSN2: &str = "234567891";

/// Two debtors who need a locate, one paid account that must never be selected.
fn seed(wd: &Workdir) {
    let db = skiptrace::store::Db::open(&wd.join("var/skiptrace.db")).unwrap();
    let c = db.conn();
    c.execute("INSERT INTO clients (id, name, kind) VALUES ('ACME', 'Acme Bank', 'agency')", [])
        .unwrap();
    let consumer = |first: &str, last: &str, ssn: &str, dob: &str| -> i64 {
        c.execute(
            "INSERT INTO consumers (surname, first_name, ssn, dob) VALUES (?1, ?2, ?3, ?4)",
            params![last, first, ssn, dob],
        )
        .unwrap();
        c.last_insert_rowid()
    };
    let account = |number: &str, consumer: i64, status: &str, undeliverable: Option<&str>| {
        c.execute(
            "INSERT INTO accounts (client_id, account_number, consumer_id, account_type,
                 original_creditor, creditor_class, placed_date, placed_amount, current_balance,
                 amount_past_due, status, undeliverable_date)
             VALUES ('ACME', ?1, ?2, '48', 'ORIG BANK', '12', '2026-01-15', '500', '500', '500',
                     ?3, ?4)",
            params![number, consumer, status, undeliverable],
        )
        .unwrap();
    };
    let address = |consumer: i64, line1: &str, city: &str, zip: &str, status: &str| {
        c.execute(
            "INSERT INTO addresses (consumer_id, line1, city, state, zip, source, first_seen,
                 last_seen, status)
             VALUES (?1, ?2, ?3, 'TX', ?4, 'client:ACME', '2026-01-15', '2026-01-15', ?5)",
            params![consumer, line1, city, zip, status],
        )
        .unwrap();
    };
    let john = consumer("JOHN", "SMITH", SSN1, "1980-03-07");
    account("A-1", john, "open", Some("2026-10-01"));
    address(john, "1 OAK ST", "AUSTIN", "78701", "bad");
    c.execute(
        "INSERT INTO phones (consumer_id, number, source, first_seen, last_seen, status)
         VALUES (?1, '5125550111', 'client:ACME', '2026-01-15', '2026-01-15', 'bad')",
        params![john],
    )
    .unwrap();
    let ann = consumer("ANN", "LEE", SSN2, "1975-05-05");
    account("A-2", ann, "open", None);
    address(ann, "5 PINE AVE", "DALLAS", "75201", "current");
    let bob = consumer("BOB", "RAY", "345678912", "1960-01-01");
    account("A-3", bob, "paid", Some("2026-10-01"));
}

fn mapping(name: &str) -> String {
    repo(&format!("formats/sources/{name}")).display().to_string()
}

const VENDOR_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<LocateResults vendor="ACME DATA" generated="2026-11-20">
  <Subject id="V1" reference="A-1">
    <Name first="JOHN" middle="" last="SMITH" suffix=""/>
    <SSN>123456789</SSN>
    <DOB>1980-03-07</DOB>
    <Address firstSeen="2026-06-01" lastSeen="2026-11-01">
      <Line1>9 ELM ST</Line1><Line2>APT 2</Line2><City>HOUSTON</City><State>TX</State><Zip>77002</Zip>
    </Address>
    <Address firstSeen="2025-01-01" lastSeen="2025-12-01">
      <Line1>77 BIRCH RD</Line1><City>WACO</City><State>TX</State><Zip>76701</Zip>
    </Address>
    <Phone type="mobile" score="87" firstSeen="2026-06-01" lastSeen="2026-11-01">(713) 555-0199</Phone>
    <Phone type="landline" score="20">5125550111</Phone>
    <Email>john.smith@example.com</Email>
  </Subject>
  <Subject id="V2">
    <Name first="ANN" last="LEE"/>
    <SSN>234567891</SSN>
    <DOB>1975-05-05</DOB>
    <Deceased date="2026-09-09"/>
    <Bankruptcy chapter="13" filed="2026-08-01" status="petition"/>
  </Subject>
  <Subject id="V3">
    <Name first="CY" last="DOE"/>
    <SSN>345678913</SSN>
    <DOB>1990-02-30</DOB>
  </Subject>
  <Subject id="V4">
    <Name first="DEE" last="NOBODY"/>
    <SSN>456789123</SSN>
  </Subject>
</LocateResults>
"#;

const NCOA_CSV: &str = "\u{feff}record_id,input_reference,first_name,middle_name,last_name,suffix,\
old_address1,old_address2,old_city,old_state,old_zip,return_code,move_type,move_effective_date,\
new_address1,new_address2,new_city,new_state,new_zip\r\n\
N1,A-1,JOHN,,SMITH,,1 OAK ST,,AUSTIN,TX,78701,A,I,2026-09-01,9 ELM ST,APT 2,HOUSTON,TX,77002\r\n\
N2,A-9,ZED,,ZULU,,3 ASH ST,,AUSTIN,TX,78701,A,I,2026-09-01,4 ASH ST,,AUSTIN,TX,787\r\n\
N3,A-2,ANN,,LEE,,5 PINE AVE,,DALLAS,TX,75201,02,,,,,,,\r\n";

const VENDOR_CSV: &str = "record_id,reference,first_name,middle_name,last_name,suffix,ssn,dob,\
address1,address2,city,state,zip,addr_first_seen,addr_last_seen,phone,phone_type,phone_score,\
email,deceased_date,bankruptcy_chapter,bankruptcy_date\n\
C1,A-2,ANN,,LEE,,234567891,1975-05-05,,,,,,,,4695550123,mobile,70,,,,\n\
C2,A-1,JOHN,,SMITH,,123456789,1980-03-07,,,,,,,,555-01,mobile,50,,,,\n\
C3,A-1,JOHN,,SMITH,,1234,03/07/1980,,,,,,,,,,,,,,\n";

fn file_config(wd: &Workdir) {
    wd.write("in/vendor.xml", VENDOR_XML);
    wd.write("in/ncoa.csv", NCOA_CSV);
    wd.write("in/vendor.csv", VENDOR_CSV);
    wd.write(
        "skiptrace.toml",
        format!(
            r#"
[locate.sources.acme_xml]
kind = "vendor_xml"
mapping = "{}"
path = "in/vendor.xml"
permissible_purpose = "GLBA-6802e3"

[locate.sources.coa]
kind = "ncoa_csv"
mapping = "{}"
path = "in/ncoa.csv"
permissible_purpose = "NCOA-PAF-2026"

[locate.sources.phones_csv]
kind = "vendor_csv"
mapping = "{}"
path = "in/vendor.csv"
permissible_purpose = "GLBA-6802e3"
"#,
            mapping("vendor-xml-default.toml"),
            mapping("ncoa-default.toml"),
            mapping("vendor-csv-default.toml"),
        ),
    );
}

fn count(db: &Connection, sql: &str) -> i64 {
    db.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn assert_no_pii(text: &str) {
    for secret in [SSN1, SSN2, "123-45-6789", "1980-03-07", "1975-05-05", "03/07/1980"] {
        assert!(!text.contains(secret), "found {secret} in:\n{text}");
    }
}

#[test]
fn file_sources_make_leads_flags_and_rejects_and_a_rerun_changes_nothing() {
    let wd = Workdir::new();
    seed(&wd);
    file_config(&wd);
    let run = || {
        wd.cmd()
            .args(["locate", "--as-of", AS_OF, "--out", "out", "--matches-out", "out/matches.csv"])
            .output()
            .unwrap()
    };
    let o = run();
    // Bad records were rejected (exit 1), the rest processed.
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(stdout.contains("2 account(s) selected for 2 debtor(s)"), "{stdout}");
    assert!(stdout.contains("acme_xml [vendor_xml]: 4 read, 1 rejected, 2 matched"), "{stdout}");
    assert!(stdout.contains("phones_csv [vendor_csv]: 3 read, 2 rejected"), "{stdout}");
    assert!(stdout.contains("coa [ncoa_csv]: 3 read, 1 rejected"), "{stdout}");
    // Rejects name file, record, line and field, with PII masked.
    assert!(
        stderr.contains("vendor.xml: record 3 (line 24, byte ")
            && stderr.contains("record id V3, field `dob`: invalid_dob"),
        "{stderr}"
    );
    assert!(stderr.contains("ncoa.csv: record 2 (line 3, byte ") && stderr.contains("invalid_zip"));
    assert!(
        stderr.contains("vendor.csv: record 2 (line 3, byte ") && stderr.contains("invalid_phone")
    );
    assert!(stderr.contains("record 3 (line 4, byte ") && stderr.contains("invalid_dob"));
    assert_no_pii(&stdout);
    assert_no_pii(&stderr);
    let rejects = std::fs::read_to_string(wd.join("in/vendor.rejects.csv")).unwrap();
    assert!(
        rejects.contains(",4,dob,invalid_dob,") && rejects.contains("***-**-1234"),
        "{rejects}"
    );
    assert!(rejects.contains("**/**/1980"), "{rejects}");
    assert_no_pii(&rejects);
    let xml_rejects = std::fs::read_to_string(wd.join("in/vendor.xml.rejects.csv")).unwrap();
    assert!(xml_rejects.starts_with("record,line,byte_offset,source_record_id,column,error_code"));
    assert!(xml_rejects.contains("3,24,") && xml_rejects.contains(",V3,dob,invalid_dob,"));
    assert_no_pii(&xml_rejects);

    let db = wd.db();
    // John: best address auto-accepted and current, the older one pending; new mobile auto-
    // accepted; the known-bad landline pending; e-mail auto-accepted.
    let current: String = db
        .query_row(
            "SELECT line1 || ' ' || line2 || ' ' || city FROM addresses
             WHERE consumer_id = 1 AND status = 'current'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(current, "9 ELM ST APT 2 HOUSTON");
    assert_eq!(count(&db, "SELECT count(*) FROM addresses WHERE consumer_id = 1"), 2);
    assert_eq!(
        count(&db, "SELECT count(*) FROM leads WHERE consumer_id = 1 AND status = 'pending'"),
        2
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM phones WHERE number = '7135550199' AND status = 'current' AND consent = 0"
        ),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM accounts WHERE account_number = 'A-1' AND undeliverable_date IS NULL"
        ),
        1
    );
    assert!(count(&db, "SELECT count(*) FROM consumer_events WHERE cause LIKE 'lead:%'") >= 3);
    // Ann: deceased and bankruptcy hits flagged and queued.
    assert_eq!(count(&db, "SELECT count(*) FROM flag_hits WHERE status = 'pending'"), 2);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM consumers WHERE id = 2 AND deceased_date = '2026-09-09' AND bankruptcy_chapter = '13'"
        ),
        1
    );
    // The paid account was never selected, so nothing for Bob.
    assert_eq!(count(&db, "SELECT count(*) FROM leads WHERE consumer_id = 3"), 0);

    // Lead files: every lead of the run, no SSN or DOB, owner-only.
    let csv = std::fs::read_to_string(wd.join("out/leads.csv")).unwrap();
    let json = std::fs::read_to_string(wd.join("out/leads.json")).unwrap();
    assert!(csv.starts_with("lead_id,status,kind,value,client_id,account_number"), "{csv}");
    assert!(csv.contains("9 ELM ST, APT 2, HOUSTON, TX 77002") && csv.contains("***-**-6789"));
    assert!(csv.contains("acme_xml,V1") && csv.contains("ssn="), "{csv}");
    assert_no_pii(&csv);
    assert_no_pii(&json);
    let leads_in_csv = csv.lines().count() - 1;
    assert_eq!(leads_in_csv as i64, count(&db, "SELECT count(*) FROM leads"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(wd.join("out/leads.csv")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let matches = std::fs::read_to_string(wd.join("out/matches.csv")).unwrap();
    assert!(matches.starts_with("account_number,consumer_id,source,source_record_id,score"));
    assert!(matches.contains("A-1,1,acme_xml,V1,") && matches.contains(",accept"), "{matches}");
    // Each source file read is audited with its name, content hash and counts.
    let audited: String = db
        .query_row(
            "SELECT detail FROM audit_log WHERE action = 'locate.source_file'
             AND subject = 'source:coa' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let audited: serde_json::Value = serde_json::from_str(&audited).unwrap();
    let digest = skiptrace::fsutil::sha256_file(&wd.join("in/ncoa.csv")).unwrap();
    assert_eq!(audited["sha256"], digest.as_str(), "{audited}");
    assert_eq!(audited["file"], "ncoa.csv", "{audited}");
    assert_eq!(audited["records_read"], 3, "{audited}");
    assert_eq!(audited["rejected"], 1, "{audited}");

    // The same data and as-of elsewhere give byte-identical lead files.
    let twin = Workdir::new();
    seed(&twin);
    file_config(&twin);
    let o = twin.cmd().args(["locate", "--as-of", AS_OF, "--out", "out"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(std::fs::read_to_string(twin.join("out/leads.csv")).unwrap(), csv);
    assert_eq!(std::fs::read_to_string(twin.join("out/leads.json")).unwrap(), json);

    // Re-running the same locate creates nothing twice.
    let before: Vec<i64> =
        ["leads", "flag_hits", "addresses", "phones", "emails", "consumer_events"]
            .iter()
            .map(|t| count(&db, &format!("SELECT count(*) FROM {t}")))
            .collect();
    let o = run();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let after: Vec<i64> =
        ["leads", "flag_hits", "addresses", "phones", "emails", "consumer_events"]
            .iter()
            .map(|t| count(&db, &format!("SELECT count(*) FROM {t}")))
            .collect();
    assert_eq!(before, after);
    // John's leads are found again (Ann, now flagged deceased, is no longer selected).
    let again = std::fs::read_to_string(wd.join("out/leads.csv")).unwrap();
    let john: Vec<&str> = csv.lines().filter(|l| l.contains(",A-1,")).collect();
    assert_eq!(again.lines().skip(1).collect::<Vec<_>>(), john);
}

#[test]
fn ncoa_moves_are_read_by_code_and_type() {
    use skiptrace::locate::mapping::Mapping;
    use skiptrace::locate::record::MoveType;
    use skiptrace::locate::sources::{SourceKind, csv};
    let wd = Workdir::new();
    let text = "record_id,input_reference,first_name,middle_name,last_name,suffix,old_address1,\
old_address2,old_city,old_state,old_zip,return_code,move_type,move_effective_date,new_address1,\
new_address2,new_city,new_state,new_zip\n\
N1,A-1,JOHN,,SMITH,,1 OAK ST,,AUSTIN,TX,78701,A,I,2026-09-01,9 ELM ST,,HOUSTON,TX,77002\n\
N2,A-2,,,LEE,,5 PINE AVE,,DALLAS,TX,75201,91,F,2026-08-01,8 FIR ST,,DALLAS,TX,75202\n\
N3,A-3,,,,ACME LLC,1 MAIN,,WACO,TX,76701,A,B,2026-08-01,2 MAIN,,WACO,TX,76701\n\
N4,A-4,CY,,DOE,,3 ASH ST,,AUSTIN,TX,78701,02,I,2026-07-01,,,,,\n\
N5,A-5,DEE,,DAY,,4 ASH ST,,AUSTIN,TX,78701,A,,2026-07-01,5 ASH ST,,AUSTIN,TX,78701\n";
    let p = wd.write("ncoa.csv", text);
    let m = Mapping::load(&repo("formats/sources/ncoa-default.toml")).unwrap();
    let r =
        csv::read(&p, "coa", SourceKind::NcoaCsv, &m, &indicatif::ProgressBar::hidden()).unwrap();
    assert_eq!(r.rows, 5);
    // N3: a business move with no surname is rejected (a record needs a last name); N5: code A
    // without a move type.
    let codes: Vec<(u64, &str)> = r.rejects.iter().map(|x| (x.line, x.code.as_str())).collect();
    assert_eq!(codes, vec![(4, "missing_name"), (6, "missing_move_type")]);
    assert_eq!(r.records[0].move_type, Some(MoveType::Individual));
    assert_eq!(r.records[0].addresses[0].first_seen, Some(jiff::civil::date(2026, 9, 1)));
    assert_eq!(r.records[1].move_type, Some(MoveType::Family));
    // Family moves never go past review, whatever the score.
    use skiptrace::locate::matcher::Decision;
    assert_eq!(skiptrace::locate::leads::capped(Decision::Accept, &r.records[1]), Decision::Review);
    assert_eq!(skiptrace::locate::leads::capped(Decision::Accept, &r.records[0]), Decision::Accept);
    // 02: moved, left no address: no lead, and the old address is what gets marked bad.
    assert!(r.records[2].addresses.is_empty());
    assert_eq!(r.records[2].known_address.as_ref().unwrap().line1, "3 ASH ST");
    assert!(wd.join("ncoa.rejects.csv").exists());
}

#[test]
fn review_decisions_are_applied_and_audited() {
    let wd = Workdir::new();
    seed(&wd);
    file_config(&wd);
    let o = wd.cmd().args(["locate", "--as-of", AS_OF, "--source", "acme_xml"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let o = wd.cmd().args(["leads", "list", "--format", "json"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let pending: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 2, "{pending:?}");
    let birch = pending.iter().find(|l| l["value"].as_str().unwrap().contains("BIRCH")).unwrap();
    let landline = pending.iter().find(|l| l["kind"] == "phone").unwrap();
    assert_no_pii(&String::from_utf8_lossy(&o.stdout));

    let id = birch["id"].as_i64().unwrap().to_string();
    let o = wd
        .cmd()
        .args(["leads", "accept", &id, "--by", "maria", "--as-of", AS_OF])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let lid = landline["id"].as_i64().unwrap().to_string();
    let o = wd
        .cmd()
        .args(["leads", "reject", &lid, "--by", "maria", "--reason", "known disconnected"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    // Deciding twice is a usage error.
    let o = wd.cmd().args(["leads", "reject", &lid, "--by", "maria"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is rejected, not pending"));

    let db = wd.db();
    // Accepting the older address made it current; the previous current became previous.
    let statuses: Vec<(String, String)> = db
        .prepare("SELECT line1, status FROM addresses WHERE consumer_id = 1 ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        statuses,
        vec![
            ("1 OAK ST".to_string(), "bad".to_string()),
            ("9 ELM ST".to_string(), "previous".to_string()),
            ("77 BIRCH RD".to_string(), "current".to_string()),
        ]
    );
    let audit: Vec<(String, String, String)> = db
        .prepare(
            "SELECT actor, action, detail FROM audit_log WHERE action LIKE 'lead.%' ORDER BY id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(audit.len(), 2);
    assert_eq!((audit[0].0.as_str(), audit[0].1.as_str()), ("maria", "lead.accept"));
    assert_eq!((audit[1].0.as_str(), audit[1].1.as_str()), ("maria", "lead.reject"));
    assert!(audit[1].2.contains("known disconnected"));

    // The flags queue: dismissing the deceased hit takes the automatic flag back.
    let o = wd.cmd().args(["leads", "list", "--queue", "flags"]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        text.contains("deceased") && text.contains("bankruptcy") && text.contains("2 flag hit(s)"),
        "{text}"
    );
    let deceased_id: i64 = count(&db, "SELECT id FROM flag_hits WHERE kind = 'deceased'");
    let o = wd
        .cmd()
        .args([
            "leads",
            "dismiss",
            &deceased_id.to_string(),
            "--by",
            "omar",
            "--reason",
            "wrong person",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        count(&db, "SELECT count(*) FROM consumers WHERE id = 2 AND deceased_date IS NULL"),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM audit_log WHERE action = 'flag.dismiss' AND actor = 'omar'"
        ),
        1
    );
    // Confirming the bankruptcy hit keeps the consumer's flag; the queue is then empty.
    let bk: i64 = count(&db, "SELECT id FROM flag_hits WHERE kind = 'bankruptcy'");
    let o = wd.cmd().args(["leads", "confirm", &bk.to_string(), "--by", "omar"]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(
        count(&db, "SELECT count(*) FROM consumers WHERE id = 2 AND bankruptcy_chapter = '13'"),
        1
    );
    let o =
        wd.cmd().args(["leads", "list", "--queue", "flags", "--format", "json"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]");
    let o = wd
        .cmd()
        .args(["leads", "list", "--queue", "flags", "--status", "all", "--format", "json"])
        .output()
        .unwrap();
    let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let statuses: Vec<&str> =
        all.as_array().unwrap().iter().map(|f| f["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["dismissed", "confirmed"]);
}

// ------------------------------------------------------------------------------ vendor API

const KEY_ENV: &str = "SKIPTRACE_TEST_VENDOR_KEY";
const KEY: &str = "sk-live-9f8e7d6c";

fn api_config(wd: &Workdir, server: &MockServer, extra: &str, mapping_file: &str) {
    wd.write(
        "skiptrace.toml",
        format!(
            r#"
[locate.sources.acme_api]
kind = "vendor_api"
mapping = "{}"
url = "{}/v1/locate"
api_key_env = "{KEY_ENV}"
permissible_purpose = "GLBA-6802e3"
{timeout}
max_concurrency = 1
rate_per_sec = 50
max_retries = 2
backoff_initial_ms = 10
backoff_max_ms = 50
{extra}
"#,
            mapping(mapping_file),
            server.uri(),
            timeout = if extra.contains("timeout_ms") { "" } else { "timeout_ms = 1500" },
        ),
    );
}

fn subject_json(id: &str, first: &str, last: &str, ssn: &str) -> serde_json::Value {
    serde_json::json!({"subjects": [{
        "id": id, "name": {"first": first, "last": last}, "ssn": ssn,
        "addresses": [{"line1": "42 CEDAR LN", "city": "PLANO", "state": "TX", "zip": "75024",
                       "first_seen": "2026-05-01", "last_seen": "2026-11-01"}],
        "phones": [{"number": "9725550142", "type": "mobile", "score": 91}],
        "emails": [format!("{}@example.net", first.to_lowercase())]
    }]})
}

/// Mounts one 200 answer per debtor (matched on the SSN in the body).
async fn answer_both(server: &MockServer) {
    for (id, first, last, ssn) in [("R1", "JOHN", "SMITH", SSN1), ("R2", "ANN", "LEE", SSN2)] {
        Mock::given(method("POST"))
            .and(path("/v1/locate"))
            .and(wiremock::matchers::body_partial_json(serde_json::json!({"ssn": ssn})))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(subject_json(id, first, last, ssn)),
            )
            .mount(server)
            .await;
    }
}

fn locate(wd: &Workdir) -> std::process::Output {
    wd.cmd().env(KEY_ENV, KEY).args(["locate", "--as-of", AS_OF, "--out", "out"]).output().unwrap()
}

fn assert_key_never_shown(wd: &Workdir, o: &std::process::Output) {
    let all =
        format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!all.contains(KEY), "{all}");
    let db = wd.db();
    let audit: String = db
        .query_row("SELECT coalesce(group_concat(detail), '') FROM audit_log", [], |r| r.get(0))
        .unwrap();
    assert!(!audit.contains(KEY) && !audit.contains(SSN1), "{audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_honours_retry_after_on_429_and_the_cache_bills_nothing_twice() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer_both(&server).await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "", "vendor-api-json.toml");
    let started = std::time::Instant::now();
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was not honoured");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        stdout.contains(
            "API: 2 lookup(s), 3 request(s) sent, 0 cache hit(s), 2 billable call(s), 0 failed"
        ),
        "{stdout}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    // Every request carried the key header and an idempotency key; each lookup was audited
    // with its permissible purpose.
    let reqs = server.received_requests().await.unwrap();
    assert!(
        reqs.iter().all(|r| r.headers.get("authorization").unwrap() == &format!("Bearer {KEY}"))
    );
    assert!(reqs.iter().all(|r| r.headers.contains_key("idempotency-key")));
    let db = wd.db();
    // One audit entry per request sent (the refused one included), with the purpose code.
    let audited = |like: &str| {
        count(
            &db,
            &format!(
                "SELECT count(*) FROM audit_log WHERE action = 'vendor.request' AND detail LIKE '%{like}%'"
            ),
        )
    };
    assert_eq!(audited("GLBA-6802e3"), 3);
    assert_eq!(audited("vendor_rate_limited"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM leads WHERE source = 'acme_api'"), 6);
    assert_key_never_shown(&wd, &o);
    // The cached responses hold no SSN in clear.
    assert_eq!(
        count(&db, "SELECT count(*) FROM locate_requests WHERE response LIKE '%[[query-ssn]]%'"),
        2
    );
    assert_eq!(
        count(
            &db,
            &format!(
                "SELECT count(*) FROM locate_requests WHERE response LIKE '%{SSN1}%' OR response LIKE '%{SSN2}%'"
            )
        ),
        0
    );

    // Re-run: answered from the cache, nothing sent, nothing billed, no new leads.
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("2 cache hit(s), 0 billable call(s)"));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM leads WHERE source = 'acme_api'"), 6);
    assert_eq!(count(&db, "SELECT sum(billable) FROM locate_requests"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_retries_5xx_when_the_vendor_is_idempotent() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    answer_both(&server).await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "idempotent = true", "vendor-api-json.toml");
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    assert_eq!(count(&wd.db(), "SELECT count(*) FROM leads WHERE source = 'acme_api'"), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_never_blindly_retries_a_billable_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    answer_both(&server).await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "", "vendor-api-json.toml");
    let o = locate(&wd);
    // One lookup failed after a single attempt: exit 3, the error names source and account.
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("source acme_api, account A-1: vendor_http_5xx: HTTP 500")
            && stderr.contains("(after 1 attempt)"),
        "{stderr}"
    );
    // The failure is not cached as an answer: the next run asks again.
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_timeouts_give_up_with_a_clear_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(subject_json("R1", "JOHN", "SMITH", SSN1))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "method = \"GET\"\ntimeout_ms = 300", "vendor-api-json.toml");
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("source acme_api, account A-1: vendor_timeout")
            && stderr.contains("source acme_api, account A-2: vendor_timeout")
            && stderr.contains("(after 3 attempts)"),
        "{stderr}"
    );
    // GET is safe to repeat: 1 + 2 retries per lookup.
    assert_eq!(server.received_requests().await.unwrap().len(), 6);
    assert_key_never_shown(&wd, &o);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_malformed_json_and_xml_are_rejected_naming_source_and_record() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(serde_json::json!({"ssn": SSN1})))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"subjects\": [ {\"id\": "))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(serde_json::json!({"ssn": SSN2})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"subjects": 7})))
        .mount(&server)
        .await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "", "vendor-api-json.toml");
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("source acme_api, account A-1: malformed response: invalid JSON"),
        "{stderr}"
    );
    assert!(
        stderr.contains("source acme_api, account A-2: malformed response: `/subjects`"),
        "{stderr}"
    );
    assert!(stderr.contains("vendor_malformed_response"), "{stderr}");

    // XML responses: a syntax error rejects that response, the well-formed one is read.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(serde_json::json!({"ssn": SSN1})))
        .respond_with(ResponseTemplate::new(200).set_body_string(
            "<LocateResults><Subject id=\"X1\"><Name first=\"JOHN\" last=\"SMITH\"/></Subjct></LocateResults>",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::body_partial_json(serde_json::json!({"ssn": SSN2})))
        .respond_with(ResponseTemplate::new(200).set_body_string(format!(
            "<LocateResults><Subject id=\"X2\"><Name first=\"ANN\" last=\"LEE\"/><SSN>{SSN2}</SSN>\
             <Phone type=\"mobile\">4695550100</Phone></Subject></LocateResults>"
        )))
        .mount(&server)
        .await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "", "vendor-api-xml.toml");
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("source acme_api, account A-1, response record 1: XML syntax error"),
        "{stderr}"
    );
    assert_eq!(count(&wd.db(), "SELECT count(*) FROM leads WHERE value = '4695550100'"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_auth_failure_stops_the_source_without_showing_the_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_string("bad key"))
        .mount(&server)
        .await;
    let wd = Workdir::new();
    seed(&wd);
    api_config(&wd, &server, "", "vendor-api-json.toml");
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("source acme_api, account A-1: vendor_auth_failed: HTTP 401: authentication failed; check the key in $SKIPTRACE_TEST_VENDOR_KEY"),
        "{stderr}"
    );
    assert!(
        stderr.contains("stopped after an authentication failure; 1 lookup(s) not sent"),
        "{stderr}"
    );
    // Not retried, and the second lookup was never sent.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_key_never_shown(&wd, &o);

    // 403 is the same.
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(403)).mount(&server).await;
    api_config(&wd, &server, "", "vendor-api-json.toml");
    let o = locate(&wd);
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 403: authentication failed"));
}

#[test]
fn api_source_is_skipped_without_its_key() {
    let wd = Workdir::new();
    seed(&wd);
    wd.write(
        "skiptrace.toml",
        format!(
            "[locate.sources.acme_api]\nkind = \"vendor_api\"\nmapping = \"{}\"\n\
             url = \"http://127.0.0.1:9/v1\"\napi_key_env = \"{KEY_ENV}\"\n\
             permissible_purpose = \"GLBA-6802e3\"\n",
            mapping("vendor-api-json.toml")
        ),
    );
    let o = wd.cmd().env_remove(KEY_ENV).args(["locate", "--as-of", AS_OF]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!(
            "acme_api [vendor_api]: skipped: environment variable {KEY_ENV} is not set"
        )),
        "{}",
        show(&o)
    );
    // A source name that is not configured is a usage error.
    let o = wd.cmd().args(["locate", "--as-of", AS_OF, "--source", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown locate source \"nope\""));
}

#[test]
fn selection_skips_paid_deceased_and_bankrupt_and_finds_each_reason() {
    let wd = Workdir::new();
    seed(&wd);
    let db = skiptrace::store::Db::open(&wd.join("var/skiptrace.db")).unwrap();
    let c = db.conn();
    // Ann has a current address and no phone, was placed long ago and never talked to us.
    let cfg = skiptrace::locate::select::SelectionConfig { no_contact_days: 90 };
    let as_of = jiff::civil::date(2026, 11, 20);
    let s = skiptrace::locate::select::select(&db, &cfg, as_of).unwrap();
    let got: Vec<(String, Vec<&str>)> = s
        .accounts
        .iter()
        .map(|a| (a.account_number.clone(), a.reasons.iter().map(|r| r.as_str()).collect()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                "A-1".into(),
                vec!["returned_mail", "no_current_address", "bad_phones_only", "no_contact"]
            ),
            ("A-2".into(), vec!["no_contact"]),
        ]
    );
    assert_eq!(s.debtors.len(), 2);
    assert_eq!(s.debtors[0].addresses[0].line1, "1 OAK ST");
    // A recent conversation takes Ann out; a bankruptcy takes John out.
    c.execute(
        "INSERT INTO contact_events (account_id, kind, event_date) VALUES (2, 'conversation', '2026-11-01')",
        [],
    )
    .unwrap();
    c.execute("UPDATE consumers SET bankruptcy_chapter = '7', bankruptcy_status = 'petition' WHERE id = 1", [])
        .unwrap();
    let s = skiptrace::locate::select::select(&db, &cfg, as_of).unwrap();
    assert!(s.accounts.is_empty(), "{:?}", s.accounts);
}

// ------------------------------------------------------------------------------ demo

/// Loads the demo's locate portfolio and contact events into the store the way ingest does
/// (returned mail: address bad and undeliverable date; disconnected phone: phone bad).
fn seed_demo(wd: &Workdir) {
    let db = skiptrace::store::Db::open(&wd.join("var/skiptrace.db")).unwrap();
    let c = db.conn();
    c.execute(
        "INSERT INTO clients (id, name, kind) VALUES ('LOCDEMO', 'Locate demo', 'agency')",
        [],
    )
    .unwrap();
    let mut rdr = csv::Reader::from_path(repo("fixtures/demo/locate/portfolio.csv")).unwrap();
    let headers = rdr.headers().unwrap().clone();
    for row in rdr.records() {
        let row = row.unwrap();
        let get = |k: &str| {
            let i = headers.iter().position(|h| h == k).unwrap();
            row.get(i).unwrap().to_string()
        };
        let generation = match get("generation").as_str() {
            "JR" => Some("J"),
            _ => None,
        };
        c.execute(
            "INSERT INTO consumers (surname, first_name, middle_name, generation, ssn, dob)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                get("surname"),
                get("first_name"),
                get("middle_name"),
                generation,
                get("ssn"),
                get("dob")
            ],
        )
        .unwrap();
        let consumer = c.last_insert_rowid();
        c.execute(
            "INSERT INTO accounts (client_id, account_number, consumer_id, account_type,
                 original_creditor, creditor_class, placed_date, placed_amount, current_balance,
                 amount_past_due, status)
             VALUES ('LOCDEMO', ?1, ?2, '48', ?3, ?4, ?5, ?6, ?7, ?7, ?8)",
            params![
                get("account_number"),
                consumer,
                get("original_creditor"),
                get("creditor_class"),
                get("placed_date"),
                get("placed_amount"),
                get("current_balance"),
                get("status")
            ],
        )
        .unwrap();
        c.execute(
            "INSERT INTO addresses (consumer_id, line1, line2, city, state, zip, source,
                 first_seen, last_seen, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'client:LOCDEMO', ?7, ?7, 'current')",
            params![
                consumer,
                get("address1"),
                get("address2"),
                get("city"),
                get("state"),
                get("zip"),
                get("placed_date")
            ],
        )
        .unwrap();
        if !get("phone").is_empty() {
            c.execute(
                "INSERT INTO phones (consumer_id, number, source, first_seen, last_seen, status)
                 VALUES (?1, ?2, 'client:LOCDEMO', ?3, ?3, 'current')",
                params![consumer, get("phone"), get("placed_date")],
            )
            .unwrap();
        }
    }
    let mut rdr = csv::Reader::from_path(repo("fixtures/demo/locate/contact-events.csv")).unwrap();
    for row in rdr.records() {
        let row = row.unwrap();
        let (account, date, kind, detail) = (&row[1], &row[2], &row[3], &row[4]);
        let (account_id, consumer): (i64, i64) = c
            .query_row(
                "SELECT id, consumer_id FROM accounts WHERE account_number = ?1",
                params![account],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        c.execute(
            "INSERT INTO contact_events (account_id, kind, event_date, detail) VALUES (?1, ?2, ?3, ?4)",
            params![account_id, kind, date, detail],
        )
        .unwrap();
        match kind {
            "returned_mail" => {
                c.execute(
                    "UPDATE addresses SET status = 'bad' WHERE consumer_id = ?1",
                    params![consumer],
                )
                .unwrap();
                c.execute(
                    "UPDATE accounts SET undeliverable_date = ?2 WHERE id = ?1",
                    params![account_id, date],
                )
                .unwrap();
            }
            _ => {
                c.execute(
                    "UPDATE phones SET status = 'bad' WHERE consumer_id = ?1 AND number = ?2",
                    params![consumer, detail],
                )
                .unwrap();
            }
        }
    }
}

#[test]
fn demo_sources_read_cleanly_and_produce_leads() {
    let wd = Workdir::new();
    seed_demo(&wd);
    let config = repo("fixtures/demo/locate/skiptrace-locate.toml");
    let o = wd
        .cmd()
        .env_remove("ACME_DATA_API_KEY")
        .arg("--config")
        .arg(&config)
        .args(["locate", "--as-of", AS_OF, "--out", "out"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(stdout.contains("6 account(s) selected for 6 debtor(s)"), "{stdout}");
    assert!(stdout.contains("acme_batch [vendor_xml]: 6 read, 0 rejected"), "{stdout}");
    assert!(stdout.contains("usps_ncoa [ncoa_csv]: 4 read, 0 rejected"), "{stdout}");
    assert!(
        stdout.contains("acme_api [vendor_api]: skipped: environment variable ACME_DATA_API_KEY")
    );
    // The repository's demo folder gets no rejects file.
    assert!(!repo("fixtures/demo/locate/vendor.xml.rejects.csv").exists());
    let db = wd.db();
    assert_eq!(
        count(&db, "SELECT count(*) FROM addresses a JOIN consumers c ON c.id = a.consumer_id
                    WHERE c.surname = 'OKAFOR' AND a.line1 = '88 HARBOR DR' AND a.status = 'current'"),
        1
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM flag_hits f JOIN consumers c ON c.id = f.consumer_id
                    WHERE (c.surname = 'HALVORSEN' AND f.kind = 'deceased')
                       OR (c.surname = 'BROOKS' AND f.kind = 'bankruptcy')"
        ),
        2
    );
    let csv = std::fs::read_to_string(wd.join("out/leads.csv")).unwrap();
    assert!(csv.contains("L-1002") && csv.contains("d.reyes@example.org"), "{csv}");
    assert!(!csv.contains("512340") && !csv.contains("1985-09-30"), "{csv}");
}

#[test]
fn an_unreadable_source_fails_the_run_but_not_the_other_sources() {
    let wd = Workdir::new();
    seed(&wd);
    file_config(&wd);
    std::fs::remove_file(wd.join("in/vendor.xml")).unwrap();
    // A CSV without a mapped column is unreadable too.
    wd.write("in/ncoa.csv", "record_id,first_name\nN1,ANN\n");
    let o = wd.cmd().args(["locate", "--as-of", AS_OF, "--out", "out"]).output().unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("source acme_xml: cannot open"), "{stderr}");
    assert!(stderr.contains("source coa: ncoa.csv has no column `input_reference`"), "{stderr}");
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("acme_xml [vendor_xml]: failed"), "{stdout}");
    assert!(stdout.contains("phones_csv [vendor_csv]: 3 read, 2 rejected, 1 matched"), "{stdout}");
    assert_eq!(count(&wd.db(), "SELECT count(*) FROM leads WHERE source = 'phones_csv'"), 1);
}

#[test]
fn a_locate_stopped_while_storing_leaves_nothing_and_its_rerun_matches_an_uninterrupted_one() {
    let run = |wd: &Workdir| {
        wd.cmd().args(["locate", "--as-of", AS_OF, "--out", "out"]).output().unwrap()
    };
    let state = |wd: &Workdir| -> Vec<String> {
        let db = wd.db();
        let mut out = Vec::new();
        for sql in [
            "SELECT consumer_id, kind, value, source, source_record_id, status FROM leads",
            "SELECT consumer_id, line1, status FROM addresses",
            "SELECT consumer_id, number, status FROM phones",
            "SELECT consumer_id, kind, status FROM flag_hits",
        ] {
            let mut s = db.prepare(&format!("{sql} ORDER BY 1, 2, 3")).unwrap();
            let n = s.column_count();
            let mut rows = s.raw_query();
            while let Some(r) = rows.next().unwrap() {
                let v: Vec<String> = (0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                    .collect();
                out.push(v.join("|"));
            }
        }
        out
    };
    // An uninterrupted run.
    let clean = Workdir::new();
    seed(&clean);
    file_config(&clean);
    assert_eq!(run(&clean).status.code(), Some(1));
    let expected = state(&clean);
    assert!(expected.iter().any(|l| l.contains("acme_xml")), "{expected:?}");
    assert!(expected.iter().any(|l| l.contains("phones_csv")), "{expected:?}");
    // The same, with storing failing at the last source (sources go in name order:
    // acme_xml, coa, phones_csv): as a run killed there would, it leaves nothing.
    let wd = Workdir::new();
    seed(&wd);
    file_config(&wd);
    let before = state(&wd);
    wd.db()
        .execute_batch(
            "CREATE TRIGGER stop_storing BEFORE INSERT ON leads WHEN NEW.source = 'phones_csv'
             BEGIN SELECT RAISE(ABORT, 'storage failed'); END;",
        )
        .unwrap();
    let o = run(&wd);
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
    assert_eq!(state(&wd), before, "the earlier sources' leads were kept");
    wd.db().execute_batch("DROP TRIGGER stop_storing").unwrap();
    assert_eq!(run(&wd).status.code(), Some(1));
    assert_eq!(state(&wd), expected);
}
