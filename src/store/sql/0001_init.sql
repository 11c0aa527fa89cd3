-- skiptrace system of record, schema version 1.
-- Conventions: dates are ISO 'YYYY-MM-DD' text; timestamps are RFC 3339 UTC text; money is
-- an exact decimal string (never REAL); SSNs are 9 digits, stored only in consumers.ssn and
-- associated tables, never in events, audit or snapshots' JSON. STRICT tables throughout.
-- Value checks on tables written per input row are spelled `c = 'a' OR c = 'b' ...`, not
-- `c IN ('a', 'b', ...)`: SQLite builds a temporary b-tree for an IN list of three or more
-- values on every row inserted, which cost a third of the ingest time.

-- Run ledger: one row per command run (nightly batch, ingest, furnish, locate ...).
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY,
    command     TEXT NOT NULL,
    as_of       TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'ok', 'rejects', 'failed', 'blocked')),
    pid         INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    summary     TEXT              -- JSON counts of the run
) STRICT;

-- Audit log: who did what, when. Append-only (triggers below). Every export of PII, every
-- review decision, every vendor request is recorded here.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    run_id     INTEGER REFERENCES runs(id),
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,     -- e.g. ingest.file, export.leads, lead.accept, vendor.request
    subject    TEXT,              -- e.g. account:42, file:<path>
    detail     TEXT               -- JSON; never an SSN or DOB in clear
) STRICT;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;

-- Clients whose accounts we hold (mirrors [clients.<ID>] in the config).
CREATE TABLE clients (
    id    TEXT PRIMARY KEY,
    name  TEXT NOT NULL,
    kind  TEXT NOT NULL CHECK (kind IN ('agency', 'debt_buyer', 'returned_check'))
) STRICT;

-- Every input file processed, keyed by content hash: the same bytes are never applied twice.
CREATE TABLE input_files (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,   -- portfolio, payments, contact_events, ncoa, vendor_xml, acdv, bureau_rejects ...
    client_id    TEXT REFERENCES clients(id),
    path         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    rows_read    INTEGER NOT NULL,
    accepted     INTEGER NOT NULL,
    rejected     INTEGER NOT NULL,
    rejects_path TEXT,
    completed_at TEXT NOT NULL,
    UNIQUE (kind, sha256),
    CHECK (rows_read = accepted + rejected)
) STRICT;

-- People. The primary consumer of an account and associated consumers alike.
CREATE TABLE consumers (
    id                 INTEGER PRIMARY KEY,
    surname            TEXT NOT NULL,
    first_name         TEXT NOT NULL,
    middle_name        TEXT,
    generation         TEXT,      -- Metro 2 generation code: J, S, 2-9
    ssn                TEXT,      -- 9 digits, structurally valid
    dob                TEXT,
    deceased_date      TEXT,
    deceased_source    TEXT,
    bankruptcy_chapter TEXT,      -- '7', '11', '12', '13'
    bankruptcy_status  TEXT CHECK (bankruptcy_status = 'petition' OR bankruptcy_status = 'discharged'
                              OR bankruptcy_status = 'dismissed' OR bankruptcy_status = 'withdrawn'),
    bankruptcy_date    TEXT,
    created_run        INTEGER REFERENCES runs(id),
    updated_run        INTEGER REFERENCES runs(id)
) STRICT;
-- Keyed by the SSN as an integer (nine digits: one-to-one with the text) and the surname:
-- half the key size of the text, so a randomly ordered index of millions of SSNs stays in
-- the page cache. Look-ups compare `CAST(ssn AS INTEGER)` and then the text itself.
CREATE INDEX consumers_ssn ON consumers(CAST(ssn AS INTEGER), surname);
-- Consumers without an SSN are matched on name and DOB; those with one, on SSN and surname.
CREATE INDEX consumers_name_dob ON consumers(surname, first_name, dob) WHERE ssn IS NULL;

