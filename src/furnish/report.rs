//! The cycle report: counts by status, account type, gate and segment, the totals that the
//! trailer must match, validation counts, and the list of excluded accounts with reasons.
//!
//! Rendered as text (for the operator) and JSON (stored in `furnish_cycles.report`). Holds
//! account numbers and reasons only: never an SSN, DOB or name.

use std::collections::BTreeMap;

use serde::Serialize;

use super::record::{FurnishRecord, Status};
use super::rules::Exclusion;

/// Totals of the furnished records, computed from the records themselves; the trailer
/// written by the Metro 2 engine must carry the same numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Base records.
    pub base_records: u64,
    /// Records with status 93.
    pub status_93: u64,
    /// Records with status 62.
    pub status_62: u64,
    /// Records with status DA.
    pub status_da: u64,
    /// Records with status DF.
    pub status_df: u64,
    /// J1 segments.
    pub j1_segments: u64,
    /// J2 segments.
    pub j2_segments: u64,
    /// K1 segments.
    pub k1_segments: u64,
    /// K2 segments.
    pub k2_segments: u64,
    /// L1 segments.
    pub l1_segments: u64,
    /// SSNs reported in Base segments.
    pub ssn_base: u64,
    /// SSNs reported in all segments.
    pub ssn_all: u64,
    /// Dates of birth reported in Base segments.
    pub dob_base: u64,
    /// Dates of birth reported in all segments.
    pub dob_all: u64,
    /// Telephone numbers reported in all segments.
    pub phones_all: u64,
    /// Sum of reported current balances, whole dollars.
    pub current_balance: u64,
}

/// An excluded account as listed in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExcludedAccount {
    /// Client id.
    pub client_id: String,
    /// Account number.
    pub account_number: String,
    /// Gate code.
    pub gate: &'static str,
    /// Reason.
    pub reason: String,
}

/// Validation outcome of the file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ValidationSummary {
    /// Findings of severity error.
    pub errors: u64,
    /// Findings of severity warning.
    pub warnings: u64,
    /// Findings per rule id.
    pub by_rule: BTreeMap<String, u64>,
}

/// The report of one cycle file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct CycleReport {
    /// Cycle date (the as-of date).
    pub cycle_date: String,
    /// Bureau name, or `all` for a shared file.
    pub bureau: String,
    /// File name.
    pub file: String,
    /// `published`, `blocked` or `dry_run`.
    pub outcome: String,
    /// Accounts read (= furnished + excluded).
    pub accounts: u64,
    /// Accounts furnished (records in the file).
    pub furnished: u64,
    /// Accounts not furnished.
    pub excluded: u64,
    /// Furnished records by Metro 2 status.
    pub by_status: BTreeMap<&'static str, u64>,
    /// Furnished records by account type.
    pub by_account_type: BTreeMap<String, u64>,
    /// Excluded accounts by gate.
    pub by_gate: BTreeMap<&'static str, u64>,
    /// DA/DF records by the gate that deleted them.
    pub deleted_by_gate: BTreeMap<&'static str, u64>,
    /// Segments written, by segment id.
    pub segments: BTreeMap<&'static str, u64>,
    /// Compliance condition codes reported.
    pub compliance_codes: BTreeMap<&'static str, u64>,
    /// Special comments reported.
    pub special_comments: BTreeMap<&'static str, u64>,
    /// Totals computed from the records.
    pub totals: Totals,
    /// True when the trailer written matches [`CycleReport::totals`].
    pub trailer_matches: bool,
    /// Validation counts.
    pub validation: ValidationSummary,
    /// Excluded accounts (at most `report_list_limit`; all are in `furnish_exclusions`).
    pub exclusions: Vec<ExcludedAccount>,
    /// Exclusions not listed because of the limit.
    pub exclusions_not_listed: u64,
}

impl CycleReport {
    /// An empty report for one file.
    pub fn new(cycle_date: &str, bureau: &str, file: &str) -> CycleReport {
        CycleReport {
            cycle_date: cycle_date.to_string(),
            bureau: bureau.to_string(),
            file: file.to_string(),
            ..CycleReport::default()
        }
    }

