//! Payment rows: payments, adjustments and reversals of existing accounts.
//!
//! A `payment` (positive amount) lowers the balance and moves the date and amount of last
//! payment forward; an `adjustment` adds its signed amount to the balance; a `reversal`
//! (positive amount) puts a returned payment back on the balance. An open account whose
//! balance reaches zero becomes `paid` (date closed = posted date); a paid account whose
//! balance comes back above zero is reopened. Every changed field writes an account event.
//! A reference already recorded for the account is ignored. This module must not print.

use jiff::civil::Date;
use rusqlite::{OptionalExtension, Transaction, params};
use rust_decimal::Decimal;

use crate::ingest::{Applied, FileCtx, Pii, Row, RowError, RowHandler};
use crate::money::Money;

use super::contacts::Origin;
use super::portfolio::account_event;

super::fields! {
    CLIENT_ID = ("client_id", true, Pii::No),
    ACCOUNT_NUMBER = ("account_number", true, Pii::No),
    POSTED_DATE = ("posted_date", true, Pii::No),
    AMOUNT = ("amount", true, Pii::No),
    KIND = ("kind", true, Pii::No),
    REFERENCE = ("reference", true, Pii::No),
}

/// Payment kinds.
pub const KINDS: &[&str] = &["payment", "adjustment", "reversal"];

/// Applies payment rows.
#[derive(Default)]
pub struct Handler;

/// Looks up an account by client and number; a row error when the client is not configured
/// or the account is unknown.
pub(crate) fn find_account(
    tx: &Transaction<'_>,
    row: &Row<'_>,
    ctx: &FileCtx<'_>,
    client_f: usize,
    account_f: usize,
) -> anyhow::Result<Result<i64, RowError>> {
    let client = match row.req(client_f, "client_id") {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let number = match row.req(account_f, "account number") {
        Ok(n) => n,
        Err(e) => return Ok(Err(e)),
    };
    if !ctx.config.raw.clients.contains_key(client) {
        return Ok(Err(row.err(
            client_f,
            "unknown_client",
            format!("client {client:?} is not configured"),
        )));
    }
    let id: Option<i64> = tx
        .prepare_cached("SELECT id FROM accounts WHERE client_id = ?1 AND account_number = ?2")?
        .query_row(params![client, number], |r| r.get(0))
        .optional()?;
    Ok(id.ok_or_else(|| {
        row.err(account_f, "unknown_account", format!("no account {number:?} for client {client}"))
    }))
}

impl RowHandler for Handler {
    fn apply(
        &mut self,
        tx: &Transaction<'_>,
        row: &Row<'_>,
        line: u64,
        ctx: &FileCtx<'_>,
    ) -> anyhow::Result<Result<Applied, RowError>> {
        let parsed = (|| -> Result<(Date, Money, &'static str, &str), RowError> {
            let posted = row.req_date(POSTED_DATE, "posted date")?;
            let amount = row.req_amount(AMOUNT, "amount")?;
            let k = row.req(KIND, "kind")?;
            let kind =
                KINDS.iter().copied().find(|x| x.eq_ignore_ascii_case(k)).ok_or_else(|| {
                    row.err(
                        KIND,
                        "invalid_kind",
                        format!("{k:?} is not one of {}", KINDS.join(", ")),
                    )
                })?;
            if kind != "adjustment" && amount.0 <= Decimal::ZERO {
                return Err(row.err(
                    AMOUNT,
                    "invalid_amount",
                    format!("a {kind} must be positive"),
                ));
            }
            let reference = row.req(REFERENCE, "reference")?;
            Ok((posted, amount, kind, reference))
        })();
        let (posted, amount, kind, reference) = match parsed {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        let account_id = match find_account(tx, row, ctx, CLIENT_ID, ACCOUNT_NUMBER)? {
            Ok(id) => id,
            Err(e) => return Ok(Err(e)),
        };
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO payments (account_id, kind, posted_date, amount, reference,
                                                 input_file_id, line)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                account_id,
                kind,
                posted,
                amount,
                reference,
                ctx.input_file_id,
                line as i64
            ])?;
        if inserted == 0 {
            return Ok(Ok(Applied::Unchanged));
        }
        let cause = format!("payment:{}:{line}", ctx.file_name);
        let source = String::new();
        let o = Origin {
            source: &source,
            cause: &cause,
            as_of: ctx.as_of,
            run_id: ctx.run_id,
            at: &ctx.at,
        };
        type Old = (Money, Option<Date>, Option<Money>, String, Option<Date>, Money);
        let old: Old = tx
            .prepare_cached(
                "SELECT current_balance, last_payment_date, last_payment_amount, status,
                        date_closed, amount_past_due
                 FROM accounts WHERE id = ?1",
            )?
            .query_row(params![account_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
            })?;
        let (balance, last_date, last_amount, status, closed, past_due) = old.clone();
        let new_balance = Money(match kind {
            "payment" => balance.0 - amount.0,
            "reversal" => balance.0 + amount.0,
            _ => balance.0 + amount.0,
        });
        let mut new_last = (last_date, last_amount);
        if kind == "payment" && last_date.is_none_or(|d| posted >= d) {
            new_last = (Some(posted), Some(amount));
        }
        let mut new_status = status.clone();
        let mut new_closed = closed;
        if new_balance.0 <= Decimal::ZERO && status == "open" {
            new_status = "paid".to_string();
            new_closed = Some(posted);
        } else if new_balance.0 > Decimal::ZERO && status == "paid" {
            new_status = "open".to_string();
            new_closed = None;
        }
        let new_past_due = Money(new_balance.0.max(Decimal::ZERO));
        let s = |m: Money| m.0.normalize().to_string();
        let changes: [(&str, Option<String>, Option<String>); 6] = [
            ("current_balance", Some(s(balance)), Some(s(new_balance))),
            ("amount_past_due", Some(s(past_due)), Some(s(new_past_due))),
            (
                "last_payment_date",
                last_date.map(|d| d.to_string()),
                new_last.0.map(|d| d.to_string()),
            ),
            ("last_payment_amount", last_amount.map(s), new_last.1.map(s)),
            ("status", Some(status), Some(new_status)),
            ("date_closed", closed.map(|d| d.to_string()), new_closed.map(|d| d.to_string())),
        ];
        for (field, before, after) in changes {
            if before == after {
                continue;
            }
            tx.prepare_cached(&format!(
                "UPDATE accounts SET {field} = ?1, updated_run = ?2 WHERE id = ?3"
            ))?
            .execute(params![after, ctx.run_id, account_id])?;
            account_event(tx, account_id, field, before.as_deref(), after.as_deref(), &o)?;
        }
        Ok(Ok(Applied::Created))
    }
}
