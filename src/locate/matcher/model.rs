//! The Fellegi-Sunter model: m and u probabilities per field level, the prior, and the match
//! weights `log2(m/u)`, learned without labels.
//!
//! - u from comparisons of random pairs (exact levels of SSN, DOB and names from value
//!   collision frequencies, which sampling cannot resolve);
//! - m by EM over comparison-vector patterns of identifier-agreeing training blocks: SSN-exact
//!   pairs train every field but SSN; DOB-exact + given-name-agreeing pairs train SSN. Neither
//!   block is dominated by household members, who share surname, address and phone but not
//!   SSN or DOB;
//! - the prior from the expected number of matches among candidate pairs (EM on λ alone);
//! - locator weights conditional on surname agreement: u re-estimated among same-surname
//!   pairs (households share address, phone and the echoed account reference) and among
//!   different-surname pairs (who rarely share them);
//! - missing values are neutral (weight 0);
//! - term-frequency adjustment of exact given-name and surname agreement.
//!
//! Owns estimation and weights; it must not produce candidate pairs or decisions.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::compare::{
    self, DOB, DOB_EXACT, FIELDS, FIRST, FIRST_EXACT, FIRST_NICKNAME, LAST, LEVELS, LOCATOR,
    Levels, MAX_LEVELS, NFIELDS, SSN, SSN_EXACT, Thresholds,
};
use super::prepare::{NO_NAME, Person, Prepared};

/// m and u of one field's levels (index 0, "missing", is unused).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldModel {
    /// Field name.
    pub field: String,
    /// Level names.
    pub levels: Vec<String>,
    /// P(level | match).
    pub m: Vec<f64>,
    /// P(level | non-match).
    pub u: Vec<f64>,
    /// log2(m/u) per level (0 for the missing level).
    pub weight: Vec<f64>,
    /// Where m came from: `em`, `config` or `default`.
    pub m_source: String,
}

/// The learned model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Prior log2 odds that a random debtor × record pair is a match.
    pub prior_weight: f64,
    /// Estimated number of matching pairs.
    pub estimated_matches: f64,
    /// Per-field parameters, in comparison order.
    pub fields: Vec<FieldModel>,
    /// Candidate pairs in the SSN-exact and DOB+given-name training blocks.
    pub training_pairs: [u64; 2],
    /// EM iterations run per block.
    pub em_iterations: [u32; 2],
    /// Locator weights per level when the surname agrees: u is the level's frequency among
    /// same-surname pairs that disagree on identity (households), not among random pairs.
    pub locator_given_surname: Vec<f64>,
    /// Locator weights per level when the surname does not agree: u is the level's frequency
    /// among different-surname pairs that disagree on identity. Households mostly share a
    /// surname, so a shared address or phone between different surnames is rarer than among
    /// random pairs and weighs more.
    #[serde(default)]
    pub locator_given_other_surname: Vec<f64>,
}

type Table = [[f64; MAX_LEVELS]; NFIELDS];

/// Starting (and fallback) m values.
fn default_m() -> Table {
    let mut t = [[0.0; MAX_LEVELS]; NFIELDS];
    let rows: [&[f64]; NFIELDS] = [
        &[0.0, 0.90, 0.04, 0.03, 0.03],
        &[0.0, 0.80, 0.04, 0.06, 0.02, 0.02, 0.05, 0.01],
        &[0.0, 0.75, 0.10, 0.05, 0.03, 0.01, 0.02, 0.01, 0.03],
        &[0.0, 0.60, 0.30, 0.10],
        &[0.0, 0.90, 0.04, 0.02, 0.01, 0.01, 0.02],
        &[0.0, 0.80, 0.15, 0.05],
        &[0.0, 0.08, 0.08, 0.05, 0.05, 0.05, 0.18, 0.08, 0.08, 0.05, 0.05, 0.05, 0.18, 0.02],
    ];
    for (f, row) in rows.iter().enumerate() {
        for (l, v) in row.iter().enumerate() {
            t[f][l] = *v;
        }
    }
    t
}

