//! Money: exact decimal amounts ([`rust_decimal::Decimal`]), never floating point.
//!
//! [`parse_amount`] accepts what clients send (`$1,234.50`, `(12.00)`, `-12`, blanks are
//! rejected by the caller); [`Money`] stores as a decimal string in SQLite; [`whole_dollars`]
//! is the one rounding rule used for Metro 2 (see the README, "Money").

use std::fmt;
use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An exact amount of US dollars (cents or finer).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub Decimal);

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(Decimal::ZERO);

    /// The amount as a decimal.
    pub fn amount(self) -> Decimal {
        self.0
    }

    /// True when the amount is exactly zero.
    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

/// Why an amount text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid amount {0:?}")]
pub struct AmountError(pub String);

/// Parses a client amount: optional `$`, thousands separators `,`, a leading `-` or
/// accounting parentheses for negatives, at most 4 decimal places.
pub fn parse_amount(text: &str) -> Result<Money, AmountError> {
    let t = text.trim();
    let err = || AmountError(t.to_string());
    if t.is_empty() {
        return Err(err());
    }
    let (neg_paren, inner) = match t.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        Some(s) => (true, s.trim()),
        None => (false, t),
    };
    let (neg_sign, inner) = match inner.strip_prefix('-') {
        Some(s) => (true, s.trim_start()),
        None => (false, inner),
    };
    let inner = inner.strip_prefix('$').unwrap_or(inner).trim_start();
    // Thousands separators must group digits by three before the decimal point.
    let (int_part, frac_part) = match inner.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (inner, None),
    };
    if int_part.contains(',') {
        let groups: Vec<&str> = int_part.split(',').collect();
        let ok = !groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3);
        if !ok {
            return Err(err());
        }
    }
    let int_clean: String = int_part.chars().filter(|c| *c != ',').collect();
    if int_clean.is_empty() && frac_part.is_none() {
        return Err(err());
    }
    if !int_clean.chars().all(|c| c.is_ascii_digit()) {
        return Err(err());
    }
    if let Some(f) = frac_part
        && (f.is_empty() || f.len() > 4 || !f.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(err());
    }
    let normalized = match frac_part {
        Some(f) => format!("{}.{f}", if int_clean.is_empty() { "0" } else { &int_clean }),
        None => int_clean,
    };
    let mut d = Decimal::from_str_exact(&normalized).map_err(|_| err())?;
    if neg_paren || neg_sign {
        d.set_sign_negative(true);
    }
    Ok(Money(d))
}

/// Metro 2 money rule: whole dollars, **cents truncated** (the format's programming
/// standard, metro2.md §2.2), negative (credit) balances reported as 0. Returns the whole
/// dollar count.
pub fn whole_dollars(m: Money) -> u64 {
    if m.0.is_sign_negative() {
        return 0;
    }
    let whole = m.0.round_dp_with_strategy(0, RoundingStrategy::ToZero);
    u64::try_from(whole.mantissa() / 10i128.pow(whole.scale())).unwrap_or(u64::MAX)
}

impl FromStr for Money {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_amount(s)
    }
}

impl ToSql for Money {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.normalize().to_string()))
    }
}

impl FromSql for Money {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(t) => {
                let s = std::str::from_utf8(t).map_err(|e| FromSqlError::Other(Box::new(e)))?;
                Decimal::from_str_exact(s).map(Money).map_err(|e| FromSqlError::Other(Box::new(e)))
            }
            ValueRef::Integer(i) => Ok(Money(Decimal::from(i))),
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Money {
        Money(Decimal::from_str_exact(s).unwrap())
    }

    #[test]
    fn parses_client_amounts() {
        assert_eq!(parse_amount("$1,234.50").unwrap(), d("1234.50"));
        assert_eq!(parse_amount("1234").unwrap(), d("1234"));
        assert_eq!(parse_amount("(12.00)").unwrap(), d("-12.00"));
        assert_eq!(parse_amount("-$5").unwrap(), d("-5"));
        assert_eq!(parse_amount(" .5 ").unwrap(), d("0.5"));
        assert_eq!(parse_amount("1,000,000.01").unwrap(), d("1000000.01"));
        for bad in ["", "12,3x", "1,00", "12.", "$", "1.23456", "abc", "1e5", "--1", "12,34.5"] {
            assert!(parse_amount(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn whole_dollars_truncates_cents_and_floors_credits() {
        assert_eq!(whole_dollars(d("1234.99")), 1234);
        assert_eq!(whole_dollars(d("0.99")), 0);
        assert_eq!(whole_dollars(d("-15.00")), 0);
        assert_eq!(whole_dollars(d("999999999")), 999_999_999);
    }
}
