package pgstore

import (
	"fmt"
	"strings"
)

// statements are the Store's SQL texts with the schema filled in, built
// once by New.
type statements struct {
	createInvoice       string
	getInvoice          string
	getInvoiceByForeign string
	getInvoiceByToken   string
	getInvoiceByAddress string
	nextSequence        string
	listInvoices        string
	listInvoicesStatus  string
	listInvoicesCreated [2]string // by status filter; $3, $4 the creation range
	invoiceVersion      string
	invoiceKeys         string
	claimDueInvoices    string

	claimDeliveries    string
	ackDelivery        string
	rescheduleDelivery string
	settleDeliveries   string
	deliveriesExist    string
	getDelivery        string
	listDeliveries     [4]string // by (invoice filter, state filter)
	redeliverDelivery  string

	setAsideInvoice        string
	setAsideDelivery       string
	listSetAsideInvoices   string
	listSetAsideDeliveries string
	retrySetAside          string

	listAwaitingPayout string
}

// invoiceColumns is the select list scanned by scanInvoice.
const invoiceColumns = `id, number, foreign_id, end_user_reference, type, payment_mode, title, description,
	amount::text, currency, sender_currency, sender_amount::text, rate::text, quotes,
	fixed_at, expires_at, deposit_address, deposit_tag, email, url_success, url_failed,
	status, error, transactions, refund_claims, deadline, created_at, updated_at, version,
	checkout_token, deposit_path`

// deliveryColumns is the select list scanned by scanDelivery.
const deliveryColumns = `id, invoice_id, channel, seq, callback, notice, state, created_at,
	next_attempt_at, attempts, lease_id, lease_until, payout`

func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + "." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

