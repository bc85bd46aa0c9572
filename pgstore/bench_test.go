package pgstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// The benchmarks run against the local PostgreSQL (DATABASE_URL); their
// baselines are in bench_transition_test.go. River, the peer library for
// the outbox, is measured in the nested module bench/river.

// benchFixture is a migrated store in a fresh schema with an engine on it.
type benchFixture struct {
	pool   *pgxpool.Pool
	store  *pgstore.Store
	schema string // quoted
	sql    map[string]string
	h      *invoicetest.Harness
	clock  *invoicetest.Clock
}

func newBenchFixture(b *testing.B, mods ...func(*invoice.Config)) *benchFixture {
	b.Helper()
	pool := requireDB(b)
	s := newStoreOn(b, pool, freshSchema(b, pool))
	clock := invoicetest.NewClock(invoicetest.Epoch)
	h := invoicetest.New(b, append([]func(*invoice.Config){func(c *invoice.Config) {
		c.Store = s
		c.Clock = clock
		c.NewID = uuid.NewV7
	}}, mods...)...)
	return &benchFixture{pool: pool, store: s, schema: pgx.Identifier{s.Schema()}.Sanitize(),
		sql: pgstore.BenchSQL(s), h: h, clock: clock}
}

// prefill creates one pending timer invoice through the engine and n
// copies of it in SQL; it returns their foreign_ids.
func (f *benchFixture) prefill(b *testing.B, n int) []string {
	b.Helper()
	prefix := fmt.Sprintf("pf-%d-", time.Now().UnixNano())
	tmpl, err := f.h.Engine.Create(bg(), timerRequest(prefix+"template"))
	if err != nil {
		b.Fatal(err)
	}
	f.cloneInvoices(b, tmpl.ID, prefix, n, nil)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(prefix, i+1)
	}
	return ids
}

// cloneInvoices inserts n copies of the invoice tmpl with foreign_ids
// prefix1…prefixN; overrides replaces columns of the copies with SQL
// expressions over the template row t and the series value g.
func (f *benchFixture) cloneInvoices(b *testing.B, tmpl uuid.UUID, prefix string, n int, overrides map[string]string) {
	b.Helper()
	cols := []string{"end_user_reference", "type", "payment_mode", "title", "description", "amount", "currency",
		"sender_currency", "sender_amount", "rate", "quotes", "transactions", "refund_claims", "fixed_at",
		"expires_at", "deposit_address", "deposit_tag", "email", "url_success", "url_failed", "status", "error",
		"deadline", "sweep_at", "created_at", "updated_at", "version"}
	sel := make([]string, len(cols))
	for i, c := range cols {
		sel[i] = "t." + c
		if v, ok := overrides[c]; ok {
			sel[i] = v
		}
	}
	q := "INSERT INTO " + f.schema + ".invoices (id, foreign_id, " + strings.Join(cols, ", ") + ") " +
		"SELECT gen_random_uuid(), $2 || g, " + strings.Join(sel, ", ") +
		" FROM " + f.schema + ".invoices t, generate_series(1, $3::int) g WHERE t.id = $1"
	if _, err := f.pool.Exec(bg(), q, tmpl, prefix, n); err != nil {
		b.Fatal(err)
	}
}

// logPlan logs the query plan of a statement (shown with -v): the claims
// must use their partial indexes, whatever the table size.
func (f *benchFixture) logPlan(b *testing.B, query string, args ...any) {
	b.Helper()
	rows, err := f.pool.Query(bg(), "EXPLAIN "+query, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			b.Fatal(err)
		}
		plan = append(plan, line)
	}
	b.Logf("plan:\n%s", strings.Join(plan, "\n"))
}
