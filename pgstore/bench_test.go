package pgstore_test

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/pgstore"
)

// The benchmarks run against the local PostgreSQL (DATABASE_URL) and put
// each engine-through-pgstore measurement beside a "raw" baseline: plain
// pgx issuing exactly the same SQL statements (pgstore's own texts, see
// export_test.go) with pre-built arguments, and none of the engine's work
// (validation, rules, encoding and decoding). engine/raw throughput is the
// ratio BENCHMARKS_SECTION.md reports.

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

// workers runs fn(i) for i in [0, b.N) on the given number of goroutines:
// a plain loop for one, RunParallel (with SetParallelism so that
// GOMAXPROCS×p ≥ workers) otherwise.
func workers(b *testing.B, n int, fn func(i int)) {
	if n == 1 {
		for i := range b.N {
			fn(i)
		}
		return
	}
	b.SetParallelism((n + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var next atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fn(int(next.Add(1) - 1))
		}
	})
}

var workerCounts = []int{1, 8}

// pair accumulates the time spent on engine (or store) work and on the
// raw baseline, done alternately by the same workers so that both see the
// same machine load; report turns them into per-unit metrics and their
// ratio (engine throughput / raw throughput = raw time / engine time).
type pair struct{ engine, raw, engineN, rawN atomic.Int64 }

func (p *pair) timeEngine(n int, fn func()) {
	t := time.Now()
	fn()
	p.engine.Add(int64(time.Since(t)))
	p.engineN.Add(int64(n))
}

func (p *pair) timeRaw(n int, fn func()) {
	t := time.Now()
	fn()
	p.raw.Add(int64(time.Since(t)))
	p.rawN.Add(int64(n))
}

// both runs engine and raw for iteration i, alternating which goes first.
func (p *pair) both(i int, engine, raw func()) {
	if i%2 == 0 {
		p.timeEngine(1, engine)
		p.timeRaw(1, raw)
	} else {
		p.timeRaw(1, raw)
		p.timeEngine(1, engine)
	}
}

func (p *pair) report(b *testing.B, unit string) {
	if p.engineN.Load() == 0 || p.rawN.Load() == 0 {
		return
	}
	e := float64(p.engine.Load()) / float64(p.engineN.Load())
	r := float64(p.raw.Load()) / float64(p.rawN.Load())
	b.ReportMetric(e/1e3, "engine-µs/"+unit)
	b.ReportMetric(r/1e3, "raw-µs/"+unit)
	b.ReportMetric(r/e, "engine/raw")
}

// BenchmarkLifecycle: Create → ConfirmPayment → ReportTransaction seen →
// ReportTransaction confirmed (8 statements: each step reads the invoice
// by foreign_id, then inserts it or updates it with its callback), through
// the engine and raw, alternately; ns/op covers one of each.
func BenchmarkLifecycle(b *testing.B) {
	for _, w := range workerCounts {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			f := newBenchFixture(b)
			raw := newRaw(b, f)
			ctx := bg()
			run := fmt.Sprint(time.Now().UnixNano())
			var p pair
			b.ResetTimer()
			workers(b, w, func(i int) {
				p.both(i, func() {
					id := fmt.Sprintf("lc-%s-%d", run, i)
					if _, err := f.h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: id, Title: "t", Amount: dec("100"), Currency: "EUR"}); err != nil {
						b.Fatal(err)
					}
					inv, err := f.h.Engine.ConfirmPayment(ctx, id, invoice.Confirmation{Currency: "BTC", Email: "c@example.com"})
					if err != nil {
						b.Fatal(err)
					}
					for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
						if _, err := f.h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{
							TxID: "tx", Currency: "BTC", Amount: inv.SenderAmount, Confirmations: int64(st) - 1, Status: st}); err != nil { // confirmed: 1 confirmation
							b.Fatal(err)
						}
					}
				}, func() {
					id := fmt.Sprintf("raw-%s-%d", run, i)
					invID := raw.create(id)
					raw.transition(id, invID, 1, "pending", nil)
					raw.transition(id, invID, 2, "processing", raw.txSeen)
					raw.transition(id, invID, 3, "confirmed", raw.txConfirmed)
				})
			})
			b.StopTimer()
			p.report(b, "lifecycle")
		})
	}
}