-- Accounts: one row per client account number.
CREATE TABLE accounts (
    id                        INTEGER PRIMARY KEY,
    client_id                 TEXT NOT NULL REFERENCES clients(id),
    account_number            TEXT NOT NULL,
    previous_account_number   TEXT,       -- set when the number changed (Metro 2 L1)
    consumer_id               INTEGER NOT NULL REFERENCES consumers(id),
    ecoa                      TEXT NOT NULL DEFAULT '1',
    account_type              TEXT NOT NULL,          -- Metro 2: 48, 0C, 77
    original_creditor         TEXT NOT NULL,
    creditor_class            TEXT NOT NULL,          -- Metro 2 K1: 01-15 (02 medical)
    purchased_from            TEXT,                   -- debt buyers: seller (Metro 2 K2)
    placed_date               TEXT NOT NULL,          -- placement / purchase / check date
    placed_amount             TEXT NOT NULL,
    current_balance           TEXT NOT NULL,
    amount_past_due           TEXT NOT NULL,
    dofd                      TEXT,                   -- original creditor's date of first delinquency
    last_payment_date         TEXT,
    last_payment_amount       TEXT,
    date_closed               TEXT,
    status                    TEXT NOT NULL CHECK (status = 'open' OR status = 'paid' OR status = 'settled'
                                                     OR status = 'recalled' OR status = 'closed'),
    medical                   INTEGER NOT NULL DEFAULT 0 CHECK (medical IN (0, 1)),
    validation_notice_date    TEXT,
    first_communication_date  TEXT,                   -- first conversation with the consumer
    undeliverable_date        TEXT,                   -- most recent undeliverable notice
    fraud_confirmed           INTEGER NOT NULL DEFAULT 0 CHECK (fraud_confirmed IN (0, 1)),
    furnish                   INTEGER NOT NULL DEFAULT 1 CHECK (furnish IN (0, 1)),
    created_run               INTEGER REFERENCES runs(id),
    updated_run               INTEGER REFERENCES runs(id),
    UNIQUE (client_id, account_number)
) STRICT;
CREATE INDEX accounts_consumer ON accounts(consumer_id);

-- Associated consumers of an account (Metro 2 J1/J2) with their ECOA code.
CREATE TABLE account_consumers (
    account_id  INTEGER NOT NULL REFERENCES accounts(id),
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    ecoa        TEXT NOT NULL,    -- 1, 2, 3, 5, 7, T, W, X, Z
    PRIMARY KEY (account_id, consumer_id)
) STRICT, WITHOUT ROWID;          -- only ever reached by its key: one b-tree, not two

-- Contact data with history. Nothing is overwritten: a row changes state
-- (current -> previous, -> bad) and the change is written to consumer_events.
CREATE TABLE addresses (
    id          INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    line1       TEXT NOT NULL,
    line2       TEXT NOT NULL DEFAULT '',
    city        TEXT NOT NULL,
    state       TEXT NOT NULL,
    zip         TEXT NOT NULL,
    source      TEXT NOT NULL,    -- client:<ID>, ncoa:<name>, vendor:<name>, lead:<id>
    source_ref  TEXT,             -- file:line or vendor record id
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status = 'current' OR status = 'previous' OR status = 'bad'
                                   OR status = 'candidate'),
    UNIQUE (consumer_id, line1, line2, city, state, zip)
) STRICT;
CREATE TABLE phones (
    id          INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    number      TEXT NOT NULL,    -- 10 digits
    line_type   TEXT,             -- mobile, landline, voip, unknown
    consent     INTEGER NOT NULL DEFAULT 0 CHECK (consent IN (0, 1)),
    source      TEXT NOT NULL,
    source_ref  TEXT,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status = 'current' OR status = 'previous' OR status = 'bad'
                                   OR status = 'candidate'),
    UNIQUE (consumer_id, number)
) STRICT;
CREATE TABLE emails (
    id          INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    address     TEXT NOT NULL,
    source      TEXT NOT NULL,
    source_ref  TEXT,
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status = 'current' OR status = 'previous' OR status = 'bad'
                                   OR status = 'candidate'),
    UNIQUE (consumer_id, address)
) STRICT;

-- Every change to an account: field, old, new, cause, run. SSN/DOB values are masked here.
CREATE TABLE account_events (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    run_id     INTEGER REFERENCES runs(id),
    at         TEXT NOT NULL,
    field      TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT,
    cause      TEXT NOT NULL      -- e.g. portfolio:<file>:<line>, payment:<file>:<line>, lead:<id>, dispute:<id>
) STRICT;
CREATE INDEX account_events_account ON account_events(account_id);
-- Every change to a consumer or their contact data (same shape as account_events).
CREATE TABLE consumer_events (
    id          INTEGER PRIMARY KEY,
    consumer_id INTEGER NOT NULL REFERENCES consumers(id),
    run_id      INTEGER REFERENCES runs(id),
    at          TEXT NOT NULL,
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    cause       TEXT NOT NULL
) STRICT;
CREATE INDEX consumer_events_consumer ON consumer_events(consumer_id);