/// Population priors for u: the probability that two different people, drawn from a large
/// population, reach each level (index 0, "missing", unused). The data's own estimates are
/// shrunk toward these with [`U_PRIOR_PAIRS`] pseudo-pairs, so that a small nightly batch (a
/// handful of debtors and vendor records) scores with sane weights instead of weights
/// estimated from a few pairs, while a large batch is governed by its own data. The
/// generation field has no prior: its estimate is used as is.
fn prior_u() -> [Option<&'static [f64]>; NFIELDS] {
    [
        // ssn: exact, dl1, last4, disagree
        Some(&[0.0, 1e-8, 2e-7, 1e-4, 1.0]),
        // dob: exact, day_month_swapped, dl1, within_1m, within_1y, disagree, far_apart
        Some(&[0.0, 4e-5, 1e-5, 3e-4, 1.2e-3, 1.4e-2, 0.6, 0.38]),
        // first name: exact, nickname, jw_0.92, jw_0.80, dl1, initial, swapped, disagree
        Some(&[0.0, 0.01, 0.003, 0.005, 0.03, 0.002, 0.005, 1e-4, 0.94]),
        // middle name: exact, initial, disagree
        Some(&[0.0, 0.05, 0.05, 0.9]),
        // surname: exact, jw_0.92, phonetic, jw_0.80, swapped, disagree
        Some(&[0.0, 0.002, 0.002, 0.003, 0.02, 1e-4, 0.97]),
        None,
        // locator: address_phone, address, phone, zip, zip3, disagree, then the same with an
        // echoed account reference agreeing (which two different people share only as a
        // household), and the reference alone
        Some(&[
            0.0, 1e-7, 1e-6, 1e-6, 1e-3, 1e-2, 0.99, 1e-11, 1e-10, 1e-10, 1e-9, 1e-9, 1e-8, 1e-8,
        ]),
    ]
}

/// Weight of the population priors of u, in pairs (see [`prior_u`]).
pub const U_PRIOR_PAIRS: f64 = 10_000.0;

/// Shrinks an estimate from `n` observed pairs toward its prior.
fn shrink(estimate: f64, n: f64, prior: f64) -> f64 {
    (estimate * n + prior * U_PRIOR_PAIRS) / (n + U_PRIOR_PAIRS)
}

fn nlevels(f: usize) -> usize {
    LEVELS.get(f).map_or(0, |l| l.len())
}

fn normalise(row: &mut [f64; MAX_LEVELS], n: usize, floor: f64) {
    let mut sum = 0.0;
    for v in row.iter_mut().take(n).skip(1) {
        *v = v.max(floor);
        sum += *v;
    }
    if sum > 0.0 {
        for v in row.iter_mut().take(n).skip(1) {
            *v /= sum;
        }
    }
}

/// u by random sampling, with exact levels of identifiers and names replaced by collision
/// frequencies.
pub fn estimate_u(p: &Prepared, samples: u64, seed: u64, t: Thresholds) -> Table {
    let nd = p.debtors.persons.len();
    let nr = p.records.persons.len();
    let mut u = [[0.0; MAX_LEVELS]; NFIELDS];
    if nd == 0 || nr == 0 {
        return default_m();
    }
    let total_pairs = (nd as u64).saturating_mul(nr as u64);
    // Small inputs need fewer samples: at most 10 per input row beyond the first 200,000.
    let samples = samples.min(200_000u64.max(10 * (nd + nr) as u64)).min(total_pairs).max(1);
    let chunks = 64u64;
    let per = samples.div_ceil(chunks);
    let counts: Vec<[[u64; MAX_LEVELS]; NFIELDS]> = (0..chunks)
        .into_par_iter()
        .map(|c| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut cnt = [[0u64; MAX_LEVELS]; NFIELDS];
            for _ in 0..per {
                let di = rng.random_range(0..nd);
                let ri = rng.random_range(0..nr);
                if let (Some(d), Some(r)) = (p.debtors.persons.get(di), p.records.persons.get(ri)) {
                    let l = compare::compare(p, d, r, t);
                    for f in 0..NFIELDS {
                        cnt[f][usize::from(l[f]).min(MAX_LEVELS - 1)] += 1;
                    }
                }
            }
            cnt
        })
        .collect();
    let mut total = [[0u64; MAX_LEVELS]; NFIELDS];
    for c in &counts {
        for f in 0..NFIELDS {
            for l in 0..MAX_LEVELS {
                total[f][l] += c[f][l];
            }
        }
    }
    let priors = prior_u();
    for f in 0..NFIELDS {
        let n = nlevels(f);
        let present: u64 = total[f].iter().take(n).skip(1).sum();
        for l in 1..n {
            u[f][l] = (total[f][l] as f64 + 0.5) / (present as f64 + 0.5 * (n - 1) as f64);
            if let Some(prior) = priors[f].and_then(|row| row.get(l)) {
                u[f][l] = shrink(u[f][l], present as f64, *prior);
            }
        }
    }
    // Exact levels: the probability that two random present values collide, from all the
    // pairs of present values (shrunk toward the prior the same way).
    let exact = |f: usize, l: u8, (c, n): (f64, f64)| -> f64 {
        match priors[f].and_then(|row| row.get(usize::from(l))) {
            Some(prior) => shrink(c, n, *prior),
            None => c,
        }
    };
    u[SSN][usize::from(SSN_EXACT)] = exact(
        SSN,
        SSN_EXACT,
        collision(p.debtors.persons.iter().map(|x| x.ssn), p.records.persons.iter().map(|x| x.ssn)),
    );
    u[DOB][usize::from(DOB_EXACT)] = exact(
        DOB,
        DOB_EXACT,
        collision(p.debtors.persons.iter().map(|x| x.dob), p.records.persons.iter().map(|x| x.dob)),
    );
    u[FIRST][usize::from(FIRST_EXACT)] = exact(
        FIRST,
        FIRST_EXACT,
        collision(
            p.debtors.persons.iter().map(|x| name_or_zero(x.first)),
            p.records.persons.iter().map(|x| name_or_zero(x.first)),
        ),
    );
    u[LAST][1] = exact(
        LAST,
        1,
        collision(
            p.debtors.persons.iter().map(|x| name_or_zero(x.last)),
            p.records.persons.iter().map(|x| name_or_zero(x.last)),
        ),
    );
    for (f, row) in u.iter_mut().enumerate() {
        normalise(row, nlevels(f), 1e-9);
    }
    u
}

