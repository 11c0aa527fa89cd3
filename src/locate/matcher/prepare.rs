//! The compact, normalised form of both sides of a linkage: every [`Debtor`] and
//! [`LocateRecord`] becomes a fixed-size [`Person`] whose names are interned ids and whose
//! addresses, phones and references live in shared arenas (no per-pair allocation later).
//!
//! Owns the conversion and the per-name tables (phonetic code, nickname roots, term
//! frequency). It must not compare the two sides.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rphonetic::{DoubleMetaphone, Encoder};
use rustc_hash::{FxHashMap, FxHasher};

use super::{nicknames, normalize};
use crate::locate::record::{Debtor, LocateRecord, PostalAddress, SsnEvidence};

/// Id of a missing name.
pub const NO_NAME: u32 = u32::MAX;
/// A missing last-four.
pub const NO_LAST4: u16 = u16::MAX;

/// A normalised address: the key (house number, Pub 28 street, ZIP5) and the ZIP5.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr {
    /// Hash of house number + normalised street + ZIP5.
    pub key: u64,
    /// ZIP5 as a number (0 = unknown).
    pub zip: u32,
    /// Hash of house number + ZIP5 (0 when either is missing): agrees despite a street typo.
    pub house_zip: u64,
    /// Hash of house number + street (0 when either is missing): agrees despite a ZIP typo.
    pub house_street: u64,
}

/// A range into one of a [`Side`]'s arenas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn of<T>(arena: &[T], start: usize) -> Span {
        Span {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(arena.len().saturating_sub(start)).unwrap_or(0),
        }
    }

    /// The elements of `arena` this span covers (empty when out of range).
    pub fn get<'a, T>(&self, arena: &'a [T]) -> &'a [T] {
        let s = self.start as usize;
        arena.get(s..s + self.len as usize).unwrap_or(&[])
    }
}

/// One person of either side, normalised.
#[derive(Clone, Copy, Debug)]
pub struct Person {
    /// Given-name id ([`NO_NAME`] when missing).
    pub first: u32,
    /// Middle-name id ([`NO_NAME`] when missing).
    pub middle: u32,
    /// Surname id ([`NO_NAME`] when missing).
    pub last: u32,
    /// Generation code (`normalize::generation`).
    pub generation: u8,
    /// Full SSN as a number (0 = missing).
    pub ssn: u32,
    /// Last four SSN digits ([`NO_LAST4`] when missing).
    pub last4: u16,
    /// DOB as `yyyymmdd` (0 = missing).
    pub dob: u32,
    /// Addresses (debtor: known addresses; record: matched-at address and reported ones).
    pub addrs: Span,
    /// Phones.
    pub phones: Span,
    /// Reference keys (debtor: account numbers; record: echoed reference).
    pub refs: Span,
}

/// One side of the linkage in compact form.
#[derive(Debug, Default)]
pub struct Side {
    /// The persons, index-aligned with the input slice.
    pub persons: Vec<Person>,
    /// Address arena.
    pub addrs: Vec<Addr>,
    /// Phone arena.
    pub phones: Vec<u64>,
    /// Reference arena.
    pub refs: Vec<u64>,
}

/// Per-name tables, indexed by interned id.
#[derive(Debug, Default)]
pub struct NameTable {
    /// The normalised names.
    pub names: Vec<Box<str>>,
    /// Double Metaphone primary code, hashed.
    pub dm: Vec<u64>,
    /// Nickname roots (given names only; empty for surnames).
    pub roots: Vec<&'static [u32]>,
    /// Number of persons (both sides) carrying the name.
    pub count: Vec<u32>,
    /// Total persons with a name present.
    pub total: u64,
    map: FxHashMap<Box<str>, u32>,
}

impl NameTable {
    fn intern(&mut self, name: &str, counted: bool) -> u32 {
        if name.is_empty() {
            return NO_NAME;
        }
        let id = match self.map.get(name) {
            Some(&id) => id,
            None => {
                let id = u32::try_from(self.names.len()).unwrap_or(NO_NAME);
                self.names.push(name.into());
                self.map.insert(name.into(), id);
                self.count.push(0);
                id
            }
        };
        if counted {
            if let Some(c) = self.count.get_mut(id as usize) {
                *c += 1;
            }
            self.total += 1;
        }
        id
    }

    /// The name of an id ("" for [`NO_NAME`]).
    pub fn name(&self, id: u32) -> &str {
        self.names.get(id as usize).map_or("", |s| s)
    }

    /// Share of persons carrying the name.
    pub fn frequency(&self, id: u32) -> f64 {
        let c = self.count.get(id as usize).copied().unwrap_or(0);
        if self.total == 0 { 0.0 } else { f64::from(c) / self.total as f64 }
    }

    fn finish(&mut self, given: bool) {
        let encoder = DoubleMetaphone::default();
        self.dm = self.names.par_iter().map(|n| hash1(&encoder.encode(n))).collect();
        self.roots = if given {
            self.names.iter().map(|n| nicknames::roots(n)).collect()
        } else {
            vec![&[]; self.names.len()]
        };
        self.map = FxHashMap::default();
    }
}

/// Both sides plus the name tables.
#[derive(Debug, Default)]
pub struct Prepared {
    /// Debtors.
    pub debtors: Side,
    /// Locate records.
    pub records: Side,
    /// Given names (first and middle).
    pub given: NameTable,
    /// Surnames.
    pub surnames: NameTable,
}

/// FxHash of one value.
pub fn hash1<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut h = FxHasher::default();
    value.hash(&mut h);
    h.finish()
}

