//! Matching engine and synthetic generator: FEBRL4 and skip-trace simulation quality floors
//! (no labels used by the model), household decoys, explanations, configured m/u, and the
//! generator's files.

use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;

use jiff::civil::Date;
use skiptrace::locate::matcher::{Decision, FieldMu, MatchConfig, Matcher};
use skiptrace::locate::record::{
    AddressHit, Debtor, LocateRecord, PersonName, PhoneHit, PostalAddress, SsnEvidence,
};
use skiptrace::pii::Ssn;
use skiptrace::synth::{self, SynthConfig};

use crate::util::{Workdir, shared};

fn febrl(path: &str) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_path(shared(path)).expect("FEBRL file");
    let headers = rdr.headers().unwrap().clone();
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.trim().to_string()))
                .collect()
        })
        .collect()
}

fn febrl_dob(s: &str) -> Option<Date> {
    if s.len() != 8 {
        return None;
    }
    let y = s.get(0..4)?.parse().ok()?;
    let m = s.get(4..6)?.parse().ok()?;
    let d = s.get(6..8)?.parse().ok()?;
    Date::new(y, m, d).ok()
}

/// FEBRL's 7-digit soc_sec_id becomes a 9-digit SSN with a fixed area prefix.
fn febrl_ssn(s: &str) -> Option<Ssn> {
    if s.len() != 7 {
        return None;
    }
    Ssn::parse(&format!("12{s}")).ok()
}

fn febrl_name(r: &HashMap<String, String>) -> PersonName {
    PersonName {
        first: r["given_name"].clone(),
        middle: String::new(),
        last: r["surname"].clone(),
        suffix: String::new(),
    }
}

fn febrl_address(r: &HashMap<String, String>) -> PostalAddress {
    PostalAddress {
        line1: format!("{} {}", r["street_number"], r["address_1"]).trim().to_string(),
        line2: r["address_2"].clone(),
        city: r["suburb"].clone(),
        state: r["state"].clone(),
        zip: r["postcode"].clone(),
    }
}

#[test]
fn febrl4_precision_and_recall_floors() {
    let a = febrl("external/linkage/febrl4a.csv");
    let b = febrl("external/linkage/febrl4b.csv");
    let debtors: Vec<Debtor> = a
        .iter()
        .enumerate()
        .map(|(i, r)| Debtor {
            consumer_id: i as i64,
            name: febrl_name(r),
            ssn: febrl_ssn(&r["soc_sec_id"]),
            dob: febrl_dob(&r["date_of_birth"]),
            addresses: vec![febrl_address(r)],
            ..Debtor::default()
        })
        .collect();
    let records: Vec<LocateRecord> = b
        .iter()
        .map(|r| LocateRecord {
            source: "febrl4b".into(),
            source_record_id: r["rec_id"].clone(),
            name: febrl_name(r),
            ssn: febrl_ssn(&r["soc_sec_id"]).map_or(SsnEvidence::Missing, SsnEvidence::Full),
            dob: febrl_dob(&r["date_of_birth"]),
            addresses: vec![AddressHit {
                address: febrl_address(r),
                first_seen: None,
                last_seen: None,
            }],
            ..LocateRecord::default()
        })
        .collect();
    let a_index: HashMap<&str, usize> =
        a.iter().enumerate().map(|(i, r)| (r["rec_id"].as_str(), i)).collect();
    let b_index: HashMap<&str, usize> =
        b.iter().enumerate().map(|(i, r)| (r["rec_id"].as_str(), i)).collect();
    let mut truth = vec![None; records.len()];
    for link in febrl("external/linkage/febrl4_true_links.csv") {
        truth[b_index[link["rec_id_b"].as_str()]] = Some(a_index[link["rec_id_a"].as_str()]);
    }
    let matcher = Matcher::new(&MatchConfig::default());
    let result = matcher.link(&debtors, &records);
    let q = synth::evaluate(&truth, result.pairs.iter().map(|p| (p.debtor, p.record)));
    let blocking = synth::evaluate(&truth, matcher.candidate_pairs(&debtors, &records));
    eprintln!("FEBRL4: {q:?}, blocking recall {}, {:?}", blocking.recall, result.stats);
    if std::env::var_os("FEBRL_DEBUG").is_some() {
        let all = Matcher::new(&MatchConfig { review_weight: -1000.0, ..MatchConfig::default() })
            .link(&debtors, &records);
        let got: std::collections::HashSet<(usize, usize)> =
            result.pairs.iter().map(|p| (p.debtor, p.record)).collect();
        for p in all
            .pairs
            .iter()
            .filter(|p| truth[p.record] == Some(p.debtor) && !got.contains(&(p.debtor, p.record)))
            .take(15)
        {
            let l: Vec<String> = p
                .explanation
                .fields
                .iter()
                .map(|f| format!("{}={}({:+.1})", f.field, f.level, f.weight))
                .collect();
            eprintln!("FN w={:.1} {}", p.weight, l.join(" "));
        }
        for (r, t) in truth
            .iter()
            .enumerate()
            .filter(|(r, t)| t.is_some() && !all.pairs.iter().any(|p| p.record == *r))
            .take(5)
        {
            eprintln!("unblocked: {:?} / {:?}", a[t.unwrap()], b[r]);
        }
    }
    assert_eq!(q.true_pairs, 5000);
    assert!(q.precision >= 0.995, "precision {}", q.precision);
    assert!(q.recall >= 0.995, "recall {}", q.recall);
}

