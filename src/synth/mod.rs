//! Synthetic data for demos, tests and benchmarks: never real personal data.
//!
//! [`generate`] builds, deterministically per seed (ChaCha8), a debtor population and a
//! skip-tracing locate file with ground truth: half the locate records are debtors seen
//! again — most of them after a move (new street, city, ZIP, often a new phone), with
//! nicknames and typos in names, DOBs missing / day-month swapped / mistyped, SSNs missing in
//! about a third and otherwise sometimes transposed, mistyped or cut to the last four — and
//! half are other people, many of them household decoys: relatives and Jr/Sr living at the
//! debtor's old address with the same surname and phone. [`write`] puts the same data on
//! disk in the layouts of `formats/README.md` (portfolio, payments, contact events,
//! change-of-address CSV, vendor CSV and XML, truth). [`evaluate`] scores a linkage against
//! the truth.
//!
//! Owns generation only; it must not read the database or call the matcher.

pub mod people;
pub mod write;

use jiff::civil::Date;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::locate::matcher::nicknames;
use crate::locate::record::{
    AddressHit, Debtor, LocateRecord, MoveType, PersonName, PhoneHit, SsnEvidence,
};
use crate::pii::Ssn;
use people::{Street, Vocabularies};

/// Generator settings.
#[derive(Clone, Debug)]
pub struct SynthConfig {
    /// Accounts (= debtors) to generate.
    pub accounts: usize,
    /// Locate records per account.
    pub records_per_account: f64,
    /// Share of locate records that are true matches.
    pub match_share: f64,
    /// Share of the non-matching records that are household decoys.
    pub decoy_share: f64,
    /// Share of locate records delivered by the change-of-address source (no SSN, DOB or
    /// phone; linked through the old address).
    pub ncoa_share: f64,
    /// Seed: same seed ⇒ same data.
    pub seed: u64,
    /// The as-of date the data is generated for.
    pub as_of: Date,
}

impl SynthConfig {
    /// Defaults for `accounts` and `seed`.
    pub fn new(accounts: usize, seed: u64) -> SynthConfig {
        SynthConfig {
            accounts,
            records_per_account: 1.0,
            match_share: 0.5,
            decoy_share: 0.5,
            ncoa_share: 0.15,
            seed,
            as_of: jiff::civil::date(2026, 11, 20),
        }
    }
}

/// Kind of a locate record in the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The debtor seen again.
    Match,
    /// A relative at the debtor's old address (spouse, child, sibling).
    Relative,
    /// A Jr/Sr namesake at the debtor's old address.
    Namesake,
    /// Somebody else.
    Stranger,
}

/// Generated data, in memory.
pub struct Synth {
    /// Debtors (one per account).
    pub debtors: Vec<Debtor>,
    /// The debtor's current street per debtor (for re-rendering files).
    pub streets: Vec<Street>,
    /// Locate records, shuffled.
    pub records: Vec<LocateRecord>,
    /// Per record: the matching debtor index, if any.
    pub truth: Vec<Option<usize>>,
    /// Per record: what it is.
    pub kinds: Vec<Kind>,
    /// The configuration used.
    pub config: SynthConfig,
}

fn ssn_digits_variant(rng: &mut ChaCha8Rng, s: &Ssn, transpose: bool) -> Option<Ssn> {
    let mut d: Vec<u8> = s.expose_digits().bytes().collect();
    for _ in 0..8 {
        let mut c = d.clone();
        let i = rng.random_range(0..8usize);
        if transpose {
            c.swap(i, i + 1);
        } else {
            let old = c[i];
            c[i] = b'0' + (old - b'0' + rng.random_range(1..10u8)) % 10;
        }
        if c != d
            && let Ok(v) = Ssn::parse(std::str::from_utf8(&c).unwrap_or(""))
        {
            return Some(v);
        }
        d = s.expose_digits().bytes().collect();
    }
    None
}

