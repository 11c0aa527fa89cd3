//! Trailer totals computed from content: the one place that decides what the trailer counts.
//!
//! The writer uses [`Totals`] to build the trailer it writes; the validator uses it to check
//! the trailer a file carries. Counting rules (metro2.md §6.3): one count per account status;
//! ECOA `Z` over base, J1 and J2; J1/J2 segments with a surname; K1 with a creditor name; K2
//! with indicator 1 or 2; K3 with any content; K4 with indicator 1 or 2; L1 with indicator
//! 1-3; N1 with an employer name; SSNs neither zero- nor 9-filled; dates of birth and
//! telephone numbers that are not zero; block count = data records + 2.

use super::model::{DataRecord, Trailer};

/// Running trailer totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    t: Trailer,
}

impl Totals {
    /// No records yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one data record.
    pub fn add(&mut self, r: &DataRecord) {
        let t = &mut self.t;
        let b = &r.base;
        t.total_base_records += 1;
        if let Some(c) = status_counter(t, &b.account_status) {
            *c += 1;
        }
        let mut ecoa_z = u64::from(b.ecoa_code == "Z");
        if b.social_security_number.is_reported() {
            t.total_social_numbers_base_segments += 1;
        }
        if !b.date_birth.is_none() {
            t.total_dates_birth_base_segments += 1;
        }
        let mut phones = u64::from(b.telephone_number > 0);
        for j in &r.j1 {
            if !j.surname.trim().is_empty() {
                t.total_consumer_segments_j1 += 1;
            }
            ecoa_z += u64::from(j.ecoa_code == "Z");
            if j.social_security_number.is_reported() {
                t.total_social_numbers_j1_segments += 1;
            }
            if !j.date_birth.is_none() {
                t.total_dates_birth_j1_segments += 1;
            }
            phones += u64::from(j.telephone_number > 0);
        }
        for j in &r.j2 {
            if !j.surname.trim().is_empty() {
                t.total_consumer_segments_j2 += 1;
            }
            ecoa_z += u64::from(j.ecoa_code == "Z");
            if j.social_security_number.is_reported() {
                t.total_social_numbers_j2_segments += 1;
            }
            if !j.date_birth.is_none() {
                t.total_dates_birth_j2_segments += 1;
            }
            phones += u64::from(j.telephone_number > 0);
        }
        t.total_ecoa_code_z += ecoa_z;
        t.total_telephone_numbers_all_segments += phones;
        if r.k1.as_ref().is_some_and(|k| !k.original_creditor_name.trim().is_empty()) {
            t.total_original_creditor_segments += 1;
        }
        if r.k2.as_ref().is_some_and(|k| matches!(k.purchased_indicator, 1 | 2)) {
            t.total_purchased_to_segments += 1;
        }
        if r.k3.as_ref().is_some_and(|k| {
            k.agency_identifier > 0
                || !k.account_number.trim().is_empty()
                || !k.mortgage_identification_number.trim().is_empty()
        }) {
            t.total_mortgage_information_segments += 1;
        }
        if r.k4.as_ref().is_some_and(|k| matches!(k.specialized_payment_indicator, 1 | 2)) {
            t.total_payment_information_segments += 1;
        }
        if r.l1.as_ref().is_some_and(|l| matches!(l.change_indicator, 1..=3)) {
            t.total_change_segments += 1;
        }
        if r.n1.as_ref().is_some_and(|n| !n.employer_name.trim().is_empty()) {
            t.total_employment_segments += 1;
        }
    }

    /// The trailer for the records counted so far.
    pub fn trailer(&self) -> Trailer {
        let mut t = self.t.clone();
        t.block_count = t.total_base_records + 2;
        t.total_social_numbers_all_segments = t.total_social_numbers_base_segments
            + t.total_social_numbers_j1_segments
            + t.total_social_numbers_j2_segments;
        t.total_dates_birth_all_segments = t.total_dates_birth_base_segments
            + t.total_dates_birth_j1_segments
            + t.total_dates_birth_j2_segments;
        t
    }
}

/// The trailer counter of an account status, if the trailer has one.
pub fn status_counter<'a>(t: &'a mut Trailer, status: &str) -> Option<&'a mut u64> {
    Some(match status {
        "DF" => &mut t.total_status_code_df,
        "DA" => &mut t.total_status_code_da,
        "05" => &mut t.total_status_code_05,
        "11" => &mut t.total_status_code_11,
        "13" => &mut t.total_status_code_13,
        "61" => &mut t.total_status_code_61,
        "62" => &mut t.total_status_code_62,
        "63" => &mut t.total_status_code_63,
        "64" => &mut t.total_status_code_64,
        "65" => &mut t.total_status_code_65,
        "71" => &mut t.total_status_code_71,
        "78" => &mut t.total_status_code_78,
        "80" => &mut t.total_status_code_80,
        "82" => &mut t.total_status_code_82,
        "83" => &mut t.total_status_code_83,
        "84" => &mut t.total_status_code_84,
        "88" => &mut t.total_status_code_88,
        "89" => &mut t.total_status_code_89,
        "93" => &mut t.total_status_code_93,
        "94" => &mut t.total_status_code_94,
        "95" => &mut t.total_status_code_95,
        "96" => &mut t.total_status_code_96,
        "97" => &mut t.total_status_code_97,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metro2::model::{J1, K1, K2, SsnField};

    #[test]
    fn counts_follow_the_documented_rules() {
        let mut tot = Totals::new();
        let mut r = DataRecord::default();
        r.base.account_status = "93".into();
        r.base.social_security_number = SsnField(123456789);
        r.base.telephone_number = 5125550100;
        r.j1.push(J1 { surname: "DOE".into(), ecoa_code: "Z".into(), ..Default::default() });
        r.k1 = Some(K1 { original_creditor_name: "ACME".into(), ..Default::default() });
        r.k2 = Some(K2 { purchased_indicator: 9, ..Default::default() });
        tot.add(&r);
        r.base.account_status = "62".into();
        r.base.social_security_number = SsnField(999999999);
        tot.add(&r);
        let t = tot.trailer();
        assert_eq!(t.total_base_records, 2);
        assert_eq!(t.block_count, 4);
        assert_eq!((t.total_status_code_93, t.total_status_code_62), (1, 1));
        assert_eq!(t.total_consumer_segments_j1, 2);
        assert_eq!(t.total_ecoa_code_z, 2);
        assert_eq!(t.total_social_numbers_all_segments, 1);
        assert_eq!(t.total_telephone_numbers_all_segments, 2);
        assert_eq!(t.total_original_creditor_segments, 2);
        assert_eq!(t.total_purchased_to_segments, 0);
    }
}
