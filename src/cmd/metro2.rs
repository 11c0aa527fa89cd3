//! `skiptrace metro2 ...`: validate, convert and diff Metro 2 files. Parses flags, calls
//! [`crate::metro2`], prints the outcome; no format logic here.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use jiff::civil::Date;

use crate::cmd::Ctx;
use crate::exit::{ExitStatus, StatusError};
use crate::metro2::convert::{self, Format};
use crate::metro2::diff;
use crate::metro2::file::validate_stream;
use crate::metro2::validate::{Finding, Severity, Summary, ValidateOptions};

/// `skiptrace metro2` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Args {
    /// Check a Metro 2 file: structure, code lists, CRRG field relationships, collection
    /// rules, trailer totals. Exit 1 when a finding of severity error is found.
    Validate(ValidateArgs),
    /// Convert between Metro 2 and JSON (either way), or Metro 2 to a flat CSV view.
    /// Metro 2 -> JSON -> Metro 2 reproduces the file byte for byte.
    Convert(ConvertArgs),
    /// Compare two cycles of the same furnisher: changed fields per account, re-aged
    /// first-delinquency dates, accounts gone without a DA, status moves that make no sense.
    Diff(DiffArgs),
}

/// Output format of a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// One line per finding, then a summary.
    Text,
    /// One JSON document: findings and summary.
    Json,
}

/// `metro2 validate` flags.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// The Metro 2 file.
    pub file: PathBuf,
    /// Report format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Business date for "in the future" and obsolescence checks (default: today).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = crate::dates::parse_as_of)]
    pub as_of: Option<Date>,
    /// Skip the collection-account profile (rules `collection.*`).
    #[arg(long)]
    pub no_collection_profile: bool,
}

/// `metro2 convert` flags.
#[derive(Debug, clap::Args)]
pub struct ConvertArgs {
    /// Input file (Metro 2 or JSON; detected from the content).
    pub input: PathBuf,
    /// Output file; its format comes from `--to`, else from the extension (`.json`, `.csv`,
    /// anything else is Metro 2).
    pub output: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: Option<Format>,
    /// JSON -> Metro 2: recompute descriptor words and the trailer, upper-case and
    /// transliterate text, one record per line (instead of reproducing the input exactly).
    #[arg(long)]
    pub normalize: bool,
}

/// `metro2 diff` flags.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The earlier cycle's Metro 2 file.
    pub old: PathBuf,
    /// The later cycle's Metro 2 file.
    pub new: PathBuf,
    /// Report format (`json`: JSON Lines, one object per item, the summary last).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
}

/// Runs `skiptrace metro2`.
pub fn run(args: Args, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    match args {
        Args::Validate(a) => validate(a, ctx),
        Args::Convert(a) => convert_cmd(a),
        Args::Diff(a) => diff_cmd(a),
    }
}

fn open(path: &Path) -> anyhow::Result<std::fs::File> {
    std::fs::File::open(path).map_err(|e| {
        anyhow::Error::new(StatusError {
            status: ExitStatus::Failure,
            message: format!("cannot open {}: {e}", path.display()),
        })
    })
}

fn validate(a: ValidateArgs, ctx: &Ctx) -> anyhow::Result<ExitStatus> {
    let opts = ValidateOptions {
        as_of: Some(a.as_of.unwrap_or_else(crate::dates::today)),
        collection_profile: !a.no_collection_profile,
    };
    let file = open(&a.file)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let name = a.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let summary = match a.format {
        ReportFormat::Text => {
            let mut sink = |f: &Finding| -> io::Result<()> {
                if !ctx.quiet || f.severity == Severity::Error {
                    writeln!(out, "{name}: {}", text_line(f))?;
                }
                Ok(())
            };
            let s = validate_stream(io::BufReader::new(file), opts, &mut sink)?;
            write_text_summary(&mut out, &name, &s)?;
            s
        }
        ReportFormat::Json => {
            write!(out, "{{\"file\":{},\"findings\":[", serde_json::to_string(&name)?)?;
            let mut first = true;
            let mut sink = |f: &Finding| -> io::Result<()> {
                if !first {
                    out.write_all(b",")?;
                }
                first = false;
                serde_json::to_writer(&mut out, &finding_json(f))?;
                Ok(())
            };
            let s = validate_stream(io::BufReader::new(file), opts, &mut sink)?;
            write!(out, "],\"summary\":")?;
            serde_json::to_writer(&mut out, &s)?;
            writeln!(out, "}}")?;
            s
        }
    };
    out.flush()?;
    Ok(if summary.errors > 0 { ExitStatus::Rejects } else { ExitStatus::Ok })
}

