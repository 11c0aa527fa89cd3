//! The furnishing rules: for one account and one cycle, either the record to report (the
//! collection-account profile of metro2.md §5.2a) or the gate that keeps it out, with a reason
//! safe to print (never an SSN or DOB).
//!
//! Order of decision: earlier deletions (DF is final), fraud, dispute deletions, the
//! do-not-furnish flag, client recalls and closures, obsolescence, the medical-debt policy,
//! then — for an account never furnished to this bureau — the Regulation F contact rule.
//! An account held by a gate that was on file at the bureau is deleted (DA, or DF for fraud)
//! instead. Whatever is to be reported is then checked for data errors: a record with errors
//! goes to the exceptions list and is never furnished broken.
//!
//! Pure functions: no database, no I/O.

use std::collections::BTreeMap;

use jiff::civil::Date;

use super::FurnishConfig;
use super::account::{Account, Address, Person};
use super::record::{Change, FurnishRecord, Status, Subject};
use crate::dates::{add_days, add_years};
use crate::money::{Money, whole_dollars};

/// Why an account is not furnished (or was deleted) this cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Gate {
    /// Regulation F §1006.30(a): no conversation, and no validation notice sent long enough
    /// ago without a notice of undeliverability.
    NotContacted,
    /// FCRA §605: DOFD + 180 days + 7 years reached.
    Obsolete,
    /// Unpaid medical debt less than the waiting period past its DOFD.
    MedicalTooRecent,
    /// Medical debt placed under the minimum amount.
    MedicalUnderThreshold,
    /// Paid (or settled) medical debt.
    MedicalPaid,
    /// Recalled by the client.
    Recalled,
    /// Closed by the client.
    ClosedByClient,
    /// The account's furnish flag is off.
    DoNotFurnish,
    /// Confirmed identity theft.
    Fraud,
    /// A dispute ended with the account's deletion.
    DisputeDeleted,
    /// Deleted in an earlier cycle and still not furnishable.
    AlreadyDeleted,
    /// The record would be wrong or incomplete (exceptions list).
    DataError,
}

impl Gate {
    /// Every gate, in report order.
    pub const ALL: [Gate; 12] = [
        Gate::NotContacted,
        Gate::Obsolete,
        Gate::MedicalTooRecent,
        Gate::MedicalUnderThreshold,
        Gate::MedicalPaid,
        Gate::Recalled,
        Gate::ClosedByClient,
        Gate::DoNotFurnish,
        Gate::Fraud,
        Gate::DisputeDeleted,
        Gate::AlreadyDeleted,
        Gate::DataError,
    ];

    /// The snake_case code stored in `furnish_exclusions.gate` and the report.
    pub fn code(self) -> &'static str {
        match self {
            Gate::NotContacted => "not_contacted",
            Gate::Obsolete => "obsolete",
            Gate::MedicalTooRecent => "medical_too_recent",
            Gate::MedicalUnderThreshold => "medical_under_threshold",
            Gate::MedicalPaid => "medical_paid",
            Gate::Recalled => "recalled",
            Gate::ClosedByClient => "closed_by_client",
            Gate::DoNotFurnish => "do_not_furnish",
            Gate::Fraud => "fraud",
            Gate::DisputeDeleted => "dispute_deleted",
            Gate::AlreadyDeleted => "already_deleted",
            Gate::DataError => "data_error",
        }
    }
}

/// An account deliberately not furnished, with its gate and a printable reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exclusion {
    /// The gate.
    pub gate: Gate,
    /// Plain-language reason (dates and codes only; no SSN or DOB).
    pub reason: String,
}

/// The outcome for one account.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Report this record.
    Furnish(Box<FurnishRecord>),
    /// Do not report; say why.
    Exclude(Exclusion),
}

/// What the rules need besides the account.
pub struct RuleContext<'a> {
    /// Cycle date.
    pub as_of: Date,
    /// Policy settings.
    pub config: &'a FurnishConfig,
    /// Identification number per client id (`""` holds the `[furnish]` default).
    pub identification_numbers: &'a BTreeMap<String, String>,
}

/// Field widths of the Metro 2 character format for the free-text values we fill
/// (metro2.md §3); longer values are data errors, never truncated.
pub mod width {
    /// Consumer account number (Base 7, L1 3).
    pub const ACCOUNT_NUMBER: usize = 30;
    /// Identification number (Base 5).
    pub const IDENTIFICATION_NUMBER: usize = 20;
    /// Surname.
    pub const SURNAME: usize = 25;
    /// First name.
    pub const FIRST_NAME: usize = 20;
    /// Middle name.
    pub const MIDDLE_NAME: usize = 20;
    /// Address lines.
    pub const ADDRESS_LINE: usize = 32;
    /// City.
    pub const CITY: usize = 20;
    /// K1 original creditor / K2 purchased-from name.
    pub const CREDITOR: usize = 30;
}

/// Decides one account.
pub fn decide(acc: &Account, cx: &RuleContext<'_>) -> Decision {
    let prior_live = acc.prior.as_ref().is_some_and(|p| p.is_live());
    let held = hold(acc, cx);
    let status = match held {
        Some((gate, reason)) => {
            if !prior_live {
                let gate = if acc.prior.is_some() && gate != Gate::NotContacted {
                    // It was deleted before; keep it deleted, but say why it stays out.
                    return Decision::Exclude(Exclusion {
                        gate: Gate::AlreadyDeleted,
                        reason: format!("deleted in an earlier cycle; still held: {reason}"),
                    });
                } else {
                    gate
                };
                return Decision::Exclude(Exclusion { gate, reason });
            }
            if gate == Gate::Fraud {
                (Status::DeleteFraud, Some(gate))
            } else {
                (Status::Delete, Some(gate))
            }
        }
        None => match acc.status.as_str() {
            "paid" | "settled" => (Status::Paid, None),
            _ => (Status::Collection, None),
        },
    };
    match build(acc, cx, status.0, status.1) {
        Ok(rec) => Decision::Furnish(Box::new(rec)),
        Err(errors) => {
            Decision::Exclude(Exclusion { gate: Gate::DataError, reason: errors.join("; ") })
        }
    }
}

