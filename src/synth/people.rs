//! Synthetic people: names, SSNs, dates of birth, addresses and phones drawn from invented
//! vocabularies (surnames, streets and cities are built from syllables; given names come from
//! the public nickname table). Nothing here is real personal data.
//!
//! Owns the vocabularies and the value generators; it must not decide who matches whom.

use jiff::civil::Date;
use rand::Rng;
use rand::seq::IndexedRandom;
use rand_chacha::ChaCha8Rng;

use crate::locate::matcher::nicknames;
use crate::locate::record::PostalAddress;
use crate::normalize::STATE_CODES;
use crate::pii::Ssn;

/// A Zipf-weighted vocabulary.
pub struct Vocab {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocab {
    fn new(words: Vec<String>, exponent: f64) -> Vocab {
        let mut cumulative = Vec::with_capacity(words.len());
        let mut acc = 0.0;
        for rank in 0..words.len() {
            acc += 1.0 / ((rank + 1) as f64).powf(exponent);
            cumulative.push(acc);
        }
        Vocab { words, cumulative }
    }

    /// A word drawn by its weight.
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.random::<f64>() * total;
        let i = self.cumulative.partition_point(|c| *c < x);
        self.words.get(i).or_else(|| self.words.last()).map_or("SMITHSON", String::as_str)
    }
}

const ONSETS: &[&str] = &[
    "B", "C", "D", "F", "G", "H", "J", "K", "L", "M", "N", "P", "R", "S", "T", "V", "W", "BR",
    "CH", "CR", "DR", "GR", "PR", "ST", "TH", "SH", "BL", "CL", "FL", "GL", "PL", "SL", "TR", "WH",
];
const VOWELS: &[&str] =
    &["A", "E", "I", "O", "U", "AI", "EA", "EE", "OO", "OU", "Y", "A", "E", "O"];
const CODAS: &[&str] =
    &["", "N", "R", "S", "T", "L", "M", "CK", "LL", "RT", "ND", "RD", "NG", "LD", ""];
const ENDINGS: &[&str] = &[
    "SON", "MAN", "TON", "LEY", "FORD", "WOOD", "ER", "ELL", "INS", "BERG", "SKI", "EZ", "ES",
    "INGTON", "", "", "", "",
];

fn syllable(rng: &mut ChaCha8Rng) -> String {
    let mut s = String::new();
    s.push_str(ONSETS.choose(rng).copied().unwrap_or("B"));
    s.push_str(VOWELS.choose(rng).copied().unwrap_or("A"));
    s.push_str(CODAS.choose(rng).copied().unwrap_or(""));
    s
}

/// The invented vocabularies (fixed, independent of the data seed).
pub struct Vocabularies {
    /// Surnames, Zipf-weighted.
    pub surnames: Vocab,
    /// Given names (canonical names of the nickname table), Zipf-weighted.
    pub given: Vocab,
    /// Street names.
    pub streets: Vec<String>,
}

impl Vocabularies {
    /// Builds the vocabularies.
    pub fn new() -> Vocabularies {
        use rand::SeedableRng;
        let mut rng = ChaCha8Rng::seed_from_u64(0x0005_0C1A_B1E5);
        let mut surnames = Vec::with_capacity(20_000);
        let mut seen = std::collections::HashSet::new();
        while surnames.len() < 20_000 {
            let mut s = syllable(&mut rng);
            if rng.random_bool(0.5) {
                s.push_str(&syllable(&mut rng));
            }
            s.push_str(ENDINGS.choose(&mut rng).copied().unwrap_or(""));
            if s.len() >= 3 && seen.insert(s.clone()) {
                surnames.push(s);
            }
        }
        let mut given: Vec<String> =
            nicknames::canonical_names().into_iter().map(str::to_ascii_uppercase).collect();
        // Common-looking names first so that the Zipf head holds ordinary given names.
        given.sort_by_key(|n| (n.len().abs_diff(6), n.clone()));
        let mut streets = Vec::with_capacity(3000);
        while streets.len() < 3000 {
            let mut s = syllable(&mut rng);
            s.push_str(&syllable(&mut rng));
            streets.push(s);
        }
        Vocabularies { surnames: Vocab::new(surnames, 0.9), given: Vocab::new(given, 0.8), streets }
    }
}

impl Default for Vocabularies {
    fn default() -> Self {
        Vocabularies::new()
    }
}

const SUFFIXES: &[(&str, &str)] = &[
    ("STREET", "ST"),
    ("AVENUE", "AVE"),
    ("ROAD", "RD"),
    ("DRIVE", "DR"),
    ("LANE", "LN"),
    ("COURT", "CT"),
    ("BOULEVARD", "BLVD"),
    ("PLACE", "PL"),
    ("CIRCLE", "CIR"),
    ("TERRACE", "TER"),
    ("PARKWAY", "PKWY"),
    ("TRAIL", "TRL"),
];
const DIRECTIONS: &[(&str, &str)] = &[("NORTH", "N"), ("SOUTH", "S"), ("EAST", "E"), ("WEST", "W")];

