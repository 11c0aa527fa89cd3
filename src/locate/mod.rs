//! Locate (skip tracing): accounts that lost contact, matched against locate sources.
//!
//! The stage runs in four steps, each in its own module: [`select`] picks the accounts that
//! need a locate and builds one [`record::Debtor`] per consumer; [`sources`] read each
//! configured source (files through a [`mapping`], vendor APIs with cache and audit) into
//! [`record::LocateRecord`]s; [`matcher`] scores debtor × record pairs; [`leads`] stores the
//! results (leads, flag hits, automatic contact updates) and writes the lead files.
//! [`run_locate`] runs them in order; `skiptrace locate` and the nightly `skiptrace run` both
//! call it. This module owns the `[locate]` configuration; it must not print (commands do).

pub mod leads;
pub mod mapping;
pub mod matcher;
pub mod ncoa;
pub mod record;
pub mod select;
pub mod sources;

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::ConfigError;
use crate::exit::ExitStatus;
use crate::locate::leads::{LeadFilter, LeadStats, RunState};
use crate::locate::matcher::{Decision, LinkResult, Matcher};
use crate::locate::record::LocateRecord;
use crate::locate::sources::{ApiStats, SourceConfig, SourceKind};
use crate::progress::Progress;
use crate::store::Db;

/// `[locate]` settings: sources and matching thresholds.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocateConfig {
    /// `[locate.matching]`: thresholds and model settings.
    #[serde(default)]
    pub matching: matcher::MatchConfig,
    /// `[locate.selection]`: which accounts need a locate.
    #[serde(default)]
    pub selection: select::SelectionConfig,
    /// `[locate.sources.<name>]`: the locate sources, run in name order.
    #[serde(default)]
    pub sources: BTreeMap<String, SourceConfig>,
}

/// What one `locate` run should do (the run's flags).
#[derive(Clone, Debug)]
pub struct LocateOptions {
    /// Business date.
    pub as_of: Date,
    /// Only these sources (empty: every enabled source).
    pub sources: Vec<String>,
    /// Directory for `leads.csv` and `leads.json`.
    pub out_dir: PathBuf,
    /// Where to write every scored candidate pair, when asked.
    pub matches_out: Option<PathBuf>,
    /// Progress bars for file reading, vendor look-ups and matching.
    pub progress: Progress,
}

/// Counters of one source in one run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct SourceSummary {
    /// Source name.
    pub name: String,
    /// Source kind.
    pub kind: String,
    /// Why it was skipped, when it was.
    pub skipped: Option<String>,
    /// Records read (accepted + rejected).
    pub records_read: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Rejects file, when written.
    pub rejects_file: Option<PathBuf>,
    /// First rejects, described (PII-safe), for the terminal.
    pub reject_samples: Vec<String>,
    /// Candidate pairs compared by the matcher.
    pub candidate_pairs: u64,
    /// Leads and flags.
    pub leads: LeadStats,
    /// API counters (API sources).
    pub api: Option<ApiStats>,
    /// Vendor failures, each naming the source and the record.
    pub vendor_errors: Vec<String>,
    /// Why the source could not be read at all.
    pub error: Option<String>,
}

/// The outcome of [`run_locate`].
#[derive(Clone, Debug, Serialize)]
pub struct LocateOutcome {
    /// Accounts selected.
    pub selected_accounts: u64,
    /// Debtors (consumers) looked for.
    pub debtors: u64,
    /// Selected accounts per reason.
    pub reasons: BTreeMap<&'static str, u64>,
    /// Per-source counters, in run order.
    pub sources: Vec<SourceSummary>,
    /// Leads written to the lead files.
    pub leads_written: u64,
    /// The lead files.
    pub lead_files: Vec<PathBuf>,
    /// The matches file, when written.
    pub matches_file: Option<PathBuf>,
    /// Exit status: 1 when records were rejected, 3 when a vendor gave up.
    #[serde(skip)]
    pub status: ExitStatus,
}