/// The gate that holds the account, if any.
fn hold(acc: &Account, cx: &RuleContext<'_>) -> Option<(Gate, String)> {
    let cfg = cx.config;
    if acc.prior.as_ref().is_some_and(|p| p.status == "DF") {
        return Some((Gate::Fraud, "deleted as fraud (DF); never furnished again".into()));
    }
    if acc.fraud_confirmed {
        return Some((Gate::Fraud, "identity theft confirmed".into()));
    }
    if acc.disputes.deleted_fraud {
        return Some((Gate::Fraud, "dispute closed as fraud".into()));
    }
    if acc.disputes.deleted {
        return Some((Gate::DisputeDeleted, "dispute closed with deletion".into()));
    }
    if !acc.furnish {
        return Some((Gate::DoNotFurnish, "account marked do-not-furnish".into()));
    }
    match acc.status.as_str() {
        "recalled" => return Some((Gate::Recalled, "recalled by the client".into())),
        "closed" => return Some((Gate::ClosedByClient, "closed by the client".into())),
        _ => {}
    }
    if let Some(dofd) = acc.dofd {
        let obsolete_on = add_years(add_days(dofd, 180), 7);
        let stop_on = add_days(obsolete_on, -i64::from(cfg.obsolete_margin_days));
        if stop_on <= cx.as_of {
            return Some((
                Gate::Obsolete,
                format!(
                    "DOFD {dofd} + 180 days + 7 years = {obsolete_on}, on or before the cycle date"
                ),
            ));
        }
    }
    if acc.medical {
        if matches!(acc.status.as_str(), "paid" | "settled") {
            return Some((Gate::MedicalPaid, format!("medical debt {}", acc.status)));
        }
        if let Some(placed) = acc.placed_amount
            && placed.amount() < cfg.medical_min_amount
        {
            return Some((
                Gate::MedicalUnderThreshold,
                format!(
                    "medical debt placed at {placed} (under {})",
                    Money(cfg.medical_min_amount)
                ),
            ));
        }
        if let Some(dofd) = acc.dofd {
            let from = add_days(dofd, i64::from(cfg.medical_wait_days));
            if cx.as_of < from {
                return Some((
                    Gate::MedicalTooRecent,
                    format!("unpaid medical debt, DOFD {dofd}: not reported before {from}"),
                ));
            }
        }
    }
    if acc.prior.is_none()
        && let Some(reason) = not_contacted(acc, cx)
    {
        return Some((Gate::NotContacted, reason));
    }
    None
}

/// Regulation F §1006.30(a): `None` when the consumer was contacted, else why not.
fn not_contacted(acc: &Account, cx: &RuleContext<'_>) -> Option<String> {
    if acc.first_communication_date.is_some_and(|d| d <= cx.as_of) {
        return None;
    }
    let Some(notice) = acc.validation_notice_date.filter(|d| *d <= cx.as_of) else {
        return Some("no conversation and no validation notice on file".into());
    };
    if let Some(u) = acc.undeliverable_date.filter(|u| *u >= notice && *u <= cx.as_of) {
        return Some(format!(
            "validation notice of {notice} returned undeliverable on {u}; no conversation"
        ));
    }
    let ready = add_days(notice, i64::from(cx.config.contact_wait_days));
    if cx.as_of < ready {
        return Some(format!(
            "validation notice sent {notice}; waiting for undeliverable returns until {ready}"
        ));
    }
    None
}

fn bankruptcy_cii(p: &Person, prior_cii: Option<&str>) -> String {
    let Some(chapter) = p.bankruptcy_chapter.as_deref() else {
        return String::new();
    };
    let idx = match chapter.trim() {
        "7" => Some(0u8),
        "11" => Some(1),
        "12" => Some(2),
        "13" => Some(3),
        _ => None,
    };
    let status = p.bankruptcy_status.as_deref().unwrap_or("petition");
    match (status, idx) {
        ("petition", Some(i)) => char::from(b'A' + i).to_string(),
        ("discharged", Some(i)) => char::from(b'E' + i).to_string(),
        ("petition" | "discharged", None) => "Z".to_string(),
        // Dismissed or withdrawn: remove a previously reported bankruptcy indicator.
        _ => match prior_cii {
            Some(c) if c.len() == 1 && matches!(c.as_bytes()[0], b'A'..=b'H' | b'Z') => "Q".into(),
            _ => String::new(),
        },
    }
}

/// Characters the value takes once transliterated to ASCII (as the writer encodes it); ASCII
/// text is its own transliteration, so its length is its byte count.
fn text_len(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { deunicode::deunicode(s).chars().count() }
}

fn check_len(errors: &mut Vec<String>, field: &str, value: &str, max: usize) {
    check_len_of(errors, "", field, value, max);
}