// BenchmarkTransition: one accepted transition, Engine.Cancel of a pending
// invoice (2 statements: read by foreign_id, update with its callback),
// through the engine and raw, alternately; ns/op covers one of each.
func BenchmarkTransition(b *testing.B) {
	for _, w := range workerCounts {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			f := newBenchFixture(b)
			raw := newRaw(b, f)
			ids := f.prefill(b, 2*b.N)
			var p pair
			b.ResetTimer()
			workers(b, w, func(i int) {
				p.both(i, func() {
					if _, err := f.h.Engine.Cancel(bg(), ids[2*i]); err != nil {
						b.Fatal(err)
					}
				}, func() {
					raw.transition(ids[2*i+1], uuid.Nil, 1, "failed", nil)
				})
			})
			b.StopTimer()
			p.report(b, "transition")
		})
	}
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

// raw issues pgstore's statements with plain pgx and pre-built arguments.
type raw struct {
	b                   *testing.B
	f                   *benchFixture
	callback            []byte
	txSeen, txConfirmed string
	quotes              []byte
	at                  time.Time
	invoiceArgs         []any // $1..$28 with $1 and $2 to fill
	outboxHead          string
	outboxTail          string
}

func newRaw(b *testing.B, f *benchFixture) *raw {
	at := invoicetest.Epoch
	r := &raw{b: b, f: f, at: at,
		callback:    []byte(`{"id":1,"foreign_id":"x","type":"invoice","crypto_address":{"id":1,"currency":"BTC","address":"BTC-x","tag":""},"currency_sent":{"currency":"BTC","amount":"0.00166667","remaining_amount":"0"},"currency_received":{"currency":"EUR","amount":"100"},"transactions":[],"fees":[],"error":"","status":"pending","fixed_at":0,"expires_at":0}`),
		txSeen:      string(`[{"id":1000001,"txid":"tx","currency":"BTC","amount":"0.00166667","confirmations":0,"status":"not_confirmed","accounted":true,"seen_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}]`),
		txConfirmed: string(`[{"id":1000001,"txid":"tx","currency":"BTC","amount":"0.00166667","confirmations":0,"status":"confirmed","accounted":true,"settled":true,"seen_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}]`),
	}
	r.invoiceArgs = []any{nil, nil, "", "no_timer", "fill_or_kill", "t", "", "100", "EUR", "BTC", "0.00166667", "60000",
		nil, at, at.Add(15 * time.Minute), "BTC-x", "", "c@example.com", "", "", "created", "", nil, nil,
		at.Add(15 * time.Minute), at, at, at.Add(15 * time.Minute)}
	r.outboxHead = `[{"id":"`
	r.outboxTail = `,"callback":` + string(r.callback) + `,"notice":null,"state":"pending","created_at":"2026-01-01T00:00:00Z",` +
		`"next_attempt_at":"2026-01-01T00:00:00Z","attempts":[],"lease_id":null,"lease_until":null}]`
	return r
}

// scanRaw scans an invoice row without decoding anything: what a
// hand-written application would do at the least. Columns after the
// invoice's are scanned into extra.
func scanRaw(row pgx.Row, extra ...any) (id uuid.UUID, foreignID string, version int64, err error) {
	var (
		number                                 int64
		eur, typ, mode, title, desc            string
		amount, cur, scur, samount, rate       string
		addr, tag, email, us, uf, status, errs string
		quotes, txs, claims                    []byte
		fixedAt, expiresAt, deadline, c, u     *time.Time
	)
	err = row.Scan(append([]any{&id, &number, &foreignID, &eur, &typ, &mode, &title, &desc, &amount, &cur, &scur, &samount,
		&rate, &quotes, &fixedAt, &expiresAt, &addr, &tag, &email, &us, &uf, &status, &errs, &txs, &claims,
		&deadline, &c, &u, &version}, extra...)...)
	return id, foreignID, version, err
}

// read issues the get-by-foreign_id statement; it returns the ID
// (uuid.Nil when absent).
func (r *raw) read(foreignID string) uuid.UUID {
	id, _, _, err := scanRaw(r.f.pool.QueryRow(bg(), r.f.sql["getInvoiceByForeign"], foreignID))
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil
	}
	if err != nil {
		r.b.Fatal(err)
	}
	return id
}