fn name_or_zero(id: u32) -> u32 {
    if id == NO_NAME { 0 } else { id.wrapping_add(1) }
}

/// Σ_v P_d(v)·P_r(v) over present (non-zero) values, with the number of pairs of present
/// values it was computed from.
fn collision(a: impl Iterator<Item = u32>, b: impl Iterator<Item = u32>) -> (f64, f64) {
    let mut counts: FxHashMap<u32, u64> = FxHashMap::default();
    let mut na = 0u64;
    for v in a.filter(|v| *v != 0) {
        *counts.entry(v).or_insert(0) += 1;
        na += 1;
    }
    let mut nb = 0u64;
    let mut hits = 0u64;
    for v in b.filter(|v| *v != 0) {
        nb += 1;
        hits += counts.get(&v).copied().unwrap_or(0);
    }
    if na == 0 || nb == 0 {
        return (1e-6, 0.0);
    }
    let pairs = na as f64 * nb as f64;
    (((hits as f64) / pairs).max(1e-12), pairs)
}

/// Distinct comparison patterns with their counts.
pub type Patterns = Vec<(Levels, u64)>;

/// Counts the patterns of the pairs that satisfy `keep`.
pub fn patterns<'a>(
    packed: impl Iterator<Item = &'a u32>,
    keep: impl Fn(&Levels) -> bool,
) -> Patterns {
    let mut map: FxHashMap<u32, u64> = FxHashMap::default();
    for &code in packed {
        let l = compare::unpack(code);
        if keep(&l) {
            *map.entry(code).or_insert(0) += 1;
        }
    }
    let mut out: Patterns = map.into_iter().map(|(k, c)| (compare::unpack(k), c)).collect();
    out.sort_unstable();
    out
}

