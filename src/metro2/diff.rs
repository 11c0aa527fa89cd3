//! Cycle-to-cycle comparison of two Metro 2 files from the same furnisher.
//!
//! Accounts are joined on (identification number, consumer account number), following an L1
//! change reported in the earlier file. For each account present in both, the fields that
//! changed (SSN and date of birth masked); and flags for the longitudinal checks (metro2.md
//! §5.3 PROG-* rules): a re-aged date of first delinquency, an account gone without a DA,
//! status moves that make no sense, a changed date opened or charge-off amount, a repeated L1.
//! The earlier file is held in memory as encoded records (about its size on disk); the later
//! one streams. This module must not print.

use std::io::{Read, Write};

use rustc_hash::FxHashMap;
use serde::Serialize;

use super::codec::{FieldIssue, TextMode};
use super::model::DataRecord;
use super::reader::{Kind, ReadError, Reader, Slot};

/// One changed field of an account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// `segment.field` (`base.current_balance`, `j1[0].surname`).
    pub field: String,
    /// CRRG field number.
    pub crrg: &'static str,
    /// Value in the earlier file (masked for SSN and date of birth).
    pub old: String,
    /// Value in the later file (masked for SSN and date of birth).
    pub new: String,
}

/// The changes of one account between the two files.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountChanges {
    /// Consumer account number in the later file.
    pub account: String,
    /// Changed fields, in layout order.
    pub changes: Vec<FieldChange>,
}

/// Something between the two cycles that needs a look.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Flag {
    /// Flag id: `diff.reaged_dofd`, `diff.disappeared_without_da`, `diff.status_move`,
    /// `diff.date_opened_changed`, `diff.chargeoff_changed`, `diff.l1_repeated`,
    /// `diff.deleted_account_reappears`, `diff.php_continuity`.
    pub kind: &'static str,
    /// Consumer account number.
    pub account: String,
    /// Plain-language explanation.
    pub message: String,
}

/// The comparison.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DiffReport {
    /// Data records in the earlier file.
    pub old_records: u64,
    /// Data records in the later file.
    pub new_records: u64,
    /// Accounts only in the later file.
    pub added: Vec<String>,
    /// Accounts only in the earlier file.
    pub removed: Vec<String>,
    /// Accounts with changed fields.
    pub changed: Vec<AccountChanges>,
    /// Flags, in the later file's order (removed accounts last).
    pub flags: Vec<Flag>,
    /// Structural problems met while reading (run `metro2 validate` for details).
    pub read_findings: u64,
}

type Key = (String, String);

fn key(id: &str, acct: &str) -> Key {
    (id.trim().to_string(), acct.to_string())
}

/// Compares two files.
pub fn diff<A: Read, B: Read>(old: A, new: B) -> Result<DiffReport, ReadError> {
    let mut rep = DiffReport::default();
    let mut slot = Slot::default();
    let mut findings = Vec::new();
    // Earlier file: encoded records by key, plus L1 aliases (new key -> old key).
    let mut olds: FxHashMap<Key, Vec<u8>> = FxHashMap::default();
    let mut order: Vec<Key> = Vec::new();
    let mut alias: FxHashMap<Key, Key> = FxHashMap::default();
    let mut r = Reader::new(old);
    while let Some(k) = r.read(&mut slot, &mut findings)? {
        if k != Kind::Data {
            continue;
        }
        rep.old_records += 1;
        let b = &slot.data.base;
        let k = key(&b.identification_number, &b.consumer_account_number);
        if let Some(l1) = &slot.data.l1 {
            let acct = match l1.change_indicator {
                1 | 3 => l1.new_consumer_account_number.as_str(),
                _ => b.consumer_account_number.as_str(),
            };
            let id = match l1.change_indicator {
                2 | 3 => l1.new_identification_number.as_str(),
                _ => b.identification_number.as_str(),
            };
            alias.insert(key(id, acct), k.clone());
        }
        let mut buf = Vec::with_capacity(slot.data.content_len());
        if slot.data.encode(&mut buf, 0, TextMode::Preserve).is_ok() && !olds.contains_key(&k) {
            order.push(k.clone());
            olds.insert(k, buf);
        }
    }
    rep.read_findings += findings.len() as u64;
    findings.clear();
    let mut r = Reader::new(new);
    let mut issues: Vec<FieldIssue> = Vec::new();
    while let Some(k) = r.read(&mut slot, &mut findings)? {
        if k != Kind::Data {
            continue;
        }
        rep.new_records += 1;
        let n = &slot.data;
        let nk = key(&n.base.identification_number, &n.base.consumer_account_number);
        let ok = if olds.contains_key(&nk) { Some(nk.clone()) } else { alias.get(&nk).cloned() };
        let Some(ok) = ok else {
            rep.added.push(n.base.consumer_account_number.clone());
            continue;
        };
        let Some(bytes) = olds.remove(&ok) else { continue };
        let o = decode(&bytes, &mut issues);
        compare(&o, n, &mut rep);
    }
    rep.read_findings += findings.len() as u64;
    for k in order {
        let Some(bytes) = olds.remove(&k) else { continue };
        let o = decode(&bytes, &mut issues);
        rep.removed.push(k.1.clone());
        let s = o.base.account_status.as_str();
        if !matches!(s, "DA" | "DF") {
            rep.flags.push(Flag {
                kind: "diff.disappeared_without_da",
                account: k.1,
                message: format!(
                    "the account (status {s}) is missing from the later file without having been reported as DA or DF"
                ),
            });
        }
    }
    Ok(rep)
}

