//! `skiptrace metro2 validate | convert | diff` against moov-io/metro2's public sample files
//! and against generated files that break each validation rule.

use std::collections::BTreeSet;

use jiff::civil::date;
use serde_json::Value;
use skiptrace::metro2::codec::TextMode;
use skiptrace::metro2::model::{
    Base, DataRecord, Header, J1, J2, K1, K2, K3, K4, L1, N1, SsnField,
};
use skiptrace::metro2::reader::{Item, parse_record};
use skiptrace::metro2::validate::RULES;
use skiptrace::metro2::writer::{Writer, WriterOptions};

use crate::util::{Workdir, shared, show};

const TESTDATA: &str = "external/moov-metro2/test/testdata";
const CHARACTER_FILES: [&str; 3] =
    ["unpacked_fixed_file", "unpacked_fixed_request", "unpacked_variable_file"];

fn moov(name: &str) -> std::path::PathBuf {
    shared(&format!("{TESTDATA}/{name}"))
}

// ---------------------------------------------------------------- moov-io sample files

#[test]
fn every_moov_sample_parses_without_a_crash() {
    let wd = Workdir::new();
    for entry in std::fs::read_dir(shared(TESTDATA)).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("dat") {
            continue;
        }
        let o = wd
            .cmd()
            .args(["metro2", "validate", "--as-of", "2026-11-20"])
            .arg(&p)
            .output()
            .unwrap();
        let code = o.status.code();
        assert!(matches!(code, Some(0 | 1)), "{}: {}", p.display(), show(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("data records:"), "{}: {}", p.display(), show(&o));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    }
}

#[test]
fn complete_character_files_validate_structurally_clean() {
    let wd = Workdir::new();
    for name in ["unpacked_fixed_file", "unpacked_fixed_request"] {
        let o = wd
            .cmd()
            .args(["metro2", "validate", "--format", "json", "--as-of", "2026-11-20"])
            .arg(moov(&format!("{name}.dat")))
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", show(&o)));
        let structural: Vec<&Value> = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"].as_str().unwrap().starts_with("structure."))
            .collect();
        assert!(structural.is_empty(), "{name}: {structural:?}");
        assert_eq!(v["summary"]["records"], 1);
        assert_eq!(v["summary"]["by_status"]["62"], 1);
        // The fixture is a format sample, not a coherent account: the rules see that.
        let rules: Vec<&str> =
            v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
        assert!(rules.contains(&"cfpb.status_balance_1"), "{rules:?}");
        assert!(rules.contains(&"collection.portfolio_type"), "{rules:?}");
    }
}

#[test]
fn moov_variable_file_has_its_descriptor_words_reported() {
    let wd = Workdir::new();
    let o = wd
        .cmd()
        .args(["metro2", "validate", "--format", "json", "--as-of", "2026-11-20"])
        .arg(moov("unpacked_variable_file.dat"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let f: Vec<(String, u64)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["rule"].as_str().unwrap().to_string(), f["record"].as_u64().unwrap()))
        .collect();
    assert!(f.contains(&("structure.rdw".into(), 0)), "{f:?}");
    assert!(f.contains(&("structure.bdw".into(), 1)), "{f:?}");
    assert!(f.contains(&("structure.rdw".into(), 1)), "{f:?}");
}

