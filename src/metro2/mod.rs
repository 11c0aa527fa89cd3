//! The Metro 2 format engine: layouts, reader, writer, validator, JSON view, cycle diff.
//!
//! Owns the 426-character Metro 2 format: the field tables ([`layout`], generated from
//! `formats/metro2/*.csv`), the typed records ([`model`]), encoding ([`codec`], [`writer`]),
//! trailer totals ([`totals`]), validation ([`validate`]), streaming reading ([`reader`],
//! [`file`](mod@file)), JSON and CSV conversion ([`convert`]) and cycle comparison ([`diff`]). It knows
//! nothing of the database or of how accounts become records (that is [`crate::furnish`]).
//!
//! # Writing and validating a file
//!
//! ```
//! use jiff::civil::date;
//! use skiptrace::metro2::model::{Base, DataRecord, Header, K1, SsnField};
//! use skiptrace::metro2::validate::{validate_records, ValidateOptions};
//! use skiptrace::metro2::writer::{Writer, WriterOptions};
//!
//! let header = Header {
//!     activity_date: Some(date(2026, 10, 31)),
//!     date_created: Some(date(2026, 11, 1)),
//!     reporter_name: "Acme Collections".into(),
//!     reporter_address: "1 Main St, Austin TX 78701".into(),
//!     ..Default::default()
//! };
//! let mut rec = DataRecord::new(Base {
//!     identification_number: "AGENCY01".into(),
//!     consumer_account_number: "A10001".into(),
//!     portfolio_type: "O".into(),
//!     account_type: "48".into(),
//!     account_status: "93".into(),
//!     surname: "Müller".into(), // written as MULLER
//!     social_security_number: SsnField(123456789),
//!     ..Default::default()
//! });
//! rec.k1 = Some(K1 { original_creditor_name: "Acme Bank".into(), creditor_classification: 8 });
//!
//! // Validate in memory before writing (the trailer is computed by the writer).
//! let report = validate_records(&header, std::slice::from_ref(&rec), None,
//!     ValidateOptions { as_of: Some(date(2026, 11, 20)), ..Default::default() });
//! assert!(report.findings.iter().any(|f| f.rule == "required_field")); // e.g. date opened
//!
//! let mut w = Writer::new(Vec::new(), &header, WriterOptions::default())?;
//! w.write(&rec)?; // RDW 0460: base + K1
//! let (trailer, bytes) = w.finish()?;
//! assert_eq!(trailer.total_base_records, 1);
//! assert!(bytes.starts_with(b"0426HEADER"));
//! # Ok::<(), skiptrace::metro2::writer::WriteError>(())
//! ```
//!
//! # Reading a file
//!
//! ```
//! use skiptrace::metro2::reader::{Kind, Reader, Slot};
//! # let bytes = skiptrace::metro2::writer::write_to_vec(&Default::default(), &[Default::default()], Default::default()).unwrap();
//! let mut reader = Reader::new(bytes.as_slice()); // or Reader::open(path)
//! let mut slot = Slot::default(); // reused: no allocation per record
//! let mut findings = Vec::new(); // structural problems, positioned
//! while let Some(kind) = reader.read(&mut slot, &mut findings)? {
//!     if kind == Kind::Data {
//!         let _status = &slot.data.base.account_status;
//!     }
//! }
//! assert!(findings.is_empty());
//! # Ok::<(), skiptrace::metro2::reader::ReadError>(())
//! ```

pub mod codec;
pub mod convert;
pub mod diff;
pub mod file;
pub mod layout;
pub mod model;
pub mod reader;
pub mod totals;
pub mod validate;
pub mod writer;