func (r *raw) create(foreignID string) uuid.UUID {
	if r.read(foreignID) != uuid.Nil {
		r.b.Fatal("exists")
	}
	id, _ := uuid.NewV7()
	args := append([]any(nil), r.invoiceArgs...)
	args[0], args[1] = id, foreignID
	var number int64
	if err := r.f.pool.QueryRow(bg(), r.f.sql["createInvoice"], args...).Scan(&number); err != nil {
		r.b.Fatal(err)
	}
	return id
}

// transition reads the invoice and updates it from version with one
// callback in the outbox.
func (r *raw) transition(foreignID string, id uuid.UUID, version int64, status string, txs any) {
	got := r.read(foreignID)
	if id == uuid.Nil {
		id = got
	}
	args := append([]any(nil), r.invoiceArgs...)
	args[0], args[1], args[20], args[22] = id, foreignID, status, txs
	did, _ := uuid.NewV7()
	args = append(args, version, r.outbox(did, version+1))
	var (
		newVersion *int64
		exists     bool
	)
	if err := r.f.pool.QueryRow(bg(), r.f.sql["updateInvoiceOutbox"], args...).Scan(&newVersion, &exists); err != nil {
		r.b.Fatal(err)
	}
	if newVersion == nil {
		r.b.Fatalf("%s: conflict", foreignID)
	}
}

// outbox is the outbox parameter: one callback with the given ID and the
// Seq of the given version.
func (r *raw) outbox(id uuid.UUID, version int64) string {
	return r.outboxHead + id.String() + `","channel":"merchant","seq":` + strconv.FormatInt(version<<10, 10) + r.outboxTail
}

// BenchmarkSweep1kDueOf1M: 1,000 due invoices among 1,000,000 rows
// (prefilled in SQL: 1,000 due, 49,000 open with later deadlines, 950,000
// final). engine: Engine.Sweep fails the 1,000 (SweepBatch 1,000: one
// claim returning the invoices, then an update with callback each, no
// read). raw: the same
// statements with plain pgx. engine-concurrency=8: Engine.Sweep with
// SweepConcurrency 8. claim: ClaimDueInvoices alone.
func BenchmarkSweep1kDueOf1M(b *testing.B) {
	const total, due, open = 1_000_000, 1_000, 49_000
	f := newBenchFixture(b, func(c *invoice.Config) { c.SweepBatch = due })
	ctx := bg()
	start := time.Now()
	tmpl, err := f.h.Engine.Create(ctx, timerRequest("sweep-template"))
	if err != nil {
		b.Fatal(err)
	}
	// Deadlines: due ones at Epoch+15m, open ones a day later; final ones
	// have none in the sweep.
	dueN, openN := strconv.Itoa(due), strconv.Itoa(due+open)
	f.cloneInvoices(b, tmpl.ID, "s-", total-1, map[string]string{
		"status":   "CASE WHEN g <= " + openN + " THEN 'pending' ELSE 'confirmed' END",
		"deadline": "CASE WHEN g <= " + dueN + " THEN t.deadline WHEN g <= " + openN + " THEN t.deadline + interval '1 day' END",
		"sweep_at": "CASE WHEN g <= " + dueN + " THEN t.deadline WHEN g <= " + openN + " THEN t.deadline + interval '1 day' END",
	})
	if _, err := f.pool.Exec(ctx, "DELETE FROM "+f.schema+".invoices WHERE id = $1", tmpl.ID); err != nil {
		b.Fatal(err)
	}
	if _, err := f.pool.Exec(ctx, "VACUUM ANALYZE "+f.schema+".invoices"); err != nil {
		b.Fatal(err)
	}
	b.Logf("prefilled %d invoices in %s", total-1, time.Since(start).Round(time.Millisecond))
	f.clock.Advance(16 * time.Minute)
	now := f.clock.Now()
	f.logPlan(b, f.sql["claimDueInvoices"], now, now.Add(time.Minute), due)
	reset := func(b *testing.B) {
		b.Helper()
		if _, err := f.pool.Exec(ctx, "UPDATE "+f.schema+".invoices SET status = 'pending', error = '', "+
			"deadline = $1, sweep_at = $1 WHERE foreign_id IN (SELECT 's-' || g FROM generate_series(1, $2::int) g)",
			invoicetest.Epoch.Add(15*time.Minute), due); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("engine+raw", func(b *testing.B) {
		r := newRaw(b, f)
		var p pair
		for i := range b.N {
			engine := func() {
				n, err := f.h.Engine.Sweep(ctx)
				if err != nil || n != due {
					b.Fatalf("swept %d, %v", n, err)
				}
			}
			rawSweep := func() {
				rows, err := f.pool.Query(ctx, f.sql["claimDueInvoices"], now, now.Add(time.Minute), due)
				if err != nil {
					b.Fatal(err)
				}
				var claimed []claimedRaw
				for rows.Next() {
					var (
						c  claimedRaw
						at time.Time
					)
					if c.id, c.foreignID, c.version, err = scanRaw(rows, &at); err != nil {
						b.Fatal(err)
					}
					claimed = append(claimed, c)
				}
				if rows.Err() != nil || len(claimed) != due {
					b.Fatalf("claimed %d, %v", len(claimed), rows.Err())
				}
				for _, c := range claimed {
					r.sweepOne(c)
				}
			}
			first, second := engine, rawSweep
			timeFirst, timeSecond := p.timeEngine, p.timeRaw
			if i%2 == 1 {
				first, second, timeFirst, timeSecond = rawSweep, engine, p.timeRaw, p.timeEngine
			}
			b.StopTimer()
			reset(b)
			b.StartTimer()
			timeFirst(1, first)
			b.StopTimer()
			reset(b)
			b.StartTimer()
			timeSecond(1, second)
		}
		b.StopTimer()
		p.report(b, "sweep")
	})
	// The same sweep by an engine that works each claimed batch with 8
	// goroutines (Config.SweepConcurrency), beside the sequential one above.
	concurrent := invoicetest.New(b, func(c *invoice.Config) {
		c.Store, c.Clock, c.NewID, c.SweepBatch, c.SweepConcurrency = f.store, f.clock, uuid.NewV7, due, 8
	})
	b.Run("engine-concurrency=8", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			reset(b)
			b.StartTimer()
			n, err := concurrent.Engine.Sweep(ctx)
			if err != nil || n != due {
				b.Fatalf("swept %d, %v", n, err)
			}
		}
	})
	b.Run("claim", func(b *testing.B) {
		for range b.N {
			b.StopTimer()
			reset(b)
			b.StartTimer()
			invs, err := f.store.ClaimDueInvoices(ctx, now, time.Minute, due)
			if err != nil || len(invs) != due {
				b.Fatalf("claimed %d, %v", len(invs), err)
			}
		}
	})
}