#[test]
fn skip_trace_simulation_floors() {
    let data = synth::generate(&SynthConfig::new(5000, 11));
    let matcher = Matcher::new(&MatchConfig::default());
    let result = matcher.link(&data.debtors, &data.records);
    let q = synth::evaluate(&data.truth, result.pairs.iter().map(|p| (p.debtor, p.record)));
    let blocking =
        synth::evaluate(&data.truth, matcher.candidate_pairs(&data.debtors, &data.records));
    eprintln!("simulation 5k: {q:?}; blocking recall {}; {:?}", blocking.recall, result.stats);
    assert_eq!(q.true_pairs, 2500);
    assert!(blocking.recall >= 0.98, "blocking recall {}", blocking.recall);
    assert!(q.precision >= 0.985, "precision {}", q.precision);
    assert!(q.recall >= 0.96, "recall {}", q.recall);
    assert!(q.f1 >= 0.975, "F1 {}", q.f1);
    // Household decoys must not be what the model links.
    let decoys = result
        .pairs
        .iter()
        .filter(|p| matches!(data.kinds[p.record], synth::Kind::Relative | synth::Kind::Namesake))
        .count();
    assert!(decoys * 100 < result.pairs.len(), "{decoys} decoys linked of {}", result.pairs.len());
}

fn addr(line1: &str, zip: &str) -> PostalAddress {
    PostalAddress {
        line1: line1.into(),
        line2: String::new(),
        city: "SPRINGFIELD".into(),
        state: "IL".into(),
        zip: zip.into(),
    }
}

fn hit(a: PostalAddress) -> AddressHit {
    AddressHit { address: a, first_seen: None, last_seen: None }
}

fn phone(n: &str) -> PhoneHit {
    PhoneHit {
        number: n.into(),
        line_type: None,
        vendor_score: None,
        first_seen: None,
        last_seen: None,
    }
}

/// A background population so that the model has data to learn from.
fn background() -> (Vec<Debtor>, Vec<LocateRecord>) {
    let data = synth::generate(&SynthConfig::new(2000, 5));
    (data.debtors, data.records)
}

