-- The ledger: the only source of truth of the line (docs/ledger.md).
-- Applied by factory.ledger.store on open; every statement is idempotent.
-- Times are Unix seconds (REAL); shifts are the local date the shift began.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per application: its current state, the attempt in hand and its plan keys.
CREATE TABLE IF NOT EXISTS applications (
    application_id   TEXT PRIMARY KEY,
    state            TEXT NOT NULL,
    version          INTEGER NOT NULL,            -- seq of its last event
    attempt          INTEGER NOT NULL DEFAULT 0,  -- dispatches so far
    machine          TEXT,                        -- machine of the current attempt
    lease_expires_at REAL,
    blank_serial     TEXT,                        -- blank of the current attempt / the issued one
    doc_type         TEXT NOT NULL,
    service_class    TEXT NOT NULL,
    pool             TEXT NOT NULL,
    priority         INTEGER NOT NULL,            -- service-class rank, 0 (green) first
    production_date  TEXT,                        -- last day it may be printed (YYYY-MM-DD)
    deadline_ordinal INTEGER,                     -- the same as a date ordinal (queue order)
    due_at           TEXT,                        -- procedure deadline, ISO 8601 local
    accepted_s       REAL NOT NULL,               -- accepted_at, Unix seconds (queue tie-break)
    delivery         TEXT NOT NULL,
    acceptance_point TEXT NOT NULL,
    record           TEXT NOT NULL,               -- the validated record, JSON
    received_at      REAL NOT NULL,
    updated_at       REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS applications_by_state_time ON applications (state, updated_at);
-- (Jobs out on machines are found through applications_by_state_time: a few dozen rows at most.)
DROP INDEX IF EXISTS applications_in_flight;

-- One row per dispatch of a job to a machine.
CREATE TABLE IF NOT EXISTS attempts (
    application_id   TEXT NOT NULL REFERENCES applications (application_id),
    attempt          INTEGER NOT NULL,
    machine          TEXT NOT NULL,
    leased_at        REAL NOT NULL,
    lease_expires_at REAL,
    blank_serial     TEXT,
    outcome          TEXT,                        -- last event of the attempt
    reason           TEXT,
    ended_at         REAL,
    page             TEXT,                        -- printed page image, when the device wrote one
    issued_on        TEXT,                        -- date of issue printed on the document (YYYY-MM-DD)
    PRIMARY KEY (application_id, attempt)
) WITHOUT ROWID;

-- One row per blank serial ever taken: its current state. Its history is in events.
CREATE TABLE IF NOT EXISTS blanks (
    blank_serial     TEXT PRIMARY KEY,
    state            TEXT NOT NULL,               -- in_stock bound issued voided returned
    version          INTEGER NOT NULL,
    machine          TEXT,                        -- machine that last took it
    shift            TEXT,                        -- shift in which it was last taken
    application_id   TEXT,
    attempt          INTEGER,
    reason           TEXT,                        -- void reason
    updated_at       REAL NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS qa_results (
    application_id TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    blank_serial   TEXT,
    station        TEXT NOT NULL,
    passed         INTEGER NOT NULL,
    checks         TEXT NOT NULL,                 -- JSON list of {name, ok, value, detail, zone}
                                                  -- (schema 1 rows: a map check name -> passed)
    reasons        TEXT NOT NULL,                 -- JSON list of strings
    at             REAL NOT NULL,
    mrz_read       TEXT,                          -- JSON list of the MRZ lines read back (schema 2)
    PRIMARY KEY (application_id, attempt)         -- attempt 0: the before-printing (intake) checks
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS reviews (
    review_id      INTEGER PRIMARY KEY,
    application_id TEXT NOT NULL,
    attempt        INTEGER NOT NULL,
    reviewer       TEXT NOT NULL,
    decision       TEXT NOT NULL,                 -- approved / rejected
    reason         TEXT NOT NULL,
    at             REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS dispatches (
    application_id TEXT PRIMARY KEY,
    blank_serial   TEXT NOT NULL,
    method         TEXT NOT NULL,                 -- pickup / mail
    destination    TEXT NOT NULL,                 -- acceptance point, or mail address
    manifest       TEXT NOT NULL,                 -- manifest (mail) or pick-up list id
    free_mail      INTEGER NOT NULL,
    at             REAL NOT NULL
) WITHOUT ROWID;

-- The hand-over record: append-only. Who or which station did what, when.
-- kind: application (subject = application id, seq = its version),
--       blank (subject = serial, seq = the blank's version), station (no seq).
CREATE TABLE IF NOT EXISTS events (
    event_id     INTEGER PRIMARY KEY,
    at           REAL NOT NULL,
    station      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    seq          INTEGER,
    event        TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT,
    machine      TEXT,
    attempt      INTEGER,
    blank_serial TEXT,
    blank_state  TEXT,                            -- the blank's state after the event
    shift        TEXT,                            -- shift the blank was taken in
    reason       TEXT,
    detail       TEXT,                            -- JSON, optional
    UNIQUE (kind, subject, seq)
);

CREATE INDEX IF NOT EXISTS events_of_stations ON events (event_id) WHERE kind = 'station';

CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
