//! Vendor HTTP API source (reqwest on tokio): one lookup per debtor, answered from the
//! response cache (`locate_requests`) when this query was already answered, else sent to the
//! vendor under the source's concurrency cap (tokio `Semaphore`) and rate limit (governor).
//!
//! Retries (backon, exponential with jitter) follow the vendor's billing: a request that never
//! reached the vendor (connection refused) is always retried; `429` and `503` mean the vendor
//! refused the request without doing it, so they are retried after `Retry-After` (capped by
//! `retry_after_max_secs`); timeouts and other `5xx` are retried only when a repeat cannot
//! bill twice (`GET`, `billable = false`, or `idempotent = true`); other `4xx` never. `401` and
//! `403` stop the source: the key is wrong, every further call would fail. Every request sent
//! is audited (with the permissible-purpose code) and every lookup is written to the cache as
//! soon as it completes, so a killed run bills nothing twice either.
//!
//! The API key is read from the environment variable the config names, held in a
//! `SecretString` and placed only in a sensitive header; it is never logged or printed.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use anyhow::Context;
use backon::{ExponentialBuilder, Retryable};
use governor::{Quota, RateLimiter};
use reqwest::header::{HeaderName, HeaderValue};
use rusqlite::{OptionalExtension, params};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value};
use tokio::sync::Semaphore;

use crate::error::ErrorCode;
use crate::locate::mapping::{self, Format, Mapping};
use crate::locate::record::Debtor;
use crate::locate::sources::{HttpMethod, SourceConfig, SourceKind, SourceRead, SourceReject};
use crate::progress::Progress;
use crate::store::Db;

/// One lookup: the debtor it is for and the query sent.
#[derive(Clone, Debug)]
struct Lookup {
    /// First account of the debtor (for the cache row and the audit subject).
    account_id: Option<i64>,
    /// Account number (names the record in messages; echoed as our reference).
    account_number: String,
    /// The request parameters (may hold the SSN: never logged).
    params: Map<String, Value>,
    /// Hash of source, URL and the person asked about.
    key: String,
    /// The SSN asked about (digits), to keep it out of the cached response.
    ssn: Option<String>,
    /// The date of birth asked about.
    dob: Option<jiff::civil::Date>,
}

/// A response worth keeping.
#[derive(Clone, Debug)]
enum Answer {
    /// 2xx with its body.
    Body(u16, String),
    /// 404: the vendor has nothing on this person.
    NotFound,
}

/// Why an attempt failed.
#[derive(Clone, Debug)]
enum Failure {
    /// Connection could not be made: the request never reached the vendor.
    Connect(String),
    /// No answer within `timeout_ms`.
    Timeout,
    /// Other transport error after the request may have been sent.
    Transport(String),
    /// 429 or 503, with the delay the vendor asked for.
    Refused(u16, Option<Duration>),
    /// Other 5xx.
    Server(u16),
    /// 401 or 403.
    Auth(u16),
    /// Other 4xx.
    Client(u16, String),
    /// Not sent: the source stopped after an authentication failure.
    Stopped,
}

impl Failure {
    fn retryable(&self, retry_safe: bool) -> bool {
        match self {
            Failure::Connect(_) | Failure::Refused(..) => true,
            Failure::Timeout | Failure::Transport(_) | Failure::Server(_) => retry_safe,
            Failure::Auth(_) | Failure::Client(..) | Failure::Stopped => false,
        }
    }

    fn code(&self) -> ErrorCode {
        ErrorCode(match self {
            Failure::Connect(_) => "vendor_unreachable",
            Failure::Timeout => "vendor_timeout",
            Failure::Transport(_) => "vendor_transport_error",
            Failure::Refused(429, _) => "vendor_rate_limited",
            Failure::Refused(..) | Failure::Server(_) => "vendor_http_5xx",
            Failure::Auth(_) => "vendor_auth_failed",
            Failure::Client(..) => "vendor_http_4xx",
            Failure::Stopped => "vendor_auth_failed",
        })
    }