#[test]
fn echoed_reference_links_a_name_only_mover_but_not_a_relative_at_the_old_address() {
    let (mut debtors, mut records) = background();
    let d = debtors.len();
    debtors.push(Debtor {
        consumer_id: 999_002,
        account_numbers: vec!["ZZ-2".into()],
        name: PersonName {
            first: "Winifred".into(),
            middle: String::new(),
            last: "Brackenholt".into(),
            suffix: String::new(),
        },
        ssn: Some(Ssn::parse("523-41-7780").unwrap()),
        dob: Some(jiff::civil::date(1964, 11, 23)),
        addresses: vec![addr("7 Orchard Lane", "62704")],
        phones: vec!["2175550177".into()],
        ..Debtor::default()
    });
    // Moved far away with a new phone; the source gives neither SSN nor DOB, only the name
    // and our account number echoed back.
    let mover = |reference: Option<&str>, id: &str| LocateRecord {
        source: "vendor".into(),
        source_record_id: id.into(),
        reference: reference.map(Into::into),
        name: PersonName {
            first: "Winifred".into(),
            middle: String::new(),
            last: "Brackenholt".into(),
            suffix: String::new(),
        },
        ssn: SsnEvidence::Missing,
        dob: None,
        addresses: vec![hit(addr("450 Harbor Road", "98101"))],
        phones: vec![phone("2065550123")],
        ..LocateRecord::default()
    };
    let echoed = records.len();
    records.push(mover(Some("ZZ-2"), "T-ECHOED"));
    // A relative at the old address, returned for the same account.
    let relative = records.len();
    records.push(LocateRecord {
        source: "vendor".into(),
        source_record_id: "T-RELATIVE".into(),
        reference: Some("ZZ-2".into()),
        name: PersonName {
            first: "Cornelius".into(),
            middle: String::new(),
            last: "Brackenholt".into(),
            suffix: String::new(),
        },
        ssn: SsnEvidence::Missing,
        dob: None,
        addresses: vec![hit(addr("7 Orchard Ln", "62704"))],
        phones: vec![phone("2175550177")],
        ..LocateRecord::default()
    });
    let result = Matcher::new(&MatchConfig::default()).link(&debtors, &records);
    let find = |r: usize| result.pairs.iter().find(|p| p.debtor == d && p.record == r);
    let m = find(echoed).expect("the mover with the echoed reference is linked");
    let level = |f: &str| m.explanation.fields.iter().find(|x| x.field == f).unwrap().level.clone();
    assert_eq!(level("locator"), "reference_disagree");
    assert_eq!(level("ssn"), "missing");
    assert_eq!(level("dob"), "missing");
    assert!(find(relative).is_none(), "relative at the old address linked: {:?}", find(relative));
    let relative_level =
        Matcher::new(&MatchConfig { review_weight: -1000.0, ..MatchConfig::default() })
            .link(&debtors, &records)
            .pairs
            .into_iter()
            .find(|p| p.debtor == d && p.record == relative)
            .and_then(|p| p.explanation.fields.into_iter().find(|f| f.field == "locator"))
            .map(|f| f.level);
    assert_eq!(relative_level.as_deref(), Some("reference_address_phone"));
}

#[test]
fn an_echoed_reference_with_another_surname_is_never_accepted_automatically() {
    let (mut debtors, mut records) = background();
    let d = debtors.len();
    let person = |first: &str, last: &str| PersonName {
        first: first.into(),
        middle: String::new(),
        last: last.into(),
        suffix: String::new(),
    };
    debtors.push(Debtor {
        consumer_id: 999_003,
        account_numbers: vec!["ZZ-3".into()],
        name: person("Winifred", "Brackenholt"),
        ssn: Some(Ssn::parse("523-41-7781").unwrap()),
        dob: Some(jiff::civil::date(1964, 11, 23)),
        addresses: vec![addr("7 Orchard Lane", "62704")],
        phones: vec!["2175550177".into()],
        ..Debtor::default()
    });
    // The vendor returned, for our look-up of account ZZ-3, someone with the same given name
    // and another surname, elsewhere, with neither SSN nor DOB: an associate as often as a
    // married name.
    let other = |id: &str, last: &str| LocateRecord {
        source: "vendor".into(),
        source_record_id: id.into(),
        reference: Some("ZZ-3".into()),
        name: person("Winifred", last),
        ssn: SsnEvidence::Missing,
        dob: None,
        addresses: vec![hit(addr("12 Quarry Road", "98101"))],
        phones: vec![phone("2065550144")],
        ..LocateRecord::default()
    };
    let stranger = records.len();
    records.push(other("T-OTHER", "Quillfeather"));
    let same = records.len();
    records.push(other("T-SAME", "Brackenholt"));
    let all = MatchConfig { review_weight: -1000.0, ..MatchConfig::default() };
    let result = Matcher::new(&all).link(&debtors, &records);
    let pair = |r: usize| result.pairs.iter().find(|p| p.debtor == d && p.record == r).unwrap();
    let locator = |r: usize| {
        pair(r).explanation.fields.iter().find(|f| f.field == "locator").unwrap().clone()
    };
    assert_eq!(locator(stranger).level, "reference_disagree");
    assert_eq!(locator(same).level, "reference_disagree");
    // A different surname never makes the echoed reference weigh more than in a household.
    assert!(
        locator(stranger).weight <= locator(same).weight,
        "{:?} > {:?}",
        locator(stranger),
        locator(same)
    );
    assert_ne!(pair(stranger).decision, Decision::Accept, "{:?}", pair(stranger));
    if pair(stranger).weight >= MatchConfig::default().accept_weight {
        assert!(pair(stranger).explanation.decision_note.is_some());
    }
    // The same record with the surname agreeing may be accepted: the rule is about identity.
    let weight_alone = Matcher::new(&MatchConfig::default()).decide(pair(stranger).weight);
    let relaxed = MatchConfig { accept_requires_identity: false, ..all };
    let relaxed = Matcher::new(&relaxed).link(&debtors, &records);
    let relaxed = relaxed.pairs.iter().find(|p| p.debtor == d && p.record == stranger).unwrap();
    assert_eq!(relaxed.decision, weight_alone);
}

