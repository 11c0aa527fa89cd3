//! Personal identifiers that must never be printed in clear: [`Ssn`] and [`Dob`].
//!
//! Both types redact themselves in `Debug` and `Display` (last four only) and zeroise their
//! memory on drop. The clear value is reachable only through an explicit `expose_*` call,
//! which the store (system of record) and the Metro 2 writer use. Logs, errors, rejects files
//! and lead files use [`mask_ssn`] / [`Dob`]'s `Display`.

use std::fmt;

use jiff::civil::Date;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Why a text is not a valid SSN. The variants never carry the input itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SsnError {
    /// Not nine digits after removing dashes and spaces.
    #[error("not 9 digits")]
    Length,
    /// Area number 000, 666 or 900-999.
    #[error("invalid area number (000, 666 or 9xx)")]
    Area,
    /// Group number 00.
    #[error("invalid group number (00)")]
    Group,
    /// Serial number 0000.
    #[error("invalid serial number (0000)")]
    Serial,
}

/// A structurally valid US Social Security Number (9 digits; area not 000, 666 or 9xx;
/// group not 00; serial not 0000).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Zeroize, ZeroizeOnDrop)]
pub struct Ssn([u8; 9]);

impl Ssn {
    /// Parses `123-45-6789`, `123 45 6789` or `123456789`.
    pub fn parse(text: &str) -> Result<Ssn, SsnError> {
        let mut digits = [0u8; 9];
        let mut n = 0;
        for c in text.trim().chars() {
            match c {
                '0'..='9' => {
                    if n == 9 {
                        return Err(SsnError::Length);
                    }
                    digits[n] = c as u8;
                    n += 1;
                }
                '-' | ' ' => {}
                _ => return Err(SsnError::Length),
            }
        }
        if n != 9 {
            return Err(SsnError::Length);
        }
        let ssn = Ssn(digits);
        let area = &digits[0..3];
        if area == b"000" || area == b"666" || area[0] == b'9' {
            return Err(SsnError::Area);
        }
        if &digits[3..5] == b"00" {
            return Err(SsnError::Group);
        }
        if &digits[5..9] == b"0000" {
            return Err(SsnError::Serial);
        }
        Ok(ssn)
    }

    /// The nine digits in clear. Only the store and the Metro 2 writer may call this.
    pub fn expose_digits(&self) -> &str {
        // Invariant: constructed only from ASCII digits.
        std::str::from_utf8(&self.0).unwrap_or("000000000")
    }

    /// The last four digits (safe to print).
    pub fn last4(&self) -> &str {
        std::str::from_utf8(&self.0[5..9]).unwrap_or("0000")
    }

    /// The masked form `***-**-1234`.
    pub fn masked(&self) -> String {
        format!("***-**-{}", self.last4())
    }
}

impl fmt::Debug for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ssn({})", self.masked())
    }
}

impl fmt::Display for Ssn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// Masks any SSN-like text for printing: keeps only the last four digits it contains.
/// Use it on raw input (for example in a rejects file) where the value may be invalid.
pub fn mask_ssn(raw: &str) -> String {
    let digits: Vec<char> = raw.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return if raw.trim().is_empty() { String::new() } else { "***".to_string() };
    }
    let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
    format!("***-**-{tail}")
}

/// Masks a raw date-of-birth text for printing: keeps a four-digit year when the text has one
/// and replaces every other digit with `*` (`03/07/1984` → `**/**/1984`).
pub fn mask_dob(raw: &str) -> String {
    let chars: Vec<char> = raw.trim().chars().collect();
    // The first run of exactly four digits is taken as the year.
    let mut year: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 4 && year.is_none() {
                year = Some((start, i));
            }
        } else {
            i += 1;
        }
    }
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| match year {
            Some((s, e)) if i >= s && i < e => *c,
            _ if c.is_ascii_alphanumeric() => '*',
            _ => *c,
        })
        .collect()
}

/// A date of birth. Printed as `**/**/YYYY`; the full date only through [`Dob::expose`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dob(Date);

impl Dob {
    /// Wraps a calendar date.
    pub fn new(date: Date) -> Dob {
        Dob(date)
    }

    /// The date in clear. Only the store, the matcher and the Metro 2 writer may call this.
    pub fn expose(&self) -> Date {
        self.0
    }
}

impl fmt::Debug for Dob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Dob(**/**/{:04})", self.0.year())
    }
}

impl fmt::Display for Dob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "**/**/{:04}", self.0.year())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssn_rules() {
        assert!(Ssn::parse("123-45-6789").is_ok());
        assert!(Ssn::parse(" 123 45 6789 ").is_ok());
        assert_eq!(Ssn::parse("12345678"), Err(SsnError::Length));
        assert_eq!(Ssn::parse("1234567890"), Err(SsnError::Length));
        assert_eq!(Ssn::parse("12345678x"), Err(SsnError::Length));
        assert_eq!(Ssn::parse("000456789"), Err(SsnError::Area));
        assert_eq!(Ssn::parse("666456789"), Err(SsnError::Area));
        assert_eq!(Ssn::parse("912456789"), Err(SsnError::Area));
        assert_eq!(Ssn::parse("123006789"), Err(SsnError::Group));
        assert_eq!(Ssn::parse("123450000"), Err(SsnError::Serial));
    }

    #[test]
    fn ssn_never_prints_in_clear() {
        let s = Ssn::parse("123-45-6789").unwrap();
        assert_eq!(s.to_string(), "***-**-6789");
        assert_eq!(format!("{s:?}"), "Ssn(***-**-6789)");
        assert!(!format!("{s:?}{s}").contains("12345"));
        assert_eq!(s.expose_digits(), "123456789");
        assert_eq!(mask_ssn("123-45-6789"), "***-**-6789");
        assert_eq!(mask_ssn("12"), "***-**-12");
        assert_eq!(mask_ssn(""), "");
        assert_eq!(mask_ssn("abc"), "***");
    }

    #[test]
    fn dob_masks_all_but_year() {
        let d = Dob::new(jiff::civil::date(1984, 3, 7));
        assert_eq!(d.to_string(), "**/**/1984");
        assert_eq!(format!("{d:?}"), "Dob(**/**/1984)");
        assert_eq!(mask_dob("03/07/1984"), "**/**/1984");
        assert_eq!(mask_dob("1984-03-07"), "1984-**-**");
        assert_eq!(mask_dob("030784"), "******");
    }
}
