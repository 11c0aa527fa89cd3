//! Matching benchmark: N debtors × N locate records of the skip-trace simulation (default
//! 1,000,000; `cargo bench --bench locate -- 100000` for another size). Prints generation
//! time (excluded), link time, records/s, candidate pairs, blocking recall, precision,
//! recall, F1 and peak RSS (VmHWM). `LOCATE_BENCH_SEED` changes the simulation seed (42).

mod common;

use common::{cpu_seconds, peak_rss_mib};
use std::time::Instant;

use skiptrace::locate::matcher::{Decision, MatchConfig, Matcher};
use skiptrace::synth::{self, SynthConfig};

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .find_map(|a| a.replace('_', "").parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 =
        std::env::var("LOCATE_BENCH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(42);
    let t0 = Instant::now();
    let data = synth::generate(&SynthConfig::new(n, seed));
    let gen_s = t0.elapsed().as_secs_f64();
    println!(
        "simulation: {} debtors x {} locate records, {} true links (seed {seed}); generated in {gen_s:.1} s (excluded)",
        data.debtors.len(),
        data.records.len(),
        data.truth.iter().filter(|t| t.is_some()).count()
    );
    let rss_before = peak_rss_mib();

    let matcher = Matcher::new(&MatchConfig::default());
    let t1 = Instant::now();
    let cpu0 = cpu_seconds();
    let (result, model) = matcher.link_with_model(&data.debtors, &data.records);
    let link_s = t1.elapsed().as_secs_f64();
    let link_cpu = cpu_seconds() - cpu0;
    let peak = peak_rss_mib();

    let records = (data.debtors.len() + data.records.len()) as f64;
    println!(
        "link: {link_s:.2} s wall, {link_cpu:.2} s CPU (user + system, all threads), {:.0} records/s (debtors + locate records)",
        records / link_s
    );
    println!(
        "candidate pairs compared: {} ({:.0} pairs/s); by rule: {:?}",
        result.stats.candidate_pairs,
        result.stats.candidate_pairs as f64 / link_s,
        result.stats.pairs_by_rule
    );
    println!(
        "model: prior {:.2}, estimated matches {:.0}, training pairs {:?}, EM iterations {:?}",
        model.prior_weight, model.estimated_matches, model.training_pairs, model.em_iterations
    );
    for f in &model.fields {
        let w: Vec<String> =
            f.levels.iter().zip(&f.weight).skip(1).map(|(l, w)| format!("{l} {w:+.1}")).collect();
        println!("  {:<12} [{}] {}", f.field, f.m_source, w.join(", "));
    }
    println!(
        "scored pairs (>= review): {}; Jr/Sr guard rejected {}; not best for record {}",
        result.stats.scored_pairs, result.stats.guard_rejected, result.stats.not_best_for_record
    );
    let all = synth::evaluate(&data.truth, result.pairs.iter().map(|p| (p.debtor, p.record)));
    let accept = synth::evaluate(
        &data.truth,
        result
            .pairs
            .iter()
            .filter(|p| p.decision == Decision::Accept)
            .map(|p| (p.debtor, p.record)),
    );
    println!(
        "quality (accept + review): precision {:.4} recall {:.4} F1 {:.4} ({} predicted, {} true)",
        all.precision, all.recall, all.f1, all.predicted, all.true_pairs
    );
    println!(
        "quality (accept only):     precision {:.4} recall {:.4} F1 {:.4}",
        accept.precision, accept.recall, accept.f1
    );
    let cands = matcher.candidate_pairs(&data.debtors, &data.records);
    let blocking = synth::evaluate(&data.truth, cands.iter().copied());
    println!("blocking recall: {:.4}", blocking.recall);
    if std::env::var_os("LOCATE_BENCH_SHOW_UNBLOCKED").is_some() {
        let set: std::collections::HashSet<(usize, usize)> = cands.iter().copied().collect();
        // The comparison patterns the unblocked true pairs would have had.
        let p = skiptrace::locate::matcher::prepare::prepare(&data.debtors, &data.records);
        let t = skiptrace::locate::matcher::compare::Thresholds { far_dob_years: 15 };
        let mut unblocked = std::collections::BTreeMap::new();
        for (r, d) in data.truth.iter().enumerate().filter_map(|(r, d)| d.map(|d| (r, d))) {
            if set.contains(&(d, r)) {
                continue;
            }
            let (Some(dp), Some(rp)) = (p.debtors.persons.get(d), p.records.persons.get(r)) else {
                continue;
            };
            let l = skiptrace::locate::matcher::compare::compare(&p, dp, rp, t);
            let key: Vec<String> = l
                .iter()
                .enumerate()
                .filter(|(_, v)| **v != 0)
                .map(|(f, v)| {
                    let names = skiptrace::locate::matcher::compare::LEVELS[f];
                    format!(
                        "{}={}",
                        skiptrace::locate::matcher::compare::FIELDS[f],
                        names.get(usize::from(*v)).copied().unwrap_or("?")
                    )
                })
                .collect();
            *unblocked.entry(key.join(" ")).or_insert(0u64) += 1;
        }
        let mut v: Vec<_> = unblocked.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1));
        for (k, n) in v.iter().take(20) {
            println!("  UNBLOCKED x{n} {k}");
        }
        for (r, d) in data
            .truth
            .iter()
            .enumerate()
            .filter_map(|(r, d)| d.map(|d| (r, d)))
            .filter(|p| !set.contains(&(p.1, p.0)))
            .take(6)
        {
            let (rec, deb) = (&data.records[r], &data.debtors[d]);
            println!(
                "  unblocked: {:?} {:?} ssn={:?} dob={:?} addr={:?} ph={:?} | debtor {:?} dob={:?} addr={:?}",
                rec.source,
                rec.name,
                rec.ssn,
                rec.dob,
                rec.addresses.iter().map(|a| &a.address.zip).collect::<Vec<_>>(),
                rec.phones.len(),
                deb.name,
                deb.dob,
                deb.addresses.iter().map(|a| &a.zip).collect::<Vec<_>>()
            );
        }
    }
    // Error analysis by record kind.
    let mut fp_kinds = std::collections::BTreeMap::new();
    for p in &result.pairs {
        if data.truth.get(p.record).copied().flatten() != Some(p.debtor) {
            *fp_kinds.entry(format!("{:?}", data.kinds.get(p.record))).or_insert(0u64) += 1;
        }
    }
    println!("false positives by record kind: {fp_kinds:?}");
    if std::env::var_os("LOCATE_BENCH_SHOW_FP").is_some() {
        for p in result
            .pairs
            .iter()
            .filter(|p| data.truth.get(p.record).copied().flatten() != Some(p.debtor))
            .take(8)
        {
            let levels: Vec<String> = p
                .explanation
                .fields
                .iter()
                .map(|f| format!("{}={}({:+.1})", f.field, f.level, f.weight))
                .collect();
            println!(
                "  FP w={:.1} prior={:.1} {}",
                p.weight,
                p.explanation.prior_weight,
                levels.join(" ")
            );
        }
    }
    if std::env::var_os("LOCATE_BENCH_THRESHOLDS").is_some() {
        for review in [-2.0, -1.0, 0.0, 1.0, 2.0] {
            let cfg = MatchConfig { review_weight: review, ..MatchConfig::default() };
            let r = Matcher::new(&cfg).link(&data.debtors, &data.records);
            let q = synth::evaluate(&data.truth, r.pairs.iter().map(|p| (p.debtor, p.record)));
            println!(
                "  review_weight {review:+.0}: precision {:.4} recall {:.4} F1 {:.4}",
                q.precision, q.recall, q.f1
            );
        }
    }
    if std::env::var_os("LOCATE_BENCH_SHOW_FN").is_some() {
        let all_cfg = MatchConfig {
            review_weight: -1000.0,
            accept_weight: 10.0,
            best_debtor_per_record: false,
            ..MatchConfig::default()
        };
        let everything = Matcher::new(&all_cfg).link(&data.debtors, &data.records);
        let predicted: std::collections::HashSet<(usize, usize)> =
            result.pairs.iter().map(|p| (p.debtor, p.record)).collect();
        let mut patterns = std::collections::BTreeMap::new();
        for p in &everything.pairs {
            if data.truth.get(p.record).copied().flatten() == Some(p.debtor)
                && !predicted.contains(&(p.debtor, p.record))
            {
                let key: Vec<String> = p
                    .explanation
                    .fields
                    .iter()
                    .map(|f| format!("{}={}", f.field, f.level))
                    .collect();
                let e = patterns.entry(key.join(" ")).or_insert((0u64, 0.0f64));
                e.0 += 1;
                e.1 = p.weight;
            }
        }
        let mut v: Vec<_> = patterns.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1.0));
        for (k, (n, w)) in v.iter().take(12) {
            println!("  FN x{n} w={w:.1} {k}");
        }
    }
    if std::env::var_os("LOCATE_BENCH_PATTERNS").is_some() {
        // Every candidate pair, unfiltered: per comparison pattern (and whether the echoed
        // reference agrees), true and false pairs and how many true ones the run missed.
        let all_cfg = MatchConfig {
            review_weight: -1000.0,
            best_debtor_per_record: false,
            ..MatchConfig::default()
        };
        let everything = Matcher::new(&all_cfg).link(&data.debtors, &data.records);
        let predicted: std::collections::HashSet<(usize, usize)> =
            result.pairs.iter().map(|p| (p.debtor, p.record)).collect();
        #[derive(Default)]
        struct Row {
            truth: u64,
            missed: u64,
            false_: u64,
            false_kept: u64,
            w_sum: f64,
        }
        let mut rows: std::collections::BTreeMap<String, Row> = std::collections::BTreeMap::new();
        for p in &everything.pairs {
            let rec = &data.records[p.record];
            let deb = &data.debtors[p.debtor];
            let ref_agrees =
                rec.reference.as_ref().is_some_and(|r| deb.account_numbers.contains(r));
            let key: Vec<String> = p
                .explanation
                .fields
                .iter()
                .filter(|f| f.level != "missing" && f.level != "none")
                .map(|f| format!("{}={}", f.field, f.level))
                .collect();
            let key = format!("{} ref={}", key.join(" "), if ref_agrees { "agree" } else { "-" });
            let row = rows.entry(key).or_default();
            row.w_sum += p.weight;
            let kept = predicted.contains(&(p.debtor, p.record));
            if data.truth.get(p.record).copied().flatten() == Some(p.debtor) {
                row.truth += 1;
                row.missed += u64::from(!kept);
            } else {
                row.false_ += 1;
                row.false_kept += u64::from(kept);
            }
        }
        let mut v: Vec<_> = rows.into_iter().collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.1.missed.max(e.1.false_kept)));
        for (k, r) in v.iter().take(40) {
            println!(
                "  PAT true {} missed {} | false {} kept {} | mean w {:.1} | {k}",
                r.truth,
                r.missed,
                r.false_,
                r.false_kept,
                r.w_sum / (r.truth + r.false_) as f64
            );
        }
    }
    println!("stage timings (ms, cumulative): {:?}", result.stats.timings_ms);
    println!("peak RSS (VmHWM): {peak:.0} MiB (after generation: {rss_before:.0} MiB)");
}