/// The sources to run: `wanted` (checked against the config) or every enabled one.
fn chosen_sources<'a>(
    cfg: &'a LocateConfig,
    wanted: &[String],
) -> Result<Vec<(&'a String, &'a SourceConfig)>, ConfigError> {
    if wanted.is_empty() {
        return Ok(cfg.sources.iter().filter(|(_, s)| s.enabled).collect());
    }
    let mut out = Vec::new();
    for w in wanted {
        match cfg.sources.get_key_value(w) {
            Some(kv) => out.push(kv),
            None => {
                let known: Vec<&str> = cfg.sources.keys().map(String::as_str).collect();
                return Err(ConfigError(format!(
                    "unknown locate source {w:?} (configured: {})",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                )));
            }
        }
    }
    Ok(out)
}

/// Runs the locate stage inside run `run_id`: selection, sources, matching, leads, files.
pub fn run_locate(
    db: &Db,
    config: &Config,
    opts: &LocateOptions,
    run_id: i64,
) -> anyhow::Result<LocateOutcome> {
    let empty = LocateConfig::default();
    let cfg = config.raw.locate.as_ref().unwrap_or(&empty);
    let chosen = chosen_sources(cfg, &opts.sources)?;
    // Check every chosen source and its mapping before doing anything.
    let mut mappings = Vec::new();
    for (name, s) in &chosen {
        s.check(name)?;
        let m = mapping::Mapping::load(&config.resolve(&s.mapping))?;
        s.check_mapping(name, &m)?;
        mappings.push(m);
    }
    let selection = select::select(db, &cfg.selection, opts.as_of)?;
    tracing::info!(
        accounts = selection.accounts.len(),
        debtors = selection.debtors.len(),
        "Accounts selected for locate."
    );
    let matcher = Matcher::new(&cfg.matching);
    let mut outcome = LocateOutcome {
        selected_accounts: selection.accounts.len() as u64,
        debtors: selection.debtors.len() as u64,
        reasons: selection.reason_counts(),
        sources: Vec::new(),
        leads_written: 0,
        lead_files: Vec::new(),
        matches_file: None,
        status: ExitStatus::Ok,
    };
    let mut state = RunState::default();
    let mut status = ExitStatus::Ok;
    let mut matches: Vec<MatchRow> = Vec::new();
    // (index in `outcome.sources`, the records some pair matched, their linkage) per source.
    let mut linked: Vec<(usize, Vec<LocateRecord>, LinkResult)> = Vec::new();
    for ((name, s), m) in chosen.into_iter().zip(&mappings) {
        let mut summary = SourceSummary {
            name: name.clone(),
            kind: s.kind.as_str().into(),
            ..Default::default()
        };
        let path = config.resolve(s.path.as_deref().unwrap_or(std::path::Path::new("")));
        let read = match s.kind {
            SourceKind::VendorApi => {
                sources::api::read(db, run_id, name, s, m, &selection.debtors, &opts.progress)
            }
            SourceKind::VendorXml | SourceKind::NcoaCsv | SourceKind::VendorCsv => {
                let size = std::fs::metadata(&path).map(|md| md.len()).unwrap_or(0);
                let bar = opts.progress.bytes(size, name);
                let r = if s.kind == SourceKind::VendorXml {
                    sources::xml::read(&path, name, s.kind, m, &bar)
                } else {
                    sources::csv::read(&path, name, s.kind, m, &bar)
                };
                bar.finish_and_clear();
                r
            }
        };
        // A source that cannot be read at all (missing file, missing column) fails the run
        // (exit 6) but not the other sources.
        let read = match read {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(source = name.as_str(), "Locate source failed.");
                summary.error = Some(format!("{e:#}"));
                status = status.worst(ExitStatus::Failure);
                outcome.sources.push(summary);
                continue;
            }
        };
        if s.kind != SourceKind::VendorApi {
            db.audit(
                Some(run_id),
                &crate::store::actor(),
                "locate.source_file",
                Some(&format!("source:{name}")),
                &serde_json::json!({
                    "kind": s.kind.as_str(),
                    "file": path.file_name().map(|n| n.to_string_lossy().into_owned()),
                    // The content hash of exactly the bytes that were read.
                    "sha256": read.sha256,
                    "permissible_purpose": s.permissible_purpose,
                    "records_read": read.rows,
                    "rejected": read.rejects.len(),
                }),
            )?;
        }
        tracing::info!(
            source = name.as_str(),
            kind = s.kind.as_str(),
            records = read.rows,
            rejected = read.rejects.len(),
            skipped = read.skipped.is_some(),
            "Locate source read."
        );
        summary.skipped = read.skipped.clone();
        summary.records_read = read.rows;
        summary.rejected = read.rejects.len() as u64;
        summary.rejects_file = read.rejects_path.clone();
        let file_label = match (&s.path, s.kind) {
            (Some(p), _) => {
                p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            }
            (None, _) => name.clone(),
        };
        summary.reject_samples =
            read.rejects.iter().take(20).map(|r| r.describe(&file_label)).collect();
        if s.kind == SourceKind::VendorApi {
            summary.api = Some(read.api.clone());
        }
        summary.vendor_errors = read.vendor_errors.clone();
        if !read.rejects.is_empty() {
            status = status.worst(ExitStatus::Rejects);
        }
        if !read.vendor_errors.is_empty() {
            status = status.worst(ExitStatus::Vendor);
        }
        if read.skipped.is_none() && !read.records.is_empty() && !selection.debtors.is_empty() {
            let spinner = opts.progress.items(0, &format!("{name}: matching"));
            spinner.enable_steady_tick(std::time::Duration::from_millis(250));
            let link = matcher.link(&selection.debtors, &read.records);
            spinner.finish_and_clear();
            summary.candidate_pairs = link.stats.candidate_pairs;
            for p in &link.pairs {
                let (Some(d), Some(r)) =
                    (selection.debtors.get(p.debtor), read.records.get(p.record))
                else {
                    continue;
                };
                matches.push(MatchRow {
                    account_number: d.account_numbers.first().cloned().unwrap_or_default(),
                    consumer_id: d.consumer_id,
                    source: name.clone(),
                    source_record_id: r.source_record_id.clone(),
                    score: p.weight,
                    probability: p.probability,
                    decision: leads::capped(p.decision, r),
                });
            }
            let (records, link) = matched_only(read.records, link);
            linked.push((outcome.sources.len(), records, link));
        }
        outcome.sources.push(summary);
    }
    // Every source's matches are stored in one transaction, in source order (each source sees
    // what the ones before it applied): a run stopped before the commit leaves nothing of the
    // stage but the vendor answers already paid for (cached as they came), so a re-run selects
    // the same debtors and stores what an uninterrupted run stores.
    let tx = db.conn().unchecked_transaction()?;
    for (i, records, link) in linked {
        let stats = leads::store_matches(
            &tx,
            run_id,
            opts.as_of,
            &selection.debtors,
            &records,
            &link,
            &mut state,
        )?;
        if let Some(summary) = outcome.sources.get_mut(i) {
            summary.leads = stats;
        }
    }
    tx.commit()?;

    // The lead files: every lead this run found, new or known, by id.
    let ids: Vec<i64> = state.lead_ids.iter().copied().collect();
    let views = if ids.is_empty() {
        Vec::new()
    } else {
        leads::list_leads(db.conn(), &LeadFilter { ids, ..LeadFilter::default() })?
    };
    leads::write_lead_files(&opts.out_dir, &views)?;
    outcome.leads_written = views.len() as u64;
    outcome.lead_files = vec![opts.out_dir.join("leads.csv"), opts.out_dir.join("leads.json")];
    db.audit(
        Some(run_id),
        &crate::store::actor(),
        "export.leads",
        Some(&format!("file:{}", opts.out_dir.join("leads.csv").display())),
        &serde_json::json!({"leads": views.len(), "as_of": opts.as_of.to_string()}),
    )?;
    if let Some(path) = &opts.matches_out {
        write_matches(path, &matches)?;
        outcome.matches_file = Some(path.clone());
        db.audit(
            Some(run_id),
            &crate::store::actor(),
            "export.matches",
            Some(&format!("file:{}", path.display())),
            &serde_json::json!({"pairs": matches.len()}),
        )?;
    }
    outcome.status = status;
    Ok(outcome)
}