#[test]
fn character_files_round_trip_byte_identical_through_json() {
    let wd = Workdir::new();
    for name in CHARACTER_FILES {
        let src = moov(&format!("{name}.dat"));
        let json = wd.join(&format!("{name}.json"));
        let back = wd.join(&format!("{name}.back"));
        let o = wd.cmd().args(["metro2", "convert"]).arg(&src).arg(&json).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let o = wd.cmd().args(["metro2", "convert"]).arg(&json).arg(&back).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        assert!(std::fs::read(&src).unwrap() == std::fs::read(&back).unwrap(), "{name}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&back).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}

/// moov's JSON for a value: dates `2019-11-22T00:00:00Z`, time stamps with `Z`, zero and
/// blank fields omitted; ours: `2019-11-22`, `2020-01-01T01:11:22`, also omitted.
fn norm(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::Number(n)) if n.as_u64() == Some(0) => String::new(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => {
            let s = s.strip_suffix("T00:00:00Z").unwrap_or(s);
            s.strip_suffix('Z').unwrap_or(s).to_string()
        }
        Some(o) => o.to_string(),
    }
}

fn compare_objects(ctx: &str, moov: &Value, ours: &Value, compared: &mut usize) {
    const SKIP: [&str; 3] = ["segmentIdentifier", "recordIdentifier", "blockDescriptorWord"];
    let (Some(m), Some(o)) = (moov.as_object(), ours.as_object()) else {
        panic!("{ctx}: not objects: {moov} / {ours}");
    };
    let keys: BTreeSet<&String> = m.keys().chain(o.keys()).collect();
    for k in keys {
        if SKIP.contains(&k.as_str()) || k == "padding" {
            continue;
        }
        // moov drops a header's blank padding and reports 426; we keep the file's value.
        if ctx.ends_with(".header") && k == "recordDescriptorWord" {
            continue;
        }
        assert_eq!(norm(m.get(k)), norm(o.get(k)), "{ctx}.{k}");
        *compared += 1;
    }
}

fn compare_data(ctx: &str, moov: &Value, ours: &Value, compared: &mut usize) {
    compare_objects(&format!("{ctx}.base"), &moov["base"], &ours["base"], compared);
    for seg in ["j1", "j2"] {
        let (m, o) = (moov[seg].as_array(), ours[seg].as_array());
        assert_eq!(m.map(Vec::len), o.map(Vec::len), "{ctx}.{seg}");
        for (i, (a, b)) in m.into_iter().flatten().zip(o.into_iter().flatten()).enumerate() {
            compare_objects(&format!("{ctx}.{seg}[{i}]"), a, b, compared);
        }
    }
    for seg in ["k1", "k2", "k3", "k4", "l1", "n1"] {
        assert_eq!(moov[seg].is_null(), ours[seg].is_null(), "{ctx}.{seg}");
        if !moov[seg].is_null() {
            compare_objects(&format!("{ctx}.{seg}"), &moov[seg], &ours[seg], compared);
        }
    }
}

#[test]
fn our_json_values_equal_moovs_field_by_field() {
    let wd = Workdir::new();
    for name in CHARACTER_FILES {
        let json = wd.join(&format!("{name}.json"));
        let o = wd
            .cmd()
            .args(["metro2", "convert"])
            .arg(moov(&format!("{name}.dat")))
            .arg(&json)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let ours: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        // moov keeps no JSON for the newline-separated request file: it holds the same data
        // as the fixed-length file.
        let json_name = if name == "unpacked_fixed_request" { "unpacked_fixed_file" } else { name };
        let theirs: Value =
            serde_json::from_slice(&std::fs::read(moov(&format!("{json_name}.json"))).unwrap())
                .unwrap();
        let mut n = 0;
        compare_objects(&format!("{name}.header"), &theirs["header"], &ours["header"], &mut n);
        compare_objects(&format!("{name}.trailer"), &theirs["trailer"], &ours["trailer"], &mut n);
        let (td, od) = (theirs["data"].as_array().unwrap(), ours["data"].as_array().unwrap());
        assert_eq!(td.len(), od.len());
        for (i, (t, o)) in td.iter().zip(od).enumerate() {
            compare_data(&format!("{name}.data[{i}]"), t, o, &mut n);
        }
        assert!(n > 120, "{name}: only {n} fields compared");
    }
    // The lone data record sample (BDW + wrapped lines) against its JSON.
    let mut findings = Vec::new();
    let item =
        parse_record(&std::fs::read(moov("base_segment.dat")).unwrap(), &mut findings).unwrap();
    let Some(Item::Data(rec, framing)) = item else { panic!("not a data record: {item:?}") };
    assert!(findings.is_empty(), "{findings:?}");
    assert_eq!(framing.bdw, Some(1268));
    assert_eq!(rec.content_len(), 1264);
    let theirs: Value =
        serde_json::from_slice(&std::fs::read(moov("base_segment.json")).unwrap()).unwrap();
    let mut ours = serde_json::to_value(&*rec).unwrap();
    ours["base"]["recordDescriptorWord"] = rec.content_len().into();
    let mut n = 0;
    compare_data("base_segment", &theirs, &ours, &mut n);
    assert!(n > 80, "{n}");
}

#[test]
fn every_segment_sample_decodes_and_re_encodes_identically() {
    fn check<T>(
        name: &str,
        len: usize,
        decode: fn(&[u8], &mut Vec<skiptrace::metro2::codec::FieldIssue>) -> T,
        encode: fn(&T, &mut Vec<u8>) -> Result<(), skiptrace::metro2::codec::FieldError>,
    ) {
        let raw: Vec<u8> =
            std::fs::read(moov(name)).unwrap().into_iter().filter(|&b| b != b'\n').collect();
        assert_eq!(raw.len(), len, "{name}");
        let mut issues = Vec::new();
        let v = decode(&raw, &mut issues);
        assert!(issues.is_empty(), "{name}: {issues:?}");
        let mut out = Vec::new();
        encode(&v, &mut out).unwrap();
        assert_eq!(out, raw, "{name}");
    }
    check("j1_segment.dat", 100, J1::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("j2_segment.dat", 200, J2::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("k1_segment.dat", 34, K1::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("k2_segment.dat", 34, K2::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("k3_segment.dat", 40, K3::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("k4_segment.dat", 30, K4::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("l1_segment.dat", 54, L1::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    check("n1_segment.dat", 146, N1::decode, |v, o| v.encode(o, 0, TextMode::Preserve));
    let mut f = Vec::new();
    let t = parse_record(&std::fs::read(moov("trailer_record.dat")).unwrap(), &mut f).unwrap();
    assert!(matches!(t, Some(Item::Trailer(ref t, _)) if t.total_base_records == 1), "{t:?}");
    let h = parse_record(&std::fs::read(moov("header_record.dat")).unwrap(), &mut f).unwrap();
    assert!(
        matches!(h, Some(Item::Header(ref h, _)) if h.reporter_name == "YOUR BUSINESS NAME HERE")
    );
    assert!(f.is_empty(), "{f:?}");
}

#[test]
fn crashers_and_packed_files_get_clean_errors() {
    let wd = Workdir::new();
    let mut paths: Vec<_> =
        std::fs::read_dir(moov("crashers")).unwrap().map(|e| e.unwrap().path()).collect();
    paths.extend(
        ["packed_file.dat", "packed_base_segment.dat", "packed_header_record.dat"].map(moov),
    );
    for p in paths {
        let o = wd.cmd().args(["metro2", "validate"]).arg(&p).output().unwrap();
        assert_eq!(o.status.code(), Some(1), "{}: {}", p.display(), show(&o));
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("error ["), "{}", show(&o));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
        // convert refuses with a clear error and leaves no output behind.
        let dst = wd.join("out.json");
        let o = wd.cmd().args(["metro2", "convert"]).arg(&p).arg(&dst).output().unwrap();
        assert_ne!(o.status.code(), Some(0), "{}", show(&o));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
        assert!(!dst.exists());
    }
    let o = wd.cmd().args(["metro2", "validate"]).arg(moov("packed_file.dat")).output().unwrap();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("packed format not supported"),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------- generated files

fn header() -> Header {
    Header {
        activity_date: Some(date(2026, 10, 31)),
        date_created: Some(date(2026, 11, 1)),
        reporter_name: "SAMPLE AGENCY".into(),
        reporter_address: "1 MAIN ST AUSTIN TX 78701".into(),
        ..Default::default()
    }
}

/// A clean unpaid collection account.
fn good(acct: &str) -> DataRecord {
    let mut r = DataRecord::new(Base {
        processing_indicator: 1,
        identification_number: "AGENCY01".into(),
        consumer_account_number: acct.into(),
        portfolio_type: "O".into(),
        account_type: "48".into(),
        date_opened: Some(date(2026, 1, 15)),
        highest_credit: 1200,
        terms_duration: "001".into(),
        terms_frequency: "P".into(),
        account_status: "93".into(),
        payment_history_profile: "B".repeat(24),
        current_balance: 1200,
        amount_past_due: 1200,
        date_account_information: Some(date(2026, 10, 31)),
        date_first_delinquency: Some(date(2025, 6, 1)),
        surname: "DOE".into(),
        first_name: "JANE".into(),
        social_security_number: SsnField(123456789),
        ecoa_code: "1".into(),
        first_line_address: "1 MAIN ST".into(),
        city: "AUSTIN".into(),
        state: "TX".into(),
        zip_code: "78701".into(),
        ..Default::default()
    });
    r.k1 = Some(K1 { original_creditor_name: "ACME BANK".into(), creditor_classification: 8 });
    r
}

/// A clean paid collection account.
fn paid(acct: &str) -> DataRecord {
    let mut r = good(acct);
    let b = &mut r.base;
    b.account_status = "62".into();
    b.current_balance = 0;
    b.amount_past_due = 0;
    b.date_closed = Some(date(2026, 10, 20));
    b.date_last_payment = Some(date(2026, 10, 20));
    b.date_account_information = Some(date(2026, 10, 20));
    r
}

type Mutation = (&'static str, fn(&mut DataRecord));

/// One record per rule: each breaks exactly the rule named.
const CASES: &[Mutation] = &[
    ("required_field", |r| r.base.surname.clear()),
    ("base.correction_indicator", |r| r.base.correction_indicator = 2),
    ("base.identification_number", |r| r.base.identification_number = "99999".into()),
    ("base.portfolio_type", |r| r.base.portfolio_type = "Z".into()),
    ("base.account_type", |r| r.base.account_type = "ZZ".into()),
    ("base.terms_duration", |r| r.base.terms_duration = "X1".into()),
    ("base.terms_frequency", |r| r.base.terms_frequency = "Z".into()),
    ("base.account_status", |r| r.base.account_status = "XX".into()),
    ("base.payment_rating", |r| r.base.payment_rating = "1".into()),
    ("base.payment_history_profile", |r| {
        r.base.payment_history_profile = "BBBB0BBBBBBBBBBBBBBBBBBB".into()
    }),
    ("base.special_comment", |r| r.base.special_comment = "QQ".into()),
    ("base.compliance_condition_code", |r| r.base.compliance_condition_code = "QQ".into()),
    ("base.interest_type", |r| r.base.interest_type_indicator = "Q".into()),
    ("consumer.ecoa_code", |r| r.base.ecoa_code = "Q".into()),
    ("consumer.ecoa_obsolete", |r| r.base.ecoa_code = "4".into()),
    ("consumer.information_indicator", |r| r.base.consumer_information_indicator = "9Z".into()),
    ("consumer.generation_code", |r| r.base.generation_code = "Q".into()),
    ("consumer.ssn_or_dob", |r| r.base.social_security_number = SsnField(0)),
    ("consumer.authorized_user_dob", |r| r.base.ecoa_code = "3".into()),
    ("consumer.telephone", |r| r.base.telephone_number = 5550100),
    ("consumer.name_characters", |r| r.base.surname = "O'NEIL".into()),
    ("address.state", |r| r.base.state = "XX".into()),
    ("address.zip_code", |r| r.base.zip_code = "7870".into()),
    ("address.indicator", |r| r.base.address_indicator = "Q".into()),
    ("address.residence_code", |r| r.base.residence_code = "Q".into()),
    ("address.country_code", |r| r.base.country_code = "U1".into()),
    ("text.upper_case", |r| r.base.city = "Austin".into()),
    ("k1.creditor_classification", |r| r.k1.as_mut().unwrap().creditor_classification = 16),
    ("k2.purchased_indicator", |r| {
        r.k2 = Some(K2 {
            purchased_indicator: 9,
            purchased_name: "SELLER".into(),
            ..Default::default()
        })
    }),
    ("k3.agency_identifier", |r| r.k3 = Some(K3 { agency_identifier: 3, ..Default::default() })),
    ("k4.specialized_payment_indicator", |r| {
        r.k4 = Some(K4 { specialized_payment_indicator: 3, ..Default::default() })
    }),
    ("l1.change_indicator", |r| r.l1 = Some(L1 { change_indicator: 1, ..Default::default() })),
    ("account.number", |r| r.base.consumer_account_number = "A 1".into()),
    ("date.future", |r| r.base.date_opened = Some(date(2027, 1, 1))),
    ("date.order", |r| r.base.date_opened = Some(date(2026, 11, 5))),
    ("date.doai_after_activity", |r| r.base.date_account_information = Some(date(2026, 11, 10))),
    ("crrg.doai_current_period", |r| r.base.date_account_information = Some(date(2026, 8, 31))),
    ("cfpb.status_dofd_1", |r| r.base.date_first_delinquency = None),
    ("cfpb.status_dofd_2", |r| {
        r.base.account_status = "13".into();
        r.base.payment_rating = "G".into();
        r.base.date_first_delinquency = None;
    }),
    ("cfpb.status_dofd_4", |r| {
        r.base.account_status = "13".into();
        r.base.payment_rating = "0".into();
    }),
    ("cfpb.status_dofd_6", |r| r.base.account_status = "11".into()),
    ("cfpb.status_apd_1", |r| r.base.amount_past_due = 0),
    ("cfpb.status_apd_2", |r| r.base.account_status = "62".into()),
    ("cfpb.status_balance_1", |r| {
        r.base.account_status = "62".into();
        r.base.amount_past_due = 0;
    }),
    ("cfpb.status_balance_2", |r| r.base.current_balance = 0),
    ("cfpb.status_balance_9", |r| {
        r.base.account_status = "05".into();
        r.base.payment_rating = "0".into();
        r.base.current_balance = 0;
        r.base.amount_past_due = 0;
    }),
    ("cfpb.status_balance_10", |r| {
        r.base.account_status = "94".into();
    }),
    ("cfpb.status_chargeoff_1", |r| r.base.original_charge_off_amount = 900),
    ("cfpb.status_chargeoff_2", |r| r.base.account_status = "97".into()),
    ("cfpb.status_date_closed_1", |r| {
        r.base.account_status = "62".into();
        r.base.current_balance = 0;
        r.base.amount_past_due = 0;
    }),
    ("cfpb.status_date_closed_2", |r| r.base.date_closed = Some(date(2026, 10, 1))),
    ("cfpb.status_smpa_1", |r| {
        r.base.account_status = "97".into();
        r.base.scheduled_monthly_payment_amount = 50;
    }),
    ("cfpb.ccc_date_closed_1", |r| r.base.compliance_condition_code = "XA".into()),
    ("cfpb.type_credit_limit_1", |r| r.base.credit_limit = 500),
    ("cfpb.type_hcola_1", |r| r.base.highest_credit = 0),
    ("cfpb.scc_au_1", |r| r.base.special_comment = "AU".into()),
    ("cfpb.doai_payment_1", |r| {
        r.base.account_status = "62".into();
        r.base.current_balance = 0;
        r.base.amount_past_due = 0;
        r.base.date_closed = Some(date(2026, 10, 20));
        r.base.date_last_payment = Some(date(2026, 10, 20));
    }),
    ("cfpb.portfolio_type_1", |r| r.base.portfolio_type = "C".into()),
    ("crrg.terms_duration", |r| r.base.terms_duration = "REV".into()),
    ("crrg.smpa_open", |r| r.base.scheduled_monthly_payment_amount = 25),
    ("crrg.deferred_k4", |r| r.base.terms_frequency = "D".into()),
    ("collection.portfolio_type", |r| r.base.portfolio_type = "I".into()),
    ("collection.account_status", |r| r.base.account_status = "71".into()),
    ("collection.k1_required", |r| r.k1 = None),
    ("collection.k2_debt_buyer", |r| r.base.account_type = "0C".into()),
    ("collection.dofd_after_opened", |r| r.base.date_first_delinquency = Some(date(2026, 2, 1))),
    ("collection.obsolete", |r| r.base.date_first_delinquency = Some(date(2018, 1, 1))),
    ("collection.ccc_consumer_closed", |r| {
        r.base.compliance_condition_code = "XA".into();
        r.base.date_closed = Some(date(2026, 10, 1));
    }),
    ("account.duplicate", |r| r.base.consumer_account_number = "R0".into()),
];

/// Writes `records` exactly as given (no upper-casing), with a computed trailer.
fn write_file(wd: &Workdir, name: &str, records: &[DataRecord]) -> std::path::PathBuf {
    let opts = WriterOptions { text: TextMode::Preserve, ..Default::default() };
    let mut w = Writer::new(Vec::new(), &header(), opts).unwrap();
    for r in records {
        w.write(r).unwrap();
    }
    wd.write(name, w.finish().unwrap().1)
}

fn validate_json(wd: &Workdir, path: &std::path::Path) -> (Option<i32>, Value) {
    let o = wd
        .cmd()
        .args(["metro2", "validate", "--format", "json", "--as-of", "2026-11-20"])
        .arg(path)
        .output()
        .unwrap();
    let v = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(&o)));
    (o.status.code(), v)
}

#[test]
fn each_rule_has_a_record_that_breaks_it_and_is_seen() {
    let wd = Workdir::new();
    // Record 1: clean unpaid; record 2: clean paid; then one record per case.
    let mut records = vec![good("R0"), paid("P0")];
    for (i, (_, m)) in CASES.iter().enumerate() {
        let mut r = good(&format!("R{}", i + 1));
        m(&mut r);
        records.push(r);
    }
    let path = write_file(&wd, "rules.m2", &records);
    let (code, v) = validate_json(&wd, &path);
    assert_eq!(code, Some(1));
    let findings = v["findings"].as_array().unwrap();
    let at = |n: u64| -> Vec<&str> {
        findings
            .iter()
            .filter(|f| f["record"] == n && f["segment"] != "header" && f["segment"] != "trailer")
            .map(|f| f["rule"].as_str().unwrap())
            .collect()
    };
    assert_eq!(at(1), Vec::<&str>::new(), "the clean unpaid record has findings");
    assert_eq!(at(2), Vec::<&str>::new(), "the clean paid record has findings");
    for (i, (rule, _)) in CASES.iter().enumerate() {
        let got = at(i as u64 + 3);
        assert!(got.contains(rule), "record {} should break {rule}; got {got:?}", i + 3);
    }
    // Findings name the account and the field, never the SSN.
    let f = findings.iter().find(|f| f["rule"] == "consumer.telephone").unwrap();
    assert_eq!(f["field"], "telephone_number");
    assert_eq!(f["crrg"], "36");
    assert!(f["account"].as_str().unwrap().starts_with('R'));
    let text = serde_json::to_string(&v).unwrap();
    assert!(!text.contains("123456789"));
    // The summary counts findings by rule and records by status.
    assert_eq!(v["summary"]["records"], records.len() as u64);
    assert!(v["summary"]["by_rule"]["cfpb.status_dofd_1"].as_u64().unwrap() >= 1);
    assert_eq!(v["summary"]["records_clean"], 2);
}

#[test]
fn every_declared_rule_is_exercised_by_a_test() {
    let mut covered: BTreeSet<&str> = CASES.iter().map(|c| c.0).collect();
    // Structure and trailer rules are exercised by the file-level tests in this module.
    covered.extend([
        "structure.packed_format",
        "structure.not_metro2",
        "structure.rdw",
        "structure.bdw",
        "structure.segment",
        "structure.segment_order",
        "structure.record",
        "structure.trailer",
        "structure.field_format",
        "trailer.totals",
        "header.future_date",
        // Needs millions of accounts: a unit test in src/metro2/validate.rs lowers the limit.
        "account.duplicate_check_limited",
    ]);
    let missing: Vec<&str> = RULES.iter().map(|r| r.0).filter(|r| !covered.contains(r)).collect();
    assert!(missing.is_empty(), "rules without a test: {missing:?}");
}

#[test]
fn structural_problems_are_positioned_findings() {
    let wd = Workdir::new();
    let mut a = good("A1");
    a.j1.push(J1 {
        surname: "DOE".into(),
        first_name: "JOHN".into(),
        ecoa_code: "2".into(),
        social_security_number: SsnField(234567890),
        ..Default::default()
    });
    let path = write_file(&wd, "ok.m2", &[a, good("A2"), good("A3")]);
    let clean = std::fs::read(&path).unwrap();
    let (code, v) = validate_json(&wd, &path);
    assert_eq!(code, Some(0), "{v}");
    // Line offsets: header 427, record 1 = 560 + 1, record 2 = 460 + 1.
    let (r1, r2, r3) = (427, 427 + 561, 427 + 561 + 461);
    let mut bytes = clean.clone();
    bytes[r2 + 75..r2 + 83].copy_from_slice(b"13452019"); // record 2: date opened
    bytes[r1 + 426..r1 + 428].copy_from_slice(b"J9"); // record 1: unknown segment id
    bytes[r3 + 426..r3 + 428].copy_from_slice(b"N1"); // record 3: K1 -> truncated N1
    let t = bytes.len() - 427; // trailer: total base records 3 -> 4
    bytes[t + 19] = b'4';
    bytes[4] = b'h'; // header identifier is checked: now not a Metro 2 file
    let p = wd.write("broken.m2", &bytes);
    let (code, v) = validate_json(&wd, &p);
    assert_eq!(code, Some(1));
    assert_eq!(v["findings"][0]["rule"], "structure.not_metro2", "{v}");
    bytes[4] = b'H';
    let p = wd.write("broken.m2", &bytes);
    let (_, v) = validate_json(&wd, &p);
    let f = v["findings"].as_array().unwrap();
    let find = |rule: &str, rec: u64| {
        f.iter()
            .find(|x| x["rule"] == rule && x["record"] == rec)
            .unwrap_or_else(|| panic!("{rule} in {rec}: {v}"))
    };
    let x = find("structure.field_format", 2);
    assert_eq!(
        (x["field"].as_str(), x["crrg"].as_str(), x["offset"].as_u64()),
        (Some("date_opened"), Some("10"), Some(r2 as u64))
    );
    assert_eq!(x["account"], "A2");
    let x = find("structure.segment", 1);
    assert_eq!(x["offset"].as_u64(), Some(r1 as u64));
    find("structure.segment", 3);
    let x = find("trailer.totals", 4);
    assert_eq!(x["field"], "total_base_records");
    // The broken base record was read as a data record, not as the trailer.
    assert_eq!(v["summary"]["records"], 3);
    // Out-of-order and repeated segments, a data record after the trailer, no trailer.
    let mut b = good("B1");
    b.j2.push(J2 {
        surname: "ROE".into(),
        ecoa_code: "2".into(),
        first_line_address: "2 MAIN ST".into(),
        city: "AUSTIN".into(),
        state: "TX".into(),
        zip_code: "78701".into(),
        social_security_number: SsnField(345678901),
        ..Default::default()
    });
    let p = write_file(&wd, "order.m2", &[b]);
    let mut bytes = std::fs::read(&p).unwrap();
    let rec = 427;
    // Swap J2 (200 bytes at 426) and K1 (34 bytes at 626): K1 then J2.
    let j2: Vec<u8> = bytes[rec + 426..rec + 626].to_vec();
    let k1: Vec<u8> = bytes[rec + 626..rec + 660].to_vec();
    bytes.splice(rec + 426..rec + 660, k1.into_iter().chain(j2));
    let data_line: Vec<u8> = bytes[rec..rec + 661].to_vec();
    bytes.extend_from_slice(&data_line);
    let p = wd.write("order.m2", &bytes);
    let (_, v) = validate_json(&wd, &p);
    let rules: Vec<&str> =
        v["findings"].as_array().unwrap().iter().map(|f| f["rule"].as_str().unwrap()).collect();
    assert!(rules.contains(&"structure.segment_order"), "{rules:?}");
    assert!(rules.contains(&"structure.trailer"), "{rules:?}");
    // A header with a date in the future.
    let mut h = header();
    h.date_created = Some(date(2027, 1, 1));
    let mut w = Writer::new(Vec::new(), &h, WriterOptions::default()).unwrap();
    w.write(&good("H1")).unwrap();
    let p = wd.write("future.m2", w.finish().unwrap().1);
    let (_, v) = validate_json(&wd, &p);
    assert!(
        v["findings"].as_array().unwrap().iter().any(|f| f["rule"] == "header.future_date"),
        "{v}"
    );
    // Blocked file with a wrong block descriptor word.
    let opts = WriterOptions { blocked: true, ..Default::default() };
    let mut w = Writer::new(Vec::new(), &header(), opts).unwrap();
    w.write(&good("B2")).unwrap();
    let mut bytes = w.finish().unwrap().1;
    bytes[431..435].copy_from_slice(b"0999");
    let p = wd.write("bdw.m2", &bytes);
    let (_, v) = validate_json(&wd, &p);
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "structure.bdw" && f["record"] == 1),
        "{v}"
    );
}

#[test]
fn text_report_and_exit_codes() {
    let wd = Workdir::new();
    let p = write_file(&wd, "ok.m2", &[good("A1"), paid("A2")]);
    let o =
        wd.cmd().args(["metro2", "validate", "--as-of", "2026-11-20"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("2 data records: 2 clean"), "{out}");
    assert!(out.contains("records by status: 62: 1, 93: 1"), "{out}");
    // Warnings alone keep exit 0; an error gives 1.
    let mut w = good("A1");
    w.base.city = "Austin".into();
    let p = write_file(&wd, "warn.m2", &[w]);
    let o =
        wd.cmd().args(["metro2", "validate", "--as-of", "2026-11-20"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("warning [text.upper_case]"));
    let mut e = good("A1");
    e.base.date_first_delinquency = None;
    let p = write_file(&wd, "err.m2", &[e]);
    let o =
        wd.cmd().args(["metro2", "validate", "--as-of", "2026-11-20"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let line = String::from_utf8_lossy(&o.stdout).lines().next().unwrap().to_string();
    assert!(line.starts_with("err.m2: record 1 (byte 427), account A1, base.date_first_delinquency (CRRG 25): error [cfpb.status_dofd_1]"), "{line}");
    let o = wd.cmd().args(["metro2", "validate", "missing.m2"]).output().unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
}

#[test]
fn convert_normalizes_and_writes_a_csv_view() {
    let wd = Workdir::new();
    let mut r = good("A1");
    r.base.surname = "Müller".into();
    r.base.city = "austin".into();
    // JSON written by hand: lower case and a non-ASCII name, wrong RDW, no trailer.
    // `header` comes first (the conversion streams).
    let json = format!(
        r#"{{"header":{},"data":[{}]}}"#,
        serde_json::to_string(&header()).unwrap(),
        serde_json::to_string(&r).unwrap()
    );
    let jp = wd.write("in.json", json);
    let out = wd.join("out.m2");
    let o =
        wd.cmd().args(["metro2", "convert", "--normalize"]).arg(&jp).arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let bytes = std::fs::read(&out).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("MULLER") && text.contains("AUSTIN") && !text.contains("austin"));
    assert!(text.lines().last().unwrap().starts_with("0426TRAILER000000001"));
    // Without --normalize the non-ASCII name is an error naming the field, and nothing is written.
    let out2 = wd.join("out2.m2");
    let o = wd.cmd().args(["metro2", "convert"]).arg(&jp).arg(&out2).output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("surname"), "{}", show(&o));
    assert!(!out2.exists());
    // CSV view: one row per record, SSN masked.
    let csv = wd.join("view.csv");
    let o = wd.cmd().args(["metro2", "convert"]).arg(&out).arg(&csv).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let mut rdr = csv::Reader::from_path(&csv).unwrap();
    let headers = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    assert_eq!(&rows[0][col("base.socialSecurityNumber")], "***-**-6789");
    assert_eq!(&rows[0][col("base.surname")], "MULLER");
    assert_eq!(&rows[0][col("k1.originalCreditorName")], "ACME BANK");
    assert_eq!(&rows[0][col("base.dateOpened")], "2026-01-15");
}

/// Reads the JSON Lines report of `metro2 diff` into one object: the items of each type in
/// order (`changed`, `flags`, `added`, `removed`) and the `summary`. Fails unless the summary
/// is the last line and its counts match the items.
fn diff_json(stdout: &[u8]) -> Value {
    let lines: Vec<Value> = String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let of = |t: &str| -> Vec<Value> { lines.iter().filter(|l| l["type"] == t).cloned().collect() };
    let summary = lines.last().cloned().unwrap_or_default();
    assert_eq!(summary["type"], "summary", "{lines:?}");
    assert_eq!(of("summary").len(), 1);
    let added: Vec<Value> = of("added").iter().map(|a| a["account"].clone()).collect();
    let removed: Vec<Value> = of("removed").iter().map(|a| a["account"].clone()).collect();
    let (changed, flags) = (of("changed"), of("flag"));
    assert_eq!(summary["added"], added.len());
    assert_eq!(summary["removed"], removed.len());
    assert_eq!(summary["changed"], changed.len());
    assert_eq!(summary["flags"], flags.len());
    serde_json::json!({
        "changed": changed, "flags": flags, "added": added, "removed": removed, "summary": summary,
    })
}

#[test]
fn diff_reports_changes_and_flags() {
    let wd = Workdir::new();
    let mut moved = good("M1");
    moved.l1 = Some(L1 {
        change_indicator: 1,
        new_consumer_account_number: "M1NEW".into(),
        ..Default::default()
    });
    let mut n1 = good("N1");
    n1.n1 = Some(N1 { employer_name: "ACME".into(), ..Default::default() });
    let old = write_file(&wd, "old.m2", &[good("A1"), good("B1"), paid("C1"), moved, n1]);
    let mut a = good("A1");
    a.base.date_first_delinquency = Some(date(2025, 9, 1));
    a.base.current_balance = 1100;
    let mut c = paid("C1");
    c.base.account_status = "93".into();
    let new = write_file(&wd, "new.m2", &[a, c, good("M1NEW"), good("N1"), good("Z1")]);
    let o =
        wd.cmd().args(["metro2", "diff", "--format", "json"]).arg(&old).arg(&new).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v = diff_json(&o.stdout);
    let flags: Vec<(String, String)> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["kind"].as_str().unwrap().into(), f["account"].as_str().unwrap().into()))
        .collect();
    assert!(flags.contains(&("diff.reaged_dofd".into(), "A1".into())), "{flags:?}");
    assert!(flags.contains(&("diff.disappeared_without_da".into(), "B1".into())), "{flags:?}");
    assert!(flags.contains(&("diff.status_move".into(), "C1".into())), "{flags:?}");
    assert_eq!(v["added"], serde_json::json!(["Z1"]), "M1 -> M1NEW follows the L1 change");
    let a1 = v["changed"].as_array().unwrap().iter().find(|c| c["account"] == "A1").unwrap();
    let fields: Vec<&str> =
        a1["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["base.current_balance", "base.date_first_delinquency"]);
    let n1c = v["changed"].as_array().unwrap().iter().find(|c| c["account"] == "N1").unwrap();
    assert_eq!(n1c["changes"][0]["field"], "n1.employer_name");
    assert_eq!(n1c["changes"][0]["new"], "");
    // Text form, and identical files have nothing to say.
    let o = wd.cmd().args(["metro2", "diff"]).arg(&old).arg(&new).output().unwrap();
    assert!(String::from_utf8_lossy(&o.stdout).contains("FLAG diff.reaged_dofd account A1"));
    let o = wd.cmd().args(["metro2", "diff"]).arg(&new).arg(&new).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("5 -> 5 data records: 0 changed, 0 added, 0 removed, 0 flags")
    );
}

#[test]
fn diff_lists_removed_accounts_in_the_earlier_files_order() {
    let wd = Workdir::new();
    let old: Vec<DataRecord> = ["R9", "K1", "R1", "K2", "R5"].map(good).to_vec();
    let mut da = good("R1");
    da.base.account_status = "DA".into();
    let old = write_file(
        &wd,
        "old.m2",
        &[old[0].clone(), old[1].clone(), da, old[3].clone(), old[4].clone()],
    );
    let new = write_file(&wd, "new.m2", &[good("K2"), good("K1")]);
    let o =
        wd.cmd().args(["metro2", "diff", "--format", "json"]).arg(&old).arg(&new).output().unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let v = diff_json(&o.stdout);
    assert_eq!(v["removed"], serde_json::json!(["R9", "R1", "R5"]));
    // R1 was deleted (DA) before it went: no flag for it.
    let flagged: Vec<&str> =
        v["flags"].as_array().unwrap().iter().map(|f| f["account"].as_str().unwrap()).collect();
    assert_eq!(flagged, ["R9", "R5"]);
    assert_eq!(v["summary"]["old_records"], 5);
    assert_eq!(v["summary"]["new_records"], 2);
    // In the text form too, removed accounts come last, in the earlier file's order.
    let o = wd.cmd().args(["metro2", "diff"]).arg(&old).arg(&new).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    let removed: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("removed account ")).collect();
    assert_eq!(removed, ["R9", "R1", "R5"], "{text}");
}

#[test]
fn diff_follows_an_identification_number_and_account_number_change() {
    let wd = Workdir::new();
    let mut moved = good("OLD7");
    moved.l1 = Some(L1 {
        change_indicator: 3,
        new_consumer_account_number: "NEW7".into(),
        new_identification_number: "AGENCY02".into(),
        ..Default::default()
    });
    let old = write_file(&wd, "old.m2", &[moved, good("B2")]);
    let mut now = good("NEW7");
    now.base.identification_number = "AGENCY02".into();
    now.base.current_balance = 900;
    let new = write_file(&wd, "new.m2", &[now, good("B2")]);
    let o =
        wd.cmd().args(["metro2", "diff", "--format", "json"]).arg(&old).arg(&new).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let v = diff_json(&o.stdout);
    assert_eq!(v["added"], serde_json::json!([]), "{v}");
    assert_eq!(v["removed"], serde_json::json!([]), "{v}");
    let c = &v["changed"][0];
    assert_eq!(c["account"], "NEW7");
    let fields: Vec<&str> =
        c["changes"].as_array().unwrap().iter().map(|c| c["field"].as_str().unwrap()).collect();
    assert!(fields.contains(&"base.current_balance"), "{fields:?}");
    assert!(fields.contains(&"base.identification_number"), "{fields:?}");
    // Without the L1 the accounts do not join.
    let old = write_file(&wd, "old2.m2", &[good("OLD7"), good("B2")]);
    let o =
        wd.cmd().args(["metro2", "diff", "--format", "json"]).arg(&old).arg(&new).output().unwrap();
    let v = diff_json(&o.stdout);
    assert_eq!(v["added"], serde_json::json!(["NEW7"]));
    assert_eq!(v["removed"], serde_json::json!(["OLD7"]));
}

/// Two cycles with changes, additions, removals and flags.
fn diff_pair(wd: &Workdir) -> (std::path::PathBuf, std::path::PathBuf) {
    let olds: Vec<DataRecord> = (0..40).map(|i| good(&format!("A{i:03}"))).collect();
    let news: Vec<DataRecord> = (5..45)
        .map(|i| {
            let mut r = good(&format!("A{i:03}"));
            if i % 3 == 0 {
                r.base.current_balance = 1000 + i;
            }
            if i % 7 == 0 {
                r.base.date_first_delinquency = Some(date(2025, 8, 1));
            }
            r
        })
        .collect();
    (write_file(wd, "old.m2", &olds), write_file(wd, "new.m2", &news))
}

#[test]
fn diff_output_is_byte_identical_across_runs() {
    let wd = Workdir::new();
    let (old, new) = diff_pair(&wd);
    for format in ["text", "json"] {
        let run = || {
            let o = wd
                .cmd()
                .args(["metro2", "diff", "--format", format])
                .arg(&old)
                .arg(&new)
                .output()
                .unwrap();
            assert_eq!(o.status.code(), Some(1), "{}", show(&o));
            o.stdout
        };
        let (a, b) = (run(), run());
        assert!(a.len() > 1000, "{}", String::from_utf8_lossy(&a));
        assert_eq!(a, b, "{format}");
    }
}

#[test]
fn diff_leaves_no_temporary_files_behind() {
    let wd = Workdir::new();
    let (old, new) = diff_pair(&wd);
    let tmp = wd.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let entries = || std::fs::read_dir(&tmp).unwrap().count();
    let o = wd.cmd().env("TMPDIR", &tmp).args(["metro2", "diff"]).arg(&old).arg(&new).output();
    let o = o.unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert_eq!(entries(), 0);
    // Also when the comparison fails half-way (the later file is not Metro 2).
    let junk = wd.write("junk.m2", "not a metro 2 file\n");
    let o = wd.cmd().env("TMPDIR", &tmp).args(["metro2", "diff"]).arg(&old).arg(&junk).output();
    let o = o.unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", show(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("the later file"), "{}", show(&o));
    assert_eq!(entries(), 0);
    // Killed half-way (its report blocks on a full pipe), it leaves nothing either: whatever
    // the store keeps in TMPDIR is deleted as it is opened.
    let olds: Vec<DataRecord> = (0..3000).map(|i| good(&format!("K{i:04}"))).collect();
    let news: Vec<DataRecord> = (0..3000)
        .map(|i| {
            let mut r = good(&format!("K{i:04}"));
            r.base.current_balance = 1000 + i;
            r
        })
        .collect();
    let (old, new) = (write_file(&wd, "big-old.m2", &olds), write_file(&wd, "big-new.m2", &news));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_skiptrace"))
        .current_dir(wd.path())
        .env("TMPDIR", &tmp)
        .env_remove("SQLITE_TMPDIR")
        .args(["--no-progress", "metro2", "diff"])
        .arg(&old)
        .arg(&new)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut first).unwrap();
    assert!(first.contains("K0000"), "{first}");
    let open_in_tmp: Vec<String> = std::fs::read_dir(format!("/proc/{}/fd", child.id()))
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|l| l.display().to_string())
        .filter(|l| l.starts_with(&tmp.display().to_string()))
        .collect();
    // (A small store stays in SQLite's page cache and has no file at all.)
    assert!(open_in_tmp.iter().all(|l| l.ends_with(" (deleted)")), "{open_in_tmp:?}");
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(entries(), 0);
}

#[test]
fn diff_counts_garbled_records_as_read_findings() {
    let wd = Workdir::new();
    let (old, new) = diff_pair(&wd);
    let mut bytes = std::fs::read(&new).unwrap();
    // Garble the third data record: letters in its balance, an impossible date, a bad RDW.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(bytes.iter().enumerate().filter(|b| *b.1 == b'\n').map(|(i, _)| i + 1))
        .collect();
    let third = starts[3];
    bytes[third + 154..third + 163].copy_from_slice(b"12X4Z6789");
    bytes[third + 181..third + 189].copy_from_slice(b"20261399");
    bytes[third..third + 4].copy_from_slice(b"04X0");
    let bad = wd.write("bad.m2", &bytes);
    for format in ["json", "text"] {
        let o = wd
            .cmd()
            .args(["metro2", "diff", "--format", format])
            .arg(&old)
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(1), "{}", show(&o));
        assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"), "{}", show(&o));
        if format == "json" {
            let v = diff_json(&o.stdout);
            assert!(v["summary"]["read_findings"].as_u64().unwrap() > 0, "{v}");
            assert_eq!(v["summary"]["new_records"], 40, "{v}");
        } else {
            let text = String::from_utf8_lossy(&o.stdout);
            assert!(text.contains("structural findings while reading"), "{text}");
        }
    }
    // Random bytes after a valid header: findings or a clean error, never a panic.
    let mut noise = std::fs::read(&old).unwrap();
    noise.truncate(427);
    let mut x: u32 = 12345;
    for _ in 0..5000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        noise.push((x >> 16) as u8);
    }
    let noisy = wd.write("noise.m2", &noise);
    let o = wd.cmd().args(["metro2", "diff"]).arg(&old).arg(&noisy).output().unwrap();
    assert!(matches!(o.status.code(), Some(0 | 1 | 6)), "{}", show(&o));
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"), "{}", show(&o));
}