fn dob_variant(rng: &mut ChaCha8Rng, dob: Date) -> Option<Date> {
    let r: f64 = rng.random();
    if r < 0.10 {
        return None;
    }
    if r < 0.15 && dob.day() <= 12 && dob.day() != dob.month() {
        return Date::new(dob.year(), dob.day(), dob.month()).ok();
    }
    if r < 0.20 {
        // One mistyped digit of the day or the last digit of the year.
        let alt = if rng.random_bool(0.5) {
            Date::new(dob.year(), dob.month(), ((dob.day() + rng.random_range(1..9)) % 28) + 1)
        } else {
            Date::new(
                dob.year() - dob.year() % 10 + (dob.year() % 10 + rng.random_range(1..10)) % 10,
                dob.month(),
                dob.day(),
            )
        };
        return alt.ok().or(Some(dob));
    }
    Some(dob)
}

fn given_variant(rng: &mut ChaCha8Rng, v: &Vocabularies, first: &str) -> String {
    let r: f64 = rng.random();
    if r < 0.15 {
        let nicks = nicknames::nicknames_of(first);
        if let Some(n) = nicks.get(rng.random_range(0..nicks.len().max(1))) {
            return n.to_ascii_uppercase();
        }
    }
    if r < 0.23 {
        return people::typo(rng, first);
    }
    if r < 0.24 {
        return v.given.draw(rng).to_string();
    }
    first.to_string()
}

fn pick_suffix(rng: &mut ChaCha8Rng) -> &'static str {
    let r: f64 = rng.random();
    if r < 0.05 {
        "JR"
    } else if r < 0.08 {
        "SR"
    } else if r < 0.09 {
        "III"
    } else {
        ""
    }
}

/// Generates the population and the locate file.
pub fn generate(config: &SynthConfig) -> Synth {
    let v = Vocabularies::new();
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let n = config.accounts;
    let mut debtors = Vec::with_capacity(n);
    let mut streets = Vec::with_capacity(n);
    for i in 0..n {
        let street = people::street(&mut rng, &v, None);
        let mut addresses = vec![street.render(rng.random_bool(0.5))];
        if rng.random_bool(0.3) {
            addresses.push(
                people::street(&mut rng, &v, Some(street.zip / 100)).render(rng.random_bool(0.5)),
            );
        }
        let mut phones = vec![people::phone(&mut rng)];
        if rng.random_bool(0.2) {
            phones.push(people::phone(&mut rng));
        }
        let middle = if rng.random_bool(0.6) {
            let m = v.given.draw(&mut rng).to_string();
            if rng.random_bool(0.5) { m.chars().take(1).collect() } else { m }
        } else {
            String::new()
        };
        debtors.push(Debtor {
            consumer_id: i as i64 + 1,
            account_ids: vec![i as i64 + 1],
            account_numbers: vec![write::account_number(i)],
            name: PersonName {
                first: v.given.draw(&mut rng).to_string(),
                middle,
                last: v.surnames.draw(&mut rng).to_string(),
                suffix: pick_suffix(&mut rng).to_string(),
            },
            ssn: if rng.random_bool(0.97) { Some(people::ssn(&mut rng)) } else { None },
            dob: if rng.random_bool(0.98) {
                Some(people::date_between(&mut rng, 1945, 2004))
            } else {
                None
            },
            addresses,
            phones,
        });
        streets.push(street);
    }

    let total = (n as f64 * config.records_per_account).round() as usize;
    let n_match = ((total as f64 * config.match_share).round() as usize).min(n);
    let n_decoy = ((total - n_match) as f64 * config.decoy_share).round() as usize;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    let mut records = Vec::with_capacity(total);
    let mut truth = Vec::with_capacity(total);
    let mut kinds = Vec::with_capacity(total);
    for k in 0..total {
        let (kind, di) = if k < n_match {
            (Kind::Match, order.get(k).copied())
        } else if k < n_match + n_decoy && n > 0 {
            let di = rng.random_range(0..n);
            (if rng.random_bool(0.3) { Kind::Namesake } else { Kind::Relative }, Some(di))
        } else {
            (Kind::Stranger, None)
        };
        let ncoa = rng.random_bool(config.ncoa_share);
        let rec = match (kind, di.and_then(|i| debtors.get(i).zip(streets.get(i)))) {
            (Kind::Match, Some((d, s))) => seen_again(&mut rng, &v, d, s, ncoa),
            (Kind::Relative | Kind::Namesake, Some((d, s))) => {
                decoy(&mut rng, &v, d, s, kind, ncoa, config.as_of)
            }
            _ => stranger(&mut rng, &v, ncoa),
        };
        records.push(rec);
        truth.push(if kind == Kind::Match { di } else { None });
        kinds.push(kind);
    }
    // Shuffle records (with their truth) so order reveals nothing, then number them.
    let mut idx: Vec<usize> = (0..records.len()).collect();
    idx.shuffle(&mut rng);
    let mut shuffled = Vec::with_capacity(records.len());
    let mut t2 = Vec::with_capacity(records.len());
    let mut k2 = Vec::with_capacity(records.len());
    let mut slots: Vec<Option<LocateRecord>> = records.into_iter().map(Some).collect();
    let (mut n_ncoa, mut n_csv, mut n_xml) = (0usize, 0usize, 0usize);
    for i in idx {
        let Some(mut r) = slots.get_mut(i).and_then(Option::take) else { continue };
        if r.source == "ncoa" {
            n_ncoa += 1;
            r.source_record_id = format!("N{n_ncoa:07}");
        } else if rng.random_bool(0.5) {
            n_csv += 1;
            r.source = "vendor_csv".to_string();
            r.source_record_id = format!("C{n_csv:07}");
        } else {
            n_xml += 1;
            r.source = "vendor_xml".to_string();
            r.source_record_id = format!("X{n_xml:07}");
        }
        shuffled.push(r);
        t2.push(truth.get(i).copied().flatten());
        k2.push(kinds.get(i).copied().unwrap_or(Kind::Stranger));
    }
    Synth { debtors, streets, records: shuffled, truth: t2, kinds: k2, config: config.clone() }
}