    fn http_status(&self) -> Option<u16> {
        match self {
            Failure::Refused(s, _)
            | Failure::Server(s)
            | Failure::Auth(s)
            | Failure::Client(s, _) => Some(*s),
            _ => None,
        }
    }

    fn describe(&self, key_env: &str) -> String {
        match self {
            Failure::Connect(e) => format!("cannot connect: {e}"),
            Failure::Timeout => "no answer within the timeout".into(),
            Failure::Transport(e) => format!("transport error: {e}"),
            Failure::Refused(s, _) => format!("HTTP {s}: the vendor refused the request"),
            Failure::Server(s) => format!("HTTP {s}: vendor server error"),
            Failure::Auth(s) => {
                format!("HTTP {s}: authentication failed; check the key in ${key_env}")
            }
            Failure::Client(s, body) => format!("HTTP {s}: request refused: {body}"),
            Failure::Stopped => "not sent after an authentication failure".into(),
        }
    }
}

/// Result of one lookup's attempts.
struct Outcome {
    lookup: usize,
    result: Result<Answer, Failure>,
    attempts: Vec<AttemptLog>,
    billed: u32,
    skipped: bool,
}

/// Everything a request task needs (shared, read-only).
struct Client {
    http: reqwest::Client,
    url: String,
    method: HttpMethod,
    auth: (HeaderName, HeaderValue),
    limiter: governor::DefaultDirectRateLimiter,
    permits: Semaphore,
    backoff: ExponentialBuilder,
    retry_safe: bool,
    retry_after_max: Duration,
    stop: AtomicBool,
}

