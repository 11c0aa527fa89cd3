//! Calendar dates: parsing the formats clients send and the explicit date rules the product
//! uses (day arithmetic, "N days after", business days are not used anywhere yet).
//!
//! All dates are [`jiff::civil::Date`] — calendar dates with no time zone. SQLite stores them
//! as ISO `YYYY-MM-DD` text (rusqlite's `jiff` feature).

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

/// A date format a client layout may declare.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DateFormat {
    /// `2024-03-07` (ISO 8601).
    #[serde(rename = "YYYY-MM-DD")]
    Iso,
    /// `03/07/2024` or `3/7/2024` (US).
    #[serde(rename = "MM/DD/YYYY")]
    Us,
    /// `03072024` (Metro 2 style).
    #[serde(rename = "MMDDYYYY")]
    Mmddyyyy,
    /// `20240307`.
    #[serde(rename = "YYYYMMDD")]
    Yyyymmdd,
}

/// Why a date text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unparseable date {text:?} (expected {expected})")]
pub struct DateError {
    /// The offending text (callers mask it for DOB columns).
    pub text: String,
    /// The expected format, for the message.
    pub expected: &'static str,
}

impl DateFormat {
    /// The format as it is written in layouts and messages.
    pub fn pattern(self) -> &'static str {
        match self {
            DateFormat::Iso => "YYYY-MM-DD",
            DateFormat::Us => "MM/DD/YYYY",
            DateFormat::Mmddyyyy => "MMDDYYYY",
            DateFormat::Yyyymmdd => "YYYYMMDD",
        }
    }

    /// Parses `text` in this format. The calendar is checked (no 02/30).
    pub fn parse(self, text: &str) -> Result<Date, DateError> {
        let t = text.trim();
        let err = || DateError { text: t.to_string(), expected: self.pattern() };
        let num = |s: &str| -> Result<i64, DateError> {
            if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            s.parse::<i64>().map_err(|_| err())
        };
        let (y, m, d) = match self {
            DateFormat::Iso => {
                let mut it = t.split('-');
                let (y, m, d) = (it.next(), it.next(), it.next());
                if it.next().is_some() {
                    return Err(err());
                }
                let (y, m, d) = (y.ok_or_else(err)?, m.ok_or_else(err)?, d.ok_or_else(err)?);
                if y.len() != 4 {
                    return Err(err());
                }
                (num(y)?, num(m)?, num(d)?)
            }
            DateFormat::Us => {
                let mut it = t.split('/');
                let (m, d, y) = (it.next(), it.next(), it.next());
                if it.next().is_some() {
                    return Err(err());
                }
                let (m, d, y) = (m.ok_or_else(err)?, d.ok_or_else(err)?, y.ok_or_else(err)?);
                if y.len() != 4 || m.len() > 2 || d.len() > 2 {
                    return Err(err());
                }
                (num(y)?, num(m)?, num(d)?)
            }
            DateFormat::Mmddyyyy | DateFormat::Yyyymmdd => {
                if t.len() != 8 || !t.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                let b = t.as_bytes();
                let part = |r: std::ops::Range<usize>| -> i64 {
                    b[r].iter().fold(0i64, |acc, c| acc * 10 + i64::from(c - b'0'))
                };
                if self == DateFormat::Mmddyyyy {
                    (part(4..8), part(0..2), part(2..4))
                } else {
                    (part(0..4), part(4..6), part(6..8))
                }
            }
        };
        let (y, m, d) = (
            i16::try_from(y).map_err(|_| err())?,
            i8::try_from(m).map_err(|_| err())?,
            i8::try_from(d).map_err(|_| err())?,
        );
        if y < 1800 {
            return Err(err());
        }
        Date::new(y, m, d).map_err(|_| err())
    }
}

/// Parses a command-line `--as-of YYYY-MM-DD`.
pub fn parse_as_of(text: &str) -> Result<Date, String> {
    DateFormat::Iso.parse(text).map_err(|e| e.to_string())
}

/// `date + days` (calendar days; negative goes back).
pub fn add_days(date: Date, days: i64) -> Date {
    date.checked_add(jiff::Span::new().days(days)).unwrap_or(date)
}

/// `date + years` (calendar years; 29 Feb becomes 28 Feb in a non-leap year).
pub fn add_years(date: Date, years: i16) -> Date {
    date.checked_add(jiff::Span::new().years(years)).unwrap_or(date)
}

/// Number of calendar days from `a` to `b` (positive when `b` is later).
pub fn days_between(a: Date, b: Date) -> i64 {
    (b - a).get_days().into()
}

/// Today's date in the machine's local time zone (used only as the default `--as-of`).
pub fn today() -> Date {
    jiff::Zoned::now().date()
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn parses_each_format_and_checks_the_calendar() {
        assert_eq!(DateFormat::Iso.parse("2024-03-07").unwrap(), date(2024, 3, 7));
        assert_eq!(DateFormat::Us.parse("3/7/2024").unwrap(), date(2024, 3, 7));
        assert_eq!(DateFormat::Us.parse("03/07/2024").unwrap(), date(2024, 3, 7));
        assert_eq!(DateFormat::Mmddyyyy.parse("03072024").unwrap(), date(2024, 3, 7));
        assert_eq!(DateFormat::Yyyymmdd.parse("20240307").unwrap(), date(2024, 3, 7));
        for (f, bad) in [
            (DateFormat::Iso, "2024-02-30"),
            (DateFormat::Iso, "24-02-03"),
            (DateFormat::Us, "13/01/2024"),
            (DateFormat::Us, "2024-01-01"),
            (DateFormat::Mmddyyyy, "0307202"),
            (DateFormat::Yyyymmdd, "2024+307"),
            (DateFormat::Us, "01/01/0999"),
        ] {
            assert!(f.parse(bad).is_err(), "{bad} in {f:?}");
        }
    }

    #[test]
    fn day_arithmetic() {
        assert_eq!(add_days(date(2024, 2, 28), 2), date(2024, 3, 1));
        assert_eq!(add_years(date(2024, 2, 29), 1), date(2025, 2, 28));
        assert_eq!(days_between(date(2024, 1, 1), date(2024, 1, 15)), 14);
    }
}
