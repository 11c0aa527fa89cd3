//! USPS Publication 28 abbreviation tables (street suffixes, directionals, secondary unit
//! designators), embedded from `formats/names/usps-pub28.csv`.
//!
//! Owns the table and token lookups only; it must not parse whole addresses (see
//! `normalize::street`).

use std::sync::LazyLock;

use rustc_hash::FxHashMap;

const TABLE: &str = include_str!("../../../formats/names/usps-pub28.csv");

struct Pub28 {
    standard: FxHashMap<&'static str, &'static str>,
    units: FxHashMap<&'static str, &'static str>,
}

static PUB28: LazyLock<Pub28> = LazyLock::new(|| {
    let mut standard = FxHashMap::default();
    let mut units = FxHashMap::default();
    for line in TABLE.lines().skip(1) {
        let mut parts = line.split(',');
        let (Some(kind), Some(written), Some(std)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        match kind {
            "unit" => {
                units.insert(written, std);
                units.insert(std, std);
            }
            _ => {
                standard.insert(written, std);
            }
        }
    }
    Pub28 { standard, units }
});

/// The standard abbreviation of a street token (suffix or directional), or the token itself.
pub fn standard(token: &str) -> &str {
    PUB28.standard.get(token).copied().unwrap_or(token)
}

/// True when the token designates a secondary unit (`APT`, `SUITE`, `#`...).
pub fn is_unit(token: &str) -> bool {
    token.starts_with('#') || PUB28.units.contains_key(token)
}

/// Number of rows in the embedded table.
pub fn table_len() -> usize {
    PUB28.standard.len() + PUB28.units.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abbreviations() {
        assert_eq!(standard("STREET"), "ST");
        assert_eq!(standard("BOULEVARD"), "BLVD");
        assert_eq!(standard("NORTHWEST"), "NW");
        assert_eq!(standard("ELM"), "ELM");
        assert!(is_unit("APARTMENT") && is_unit("STE") && !is_unit("MAIN"));
        assert!(table_len() > 300);
    }
}