/// Reads an API source for the given debtors, with a progress bar of the debtors answered
/// (from the cache or the vendor). Returns `skipped` when the key's environment variable is
/// not set.
pub fn read(
    db: &Db,
    run_id: i64,
    name: &str,
    cfg: &SourceConfig,
    m: &Mapping,
    debtors: &[Debtor],
    progress: &Progress,
) -> anyhow::Result<SourceRead> {
    let mut out = SourceRead::default();
    let key_env = cfg.api_key_env.clone().unwrap_or_default();
    let key = match std::env::var(&key_env) {
        Ok(k) if !k.trim().is_empty() => SecretString::from(k),
        _ => {
            out.skipped = Some(format!("environment variable {key_env} is not set"));
            return Ok(out);
        }
    };
    let progress = progress.items(debtors.len() as u64, name);
    let url = cfg.url.clone().unwrap_or_default();
    let lookups: Vec<Lookup> = debtors
        .iter()
        .map(|d| {
            let params = request_params(d, m);
            // The cache key is the person asked about, not the contact data we hold (which
            // this stage itself updates), so that a re-run finds its answer.
            let identity = serde_json::json!([
                d.account_numbers.first(),
                d.name.first,
                d.name.middle,
                d.name.last,
                d.name.suffix,
                d.ssn.as_ref().map(|s| s.expose_digits().to_string()),
                d.dob.map(|x| x.to_string()),
            ]);
            let key = crate::fsutil::sha256_bytes(format!("{name}\n{url}\n{identity}").as_bytes());
            Lookup {
                ssn: d.ssn.as_ref().map(|s| s.expose_digits().to_string()),
                dob: d.dob,
                account_id: d.account_ids.first().copied(),
                account_number: d.account_numbers.first().cloned().unwrap_or_default(),
                params,
                key,
            }
        })
        .collect();
    out.api.lookups = lookups.len() as u64;

    // Cache: answered queries are not sent again while the answer is fresh.
    let fresh_after = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * i64::from(cfg.cache_days)))
        .unwrap_or(jiff::Timestamp::MIN)
        .round(jiff::Unit::Second)
        .map(|t| t.to_string())
        .unwrap_or_default();
    let mut answers: Vec<Option<Answer>> = vec![None; lookups.len()];
    let mut to_send = Vec::new();
    for (i, l) in lookups.iter().enumerate() {
        let cached: Option<(String, Option<i64>, Option<String>)> = db
            .conn()
            .query_row(
                "SELECT status, http_status, response FROM locate_requests
                 WHERE source = ?1 AND request_key = ?2 AND requested_at >= ?3",
                params![name, l.key, fresh_after],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        match cached {
            Some((status, http, body)) if status == "ok" || status == "not_found" => {
                out.api.cache_hits += 1;
                progress.inc(1);
                answers[i] = Some(if status == "ok" {
                    Answer::Body(
                        http.and_then(|h| u16::try_from(h).ok()).unwrap_or(200),
                        body.unwrap_or_default(),
                    )
                } else {
                    Answer::NotFound
                });
                db.audit(
                    Some(run_id),
                    &crate::store::actor(),
                    "vendor.cache_hit",
                    l.account_id.map(|a| format!("account:{a}")).as_deref(),
                    &serde_json::json!({
                        "source": name,
                        "permissible_purpose": cfg.permissible_purpose,
                        "request_key": l.key,
                    }),
                )?;
            }
            _ => to_send.push(i),
        }
    }

    if !to_send.is_empty() {
        let client = Arc::new(build_client(cfg, &key)?);
        drop(key);
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the HTTP runtime")?;
        let mut not_sent = 0u64;
        rt.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for &i in &to_send {
                let client = client.clone();
                let l = lookups[i].clone();
                set.spawn(async move { fetch(client, i, l).await });
            }
            while let Some(joined) = set.join_next().await {
                let o = match joined {
                    Ok(o) => o,
                    Err(e) => anyhow::bail!("source {name}: a request task failed: {e}"),
                };
                let mut o = o;
                progress.inc(1);
                let l = &lookups[o.lookup];
                if let Ok(Answer::Body(status, body)) = &o.result {
                    o.result = Ok(Answer::Body(*status, redact(body, l)));
                }
                out.api.requests += o.attempts.len() as u64;
                if cfg.billable {
                    out.api.billable_calls += u64::from(o.billed);
                }
                record(db, run_id, name, cfg, l, &o)?;
                match o.result {
                    Ok(a) => answers[o.lookup] = Some(a),
                    Err(f) => {
                        out.api.failed += 1;
                        if o.skipped {
                            not_sent += 1;
                            continue;
                        }
                        out.vendor_errors.push(format!(
                            "source {name}, account {}: {}: {} (after {} attempt{})",
                            l.account_number,
                            f.code(),
                            f.describe(&key_env),
                            o.attempts.len(),
                            if o.attempts.len() == 1 { "" } else { "s" }
                        ));
                    }
                }
            }
            Ok(())
        })?;
        if not_sent > 0 {
            out.vendor_errors.push(format!(
                "source {name}: stopped after an authentication failure; \
                 {not_sent} lookup(s) not sent"
            ));
        }
    }
    progress.finish_and_clear();
    // Sorted, so that the output does not depend on the order requests completed in.
    out.vendor_errors.sort();

    // Parse the answers in debtor order (deterministic).
    for (i, answer) in answers.into_iter().enumerate() {
        let l = &lookups[i];
        let Some(Answer::Body(_, body)) = answer else { continue };
        parse_answer(&restore(&body, l), name, m, l, &mut out, i as u64 + 1);
    }
    out.rows = (out.records.len() + out.rejects.len()) as u64;
    Ok(out)
}