fn ssn_evidence(rng: &mut ChaCha8Rng, ssn: Option<&Ssn>) -> SsnEvidence {
    let Some(s) = ssn else { return SsnEvidence::Missing };
    let r: f64 = rng.random();
    if r < 0.35 {
        SsnEvidence::Missing
    } else if r < 0.42 {
        SsnEvidence::Last4(s.last4().to_string())
    } else if r < 0.45 {
        ssn_digits_variant(rng, s, true).map_or(SsnEvidence::Full(s.clone()), SsnEvidence::Full)
    } else if r < 0.48 {
        ssn_digits_variant(rng, s, false).map_or(SsnEvidence::Full(s.clone()), SsnEvidence::Full)
    } else {
        SsnEvidence::Full(s.clone())
    }
}

fn phone_hit(number: String, rng: &mut ChaCha8Rng) -> PhoneHit {
    PhoneHit {
        number,
        line_type: Some(if rng.random_bool(0.7) { "mobile" } else { "landline" }.to_string()),
        vendor_score: Some(rng.random_range(40..100)),
        first_seen: None,
        last_seen: None,
    }
}

fn address_hit(address: crate::locate::record::PostalAddress) -> AddressHit {
    AddressHit { address, first_seen: None, last_seen: None }
}

/// The debtor seen again by a locate source.
fn seen_again(
    rng: &mut ChaCha8Rng,
    v: &Vocabularies,
    d: &Debtor,
    s: &Street,
    ncoa: bool,
) -> LocateRecord {
    let mut last = d.name.last.clone();
    let r: f64 = rng.random();
    if r < 0.05 {
        last = people::typo(rng, &last);
    } else if r < 0.08 {
        last = v.surnames.draw(rng).to_string();
    }
    let name = PersonName {
        first: given_variant(rng, v, &d.name.first),
        middle: if rng.random_bool(0.5) {
            d.name.middle.chars().take(1).collect()
        } else {
            String::new()
        },
        last,
        suffix: if rng.random_bool(0.8) { d.name.suffix.clone() } else { String::new() },
    };
    let moved = ncoa || rng.random_bool(0.6);
    let old = s.render(rng.random_bool(0.5));
    let mut rec = LocateRecord {
        source: if ncoa { "ncoa" } else { "vendor" }.to_string(),
        name,
        reference: rng.random_bool(0.5).then(|| d.account_numbers.first().cloned()).flatten(),
        ..LocateRecord::default()
    };
    if moved {
        let zip3 = if rng.random_bool(0.3) { Some(s.zip / 100) } else { None };
        let new = people::street(rng, v, zip3).render(rng.random_bool(0.5));
        rec.addresses.push(address_hit(new));
        if ncoa {
            rec.known_address = Some(old);
            rec.move_type = Some(MoveType::Individual);
            rec.ncoa_return_code = Some("A".to_string());
            return rec;
        }
        if rng.random_bool(0.3) {
            rec.addresses.push(address_hit(old));
        }
        let phone = if rng.random_bool(0.7) {
            people::phone(rng)
        } else {
            d.phones.first().cloned().unwrap_or_default()
        };
        rec.phones.push(phone_hit(phone, rng));
    } else {
        rec.addresses.push(address_hit(old));
        if let Some(p) = d.phones.first() {
            rec.phones.push(phone_hit(p.clone(), rng));
        }
    }
    rec.ssn = ssn_evidence(rng, d.ssn.as_ref());
    rec.dob = d.dob.and_then(|dob| dob_variant(rng, dob));
    rec
}