#[test]
fn mover_with_nickname_links_and_spouse_at_old_address_does_not() {
    let (mut debtors, mut records) = background();
    let d = debtors.len();
    debtors.push(Debtor {
        consumer_id: 999_001,
        account_numbers: vec!["ZZ-1".into()],
        name: PersonName {
            first: "Robert".into(),
            middle: "Q".into(),
            last: "Quillfeather".into(),
            suffix: String::new(),
        },
        ssn: Some(Ssn::parse("512-33-9051").unwrap()),
        dob: Some(jiff::civil::date(1971, 4, 9)),
        addresses: vec![addr("12 North Elm Street", "62704")],
        phones: vec!["2175550142".into()],
        ..Debtor::default()
    });
    let mover = records.len();
    records.push(LocateRecord {
        source: "vendor".into(),
        source_record_id: "T-MOVER".into(),
        name: PersonName {
            first: "Bob".into(),
            middle: String::new(),
            last: "Quillfeather".into(),
            suffix: String::new(),
        },
        ssn: SsnEvidence::Missing,
        dob: Some(jiff::civil::date(1971, 9, 4)),
        addresses: vec![hit(addr("88 Lakeview Blvd Apt 3", "30301"))],
        phones: vec![phone("4045550199")],
        ..LocateRecord::default()
    });
    let spouse = records.len();
    records.push(LocateRecord {
        source: "vendor".into(),
        source_record_id: "T-SPOUSE".into(),
        name: PersonName {
            first: "Margaret".into(),
            middle: String::new(),
            last: "Quillfeather".into(),
            suffix: String::new(),
        },
        ssn: SsnEvidence::Missing,
        dob: Some(jiff::civil::date(1973, 2, 17)),
        addresses: vec![hit(addr("12 N Elm St", "62704"))],
        phones: vec![phone("(217) 555-0142")],
        ..LocateRecord::default()
    });
    let junior = records.len();
    records.push(LocateRecord {
        source: "vendor".into(),
        source_record_id: "T-JUNIOR".into(),
        name: PersonName {
            first: "Robert".into(),
            middle: "Q".into(),
            last: "Quillfeather".into(),
            suffix: "Jr".into(),
        },
        ssn: SsnEvidence::Missing,
        dob: Some(jiff::civil::date(1996, 1, 30)),
        addresses: vec![hit(addr("12 N. Elm St.", "62704"))],
        phones: vec![phone("2175550142")],
        ..LocateRecord::default()
    });
    let result = Matcher::new(&MatchConfig::default()).link(&debtors, &records);
    let find = |r: usize| result.pairs.iter().find(|p| p.debtor == d && p.record == r);
    let m = find(mover).expect("the mover is linked");
    assert_ne!(m.decision, Decision::Reject);
    let level = |f: &str| m.explanation.fields.iter().find(|x| x.field == f).unwrap().level.clone();
    assert_eq!(level("first_name"), "nickname");
    assert_eq!(level("dob"), "day_month_swapped");
    assert_eq!(level("ssn"), "missing");
    assert!(find(spouse).is_none(), "spouse at the old address linked: {:?}", find(spouse));
    assert!(find(junior).is_none(), "Jr at the old address linked: {:?}", find(junior));
}

