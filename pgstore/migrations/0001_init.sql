-- pgstore schema version 1: invoices and their outbox.
-- {schema} is replaced by the configured schema name, quoted.

CREATE TABLE {schema}.invoices (
    id                 uuid        PRIMARY KEY,
    -- The callback "id": unique, positive, increasing; below 2^53 / 10^6
    -- so that transaction numbers (number * 10^6 + position) stay exact
    -- in JSON.
    number             bigint      GENERATED ALWAYS AS IDENTITY (MAXVALUE 9007199253) UNIQUE,
    foreign_id         text        NOT NULL,
    end_user_reference text        NOT NULL DEFAULT '',
    type               text        NOT NULL CHECK (type IN ('no_timer', 'timer', 'timer_currency')),
    payment_mode       text        NOT NULL CHECK (payment_mode IN ('fill_or_kill', 'good_until_expired')),
    title              text        NOT NULL DEFAULT '',
    description        text        NOT NULL DEFAULT '',
    amount             numeric     NOT NULL,
    currency           text        NOT NULL DEFAULT '',
    sender_currency    text        NOT NULL DEFAULT '',
    sender_amount      numeric     NOT NULL,
    rate               numeric     NOT NULL,
    -- Nested lists as jsonb arrays (NULL: none). Decimals inside are exact
    -- strings ("1.50"), enums their names.
    quotes             jsonb       CHECK (jsonb_typeof(quotes) = 'array'),
    transactions       jsonb       CHECK (jsonb_typeof(transactions) = 'array'),
    refund_claims      jsonb       CHECK (jsonb_typeof(refund_claims) = 'array'),
    fixed_at           timestamptz,
    expires_at         timestamptz,
    deposit_address    text        NOT NULL DEFAULT '',
    deposit_tag        text        NOT NULL DEFAULT '',
    email              text        NOT NULL DEFAULT '',
    url_success        text        NOT NULL DEFAULT '',
    url_failed         text        NOT NULL DEFAULT '',
    status             text        NOT NULL CHECK (status IN ('created', 'pending', 'processing', 'confirmed', 'failed')),
    error              text        NOT NULL DEFAULT '',
    deadline           timestamptz,
    -- When ClaimDueInvoices may next take the invoice: its deadline, or the
    -- end of the sweep lease while a claim holds it; NULL when the invoice
    -- is final or has no deadline.
    sweep_at           timestamptz,
    created_at         timestamptz,
    updated_at         timestamptz,
    version            bigint      NOT NULL CHECK (version > 0),
    CONSTRAINT invoices_foreign_id_key UNIQUE (foreign_id)
);

-- The sweep: due invoices in sweep order, never touching the rest.
CREATE INDEX invoices_sweep_idx ON {schema}.invoices (sweep_at, deadline, number) WHERE sweep_at IS NOT NULL;
-- ListInvoices with a status filter.
CREATE INDEX invoices_status_idx ON {schema}.invoices (status, id);

CREATE TABLE {schema}.deliveries (
    id              uuid        PRIMARY KEY,
    invoice_id      uuid        NOT NULL REFERENCES {schema}.invoices (id),
    channel         text        NOT NULL CHECK (channel IN ('merchant', 'customer')),
    seq             bigint      NOT NULL,
    -- The merchant callback (channel merchant) or customer refund notice
    -- (channel customer); amounts are exact strings.
    callback        jsonb,
    notice          jsonb,
    state           text        NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    created_at      timestamptz,
    next_attempt_at timestamptz NOT NULL,
    -- Every attempt, oldest first.
    attempts        jsonb       NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attempts) = 'array'),
    lease_id        uuid,
    lease_until     timestamptz,
    -- When a pending delivery may next be claimed: next_attempt_at, or
    -- lease_until while a lease holds it.
    ready_at        timestamptz NOT NULL
);

-- ClaimDeliveries: pending deliveries by when they are claimable.
CREATE INDEX deliveries_ready_idx ON {schema}.deliveries (ready_at, seq, id) WHERE state = 'pending';
-- Head of line: the first pending delivery of an invoice and channel.
CREATE INDEX deliveries_queue_idx ON {schema}.deliveries (invoice_id, channel, seq, id) WHERE state = 'pending';
-- ListDeliveries of one invoice.
CREATE INDEX deliveries_invoice_idx ON {schema}.deliveries (invoice_id, id);
-- ListDeliveries of dead deliveries (the operator's redelivery queue).
CREATE INDEX deliveries_dead_idx ON {schema}.deliveries (id) WHERE state = 'dead';
