// Package pgstore is an invoice.Store on PostgreSQL (12 or later; tested
// on 15) through pgx v5, for running one or many engines on a shared,
// durable database.
//
//	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
//	store, err := pgstore.New(pool)            // tables in schema "invoice"
//	err = store.Migrate(ctx)                   // idempotent; safe from many instances at once
//	engine, err := invoice.New(invoice.Config{Store: store, ...})
//
// # Schema
//
// Migrate creates (or upgrades) the tables in their own schema, "invoice"
// by default (WithSchema), from SQL files embedded in the package. It
// records what it applied in a schema_version table and serializes
// concurrent callers with a transaction-level advisory lock, so every
// instance of a service may call it at start-up.
//
//   - invoices: one row per invoice. Money is numeric, written and read as
//     exact text, so "1.50" comes back as "1.50" (value and exponent).
//     Times are timestamptz (microseconds, returned in UTC; NULL for the
//     zero time). Enums are text with CHECK constraints. The lists
//     (quotes, transactions, refund claims) are jsonb arrays whose
//     decimals are exact strings. number is an identity column (the
//     callback "id"); foreign_id has a unique constraint. sweep_at is the
//     deadline while the sweep may act on the invoice, or the end of a
//     sweep claim's lease; NULL when final or without deadline, and a
//     partial index on it makes the sweep independent of the table size.
//     Another partial index holds only the invoices with a refund claim
//     awaiting payout (ListAwaitingPayout).
//   - deliveries: the outbox, one row per callback, customer notice
//     (never with its token) or refund payout, with the payload as jsonb
//     (callback, notice or payout), state, seq,
//     next_attempt_at, the lease (lease_id, lease_until), every attempt in
//     a jsonb array, and ready_at (next_attempt_at, or lease_until while
//     leased) with a partial index over the pending rows.
//
// numeric has no negative scale, so a decimal with a positive exponent
// (decimal.New(15, 2), "15E2") comes back with the same value and exponent
// 0 ("1500") from the invoice's own columns (Amount, SenderAmount, Rate);
// inside the jsonb lists and the outbox every exponent is kept.
//
// # Concurrency
//
// Every operation is a single SQL statement, so it is atomic on its own
// and costs one round trip. UpdateInvoice updates the row WHERE id = $1
// AND version = $2 and inserts the outbox rows in the same statement (a
// data-modifying CTE): they commit together or not at all, and of several
// concurrent updates from one version exactly one succeeds (the others get
// invoice.ErrConflict). The claims lock rows with FOR UPDATE SKIP LOCKED,
// so engines never wait for each other and never get the same row; a claim
// stores a lease, and a row whose lease ran out is claimable again, so
// work held by an engine that died is taken over. ClaimDeliveries only
// returns the first pending delivery of each invoice and channel; a leased
// delivery stays pending and keeps blocking those behind it, which keeps
// callbacks of one invoice in order across engines.
//
// Parameters are plain text, numbers, times and UUIDs (JSON documents are
// sent as text and cast), so the store works in every pgx query execution
// mode, including QueryExecModeExec and QueryExecModeSimpleProtocol for
// PgBouncer in transaction pooling mode; the conformance suite runs in all
// of them.
//
// Serialization failures (SQLSTATE 40001, seen when the server runs
// SERIALIZABLE transactions) and deadlocks (40P01) are retried with
// jittered backoff up to WithMaxRetries times (default 5), then returned.
//
// # Host transactions
//
// WithTx returns a view of the Store that runs inside the host's pgx.Tx,
// so an order row and its invoice commit together:
//
//	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
//		if _, err := tx.Exec(ctx, "INSERT INTO orders ...", ...); err != nil {
//			return err
//		}
//		_, err := engine.CreateIn(ctx, store.WithTx(tx), req)
//		return err
//	})
//
// A taken foreign_id (ON CONFLICT DO NOTHING), a version conflict or a lost
// lease do not abort the host's transaction.
//
// # Tests
//
// The tests need a PostgreSQL server: DATABASE_URL, by default
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. Each test works
// in a schema of its own that it drops at the end. Without a reachable
// server the tests are skipped, unless CI=true, which makes that a failure.
package pgstore