/// A relative or Jr/Sr namesake living at the debtor's old address.
fn decoy(
    rng: &mut ChaCha8Rng,
    v: &Vocabularies,
    d: &Debtor,
    s: &Street,
    kind: Kind,
    ncoa: bool,
    as_of: Date,
) -> LocateRecord {
    let namesake = kind == Kind::Namesake;
    let first = if namesake {
        d.name.first.clone()
    } else {
        let mut f = v.given.draw(rng).to_string();
        if f == d.name.first {
            f = v.given.draw(rng).to_string();
        }
        f
    };
    let suffix = if namesake {
        match d.name.suffix.as_str() {
            "JR" => "SR",
            "SR" => "JR",
            _ => {
                if rng.random_bool(0.5) {
                    "JR"
                } else {
                    "SR"
                }
            }
        }
    } else {
        ""
    };
    let base = d.dob.unwrap_or(jiff::civil::date(1975, 6, 15));
    let years: i16 = if namesake {
        let gap = rng.random_range(20..36);
        // A junior born in the future is a senior instead.
        if suffix == "JR" && base.year() + gap <= as_of.year() - 16 { gap } else { -gap }
    } else if rng.random_bool(0.5) {
        rng.random_range(-6..7)
    } else {
        rng.random_range(18..36)
    };
    let dob = people::date_between(rng, base.year() + years, base.year() + years);
    let dob = if dob > as_of { people::date_between(rng, 2005, 2006) } else { dob };
    let old = s.render(rng.random_bool(0.5));
    let mut rec = LocateRecord {
        source: if ncoa { "ncoa" } else { "vendor" }.to_string(),
        name: PersonName {
            first,
            middle: String::new(),
            last: if rng.random_bool(0.92) {
                d.name.last.clone()
            } else {
                v.surnames.draw(rng).to_string()
            },
            suffix: suffix.to_string(),
        },
        reference: rng.random_bool(0.4).then(|| d.account_numbers.first().cloned()).flatten(),
        ..LocateRecord::default()
    };
    if ncoa {
        rec.known_address = Some(old);
        rec.addresses.push(address_hit(people::street(rng, v, None).render(true)));
        rec.move_type =
            Some(if rng.random_bool(0.5) { MoveType::Family } else { MoveType::Individual });
        rec.ncoa_return_code = Some("A".to_string());
        return rec;
    }
    rec.addresses.push(address_hit(if rng.random_bool(0.85) {
        old
    } else {
        people::street(rng, v, None).render(true)
    }));
    let phone = if rng.random_bool(0.8) {
        d.phones.first().cloned().unwrap_or_default()
    } else {
        people::phone(rng)
    };
    rec.phones.push(phone_hit(phone, rng));
    let own_ssn = people::ssn(rng);
    rec.ssn = ssn_evidence(rng, Some(&own_ssn));
    rec.dob = if rng.random_bool(0.1) { None } else { Some(dob) };
    rec
}