// claimedRaw is what the raw sweep keeps of a claimed invoice row.
type claimedRaw struct {
	id        uuid.UUID
	foreignID string
	version   int64
}

// sweepOne fails a claimed invoice with a callback, from the version the
// claim returned (no read, as the engine).
func (r *raw) sweepOne(c claimedRaw) {
	id, foreignID, version := c.id, c.foreignID, c.version
	args := append([]any(nil), r.invoiceArgs...)
	args[0], args[1], args[20], args[27] = id, foreignID, "failed", nil
	did, _ := uuid.NewV7()
	args = append(args, version, r.outbox(did, version+1))
	var (
		newVersion *int64
		exists     bool
	)
	if err := r.f.pool.QueryRow(bg(), r.f.sql["updateInvoiceOutbox"], args...).Scan(&newVersion, &exists); err != nil {
		r.b.Fatal(err)
	}
	if newVersion == nil {
		r.b.Fatal("conflict")
	}
}

// BenchmarkOutboxClaimAck: claim pending deliveries in batches of 100 and
// acknowledge each (1 claim + up to 100 acks per batch), through the
// store and raw, alternately batch by batch; the metrics are per delivery.
func BenchmarkOutboxClaimAck(b *testing.B) {
	for _, w := range workerCounts {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			f := newBenchFixture(b)
			f.prefillDeliveries(b, b.N)
			ctx := bg()
			now := f.clock.Now()
			a := invoice.Attempt{At: now, Duration: time.Millisecond}
			attempt := `{"at":"2026-01-01T00:00:00Z","duration_ns":1000000}`
			var (
				p    pair
				done atomic.Int64
			)
			storeBatch := func() int {
				ds, err := f.store.ClaimDeliveries(ctx, now, time.Minute, 100)
				if err != nil {
					b.Fatal(err)
				}
				for _, d := range ds {
					if err := f.store.AckDelivery(ctx, d.ID, d.LeaseID, a); err != nil {
						b.Fatal(err)
					}
				}
				return len(ds)
			}
			rawBatch := func() int {
				rows, err := f.pool.Query(ctx, f.sql["claimDeliveries"], now, now.Add(time.Minute), 100)
				if err != nil {
					b.Fatal(err)
				}
				type held struct{ id, lease uuid.UUID }
				var hs []held
				for rows.Next() {
					var (
						h                 held
						inv               uuid.UUID
						ch, st            string
						seq               int64
						cb, nt, at        []byte
						created, next, lu *time.Time
						ready             time.Time
					)
					if err := rows.Scan(&h.id, &inv, &ch, &seq, &cb, &nt, &st, &created, &next, &at, &h.lease, &lu, &ready); err != nil {
						b.Fatal(err)
					}
					hs = append(hs, h)
				}
				if rows.Err() != nil {
					b.Fatal(rows.Err())
				}
				for _, h := range hs {
					var ok, exists bool
					if err := f.pool.QueryRow(ctx, f.sql["ackDelivery"], h.id, h.lease, attempt).Scan(&ok, &exists); err != nil || !ok {
						b.Fatal("ack", err)
					}
				}
				return len(hs)
			}
			worker := func(k int) {
				for i := k; done.Load() < int64(b.N); i++ {
					var n int
					if i%2 == 0 {
						t := time.Now()
						n = storeBatch()
						p.engine.Add(int64(time.Since(t)))
						p.engineN.Add(int64(n))
					} else {
						t := time.Now()
						n = rawBatch()
						p.raw.Add(int64(time.Since(t)))
						p.rawN.Add(int64(n))
					}
					if n == 0 {
						return
					}
					done.Add(int64(n))
				}
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for k := range w {
				wg.Go(func() { worker(k) })
			}
			wg.Wait()
			b.StopTimer()
			if done.Load() < int64(b.N) {
				b.Fatalf("delivered %d of %d", done.Load(), b.N)
			}
			p.report(b, "delivery")
		})
	}
}

