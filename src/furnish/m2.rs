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
            cfg.program_identifiers.get(b).unwrap_or_default().to_string()
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
        reporter_name: cfg.reporter_name.clone().unwrap_or_default(),
        reporter_address: cfg.reporter_address.clone().unwrap_or_default(),
        reporter_telephone_number: cfg
            .reporter_phone
            .as_deref()
            .map(|p| p.chars().filter(char::is_ascii_digit).collect::<String>())
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        software_vendor_name: cfg.software_vendor.clone().unwrap_or_default(),
        software_version_number: cfg.software_version.clone().unwrap_or_default(),
        ..Header::default()
    }
}

/// Fills `out` (reusing its allocations) with the Metro 2 form of `r`. The time stamp is the
/// cycle date at midnight, so a re-run writes the same bytes.
pub fn fill(out: &mut DataRecord, r: &FurnishRecord, as_of: Date) {
    out.clear();
    let c = &r.consumer;
    let addr = c.address.clone().unwrap_or_default();
    out.base = Base {
        processing_indicator: 1,
        time_stamp: Some(as_of.at(0, 0, 0, 0)),
        identification_number: r.identification_number.clone(),
        consumer_account_number: r.account_number.clone(),
        portfolio_type: "O".into(),
        account_type: r.account_type.clone(),
        date_opened: Some(r.date_opened),
        credit_limit: 0,
        highest_credit: r.highest_credit,
        terms_duration: r.terms_duration.into(),
        terms_frequency: r.terms_frequency.into(),
        scheduled_monthly_payment_amount: 0,
        actual_payment_amount: r.actual_payment,
        account_status: r.status.code().into(),
        payment_history_profile: r.php.clone(),
        special_comment: r.special_comment.into(),
        compliance_condition_code: r.ccc.into(),
        current_balance: r.current_balance,
        amount_past_due: r.amount_past_due,
        original_charge_off_amount: 0,
        date_account_information: Some(r.doai),
        date_first_delinquency: r.dofd,
        date_closed: r.date_closed,
        date_last_payment: r.last_payment_date,
        surname: c.surname.clone(),
        first_name: c.first_name.clone(),
        middle_name: c.middle_name.clone(),
        generation_code: c.generation.clone(),
        social_security_number: ssn(c),
        date_birth: dob(c),
        telephone_number: phone(&c.phone),
        ecoa_code: c.ecoa.clone(),
        consumer_information_indicator: c.cii.clone(),
        first_line_address: addr.line1,
        second_line_address: addr.line2,
        city: addr.city,
        state: addr.state,
        zip_code: addr.zip,
        ..Base::default()
    };
    for a in &r.associates {
        match &a.address {
            None => out.j1.push(J1 {
                surname: a.surname.clone(),
                first_name: a.first_name.clone(),
                middle_name: a.middle_name.clone(),
                generation_code: a.generation.clone(),
                social_security_number: ssn(a),
                date_birth: dob(a),
                telephone_number: phone(&a.phone),
                ecoa_code: a.ecoa.clone(),
                consumer_information_indicator: a.cii.clone(),
                ..J1::default()
            }),
            Some(addr) => out.j2.push(J2 {
                surname: a.surname.clone(),
                first_name: a.first_name.clone(),
                middle_name: a.middle_name.clone(),
                generation_code: a.generation.clone(),
                social_security_number: ssn(a),
                date_birth: dob(a),
                telephone_number: phone(&a.phone),
                ecoa_code: a.ecoa.clone(),
                consumer_information_indicator: a.cii.clone(),
                first_line_address: addr.line1.clone(),
                second_line_address: addr.line2.clone(),
                city: addr.city.clone(),
                state: addr.state.clone(),
                zip_code: addr.zip.clone(),
                ..J2::default()
            }),
        }
    }
    out.k1 = Some(K1 {
        original_creditor_name: r.original_creditor.clone(),
        creditor_classification: r.creditor_class.parse().unwrap_or(0),
        ..K1::default()
    });
    out.k2 = r.purchased_from.as_ref().map(|name| K2 {
        purchased_indicator: 1,
        purchased_name: name.clone(),
        ..K2::default()
    });
    out.l1 = r.change.as_ref().map(|c| L1 {
        change_indicator: u64::from(c.indicator),
        new_consumer_account_number: c.new_account_number.clone(),
        new_identification_number: c.new_identification_number.clone(),
        ..L1::default()
    });
}
