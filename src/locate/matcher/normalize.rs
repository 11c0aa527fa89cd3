//! Normalisation of the values the matcher compares: names (Unicode → ASCII, case,
//! punctuation, generation suffixes), street lines (USPS Publication 28 abbreviations), ZIP5
//! and 10-digit phones, SSN and DOB packing.
//!
//! Owns only pure text → value functions. It must not look at the other side of a pair,
//! and it never fails: a value it cannot read is "missing" (neutral evidence), not an error.

use std::borrow::Cow;

use jiff::civil::Date;

use super::usps;

/// Generation suffix code: none.
pub const GEN_NONE: u8 = 0;

/// Uppercase ASCII of `text` with every character that is not a letter or digit turned into
/// a space (apostrophes dropped), runs of spaces collapsed.
pub fn ascii_upper(text: &str) -> String {
    let ascii: Cow<'_, str> = deunicode::deunicode_with_tofu_cow(text, "");
    let mut out = String::with_capacity(ascii.len());
    let mut space = true;
    for c in ascii.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
            space = false;
        } else if c == '\'' || c == '`' {
            // O'BRIEN → OBRIEN
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A given name or surname reduced to its letters: `Mary-Ann` → `MARYANN`, `José` → `JOSE`.
pub fn name_key(text: &str) -> String {
    ascii_upper(text).chars().filter(|c| c.is_ascii_alphabetic()).collect()
}

/// Parses a generation suffix (`JR`, `SR`, `II`..`IX`, Metro 2 `J`/`S`/`2`-`9`, `2ND`, ...)
/// into a code (1 = JR, 2 = SR, 3.. = II..), or [`GEN_NONE`].
pub fn generation(text: &str) -> u8 {
    let t = name_key_keep_digits(text);
    match t.as_str() {
        "JR" | "J" | "JUNIOR" | "JNR" => 1,
        "SR" | "S" | "SENIOR" | "SNR" => 2,
        "II" | "2" | "2ND" => 3,
        "III" | "3" | "3RD" => 4,
        "IV" | "4" | "4TH" => 5,
        "V" | "5" | "5TH" => 6,
        "VI" | "6" | "6TH" => 7,
        "VII" | "7" | "7TH" => 8,
        "VIII" | "8" | "8TH" => 9,
        "IX" | "9" | "9TH" => 10,
        _ => GEN_NONE,
    }
}

fn name_key_keep_digits(text: &str) -> String {
    ascii_upper(text).chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// Splits a trailing generation suffix off a surname (`SMITH JR` → (`SMITH`, JR)); the
/// explicit suffix field wins when it is given.
pub fn surname_and_generation(last: &str, suffix: &str) -> (String, u8) {
    let explicit = generation(suffix);
    let up = ascii_upper(last);
    let mut tokens: Vec<&str> = up.split(' ').filter(|t| !t.is_empty()).collect();
    let mut found = GEN_NONE;
    if tokens.len() > 1
        && let Some(last_tok) = tokens.last()
    {
        let g = generation(last_tok);
        // A bare "S", "J" or "V" ending a surname is more likely an initial than a suffix.
        if g != GEN_NONE && last_tok.len() > 1 {
            found = g;
            tokens.pop();
        }
    }
    let key: String = tokens.concat().chars().filter(|c| c.is_ascii_alphabetic()).collect();
    (key, if explicit != GEN_NONE { explicit } else { found })
}

/// The first five digits of a ZIP (ZIP5 or ZIP+4) as a number; 4-digit postcodes are kept as
/// they are (some sources drop a leading zero). `None` when fewer than 4 digits.
pub fn zip5(text: &str) -> Option<u32> {
    let mut value: u32 = 0;
    let mut n = 0;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            if n < 5 {
                value = value * 10 + d;
            }
            n += 1;
        } else if c != '-' && c != ' ' {
            return None;
        }
    }
    match n {
        4 | 5 | 9 => Some(value),
        _ => None,
    }
}

/// A 10-digit North American phone number as a number (a leading `1` is dropped); `None`
/// when the text is not a phone number.
pub fn phone10(text: &str) -> Option<u64> {
    if text.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let total = text.chars().filter(char::is_ascii_digit).count();
    let mut digits: u64 = 0;
    let mut n = 0;
    for (i, d) in text.chars().filter_map(|c| c.to_digit(10)).enumerate() {
        if i == 0 && total == 11 && d == 1 {
            continue;
        }
        digits = digits * 10 + u64::from(d);
        n += 1;
    }
    if n == 10 { Some(digits) } else { None }
}