func buildStatements(schema string) *statements {
	r := strings.NewReplacer("{schema}", schema, "{invoiceColumns}", invoiceColumns,
		"{iColumns}", prefixed("i", invoiceColumns),
		"{deliveryColumns}", deliveryColumns, "{dColumns}", prefixed("d", deliveryColumns))
	st := &statements{
		// $1..$30 in the order of invoiceArgs; a taken foreign_id inserts
		// nothing and returns no row (so a host transaction is not aborted).
		createInvoice: r.Replace(`INSERT INTO {schema}.invoices (
	id, foreign_id, end_user_reference, type, payment_mode, title, description,
	amount, currency, sender_currency, sender_amount, rate, quotes,
	fixed_at, expires_at, deposit_address, deposit_tag, email, url_success, url_failed,
	status, error, transactions, refund_claims, deadline, created_at, updated_at, sweep_at,
	checkout_token, deposit_path, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::numeric, $9, $10, $11::text::numeric, $12::text::numeric,
	$13::text::jsonb, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23::text::jsonb, $24::text::jsonb, $25, $26,
	$27, $28, $29, $30, 1)
ON CONFLICT (foreign_id) DO NOTHING
RETURNING number`),

		getInvoice:          r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices WHERE id = $1`),
		getInvoiceByForeign: r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices WHERE foreign_id = $1`),
		getInvoiceByToken: r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices
	WHERE checkout_token = $1 AND checkout_token <> ''`),
		getInvoiceByAddress: r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices
	WHERE deposit_address = $1 AND deposit_address <> '' ORDER BY number DESC LIMIT 1`),
		// $1 name: the value before the increment.
		nextSequence: r.Replace(`INSERT INTO {schema}.sequences AS s (name, next) VALUES ($1, 1)
	ON CONFLICT (name) DO UPDATE SET next = s.next + 1
	RETURNING next - 1`),
		listInvoices:       r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices WHERE id > $1 ORDER BY id LIMIT $2`),
		listInvoicesStatus: r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices WHERE status = $3 AND id > $1 ORDER BY id LIMIT $2`),
		listInvoicesCreated: [2]string{
			r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices WHERE id > $1 AND created_at >= $3 AND created_at < $4 ORDER BY id LIMIT $2`),
			r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices WHERE status = $5 AND id > $1 AND created_at >= $3 AND created_at < $4 ORDER BY id LIMIT $2`),
		},

		// The update paths (update.go) build their statements per shape;
		// these tell why an update did not apply, on that path only.
		invoiceVersion: r.Replace(`SELECT version FROM {schema}.invoices WHERE id = $1`),
		invoiceKeys:    r.Replace(`SELECT id, version, foreign_id, checkout_token FROM {schema}.invoices WHERE id = ANY($1::uuid[])`),

		// $1 now, $2 now+lease, $3 limit. SKIP LOCKED: concurrent claims
		// never wait for each other and never return the same invoice.
		// Each claimed row comes back whole (invoiceColumns, as stored: only
		// sweep_at changes, not the version), then the sweep key it was
		// claimed at, by which ClaimDueInvoices sorts (RETURNING has no
		// order).
		claimDueInvoices: r.Replace(`WITH due AS MATERIALIZED (
	SELECT id, sweep_at FROM {schema}.invoices
	WHERE sweep_at IS NOT NULL AND sweep_at <= $1
	ORDER BY sweep_at, deadline, number
	LIMIT $3
	FOR UPDATE SKIP LOCKED)
UPDATE {schema}.invoices i SET sweep_at = $2
FROM due WHERE i.id = due.id
RETURNING {iColumns}, due.sweep_at`),

		// $1 now, $2 now+lease, $3 limit. A candidate is a claimable
		// pending delivery with no pending delivery before it in its
		// invoice and channel; a leased head stays pending, so it keeps
		// blocking the deliveries behind it. The lease condition is on the
		// locked row itself, so a row whose lease a concurrent claim has
		// just committed fails the recheck PostgreSQL does after locking.
		claimDeliveries: r.Replace(`WITH c AS MATERIALIZED (
	SELECT d.id, d.ready_at FROM {schema}.deliveries d
	WHERE d.state = 'pending' AND d.ready_at <= $1
		AND NOT EXISTS (
			SELECT 1 FROM {schema}.deliveries p
			WHERE p.invoice_id = d.invoice_id AND p.channel = d.channel AND p.state = 'pending'
				AND (p.seq, p.id) < (d.seq, d.id))
	ORDER BY d.ready_at, d.seq, d.id
	LIMIT $3
	FOR UPDATE OF d SKIP LOCKED)
UPDATE {schema}.deliveries d SET lease_id = gen_random_uuid(), lease_until = $2, ready_at = $2
FROM c WHERE d.id = c.id
RETURNING {dColumns}, c.ready_at`),

		// $1 id, $2 lease, $3 attempt.
		ackDelivery: r.Replace(`WITH u AS (
	UPDATE {schema}.deliveries SET state = 'delivered', attempts = attempts || jsonb_build_array($3::text::jsonb),
		lease_id = NULL, lease_until = NULL, ready_at = next_attempt_at
	WHERE id = $1 AND lease_id = $2 AND state = 'pending'
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM {schema}.deliveries WHERE id = $1)`),

		// $1 id, $2 lease, $3 attempt, $4 next, $5 dead.
		rescheduleDelivery: r.Replace(`WITH u AS (
	UPDATE {schema}.deliveries SET attempts = attempts || jsonb_build_array($3::text::jsonb),
		lease_id = NULL, lease_until = NULL,
		state = CASE WHEN $5::bool THEN 'dead' ELSE 'pending' END,
		next_attempt_at = CASE WHEN $5::bool THEN next_attempt_at ELSE $4::timestamptz END,
		ready_at = CASE WHEN $5::bool THEN next_attempt_at ELSE $4::timestamptz END
	WHERE id = $1 AND lease_id = $2 AND state = 'pending'
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM {schema}.deliveries WHERE id = $1)`),

		// $1 ids, $2 leases, $3 attempts (JSON), $4 states, $5 next attempt
		// times (pending ones). A row settles only while its lease holds.
		settleDeliveries: r.Replace(`WITH v AS (
	SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::timestamptz[])
		AS v(id, lease_id, attempt, state, next_at))
UPDATE {schema}.deliveries d SET state = v.state, attempts = d.attempts || jsonb_build_array(v.attempt::jsonb),
	lease_id = NULL, lease_until = NULL,
	next_attempt_at = CASE WHEN v.state = 'pending' THEN v.next_at ELSE d.next_attempt_at END,
	ready_at = CASE WHEN v.state = 'pending' THEN v.next_at ELSE d.next_attempt_at END
FROM v WHERE d.id = v.id AND d.lease_id = v.lease_id AND d.state = 'pending'
RETURNING d.id`),
		deliveriesExist: r.Replace(`SELECT id FROM {schema}.deliveries WHERE id = ANY($1::uuid[])`),

		getDelivery: r.Replace(`SELECT {deliveryColumns} FROM {schema}.deliveries WHERE id = $1`),

		// $1 id, $2 now. A pending delivery is left as it is.
		redeliverDelivery: r.Replace(`WITH u AS (
	UPDATE {schema}.deliveries SET state = 'pending', next_attempt_at = $2, ready_at = $2,
		lease_id = NULL, lease_until = NULL
	WHERE id = $1 AND state <> 'pending'
	RETURNING 1)
SELECT EXISTS (SELECT 1 FROM {schema}.deliveries WHERE id = $1)`),

		// $1 after, $2 limit. The predicate is the one of the partial index
		// invoices_awaiting_payout_idx, word for word.
		listAwaitingPayout: r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices
