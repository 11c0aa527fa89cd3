//! Field comparators: one candidate pair of [`Person`]s becomes a comparison vector of
//! agreement levels ([`Levels`], one `u8` per field; level 0 is always "missing", which
//! weighs nothing).
//!
//! Owns the fields, their levels and their order. It must not weigh levels (see `model`)
//! and must not allocate per pair beyond what `strsim` does internally.

use super::nicknames;
use super::normalize::{date_digits, digits_of, within_one_edit};
use super::prepare::{NO_LAST4, NO_NAME, Person, Prepared};

/// Number of compared fields.
pub const NFIELDS: usize = 7;
/// Most levels any field has (including "missing").
pub const MAX_LEVELS: usize = 14;

/// Field index: SSN.
pub const SSN: usize = 0;
/// Field index: date of birth.
pub const DOB: usize = 1;
/// Field index: given name.
pub const FIRST: usize = 2;
/// Field index: middle name.
pub const MIDDLE: usize = 3;
/// Field index: surname.
pub const LAST: usize = 4;
/// Field index: generation suffix.
pub const GENERATION: usize = 5;
/// Field index: the joint address + phone "locator".
pub const LOCATOR: usize = 6;

/// Field names, in comparison order.
pub const FIELDS: [&str; NFIELDS] =
    ["ssn", "dob", "first_name", "middle_name", "surname", "generation", "locator"];

/// Level names per field; index 0 is the neutral "missing" level.
pub const LEVELS: [&[&str]; NFIELDS] = [
    &["missing", "exact", "dl1", "last4", "disagree"],
    &[
        "missing",
        "exact",
        "day_month_swapped",
        "dl1",
        "within_1m",
        "within_1y",
        "disagree",
        "far_apart",
    ],
    &[
        "missing", "exact", "nickname", "jw_0.92", "jw_0.80", "dl1", "initial", "swapped",
        "disagree",
    ],
    &["missing", "exact", "initial", "disagree"],
    &["missing", "exact", "jw_0.92", "phonetic", "jw_0.80", "swapped", "disagree"],
    &["none", "agree", "one_side", "disagree"],
    &[
        "missing",
        "address_phone",
        "address",
        "phone",
        "zip",
        "zip3",
        "disagree",
        "reference_address_phone",
        "reference_address",
        "reference_phone",
        "reference_zip",
        "reference_zip3",
        "reference_disagree",
        "reference_only",
    ],
];

/// SSN level: exact.
pub const SSN_EXACT: u8 = 1;
/// DOB level: exact.
pub const DOB_EXACT: u8 = 1;
/// DOB level: far apart (the Jr/Sr guard).
pub const DOB_FAR: u8 = 7;
/// DOB level: different, less than the far-apart gap.
pub const DOB_DISAGREE: u8 = 6;
/// Given-name level: exact.
pub const FIRST_EXACT: u8 = 1;
/// Given-name level: disagree.
pub const FIRST_DISAGREE: u8 = 8;
/// Surname level: disagree.
pub const LAST_DISAGREE: u8 = 6;
/// Given-name level: nickname root shared.
pub const FIRST_NICKNAME: u8 = 2;
/// Surname level: exact.
pub const LAST_EXACT: u8 = 1;
/// SSN level: only the last four could be compared, and they agree.
pub const SSN_LAST4: u8 = 3;
/// DOB level: day and month swapped.
pub const DOB_SWAPPED: u8 = 2;
/// DOB level: one digit off or transposed.
pub const DOB_DL1: u8 = 3;
/// Generation level: a suffix on one side only.
pub const GEN_ONE_SIDE: u8 = 2;
/// Generation level: different suffixes.
pub const GEN_DISAGREE: u8 = 3;
/// SSN level: one digit off or two adjacent digits transposed.
pub const SSN_DL1: u8 = 2;
/// Locator level: same ZIP5, no address or phone agreeing, no echoed reference.
pub const LOC_ZIP: u8 = 4;
/// Locator level: same ZIP3 (a local move), nothing closer agreeing, no echoed reference.
pub const LOC_ZIP3: u8 = 5;
/// Locator level: address and phone known, neither agrees, nor do the ZIPs; no echoed
/// reference agrees.
pub const LOC_DISAGREE: u8 = 6;
/// Locator levels 1-6 shifted by this when the source echoed one of the debtor's account
/// numbers (`reference_*`).
pub const LOC_REFERENCE: u8 = 6;
/// Locator level: only the echoed reference could be compared, and it agrees.
pub const LOC_REFERENCE_ONLY: u8 = 13;

/// True when a locator level includes an agreeing echoed reference.
pub fn reference_agrees(level: u8) -> bool {
    level > LOC_REFERENCE
}