/// One finding as a text line: where, what, why.
fn text_line(f: &Finding) -> String {
    let mut s = match (f.record, f.segment) {
        (0, _) => "header".to_string(),
        (_, Some(crate::metro2::layout::Segment::Trailer)) => "trailer".to_string(),
        (n, _) => format!("record {n}"),
    };
    if let Some(o) = f.offset {
        s.push_str(&format!(" (byte {o})"));
    }
    if !f.account.is_empty() {
        s.push_str(&format!(", account {}", f.account));
    }
    if let Some(field) = f.field {
        let seg = f.segment.map(|s| s.as_str()).unwrap_or("base");
        s.push_str(&format!(", {seg}.{} (CRRG {})", field.name, field.crrg));
    } else if let Some(seg) = f.segment {
        s.push_str(&format!(", {seg}"));
    }
    format!("{s}: {} [{}]: {}", f.severity.as_str(), f.rule, f.message)
}

fn finding_json(f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "severity": f.severity,
        "rule": f.rule,
        "message": f.message,
        "record": f.record,
        "offset": f.offset,
        "account": f.account,
        "segment": f.segment,
        "field": f.field.map(|x| x.name),
        "crrg": f.field.map(|x| x.crrg),
        "position": f.field.map(|x| format!("{}-{}", x.start, x.end())),
    })
}

fn write_text_summary(out: &mut impl Write, name: &str, s: &Summary) -> io::Result<()> {
    writeln!(
        out,
        "{name}: {} data records: {} clean, {} with warnings, {} with errors; {} errors, {} warnings",
        s.records,
        s.records_clean,
        s.records_with_warnings,
        s.records_with_errors,
        s.errors,
        s.warnings
    )?;
    if !s.by_status.is_empty() {
        let st: Vec<String> = s.by_status.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        writeln!(out, "records by status: {}", st.join(", "))?;
    }
    for (rule, n) in &s.by_rule {
        writeln!(out, "  {n:>8}  {rule}")?;
    }
    Ok(())
}

fn convert_cmd(a: ConvertArgs) -> anyhow::Result<ExitStatus> {
    let to = a.to.unwrap_or_else(|| Format::from_extension(&a.output));
    let input = open(&a.input)?;
    let stats = convert::convert(io::BufReader::new(input), &a.output, to, a.normalize)
        .with_context(|| format!("converting {}", a.input.display()))?;
    eprintln!(
        "{}: {} data records written to {} ({} structural findings in the input; run `metro2 validate` for details)",
        a.input.display(),
        stats.records,
        a.output.display(),
        stats.findings
    );
    Ok(ExitStatus::Ok)
}

fn diff_cmd(a: DiffArgs) -> anyhow::Result<ExitStatus> {
    let old = open(&a.old)?;
    let new = open(&a.new)?;
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let write: fn(&mut dyn Write, &diff::Event<'_>) -> io::Result<()> = match a.format {
        ReportFormat::Text => diff::write_text,
        ReportFormat::Json => diff::write_json_line,
    };
    let summary =
        diff::diff(io::BufReader::new(old), io::BufReader::new(new), &mut |e| write(&mut out, &e))
            .with_context(|| format!("comparing {} with {}", a.old.display(), a.new.display()))?;
    out.flush()?;
    Ok(if summary.flags == 0 { ExitStatus::Ok } else { ExitStatus::Rejects })
}