#[test]
fn every_pair_is_explained_and_weights_add_up() {
    let data = synth::generate(&SynthConfig::new(1500, 3));
    let config = MatchConfig::default();
    let result = Matcher::new(&config).link(&data.debtors, &data.records);
    assert!(result.stats.scored_pairs > 500, "{:?}", result.stats);
    assert_eq!(result.stats.scored_pairs as usize, result.pairs.len());
    assert!(result.stats.candidate_pairs >= result.stats.scored_pairs);
    assert_eq!(result.stats.pairs_by_rule.values().sum::<u64>(), result.stats.candidate_pairs);
    let mut last = (0, 0);
    for p in &result.pairs {
        assert!((p.debtor, p.record) > last || last == (0, 0), "pairs sorted by (debtor, record)");
        last = (p.debtor, p.record);
        assert_eq!(p.explanation.fields.len(), 7);
        let sum: f64 =
            p.explanation.prior_weight + p.explanation.fields.iter().map(|f| f.weight).sum::<f64>();
        assert!((sum - p.weight).abs() < 0.01, "weight {} vs explained {sum}", p.weight);
        assert!(p.weight >= config.review_weight);
        // Accepted only above the accept weight; above it without identity evidence, review
        // with the reason given.
        if p.decision == Decision::Accept {
            assert!(p.weight >= config.accept_weight);
            assert!(p.explanation.decision_note.is_none());
        } else if p.weight >= config.accept_weight {
            assert_eq!(p.decision, Decision::Review);
            let level = |f: &str| {
                p.explanation.fields.iter().find(|x| x.field == f).unwrap().level.as_str()
            };
            assert!(!matches!(level("ssn"), "exact" | "dl1" | "last4"), "{p:?}");
            assert!(!matches!(level("dob"), "exact" | "day_month_swapped" | "dl1"), "{p:?}");
            assert!(!matches!(level("surname"), "exact" | "jw_0.92"), "{p:?}");
            assert!(p.explanation.decision_note.as_deref().unwrap().starts_with("review:"));
        }
        for f in &p.explanation.fields {
            if f.level == "missing" || f.level == "none" {
                assert_eq!(f.weight, 0.0, "missing values are neutral");
            }
        }
    }
    // Deterministic: the same input gives the same result.
    let again = Matcher::new(&config).link(&data.debtors, &data.records);
    assert_eq!(again.pairs, result.pairs);
}

#[test]
fn configured_m_and_u_are_used_and_checked() {
    let data = synth::generate(&SynthConfig::new(800, 9));
    let mut config = MatchConfig::default();
    config.m_u.insert("ssn".into(), FieldMu { m: Some(vec![0.5, 0.2, 0.2, 0.1]), u: None });
    assert!(config.validate().is_ok());
    let (_, model) = Matcher::new(&config).link_with_model(&data.debtors, &data.records);
    let ssn = &model.fields[0];
    assert_eq!(ssn.m_source, "config");
    assert_eq!(ssn.m[1], 0.5);
    let mut bad = MatchConfig::default();
    bad.m_u.insert("ssn".into(), FieldMu { m: Some(vec![0.5]), u: None });
    let err = bad.validate().unwrap_err();
    assert!(err.contains("locate.matching.m_u.ssn.m") && err.contains("4 expected"), "{err}");
    bad.m_u.clear();
    bad.m_u.insert("shoe_size".into(), FieldMu { m: None, u: None });
    assert!(bad.validate().unwrap_err().contains("unknown field"));
    // An invalid entry is ignored, not fatal: the model is estimated instead.
    let (_, model) = Matcher::new(&bad).link_with_model(&data.debtors, &data.records);
    assert_ne!(model.fields[0].m_source, "config");
    let parsed: MatchConfig = toml::from_str(
        "accept_weight = 12.0\n[m_u.dob]\nu = [0.001, 0.0005, 0.002, 0.002, 0.01, 0.9, 0.0845]\n",
    )
    .unwrap();
    assert_eq!(parsed.accept_weight, 12.0);
    assert!(parsed.validate().is_ok());
}

#[test]
fn empty_inputs_link_to_nothing() {
    let m = Matcher::new(&MatchConfig::default());
    let data = synth::generate(&SynthConfig::new(50, 1));
    assert!(m.link(&[], &data.records).pairs.is_empty());
    assert!(m.link(&data.debtors, &[]).pairs.is_empty());
}

