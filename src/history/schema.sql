-- STORE/history.duckdb: what tally remembers between runs. Times are UTC TIMESTAMPs (the bundled
-- DuckDB has no ICU). Created on first use; each statement is idempotent.

-- Every run, failed ones with their error.
CREATE TABLE IF NOT EXISTS runs (
    run_id      BIGINT    NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    outcome     VARCHAR   NOT NULL,  -- ok | failed | abandoned
    refresh     VARCHAR,             -- how the snapshot was made (full, incremental, and why)
    snapshot_id VARCHAR,
    data_at     TIMESTAMP,           -- the snapshot's started_at: the moment its data describes
    error       VARCHAR,
    new         BIGINT,
    reopened    BIGINT,
    resolved    BIGINT,
    open        BIGINT,
    accepted    BIGINT
);

-- Every exception ever seen, by (check, key), with its current status and last values.
CREATE TABLE IF NOT EXISTS exceptions (
    "check"         VARCHAR   NOT NULL,
    key             VARCHAR   NOT NULL,
    entity          VARCHAR,
    severity        VARCHAR,
    owner           VARCHAR,
    status          VARCHAR   NOT NULL, -- new | open | reopened | accepted | resolved
    first_seen      TIMESTAMP NOT NULL,
    last_seen       TIMESTAMP NOT NULL,
    opened_at       TIMESTAMP NOT NULL, -- start of the current episode (first seen or reopened)
    opened_run      BIGINT    NOT NULL,
    resolved_at     TIMESTAMP,
    last_run        BIGINT    NOT NULL,
    centra_value    VARCHAR,
    orderwise_value VARCHAR,
    difference      VARCHAR,
    amount          DECIMAL(18,4),
    currency        VARCHAR,
    detail          VARCHAR,
    at_stake        DECIMAL(18,4),
    vhash           VARCHAR,            -- digest of the values: an acceptance lapses when it changes
    escalated_at    TIMESTAMP,          -- escalation sent for the current episode
    accepted_by     VARCHAR,
    accepted_at     TIMESTAMP,
    accepted_reason VARCHAR,
    accepted_until  DATE,
    accepted_vhash  VARCHAR
);

-- Open and accepted exceptions per check after each run: the queue's trend chart.
CREATE TABLE IF NOT EXISTS run_counts (
    run_id   BIGINT  NOT NULL,
    "check"  VARCHAR NOT NULL,
    open     BIGINT  NOT NULL,
    accepted BIGINT  NOT NULL
);

-- Alerts waiting for delivery, and delivered ones (never sent again).
CREATE TABLE IF NOT EXISTS outbox (
    id           VARCHAR   NOT NULL,
    run_id       BIGINT    NOT NULL,
    owner        VARCHAR   NOT NULL,
    created_at   TIMESTAMP NOT NULL,
    digest       VARCHAR   NOT NULL,  -- the digest as JSON; rendered to the format when posted
    delivered_at TIMESTAMP,
    attempts     BIGINT    NOT NULL,
    last_error   VARCHAR
);
