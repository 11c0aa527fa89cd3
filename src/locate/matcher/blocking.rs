//! Blocking: candidate pairs from an OR of equi-join rules, so cost grows about linearly with
//! the data instead of with the product of both sides.
//!
//! Records are indexed once as a sorted `(key, record)` array (compact, no hash map of
//! vectors); each debtor looks its keys up, skips oversized blocks, and deduplicates its
//! candidates, remembering the first rule that produced each pair. Owns the rules and
//! their keys; it must not compare fields.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::FxHasher;

use super::prepare::{NO_LAST4, NO_NAME, Person, Prepared, Side};

/// Blocking rule names, in priority order (a pair is counted under the first rule that
/// produced it).
pub const RULES: [&str; 15] = [
    "ssn",
    "ssn_last4_dob",
    "surname_phonetic_initial_zip3",
    "phone",
    "reference",
    "address",
    "surname_phonetic_dob",
    "given_phonetic_dob",
    "surname_phonetic_initial_birth_month",
    "names_either_order_birth_year",
    "names_either_order_zip3",
    "house_number_zip",
    "ssn_half_surname_phonetic",
    "ssn_digits_any_order_surname_phonetic",
    "names_either_order_birth_day",
];

fn key<T: Hash>(rule: u8, value: T) -> u64 {
    let mut h = FxHasher::default();
    rule.hash(&mut h);
    value.hash(&mut h);
    h.finish()
}

/// Appends the blocking keys of a person (each tagged with its rule index).
pub fn keys(p: &Prepared, side: &Side, person: &Person, out: &mut Vec<(u64, u8)>) {
    out.clear();
    if person.ssn != 0 {
        out.push((key(0, person.ssn), 0));
    }
    if let Some(dm) =
        (person.last != NO_NAME).then(|| p.surnames.dm.get(person.last as usize)).flatten()
    {
        if person.ssn != 0 {
            // One mistyped digit leaves one half intact; a transposition keeps the digits.
            out.push((key(12, (dm, 0u8, person.ssn / 10_000)), 12));
            let mut digits = super::normalize::digits_of::<9>(person.ssn);
            digits.sort_unstable();
            out.push((key(13, (dm, digits)), 13));
        }
        // The last four (the lower half) is also all a source may give.
        if person.last4 != NO_LAST4 {
            out.push((key(12, (dm, 1u8, u32::from(person.last4))), 12));
        }
    }
    if person.last4 != NO_LAST4 && person.dob != 0 {
        out.push((key(1, (person.last4, person.dob)), 1));
    }
    let last_dm =
        (person.last != NO_NAME).then(|| p.surnames.dm.get(person.last as usize)).flatten();
    let first_dm =
        (person.first != NO_NAME).then(|| p.given.dm.get(person.first as usize)).flatten();
    let initial = p.given.name(person.first).as_bytes().first().copied();
    let addrs = person.addrs.get(&side.addrs);
    if let (Some(dm), Some(init)) = (last_dm, initial) {
        let mut zip3s: [u32; 8] = [u32::MAX; 8];
        for (i, a) in addrs.iter().filter(|a| a.zip != 0).take(8).enumerate() {
            let z = a.zip / 100;
            if !zip3s[..i].contains(&z) {
                out.push((key(2, (dm, init, z)), 2));
            }
            zip3s[i] = z;
        }
    }
    for ph in person.phones.get(&side.phones) {
        out.push((key(3, ph), 3));
    }
    for r in person.refs.get(&side.refs) {
        out.push((key(4, r), 4));
    }
    for a in addrs {
        out.push((key(5, a.key), 5));
        if a.house_zip != 0 {
            out.push((key(11, a.house_zip), 11));
        }
    }
    if let (Some(&f), Some(&l)) = (first_dm, last_dm) {
        let mut zip3s: [u32; 8] = [u32::MAX; 8];
        for (i, a) in addrs.iter().filter(|a| a.zip != 0).take(8).enumerate() {
            let z = a.zip / 100;
            if !zip3s[..i].contains(&z) {
                out.push((key(10, (f.min(l), f.max(l), z)), 10));
            }
            zip3s[i] = z;
        }
    }
    if person.dob != 0 {
        let (y, m, d) = (person.dob / 10_000, (person.dob / 100) % 100, person.dob % 100);
        if let Some(dm) = last_dm {
            out.push((key(6, (dm, y, m.min(d), m.max(d))), 6));
        }
        if let Some(dm) = first_dm {
            out.push((key(7, (dm, person.dob)), 7));
        }
        if let (Some(dm), Some(init)) = (last_dm, initial) {
            out.push((key(8, (dm, init, y, m)), 8));
        }
        if let (Some(&a), Some(&b)) = (first_dm, last_dm) {
            out.push((key(9, (a.min(b), a.max(b), y)), 9));
            // A mistyped year keeps the birthday.
            out.push((key(14, (a.min(b), a.max(b), m.min(d), m.max(d))), 14));
        }
    }
}

type Entries = Vec<(u64, u32)>;
type Keys = Vec<(u64, u8)>;

/// Bits of the key prefix directory.
const DIR_BITS: u32 = 20;

/// The record-side index: `(key, record)` sorted by key, with a directory of where each
/// 20-bit key prefix starts, so that a lookup is one directory read and a short search.
pub struct Index {
    entries: Vec<(u64, u32)>,
    dir: Vec<u32>,
}

