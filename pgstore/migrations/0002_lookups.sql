-- pgstore schema version 2: look-ups by checkout token and deposit address,
-- the derivation path of deposit addresses, and named counters.

ALTER TABLE {schema}.invoices
    ADD COLUMN checkout_token text NOT NULL DEFAULT '',
    ADD COLUMN deposit_path   text NOT NULL DEFAULT '';

-- Invoices created before this version get a token of the engine's shape:
-- 26 characters of the base32 alphabet, 5 random bits each (from the
-- SHA-256 of two random UUIDs and the row's id, so it is evaluated per row).
UPDATE {schema}.invoices i SET checkout_token = (
    SELECT string_agg(substr('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', get_byte(r.b, n) % 32 + 1, 1), '' ORDER BY n)
    FROM (SELECT sha256(uuid_send(i.id) || uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid())) AS b) r,
        generate_series(0, 25) AS n)
WHERE checkout_token = '';

CREATE UNIQUE INDEX invoices_checkout_token_key ON {schema}.invoices (checkout_token) WHERE checkout_token <> '';
-- GetInvoiceByAddress: the newest invoice with a deposit address.
CREATE INDEX invoices_deposit_address_idx ON {schema}.invoices (deposit_address, number) WHERE deposit_address <> '';

-- NextSequence: one row per counter; next is the value the next call returns.
CREATE TABLE {schema}.sequences (
    name text   PRIMARY KEY,
    next bigint NOT NULL CHECK (next >= 0)
);