/// EM for m over `pats` with u fixed, ignoring the fields in `exclude` (those the training
/// block agrees on by construction). Returns (m, λ, iterations).
pub fn em(
    pats: &Patterns,
    u: &Table,
    m0: &Table,
    exclude: &[usize],
    iterations: u32,
) -> (Table, f64, u32) {
    let mut m = *m0;
    let mut lambda = 0.5f64;
    let mut done = 0;
    for it in 0..iterations {
        done = it + 1;
        let mut acc = [[0.0f64; MAX_LEVELS]; NFIELDS];
        let (mut sp, mut sn) = (0.0f64, 0.0f64);
        for (levels, count) in pats {
            let mut lm = lambda.ln();
            let mut lu = (1.0 - lambda).ln();
            for f in 0..NFIELDS {
                let l = usize::from(levels[f]);
                if l == 0 || exclude.contains(&f) || l >= MAX_LEVELS {
                    continue;
                }
                lm += m[f][l].max(1e-12).ln();
                lu += u[f][l].max(1e-12).ln();
            }
            let post = 1.0 / (1.0 + (lu - lm).exp());
            let w = post * *count as f64;
            sp += w;
            sn += *count as f64;
            for f in 0..NFIELDS {
                let l = usize::from(levels[f]);
                if l != 0 && l < MAX_LEVELS {
                    acc[f][l] += w;
                }
            }
        }
        if sn == 0.0 {
            break;
        }
        let new_lambda = (sp / sn).clamp(1e-9, 1.0 - 1e-9);
        let mut delta = (new_lambda - lambda).abs();
        for f in 0..NFIELDS {
            if exclude.contains(&f) {
                continue;
            }
            let n = nlevels(f);
            let total: f64 = acc[f].iter().take(n).skip(1).sum();
            if total <= 0.0 {
                continue;
            }
            let mut row = acc[f];
            for v in row.iter_mut().take(n).skip(1) {
                *v /= total;
            }
            normalise(&mut row, n, 1e-6);
            for l in 1..n {
                delta = delta.max((row[l] - m[f][l]).abs());
            }
            m[f] = row;
        }
        lambda = new_lambda;
        if delta < 1e-6 {
            break;
        }
    }
    (m, lambda, done)
}

/// λ among the given patterns with m and u fixed.
pub fn em_lambda(pats: &Patterns, m: &Table, u: &Table, iterations: u32) -> f64 {
    let mut lambda = 0.1f64;
    for _ in 0..iterations {
        let (mut sp, mut sn) = (0.0, 0.0);
        for (levels, count) in pats {
            let mut lr = (lambda / (1.0 - lambda)).ln();
            for f in 0..NFIELDS {
                let l = usize::from(levels[f]);
                if l != 0 && l < MAX_LEVELS {
                    lr += (m[f][l].max(1e-12) / u[f][l].max(1e-12)).ln();
                }
            }
            sp += *count as f64 / (1.0 + (-lr).exp());
            sn += *count as f64;
        }
        if sn == 0.0 {
            return lambda;
        }
        let next = (sp / sn).clamp(1e-9, 1.0 - 1e-9);
        if (next - lambda).abs() < 1e-9 {
            return next;
        }
        lambda = next;
    }
    lambda
}

/// Minimum training pairs for a block's EM estimate to be used.
pub const MIN_TRAINING_PAIRS: u64 = 30;

/// Config-given m/u for one field.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FieldMu {
    /// m per non-missing level, in level order.
    #[serde(default)]
    pub m: Option<Vec<f64>>,
    /// u per non-missing level, in level order.
    #[serde(default)]
    pub u: Option<Vec<f64>>,
}

