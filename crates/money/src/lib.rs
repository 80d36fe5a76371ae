//! Money as integer cents. On the wire it is a JSON number of dollars with at most two
//! decimals (`19.99`); inside it never leaves integer cents, so sums and fees are exact.
#![deny(missing_docs)]

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// An amount of US dollars, held as whole cents. May be negative (a debit, a refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// Why a value is not an amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// More than two decimals (`19.999`).
    #[error("must have at most 2 decimal places")]
    TooPrecise,
    /// Not a finite decimal number.
    #[error("must be a number")]
    NotANumber,
    /// Outside what cents in an `i64` can hold.
    #[error("is out of range")]
    OutOfRange,
}

impl Money {
    /// Zero dollars.
    pub const ZERO: Money = Money(0);

    /// An amount of whole cents.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    /// An amount of whole dollars.
    pub const fn from_dollars(dollars: i64) -> Money {
        Money(dollars * 100)
    }

    /// The amount in cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// Parses a decimal string of dollars (`"19.99"`, `"-5"`, `"1e2"` is refused) exactly.
    pub fn parse_dollars(text: &str) -> Result<Money, MoneyError> {
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return Err(MoneyError::NotANumber);
        }
        // `19.990` is still 19.99: only significant decimals count.
        let fraction = fraction.trim_end_matches('0');
        if fraction.len() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        let whole: i64 = whole.parse().map_err(|_| MoneyError::OutOfRange)?;
        let fraction: i64 = format!("{fraction:0<2}")
            .parse()
            .map_err(|_| MoneyError::NotANumber)?;
        let cents = whole
            .checked_mul(100)
            .and_then(|c| c.checked_add(fraction))
            .ok_or(MoneyError::OutOfRange)?;
        Ok(Money(if negative { -cents } else { cents }))
    }

    /// Parses a JSON number of dollars, refusing more than two decimals.
    pub fn from_json_number(number: &serde_json::Number) -> Result<Money, MoneyError> {
        if let Some(i) = number.as_i64() {
            return i.checked_mul(100).map(Money).ok_or(MoneyError::OutOfRange);
        }
        // serde_json prints an f64 with the shortest text that reads back as the same
        // value, so `19.99` prints as "19.99" and `19.999` as "19.999": exact decimal digits.
        let text = number.to_string();
        if text.contains(['e', 'E']) {
            return match number.as_f64() {
                Some(f) if f.fract() == 0.0 && f.abs() < 9.0e16 => Ok(Money((f as i64) * 100)),
                Some(_) => Err(MoneyError::TooPrecise),
                None => Err(MoneyError::NotANumber),
            };
        }
        Money::parse_dollars(&text)
    }

    /// `percent` percent of this amount, rounded half up to the cent (half away from zero for
    /// negative amounts), computed in integers.
    pub fn percent(self, percent: u32) -> Money {
        let scaled = i128::from(self.0) * i128::from(percent);
        let rounded = if scaled >= 0 {
            (scaled + 50) / 100
        } else {
            (scaled - 50) / 100
        };
        Money(rounded as i64)
    }

    /// `self × n`, or `None` on overflow.
    pub fn checked_mul(self, n: i64) -> Option<Money> {
        self.0.checked_mul(n).map(Money)
    }

    /// `self + other`, or `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self − other`, or `None` on overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    /// `$1,234.50`-style text for messages and emails.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = (abs / 100).to_string();
        let mut grouped = String::new();
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        write!(f, "{sign}${grouped}.{:02}", abs % 100)
    }
}

impl Serialize for Money {
    /// A JSON number of dollars: whole amounts as integers (`4000000`), others with their
    /// cents (`19.99`). Cents below 2^53 print exactly.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0 % 100 == 0 {
            serializer.serialize_i64(self.0 / 100)
        } else {
            serializer.serialize_f64(self.0 as f64 / 100.0)
        }
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        Money::from_json_number(&number).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<Money, String> {
        serde_json::from_str::<Money>(text).map_err(|e| e.to_string())
    }

    #[test]
    fn two_decimals_are_exact_cents() {
        assert_eq!(json("19.99"), Ok(Money::from_cents(1999)));
        assert_eq!(json("0.1"), Ok(Money::from_cents(10)));
        assert_eq!(json("0.29"), Ok(Money::from_cents(29)));
        assert_eq!(json("999999.99"), Ok(Money::from_cents(99_999_999)));
    }

    #[test]
    fn integers_are_whole_dollars() {
        assert_eq!(json("160000"), Ok(Money::from_dollars(160_000)));
        assert_eq!(json("0"), Ok(Money::ZERO));
        assert_eq!(json("-5"), Ok(Money::from_cents(-500)));
    }

    #[test]
    fn three_decimals_are_rejected() {
        assert!(
            json("19.999")
                .unwrap_err()
                .contains("at most 2 decimal places")
        );
        assert!(json("0.001").is_err());
    }

    #[test]
    fn trailing_zero_decimals_are_not_extra_precision() {
        assert_eq!(Money::parse_dollars("19.900"), Ok(Money::from_cents(1990)));
    }

    #[test]
    fn non_numbers_are_rejected() {
        assert!(json("\"19.99\"").is_err());
        assert!(json("null").is_err());
        assert_eq!(Money::parse_dollars("1.2.3"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse_dollars(""), Err(MoneyError::NotANumber));
    }

    #[test]
    fn serializes_as_dollars() {
        assert_eq!(
            serde_json::to_string(&Money::from_cents(1999)).unwrap(),
            "19.99"
        );
        assert_eq!(
            serde_json::to_string(&Money::from_cents(400_000_000)).unwrap(),
            "4000000"
        );
        assert_eq!(
            serde_json::to_string(&Money::from_cents(10)).unwrap(),
            "0.1"
        );
        assert_eq!(serde_json::to_string(&Money::ZERO).unwrap(), "0");
    }

    #[test]
    fn every_cent_amount_round_trips_through_json() {
        for cents in (0..100_000).chain(99_999_000..100_000_000).step_by(7) {
            let m = Money::from_cents(cents);
            assert_eq!(json(&serde_json::to_string(&m).unwrap()), Ok(m), "{cents}");
        }
    }

    #[test]
    fn percentages_round_half_up_to_the_cent() {
        assert_eq!(Money::from_cents(1250).percent(4), Money::from_cents(50));
        assert_eq!(Money::from_cents(1237).percent(4), Money::from_cents(49)); // 49.48
        assert_eq!(Money::from_cents(1238).percent(4), Money::from_cents(50)); // 49.52
        assert_eq!(Money::from_cents(1262).percent(4), Money::from_cents(50)); // 50.48
        assert_eq!(Money::from_cents(1).percent(50), Money::from_cents(1)); // 0.5 → 1
        assert_eq!(Money::from_cents(3).percent(50), Money::from_cents(2)); // 1.5 → 2
        assert_eq!(Money::from_cents(-3).percent(50), Money::from_cents(-2));
        assert_eq!(Money::from_cents(-1238).percent(4), Money::from_cents(-50));
    }

    #[test]
    fn displays_with_grouping_for_messages() {
        assert_eq!(Money::from_dollars(160_000).to_string(), "$160,000.00");
        assert_eq!(Money::from_cents(1999).to_string(), "$19.99");
        assert_eq!(Money::from_cents(-5).to_string(), "-$0.05");
        assert_eq!(Money::from_cents(100_000_000).to_string(), "$1,000,000.00");
    }
}