fn decode(bytes: &[u8], issues: &mut Vec<FieldIssue>) -> DataRecord {
    use super::layout::Segment;
    use super::model::*;
    let mut d = DataRecord::default();
    d.base.decode_into(bytes, issues);
    let mut pos = 426;
    while let Some(seg) = bytes.get(pos..pos + 2).and_then(Segment::appended) {
        let len = seg.layout().length;
        let Some(b) = bytes.get(pos..pos + len) else { break };
        match seg {
            Segment::J1 => d.j1.push(J1::decode(b, issues)),
            Segment::J2 => d.j2.push(J2::decode(b, issues)),
            Segment::K1 => d.k1 = Some(K1::decode(b, issues)),
            Segment::K2 => d.k2 = Some(K2::decode(b, issues)),
            Segment::K3 => d.k3 = Some(K3::decode(b, issues)),
            Segment::K4 => d.k4 = Some(K4::decode(b, issues)),
            Segment::L1 => d.l1 = Some(L1::decode(b, issues)),
            Segment::N1 => d.n1 = Some(N1::decode(b, issues)),
            _ => {}
        }
        pos += len;
    }
    issues.clear();
    d
}

fn fields(d: &DataRecord) -> Vec<(String, &'static str, String)> {
    let mut v = Vec::with_capacity(64);
    d.visit(&mut |seg, i, f, val| {
        let name = match seg {
            super::layout::Segment::J1 | super::layout::Segment::J2 => {
                format!("{seg}[{i}].{}", f.name)
            }
            _ => format!("{seg}.{}", f.name),
        };
        v.push((name, f.crrg, val.masked()));
    });
    v
}

const DELINQUENT: &[&str] = &[
    "61", "62", "63", "64", "65", "71", "78", "80", "82", "83", "84", "88", "89", "93", "94", "95",
    "96", "97",
];

fn bucket(s: &str) -> Option<u8> {
    Some(match s {
        "11" => 0,
        "71" => 1,
        "78" => 2,
        "80" => 3,
        "82" => 4,
        "83" => 5,
        "84" => 6,
        _ => return None,
    })
}

fn compare(o: &DataRecord, n: &DataRecord, rep: &mut DiffReport) {
    let account = n.base.consumer_account_number.clone();
    let of = fields(o);
    let nf = fields(n);
    let old_map: FxHashMap<&str, &str> = of.iter().map(|x| (x.0.as_str(), x.2.as_str())).collect();
    let new_map: FxHashMap<&str, &str> = nf.iter().map(|x| (x.0.as_str(), x.2.as_str())).collect();
    let mut changes = Vec::new();
    for (name, crrg, nv) in &nf {
        let ov = old_map.get(name.as_str()).copied().unwrap_or("");
        if ov != nv {
            changes.push(FieldChange {
                field: name.clone(),
                crrg,
                old: ov.into(),
                new: nv.clone(),
            });
        }
    }
    for (name, crrg, ov) in &of {
        if !new_map.contains_key(name.as_str()) && !ov.is_empty() {
            changes.push(FieldChange {
                field: name.clone(),
                crrg,
                old: ov.clone(),
                new: String::new(),
            });
        }
    }
    let (ob, nb) = (&o.base, &n.base);
    let (os, ns) = (ob.account_status.as_str(), nb.account_status.as_str());
    let mut flag = |kind: &'static str, message: String| {
        rep.flags.push(Flag { kind, account: account.clone(), message });
    };
    if let Some(od) = ob.date_first_delinquency
        && DELINQUENT.contains(&ns)
        && nb.date_first_delinquency != Some(od)
    {
        let nd = nb.date_first_delinquency.map_or("none".to_string(), |d| d.to_string());
        flag(
            "diff.reaged_dofd",
            format!(
                "date of first delinquency changed from {od} to {nd} while the account is still delinquent (re-aging)"
            ),
        );
    }
    if ob.date_opened != nb.date_opened {
        flag("diff.date_opened_changed", "date opened changed between cycles".into());
    }
    if matches!(os, "64" | "97") && ob.original_charge_off_amount != nb.original_charge_off_amount {
        flag(
            "diff.chargeoff_changed",
            "original charge-off amount changed after the charge-off".into(),
        );
    }
    let paid = |s: &str| matches!(s, "13" | "61" | "62" | "63" | "64" | "65");
    let unpaid = |s: &str| {
        matches!(
            s,
            "71" | "78"
                | "80"
                | "82"
                | "83"
                | "84"
                | "88"
                | "89"
                | "93"
                | "94"
                | "95"
                | "96"
                | "97"
        )
    };
    let bad_move = if matches!(os, "DA" | "DF") {
        Some("a deleted account (DA/DF) is reported again".to_string())
    } else if paid(os) && (unpaid(ns) || ns == "11") {
        Some(format!("a paid account ({os}) is reported unpaid again ({ns})"))
    } else if matches!(os, "64" | "97") && bucket(ns).is_some() {
        Some(format!("a charged-off account ({os}) is reported current or past due ({ns})"))
    } else if let (Some(a), Some(b)) = (bucket(os), bucket(ns))
        && b > a + 1
    {
        Some(format!("status jumped from {os} to {ns}, skipping a delinquency bucket"))
    } else {
        None
    };
    if let Some(m) = bad_move {
        let kind = if matches!(os, "DA" | "DF") {
            "diff.deleted_account_reappears"
        } else {
            "diff.status_move"
        };
        flag(kind, m);
    }
    let php_first = nb.payment_history_profile.as_bytes().first().copied().unwrap_or(b' ');
    if bucket(os).is_some_and(|b| b > 0)
        && ob.consumer_information_indicator.is_empty()
        && !(b'1'..=b'6').contains(&php_first)
    {
        flag(
            "diff.php_continuity",
            format!(
                "the previous period's status was {os} (past due), but the payment history profile does not start with a 1-6 rating"
            ),
        );
    }
    if let (Some(ol), Some(nl)) = (&o.l1, &n.l1)
        && ol.change_indicator == nl.change_indicator
        && ol.new_consumer_account_number == nl.new_consumer_account_number
        && ol.new_identification_number == nl.new_identification_number
    {
        flag("diff.l1_repeated", "the same L1 change is reported again".into());
    }
    if !changes.is_empty() {
        rep.changed.push(AccountChanges { account, changes });
    }
}

