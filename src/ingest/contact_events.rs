//! Contact-event rows: what happened when the agency or the client tried to reach a consumer.
//!
//! Each accepted event is stored in `contact_events` (an event already recorded is ignored)
//! and has its effect: returned mail marks the current address bad and sets the account's
//! undeliverable date; a bad or disconnected phone, or a bounced e-mail, marks that value
//! bad; a validation notice sets the validation notice date and a conversation the date of
//! first communication (when unset); a recall sets the status `recalled`; deceased and
//! bankruptcy notices flag the consumer. This module must not print.

use jiff::civil::Date;
use rusqlite::{Transaction, params};

use crate::ingest::{Applied, FileCtx, Pii, Row, RowError, RowHandler};

use super::contacts::{self, Origin, Table};
use super::payments::find_account;
use super::portfolio::{account_event, consumer_event};

super::fields! {
    CLIENT_ID = ("client_id", true, Pii::No),
    ACCOUNT_NUMBER = ("account_number", true, Pii::No),
    EVENT_DATE = ("event_date", true, Pii::No),
    KIND = ("kind", true, Pii::No),
    DETAIL = ("detail", false, Pii::No),
}

/// Contact-event kinds.
pub const KINDS: &[&str] = &[
    "returned_mail",
    "bad_phone",
    "disconnected_phone",
    "email_bounce",
    "letter_sent",
    "validation_notice",
    "conversation",
    "recall",
    "deceased",
    "bankruptcy",
];

/// Bankruptcy chapters a notice may carry.
const CHAPTERS: &[&str] = &["7", "11", "12", "13"];

/// Applies contact-event rows.
#[derive(Default)]
pub struct Handler;

/// A checked event: kind, date and the normalised detail.
fn parse<'a>(row: &Row<'a>) -> Result<(&'static str, Date, String), RowError> {
    let date = row.req_date(EVENT_DATE, "event date")?;
    let k = row.req(KIND, "kind")?;
    let kind = KINDS.iter().copied().find(|x| x.eq_ignore_ascii_case(k)).ok_or_else(|| {
        row.err(KIND, "invalid_kind", format!("{k:?} is not one of {}", KINDS.join(", ")))
    })?;
    let detail = match kind {
        "bad_phone" | "disconnected_phone" => row.phone(DETAIL)?.unwrap_or_default(),
        "email_bounce" => row.email(DETAIL)?.unwrap_or_default(),
        "bankruptcy" => {
            let d = row.req(DETAIL, "bankruptcy chapter")?;
            let ch = d.trim().trim_start_matches(['c', 'C', 'h', 'H', ' ', '.']);
            let ch = ch.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == ' ');
            CHAPTERS.iter().find(|c| **c == ch).map(|c| (*c).to_string()).ok_or_else(|| {
                row.err(
                    DETAIL,
                    "invalid_detail",
                    format!("bankruptcy chapter {d:?} is not 7, 11, 12 or 13"),
                )
            })?
        }
        _ => row.get(DETAIL).unwrap_or_default().to_string(),
    };
    Ok((kind, date, detail))
}

