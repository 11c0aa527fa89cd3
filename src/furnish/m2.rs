//! The bridge to the Metro 2 engine: a [`FurnishRecord`] becomes a
//! [`crate::metro2::model::DataRecord`], the furnisher identity becomes the
//! [`crate::metro2::model::Header`].
//!
//! Field values only: encoding (padding, upper case, transliteration), record descriptor
//! words and the trailer are the engine's. No policy here either: every value was decided by
//! [`super::rules`].

use jiff::civil::Date;

use super::record::{FurnishRecord, Subject};
use super::{Bureau, FurnishConfig};
use crate::metro2::model::{Base, DataRecord, DobField, Header, J1, J2, K1, K2, L1, SsnField};

/// Upper-case ASCII, as the format asks (the writer would do the same on output; doing it
/// here keeps the validator's view identical to the bytes).
fn up(s: &str) -> String {
    if s.is_ascii() { s.to_ascii_uppercase() } else { deunicode::deunicode(s).to_ascii_uppercase() }
}

/// A name as the format allows it: upper-case letters, blanks and hyphens only (apostrophes,
/// periods and other marks are dropped: `O'NEIL` → `ONEIL`, `ST. JOHN` → `ST JOHN`).
fn name(s: &str) -> String {
    up(s).chars().filter(|c| c.is_ascii_uppercase() || *c == ' ' || *c == '-').collect()
}

/// [`up`] into `buf` (cleared first, its allocation kept).
fn up_into(mut buf: String, s: &str) -> String {
    buf.clear();
    if s.is_ascii() {
        buf.extend(s.chars().map(|c| c.to_ascii_uppercase()));
    } else {
        buf.push_str(&up(s));
    }
    buf
}

/// [`name`] into `buf` (cleared first, its allocation kept).
fn name_into(mut buf: String, s: &str) -> String {
    buf.clear();
    let keep = |c: &char| c.is_ascii_uppercase() || *c == ' ' || *c == '-';
    if s.is_ascii() {
        buf.extend(s.chars().map(|c| c.to_ascii_uppercase()).filter(keep));
    } else {
        buf.extend(up(s).chars().filter(keep));
    }
    buf
}

/// `s` copied into `buf` (cleared first, its allocation kept).
fn copy_into(mut buf: String, s: &str) -> String {
    buf.clear();
    buf.push_str(s);
    buf
}

fn phone(p: &Option<String>) -> u64 {
    p.as_deref().and_then(|n| n.parse().ok()).unwrap_or(0)
}

fn ssn(s: &Subject) -> SsnField {
    s.ssn.as_ref().map(SsnField::from).unwrap_or_default()
}

fn dob(s: &Subject) -> DobField {
    s.dob.map(DobField::from).unwrap_or_default()
}

/// The header of a cycle file: reporter identity from `[furnish]`, the program identifier of
/// each bureau the file goes to, activity date and date created = the cycle date.
pub fn header(cfg: &FurnishConfig, bureaus: &[Bureau], as_of: Date) -> Header {
    let id = |b: Bureau| -> String {
        if bureaus.contains(&b) {
            up(cfg.program_identifiers.get(b).unwrap_or_default())
        } else {
            String::new()
        }
    };
    Header {
        innovis_program_identifier: id(Bureau::Innovis),
        equifax_program_identifier: id(Bureau::Equifax),
        experian_program_identifier: id(Bureau::Experian),
        transunion_program_identifier: id(Bureau::Transunion),
        activity_date: Some(as_of),
        date_created: Some(as_of),
        reporter_name: up(cfg.reporter_name.as_deref().unwrap_or_default()),
        reporter_address: up(cfg.reporter_address.as_deref().unwrap_or_default()),
        reporter_telephone_number: cfg
            .reporter_phone
            .as_deref()
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        software_vendor_name: up(cfg.software_vendor.as_deref().unwrap_or_default()),
        software_version_number: up(cfg.software_version.as_deref().unwrap_or_default()),
        ..Header::default()
    }
}

