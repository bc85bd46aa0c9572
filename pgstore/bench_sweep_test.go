package pgstore_test

import (
	"strconv"
	"testing"
	"time"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// BenchmarkSweep1kDueOf1M: 1,000 due invoices among 1,000,000 rows
// (prefilled in SQL: 1,000 due, 49,000 open with later deadlines, 950,000
// final). engine+baseline: Engine.Sweep (SweepBatch 1,000) and the
// hand-written batched sweep (one claim-and-update statement with FOR
// UPDATE SKIP LOCKED plus one INSERT of the callbacks, one transaction),
// alternately, each after the 1,000 are put back to due outside the timer.
// claim: ClaimDueInvoices of the 1,000 alone.
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
		if _, err := f.pool.Exec(ctx, "DELETE FROM "+f.schema+".deliveries"); err != nil {
			b.Fatal(err)
		}
	}

	b.Run("engine+baseline", func(b *testing.B) {
		base := newBaseline(f)
		var r rates
		for i := range b.N {
			engine := func() float64 {
				reset(b)
				t := time.Now()
				n, err := f.h.Engine.Sweep(ctx)
				d := time.Since(t)
				if err != nil || n != due {
					b.Fatalf("swept %d, %v", n, err)
				}
				return float64(d.Microseconds()) / 1e3
			}
			baseline := func() float64 {
				reset(b)
				t := time.Now()
				n, err := base.sweep(ctx, now, due)
				d := time.Since(t)
				if err != nil || n != due {
					b.Fatalf("baseline swept %d, %v", n, err)
				}
				return float64(d.Microseconds()) / 1e3
			}
			var te, tb float64
			if i%2 == 0 {
				te, tb = engine(), baseline()
			} else {
				tb, te = baseline(), engine()
			}
			// Times, not rates: ratio = engine time / baseline time.
			r.engine, r.base, r.ratio = append(r.engine, te), append(r.base, tb), append(r.ratio, te/tb)
			b.Logf("round %d: engine %.1f ms, baseline %.1f ms, engine/baseline %.2f×, load %s", i, te, tb, te/tb, loadavg())
		}
		b.ReportMetric(median(r.engine), "engine-ms/sweep")
		b.ReportMetric(median(r.base), "baseline-ms/sweep")
		b.ReportMetric(median(r.ratio), "engine/baseline-time")
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