/// Somebody with no relation to any debtor.
fn stranger(rng: &mut ChaCha8Rng, v: &Vocabularies, ncoa: bool) -> LocateRecord {
    let street = people::street(rng, v, None);
    let mut rec = LocateRecord {
        source: if ncoa { "ncoa" } else { "vendor" }.to_string(),
        name: PersonName {
            first: v.given.draw(rng).to_string(),
            middle: String::new(),
            last: v.surnames.draw(rng).to_string(),
            suffix: pick_suffix(rng).to_string(),
        },
        ..LocateRecord::default()
    };
    if ncoa {
        rec.known_address = Some(street.render(true));
        rec.addresses.push(address_hit(people::street(rng, v, None).render(true)));
        rec.move_type = Some(MoveType::Individual);
        rec.ncoa_return_code = Some("A".to_string());
        return rec;
    }
    rec.addresses.push(address_hit(street.render(rng.random_bool(0.5))));
    rec.phones.push(phone_hit(people::phone(rng), rng));
    let own = people::ssn(rng);
    rec.ssn = ssn_evidence(rng, Some(&own));
    rec.dob = if rng.random_bool(0.1) { None } else { Some(people::date_between(rng, 1945, 2004)) };
    rec
}

/// Pairwise quality of a linkage against the truth.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Quality {
    /// True pairs in the truth.
    pub true_pairs: u64,
    /// Predicted pairs.
    pub predicted: u64,
    /// Predicted pairs that are true.
    pub true_positives: u64,
    /// Precision.
    pub precision: f64,
    /// Recall (over all true pairs).
    pub recall: f64,
    /// F1.
    pub f1: f64,
}

/// Scores predicted (debtor, record) pairs against `truth` (record → debtor).
pub fn evaluate(
    truth: &[Option<usize>],
    predicted: impl IntoIterator<Item = (usize, usize)>,
) -> Quality {
    let true_pairs = truth.iter().filter(|t| t.is_some()).count() as u64;
    let (mut n, mut tp) = (0u64, 0u64);
    for (d, r) in predicted {
        n += 1;
        if truth.get(r).copied().flatten() == Some(d) {
            tp += 1;
        }
    }
    let precision = if n == 0 { 0.0 } else { tp as f64 / n as f64 };
    let recall = if true_pairs == 0 { 0.0 } else { tp as f64 / true_pairs as f64 };
    let f1 = if precision + recall == 0.0 {
        0.0
    } else {
        2.0 * precision * recall / (precision + recall)
    };
    Quality { true_pairs, predicted: n, true_positives: tp, precision, recall, f1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_per_seed() {
        let a = generate(&SynthConfig::new(300, 7));
        let b = generate(&SynthConfig::new(300, 7));
        let c = generate(&SynthConfig::new(300, 8));
        assert_eq!(a.records, b.records);
        assert_eq!(a.truth, b.truth);
        assert_ne!(a.records, c.records);
        assert_eq!(a.debtors.len(), 300);
        assert_eq!(a.records.len(), 300);
        assert_eq!(a.truth.iter().filter(|t| t.is_some()).count(), 150);
    }

    #[test]
    fn simulation_has_its_hazards() {
        let s = generate(&SynthConfig::new(4000, 1));
        let matches: Vec<&LocateRecord> =
            s.records.iter().zip(&s.truth).filter(|(_, t)| t.is_some()).map(|(r, _)| r).collect();
        let vendor: Vec<&&LocateRecord> = matches.iter().filter(|r| r.source != "ncoa").collect();
        let missing = vendor.iter().filter(|r| r.ssn == SsnEvidence::Missing).count() as f64;
        let share = missing / vendor.len() as f64;
        assert!((0.28..0.42).contains(&share), "SSN missing share {share}");
        let decoys =
            s.kinds.iter().filter(|k| matches!(k, Kind::Relative | Kind::Namesake)).count();
        assert!(decoys > 800, "decoys {decoys}");
        let q =
            evaluate(&s.truth, s.truth.iter().enumerate().filter_map(|(r, d)| d.map(|d| (d, r))));
        assert_eq!((q.precision, q.recall), (1.0, 1.0));
    }
}