// prefillDeliveries stores n pending callbacks, each the head of its own
// invoice's queue, due now.
func (f *benchFixture) prefillDeliveries(b *testing.B, n int) {
	b.Helper()
	prefix := fmt.Sprintf("od-%d-", time.Now().UnixNano())
	tmpl, err := f.h.Engine.Create(bg(), timerRequest(prefix+"template"))
	if err != nil {
		b.Fatal(err)
	}
	invoices := (n + 1) / 2 // two deliveries per invoice: merchant and customer heads
	f.cloneInvoices(b, tmpl.ID, prefix, invoices, nil)
	now := f.clock.Now()
	q := "INSERT INTO " + f.schema + ".deliveries (id, invoice_id, channel, seq, callback, notice, state, created_at, next_attempt_at, ready_at) " +
		"SELECT gen_random_uuid(), i.id, ch, 1, CASE WHEN ch = 'merchant' THEN $3::jsonb END, CASE WHEN ch = 'customer' THEN $4::jsonb END, " +
		"'pending', $2, $2, $2 FROM " + f.schema + ".invoices i CROSS JOIN (VALUES ('merchant'), ('customer')) c(ch) WHERE i.foreign_id LIKE $1 || '%' AND i.foreign_id <> $1 || 'template'"
	cb := `{"id":1,"foreign_id":"x","type":"invoice","crypto_address":{"id":1,"currency":"BTC","address":"a","tag":""},"currency_sent":{"currency":"BTC","amount":"0.00166667","remaining_amount":"0"},"currency_received":{"currency":"EUR","amount":"100"},"transactions":[],"fees":[],"error":"","status":"failed","fixed_at":0,"expires_at":0}`
	notice := `{"claim_id":"00000000-0000-0000-0000-000000000000","invoice_id":"00000000-0000-0000-0000-000000000000","foreign_id":"x","email":"c@example.com","amount":"0.5","currency":"BTC","reason":"r","token":"t"}`
	if _, err := f.pool.Exec(bg(), q, prefix, now, cb, notice); err != nil {
		b.Fatal(err)
	}
	if _, err := f.pool.Exec(bg(), "ANALYZE "+f.schema+".deliveries"); err != nil {
		b.Fatal(err)
	}
	if n >= 10_000 && testing.Verbose() {
		f.logPlan(b, f.sql["claimDeliveries"], now, now.Add(time.Minute), 100)
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
