-- pgstore: refund claims whose tokens are never stored, and their payout.
-- {schema} is replaced by the configured schema name, quoted.

-- Refund notices no longer carry their token: the engine derives it when
-- it hands a notice over. Tokens of the first format stored before this
-- migration could redeem their claims; remove them from every notice, and
-- from attempt logs where a notifier's error may have echoed one. (Claims
-- made under the first format keep their token hash, so the links already
-- sent still redeem; pending notices get a derived token when delivered.)
UPDATE {schema}.deliveries SET notice = notice - 'token'
WHERE channel = 'customer' AND notice ? 'token';
UPDATE {schema}.deliveries
SET attempts = regexp_replace(attempts::text, 'rc_[A-Za-z0-9_-]{43}_[A-Za-z0-9]+', 'rc_[redacted]', 'g')::jsonb
WHERE channel = 'customer' AND attempts::text ~ 'rc_[A-Za-z0-9_-]{43}_';

-- A third channel: the merchant's payout system is told of every redeemed
-- claim (invoice.RefundPayout, amounts as exact strings).
ALTER TABLE {schema}.deliveries ADD COLUMN payout jsonb;
ALTER TABLE {schema}.deliveries DROP CONSTRAINT deliveries_channel_check;
ALTER TABLE {schema}.deliveries ADD CONSTRAINT deliveries_channel_check
    CHECK (channel IN ('merchant', 'customer', 'payout'));

-- ListAwaitingPayout: only the invoices with a claim redeemed and not yet
-- paid are in this index, however many invoices there are. The query must
-- repeat the predicate exactly for the planner to use it.
CREATE INDEX invoices_awaiting_payout_idx ON {schema}.invoices (id)
    WHERE refund_claims @> '[{"status": "redeemed"}]';
