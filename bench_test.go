package invoice_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/stretchr/testify/require"
)

// BenchmarkLifecycle: create → confirm currency → transaction seen →
// confirmed, callbacks recorded in the outbox, on memstore. Target:
// ≥ 100,000 lifecycles/s on one core (-cpu 1) and ≤ 1.6× the time of
// BenchmarkLifecycleBaseline in the same run.
func BenchmarkLifecycle(b *testing.B) {
	h := invoicetest.New(b)
	amount := dec("0.00166667")
	price := dec("100") // parsed once, as the baseline's amount is
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("o-%d", i)
		if _, err := h.Engine.Create(ctx, invoice.CreateRequest{
			ForeignID: id, Title: "t", Amount: price, Currency: "EUR",
		}); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Engine.ConfirmPayment(ctx, id, invoice.Confirmation{Currency: "BTC", Email: "c@example.com"}); err != nil {
			b.Fatal(err)
		}
		for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
			if _, err := h.Engine.ReportTransaction(ctx, id, invoice.TransactionReport{
				TxID: "tx", Currency: "BTC", Amount: amount, Confirmations: int64(st) - 1, Status: st, // confirmed: 1 confirmation
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
}

// BenchmarkTransitionCheck: the transition-table lookup itself, accepted
// and refused. Target: 0 allocations.
func BenchmarkTransitionCheck(b *testing.B) {
	b.Run("accepted", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := invoice.Transition(invoice.StatusProcessing, invoice.EventFundsConfirmed); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("refused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := invoice.Transition(invoice.StatusConfirmed, invoice.EventCancel); ok {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkTransition: one whole operation through the engine: an accepted
// cancel (read, transition, callback, store) and a refused one (read,
// refusal, nothing stored).
func BenchmarkTransition(b *testing.B) {
	b.Run("accepted_cancel", func(b *testing.B) {
		h := invoicetest.New(b)
		ids := make([]string, b.N)
		for i := range ids {
			ids[i] = fmt.Sprintf("o-%d", i)
			if _, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: ids[i], Title: "t", Amount: dec("1"), Currency: "EUR"}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			if _, err := h.Engine.Cancel(ctx, ids[i]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("refused_cancel", func(b *testing.B) {
		h := invoicetest.New(b)
		if _, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o", Title: "t", Amount: dec("1"), Currency: "EUR"}); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Engine.Cancel(ctx, "o"); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := h.Engine.Cancel(ctx, "o"); err == nil {
				b.Fatal("accepted")
			}
		}
	})
}

// BenchmarkSweep: one op is the sweep that fails 1,000 due invoices (with
// their callbacks) among 1,000 open ones (the baseline: a store that fits
// in cache) and among 1,000,000 (the target case: ≤ 2 ms). The ratio shows
// the sweep does not scan the open invoices.
func BenchmarkSweep(b *testing.B) {
	for _, open := range []int{1_000, 1_000_000} {
		b.Run(fmt.Sprintf("open=%d", open), func(b *testing.B) { benchmarkSweep(b, open) })
	}
}

func benchmarkSweep(b *testing.B, open int) {
	const due = 1_000
	h := invoicetest.New(b, func(c *invoice.Config) { c.SweepBatch = due })
	fill := func(prefix string, n int) {
		for i := range n {
			if _, err := h.Engine.Create(ctx, typ3(fmt.Sprintf("%s-%d", prefix, i))); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The open invoices are created "later", so their windows end after
	// every due batch below.
	h.Clock.Set(invoicetest.Epoch.Add(24 * time.Hour))
	fill("open", open)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		h.Clock.Set(invoicetest.Epoch.Add(time.Duration(i) * time.Minute))
		fill(fmt.Sprintf("due%d", i), due)
		h.Clock.Advance(15 * time.Minute)
		runtime.GC() // not the prefill's garbage
		b.StartTimer()
		n, err := h.Engine.Sweep(ctx)
		if err != nil || n != due {
			b.Fatalf("swept %d, %v", n, err)
		}
	}
}

// BenchmarkStoredInvoiceBytes reports the heap held per stored invoice
// (a pending type-3 invoice on memstore). Target ≤ 1 KiB.
func BenchmarkStoredInvoiceBytes(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h := invoicetest.New(b)
		for i := range n {
			_, err := h.Engine.Create(ctx, typ3(fmt.Sprintf("order-%07d", i)))
			require.NoError(b, err)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/invoice")
		runtime.KeepAlive(h)
	}
}

// BenchmarkLifecycleBaseline: the same four steps as BenchmarkLifecycle,
// written by hand on a map and a mutex: the baseline the engine on
// memstore is measured against (run both with -bench Lifecycle). Each step
// copies the invoice out and back in (as any store that hands out copies
// must), computes what it changes (the amount to pay from the rate, the
// transaction, the status) and appends a callback to an outbox, as the
// engine does; none of the engine's validation, transition table,
// deadlines, indexes or callback details.
func BenchmarkLifecycleBaseline(b *testing.B) {
	type record struct {
		inv    invoice.Invoice
		outbox []invoice.Callback
	}
	var (
		mu       sync.Mutex
		byID     = map[uuid.UUID]*record{}
		byForeig = map[string]*record{}
		number   int64
	)
	rate := dec("60000")
	amount := dec("100")
	read := func(foreignID string) invoice.Invoice {
		mu.Lock()
		defer mu.Unlock()
		inv := byForeig[foreignID].inv
		inv.Transactions = slices.Clone(inv.Transactions)
		return inv
	}
	write := func(inv *invoice.Invoice) {
		mu.Lock()
		defer mu.Unlock()
		r := byID[inv.ID]
		if r.inv.Version != inv.Version {
			b.Fatal("conflict")
		}
		inv.Version++
		r.inv = *inv
		r.inv.Transactions = slices.Clone(inv.Transactions)
		r.outbox = append(r.outbox, invoice.Callback{ID: inv.Number, ForeignID: inv.ForeignID, Status: inv.Status,
			CurrencySent:     invoice.CallbackSent{Currency: inv.SenderCurrency, Amount: invoice.Amount{Decimal: inv.SenderAmount}},
			CurrencyReceived: invoice.CallbackReceived{Currency: inv.Currency, Amount: invoice.Amount{Decimal: inv.Amount}}})
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("o-%d", i)
		uid, _ := uuid.NewV7()
		mu.Lock()
		number++
		r := &record{inv: invoice.Invoice{ID: uid, Number: number, ForeignID: id, Title: "t", Amount: amount,
			Currency: "EUR", Status: invoice.StatusCreated, Version: 1}}
		byID[uid], byForeig[id] = r, r
		mu.Unlock()

		inv := read(id) // confirm the currency
		inv.SenderCurrency, inv.Rate = "BTC", rate
		inv.SenderAmount = amount.DivRound(rate, 8)
		inv.Email, inv.Status = "c@example.com", invoice.StatusPending
		write(&inv)
		inv = read(id) // transaction seen
		inv.Transactions = append(inv.Transactions, invoice.Transaction{TxID: "tx", Currency: "BTC",
			Amount: inv.SenderAmount, Status: invoice.TxNotConfirmed})
		inv.Status = invoice.StatusProcessing
		write(&inv)
		inv = read(id) // confirmed
		inv.Transactions[0].Status = invoice.TxConfirmed
		if inv.Transactions[0].Amount.Cmp(inv.SenderAmount) >= 0 {
			inv.Status = invoice.StatusConfirmed
		}
		write(&inv)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
}