fn parse_answer(
    body: &str,
    name: &str,
    m: &Mapping,
    l: &Lookup,
    out: &mut SourceRead,
    lookup_no: u64,
) {
    let malformed = |out: &mut SourceRead, msg: String| {
        out.rejects.push(SourceReject {
            record: lookup_no,
            line: 0,
            byte: 0,
            source_record_id: l.account_number.clone(),
            field: String::new(),
            code: ErrorCode("vendor_malformed_response"),
            message: format!(
                "source {name}, account {}: malformed response: {msg}",
                l.account_number
            ),
            raw: Vec::new(),
        });
    };
    let label = l.account_number.clone();
    let mut read = match m.format {
        Format::Json => {
            let doc: Value = match serde_json::from_str(body) {
                Ok(v) => v,
                Err(e) => return malformed(out, format!("invalid JSON: {e}")),
            };
            let flats = match super::json::flatten(&doc, m) {
                Ok(f) => f,
                Err(e) => return malformed(out, e.to_string()),
            };
            let mut r = SourceRead::default();
            for f in flats {
                let fallback = format!("{label}#{}", f.record);
                let id = f.fields.get("record_id").cloned().unwrap_or_else(|| fallback.clone());
                match mapping::to_locate_record(
                    &f,
                    name,
                    m,
                    SourceKind::VendorApi.record_kind(),
                    &fallback,
                ) {
                    Ok(rec) => r.records.push(rec),
                    Err(e) => r.rejects.push(SourceReject::from_field(&f, &id, e)),
                }
            }
            r
        }
        Format::Xml | Format::Csv => {
            super::xml::read_from(body.as_bytes(), &label, name, SourceKind::VendorApi, m)
        }
    };
    for mut rec in read.records.drain(..) {
        if rec.reference.is_none() {
            rec.reference = Some(l.account_number.clone());
        }
        out.records.push(rec);
    }
    for mut r in read.rejects.drain(..) {
        if r.code.as_str() == "malformed_xml" {
            r.code = ErrorCode("vendor_malformed_response");
        }
        r.message = format!(
            "source {name}, account {}, response record {}: {}",
            l.account_number, r.record, r.message
        );
        r.record = lookup_no;
        out.rejects.push(r);
    }
}

fn request_params(d: &Debtor, m: &Mapping) -> Map<String, Value> {
    let rq = &m.request;
    let addr = d.addresses.first();
    let mut p = Map::new();
    let mut put = |k: &Option<String>, v: Option<String>| {
        if let (Some(k), Some(v)) = (k, v.filter(|v| !v.is_empty())) {
            p.insert(k.clone(), Value::String(v));
        }
    };
    put(&rq.reference, d.account_numbers.first().cloned());
    put(&rq.first_name, Some(d.name.first.clone()));
    put(&rq.middle_name, Some(d.name.middle.clone()));
    put(&rq.last_name, Some(d.name.last.clone()));
    put(&rq.suffix, Some(d.name.suffix.clone()));
    put(&rq.ssn, d.ssn.as_ref().map(|s| s.expose_digits().to_string()));
    put(&rq.dob, d.dob.map(|x| x.to_string()));
    put(&rq.address1, addr.map(|a| a.line1.clone()));
    put(&rq.address2, addr.map(|a| a.line2.clone()));
    put(&rq.city, addr.map(|a| a.city.clone()));
    put(&rq.state, addr.map(|a| a.state.clone()));
    put(&rq.zip, addr.map(|a| a.zip.clone()));
    put(&rq.phone, d.phones.first().cloned());
    p
}

fn build_client(cfg: &SourceConfig, key: &SecretString) -> anyhow::Result<Client> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(cfg.timeout_ms))
        .connect_timeout(Duration::from_millis(cfg.timeout_ms))
        .user_agent(concat!("skiptrace/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let header = HeaderName::from_bytes(cfg.api_key_header.trim().as_bytes()).map_err(|_| {
        crate::error::ConfigError(format!("invalid api_key_header {:?}", cfg.api_key_header))
    })?;
    let mut value =
        HeaderValue::from_str(&format!("{}{}", cfg.api_key_prefix, key.expose_secret())).map_err(
            |_| {
                crate::error::ConfigError(
                    "the API key contains characters not allowed in an HTTP header".into(),
                )
            },
        )?;
    value.set_sensitive(true);
    let rate = NonZeroU32::new(cfg.rate_per_sec).unwrap_or(NonZeroU32::MIN);
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(cfg.backoff_initial_ms))
        .with_max_delay(Duration::from_millis(cfg.backoff_max_ms.max(cfg.backoff_initial_ms)))
        .with_max_times(cfg.max_retries as usize)
        .with_jitter();
    Ok(Client {
        http,
        url: cfg.url.clone().unwrap_or_default(),
        method: cfg.method,
        auth: (header, value),
        limiter: RateLimiter::direct(Quota::per_second(rate)),
        permits: Semaphore::new(cfg.max_concurrency.max(1) as usize),
        backoff,
        retry_safe: !cfg.billable || cfg.idempotent || cfg.method == HttpMethod::Get,
        retry_after_max: Duration::from_secs(cfg.retry_after_max_secs),
        stop: AtomicBool::new(false),
    })
}