-- Payments and adjustments, one row per accepted input row.
CREATE TABLE payments (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    kind          TEXT NOT NULL CHECK (kind = 'payment' OR kind = 'adjustment' OR kind = 'reversal'),
    posted_date   TEXT NOT NULL,
    amount        TEXT NOT NULL,
    reference     TEXT NOT NULL,
    input_file_id INTEGER REFERENCES input_files(id),
    line          INTEGER,
    UNIQUE (account_id, reference)
) STRICT;

-- Contact events: returned mail, bad/disconnected phones, letters (validation notices),
-- conversations, client recalls, deceased and bankruptcy notices.
CREATE TABLE contact_events (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id),
    kind          TEXT NOT NULL,
    event_date    TEXT NOT NULL,
    detail        TEXT NOT NULL DEFAULT '',
    input_file_id INTEGER REFERENCES input_files(id),
    line          INTEGER,
    UNIQUE (account_id, kind, event_date, detail)
) STRICT;
CREATE INDEX contact_events_account ON contact_events(account_id, kind);

-- ---------------------------------------------------------------- locate (skip tracing)
-- Every vendor request (API cache and audit): a re-run finds the cached response and bills
-- nothing twice.
CREATE TABLE locate_requests (
    id                  INTEGER PRIMARY KEY,
    source              TEXT NOT NULL,
    request_key         TEXT NOT NULL,   -- hash of the normalised query (no PII in clear)
    account_id          INTEGER REFERENCES accounts(id),
    permissible_purpose TEXT NOT NULL,
    requested_at        TEXT NOT NULL,
    status              TEXT NOT NULL,   -- ok, not_found, failed
    http_status         INTEGER,
    attempts            INTEGER NOT NULL,
    billable            INTEGER NOT NULL DEFAULT 0,
    response            TEXT,
    run_id              INTEGER REFERENCES runs(id),
    UNIQUE (source, request_key)
) STRICT;
-- Locate runs' scored candidate pairs above the review threshold become leads.
CREATE TABLE leads (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    consumer_id      INTEGER NOT NULL REFERENCES consumers(id),
    kind             TEXT NOT NULL CHECK (kind IN ('address', 'phone', 'email')),
    value            TEXT NOT NULL,   -- normalised value (JSON for addresses)
    source           TEXT NOT NULL,
    source_record_id TEXT NOT NULL,
    first_seen       TEXT,
    last_seen        TEXT,
    score            REAL NOT NULL,   -- match weight (log2 odds)
    probability      REAL NOT NULL,
    explanation      TEXT NOT NULL,   -- JSON: per-field agreement level and weight
    status           TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'auto_accepted')),
    run_id           INTEGER REFERENCES runs(id),
    decided_by       TEXT,
    decided_at       TEXT,
    UNIQUE (consumer_id, kind, value, source)
) STRICT;
CREATE INDEX leads_status ON leads(status);
-- Deceased and bankruptcy hits: their own queue.
CREATE TABLE flag_hits (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    consumer_id      INTEGER NOT NULL REFERENCES consumers(id),
    kind             TEXT NOT NULL CHECK (kind IN ('deceased', 'bankruptcy')),
    detail           TEXT NOT NULL,   -- JSON: date, chapter ...
    source           TEXT NOT NULL,
    source_record_id TEXT NOT NULL,
    score            REAL NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    run_id           INTEGER REFERENCES runs(id),
    decided_by       TEXT,
    decided_at       TEXT,
    UNIQUE (consumer_id, kind, source, source_record_id)
) STRICT;