/// Writes the report as text: flags first, then changes per account, then counts.
pub fn write_text(out: &mut dyn Write, r: &DiffReport) -> std::io::Result<()> {
    for f in &r.flags {
        writeln!(out, "FLAG {} account {}: {}", f.kind, f.account, f.message)?;
    }
    for c in &r.changed {
        writeln!(out, "account {}:", c.account)?;
        for ch in &c.changes {
            writeln!(out, "  {} (CRRG {}): {:?} -> {:?}", ch.field, ch.crrg, ch.old, ch.new)?;
        }
    }
    for a in &r.added {
        writeln!(out, "added account {a}")?;
    }
    for a in &r.removed {
        writeln!(out, "removed account {a}")?;
    }
    writeln!(
        out,
        "{} -> {} data records: {} changed, {} added, {} removed, {} flags",
        r.old_records,
        r.new_records,
        r.changed.len(),
        r.added.len(),
        r.removed.len(),
        r.flags.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{Base, Header};
    use crate::metro2::writer::{WriterOptions, write_to_vec};
    use jiff::civil::date;

    fn rec(acct: &str, status: &str, dofd: (i16, i8, i8)) -> DataRecord {
        DataRecord::new(Base {
            identification_number: "X1".into(),
            consumer_account_number: acct.into(),
            account_status: status.into(),
            date_first_delinquency: Some(date(dofd.0, dofd.1, dofd.2)),
            current_balance: 100,
            ..Default::default()
        })
    }

    #[test]
    fn flags_reaging_disappearance_and_odd_moves() {
        let o = [
            rec("A", "93", (2024, 1, 1)),
            rec("B", "93", (2024, 1, 1)),
            rec("C", "62", (2024, 1, 1)),
            rec("D", "DA", (2024, 1, 1)),
            rec("F", "71", (2024, 1, 1)),
        ];
        let mut a = rec("A", "93", (2025, 3, 1));
        a.base.current_balance = 50;
        let n = [
            a,
            rec("C", "93", (2024, 1, 1)),
            rec("E", "93", (2024, 1, 1)),
            rec("F", "78", (2024, 1, 1)),
        ];
        let ob = write_to_vec(&Header::default(), &o, WriterOptions::default()).unwrap();
        let nb = write_to_vec(&Header::default(), &n, WriterOptions::default()).unwrap();
        let r = diff(&ob[..], &nb[..]).unwrap();
        let kinds: Vec<_> = r.flags.iter().map(|f| (f.kind, f.account.as_str())).collect();
        assert!(kinds.contains(&("diff.reaged_dofd", "A")), "{kinds:?}");
        assert!(kinds.contains(&("diff.status_move", "C")), "{kinds:?}");
        assert!(kinds.contains(&("diff.disappeared_without_da", "B")), "{kinds:?}");
        assert!(!kinds.iter().any(|k| k.1 == "D"), "{kinds:?}");
        assert!(kinds.contains(&("diff.php_continuity", "F")), "{kinds:?}");
        assert_eq!(r.added, vec!["E"]);
        assert_eq!(r.removed, vec!["B", "D"]);
        let a = r.changed.iter().find(|c| c.account == "A").unwrap();
        let bal = a.changes.iter().find(|c| c.field == "base.current_balance").unwrap();
        assert_eq!((bal.old.as_str(), bal.new.as_str(), bal.crrg), ("100", "50", "21"));
    }
}
