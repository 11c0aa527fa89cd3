//! The locate data model shared by every source and the matcher: a [`Debtor`] (what we know
//! of a person whose accounts need a locate) and a [`LocateRecord`] (one record of a locate
//! source, already mapped from the source's own layout).
//!
//! Sources (`locate::sources::*`) only produce `LocateRecord`s; the matcher only consumes
//! `Debtor`s and `LocateRecord`s. Neither side knows the other's formats.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::pii::Ssn;

/// A person's name as a record states it (not normalised: the matcher normalises).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// Given name.
    pub first: String,
    /// Middle name or initial.
    pub middle: String,
    /// Surname.
    pub last: String,
    /// Generation suffix as written (`JR`, `SR`, `III`...).
    pub suffix: String,
}

/// A US postal address as a record states it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PostalAddress {
    /// Street line.
    pub line1: String,
    /// Secondary line (unit).
    pub line2: String,
    /// City.
    pub city: String,
    /// Two-letter state code.
    pub state: String,
    /// ZIP5 or ZIP+4 digits.
    pub zip: String,
}

/// What a record says of the SSN.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SsnEvidence {
    /// A full, structurally valid SSN.
    Full(Ssn),
    /// Only the last four digits.
    Last4(String),
    /// No SSN (or an invalid one, which is treated as absent).
    #[default]
    Missing,
}

/// NCOALink move type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MoveType {
    /// `I`: individual move (first, middle and last name matched).
    Individual,
    /// `F`: family move (surname matched).
    Family,
    /// `B`: business move.
    Business,
}

/// An address a source reports for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddressHit {
    /// The address.
    pub address: PostalAddress,
    /// First seen by the source.
    pub first_seen: Option<Date>,
    /// Last seen by the source.
    pub last_seen: Option<Date>,
}

/// A phone number a source reports for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneHit {
    /// Ten digits.
    pub number: String,
    /// `mobile`, `landline`, `voip` or the source's own word.
    pub line_type: Option<String>,
    /// The source's own confidence score (0-100), when it gives one.
    pub vendor_score: Option<u8>,
    /// First seen by the source.
    pub first_seen: Option<Date>,
    /// Last seen by the source.
    pub last_seen: Option<Date>,
}

/// A deceased indicator from a source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeceasedHit {
    /// Date of death, when given.
    pub date: Option<Date>,
}

/// A bankruptcy from a source.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BankruptcyHit {
    /// Chapter (`7`, `11`, `12`, `13`).
    pub chapter: Option<String>,
    /// Filing (petition) date.
    pub filed: Option<Date>,
    /// `petition`, `discharged`, `dismissed` or `withdrawn`.
    pub status: Option<String>,
}

/// One record of a locate source.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LocateRecord {
    /// Configured source name (`[locate.sources.<name>]`).
    pub source: String,
    /// Identifier unique within the source: the vendor's record id, or `file:line`.
    pub source_record_id: String,
    /// Our own reference echoed back by the source (account number we sent), if any. Used for
    /// blocking and scored as part of the matcher's joint locator (the source looked where
    /// that account's consumer lives, as relatives do too): identity is still scored.
    pub reference: Option<String>,
    /// Name of the person the record describes.
    pub name: PersonName,
    /// SSN evidence.
    pub ssn: SsnEvidence,
    /// Date of birth.
    pub dob: Option<Date>,
    /// The address the source matched the person at (the NCOA "old" address, or the input
    /// address a vendor echoes), when given.
    pub known_address: Option<PostalAddress>,
    /// New or additional addresses reported (the lead candidates).
    pub addresses: Vec<AddressHit>,
    /// Phones reported.
    pub phones: Vec<PhoneHit>,
    /// E-mail addresses reported.
    pub emails: Vec<String>,
    /// NCOALink move type.
    pub move_type: Option<MoveType>,
    /// NCOALink return code (`A`, `91`, `92`, `02`, ...).
    pub ncoa_return_code: Option<String>,
    /// NCOALink move effective date.
    pub move_effective: Option<Date>,
    /// Deceased indicator.
    pub deceased: Option<DeceasedHit>,
    /// Bankruptcy.
    pub bankruptcy: Option<BankruptcyHit>,
}

/// What we know of one person whose account(s) need a locate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Debtor {
    /// Consumer id in the system of record.
    pub consumer_id: i64,
    /// The accounts of this consumer selected for locate.
    pub account_ids: Vec<i64>,
    /// Account numbers (for matching a source's echoed reference).
    pub account_numbers: Vec<String>,
    /// Name on file.
    pub name: PersonName,
    /// SSN on file.
    pub ssn: Option<Ssn>,
    /// DOB on file.
    pub dob: Option<Date>,
    /// Known addresses: current first, then previous (most recent first).
    pub addresses: Vec<PostalAddress>,
    /// Known phones (10 digits), current first.
    pub phones: Vec<String>,
}