-- ---------------------------------------------------------------- furnish (Metro 2)
-- One reporting cycle per date and bureau ('all' when one shared file is written).
CREATE TABLE furnish_cycles (
    id          INTEGER PRIMARY KEY,
    cycle_date  TEXT NOT NULL,
    bureau      TEXT NOT NULL,
    run_id      INTEGER REFERENCES runs(id),
    file_path   TEXT,
    file_sha256 TEXT,
    status      TEXT NOT NULL CHECK (status IN ('published', 'blocked')),
    records     INTEGER NOT NULL,
    report      TEXT NOT NULL,        -- JSON cycle report
    created_at  TEXT NOT NULL,
    UNIQUE (cycle_date, bureau)
) STRICT;
-- What was furnished: one immutable snapshot per account, cycle and bureau. A re-run of a
-- cycle replaces its snapshots in the same transaction as the file. `fields` is the Metro 2
-- data record exactly as written to the file (from the record descriptor word, base segment
-- then its appended segments, no line ending) with every SSN masked to its last four digits
-- (`*****1234`) and every date of birth to its year (`****1980`): fields are read by their
-- positions in formats/metro2/*.csv, e.g. `substr(fields, 190, 8)` is the base DOFD.
CREATE TABLE furnish_snapshots (
    id                    INTEGER PRIMARY KEY,
    cycle_id              INTEGER NOT NULL REFERENCES furnish_cycles(id) ON DELETE CASCADE,
    account_id            INTEGER NOT NULL REFERENCES accounts(id),
    cycle_date            TEXT NOT NULL,
    bureau                TEXT NOT NULL,
    account_number        TEXT NOT NULL,     -- current account number (the L1 new one, if any)
    identification_number TEXT NOT NULL,     -- current identification number (ditto)
    account_status        TEXT NOT NULL,     -- Metro 2 status: 93, 62, DA, DF
    ccc                   TEXT NOT NULL DEFAULT '',
    deleted_by            TEXT,              -- DA/DF: the gate that deleted the account
    fields                TEXT NOT NULL,     -- the Metro 2 record as furnished, SSN/DOB masked
    UNIQUE (account_id, cycle_date, bureau)
) STRICT;
-- The last compliance condition code reported per account and bureau (the next cycle's
-- look-up): compliance codes are rare, so this index is small and costs nothing on most
-- inserts, and the look-up reads no snapshot row.
CREATE INDEX furnish_snapshots_ccc ON furnish_snapshots(account_id, bureau, cycle_date, ccc)
    WHERE ccc <> '';
-- Accounts deliberately not furnished in a cycle, with the gate and reason (keyed by cycle
-- and account only: no separate rowid).
CREATE TABLE furnish_exclusions (
    cycle_id   INTEGER NOT NULL REFERENCES furnish_cycles(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    gate       TEXT NOT NULL,
    reason     TEXT NOT NULL,
    PRIMARY KEY (cycle_id, account_id)
) STRICT, WITHOUT ROWID;

-- ---------------------------------------------------------------- reconcile (disputes)
CREATE TABLE disputes (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts(id),
    channel           TEXT NOT NULL CHECK (channel IN ('acdv', 'direct')),
    bureau            TEXT,
    control_number    TEXT NOT NULL,
    received_date     TEXT NOT NULL,
    response_due_date TEXT NOT NULL,
    dispute_codes     TEXT NOT NULL DEFAULT '',
    free_text         TEXT NOT NULL DEFAULT '',
    frivolous         INTEGER NOT NULL DEFAULT 0,
    status            TEXT NOT NULL CHECK (status IN ('open', 'responded', 'closed')),
    response_code     TEXT,
    outcome           TEXT,            -- verified, modified, deleted, deleted_fraud
    responded_at      TEXT,
    responder         TEXT,
    run_id            INTEGER REFERENCES runs(id),
    UNIQUE (channel, control_number)
) STRICT;
-- Append-only history of each dispute.
CREATE TABLE dispute_events (
    id         INTEGER PRIMARY KEY,
    dispute_id INTEGER NOT NULL REFERENCES disputes(id),
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT
) STRICT;
-- Corrections: new rows that reference the row they supersede; applied in a cycle.
CREATE TABLE corrections (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES accounts(id),
    dispute_id       INTEGER REFERENCES disputes(id),
    field            TEXT NOT NULL,
    old_value        TEXT,
    new_value        TEXT,
    ccc              TEXT,              -- compliance condition code to report with it
    supersedes       INTEGER REFERENCES corrections(id),
    created_at       TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    applied_cycle_id INTEGER REFERENCES furnish_cycles(id)
) STRICT;
-- Bureau reject / acknowledgement files.
CREATE TABLE bureau_rejects (
    id             INTEGER PRIMARY KEY,
    bureau         TEXT NOT NULL,
    cycle_date     TEXT NOT NULL,
    account_number TEXT NOT NULL,
    code           TEXT NOT NULL,
    message        TEXT NOT NULL,
    severity       TEXT NOT NULL CHECK (severity IN ('reject', 'warning')),
    input_file_id  INTEGER REFERENCES input_files(id),
    line           INTEGER,
    status         TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    UNIQUE (bureau, cycle_date, account_number, code)
) STRICT;