/// One HTTP attempt: when it was made, what came back.
#[derive(Clone, Debug)]
struct AttemptLog {
    at: String,
    http_status: Option<u16>,
    outcome: &'static str,
}

async fn fetch(client: Arc<Client>, index: usize, l: Lookup) -> Outcome {
    let log: std::sync::Mutex<Vec<AttemptLog>> = std::sync::Mutex::new(Vec::new());
    let billed = AtomicU32::new(0);
    let Ok(_permit) = client.permits.acquire().await else {
        let result = Err(Failure::Stopped);
        return Outcome { lookup: index, result, attempts: Vec::new(), billed: 0, skipped: true };
    };
    let attempt = || async {
        let at = crate::store::now_rfc3339();
        let r = send_once(&client, &l, &billed).await;
        let (http_status, outcome) = match &r {
            Ok(Answer::Body(s, _)) => (Some(*s), "ok"),
            Ok(Answer::NotFound) => (Some(404), "not_found"),
            Err(Failure::Stopped) => return r,
            Err(f) => (f.http_status(), f.code().as_str()),
        };
        if let Ok(mut v) = log.lock() {
            v.push(AttemptLog { at, http_status, outcome });
        }
        r
    };
    let retry_safe = client.retry_safe;
    let cap = client.retry_after_max;
    let account = l.account_id;
    let result = attempt
        .retry(client.backoff)
        .sleep(tokio::time::sleep)
        .when(|f: &Failure| f.retryable(retry_safe))
        .notify(|f: &Failure, after: Duration| {
            tracing::warn!(
                account_id = account,
                code = f.code().as_str(),
                http_status = f.http_status(),
                delay_ms = after.as_millis() as u64,
                "Vendor request failed; retrying."
            );
        })
        .adjust(move |f: &Failure, dur: Option<Duration>| {
            let dur = dur?;
            match f {
                Failure::Refused(_, Some(after)) if *after > cap => None,
                Failure::Refused(_, Some(after)) => Some(*after),
                _ => Some(dur),
            }
        })
        .await;
    let skipped = matches!(result, Err(Failure::Stopped));
    let attempts = log.into_inner().unwrap_or_default();
    Outcome { lookup: index, result, attempts, billed: billed.load(Ordering::SeqCst), skipped }
}

const SSN_TOKEN: &str = "[[query-ssn]]";