/// [`check_len`] for a field of `who` (`"consumer"`, `"associate 1"`): the field's name is
/// only formatted when the value is too long.
fn check_len_of(errors: &mut Vec<String>, who: &str, field: &str, value: &str, max: usize) {
    let len = text_len(value);
    if len > max {
        let sep = if who.is_empty() { "" } else { " " };
        errors.push(format!("field_too_long: {who}{sep}{field} has {len} characters (max {max})"));
    }
}

fn check_person(errors: &mut Vec<String>, who: &str, p: &Person) {
    if p.surname.trim().is_empty() || p.first_name.trim().is_empty() {
        errors.push(format!("missing_name: {who} surname and first name are required"));
    }
    check_len_of(errors, who, "surname", &p.surname, width::SURNAME);
    check_len_of(errors, who, "first name", &p.first_name, width::FIRST_NAME);
    check_len_of(errors, who, "middle name", &p.middle_name, width::MIDDLE_NAME);
    if p.ssn.is_none() && p.dob.is_none() {
        errors.push(format!("missing_ssn_and_dob: {who} has no valid SSN and no date of birth"));
    }
    if !matches!(
        p.generation.as_str(),
        "" | "J" | "S" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9"
    ) {
        errors.push(format!("invalid_generation: {who} generation code {:?}", p.generation));
    }
}

fn check_address(errors: &mut Vec<String>, who: &str, a: &Address) {
    if a.line1.trim().is_empty() || a.city.trim().is_empty() || a.state.trim().len() != 2 {
        errors.push(format!("missing_address: {who} address needs line 1, city and state"));
    }
    let zip_ok =
        (a.zip.len() == 5 || a.zip.len() == 9) && a.zip.bytes().all(|b| b.is_ascii_digit());
    if !zip_ok {
        errors.push(format!("invalid_zip: {who} ZIP must be 5 or 9 digits"));
    }
    check_len_of(errors, who, "address line 1", &a.line1, width::ADDRESS_LINE);
    check_len_of(errors, who, "address line 2", &a.line2, width::ADDRESS_LINE);
    check_len_of(errors, who, "city", &a.city, width::CITY);
}

fn subject(p: &Person, ecoa: &str, cii: String, address: Option<Address>) -> Subject {
    Subject {
        surname: p.surname.clone(),
        first_name: p.first_name.clone(),
        middle_name: p.middle_name.clone(),
        generation: p.generation.clone(),
        ssn: p.ssn.clone(),
        dob: p.dob,
        phone: p.phone.clone().filter(|n| n.len() == 10 && n.bytes().all(|b| b.is_ascii_digit())),
        ecoa: if p.deceased_date.is_some() { "X".to_string() } else { ecoa.to_string() },
        cii,
        address,
    }
}

/// Whole months from `a`'s month to `b`'s month.
fn months_between(a: Date, b: Date) -> i64 {
    (i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month()) - i64::from(a.month())
}

/// Payment history profile: 24 `B`s on first report; later the prior profile shifted by the
/// months since, with the prior period's code (`G` collection, else `D` no history) in front.
fn payment_history(acc: &Account, as_of: Date) -> String {
    let Some(prior) = &acc.prior else {
        return "B".repeat(24);
    };
    let (Some(php), Some(when)) = (prior.php.as_deref(), prior.cycle_date) else {
        return "B".repeat(24);
    };
    if php.len() != 24 || !php.is_ascii() {
        return "B".repeat(24);
    }
    let gap = months_between(when, as_of).clamp(0, 24) as usize;
    if gap == 0 {
        return php.to_string();
    }
    let code = if prior.status == "93" { 'G' } else { 'D' };
    let mut s = String::with_capacity(24);
    s.push(code);
    for _ in 1..gap {
        s.push('D');
    }
    s.push_str(php);
    s.truncate(24);
    s
}

fn ccc(acc: &Account) -> &'static str {
    let last = acc.last_ccc.as_deref().filter(|c| *c != "XR");
    if acc.disputes.open {
        if last == Some("XB") { "" } else { "XB" }
    } else if last == Some("XB") {
        if acc.disputes.consumer_disagrees { "XC" } else { "XH" }
    } else {
        ""
    }
}

