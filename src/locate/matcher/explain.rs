//! Explanations: a pair's comparison vector and weights turned into the per-field
//! [`Explanation`] collectors and reviewers read.
//!
//! Owns the wording of levels only; it must not change a weight.

use super::compare::{FIELDS, LEVELS, Levels, NFIELDS};
use super::{Explanation, FieldExplanation};

/// Builds the explanation of one pair from its levels and the weight each level received.
pub fn explain(prior: f64, levels: &Levels, weights: &[f64; NFIELDS]) -> Explanation {
    let fields = (0..NFIELDS)
        .map(|f| {
            let l = usize::from(levels[f]);
            FieldExplanation {
                field: FIELDS[f].to_string(),
                level: LEVELS[f].get(l).copied().unwrap_or("unknown").to_string(),
                weight: round4(weights[f]),
            }
        })
        .collect();
    Explanation { prior_weight: round4(prior), fields, decision_note: None }
}

/// Rounds to 4 decimals so that explanations print stably.
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_field() {
        let e =
            explain(-12.345_678, &[1, 0, 2, 0, 1, 0, 5], &[20.0, 0.0, 5.5, 0.0, 9.1, 0.0, -1.25]);
        assert_eq!(e.fields.len(), NFIELDS);
        assert_eq!(e.fields[0].field, "ssn");
        assert_eq!(e.fields[0].level, "exact");
        assert_eq!(e.fields[2].level, "nickname");
        assert_eq!(e.fields[6].level, "zip3");
        assert_eq!(e.prior_weight, -12.3457);
    }
}
