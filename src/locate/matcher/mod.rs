//! The matching engine: scores candidate pairs of [`Debtor`] × [`LocateRecord`] and explains
//! every score.
//!
//! This is the seam between the locate sources (which only produce `LocateRecord`s) and the
//! leads stage (which only consumes [`ScoredPair`]s). A Fellegi-Sunter model learned from the
//! data itself (no labels): normalise both sides (`normalize`, `nicknames`, `usps`,
//! `prepare`), propose candidate pairs by an OR of blocking rules (`blocking`), compare each
//! pair field by field into a compact comparison vector (`compare`), learn m/u and the prior
//! (`model`), score, decide by the configured thresholds and explain every pair (`explain`).
//!
//! It must not read files, the database or the network: callers hand it slices.

pub mod blocking;
pub mod compare;
pub mod explain;
pub mod model;
pub mod nicknames;
pub mod normalize;
pub mod prepare;
pub mod usps;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::locate::record::{Debtor, LocateRecord};

pub use model::{FieldMu, Model};

/// `[locate.matching]`: thresholds (in match weight, log2 odds) and model settings.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// Pairs at or above this weight become leads automatically.
    #[serde(default = "default_accept")]
    pub accept_weight: f64,
    /// Pairs at or above this weight (and below `accept_weight`) go to the review queue. The
    /// default, 0, is a match probability of one half.
    #[serde(default = "default_review")]
    pub review_weight: f64,
    /// Blocks holding more records than this are skipped (placeholder SSNs, shared phones).
    #[serde(default = "default_max_block")]
    pub max_block_size: usize,
    /// Random pairs compared to estimate u.
    #[serde(default = "default_u_samples")]
    pub u_sample_pairs: u64,
    /// Maximum EM iterations per training block.
    #[serde(default = "default_em_iterations")]
    pub em_iterations: u32,
    /// Seed of the u sampling (same data + same seed ⇒ same model).
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// DOBs this many years apart or more are never the same person (Jr/Sr guard).
    #[serde(default = "default_far_dob")]
    pub far_dob_years: u32,
    /// Keep only the best-scoring debtor of each locate record (a record describes one
    /// person); a debtor may still have several records.
    #[serde(default = "default_true")]
    pub best_debtor_per_record: bool,
    /// Refuse pairs whose generation suffixes conflict (one side only, or different) when
    /// neither SSN nor DOB agrees: Jr/Sr namesakes share name, address and phone.
    #[serde(default = "default_true")]
    pub generation_guard: bool,
    /// Term-frequency adjustment of exact given-name and surname agreement.
    #[serde(default = "default_true")]
    pub term_frequency: bool,
    /// Automatic acceptance needs identity evidence: the SSN (whole, one digit off or the last
    /// four), the date of birth (exact, day/month swapped or one digit off) or the surname
    /// agrees. A pair above `accept_weight` on names, addresses, phones and the echoed
    /// reference alone goes to review instead.
    #[serde(default = "default_true")]
    pub accept_requires_identity: bool,
    /// Prior log2 odds of a random pair being a match; estimated when absent.
    #[serde(default)]
    pub prior_weight: Option<f64>,
    /// m and/or u per field (`[locate.matching.m_u.ssn] m = [...]`), one value per
    /// non-missing level in level order; EM / sampling estimates whatever is absent.
    #[serde(default)]
    pub m_u: BTreeMap<String, FieldMu>,
}

fn default_max_block() -> usize {
    1000
}

fn default_u_samples() -> u64 {
    1_000_000
}

fn default_em_iterations() -> u32 {
    40
}

fn default_seed() -> u64 {
    0x5EED
}

fn default_far_dob() -> u32 {
    15
}

fn default_true() -> bool {
    true
}