/// The date formats a vendor may write a date of birth in, with their cache tokens.
fn dob_forms(d: jiff::civil::Date) -> [(String, &'static str); 4] {
    let (y, m, day) = (d.year(), d.month(), d.day());
    [
        (format!("{y:04}-{m:02}-{day:02}"), "[[query-dob-iso]]"),
        (format!("{m:02}/{day:02}/{y:04}"), "[[query-dob-us]]"),
        (format!("{m:02}{day:02}{y:04}"), "[[query-dob-mdy]]"),
        (format!("{y:04}{m:02}{day:02}"), "[[query-dob-ymd]]"),
    ]
}

/// The response as it is cached: the SSN and date of birth we asked about are replaced by
/// tokens, and any other SSN-like number (9 digits, or `ddd-dd-dddd`) is cut to its last four
/// digits, so the cache holds no SSN or queried DOB in clear. Responses are always parsed
/// from this form (after [`restore`]), so a cached answer reads exactly like a fresh one.
fn redact(body: &str, l: &Lookup) -> String {
    let mut s = mask_ssns(body, l.ssn.as_deref());
    if let Some(d) = l.dob {
        for (form, token) in dob_forms(d) {
            s = s.replace(&form, token);
        }
    }
    s
}

/// Puts the queried SSN and DOB back into a cached response.
fn restore(body: &str, l: &Lookup) -> String {
    let mut s = body.to_string();
    if let Some(ssn) = &l.ssn {
        s = s.replace(SSN_TOKEN, ssn);
    }
    if let Some(d) = l.dob {
        for (form, token) in dob_forms(d) {
            s = s.replace(token, &form);
        }
    }
    s
}

/// Replaces every standalone run of 9 digits, and every `ddd-dd-dddd`: the queried SSN by its
/// token, any other by its last four digits.
fn mask_ssns(s: &str, query: Option<&str>) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() || (i > 0 && b[i - 1].is_ascii_digit()) {
            i += 1;
            continue;
        }
        let mut j = i;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        let run = j - i;
        let mut end = None;
        if run == 9 {
            end = Some(j);
        } else if run == 3
            && b.get(j) == Some(&b'-')
            && b.get(j + 1..j + 3).is_some_and(|x| x.iter().all(u8::is_ascii_digit))
            && b.get(j + 3) == Some(&b'-')
            && b.get(j + 4..j + 8).is_some_and(|x| x.iter().all(u8::is_ascii_digit))
            && !b.get(j + 8).is_some_and(u8::is_ascii_digit)
        {
            end = Some(j + 8);
        }
        match end {
            Some(e) => {
                // Everything here is ASCII, so these byte offsets are char boundaries.
                out.push_str(s.get(copied..i).unwrap_or_default());
                let digits: String =
                    s.get(i..e).unwrap_or_default().chars().filter(char::is_ascii_digit).collect();
                if query == Some(digits.as_str()) {
                    out.push_str(SSN_TOKEN);
                } else {
                    out.push_str(s.get(e - 4..e).unwrap_or_default());
                }
                copied = e;
                i = e;
            }
            None => i = j,
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    out
}

/// Sends the request once (after the rate limiter) and classifies the answer.
async fn send_once(client: &Client, l: &Lookup, billed: &AtomicU32) -> Result<Answer, Failure> {
    if client.stop.load(Ordering::SeqCst) {
        return Err(Failure::Stopped);
    }
    client.limiter.until_ready().await;
    let rb = match client.method {
        HttpMethod::Get => client.http.get(&client.url).query(&l.params),
        HttpMethod::Post => client.http.post(&client.url).json(&l.params),
    };
    let resp = rb
        .header(client.auth.0.clone(), client.auth.1.clone())
        .header("Idempotency-Key", l.key.as_str())
        .header(reqwest::header::ACCEPT, "application/json, application/xml")
        .send()
        .await;
    let resp = match resp {
        Ok(r) => r,
        Err(e) if e.is_connect() => return Err(Failure::Connect(without_url(&e))),
        Err(e) if e.is_timeout() => return Err(Failure::Timeout),
        Err(e) => return Err(Failure::Transport(without_url(&e))),
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    match status {
        200..=299 => {
            billed.fetch_add(1, Ordering::SeqCst);
            match resp.text().await {
                Ok(body) => Ok(Answer::Body(status, body)),
                Err(e) if e.is_timeout() => Err(Failure::Timeout),
                Err(e) => Err(Failure::Transport(without_url(&e))),
            }
        }
        404 => {
            billed.fetch_add(1, Ordering::SeqCst);
            Ok(Answer::NotFound)
        }
        429 | 503 => Err(Failure::Refused(status, retry_after)),
        401 | 403 => {
            client.stop.store(true, Ordering::SeqCst);
            Err(Failure::Auth(status))
        }
        500..=599 => Err(Failure::Server(status)),
        _ => {
            let body = resp.text().await.unwrap_or_default();
            let snippet: String = body.chars().take(200).collect();
            Err(Failure::Client(status, snippet))
        }
    }
}

/// A reqwest error's text without its URL (query strings may carry personal data).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(u.as_str(), "<url>");
    }
    s
}

