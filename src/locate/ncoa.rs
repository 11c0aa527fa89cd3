//! NCOALink return codes: what each one means for our contact data.
//!
//! Owns the table of return codes (USPS NCOALink, as restated by vendors) and the action each
//! implies; the leads stage applies the action. Codes not in the table are rejected by the
//! reader, so a new code is a deliberate change here, never a silent guess.

/// What a return code tells us to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// A change of address was found and a new address is provided (`A`, `91`, `92`): the new
    /// address is a lead (individual moves) or goes to review (family and business moves).
    NewAddress,
    /// A change of address was found but no usable new address: moved, left no address (`02`),
    /// foreign move (`01`), PO box closed (`03`), ambiguous or unconvertible new address
    /// (`05`, `14`, `19`). The old address is marked bad.
    OldAddressBad,
    /// No match, cannot match, pending delete (`66`) or ANKLink move indicator (`77`): nothing
    /// changes.
    NoAction,
}

/// The action of a return code (upper case), or `None` for an unknown code.
pub fn classify(code: &str) -> Option<Action> {
    Some(match code {
        "A" | "91" | "92" => Action::NewAddress,
        "01" | "02" | "03" | "05" | "14" | "19" => Action::OldAddressBad,
        "00" | "04" | "06" | "07" | "08" | "09" | "10" | "11" | "12" | "13" | "15" | "16"
        | "17" | "18" | "20" | "66" | "77" => Action::NoAction,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(classify("A"), Some(Action::NewAddress));
        assert_eq!(classify("92"), Some(Action::NewAddress));
        assert_eq!(classify("02"), Some(Action::OldAddressBad));
        assert_eq!(classify("19"), Some(Action::OldAddressBad));
        assert_eq!(classify("66"), Some(Action::NoAction));
        assert_eq!(classify("00"), Some(Action::NoAction));
        assert_eq!(classify("2"), None);
        assert_eq!(classify("ZZ"), None);
    }
}