/// Trains the model on the candidate pairs' packed comparison vectors.
#[allow(clippy::too_many_arguments)]
pub fn train(
    p: &Prepared,
    packed: &[u32],
    n_pairs_total: f64,
    configured: &std::collections::BTreeMap<String, FieldMu>,
    prior_weight: Option<f64>,
    samples: u64,
    seed: u64,
    iterations: u32,
    t: Thresholds,
) -> Model {
    let mut u = estimate_u(p, samples, seed, t);
    let m0 = default_m();
    let mut m_source = [Some("default"); NFIELDS];

    // Block A: SSN exact → every field but SSN.
    let block_a = patterns(packed.iter(), |l| l[SSN] == SSN_EXACT);
    let n_a: u64 = block_a.iter().map(|x| x.1).sum();
    let mut m = m0;
    let mut iters = [0u32; 2];
    if n_a >= MIN_TRAINING_PAIRS {
        let (ma, _, it) = em(&block_a, &u, &m0, &[SSN], iterations);
        for f in 0..NFIELDS {
            if f != SSN {
                m[f] = ma[f];
                m_source[f] = Some("em");
            }
        }
        iters[0] = it;
    }
    // Block B: DOB exact and given name agreeing → SSN (and anything block A could not train).
    let block_b = patterns(packed.iter(), |l| {
        l[DOB] == DOB_EXACT && (l[FIRST] == FIRST_EXACT || l[FIRST] == FIRST_NICKNAME)
    });
    let n_b: u64 = block_b.iter().map(|x| x.1).sum();
    if n_b >= MIN_TRAINING_PAIRS {
        let (mb, _, it) = em(&block_b, &u, &m, &[DOB, FIRST], iterations);
        for f in 0..NFIELDS {
            if f == SSN || (n_a < MIN_TRAINING_PAIRS && f != DOB && f != FIRST) {
                m[f] = mb[f];
                m_source[f] = Some("em");
            }
        }
        iters[1] = it;
    }
    // Configured values override.
    for (f, name) in FIELDS.iter().enumerate() {
        if let Some(cfg) = configured.get(*name) {
            let n = nlevels(f);
            if let Some(mv) = cfg.m.as_ref().filter(|v| v.len() == n - 1) {
                m[f][1..n].copy_from_slice(&mv[..n - 1]);
                m_source[f] = Some("config");
            }
            if let Some(uv) = cfg.u.as_ref().filter(|v| v.len() == n - 1) {
                u[f][1..n].copy_from_slice(&uv[..n - 1]);
            }
        }
    }

    let (prior, matches) = match prior_weight {
        Some(w) => (w, n_pairs_total * w.exp2() / (1.0 + w.exp2())),
        None => {
            let all = patterns(packed.iter(), |_| true);
            let n_cand: u64 = all.iter().map(|x| x.1).sum();
            let lambda = em_lambda(&all, &m, &u, iterations.max(50));
            let matches = (lambda * n_cand as f64).max(1.0);
            let non = (n_pairs_total - matches).max(1.0);
            ((matches / non).log2(), matches)
        }
    };

    let fields = (0..NFIELDS)
        .map(|f| {
            let n = nlevels(f);
            let mut weight = vec![0.0; n];
            for l in 1..n {
                weight[l] = (m[f][l].max(1e-12) / u[f][l].max(1e-12)).log2();
            }
            FieldModel {
                field: FIELDS[f].to_string(),
                levels: LEVELS[f].iter().map(|s| (*s).to_string()).collect(),
                m: m[f][..n].to_vec(),
                u: u[f][..n].to_vec(),
                weight,
                m_source: m_source[f].unwrap_or("default").to_string(),
            }
        })
        .collect();
    let locator_given_surname = conditional_locator(p, packed, &m, &u, true);
    let locator_given_other_surname = conditional_locator(p, packed, &m, &u, false);
    Model {
        locator_given_surname,
        locator_given_other_surname,
        prior_weight: prior,
        estimated_matches: matches,
        fields,
        training_pairs: [n_a, n_b],
        em_iterations: iters,
    }
}

/// Locator weights conditional on surname agreement (`same_surname`) or its absence. Among
/// same-surname pairs, address and phone agreement is far more common than among random pairs
/// (relatives, Jr/Sr); among different-surname pairs it is rarer. So u is re-estimated per
/// class: the candidate pairs of the class that clearly disagree on identity (given name, DOB
/// or SSN disagree) counted per locator level, over all pairs of the class.
///
/// That count is complete only for levels that a blocking rule proposes whatever the names
/// (same address, phone or echoed reference). Same-ZIP pairs are proposed only with the same
/// surname code and first initial, so the few pairs counted there would make ZIP agreement
/// look rarer than it is: `zip` and `zip3` keep their unconditional u.
fn conditional_locator(
    p: &Prepared,
    packed: &[u32],
    m: &Table,
    flat_u: &Table,
    same_surname: bool,
) -> Vec<f64> {
    let n = nlevels(LOCATOR);
    let with_surname = |it: &[Person]| it.iter().filter(|x| x.last != NO_NAME).count() as f64;
    let (nd, nr) = (with_surname(&p.debtors.persons), with_surname(&p.records.persons));
    let same = collision(
        p.debtors.persons.iter().map(|x| name_or_zero(x.last)),
        p.records.persons.iter().map(|x| name_or_zero(x.last)),
    )
    .0 * nd
        * nr;
    let class_pairs = if same_surname {
        same
    } else {
        p.debtors.persons.len() as f64 * p.records.persons.len() as f64 - same
    };
    let mut counts = vec![0u64; n];
    for &code in packed {
        let l = compare::unpack(code);
        let identity_differs = l[FIRST] == compare::FIRST_DISAGREE
            || l[DOB] == compare::DOB_DISAGREE
            || l[DOB] == compare::DOB_FAR
            || l[SSN] == 4;
        if compare::surname_agrees(l[LAST]) == same_surname
            && identity_differs
            && let Some(c) = counts.get_mut(usize::from(l[LOCATOR]))
        {
            *c += 1;
        }
    }
    let mut u = vec![0.0; n];
    let mut agree_total = 0.0;
    // Prior: people who share a surname share an address or phone about ten times as often as
    // random people (households), shrunk toward with the same pseudo-count as u; people who
    // do not, about as often as random people.
    let prior = prior_u()[LOCATOR];
    let factor = if same_surname { 10.0 } else { 1.0 };
    let disagree = usize::from(compare::LOC_DISAGREE);
    for lvl in (1..n).filter(|l| *l != disagree) {
        if lvl == usize::from(compare::LOC_ZIP) || lvl == usize::from(compare::LOC_ZIP3) {
            u[lvl] = flat_u[LOCATOR][lvl];
            agree_total += u[lvl];
            continue;
        }
        let estimate = ((counts[lvl] as f64 + 0.5) / class_pairs.max(1.0)).min(0.5);
        u[lvl] = match prior.and_then(|row| row.get(lvl)) {
            Some(p) => shrink(estimate, class_pairs, (p * factor).min(0.5)),
            None => estimate,
        };
        agree_total += u[lvl];
    }
    u[disagree] = (1.0 - agree_total).max(0.01);
    (0..n)
        .map(
            |lvl| {
                if lvl == 0 { 0.0 } else { (m[LOCATOR][lvl].max(1e-12) / u[lvl].max(1e-12)).log2() }
            },
        )
        .collect()
}

