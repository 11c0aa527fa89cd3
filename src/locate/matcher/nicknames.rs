//! Given-name nickname roots from the embedded carltonnorthern/nicknames table
//! (`formats/names/nicknames.csv`, Apache-2.0).
//!
//! The table is many-to-many (`RON` is a nickname of `AARON`, `RONALD` and `VERONICA`), so a
//! name maps to a *set* of root ids and two names agree when their sets intersect. Owns the
//! table only; it must not decide match levels.

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

const TABLE: &str = include_str!("../../../formats/names/nicknames.csv");

static ROOTS: LazyLock<FxHashMap<String, Vec<u32>>> = LazyLock::new(|| {
    let mut root_ids: FxHashMap<String, u32> = FxHashMap::default();
    let mut map: FxHashMap<String, Vec<u32>> = FxHashMap::default();
    for line in TABLE.lines().skip(1) {
        let mut parts = line.split(',');
        let (Some(name), Some(_rel), Some(nick)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let name = name.trim().to_ascii_uppercase();
        let nick = nick.trim().to_ascii_uppercase();
        let next = u32::try_from(root_ids.len()).unwrap_or(u32::MAX);
        let id = *root_ids.entry(name.clone()).or_insert(next);
        map.entry(name).or_default().push(id);
        map.entry(nick).or_default().push(id);
    }
    for ids in map.values_mut() {
        ids.sort_unstable();
        ids.dedup();
    }
    map
});

/// The sorted nickname-root ids of a normalised given name (empty when the table does not
/// know it).
pub fn roots(name: &str) -> &'static [u32] {
    ROOTS.get(name).map_or(&[], Vec::as_slice)
}

/// True when two sorted root sets share an element.
pub fn intersect(a: &[u32], b: &[u32]) -> bool {
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
        }
    }
    false
}

static NICKS: LazyLock<FxHashMap<String, Vec<&'static str>>> = LazyLock::new(|| {
    let mut map: FxHashMap<String, Vec<&'static str>> = FxHashMap::default();
    for line in TABLE.lines().skip(1) {
        let mut parts = line.split(',');
        if let (Some(n), Some(_), Some(nick)) = (parts.next(), parts.next(), parts.next()) {
            map.entry(n.to_ascii_uppercase()).or_default().push(nick);
        }
    }
    map
});

/// Nicknames known for a canonical given name (used by the synthetic generator).
pub fn nicknames_of(name: &str) -> &'static [&'static str] {
    NICKS.get(&name.to_ascii_uppercase()).map_or(&[], Vec::as_slice)
}

/// Canonical given names of the table (used by the synthetic generator).
pub fn canonical_names() -> Vec<&'static str> {
    let mut out: Vec<&'static str> =
        TABLE.lines().skip(1).filter_map(|line| line.split(',').next()).collect();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_to_many_roots() {
        let ron = roots("RON");
        assert!(ron.len() >= 3, "RON has several roots");
        assert!(intersect(ron, roots("RONALD")));
        assert!(intersect(ron, roots("AARON")));
        assert!(intersect(roots("BOB"), roots("ROBERT")));
        assert!(!intersect(roots("BOB"), roots("MARY")));
        assert!(roots("ZZZQ").is_empty());
        assert!(nicknames_of("robert").contains(&"bob"));
        assert!(canonical_names().len() > 1000);
    }
}