/// `Retry-After`: delay seconds or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    static P: jiff::fmt::rfc2822::DateTimeParser = jiff::fmt::rfc2822::DateTimeParser::new();
    let at = P.parse_timestamp(v).ok()?;
    let wait = at.duration_since(jiff::Timestamp::now());
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// Writes the cache row and the audit entry of a completed lookup.
fn record(
    db: &Db,
    run_id: i64,
    name: &str,
    cfg: &SourceConfig,
    l: &Lookup,
    o: &Outcome,
) -> anyhow::Result<()> {
    if o.skipped {
        return Ok(());
    }
    let (status, http, body): (&str, Option<u16>, Option<&str>) = match &o.result {
        Ok(Answer::Body(s, b)) => ("ok", Some(*s), Some(b.as_str())),
        Ok(Answer::NotFound) => ("not_found", Some(404), None),
        Err(f) => ("failed", f.http_status(), None),
    };
    db.conn().execute(
        "INSERT INTO locate_requests (source, request_key, account_id, permissible_purpose,
             requested_at, status, http_status, attempts, billable, response, run_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (source, request_key) DO UPDATE SET
             requested_at = excluded.requested_at, status = excluded.status,
             http_status = excluded.http_status, attempts = attempts + excluded.attempts,
             billable = billable + excluded.billable, response = excluded.response,
             run_id = excluded.run_id",
        params![
            name,
            l.key,
            l.account_id,
            cfg.permissible_purpose,
            crate::store::now_rfc3339(),
            status,
            http,
            o.attempts.len() as i64,
            if cfg.billable { o.billed } else { 0 },
            body,
            run_id
        ],
    )?;
    // One audit entry per HTTP request sent, with the permissible purpose.
    let total = o.attempts.len();
    for (i, a) in o.attempts.iter().enumerate() {
        db.audit(
            Some(run_id),
            &crate::store::actor(),
            "vendor.request",
            l.account_id.map(|a| format!("account:{a}")).as_deref(),
            &serde_json::json!({
                "source": name,
                "permissible_purpose": cfg.permissible_purpose,
                "request_key": l.key,
                "sent_at": a.at,
                "attempt": i + 1,
                "of": total,
                "http_status": a.http_status,
                "outcome": a.outcome,
                "lookup_status": status,
            }),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_rules_follow_billing() {
        assert!(Failure::Connect("x".into()).retryable(false));
        assert!(Failure::Refused(429, None).retryable(false));
        assert!(!Failure::Timeout.retryable(false));
        assert!(Failure::Timeout.retryable(true));
        assert!(!Failure::Server(500).retryable(false));
        assert!(Failure::Server(502).retryable(true));
        assert!(!Failure::Auth(401).retryable(true));
        assert!(!Failure::Client(400, String::new()).retryable(true));
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn cached_responses_hold_no_ssn_or_queried_dob() {
        let l = Lookup {
            account_id: Some(1),
            account_number: "A-1".into(),
            params: Map::new(),
            key: "k".into(),
            ssn: Some("123456789".into()),
            dob: Some(jiff::civil::date(1980, 3, 7)),
        };
        let body = r#"{"ssn":"123-45-6789","alt":123456789,"other":"234-56-7891","x":"9876543210",
            "dob":"1980-03-07","dob2":"03/07/1980","seen":"2026-01-01","n":"1234567890123"}"#;
        let cached = redact(body, &l);
        for clear in ["123-45-6789", ":123456789,", "234-56-7891", "1980-03-07", "03/07/1980"] {
            assert!(!cached.contains(clear), "{clear} in {cached}");
        }
        assert!(cached.contains(r#""other":"7891""#) && cached.contains("9876543210"), "{cached}");
        assert!(cached.contains("1234567890123") && cached.contains("2026-01-01"), "{cached}");
        let back = restore(&cached, &l);
        assert!(back.contains(r#""ssn":"123456789""#) && back.contains(r#""alt":123456789"#));
        assert!(back.contains(r#""dob":"1980-03-07""#) && back.contains(r#""dob2":"03/07/1980""#));
    }
}
