//! The matching engine: scores candidate pairs of [`Debtor`] × [`LocateRecord`] and explains
//! every score.
//!
//! This is the seam between the locate sources (which only produce `LocateRecord`s) and the
//! leads stage (which only consumes [`ScoredPair`]s). The current implementation is the
//! deterministic baseline (SSN exact, or name + DOB exact); the probabilistic model
//! replaces [`Matcher::link`]'s internals without changing this interface.

use serde::{Deserialize, Serialize};

use crate::locate::record::{Debtor, LocateRecord, SsnEvidence};

/// `[locate.matching]`: thresholds (in match weight, log2 odds) and model settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// Pairs at or above this weight become leads automatically.
    #[serde(default = "default_accept")]
    pub accept_weight: f64,
    /// Pairs at or above this weight (and below `accept_weight`) go to the review queue.
    #[serde(default = "default_review")]
    pub review_weight: f64,
}

fn default_accept() -> f64 {
    10.0
}

fn default_review() -> f64 {
    4.0
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig { accept_weight: default_accept(), review_weight: default_review() }
    }
}

/// What to do with a scored pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// At or above the auto-accept threshold.
    Accept,
    /// Between the review and accept thresholds: a person decides.
    Review,
    /// Below the review threshold.
    Reject,
}

/// One field's contribution to a score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldExplanation {
    /// Compared field (`ssn`, `dob`, `first_name`, `surname`, `locator`, ...).
    pub field: String,
    /// Agreement level reached (`exact`, `transposed`, `jw_0.92`, `missing`, `disagree`, ...).
    pub level: String,
    /// Match weight of this level (log2 of m/u); 0 for a missing value.
    pub weight: f64,
}

/// Why a pair scored what it scored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Prior log2 odds that a random candidate pair is a match.
    pub prior_weight: f64,
    /// Per-field contributions, in a fixed field order.
    pub fields: Vec<FieldExplanation>,
}

/// A scored candidate pair (indices into the slices given to [`Matcher::link`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoredPair {
    /// Index into the debtors slice.
    pub debtor: usize,
    /// Index into the records slice.
    pub record: usize,
    /// Total match weight (log2 odds): prior + Σ field weights.
    pub weight: f64,
    /// Match probability, `2^w / (1 + 2^w)`.
    pub probability: f64,
    /// Decision by the configured thresholds.
    pub decision: Decision,
    /// Per-field explanation.
    pub explanation: Explanation,
}

/// Counters of one linkage run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkStats {
    /// Candidate pairs produced by blocking and compared.
    pub candidate_pairs: u64,
    /// Pairs at or above the review threshold.
    pub scored_pairs: u64,
}

/// The result of [`Matcher::link`].
#[derive(Clone, Debug, Default)]
pub struct LinkResult {
    /// Every pair at or above the review threshold, sorted by (debtor, record).
    pub pairs: Vec<ScoredPair>,
    /// Counters.
    pub stats: LinkStats,
}

/// A configured matcher.
#[derive(Clone, Debug)]
pub struct Matcher {
    config: MatchConfig,
}

impl Matcher {
    /// Builds a matcher from its configuration.
    pub fn new(config: &MatchConfig) -> Matcher {
        Matcher { config: config.clone() }
    }

    /// Links debtors to locate records. Deterministic baseline: SSN exact, or first name +
    /// surname + DOB exact (case-insensitive).
    pub fn link(&self, debtors: &[Debtor], records: &[LocateRecord]) -> LinkResult {
        let mut out = LinkResult::default();
        for (di, d) in debtors.iter().enumerate() {
            for (ri, r) in records.iter().enumerate() {
                out.stats.candidate_pairs += 1;
                let ssn_exact = match (&d.ssn, &r.ssn) {
                    (Some(a), SsnEvidence::Full(b)) => a == b,
                    _ => false,
                };
                let name_dob = d.dob.is_some()
                    && d.dob == r.dob
                    && d.name.first.eq_ignore_ascii_case(&r.name.first)
                    && d.name.last.eq_ignore_ascii_case(&r.name.last);
                if !(ssn_exact || name_dob) {
                    continue;
                }
                let field = if ssn_exact { "ssn" } else { "name_dob" };
                let weight = self.config.accept_weight;
                out.pairs.push(ScoredPair {
                    debtor: di,
                    record: ri,
                    weight,
                    probability: probability(weight),
                    decision: self.decide(weight),
                    explanation: Explanation {
                        prior_weight: 0.0,
                        fields: vec![FieldExplanation {
                            field: field.to_string(),
                            level: "exact".to_string(),
                            weight,
                        }],
                    },
                });
            }
        }
        out.stats.scored_pairs = out.pairs.len() as u64;
        out
    }

    /// The decision for a total weight.
    pub fn decide(&self, weight: f64) -> Decision {
        if weight >= self.config.accept_weight {
            Decision::Accept
        } else if weight >= self.config.review_weight {
            Decision::Review
        } else {
            Decision::Reject
        }
    }
}

/// Match probability of a log2-odds weight.
pub fn probability(weight: f64) -> f64 {
    let odds = weight.exp2();
    odds / (1.0 + odds)
}
