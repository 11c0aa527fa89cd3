//! `skiptrace leads ...`: the review queues. `list` shows leads (or flag hits with
//! `--queue flags`); `accept`/`reject` decide leads; `confirm`/`dismiss` decide flag hits.
//! Every decision is audited with the reviewer's name.

use std::io::Write;

use jiff::civil::Date;

use crate::cmd::Ctx;
use crate::exit::ExitStatus;
use crate::locate::leads::{self, LeadFilter};

/// Which queue to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Queue {
    /// Contact leads (addresses, phones, e-mails).
    Leads,
    /// Deceased and bankruptcy hits.
    Flags,
}

/// Output format of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per item.
    Text,
    /// A JSON array.
    Json,
}

/// `skiptrace leads` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// List a queue (default: pending contact leads).
    List {
        /// `leads` or `flags`.
        #[arg(long, value_enum, default_value = "leads")]
        queue: Queue,
        /// Only this status (repeatable): pending, accepted, rejected, auto_accepted; for
        /// flags: pending, confirmed, dismissed; `all` for every status.
        #[arg(long = "status", value_name = "STATUS", default_value = "pending")]
        statuses: Vec<String>,
        /// Only leads of this source.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// `text` or `json`.
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Accept a pending lead: it becomes current contact data.
    Accept {
        /// Lead id.
        id: i64,
        /// Reviewer's user name.
        #[arg(long, value_name = "USER")]
        by: String,
        /// Business date (default: today).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
        as_of: Option<Date>,
    },
    /// Reject a pending lead.
    Reject {
        /// Lead id.
        id: i64,
        /// Reviewer's user name.
        #[arg(long, value_name = "USER")]
        by: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Confirm a pending deceased or bankruptcy hit: the consumer is flagged.
    Confirm {
        /// Flag hit id.
        id: i64,
        /// Reviewer's user name.
        #[arg(long, value_name = "USER")]
        by: String,
        /// Business date (default: today).
        #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
        as_of: Option<Date>,
    },
    /// Dismiss a pending deceased or bankruptcy hit (flags it set are taken back).
    Dismiss {
        /// Flag hit id.
        id: i64,
        /// Reviewer's user name.
        #[arg(long, value_name = "USER")]
        by: String,
        /// Why (kept in the audit log).
        #[arg(long)]
        reason: Option<String>,
    },
}

/// Runs `skiptrace leads`.
pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let db = ctx.open_db()?;
    let mut stdout = std::io::stdout().lock();
    match args {
        Args::List { queue, statuses, source, format } => {
            let statuses: Vec<String> =
                if statuses.iter().any(|s| s == "all") { Vec::new() } else { statuses };
            match queue {
                Queue::Leads => {
                    let filter = LeadFilter { statuses, ids: Vec::new(), source };
                    let rows = leads::list_leads(db.conn(), &filter)?;
                    if format == Format::Json {
                        serde_json::to_writer_pretty(&mut stdout, &rows)?;
                        writeln!(stdout)?;
                    } else {
                        for l in &rows {
                            writeln!(
                                stdout,
                                "{:>6}  {:<13} {:<7} {:<40} {} {}  {} {}  score {:.2}  {}",
                                l.id,
                                l.status,
                                l.kind,
                                l.value,
                                l.client_id,
                                l.account_number,
                                l.source,
                                l.source_record_id,
                                l.score,
                                l.explanation
                            )?;
                        }
                        writeln!(stdout, "{} lead(s)", rows.len())?;
                    }
                }
                Queue::Flags => {
                    let rows = leads::list_flags(db.conn(), &statuses)?;
                    if format == Format::Json {
                        serde_json::to_writer_pretty(&mut stdout, &rows)?;
                        writeln!(stdout)?;
                    } else {
                        for f in &rows {
                            writeln!(
                                stdout,
                                "{:>6}  {:<9} {:<10} {} {} {}  {} {}  score {:.2}  {}",
                                f.id,
                                f.status,
                                f.kind,
                                f.client_id,
                                f.account_number,
                                f.name,
                                f.source,
                                f.source_record_id,
                                f.score,
                                f.detail
                            )?;
                        }
                        writeln!(stdout, "{} flag hit(s)", rows.len())?;
                    }
                }
            }
        }
        Args::Accept { id, by, as_of } => {
            leads::check_reviewer(&by)?;
            leads::accept(&db, id, &by, as_of.unwrap_or_else(crate::dates::today))?;
            writeln!(stdout, "lead {id} accepted by {by}")?;
        }
        Args::Reject { id, by, reason } => {
            leads::check_reviewer(&by)?;
            leads::reject(&db, id, &by, reason.as_deref())?;
            writeln!(stdout, "lead {id} rejected by {by}")?;
        }
        Args::Confirm { id, by, as_of } => {
            leads::check_reviewer(&by)?;
            leads::confirm_flag(&db, id, &by, as_of.unwrap_or_else(crate::dates::today))?;
            writeln!(stdout, "flag hit {id} confirmed by {by}")?;
        }
        Args::Dismiss { id, by, reason } => {
            leads::check_reviewer(&by)?;
            leads::dismiss_flag(&db, id, &by, reason.as_deref())?;
            writeln!(stdout, "flag hit {id} dismissed by {by}")?;
        }
    }
    Ok(ExitStatus::Ok)
}