WHERE refund_claims @> '[{"status": "redeemed"}]' AND id > $1 ORDER BY id LIMIT $2`),
	}
	// Undecodable rows (setaside.go): an invoice leaves the sweep, a
	// delivery is never ready; both stay otherwise as they are.
	st.setAsideInvoice = r.Replace(`UPDATE {schema}.invoices SET sweep_at = NULL WHERE id = $1`)
	st.setAsideDelivery = r.Replace(`UPDATE {schema}.deliveries SET ready_at = 'infinity', lease_id = NULL,
	lease_until = NULL WHERE id = $1 AND state = 'pending'`)
	st.listSetAsideInvoices = r.Replace(`SELECT {invoiceColumns} FROM {schema}.invoices
WHERE sweep_at IS NULL AND deadline IS NOT NULL AND status NOT IN ('confirmed', 'failed') ORDER BY id LIMIT $1`)
	st.listSetAsideDeliveries = r.Replace(`SELECT {deliveryColumns} FROM {schema}.deliveries
WHERE state = 'pending' AND ready_at = 'infinity' ORDER BY id LIMIT $1`)
	st.retrySetAside = r.Replace(`WITH i AS (
	UPDATE {schema}.invoices SET sweep_at = deadline
	WHERE id = $1 AND sweep_at IS NULL AND deadline IS NOT NULL AND status NOT IN ('confirmed', 'failed')
	RETURNING 1),
d AS (
	UPDATE {schema}.deliveries SET ready_at = next_attempt_at
	WHERE id = $1 AND state = 'pending' AND ready_at = 'infinity'
	RETURNING 1)
SELECT (SELECT count(*) FROM i) + (SELECT count(*) FROM d)`)
	// $1 after, $2 limit, then the filters in use (invoice, state), so
	// each variant gets its own plan and index.
	for i := range st.listDeliveries {
		where, n := "id > $1", 2
		if i&1 != 0 {
			n++
			where += fmt.Sprintf(" AND invoice_id = $%d", n)
		}
		if i&2 != 0 {
			n++
			where += fmt.Sprintf(" AND state = $%d", n)
		}
		st.listDeliveries[i] = r.Replace(`SELECT {deliveryColumns} FROM {schema}.deliveries WHERE ` + where + ` ORDER BY id LIMIT $2`)
	}
	return st
}
