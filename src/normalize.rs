//! Normalisation of contact identifiers shared by ingest and locate: US phone numbers
//! (10 digits), ZIP codes (ZIP5 / ZIP+4) and state codes.
//!
//! Name and street normalisation for matching lives in `locate` (it is a matching concern);
//! this module only checks and canonicalises values the system of record stores.

/// Why a contact value was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    /// Not a 10-digit North American number (after removing punctuation and a leading 1).
    #[error("invalid phone number: not 10 digits")]
    PhoneLength,
    /// Area code or exchange starts with 0 or 1.
    #[error("invalid phone number: area code or exchange starts with 0 or 1")]
    PhoneNanp,
    /// Not 5 or 9 digits.
    #[error("invalid ZIP code {0:?}: expected 5 or 9 digits")]
    Zip(String),
    /// Not a USPS state or territory code.
    #[error("invalid state code {0:?}")]
    State(String),
}

/// Normalises a US phone number to its 10 digits: accepts `(555) 201-3344`, `555.201.3344`,
/// `+1 555 201 3344`. Area code and exchange must not start with 0 or 1 (NANP).
pub fn phone10(text: &str) -> Result<String, ContactError> {
    let mut digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    if text.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(ContactError::PhoneLength);
    }
    if digits.len() == 11 && digits.starts_with('1') {
        digits.remove(0);
    }
    if digits.len() != 10 {
        return Err(ContactError::PhoneLength);
    }
    let b = digits.as_bytes();
    if b[0] < b'2' || b[3] < b'2' {
        return Err(ContactError::PhoneNanp);
    }
    Ok(digits)
}

/// Normalises a ZIP code: `12345`, `12345-6789` or `123456789` → `12345` / `123456789`.
/// A 4-digit ZIP (a leading zero lost by a spreadsheet) is padded back to 5.
pub fn zip(text: &str) -> Result<String, ContactError> {
    let t = text.trim();
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    let only_digits_and_dash = t.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ');
    if !only_digits_and_dash {
        return Err(ContactError::Zip(t.to_string()));
    }
    match digits.len() {
        4 if !t.contains('-') => Ok(format!("0{digits}")),
        5 | 9 => Ok(digits),
        _ => Err(ContactError::Zip(t.to_string())),
    }
}

/// USPS state, district and territory codes (incl. military AA/AE/AP).
pub const STATE_CODES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW", "AA", "AE", "AP",
];

/// Normalises a state code to upper case and checks it against [`STATE_CODES`].
pub fn state(text: &str) -> Result<String, ContactError> {
    let s = text.trim().to_ascii_uppercase();
    if STATE_CODES.contains(&s.as_str()) { Ok(s) } else { Err(ContactError::State(s)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones() {
        assert_eq!(phone10("(555) 201-3344").unwrap(), "5552013344");
        assert_eq!(phone10("+1 555.201.3344").unwrap(), "5552013344");
        assert_eq!(phone10("555-201-334"), Err(ContactError::PhoneLength));
        assert_eq!(phone10("155-201-3344"), Err(ContactError::PhoneNanp));
        assert_eq!(phone10("555-101-3344"), Err(ContactError::PhoneNanp));
        assert_eq!(phone10("555-CALL-NOW"), Err(ContactError::PhoneLength));
    }

    #[test]
    fn zips_and_states() {
        assert_eq!(zip("02134").unwrap(), "02134");
        assert_eq!(zip("2134").unwrap(), "02134");
        assert_eq!(zip("02134-1234").unwrap(), "021341234");
        assert!(zip("0213").is_err() || zip("0213").unwrap() == "00213");
        assert!(zip("ABCDE").is_err());
        assert!(zip("123456").is_err());
        assert_eq!(state(" ny ").unwrap(), "NY");
        assert!(state("XX").is_err());
    }
}