/// True when a surname level counts as agreement (exact or Jaro-Winkler ≥ 0.92).
pub fn surname_agrees(level: u8) -> bool {
    level == 1 || level == 2
}

/// True when the pair agrees on something that identifies a person rather than a household
/// or a look-up: the SSN (exact, one digit off, last four), the date of birth (exact,
/// day/month swapped, one digit off) or the surname.
pub fn identity_agrees(levels: &Levels) -> bool {
    matches!(levels[SSN], SSN_EXACT | SSN_DL1 | SSN_LAST4)
        || matches!(levels[DOB], DOB_EXACT | DOB_SWAPPED | DOB_DL1)
        || surname_agrees(levels[LAST])
}

/// A comparison vector.
pub type Levels = [u8; NFIELDS];

/// Packs a comparison vector into 4 bits per field.
pub fn pack(levels: &Levels) -> u32 {
    levels.iter().enumerate().fold(0u32, |acc, (i, &l)| acc | (u32::from(l & 0xF) << (4 * i)))
}

/// Unpacks [`pack`].
pub fn unpack(packed: u32) -> Levels {
    let mut out = [0u8; NFIELDS];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = ((packed >> (4 * i)) & 0xF) as u8;
    }
    out
}

/// Comparator settings.
#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// DOBs at least this many years apart are "far apart".
    pub far_dob_years: u32,
}

/// Compares debtor `d` with record `r`.
pub fn compare(p: &Prepared, d: &Person, r: &Person, t: Thresholds) -> Levels {
    let mut first = first_level(p, d.first, r.first);
    let mut last = last_level(p, d.last, r.last);
    if first == FIRST_DISAGREE && last == LAST_DISAGREE && names_swapped(p, d, r) {
        first = 7;
        last = 5;
    }
    [
        ssn_level(d, r),
        dob_level(d.dob, r.dob, t.far_dob_years),
        first,
        middle_level(p, d.middle, r.middle),
        last,
        generation_level(d.generation, r.generation),
        locator_level(p, d, r),
    ]
}

fn ssn_level(d: &Person, r: &Person) -> u8 {
    if d.ssn != 0 && r.ssn != 0 {
        if d.ssn == r.ssn {
            return 1;
        }
        if within_one_edit(&digits_of::<9>(d.ssn), &digits_of::<9>(r.ssn)) {
            return 2;
        }
        return 4;
    }
    if d.last4 != NO_LAST4 && r.last4 != NO_LAST4 {
        // Only one side has the full number: the last four is all that can agree.
        return if d.last4 == r.last4 { 3 } else { 4 };
    }
    0
}

fn dob_level(a: u32, b: u32, far_years: u32) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    if a == b {
        return 1;
    }
    let (ya, ma, da) = (a / 10_000, (a / 100) % 100, a % 100);
    let (yb, mb, db) = (b / 10_000, (b / 100) % 100, b % 100);
    if ya == yb && ma == db && da == mb {
        return 2;
    }
    if within_one_edit(&date_digits(a), &date_digits(b)) {
        return 3;
    }
    let days = |y: u32, m: u32, d: u32| i64::from(y) * 372 + i64::from(m) * 31 + i64::from(d);
    let diff = (days(ya, ma, da) - days(yb, mb, db)).abs();
    if diff <= 31 {
        return 4;
    }
    if diff <= 372 {
        return 5;
    }
    if ya.abs_diff(yb) >= far_years {
        return 7;
    }
    6
}

fn first_level(p: &Prepared, a: u32, b: u32) -> u8 {
    if a == NO_NAME || b == NO_NAME {
        return 0;
    }
    if a == b {
        return 1;
    }
    let t = &p.given;
    let roots = |id: u32| t.roots.get(id as usize).copied().unwrap_or(&[]);
    if nicknames::intersect(roots(a), roots(b)) {
        return 2;
    }
    let (na, nb) = (t.name(a), t.name(b));
    if na.len() == 1 || nb.len() == 1 {
        return if na.as_bytes().first() == nb.as_bytes().first() { 6 } else { 8 };
    }
    let jw = strsim::jaro_winkler(na, nb);
    if jw >= 0.92 {
        return 3;
    }
    // One typo (Damerau-Levenshtein ≤ 1; OSA distance equals it at 1) is strong evidence
    // even where it moves Jaro-Winkler a long way on a short name.
    if jw >= 0.70 && na.len().abs_diff(nb.len()) <= 1 && strsim::osa_distance(na, nb) <= 1 {
        return 5;
    }
    if jw >= 0.80 { 4 } else { 8 }
}