/// A street line normalised by USPS Publication 28: the house number (first token when it
/// starts with a digit) and the street tokens with standard suffix, directional and unit
/// abbreviations; a unit designator and everything after it is dropped.
pub fn street(line1: &str) -> (String, String) {
    let up = ascii_upper(line1);
    let mut house = String::new();
    let mut street = String::new();
    for (i, tok) in up.split(' ').filter(|t| !t.is_empty()).enumerate() {
        if i == 0 && tok.as_bytes().first().is_some_and(u8::is_ascii_digit) {
            house.push_str(tok);
            continue;
        }
        if i > 0 && usps::is_unit(tok) {
            break;
        }
        let std = usps::standard(tok);
        if !street.is_empty() {
            street.push(' ');
        }
        street.push_str(std);
    }
    (house, street)
}

/// A date packed as `yyyymmdd` (0 = missing).
pub fn pack_date(date: Option<Date>) -> u32 {
    match date {
        Some(d) => {
            let y = u32::try_from(d.year()).unwrap_or(0);
            let m = u32::try_from(d.month()).unwrap_or(0);
            let day = u32::try_from(d.day()).unwrap_or(0);
            y * 10_000 + m * 100 + day
        }
        None => 0,
    }
}

/// The digits of a packed `yyyymmdd` date.
pub fn date_digits(packed: u32) -> [u8; 8] {
    let mut out = [0u8; 8];
    let mut v = packed;
    for slot in out.iter_mut().rev() {
        *slot = (v % 10) as u8;
        v /= 10;
    }
    out
}

/// The nine digits of an SSN as a number.
pub fn ssn_number(digits: &str) -> Option<u32> {
    if digits.len() != 9 {
        return None;
    }
    digits.chars().try_fold(0u32, |acc, c| c.to_digit(10).map(|d| acc * 10 + d))
}

/// The digits of a number, zero-padded to `N` digits.
pub fn digits_of<const N: usize>(value: u32) -> [u8; N] {
    let mut out = [0u8; N];
    let mut v = value;
    for slot in out.iter_mut().rev() {
        *slot = (v % 10) as u8;
        v /= 10;
    }
    out
}

/// True when two equal-length digit strings differ by at most one substituted digit or one
/// adjacent transposition (Damerau-Levenshtein distance ≤ 1 for equal lengths).
pub fn within_one_edit(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut first: Option<usize> = None;
    let mut count = 0;
    for i in 0..a.len() {
        if a[i] != b[i] {
            count += 1;
            if count == 1 {
                first = Some(i);
            }
            if count > 2 {
                return false;
            }
        }
    }
    match (count, first) {
        (0 | 1, _) => true,
        (2, Some(i)) => i + 1 < a.len() && a[i] == b[i + 1] && a[i + 1] == b[i],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_to_ascii() {
        assert_eq!(name_key("José-María"), "JOSEMARIA");
        assert_eq!(name_key("O'Brien"), "OBRIEN");
        assert_eq!(surname_and_generation("Smith Jr.", ""), ("SMITH".to_string(), 1));
        assert_eq!(surname_and_generation("Smith", "III"), ("SMITH".to_string(), 4));
        assert_eq!(surname_and_generation("Van Dyke", ""), ("VANDYKE".to_string(), GEN_NONE));
    }

    #[test]
    fn streets_use_pub28_abbreviations() {
        assert_eq!(street("12 North Main Street Apt 4"), ("12".into(), "N MAIN ST".into()));
        assert_eq!(street("12 N. Main St."), ("12".into(), "N MAIN ST".into()));
        assert_eq!(street("400 Oak Avenue"), street("400 OAK AVE"));
    }

    #[test]
    fn contact_values() {
        assert_eq!(zip5("78701-1234"), Some(78701));
        assert_eq!(zip5("4223"), Some(4223));
        assert_eq!(zip5("12"), None);
        assert_eq!(phone10("+1 (512) 555-0100"), Some(5_125_550_100));
        assert_eq!(phone10("555-0100"), None);
    }

    #[test]
    fn one_edit() {
        assert!(within_one_edit(b"123456789", b"123456789"));
        assert!(within_one_edit(b"123456789", b"123456788"));
        assert!(within_one_edit(b"123456789", b"123465789"));
        assert!(!within_one_edit(b"123456789", b"123465788"));
        assert!(!within_one_edit(b"123456789", b"923456781"));
    }
}