/// One scored candidate pair for `--matches-out`.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchRow {
    /// The debtor's first selected account number.
    pub account_number: String,
    /// Consumer id.
    pub consumer_id: i64,
    /// Source name.
    pub source: String,
    /// Source record id.
    pub source_record_id: String,
    /// Match weight.
    pub score: f64,
    /// Match probability.
    pub probability: f64,
    /// Decision (after the source's rules).
    pub decision: matcher::Decision,
}

/// Writes `account_number, consumer_id, source, source_record_id, score, probability, decision`.
pub fn write_matches(path: &std::path::Path, rows: &[MatchRow]) -> anyhow::Result<()> {
    crate::fsutil::write_atomic(path, |w| {
        let mut out = ::csv::Writer::from_writer(w);
        out.write_record([
            "account_number",
            "consumer_id",
            "source",
            "source_record_id",
            "score",
            "probability",
            "decision",
        ])?;
        for r in rows {
            let decision = match r.decision {
                matcher::Decision::Accept => "accept",
                matcher::Decision::Review => "review",
                matcher::Decision::Reject => "reject",
            };
            out.write_record([
                r.account_number.clone(),
                r.consumer_id.to_string(),
                r.source.clone(),
                r.source_record_id.clone(),
                format!("{:.3}", r.score),
                format!("{:.6}", r.probability),
                decision.to_string(),
            ])?;
        }
        out.flush()?;
        Ok(())
    })
}