struct Raw {
    first: String,
    middle: String,
    last: String,
    generation: u8,
    ssn: u32,
    last4: u16,
    dob: u32,
    addrs: Vec<Addr>,
    phones: Vec<u64>,
    refs: Vec<u64>,
}

fn norm_addr(a: &PostalAddress) -> Option<Addr> {
    let (house, street) = normalize::street(&a.line1);
    let zip = normalize::zip5(&a.zip).unwrap_or(0);
    if street.is_empty() && zip == 0 {
        return None;
    }
    let house_zip = if house.is_empty() || zip == 0 { 0 } else { hash1(&(&house, zip)) };
    let house_street =
        if house.is_empty() || street.is_empty() { 0 } else { hash1(&(&house, &street)) };
    Some(Addr { key: hash1(&(house, street, zip)), zip, house_zip, house_street })
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn reference_key(text: &str) -> Option<u64> {
    let k = normalize::ascii_upper(text).replace(' ', "");
    if k.is_empty() { None } else { Some(hash1(&k)) }
}

fn raw_debtor(d: &Debtor) -> Raw {
    let (last, generation) = normalize::surname_and_generation(&d.name.last, &d.name.suffix);
    let (ssn, last4) = match &d.ssn {
        Some(s) => {
            let n = normalize::ssn_number(s.expose_digits()).unwrap_or(0);
            (n, (n % 10_000) as u16)
        }
        None => (0, NO_LAST4),
    };
    let mut addrs = Vec::with_capacity(d.addresses.len());
    for a in &d.addresses {
        if let Some(x) = norm_addr(a) {
            push_unique(&mut addrs, x);
        }
    }
    let mut phones = Vec::with_capacity(d.phones.len());
    for p in &d.phones {
        if let Some(x) = normalize::phone10(p) {
            push_unique(&mut phones, x);
        }
    }
    let refs = d.account_numbers.iter().filter_map(|a| reference_key(a)).collect();
    Raw {
        first: normalize::name_key(&d.name.first),
        middle: normalize::name_key(&d.name.middle),
        last,
        generation,
        ssn,
        last4: if ssn == 0 { NO_LAST4 } else { last4 },
        dob: normalize::pack_date(d.dob),
        addrs,
        phones,
        refs,
    }
}

fn raw_record(r: &LocateRecord) -> Raw {
    let (last, generation) = normalize::surname_and_generation(&r.name.last, &r.name.suffix);
    let (ssn, last4) = match &r.ssn {
        SsnEvidence::Full(s) => {
            let n = normalize::ssn_number(s.expose_digits()).unwrap_or(0);
            (n, if n == 0 { NO_LAST4 } else { (n % 10_000) as u16 })
        }
        SsnEvidence::Last4(l) => {
            (0, l.trim().parse::<u16>().ok().filter(|v| *v < 10_000).unwrap_or(NO_LAST4))
        }
        SsnEvidence::Missing => (0, NO_LAST4),
    };
    let mut addrs = Vec::with_capacity(r.addresses.len() + 1);
    if let Some(a) = r.known_address.as_ref().and_then(norm_addr) {
        addrs.push(a);
    }
    for hit in &r.addresses {
        if let Some(x) = norm_addr(&hit.address) {
            push_unique(&mut addrs, x);
        }
    }
    let mut phones = Vec::with_capacity(r.phones.len());
    for p in &r.phones {
        if let Some(x) = normalize::phone10(&p.number) {
            push_unique(&mut phones, x);
        }
    }
    let refs = r.reference.as_deref().and_then(reference_key).into_iter().collect();
    Raw {
        first: normalize::name_key(&r.name.first),
        middle: normalize::name_key(&r.name.middle),
        last,
        generation,
        ssn,
        last4,
        dob: normalize::pack_date(r.dob),
        addrs,
        phones,
        refs,
    }
}

fn build_side(raws: Vec<Raw>, given: &mut NameTable, surnames: &mut NameTable) -> Side {
    let mut side = Side {
        persons: Vec::with_capacity(raws.len()),
        addrs: Vec::with_capacity(raws.len() * 2),
        phones: Vec::with_capacity(raws.len()),
        refs: Vec::with_capacity(raws.len()),
    };
    for raw in raws {
        let a0 = side.addrs.len();
        side.addrs.extend_from_slice(&raw.addrs);
        let p0 = side.phones.len();
        side.phones.extend_from_slice(&raw.phones);
        let r0 = side.refs.len();
        side.refs.extend_from_slice(&raw.refs);
        side.persons.push(Person {
            first: given.intern(&raw.first, true),
            middle: given.intern(&raw.middle, false),
            last: surnames.intern(&raw.last, true),
            generation: raw.generation,
            ssn: raw.ssn,
            last4: raw.last4,
            dob: raw.dob,
            addrs: Span::of(&side.addrs, a0),
            phones: Span::of(&side.phones, p0),
            refs: Span::of(&side.refs, r0),
        });
    }
    side
}

/// Normalises both sides (in parallel) and builds the name tables.
pub fn prepare(debtors: &[Debtor], records: &[LocateRecord]) -> Prepared {
    let (draw, rraw): (Vec<Raw>, Vec<Raw>) = rayon::join(
        || debtors.par_iter().map(raw_debtor).collect(),
        || records.par_iter().map(raw_record).collect(),
    );
    let mut given = NameTable::default();
    let mut surnames = NameTable::default();
    let d = build_side(draw, &mut given, &mut surnames);
    let r = build_side(rraw, &mut given, &mut surnames);
    given.finish(true);
    surnames.finish(false);
    Prepared { debtors: d, records: r, given, surnames }
}