impl RowHandler for Handler {
    fn apply(
        &mut self,
        tx: &Transaction<'_>,
        row: &Row<'_>,
        line: u64,
        ctx: &FileCtx<'_>,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        let (kind, date, detail) = match parse(row) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let account_id = match find_account(tx, row, ctx, CLIENT_ID, ACCOUNT_NUMBER)? {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO contact_events (account_id, kind, event_date, detail,
                                                       input_file_id, line)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![account_id, kind, date, detail, ctx.input_file_id, line as i64])?;
        if inserted == 0 {
            return Ok(Ok(Applied::Unchanged));
        }
        let (consumer_id, client, status, vnd, fcd, und): (
            i64,
            String,
            String,
            Option<Date>,
            Option<Date>,
            Option<Date>,
        ) = tx
            .prepare_cached(
                "SELECT consumer_id, client_id, status, validation_notice_date,
                        first_communication_date, undeliverable_date
                 FROM accounts WHERE id = ?1",
            )?
            .query_row(params![account_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?;
        let cause = format!("contact_event:{}:{line}", ctx.file_name);
        let source = format!("client:{client}");
        let o = Origin {
            source: &source,
            cause: &cause,
            as_of: ctx.as_of,
            run_id: ctx.run_id,
            at: &ctx.at,
        };
        let set_account = |field: &str, old: Option<String>, new: String| -> anyhow::Result<()> {
            tx.prepare_cached(&format!(
                "UPDATE accounts SET {field} = ?1, updated_run = ?2 WHERE id = ?3"
            ))?
            .execute(params![new, ctx.run_id, account_id])?;
            account_event(tx, account_id, field, old.as_deref(), Some(&new), &o)?;
            Ok(())
        };
        let ds = |d: Option<Date>| d.map(|d| d.to_string());
        match kind {
            "returned_mail" => {
                contacts::mark_bad(tx, Table::Addresses, consumer_id, None, &o)?;
                if und.is_none_or(|u| date > u) {
                    set_account("undeliverable_date", ds(und), date.to_string())?;
                }
            }
            "bad_phone" | "disconnected_phone" => {
                let key = [detail.as_str()];
                let key = (!detail.is_empty()).then_some(&key[..]);
                contacts::mark_bad(tx, Table::Phones, consumer_id, key, &o)?;
            }
            "email_bounce" => {
                let key = [detail.as_str()];
                let key = (!detail.is_empty()).then_some(&key[..]);
                contacts::mark_bad(tx, Table::Emails, consumer_id, key, &o)?;
            }
            "validation_notice" if vnd.is_none() => {
                set_account("validation_notice_date", None, date.to_string())?;
            }
            "conversation" if fcd.is_none() => {
                set_account("first_communication_date", None, date.to_string())?;
            }
            "recall" if status != "recalled" => {
                set_account("status", Some(status), "recalled".to_string())?;
            }
            "deceased" => {
                let old: Option<String> = tx
                    .prepare_cached("SELECT deceased_date FROM consumers WHERE id = ?1")?
                    .query_row(params![consumer_id], |r| r.get(0))?;
                if old.as_deref() != Some(date.to_string().as_str()) {
                    tx.prepare_cached(
                        "UPDATE consumers SET deceased_date = ?1, deceased_source = ?2,
                                              updated_run = ?3 WHERE id = ?4",
                    )?
                    .execute(params![
                        date,
                        source,
                        ctx.run_id,
                        consumer_id
                    ])?;
                    consumer_event(
                        tx,
                        consumer_id,
                        "deceased_date",
                        old.as_deref(),
                        Some(&date.to_string()),
                        &o,
                    )?;
                }
            }
            "bankruptcy" => {
                let old: (Option<String>, Option<String>) = tx
                    .prepare_cached(
                        "SELECT bankruptcy_chapter, bankruptcy_date FROM consumers WHERE id = ?1",
                    )?
                    .query_row(params![consumer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                tx.prepare_cached(
                    "UPDATE consumers SET bankruptcy_chapter = ?1, bankruptcy_status = 'petition',
                                          bankruptcy_date = ?2, updated_run = ?3 WHERE id = ?4",
                )?
                .execute(params![detail, date, ctx.run_id, consumer_id])?;
                if old.0.as_deref() != Some(detail.as_str()) {
                    consumer_event(
                        tx,
                        consumer_id,
                        "bankruptcy_chapter",
                        old.0.as_deref(),
                        Some(&detail),
                        &o,
                    )?;
                }
                if old.1.as_deref() != Some(date.to_string().as_str()) {
                    consumer_event(
                        tx,
                        consumer_id,
                        "bankruptcy_date",
                        old.1.as_deref(),
                        Some(&date.to_string()),
                        &o,
                    )?;
                }
            }
            _ => {}
        }
        Ok(Ok(Applied::Created))
    }
}