/// A street address kept in parts so that it can be re-rendered (USPS long or short forms).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Street {
    /// House number.
    pub number: u32,
    /// Directional prefix (index into the directions table).
    pub direction: Option<usize>,
    /// Street name.
    pub name: String,
    /// Suffix (index into the suffix table).
    pub suffix: usize,
    /// Apartment number.
    pub apt: Option<u32>,
    /// ZIP5.
    pub zip: u32,
}

impl Street {
    /// Renders the address, with long (`STREET`) or standard (`ST`) words.
    pub fn render(&self, long: bool) -> PostalAddress {
        let pick = |pair: (&'static str, &'static str)| -> &'static str {
            if long { pair.0 } else { pair.1 }
        };
        let mut line1 = self.number.to_string();
        if let Some(d) = self.direction.and_then(|d| DIRECTIONS.get(d)) {
            line1.push(' ');
            line1.push_str(pick(*d));
        }
        line1.push(' ');
        line1.push_str(&self.name);
        line1.push(' ');
        line1.push_str(pick(SUFFIXES.get(self.suffix).copied().unwrap_or(("STREET", "ST"))));
        let line2 = self
            .apt
            .map(|a| format!("{} {a}", if long { "APARTMENT" } else { "APT" }))
            .unwrap_or_default();
        let zip3 = self.zip / 100;
        PostalAddress {
            line1,
            line2,
            city: city_of(zip3),
            state: STATE_CODES.get(zip3 as usize % 50).copied().unwrap_or("TX").to_string(),
            zip: format!("{:05}", self.zip),
        }
    }
}

/// The invented city of a ZIP3 area.
pub fn city_of(zip3: u32) -> String {
    use rand::SeedableRng;
    let mut rng = ChaCha8Rng::seed_from_u64(u64::from(zip3) * 7919 + 17);
    let mut s = syllable(&mut rng);
    s.push_str(&syllable(&mut rng));
    s.push_str(
        ["VILLE", "TON", " CITY", "BURG", " SPRINGS", "FIELD"]
            .choose(&mut rng)
            .copied()
            .unwrap_or(""),
    );
    s
}

/// A random street in the given ZIP3 area (or anywhere when `None`).
pub fn street(rng: &mut ChaCha8Rng, v: &Vocabularies, zip3: Option<u32>) -> Street {
    let zip3 = zip3.unwrap_or_else(|| rng.random_range(100..999));
    Street {
        number: rng.random_range(1..9999),
        direction: if rng.random_bool(0.15) {
            Some(rng.random_range(0..DIRECTIONS.len()))
        } else {
            None
        },
        name: v.streets.choose(rng).cloned().unwrap_or_else(|| "MAPLE".to_string()),
        suffix: rng.random_range(0..SUFFIXES.len()),
        apt: if rng.random_bool(0.25) { Some(rng.random_range(1..400)) } else { None },
        zip: zip3 * 100 + rng.random_range(0..100),
    }
}

/// A random valid-looking 10-digit phone number.
pub fn phone(rng: &mut ChaCha8Rng) -> String {
    format!(
        "{}{:02}{}{:02}{:04}",
        rng.random_range(2..10),
        rng.random_range(0..100),
        rng.random_range(2..10),
        rng.random_range(0..100),
        rng.random_range(0..10_000)
    )
}

/// A random structurally valid SSN.
pub fn ssn(rng: &mut ChaCha8Rng) -> Ssn {
    loop {
        let area = rng.random_range(1..900);
        if area == 666 {
            continue;
        }
        let text =
            format!("{area:03}{:02}{:04}", rng.random_range(1..100), rng.random_range(1..10_000));
        if let Ok(s) = Ssn::parse(&text) {
            return s;
        }
    }
}

/// A random date between two years (inclusive).
pub fn date_between(rng: &mut ChaCha8Rng, from_year: i16, to_year: i16) -> Date {
    let y = rng.random_range(from_year..=to_year);
    let m = rng.random_range(1..=12i8);
    let d = rng.random_range(1..=28i8);
    Date::new(y, m, d).unwrap_or(jiff::civil::date(1980, 1, 1))
}

/// A one-character typo: substitution, deletion, insertion or adjacent transposition.
pub fn typo(rng: &mut ChaCha8Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 3 {
        return s.to_string();
    }
    let i = rng.random_range(1..c.len() - 1);
    let letter = char::from(b'A' + rng.random_range(0..26u8));
    match rng.random_range(0..4) {
        0 => c[i] = letter,
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, letter),
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}