impl LocateOutcome {
    /// The per-source summary for the terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        // Writing to a String cannot fail.
        self.render_into(&mut s).ok();
        s
    }

    fn render_into(&self, s: &mut String) -> std::fmt::Result {
        use std::fmt::Write as _;
        let reasons: Vec<String> = self.reasons.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(
            s,
            "locate: {} account(s) selected for {} debtor(s){}",
            self.selected_accounts,
            self.debtors,
            if reasons.is_empty() { String::new() } else { format!(" ({})", reasons.join(", ")) }
        )?;
        for src in &self.sources {
            if let Some(why) = &src.skipped {
                writeln!(s, "  {} [{}]: skipped: {why}", src.name, src.kind)?;
                continue;
            }
            if src.error.is_some() {
                writeln!(s, "  {} [{}]: failed (see the error above)", src.name, src.kind)?;
                continue;
            }
            let l = &src.leads;
            let kinds = ["address", "phone", "email"]
                .iter()
                .map(|k| format!("{} {k}", l.new_leads.get(*k).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(", ");
            writeln!(
                s,
                "  {} [{}]: {} read, {} rejected, {} matched; new leads: {kinds} \
                 ({} auto-accepted, {} for review, {} already known); \
                 {} deceased hit(s), {} bankruptcy hit(s), {} address(es) marked bad",
                src.name,
                src.kind,
                src.records_read,
                src.rejected,
                l.matched_records,
                l.auto_accepted,
                l.pending,
                l.existing_leads + l.already_current + l.already_previous,
                l.deceased_hits,
                l.bankruptcy_hits,
                l.addresses_marked_bad,
            )?;
            if let Some(api) = &src.api {
                writeln!(
                    s,
                    "    API: {} lookup(s), {} request(s) sent, {} cache hit(s), {} billable call(s), {} failed",
                    api.lookups, api.requests, api.cache_hits, api.billable_calls, api.failed
                )?;
            }
            if let Some(p) = &src.rejects_file {
                writeln!(s, "    rejects: {}", p.display())?;
            }
        }
        writeln!(
            s,
            "leads: {} written to {}",
            self.leads_written,
            self.lead_files.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        )?;
        if let Some(m) = &self.matches_file {
            writeln!(s, "matches: {}", m.display())?;
        }
        Ok(())
    }
}

/// The records of a linkage that some pair kept (not rejected), with the pairs renumbered to
/// them: what storing needs, without holding every record of every source until then.
fn matched_only(
    records: Vec<LocateRecord>,
    mut link: LinkResult,
) -> (Vec<LocateRecord>, LinkResult) {
    let mut new_index: Vec<Option<usize>> = vec![None; records.len()];
    link.pairs.retain(|p| p.decision != Decision::Reject && p.record < records.len());
    let mut wanted = 0;
    for p in &link.pairs {
        if let Some(slot @ None) = new_index.get_mut(p.record) {
            *slot = Some(0);
            wanted += 1;
        }
    }
    let mut kept = Vec::with_capacity(wanted);
    for (i, r) in records.into_iter().enumerate() {
        if let Some(slot @ Some(_)) = new_index.get_mut(i) {
            *slot = Some(kept.len());
            kept.push(r);
        }
    }
    for p in &mut link.pairs {
        if let Some(Some(n)) = new_index.get(p.record) {
            p.record = *n;
        }
    }
    (kept, link)
}