impl Index {
    /// Indexes every record's keys.
    pub fn build(p: &Prepared) -> Index {
        let mut entries: Vec<(u64, u32)> = p
            .records
            .persons
            .par_iter()
            .enumerate()
            .fold(
                || (Vec::new(), Vec::with_capacity(16)),
                |(mut acc, mut scratch): (Entries, Keys), (i, person)| {
                    keys(p, &p.records, person, &mut scratch);
                    let ri = u32::try_from(i).unwrap_or(u32::MAX);
                    acc.extend(scratch.iter().map(|&(k, _)| (k, ri)));
                    (acc, scratch)
                },
            )
            .map(|(acc, _)| acc)
            .reduce(Vec::new, |mut a, mut b| {
                a.append(&mut b);
                a
            });
        entries.par_sort_unstable();
        entries.dedup();
        let buckets = 1usize << DIR_BITS;
        let mut dir = vec![0u32; buckets + 1];
        let mut i = 0usize;
        for (b, slot) in dir.iter_mut().enumerate() {
            while i < entries.len() && ((entries[i].0 >> (64 - DIR_BITS)) as usize) < b {
                i += 1;
            }
            *slot = u32::try_from(i).unwrap_or(u32::MAX);
        }
        Index { entries, dir }
    }

    /// The records under a key.
    pub fn lookup(&self, k: u64) -> &[(u64, u32)] {
        let b = (k >> (64 - DIR_BITS)) as usize;
        let (Some(&lo), Some(&hi)) = (self.dir.get(b), self.dir.get(b + 1)) else {
            return &[];
        };
        let bucket = self.entries.get(lo as usize..hi as usize).unwrap_or(&[]);
        let start = bucket.partition_point(|e| e.0 < k);
        let len = bucket.get(start..).map_or(0, |s| s.partition_point(|e| e.0 == k));
        bucket.get(start..start + len).unwrap_or(&[])
    }

    /// Number of index entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Scratch space reused across debtors of one worker.
#[derive(Default)]
pub struct Scratch {
    keys: Vec<(u64, u8)>,
    /// Candidate `(record, first rule)` of the current debtor.
    pub cands: Vec<(u32, u8)>,
}

/// Fills `scratch.cands` with the deduplicated candidates of one debtor.
pub fn candidates_of(
    p: &Prepared,
    index: &Index,
    debtor: &Person,
    max_block: usize,
    scratch: &mut Scratch,
) {
    keys(p, &p.debtors, debtor, &mut scratch.keys);
    scratch.cands.clear();
    for &(k, rule) in &scratch.keys {
        let block = index.lookup(k);
        if block.len() > max_block {
            continue;
        }
        scratch.cands.extend(block.iter().map(|&(_, r)| (r, rule)));
    }
    scratch.cands.sort_unstable();
    scratch.cands.dedup_by_key(|c| c.0);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locate::matcher::prepare::prepare;
    use crate::locate::record::{Debtor, LocateRecord, PersonName, SsnEvidence};
    use crate::pii::Ssn;

    fn name(first: &str, last: &str) -> PersonName {
        PersonName {
            first: first.into(),
            middle: String::new(),
            last: last.into(),
            suffix: String::new(),
        }
    }

    /// The (record, first rule) candidates of the only debtor.
    fn candidates(debtor: &Debtor, records: &[LocateRecord]) -> Vec<(u32, &'static str)> {
        let p = prepare(std::slice::from_ref(debtor), records);
        let index = Index::build(&p);
        let mut scratch = Scratch::default();
        candidates_of(&p, &index, &p.debtors.persons[0], 1000, &mut scratch);
        scratch.cands.iter().map(|&(r, rule)| (r, RULES[usize::from(rule)])).collect()
    }

    #[test]
    fn last_four_only_and_mistyped_birth_year_are_proposed() {
        let debtor = Debtor {
            name: name("Winifred", "Brackenholt"),
            ssn: Some(Ssn::parse("523-41-7780").unwrap()),
            dob: Some(jiff::civil::date(1964, 11, 23)),
            ..Debtor::default()
        };
        let records = [
            // Only the last four and the surname: the SSN's lower half + phonetic surname.
            LocateRecord {
                name: name("Winnie", "Brackenholt"),
                ssn: SsnEvidence::Last4("7780".into()),
                ..LocateRecord::default()
            },
            // Same names, birth year mistyped, nothing else: names + birthday.
            LocateRecord {
                name: name("Winifred", "Brackenholt"),
                dob: Some(jiff::civil::date(1969, 11, 23)),
                ..LocateRecord::default()
            },
            // Same last four, another surname: not proposed.
            LocateRecord {
                name: name("Winifred", "Quillfeather"),
                ssn: SsnEvidence::Last4("7780".into()),
                ..LocateRecord::default()
            },
            // Same names and year, another birthday (no other key): not proposed by the
            // birthday rule (the birth-year rule proposes it).
            LocateRecord {
                name: name("Winifred", "Brackenholt"),
                dob: Some(jiff::civil::date(1964, 3, 2)),
                ..LocateRecord::default()
            },
        ];
        let got = candidates(&debtor, &records);
        assert_eq!(
            got,
            vec![
                (0, "ssn_half_surname_phonetic"),
                (1, "names_either_order_birth_day"),
                (3, "names_either_order_birth_year"),
            ]
        );
    }
}