/// Fills `out` (reusing its allocations) with the Metro 2 form of `r`. The time stamp is the
/// cycle date at midnight, so a re-run writes the same bytes.
pub fn fill(out: &mut DataRecord, r: &FurnishRecord, as_of: Date) {
    out.clear();
    let c = &r.consumer;
    let empty = super::account::Address::default();
    let addr = c.address.as_ref().unwrap_or(&empty);
    // The previous record's strings are refilled rather than dropped and allocated again;
    // every other field is reset to its default as before.
    let mut old = std::mem::take(&mut out.base);
    let mut re = |f: fn(&mut Base) -> &mut String| std::mem::take(f(&mut old));
    out.base = Base {
        processing_indicator: 1,
        time_stamp: Some(as_of.at(0, 0, 0, 0)),
        identification_number: up_into(
            re(|b| &mut b.identification_number),
            &r.identification_number,
        ),
        consumer_account_number: up_into(re(|b| &mut b.consumer_account_number), &r.account_number),
        portfolio_type: copy_into(re(|b| &mut b.portfolio_type), "O"),
        account_type: copy_into(re(|b| &mut b.account_type), &r.account_type),
        date_opened: Some(r.date_opened),
        credit_limit: 0,
        highest_credit: r.highest_credit,
        terms_duration: copy_into(re(|b| &mut b.terms_duration), r.terms_duration),
        terms_frequency: copy_into(re(|b| &mut b.terms_frequency), r.terms_frequency),
        scheduled_monthly_payment_amount: 0,
        actual_payment_amount: r.actual_payment,
        account_status: copy_into(re(|b| &mut b.account_status), r.status.code()),
        payment_history_profile: copy_into(re(|b| &mut b.payment_history_profile), &r.php),
        special_comment: copy_into(re(|b| &mut b.special_comment), r.special_comment),
        compliance_condition_code: copy_into(re(|b| &mut b.compliance_condition_code), r.ccc),
        current_balance: r.current_balance,
        amount_past_due: r.amount_past_due,
        original_charge_off_amount: 0,
        date_account_information: Some(r.doai),
        date_first_delinquency: r.dofd,
        date_closed: r.date_closed,
        date_last_payment: r.last_payment_date,
        surname: name_into(re(|b| &mut b.surname), &c.surname),
        first_name: name_into(re(|b| &mut b.first_name), &c.first_name),
        middle_name: name_into(re(|b| &mut b.middle_name), &c.middle_name),
        generation_code: up_into(re(|b| &mut b.generation_code), &c.generation),
        social_security_number: ssn(c),
        date_birth: dob(c),
        telephone_number: phone(&c.phone),
        ecoa_code: copy_into(re(|b| &mut b.ecoa_code), &c.ecoa),
        consumer_information_indicator: copy_into(
            re(|b| &mut b.consumer_information_indicator),
            &c.cii,
        ),
        first_line_address: up_into(re(|b| &mut b.first_line_address), &addr.line1),
        second_line_address: up_into(re(|b| &mut b.second_line_address), &addr.line2),
        city: up_into(re(|b| &mut b.city), &addr.city),
        state: up_into(re(|b| &mut b.state), &addr.state),
        zip_code: copy_into(re(|b| &mut b.zip_code), &addr.zip),
        ..Base::default()
    };
    for a in &r.associates {
        match &a.address {
            None => out.j1.push(J1 {
                surname: name(&a.surname),
                first_name: name(&a.first_name),
                middle_name: name(&a.middle_name),
                generation_code: up(&a.generation),
                social_security_number: ssn(a),
                date_birth: dob(a),
                telephone_number: phone(&a.phone),
                ecoa_code: a.ecoa.clone(),
                consumer_information_indicator: a.cii.clone(),
                ..J1::default()
            }),
            Some(addr) => out.j2.push(J2 {
                surname: name(&a.surname),
                first_name: name(&a.first_name),
                middle_name: name(&a.middle_name),
                generation_code: up(&a.generation),
                social_security_number: ssn(a),
                date_birth: dob(a),
                telephone_number: phone(&a.phone),
                ecoa_code: a.ecoa.clone(),
                consumer_information_indicator: a.cii.clone(),
                first_line_address: up(&addr.line1),
                second_line_address: up(&addr.line2),
                city: up(&addr.city),
                state: up(&addr.state),
                zip_code: addr.zip.clone(),
                ..J2::default()
            }),
        }
    }
    out.k1 = Some(K1 {
        original_creditor_name: up(&r.original_creditor),
        creditor_classification: r.creditor_class.parse().unwrap_or(0),
    });
    out.k2 = r.purchased_from.as_ref().map(|name| K2 {
        purchased_indicator: 1,
        purchased_name: up(name),
        ..K2::default()
    });
    out.l1 = r.change.as_ref().map(|c| L1 {
        change_indicator: u64::from(c.indicator),
        new_consumer_account_number: up(&c.new_account_number),
        new_identification_number: up(&c.new_identification_number),
        ..L1::default()
    });
}