impl MatchConfig {
    /// Checks the configured m/u tables: known field names, one value per non-missing
    /// level, probabilities in (0, 1].
    pub fn validate(&self) -> Result<(), String> {
        if self.review_weight > self.accept_weight {
            return Err(format!(
                "locate.matching: review_weight {} is above accept_weight {}",
                self.review_weight, self.accept_weight
            ));
        }
        for (name, mu) in &self.m_u {
            let Some(f) = compare::FIELDS.iter().position(|x| x == name) else {
                return Err(format!(
                    "locate.matching.m_u.{name}: unknown field (expected one of {})",
                    compare::FIELDS.join(", ")
                ));
            };
            let n = compare::LEVELS[f].len() - 1;
            for (kind, v) in [("m", &mu.m), ("u", &mu.u)] {
                if let Some(v) = v {
                    if v.len() != n {
                        return Err(format!(
                            "locate.matching.m_u.{name}.{kind}: {} values given, {n} expected ({})",
                            v.len(),
                            compare::LEVELS[f][1..].join(", ")
                        ));
                    }
                    if v.iter().any(|x| !(*x > 0.0 && *x <= 1.0)) {
                        return Err(format!(
                            "locate.matching.m_u.{name}.{kind}: values must be in (0, 1]"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn default_accept() -> f64 {
    10.0
}

fn default_review() -> f64 {
    0.0
}

impl Default for MatchConfig {
    fn default() -> Self {
        MatchConfig {
            accept_weight: default_accept(),
            review_weight: default_review(),
            max_block_size: default_max_block(),
            u_sample_pairs: default_u_samples(),
            em_iterations: default_em_iterations(),
            seed: default_seed(),
            far_dob_years: default_far_dob(),
            best_debtor_per_record: true,
            generation_guard: true,
            accept_requires_identity: true,
            term_frequency: true,
            prior_weight: None,
            m_u: BTreeMap::new(),
        }
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
    /// Why the decision is not what the weight alone gives (e.g. sent to review for want of
    /// identity evidence); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_note: Option<String>,
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
    /// Candidate pairs by the first blocking rule that proposed them.
    #[serde(default)]
    pub pairs_by_rule: BTreeMap<String, u64>,
    /// Pairs above the review threshold refused by the Jr/Sr guards (DOBs far apart, or
    /// conflicting generation suffixes without SSN or DOB agreement).
    #[serde(default)]
    pub guard_rejected: u64,
    /// Pairs above the review threshold dropped because another debtor scored higher on the
    /// same record.
    #[serde(default)]
    pub not_best_for_record: u64,
    /// Matching pairs the model expects among the candidates.
    #[serde(default)]
    pub estimated_matches: u64,
    /// Elapsed milliseconds at the end of each stage.
    #[serde(default)]
    pub timings_ms: BTreeMap<String, u64>,
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

/// One compared candidate pair.
#[derive(Clone, Copy, Debug)]
struct Cand {
    debtor: u32,
    record: u32,
    levels: u32,
}

impl Matcher {
    /// Builds a matcher from its configuration. Invalid configured m/u entries (see
    /// [`MatchConfig::validate`]) are ignored and estimated instead.
    pub fn new(config: &MatchConfig) -> Matcher {
        let mut config = config.clone();
        if let Err(e) = config.validate() {
            tracing::warn!("{e}; estimating those parameters from the data instead");
            let m_u = std::mem::take(&mut config.m_u);
            config.m_u = m_u
                .into_iter()
                .filter(|(name, mu)| {
                    let probe = MatchConfig {
                        m_u: BTreeMap::from([(name.clone(), mu.clone())]),
                        ..MatchConfig::default()
                    };
                    probe.validate().is_ok()
                })
                .collect();
        }
        Matcher { config }
    }

    fn thresholds(&self) -> compare::Thresholds {
        compare::Thresholds { far_dob_years: self.config.far_dob_years }
    }

    /// Links debtors to locate records: blocking, comparison, unsupervised model, scoring.
    pub fn link(&self, debtors: &[Debtor], records: &[LocateRecord]) -> LinkResult {
        self.link_with_model(debtors, records).0
    }

    /// The candidate pairs blocking proposes, as (debtor, record) indices sorted by debtor
    /// then record (for evaluating blocking recall).
    pub fn candidate_pairs(
        &self,
        debtors: &[Debtor],
        records: &[LocateRecord],
    ) -> Vec<(usize, usize)> {
        let p = prepare::prepare(debtors, records);
        let index = blocking::Index::build(&p);
        let max_block = self.config.max_block_size;
        p.debtors
            .persons
            .par_iter()
            .enumerate()
            .map_init(blocking::Scratch::default, |scratch, (di, d)| {
                blocking::candidates_of(&p, &index, d, max_block, scratch);
                scratch.cands.iter().map(|&(r, _)| (di, r as usize)).collect::<Vec<_>>()
            })
            .flatten_iter()
            .collect()
    }

    /// [`Matcher::link`], also returning the learned model (for reports and tuning).
    pub fn link_with_model(
        &self,
        debtors: &[Debtor],
        records: &[LocateRecord],
    ) -> (LinkResult, Model) {
        let t = self.thresholds();
        let mut timings = BTreeMap::new();
        let clock = std::time::Instant::now();
        let lap = |name: &str, timings: &mut BTreeMap<String, u64>| {
            timings.insert(name.to_string(), clock.elapsed().as_millis() as u64);
        };
        let p = prepare::prepare(debtors, records);
        lap("1_prepared", &mut timings);
        let index = blocking::Index::build(&p);
        lap("2_indexed", &mut timings);
        let max_block = self.config.max_block_size;

        // Blocking and comparison, in debtor order.
        const CHUNK: usize = 2048;
        let chunks: Vec<(Vec<Cand>, [u64; blocking::RULES.len()])> = p
            .debtors
            .persons
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(ci, chunk)| {
                let mut scratch = blocking::Scratch::default();
                let mut out = Vec::with_capacity(chunk.len() * 4);
                let mut by_rule = [0u64; blocking::RULES.len()];
                for (k, d) in chunk.iter().enumerate() {
                    let di = u32::try_from(ci * CHUNK + k).unwrap_or(u32::MAX);
                    blocking::candidates_of(&p, &index, d, max_block, &mut scratch);
                    for &(ri, rule) in &scratch.cands {
                        let Some(r) = p.records.persons.get(ri as usize) else { continue };
                        if let Some(c) = by_rule.get_mut(usize::from(rule)) {
                            *c += 1;
                        }
                        let levels = compare::pack(&compare::compare(&p, d, r, t));
                        out.push(Cand { debtor: di, record: ri, levels });
                    }
                }
                (out, by_rule)
            })
            .collect();
        drop(index);
        let mut by_rule = [0u64; blocking::RULES.len()];
        let mut cands: Vec<Cand> = Vec::with_capacity(chunks.iter().map(|c| c.0.len()).sum());
        for (c, r) in chunks {
            cands.extend_from_slice(&c);
            for (a, b) in by_rule.iter_mut().zip(r) {
                *a += b;
            }
        }

        lap("3_blocked_and_compared", &mut timings);
        // Model.
        let total_pairs = debtors.len() as f64 * records.len() as f64;
        let model = model::train(
            &p,
            &cands.iter().map(|c| c.levels).collect::<Vec<_>>(),
            total_pairs,
            &self.config.m_u,
            self.config.prior_weight,
            self.config.u_sample_pairs,
            self.config.seed,
            self.config.em_iterations,
            t,
        );
        lap("4_trained", &mut timings);
        let table = model::weight_table(&model);
        let tf_first = if self.config.term_frequency {
            model::tf_weights(
                &model,
                compare::FIRST,
                8.0,
                (0..p.given.names.len()).map(|i| p.given.frequency(i as u32)),
            )
        } else {
            Vec::new()
        };
        let tf_last = if self.config.term_frequency {
            model::tf_weights(
                &model,
                compare::LAST,
                4.0,
                (0..p.surnames.names.len()).map(|i| p.surnames.frequency(i as u32)),
            )
        } else {
            Vec::new()
        };
        let prior = model.prior_weight;
        let household = model.locator_given_surname.clone();
        let other = model.locator_given_other_surname.clone();
        let field_weights = |c: &Cand, levels: &compare::Levels| -> [f64; compare::NFIELDS] {
            let mut w = [0.0; compare::NFIELDS];
            for f in 0..compare::NFIELDS {
                w[f] = table[f][usize::from(levels[f]).min(compare::MAX_LEVELS - 1)];
            }
            // Household members share surname, address and phone: when the surname agrees,
            // the locator weighs by its frequency among same-surname non-matches.
            // Other surnames rarely share one, so there the locator weighs by its frequency
            // among different-surname non-matches.
            let same_surname = compare::surname_agrees(levels[compare::LAST]);
            let conditional = if same_surname { &household } else { &other };
            let loc = usize::from(levels[compare::LOCATOR]);
            if levels[compare::LOCATOR] != 0
                && levels[compare::LAST] != 0
                && let Some(v) = conditional.get(loc)
            {
                w[compare::LOCATOR] = *v;
                // An echoed reference is shared by everyone a vendor returned for one look-up
                // (relatives, associates, other name hits), whatever their surname: with a
                // different surname it never counts for more than within a household.
                if !same_surname
                    && compare::reference_agrees(levels[compare::LOCATOR])
                    && let Some(h) = household.get(loc)
                {
                    w[compare::LOCATOR] = v.min(*h);
                }
            }
            let d = p.debtors.persons.get(c.debtor as usize);
            if levels[compare::FIRST] == compare::FIRST_EXACT
                && let Some(v) = d.and_then(|d| tf_first.get(d.first as usize))
            {
                w[compare::FIRST] = *v;
            }
            if levels[compare::LAST] == compare::LAST_EXACT
                && let Some(v) = d.and_then(|d| tf_last.get(d.last as usize))
            {
                w[compare::LAST] = *v;
            }
            w
        };

        // Scoring: keep pairs at or above the review threshold.
        let review = self.config.review_weight;
        let scored: Vec<(Cand, f64, bool)> = cands
            .par_iter()
            .filter_map(|c| {
                let levels = compare::unpack(c.levels);
                let w = field_weights(c, &levels);
                let total = prior + w.iter().sum::<f64>();
                if total < review {
                    return None;
                }
                // Jr/Sr guard: DOBs decades apart are different people, unless the SSN agrees
                // (then the DOB is the typo).
                let ssn_agrees =
                    matches!(levels[compare::SSN], compare::SSN_EXACT | compare::SSN_DL1);
                let mut guard = levels[compare::DOB] == compare::DOB_FAR && !ssn_agrees;
                // Generation guard: a suffix on one side only (or two different suffixes) with
                // neither SSN nor DOB agreeing is a Jr/Sr namesake as often as not.
                if self.config.generation_guard
                    && matches!(
                        levels[compare::GENERATION],
                        compare::GEN_ONE_SIDE | compare::GEN_DISAGREE
                    )
                    && !ssn_agrees
                    && levels[compare::SSN] != compare::SSN_LAST4
                    && !matches!(
                        levels[compare::DOB],
                        compare::DOB_EXACT | compare::DOB_SWAPPED | compare::DOB_DL1
                    )
                {
                    guard = true;
                }
                Some((*c, total, guard))
            })
            .collect();
        let guard_rejected = scored.iter().filter(|s| s.2).count() as u64;

        // One debtor per record: the best one (lowest debtor index on a tie).
        let mut best: Vec<(f64, u32)> = Vec::new();
        if self.config.best_debtor_per_record {
            best = vec![(f64::NEG_INFINITY, u32::MAX); records.len()];
            for (c, w, guard) in &scored {
                if *guard {
                    continue;
                }
                if let Some(b) = best.get_mut(c.record as usize)
                    && (*w > b.0 || (*w == b.0 && c.debtor < b.1))
                {
                    *b = (*w, c.debtor);
                }
            }
        }
        let mut not_best = 0u64;
        let mut pairs = Vec::with_capacity(scored.len());
        for (c, weight, guard) in scored {
            if guard {
                continue;
            }
            if let Some(b) = best.get(c.record as usize)
                && b.1 != c.debtor
            {
                not_best += 1;
                continue;
            }
            let levels = compare::unpack(c.levels);
            let w = field_weights(&c, &levels);
            let decision = self.decide_pair(weight, &levels);
            let mut explanation = explain::explain(prior, &levels, &w);
            if decision != self.decide(weight) {
                explanation.decision_note = Some(
                    "review: above the accept weight, but neither SSN, date of birth nor surname agrees"
                        .into(),
                );
            }
            pairs.push(ScoredPair {
                debtor: c.debtor as usize,
                record: c.record as usize,
                weight: explain::round4(weight),
                probability: probability(weight),
                decision,
                explanation,
            });
        }
        lap("5_scored", &mut timings);
        let stats = LinkStats {
            timings_ms: timings,
            candidate_pairs: cands.len() as u64,
            scored_pairs: pairs.len() as u64,
            pairs_by_rule: blocking::RULES
                .iter()
                .zip(by_rule)
                .map(|(name, n)| ((*name).to_string(), n))
                .collect(),
            guard_rejected,
            not_best_for_record: not_best,
            estimated_matches: model.estimated_matches.round() as u64,
        };
        (LinkResult { pairs, stats }, model)
    }

    /// The decision for a pair: [`Matcher::decide`] on its weight, with automatic acceptance
    /// kept for pairs with identity evidence when `accept_requires_identity` is set.
    pub fn decide_pair(&self, weight: f64, levels: &compare::Levels) -> Decision {
        match self.decide(weight) {
            Decision::Accept
                if self.config.accept_requires_identity && !compare::identity_agrees(levels) =>
            {
                Decision::Review
            }
            d => d,
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn automatic_acceptance_needs_identity_evidence() {
        let m = Matcher::new(&MatchConfig::default());
        let accept = MatchConfig::default().accept_weight + 1.0;
        // Names and locator only, surname disagreeing: review.
        let mut levels: compare::Levels = [0; compare::NFIELDS];
        levels[compare::FIRST] = compare::FIRST_EXACT;
        levels[compare::LAST] = compare::LAST_DISAGREE;
        levels[compare::LOCATOR] = compare::LOC_REFERENCE_ONLY;
        assert_eq!(m.decide_pair(accept, &levels), Decision::Review);
        // Any identity evidence restores the weight's decision.
        for (field, level) in [
            (compare::SSN, compare::SSN_EXACT),
            (compare::SSN, compare::SSN_LAST4),
            (compare::DOB, compare::DOB_SWAPPED),
            (compare::LAST, compare::LAST_EXACT),
        ] {
            let mut l = levels;
            l[field] = level;
            assert_eq!(m.decide_pair(accept, &l), Decision::Accept, "{field} {level}");
        }
        // Below the accept weight nothing changes; the rule can be turned off.
        assert_eq!(m.decide_pair(0.5, &levels), Decision::Review);
        assert_eq!(m.decide_pair(-50.0, &levels), Decision::Reject);
        let off = Matcher::new(&MatchConfig {
            accept_requires_identity: false,
            ..MatchConfig::default()
        });
        assert_eq!(off.decide_pair(accept, &levels), Decision::Accept);
    }
}