/// Builds the record, or the list of data errors that keep it out.
fn build(
    acc: &Account,
    cx: &RuleContext<'_>,
    status: Status,
    deleted_by: Option<Gate>,
) -> Result<FurnishRecord, Vec<String>> {
    let as_of = cx.as_of;
    let mut errors: Vec<String> = acc
        .bad_values
        .iter()
        .map(|b| format!("{}: stored {} does not parse", b.code, b.column))
        .collect();
    let deleting = matches!(status, Status::Delete | Status::DeleteFraud);

    let id_number = cx
        .identification_numbers
        .get(&acc.client_id)
        .or_else(|| cx.identification_numbers.get(""))
        .cloned();
    if id_number.is_none() {
        errors.push(format!(
            "missing_identification_number: no identification number for client {}",
            acc.client_id
        ));
    }
    let id_number = id_number.unwrap_or_default();
    check_len(&mut errors, "identification number", &id_number, width::IDENTIFICATION_NUMBER);

    let number_ok = !acc.account_number.is_empty()
        && acc.account_number.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !number_ok {
        errors.push(
            "invalid_account_number: account number must be letters, digits or hyphens".into(),
        );
    }
    check_len(&mut errors, "account number", &acc.account_number, width::ACCOUNT_NUMBER);
    if let Some(ssn) = &acc.consumer.ssn {
        let digits: String = acc.account_number.chars().filter(char::is_ascii_digit).collect();
        if digits.contains(ssn.expose_digits()) {
            errors.push(
                "account_number_contains_ssn: account number contains the consumer's SSN".into(),
            );
        }
    }
    if !matches!(acc.account_type.as_str(), "48" | "0C" | "77") {
        errors.push(format!("invalid_account_type: {:?} (48, 0C or 77)", acc.account_type));
    }
    let class_ok = acc.creditor_class.len() == 2
        && acc.creditor_class.parse::<u8>().is_ok_and(|n| (1..=15).contains(&n));
    if !class_ok {
        errors.push(format!("invalid_creditor_class: {:?} (01-15)", acc.creditor_class));
    } else if acc.medical && acc.creditor_class != "02" {
        errors.push(
            "medical_class_mismatch: medical debt must have creditor classification 02".into(),
        );
    }
    if acc.original_creditor.trim().is_empty() {
        errors.push("missing_original_creditor: K1 needs the original creditor".into());
    }
    check_len(&mut errors, "original creditor", &acc.original_creditor, width::CREDITOR);
    let purchased_from = if acc.account_type == "0C" {
        if acc.purchased_from.is_none() {
            errors.push("missing_purchased_from: debt buyer account needs the seller (K2)".into());
        }
        acc.purchased_from.clone()
    } else {
        None
    };
    if let Some(p) = &purchased_from {
        check_len(&mut errors, "purchased from", p, width::CREDITOR);
    }

    let date_opened = acc.placed_date;
    match date_opened {
        None => errors.push("missing_placed_date: date opened is required".into()),
        Some(d) if d > as_of => {
            errors.push(format!("future_date: placed date {d} is after the cycle date"))
        }
        _ => {}
    }
    let highest_credit = acc.placed_amount.map(whole_dollars).unwrap_or(0);
    if highest_credit == 0 {
        errors.push("invalid_highest_credit: amount placed must be at least one dollar".into());
    }
    if let Some(dofd) = acc.dofd {
        if dofd > as_of {
            errors.push(format!("future_date: DOFD {dofd} is after the cycle date"));
        }
        if date_opened.is_some_and(|p| dofd > p) {
            errors.push(format!("dofd_after_placement: DOFD {dofd} is after the placement date"));
        }
    }
    if let Some(prior_dofd) = acc.prior.as_ref().and_then(|p| p.dofd.as_deref()) {
        let now = acc.dofd.map(|d| d.to_string());
        if now.as_deref() != Some(prior_dofd) {
            errors.push(format!(
                "dofd_changed: DOFD was reported as {prior_dofd}, now {}; DOFD is never re-aged",
                now.as_deref().unwrap_or("none")
            ));
        }
    }

    let balance = acc.current_balance.map(whole_dollars).unwrap_or(0);
    let past_due = acc.amount_past_due.map(whole_dollars).unwrap_or(0);
    let (current_balance, amount_past_due, doai, date_closed, special_comment) = match status {
        Status::Collection => {
            if acc.dofd.is_none() {
                errors
                    .push("missing_dofd: status 93 requires the date of first delinquency".into());
            }
            if balance == 0 {
                errors.push("open_zero_balance: an unpaid collection needs a balance of at least one dollar".into());
            }
            if past_due == 0 {
                errors.push("zero_past_due: an unpaid collection needs an amount past due".into());
            }
            (balance, past_due, as_of, None, "")
        }
        Status::Paid => {
            if acc.dofd.is_none() {
                errors
                    .push("missing_dofd: status 62 requires the date of first delinquency".into());
            }
            if acc.status == "paid" && balance > 0 {
                errors.push("paid_with_balance: account is paid but has a balance".into());
            }
            let paid_on = acc.last_payment_date.or(acc.date_closed);
            let paid_on = match paid_on {
                Some(d) if d > as_of => {
                    errors.push(format!("future_date: date paid {d} is after the cycle date"));
                    as_of
                }
                Some(d) => d,
                None => {
                    errors.push("missing_date_paid: a paid account needs its last payment date or date closed".into());
                    as_of
                }
            };
            if date_opened.is_some_and(|o| paid_on < o) {
                errors
                    .push(format!("date_order: date paid {paid_on} is before the placement date"));
            }
            let au = if acc.status == "settled" { "AU" } else { "" };
            // Date closed = date paid; date of account information = date paid (CFPB ADDL-DOAI-1).
            (0, 0, paid_on, Some(paid_on), au)
        }
        Status::Delete | Status::DeleteFraud => (balance, past_due, as_of, None, ""),
    };

    let c = &acc.consumer;
    check_person(&mut errors, "consumer", c);
    if !matches!(acc.ecoa.as_str(), "1" | "2" | "3" | "5" | "7" | "T" | "W" | "X" | "Z") {
        errors.push(format!("invalid_ecoa: consumer ECOA code {:?}", acc.ecoa));
    }
    match &c.address {
        None => errors.push("missing_address: consumer has no current address".into()),
        Some(a) => check_address(&mut errors, "consumer", a),
    }
    let prior_cii = acc.prior.as_ref().and_then(|p| p.cii.as_deref());
    let consumer = subject(c, &acc.ecoa, bankruptcy_cii(c, prior_cii), c.address.clone());

    let mut associates = Vec::with_capacity(acc.associates.len());
    for (i, a) in acc.associates.iter().enumerate() {
        let who = format!("associate {}", i + 1);
        check_person(&mut errors, &who, &a.person);
        if !matches!(a.ecoa.as_str(), "1" | "2" | "3" | "5" | "7" | "T" | "W" | "X" | "Z") {
            errors.push(format!("invalid_ecoa: {who} ECOA code {:?}", a.ecoa));
        }
        // J2 only when the associate's stored address differs from the consumer's.
        let address = a.person.address.clone().filter(|addr| Some(addr) != c.address.as_ref());
        if let Some(addr) = &address {
            check_address(&mut errors, &who, addr);
        }
        associates.push(subject(&a.person, &a.ecoa, bankruptcy_cii(&a.person, None), address));
    }

    // L1: compare with what the bureau has on file.
    let mut account_number = acc.account_number.clone();
    let mut reported_id = id_number.clone();
    let mut change = None;
    if let Some(p) = acc.prior.as_ref().filter(|p| p.is_live()) {
        let number_changed = !p.account_number.is_empty() && p.account_number != acc.account_number;
        let id_changed = p.identification_number.as_deref().is_some_and(|old| old != id_number);
        if number_changed {
            account_number = p.account_number.clone();
        }
        if id_changed {
            reported_id = p.identification_number.clone().unwrap_or_default();
        }
        if !deleting && (number_changed || id_changed) {
            let indicator = match (number_changed, id_changed) {
                (true, true) => 3,
                (true, false) => 1,
                _ => 2,
            };
            change = Some(Change {
                indicator,
                new_account_number: if number_changed {
                    acc.account_number.clone()
                } else {
                    String::new()
                },
                new_identification_number: if id_changed {
                    id_number.clone()
                } else {
                    String::new()
                },
            });
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    let period_start = acc
        .prior
        .as_ref()
        .and_then(|p| p.cycle_date)
        .unwrap_or_else(|| as_of.checked_sub(jiff::Span::new().months(1)).unwrap_or(as_of));
    let actual_payment = match (acc.last_payment_date, acc.last_payment_amount) {
        (Some(d), Some(m)) if d > period_start && d <= as_of => whole_dollars(m),
        _ => 0,
    };
    Ok(FurnishRecord {
        account_id: acc.id,
        client_id: acc.client_id.clone(),
        identification_number: reported_id,
        account_number,
        current_account_number: acc.account_number.clone(),
        current_identification_number: id_number,
        account_type: acc.account_type.clone(),
        date_opened: date_opened.unwrap_or(as_of),
        highest_credit,
        terms_duration: "001",
        terms_frequency: "P",
        actual_payment,
        status,
        php: payment_history(acc, as_of),
        special_comment,
        ccc: if deleting { "" } else { ccc(acc) },
        current_balance,
        amount_past_due,
        doai,
        dofd: acc.dofd,
        date_closed,
        last_payment_date: acc.last_payment_date.filter(|d| *d <= as_of),
        consumer,
        associates,
        original_creditor: acc.original_creditor.clone(),
        creditor_class: acc.creditor_class.clone(),
        purchased_from,
        change,
        deleted_by: deleted_by.map(Gate::code),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::furnish::account::{Prior, for_each_account, load_disputes};
    use crate::furnish::sample::{SampleAccount, SampleAssociate, insert};
    use crate::store::Db;
    use jiff::civil::date;

    const AS_OF: Date = date(2026, 11, 20);

    fn load(sample: &SampleAccount) -> Account {
        let db = Db::open_in_memory().unwrap();
        insert(db.conn(), sample).unwrap();
        let disputes = load_disputes(db.conn(), AS_OF).unwrap();
        let mut out = Vec::new();
        for_each_account(db.conn(), "equifax", AS_OF, &disputes, |a| {
            out.push(a);
            Ok(())
        })
        .unwrap();
        assert_eq!(out.len(), 1);
        out.pop().unwrap()
    }

    fn ids() -> BTreeMap<String, String> {
        BTreeMap::from([(String::new(), "AGENCY01".to_string())])
    }

    fn run(acc: &Account) -> Decision {
        let cfg = FurnishConfig::default();
        let ids = ids();
        decide(acc, &RuleContext { as_of: AS_OF, config: &cfg, identification_numbers: &ids })
    }

    fn record(d: Decision) -> FurnishRecord {
        match d {
            Decision::Furnish(r) => *r,
            Decision::Exclude(e) => panic!("excluded: {e:?}"),
        }
    }

    fn excluded(d: Decision) -> Exclusion {
        match d {
            Decision::Exclude(e) => e,
            Decision::Furnish(r) => panic!("furnished with status {:?}", r.status),
        }
    }

    fn prior(status: &str) -> Prior {
        Prior {
            cycle_date: Some(date(2026, 10, 20)),
            status: status.into(),
            account_number: "A1001".into(),
            identification_number: Some("AGENCY01".into()),
            dofd: Some("2025-01-15".into()),
            php: Some("B".repeat(24)),
            cii: None,
        }
    }

    #[test]
    fn open_account_is_status_93_with_the_collection_profile() {
        let r = record(run(&load(&SampleAccount::default())));
        assert_eq!(r.status, Status::Collection);
        assert_eq!((r.highest_credit, r.current_balance, r.amount_past_due), (1250, 1100, 1100));
        assert_eq!(r.account_type, "48");
        assert_eq!(r.dofd, Some(date(2025, 1, 15)));
        assert_eq!(r.date_closed, None);
        assert_eq!(r.doai, AS_OF);
        assert_eq!(r.date_opened, date(2025, 6, 1));
        assert_eq!((r.original_creditor.as_str(), r.creditor_class.as_str()), ("ACME BANK", "08"));
        assert_eq!(r.purchased_from, None);
        assert_eq!(r.php, "B".repeat(24));
        assert_eq!((r.special_comment, r.ccc), ("", ""));
        assert_eq!(r.identification_number, "AGENCY01");
    }

    #[test]
    fn paid_is_62_and_settled_adds_au() {
        let mut s = SampleAccount {
            status: "paid".into(),
            current_balance: "0".into(),
            amount_past_due: "0".into(),
            last_payment_date: Some("2026-11-02".into()),
            last_payment_amount: Some("300.99".into()),
            ..SampleAccount::default()
        };
        let r = record(run(&load(&s)));
        assert_eq!(r.status, Status::Paid);
        assert_eq!((r.current_balance, r.amount_past_due, r.special_comment), (0, 0, ""));
        assert_eq!(r.doai, date(2026, 11, 2));
        assert_eq!(r.date_closed, Some(date(2026, 11, 2)));
        assert_eq!(r.last_payment_date, Some(date(2026, 11, 2)));
        assert_eq!(r.actual_payment, 300);
        s.status = "settled".into();
        s.current_balance = "250.00".into();
        let r = record(run(&load(&s)));
        assert_eq!((r.status, r.special_comment, r.current_balance), (Status::Paid, "AU", 0));
        // Paid with a balance left is a data error, not a 62 with a balance.
        s.status = "paid".into();
        let e = excluded(run(&load(&s)));
        assert_eq!(e.gate, Gate::DataError);
        assert!(e.reason.contains("paid_with_balance"), "{}", e.reason);
    }

    #[test]
    fn debt_buyer_gets_0c_and_k2() {
        let s = SampleAccount {
            client_kind: "debt_buyer".into(),
            account_type: "0C".into(),
            purchased_from: Some("SELLER CAPITAL".into()),
            ..SampleAccount::default()
        };
        let r = record(run(&load(&s)));
        assert_eq!(
            (r.account_type.as_str(), r.purchased_from.as_deref()),
            ("0C", Some("SELLER CAPITAL"))
        );
        let e = excluded(run(&load(&SampleAccount { purchased_from: None, ..s })));
        assert!(e.reason.contains("missing_purchased_from"), "{}", e.reason);
    }

    #[test]
    fn reg_f_contact_gate() {
        // No conversation, no notice.
        let s = SampleAccount { validation_notice_date: None, ..SampleAccount::default() };
        let e = excluded(run(&load(&s)));
        assert_eq!(e.gate, Gate::NotContacted);
        // Notice sent 13 days before: still waiting; 14 days: furnished.
        let s = SampleAccount {
            validation_notice_date: Some("2026-11-07".into()),
            ..SampleAccount::default()
        };
        let e = excluded(run(&load(&s)));
        assert_eq!(e.gate, Gate::NotContacted);
        assert!(e.reason.contains("2026-11-21"), "{}", e.reason);
        let s = SampleAccount {
            validation_notice_date: Some("2026-11-06".into()),
            ..SampleAccount::default()
        };
        assert_eq!(record(run(&load(&s))).status, Status::Collection);
        // Returned undeliverable after the notice: held; a later conversation releases it.
        let s = SampleAccount {
            undeliverable_date: Some("2025-06-20".into()),
            ..SampleAccount::default()
        };
        let e = excluded(run(&load(&s)));
        assert!(e.reason.contains("undeliverable"), "{}", e.reason);
        let s = SampleAccount { first_communication_date: Some("2026-01-05".into()), ..s };
        assert_eq!(record(run(&load(&s))).status, Status::Collection);
        // A return before the (latest) notice does not count against it.
        let s = SampleAccount {
            undeliverable_date: Some("2025-06-01".into()),
            ..SampleAccount::default()
        };
        assert_eq!(record(run(&load(&s))).status, Status::Collection);
        // Once furnished, the gate no longer applies.
        let mut a =
            load(&SampleAccount { validation_notice_date: None, ..SampleAccount::default() });
        a.prior = Some(prior("93"));
        assert_eq!(record(run(&a)).status, Status::Collection);
    }

    #[test]
    fn obsolete_gate_and_da_when_furnished_before() {
        // DOFD 2019-05-05 + 180 days = 2019-11-01, + 7 years = 2026-11-01 <= 2026-11-20.
        let s = SampleAccount {
            dofd: Some("2019-05-05".into()),
            placed_date: "2020-01-01".into(),
            ..SampleAccount::default()
        };
        let e = excluded(run(&load(&s)));
        assert_eq!(e.gate, Gate::Obsolete);
        assert!(e.reason.contains("2026-11-01"), "{}", e.reason);
        let mut a = load(&s);
        a.prior = Some(Prior { dofd: Some("2019-05-05".into()), ..prior("93") });
        let r = record(run(&a));
        assert_eq!((r.status, r.deleted_by), (Status::Delete, Some("obsolete")));
        // One day younger is still reported.
        let s = SampleAccount { dofd: Some("2019-05-27".into()), ..s };
        assert_eq!(record(run(&load(&s))).status, Status::Collection);
    }

    #[test]
    fn medical_gates() {
        let med = SampleAccount {
            medical: true,
            creditor_class: "02".into(),
            original_creditor: "VALLEY CLINIC".into(),
            ..SampleAccount::default()
        };
        // Over $500, DOFD more than a year ago, unpaid: reported.
        assert_eq!(record(run(&load(&med))).creditor_class, "02");
        // Under $500 placed: never reported.
        let s = SampleAccount {
            placed_amount: "499.99".into(),
            current_balance: "499.99".into(),
            amount_past_due: "499.99".into(),
            ..med.clone()
        };
        assert_eq!(excluded(run(&load(&s))).gate, Gate::MedicalUnderThreshold);
        // Less than a year past DOFD.
        let s = SampleAccount {
            dofd: Some("2026-01-10".into()),
            placed_date: "2026-03-01".into(),
            ..med.clone()
        };
        let e = excluded(run(&load(&s)));
        assert_eq!(e.gate, Gate::MedicalTooRecent);
        assert!(e.reason.contains("2027-01-10"), "{}", e.reason);
        // Paid: not reported, DA when it was.
        let paid = SampleAccount {
            status: "paid".into(),
            current_balance: "0".into(),
            amount_past_due: "0".into(),
            last_payment_date: Some("2026-10-01".into()),
            ..med.clone()
        };
        assert_eq!(excluded(run(&load(&paid))).gate, Gate::MedicalPaid);
        let mut a = load(&paid);
        a.prior = Some(prior("93"));
        let r = record(run(&a));
        assert_eq!((r.status, r.deleted_by), (Status::Delete, Some("medical_paid")));
        // Medical debt must carry classification 02.
        let s = SampleAccount { creditor_class: "08".into(), ..med };
        assert!(excluded(run(&load(&s))).reason.contains("medical_class_mismatch"));
    }

    #[test]
    fn recalled_closed_fraud_and_do_not_furnish() {
        for (status, gate) in [("recalled", Gate::Recalled), ("closed", Gate::ClosedByClient)] {
            let s = SampleAccount { status: status.into(), ..SampleAccount::default() };
            assert_eq!(excluded(run(&load(&s))).gate, gate);
            let mut a = load(&s);
            a.prior = Some(prior("93"));
            let r = record(run(&a));
            assert_eq!((r.status, r.deleted_by), (Status::Delete, Some(gate.code())));
            // Already deleted: stays out.
            a.prior = Some(prior("DA"));
            assert_eq!(excluded(run(&a)).gate, Gate::AlreadyDeleted);
        }
        let s = SampleAccount { fraud_confirmed: true, ..SampleAccount::default() };
        assert_eq!(excluded(run(&load(&s))).gate, Gate::Fraud);
        let mut a = load(&s);
        a.prior = Some(prior("62"));
        assert_eq!(record(run(&a)).status, Status::DeleteFraud);
        // DF is final even if the flag is later cleared.
        let mut a = load(&SampleAccount::default());
        a.prior = Some(prior("DF"));
        assert_eq!(excluded(run(&a)).gate, Gate::AlreadyDeleted);
        let s = SampleAccount { furnish: false, ..SampleAccount::default() };
        assert_eq!(excluded(run(&load(&s))).gate, Gate::DoNotFurnish);
    }

    #[test]
    fn data_errors_go_to_exceptions() {
        let cases: Vec<(SampleAccount, &str)> = vec![
            (SampleAccount { dofd: None, ..SampleAccount::default() }, "missing_dofd"),
            (
                SampleAccount { ssn: None, dob: None, ..SampleAccount::default() },
                "missing_ssn_and_dob",
            ),
            (
                SampleAccount {
                    ssn: Some("000123456".into()),
                    dob: None,
                    ..SampleAccount::default()
                },
                "missing_ssn_and_dob",
            ),
            (SampleAccount { address: None, ..SampleAccount::default() }, "missing_address"),
            (
                SampleAccount { dofd: Some("2025-07-01".into()), ..SampleAccount::default() },
                "dofd_after_placement",
            ),
            (
                SampleAccount { placed_date: "2026-12-01".into(), ..SampleAccount::default() },
                "future_date",
            ),
            (
                SampleAccount { current_balance: "0.50".into(), ..SampleAccount::default() },
                "open_zero_balance",
            ),
            (
                SampleAccount { amount_past_due: "0".into(), ..SampleAccount::default() },
                "zero_past_due",
            ),
            (
                SampleAccount { placed_amount: "abc".into(), ..SampleAccount::default() },
                "invalid_amount",
            ),
            (
                SampleAccount { account_number: "A 1".into(), ..SampleAccount::default() },
                "invalid_account_number",
            ),
            (
                SampleAccount { account_number: "X123456789".into(), ..SampleAccount::default() },
                "account_number_contains_ssn",
            ),
            (
                SampleAccount { surname: "X".repeat(26), ..SampleAccount::default() },
                "field_too_long",
            ),
            (
                SampleAccount { creditor_class: "16".into(), ..SampleAccount::default() },
                "invalid_creditor_class",
            ),
        ];
        for (s, code) in cases {
            let e = excluded(run(&load(&s)));
            assert_eq!(e.gate, Gate::DataError, "{code}");
            assert!(e.reason.contains(code), "{code}: {}", e.reason);
            assert!(
                !e.reason.contains("123456789") && !e.reason.contains("1980-03-07"),
                "{}",
                e.reason
            );
        }
    }

    #[test]
    fn dofd_is_never_re_aged() {
        let mut a = load(&SampleAccount::default());
        a.prior = Some(Prior { dofd: Some("2024-12-15".into()), ..prior("93") });
        let e = excluded(run(&a));
        assert!(
            e.reason.contains("dofd_changed") && e.reason.contains("2024-12-15"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn l1_when_the_account_number_changed() {
        let mut a =
            load(&SampleAccount { account_number: "A2002".into(), ..SampleAccount::default() });
        a.prior = Some(prior("93"));
        let r = record(run(&a));
        assert_eq!(r.account_number, "A1001");
        assert_eq!(r.current_account_number, "A2002");
        let c = r.change.unwrap();
        assert_eq!((c.indicator, c.new_account_number.as_str()), (1, "A2002"));
        // Identification number change too: indicator 3.
        a.prior = Some(Prior { identification_number: Some("OLDID".into()), ..prior("93") });
        let r = record(run(&a));
        assert_eq!(r.identification_number, "OLDID");
        assert_eq!(r.change.unwrap().indicator, 3);
        // Unchanged: no L1.
        let mut a = load(&SampleAccount::default());
        a.prior = Some(prior("93"));
        assert!(record(run(&a)).change.is_none());
    }

    #[test]
    fn associates_j1_same_address_j2_different() {
        let s = SampleAccount {
            associates: vec![
                SampleAssociate {
                    surname: "TESTER".into(),
                    first_name: "SAM".into(),
                    ssn: Some("223456789".into()),
                    dob: None,
                    ecoa: "2".into(),
                    address: Some((
                        "12 ELM ST".into(),
                        "AUSTIN".into(),
                        "TX".into(),
                        "78701".into(),
                    )),
                    deceased_date: None,
                },
                SampleAssociate {
                    surname: "OTHER".into(),
                    first_name: "PAT".into(),
                    ssn: None,
                    dob: Some("1975-01-01".into()),
                    ecoa: "5".into(),
                    address: Some(("9 OAK AVE".into(), "RENO".into(), "NV".into(), "89501".into())),
                    deceased_date: Some("2026-02-01".into()),
                },
            ],
            ..SampleAccount::default()
        };
        let r = record(run(&load(&s)));
        assert_eq!((r.j1_count(), r.j2_count()), (1, 1));
        assert_eq!(r.associates[0].ecoa, "2");
        assert_eq!(r.associates[1].ecoa, "X", "deceased associate reports ECOA X");
        let json = r.snapshot_json();
        assert!(!json.contains("223456789") && !json.contains("1975-01-01"), "{json}");
    }

    #[test]
    fn metro2_fill_reusing_a_record_equals_a_fresh_fill() {
        let long = SampleAccount {
            surname: "O'Néil-Smithson".into(),
            first_name: "Zoë".into(),
            ..SampleAccount::default()
        };
        let short = SampleAccount {
            surname: "Li".into(),
            first_name: "Al".into(),
            ..SampleAccount::default()
        };
        let (a, b) = (record(run(&load(&long))), record(run(&load(&short))));
        let mut reused = crate::metro2::model::DataRecord::default();
        crate::furnish::m2::fill(&mut reused, &a, AS_OF);
        assert_eq!(reused.base.surname, "ONEIL-SMITHSON");
        assert_eq!(reused.base.first_name, "ZOE");
        crate::furnish::m2::fill(&mut reused, &b, AS_OF);
        let mut fresh = crate::metro2::model::DataRecord::default();
        crate::furnish::m2::fill(&mut fresh, &b, AS_OF);
        assert_eq!(reused, fresh);
        assert_eq!(reused.base.surname, "LI");
    }

    #[test]
    fn deceased_and_bankruptcy_indicators() {
        let s =
            SampleAccount { deceased_date: Some("2026-01-15".into()), ..SampleAccount::default() };
        assert_eq!(record(run(&load(&s))).consumer.ecoa, "X");
        for (ch, st, cii) in [
            ("7", "petition", "A"),
            ("13", "petition", "D"),
            ("7", "discharged", "E"),
            ("13", "discharged", "H"),
            ("9", "petition", "Z"),
        ] {
            let s = SampleAccount {
                bankruptcy_chapter: Some(ch.into()),
                bankruptcy_status: Some(st.into()),
                ..SampleAccount::default()
            };
            assert_eq!(record(run(&load(&s))).consumer.cii, cii, "{ch} {st}");
        }
        let s = SampleAccount {
            bankruptcy_chapter: Some("7".into()),
            bankruptcy_status: Some("dismissed".into()),
            ..SampleAccount::default()
        };
        let mut a = load(&s);
        assert_eq!(record(run(&a)).consumer.cii, "");
        a.prior = Some(Prior { cii: Some("A".into()), ..prior("93") });
        assert_eq!(record(run(&a)).consumer.cii, "Q");
    }

    #[test]
    fn compliance_condition_codes_follow_the_dispute() {
        let mut a = load(&SampleAccount::default());
        a.prior = Some(prior("93"));
        a.disputes.open = true;
        assert_eq!(record(run(&a)).ccc, "XB");
        a.last_ccc = Some("XB".into());
        assert_eq!(record(run(&a)).ccc, "", "XB is retained by the bureau: nothing new");
        a.disputes.open = false;
        assert_eq!(record(run(&a)).ccc, "XH");
        a.disputes.consumer_disagrees = true;
        assert_eq!(record(run(&a)).ccc, "XC");
        a.last_ccc = Some("XH".into());
        assert_eq!(record(run(&a)).ccc, "");
        a.disputes.deleted = true;
        assert_eq!(record(run(&a)).status, Status::Delete);
    }

    #[test]
    fn payment_history_shifts_by_month() {
        let mut a = load(&SampleAccount::default());
        a.prior = Some(Prior { php: Some("G".to_string() + &"B".repeat(23)), ..prior("93") });
        let r = record(run(&a));
        assert_eq!(r.php, "GG".to_string() + &"B".repeat(22));
        a.prior = Some(Prior {
            cycle_date: Some(date(2026, 8, 1)),
            php: Some("B".repeat(24)),
            ..prior("93")
        });
        assert_eq!(record(run(&a)).php, "GDD".to_string() + &"B".repeat(21));
    }
}