    /// Counts a furnished record.
    pub fn add_record(&mut self, r: &FurnishRecord) {
        self.accounts += 1;
        self.furnished += 1;
        *self.by_status.entry(r.status.code()).or_default() += 1;
        *self.by_account_type.entry(r.account_type.clone()).or_default() += 1;
        if let Some(g) = r.deleted_by {
            *self.deleted_by_gate.entry(g).or_default() += 1;
        }
        if !r.ccc.is_empty() {
            *self.compliance_codes.entry(r.ccc).or_default() += 1;
        }
        if !r.special_comment.is_empty() {
            *self.special_comments.entry(r.special_comment).or_default() += 1;
        }
        let t = &mut self.totals;
        t.base_records += 1;
        match r.status {
            Status::Collection => t.status_93 += 1,
            Status::Paid => t.status_62 += 1,
            Status::Delete => t.status_da += 1,
            Status::DeleteFraud => t.status_df += 1,
        }
        let (j1, j2) = (r.j1_count() as u64, r.j2_count() as u64);
        t.j1_segments += j1;
        t.j2_segments += j2;
        t.k1_segments += 1;
        t.k2_segments += u64::from(r.purchased_from.is_some());
        t.l1_segments += u64::from(r.change.is_some());
        t.ssn_base += u64::from(r.consumer.ssn.is_some());
        t.dob_base += u64::from(r.consumer.dob.is_some());
        t.ssn_all += u64::from(r.consumer.ssn.is_some());
        t.dob_all += u64::from(r.consumer.dob.is_some());
        t.phones_all += u64::from(r.consumer.phone.is_some());
        for a in &r.associates {
            t.ssn_all += u64::from(a.ssn.is_some());
            t.dob_all += u64::from(a.dob.is_some());
            t.phones_all += u64::from(a.phone.is_some());
        }
        t.current_balance += r.current_balance;
        for (seg, n) in [
            ("J1", j1),
            ("J2", j2),
            ("K1", 1),
            ("K2", u64::from(r.purchased_from.is_some())),
            ("L1", u64::from(r.change.is_some())),
        ] {
            if n > 0 {
                *self.segments.entry(seg).or_default() += n;
            }
        }
    }

    /// Counts an excluded account (listing it while under `limit`).
    pub fn add_exclusion(
        &mut self,
        client_id: &str,
        account_number: &str,
        e: &Exclusion,
        limit: usize,
    ) {
        self.accounts += 1;
        self.excluded += 1;
        *self.by_gate.entry(e.gate.code()).or_default() += 1;
        if self.exclusions.len() < limit {
            self.exclusions.push(ExcludedAccount {
                client_id: client_id.to_string(),
                account_number: account_number.to_string(),
                gate: e.gate.code(),
                reason: e.reason.clone(),
            });
        } else {
            self.exclusions_not_listed += 1;
        }
    }

    /// The report as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The report as text for the operator, with the list of excluded accounts.
    pub fn to_text(&self) -> String {
        self.to_text_with(true)
    }

    /// The report as text; `list_exclusions = false` gives the compact form (counts only)
    /// that the nightly batch prints.
    pub fn to_text_with(&self, list_exclusions: bool) -> String {
        let mut lines: Vec<String> = vec![
            format!(
                "furnish {} {}: {} ({})",
                self.cycle_date, self.bureau, self.outcome, self.file
            ),
            format!(
                "  accounts {} = furnished {} + excluded {}",
                self.accounts, self.furnished, self.excluded
            ),
        ];
        let mut line = |title: &str, parts: Vec<String>| {
            if !parts.is_empty() {
                lines.push(format!("  {title}: {}", parts.join(", ")));
            }
        };
        let kv = |m: &BTreeMap<&'static str, u64>| -> Vec<String> {
            m.iter().map(|(k, v)| format!("{k} {v}")).collect()
        };
        line("by status", kv(&self.by_status));
        line(
            "by account type",
            self.by_account_type.iter().map(|(k, v)| format!("{k} {v}")).collect(),
        );
        line("segments", kv(&self.segments));
        line("compliance codes", kv(&self.compliance_codes));
        line("special comments", kv(&self.special_comments));
        line("deleted (DA/DF) by gate", kv(&self.deleted_by_gate));
        line("excluded by gate", kv(&self.by_gate));
        let t = &self.totals;
        lines.push(format!(
            "  totals: base {} (93 {}, 62 {}, DA {}, DF {}), balance ${}; trailer {}",
            t.base_records,
            t.status_93,
            t.status_62,
            t.status_da,
            t.status_df,
            t.current_balance,
            if self.trailer_matches { "matches" } else { "DOES NOT MATCH" }
        ));
        lines.push(format!(
            "  validation: {} errors, {} warnings",
            self.validation.errors, self.validation.warnings
        ));
        for (rule, n) in &self.validation.by_rule {
            lines.push(format!("    {rule}: {n}"));
        }
        if !list_exclusions && !self.exclusions.is_empty() {
            lines.push(format!(
                "  excluded accounts: {} (listed by `skiptrace furnish --format json` and in furnish_exclusions)",
                self.excluded
            ));
        } else if !self.exclusions.is_empty() {
            lines.push("  excluded accounts:".to_string());
            for e in &self.exclusions {
                lines.push(format!(
                    "    {} {}: {}: {}",
                    e.client_id, e.account_number, e.gate, e.reason
                ));
            }
            if self.exclusions_not_listed > 0 {
                lines.push(format!(
                    "    ... {} more (see furnish_exclusions)",
                    self.exclusions_not_listed
                ));
            }
        }
        let mut s = lines.join("\n");
        s.push('\n');
        s
    }
}