/// Weights as a flat table for scoring.
pub fn weight_table(model: &Model) -> Table {
    let mut w = [[0.0; MAX_LEVELS]; NFIELDS];
    for (f, fm) in model.fields.iter().enumerate().take(NFIELDS) {
        for (l, v) in fm.weight.iter().enumerate().take(MAX_LEVELS) {
            w[f][l] = *v;
        }
    }
    w
}

/// Term-frequency-adjusted weight of exact agreement on a name: log2(m_exact / freq(name)),
/// kept within [flat − 4, flat + `up`] so that one rare typo does not dominate.
pub fn tf_weights(
    model: &Model,
    field: usize,
    up: f64,
    freqs: impl Iterator<Item = f64>,
) -> Vec<f64> {
    let fm = model.fields.get(field);
    let m_exact = fm.and_then(|f| f.m.get(1)).copied().unwrap_or(0.9);
    let flat = fm.and_then(|f| f.weight.get(1)).copied().unwrap_or(0.0);
    freqs
        .map(
            |freq| {
                if freq <= 0.0 {
                    flat
                } else {
                    (m_exact / freq).log2().clamp(flat - 4.0, flat + up)
                }
            },
        )
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_m_rows_are_distributions() {
        for (f, row) in default_m().iter().enumerate() {
            let sum: f64 = row.iter().skip(1).sum();
            assert!((sum - 1.0).abs() < 1e-9, "field {f}: m sums to {sum}");
        }
    }

    #[test]
    fn em_separates_two_clusters() {
        // Matches agree on everything; non-matches disagree. EM must find m(exact) high.
        let mut pats: Patterns = Vec::new();
        let mut agree = [1u8; NFIELDS];
        agree[SSN] = 0;
        let mut disagree = [0u8; NFIELDS];
        for (f, slot) in disagree.iter_mut().enumerate() {
            *slot = u8::try_from(nlevels(f) - 1).unwrap_or(1);
        }
        pats.push((agree, 900));
        pats.push((disagree, 100));
        let mut u = [[0.0; MAX_LEVELS]; NFIELDS];
        for (f, row) in u.iter_mut().enumerate() {
            for v in row.iter_mut().take(nlevels(f)).skip(1) {
                *v = 0.01;
            }
            row[nlevels(f) - 1] = 0.9;
            normalise(row, nlevels(f), 1e-9);
        }
        let (m, lambda, _) = em(&pats, &u, &default_m(), &[SSN], 50);
        assert!((lambda - 0.9).abs() < 0.02, "lambda {lambda}");
        assert!(m[DOB][1] > 0.95, "m dob exact {}", m[DOB][1]);
    }
}