fn middle_level(p: &Prepared, a: u32, b: u32) -> u8 {
    if a == NO_NAME || b == NO_NAME {
        return 0;
    }
    if a == b {
        return 1;
    }
    let (na, nb) = (p.given.name(a), p.given.name(b));
    if na.as_bytes().first() == nb.as_bytes().first() && (na.len() == 1 || nb.len() == 1) {
        2
    } else {
        3
    }
}

fn last_level(p: &Prepared, a: u32, b: u32) -> u8 {
    if a == NO_NAME || b == NO_NAME {
        return 0;
    }
    if a == b {
        return 1;
    }
    let t = &p.surnames;
    let jw = strsim::jaro_winkler(t.name(a), t.name(b));
    if jw >= 0.92 {
        return 2;
    }
    if t.dm.get(a as usize) == t.dm.get(b as usize) {
        return 3;
    }
    if jw >= 0.80 { 4 } else { 6 }
}

/// Given name and surname written the other way round (both Jaro-Winkler ≥ 0.92 crosswise).
fn names_swapped(p: &Prepared, d: &Person, r: &Person) -> bool {
    if d.first == NO_NAME || d.last == NO_NAME || r.first == NO_NAME || r.last == NO_NAME {
        return false;
    }
    let (df, dl) = (p.given.name(d.first), p.surnames.name(d.last));
    let (rf, rl) = (p.given.name(r.first), p.surnames.name(r.last));
    strsim::jaro_winkler(df, rl) >= 0.92 && strsim::jaro_winkler(dl, rf) >= 0.92
}

fn generation_level(a: u8, b: u8) -> u8 {
    match (a, b) {
        (0, 0) => 0,
        (x, y) if x == y => 1,
        (0, _) | (_, 0) => 2,
        _ => 3,
    }
}

fn locator_level(p: &Prepared, d: &Person, r: &Person) -> u8 {
    let ra = r.addrs.get(&p.records.addrs);
    let rp = r.phones.get(&p.records.phones);
    let da = d.addrs.get(&p.debtors.addrs);
    let dp = d.phones.get(&p.debtors.phones);
    let reference = {
        let rr = r.refs.get(&p.records.refs);
        !rr.is_empty() && rr.iter().any(|x| d.refs.get(&p.debtors.refs).contains(x))
    };
    let addr_known = !ra.is_empty() && !da.is_empty();
    let phone_known = !rp.is_empty() && !dp.is_empty();
    if !addr_known && !phone_known {
        return if reference { LOC_REFERENCE_ONLY } else { 0 };
    }
    let base = address_phone_level(ra, rp, da, dp);
    if reference { base + LOC_REFERENCE } else { base }
}

/// Address and phone part of the locator (levels 1-6).
fn address_phone_level(
    ra: &[super::prepare::Addr],
    rp: &[u64],
    da: &[super::prepare::Addr],
    dp: &[u64],
) -> u8 {
    let addr = ra.iter().any(|x| {
        da.iter().any(|y| {
            x.key == y.key
                || (x.house_zip != 0 && x.house_zip == y.house_zip)
                || (x.house_street != 0 && x.house_street == y.house_street)
        })
    });
    let phone = rp.iter().any(|x| dp.contains(x));
    match (addr, phone) {
        (true, true) => 1,
        (true, false) => 2,
        (false, true) => 3,
        _ => {
            if ra.iter().any(|x| x.zip != 0 && da.iter().any(|y| y.zip == x.zip)) {
                4
            } else if ra.iter().any(|x| x.zip != 0 && da.iter().any(|y| y.zip / 100 == x.zip / 100))
            {
                // Moved within the same area (ZIP3).
                5
            } else {
                6
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dob_levels() {
        assert_eq!(dob_level(19800307, 19800307, 15), 1);
        assert_eq!(dob_level(19800307, 19800703, 15), 2);
        assert_eq!(dob_level(19800307, 19800308, 15), 3);
        assert_eq!(dob_level(19800307, 19800325, 15), 4);
        assert_eq!(dob_level(19800307, 19810301, 15), 5);
        assert_eq!(dob_level(19800307, 19850101, 15), 6);
        assert_eq!(dob_level(19800307, 20050101, 15), 7);
        assert_eq!(dob_level(0, 20050101, 15), 0);
    }

    #[test]
    fn pack_roundtrip() {
        let l: Levels = [1, 6, 2, 3, 5, 0, 4];
        assert_eq!(unpack(pack(&l)), l);
        for (f, levels) in LEVELS.iter().enumerate() {
            assert!(levels.len() <= MAX_LEVELS, "{}", FIELDS[f]);
        }
    }
}