#[test]
fn generator_writes_every_layout_deterministically() {
    let w1 = Workdir::new();
    let w2 = Workdir::new();
    let mut config = SynthConfig::new(400, 21);
    config.ncoa_share = 0.2;
    let data = synth::generate(&config);
    let out = synth::write::write(&data, w1.path()).unwrap();
    synth::write::write(&synth::generate(&config), w2.path()).unwrap();
    let files = [
        "portfolio.csv",
        "portfolio-BUYER01.csv",
        "payments.csv",
        "contact_events.csv",
        "ncoa.csv",
        "vendor.csv",
        "vendor.xml",
        "truth.csv",
    ];
    for f in files {
        let a = std::fs::read(w1.join(f)).unwrap();
        assert_eq!(a, std::fs::read(w2.join(f)).unwrap(), "{f} differs between runs");
        let mode = std::fs::metadata(w1.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    // Every documented portfolio column is present.
    let readme = std::fs::read_to_string(crate::util::repo("formats/README.md")).unwrap();
    let header = std::fs::read_to_string(w1.join("portfolio.csv")).unwrap();
    let header: Vec<&str> = header.lines().next().unwrap().split(',').collect();
    let section = readme.split("### Portfolio").nth(1).unwrap().split("###").next().unwrap();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cell = line.split('|').nth(1).unwrap();
        for col in cell.split('`').skip(1).step_by(2) {
            assert!(header.contains(&col), "portfolio column {col} missing");
        }
    }
    assert_eq!(out.portfolio_rows.iter().map(|r| r.1).sum::<usize>(), 400);
    assert!(
        out.portfolio_rows.iter().all(|r| r.1 > 100),
        "two clients' worth: {:?}",
        out.portfolio_rows
    );
    assert_eq!(out.ncoa + out.vendor_csv + out.vendor_xml, data.records.len());
    assert!(out.ncoa > 40 && out.vendor_xml > 100 && out.vendor_csv > 100, "{out:?}");
    assert!(
        std::fs::read_to_string(w1.join("portfolio.csv"))
            .unwrap()
            .lines()
            .any(|l| l.ends_with(",2")),
        "associated consumers (ECOA 2)"
    );
    // Truth: one row per record; true links name an account of the portfolio.
    let truth = synth::write::read_truth(&w1.join("truth.csv")).unwrap();
    assert_eq!(truth.len(), data.records.len());
    assert_eq!(truth.iter().filter(|t| !t.2.is_empty()).count(), 200);
    let portfolios = std::fs::read_to_string(w1.join("portfolio.csv")).unwrap()
        + &std::fs::read_to_string(w1.join("portfolio-BUYER01.csv")).unwrap();
    for (_, id, acct) in truth.iter().filter(|t| !t.2.is_empty()).take(20) {
        assert!(portfolios.contains(&format!("\n{acct},")), "{id} → {acct}");
    }
    // The XML is well formed and holds every vendor_xml record.
    let xml = std::fs::read_to_string(w1.join("vendor.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut subjects = 0;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == "Subject" => subjects += 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(subjects, out.vendor_xml);
    let ncoa = std::fs::read_to_string(w1.join("ncoa.csv")).unwrap();
    assert!(ncoa.starts_with(
        "record_id,input_reference,first_name,middle_name,last_name,suffix,old_address1"
    ));
}

/// A nightly batch can be tiny: one debtor and the vendor's one record for them. Estimating
/// u from a single pair made an exact SSN worth almost nothing; u is now shrunk toward
/// population priors, so the pair is auto-accepted, and a stranger sharing only the surname
/// is not linked.
#[test]
fn a_one_debtor_batch_scores_with_sane_weights() {
    let old = addr("12 OAK ST", "78701");
    let debtor = Debtor {
        consumer_id: 1,
        account_ids: vec![1],
        account_numbers: vec!["A-1".into()],
        name: PersonName { first: "JOHN".into(), last: "SMITH".into(), ..Default::default() },
        ssn: Ssn::parse("123-45-6789").ok(),
        dob: Date::new(1980, 3, 7).ok(),
        addresses: vec![old],
        phones: vec!["5125550100".into()],
    };
    let same = LocateRecord {
        source: "v".into(),
        source_record_id: "V1".into(),
        name: debtor.name.clone(),
        ssn: SsnEvidence::Full(Ssn::parse("123456789").unwrap()),
        dob: debtor.dob,
        addresses: vec![hit(addr("9 ELM ST", "77002"))],
        phones: vec![phone("7135550199")],
        ..Default::default()
    };
    let stranger = LocateRecord {
        source_record_id: "V2".into(),
        name: PersonName { first: "MARIA".into(), last: "SMITH".into(), ..Default::default() },
        ssn: SsnEvidence::Full(Ssn::parse("234567890").unwrap()),
        dob: Date::new(1961, 11, 2).ok(),
        ..same.clone()
    };
    let m = Matcher::new(&MatchConfig::default());
    let out = m.link(std::slice::from_ref(&debtor), &[same, stranger]);
    let decisions: Vec<(usize, Decision)> =
        out.pairs.iter().map(|p| (p.record, p.decision)).collect();
    assert_eq!(decisions, vec![(0, Decision::Accept)], "{:#?}", out.pairs);
    let ssn = out.pairs[0].explanation.fields.iter().find(|f| f.field == "ssn").unwrap();
    assert!(ssn.weight > 10.0, "exact SSN weight {}", ssn.weight);
}
