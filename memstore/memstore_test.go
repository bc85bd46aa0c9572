package memstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) invoice.Store { return memstore.New() })
}

func TestHostileEngine(t *testing.T) {
	storetest.RunHostileEngine(t, func(t *testing.T) invoice.Store { return memstore.New() })
}

var (
	ctx   = context.Background()
	epoch = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
)

func seqID(kind byte, n int) uuid.UUID {
	var id uuid.UUID
	id[0] = kind
	id[6], id[8] = 0x70, 0x80
	for i := 15; i >= 10 && n > 0; i-- {
		id[i] = byte(n)
		n >>= 8
	}
	return id
}

// typicalInvoice is an invoice as the engine creates it with a fixed rate:
// payment terms, deposit address, e-mail, URLs and a 15-minute deadline.
func typicalInvoice(n int, deadline time.Time) *invoice.Invoice {
	return &invoice.Invoice{
		ID:             seqID(1, n),
		ForeignID:      fmt.Sprintf("order-%09d", n),
		Type:           invoice.TypeTimerCurrency,
		Title:          "Order payment",
		Amount:         decimal.New(int64(10000+n%1000), -2),
		Currency:       "EUR",
		SenderCurrency: "BTC",
		SenderAmount:   decimal.New(int64(1234567+n%1000), -8),
		Rate:           decimal.New(9123456, -2),
		FixedAt:        epoch,
		ExpiresAt:      deadline,
		Deposit:        invoice.Address{Address: fmt.Sprintf("bc1q%038d", n)},
		Email:          "buyer@example.com",
		URLSuccess:     "https://shop.example/ok",
		URLFailed:      "https://shop.example/failed",
		Status:         invoice.StatusPending,
		Deadline:       deadline,
		CreatedAt:      epoch,
		UpdatedAt:      epoch,
	}
}

// TestMemoryPerInvoice checks the memory a stored typical invoice costs,
// its own strings and decimals included: at most 1 KiB.
func TestMemoryPerInvoice(t *testing.T) {
	const n = 20_000
	perInvoice := measurePerInvoice(n)
	t.Logf("%.0f bytes per stored invoice", perInvoice)
	require.LessOrEqual(t, perInvoice, 1024.0)
}

func measurePerInvoice(n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := memstore.New()
	for i := range n {
		if err := s.CreateInvoice(ctx, typicalInvoice(i, epoch.Add(time.Duration(i)*time.Millisecond))); err != nil {
			panic(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// BenchmarkMemoryPerInvoice reports the heap bytes per stored typical
// invoice with 100,000 stored.
func BenchmarkMemoryPerInvoice(b *testing.B) {
	var perInvoice float64
	for b.Loop() {
		perInvoice = measurePerInvoice(100_000)
	}
	b.ReportMetric(perInvoice, "B/invoice")
}

// BenchmarkClaimDueInvoices measures one sweep round on a store of
// 1,000,000 open invoices of which 1,000 are due: ClaimDueInvoices(limit
// 1000), then for each claimed invoice the UpdateInvoice that clears its
// deadline (what the engine's sweep does with the claimed copies). Between
// iterations, with the timer stopped, the same 1,000 invoices are made due
// again.
func BenchmarkClaimDueInvoices(b *testing.B) {
	const total, due = 1_000_000, 1_000
	s := memstore.New()
	for i := range total {
		deadline := epoch.Add(24*time.Hour + time.Duration(i)*time.Millisecond) // far in the future
		if i%(total/due) == 0 {
			deadline = epoch.Add(-time.Duration(i) * time.Millisecond) // due
		}
		if err := s.CreateInvoice(ctx, typicalInvoice(i, deadline)); err != nil {
			b.Fatal(err)
		}
	}
	rearm := func(ids []uuid.UUID) {
		for _, id := range ids {
			inv, err := s.GetInvoice(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			inv.Deadline = inv.ExpiresAt
			if err := s.UpdateInvoice(ctx, inv, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	var claimed []uuid.UUID
	for b.Loop() {
		b.StopTimer()
		rearm(claimed)
		claimed = claimed[:0]
		b.StartTimer()

		invs, err := s.ClaimDueInvoices(ctx, epoch, time.Minute, due)
		if err != nil {
			b.Fatal(err)
		}
		if len(invs) != due {
			b.Fatalf("claimed %d, want %d", len(invs), due)
		}
		for _, inv := range invs {
			inv.Deadline = time.Time{}
			if err := s.UpdateInvoice(ctx, inv, nil); err != nil {
				b.Fatal(err)
			}
			claimed = append(claimed, inv.ID)
		}
	}
}

// BenchmarkClaimDeliveries measures claiming and acknowledging 1,000 due
// deliveries among 100,000 queues whose heads are not yet due.
func BenchmarkClaimDeliveries(b *testing.B) {
	const queues, due = 100_000, 1_000
	s := memstore.New()
	n := 0
	for i := range queues {
		inv := typicalInvoice(i, time.Time{})
		if err := s.CreateInvoice(ctx, inv); err != nil {
			b.Fatal(err)
		}
		at := epoch.Add(time.Hour)
		if i%(queues/due) == 0 {
			at = epoch
		}
		n++
		d := &invoice.Delivery{ID: seqID(2, n), InvoiceID: inv.ID, Channel: invoice.ChannelMerchant, Seq: 1,
			State: invoice.DeliveryPending, CreatedAt: epoch, NextAttemptAt: at,
			Callback: &invoice.Callback{ID: inv.Number, Status: invoice.StatusPending}}
		if err := s.UpdateInvoice(ctx, inv, []*invoice.Delivery{d}); err != nil {
			b.Fatal(err)
		}
	}
	var acked []*invoice.Delivery
	for b.Loop() {
		b.StopTimer()
		// The next delivery of the same invoices becomes due (redelivering
		// the same ones would grow their attempt logs without bound).
		for _, d := range acked {
			n++
			inv, err := s.GetInvoice(ctx, d.InvoiceID)
			if err != nil {
				b.Fatal(err)
			}
			next := &invoice.Delivery{ID: seqID(2, n), InvoiceID: inv.ID, Channel: invoice.ChannelMerchant, Seq: d.Seq + 1,
				State: invoice.DeliveryPending, CreatedAt: epoch, NextAttemptAt: epoch,
				Callback: &invoice.Callback{ID: inv.Number, Status: invoice.StatusPending}}
			if err := s.UpdateInvoice(ctx, inv, []*invoice.Delivery{next}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		ds, err := s.ClaimDeliveries(ctx, epoch, time.Minute, due)
		if err != nil {
			b.Fatal(err)
		}
		if len(ds) != due {
			b.Fatalf("claimed %d, want %d", len(ds), due)
		}
		for _, d := range ds {
			if err := s.AckDelivery(ctx, d.ID, d.LeaseID, invoice.Attempt{At: epoch}); err != nil {
				b.Fatal(err)
			}
		}
		acked = ds
	}
}

// TestSweepModel drives random creates, updates and claims and checks
// every ClaimDueInvoices answer against a brute-force model.
func TestSweepModel(t *testing.T) {
	type entry struct {
		deadline, leaseUntil time.Time
		final                bool
		number               int64
	}
	rng := rand.New(rand.NewPCG(1, 2))
	s := memstore.New()
	model := map[uuid.UUID]*entry{}
	var ids []uuid.UUID
	now := epoch
	randDeadline := func() time.Time {
		if rng.IntN(5) == 0 {
			return time.Time{}
		}
		return now.Add(time.Duration(rng.IntN(600)-300) * time.Second)
	}
	sweepAt := func(e *entry) time.Time {
		if e.leaseUntil.After(e.deadline) {
			return e.leaseUntil
		}
		return e.deadline
	}
	for op := range 1500 {
		switch r := rng.IntN(10); {
		case r < 3 || len(ids) == 0: // create
			inv := typicalInvoice(op, randDeadline())
			if rng.IntN(8) == 0 {
				inv.Status = invoice.StatusConfirmed
			}
			require.NoError(t, s.CreateInvoice(ctx, inv))
			model[inv.ID] = &entry{deadline: inv.Deadline, final: inv.Status.IsFinal(), number: inv.Number}
			ids = append(ids, inv.ID)
		case r < 6: // update
			id := ids[rng.IntN(len(ids))]
			inv, err := s.GetInvoice(ctx, id)
			require.NoError(t, err)
			inv.Deadline = randDeadline()
			if rng.IntN(10) == 0 {
				inv.Status = invoice.StatusFailed
			}
			require.NoError(t, s.UpdateInvoice(ctx, inv, nil))
			model[id] = &entry{deadline: inv.Deadline, final: inv.Status.IsFinal(), number: inv.Number}
		case r < 7:
			now = now.Add(time.Duration(rng.IntN(90)) * time.Second)
		default: // claim
			lease := time.Duration(rng.IntN(120)) * time.Second
			limit := 1 + rng.IntN(20)
			var want []uuid.UUID
			for id, e := range model {
				if !e.deadline.IsZero() && !e.final && !sweepAt(e).After(now) {
					want = append(want, id)
				}
			}
			slices.SortFunc(want, func(a, b uuid.UUID) int {
				ea, eb := model[a], model[b]
				if c := sweepAt(ea).Compare(sweepAt(eb)); c != 0 {
					return c
				}
				if c := ea.deadline.Compare(eb.deadline); c != 0 {
					return c
				}
				return int(ea.number - eb.number)
			})
			want = want[:min(limit, len(want))]
			invs, err := s.ClaimDueInvoices(ctx, now, lease, limit)
			require.NoError(t, err)
			var got []uuid.UUID
			for _, inv := range invs {
				got = append(got, inv.ID)
			}
			require.Equal(t, want, got, "op %d", op)
			for _, id := range got {
				model[id].leaseUntil = now.Add(lease)
			}
		}
	}
}

// TestOutboxModel drives random deliveries, claims, outcomes and
// redeliveries and checks every ClaimDeliveries answer against a
// brute-force model of the per-invoice-and-channel queues.
func TestOutboxModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s := memstore.New()
	var (
		invs   []*invoice.Invoice
		all    []*invoice.Delivery // the model: expected stored state
		byID   = map[uuid.UUID]*invoice.Delivery{}
		nextID int
		now    = epoch
	)
	for i := range 8 {
		inv := typicalInvoice(i, time.Time{})
		require.NoError(t, s.CreateInvoice(ctx, inv))
		invs = append(invs, inv)
	}
	readyAt := func(d *invoice.Delivery) time.Time {
		if d.LeaseUntil.After(d.NextAttemptAt) {
			return d.LeaseUntil
		}
		return d.NextAttemptAt
	}
	claimable := func() map[uuid.UUID]bool {
		heads := map[[17]byte]*invoice.Delivery{}
		for _, d := range all {
			if d.State != invoice.DeliveryPending {
				continue
			}
			var k [17]byte
			copy(k[:], d.InvoiceID[:])
			k[16] = byte(d.Channel)
			if h, ok := heads[k]; !ok || d.Seq < h.Seq {
				heads[k] = d
			}
		}
		out := map[uuid.UUID]bool{}
		for _, h := range heads {
			if !readyAt(h).After(now) {
				out[h.ID] = true
			}
		}
		return out
	}
	var held []*invoice.Delivery // claimed copies
	for op := range 2000 {
		switch r := rng.IntN(12); {
		case r < 3: // enqueue 1-3 deliveries, Seq rising per invoice
			inv := invs[rng.IntN(len(invs))]
			var out []*invoice.Delivery
			for k := range 1 + rng.IntN(3) {
				nextID++
				d := &invoice.Delivery{
					ID: seqID(byte(2+rng.IntN(3)), nextID), InvoiceID: inv.ID,
					Channel: invoice.Channel(1 + rng.IntN(2)), Seq: (inv.Version+1)<<10 | int64(k),
					State: invoice.DeliveryPending, CreatedAt: now,
					NextAttemptAt: now.Add(time.Duration(rng.IntN(60)-30) * time.Second),
				}
				out = append(out, d)
			}
			require.NoError(t, s.UpdateInvoice(ctx, inv, out))
			for _, d := range out {
				cp := d.Clone()
				all = append(all, cp)
				byID[cp.ID] = cp
			}
		case r < 5:
			now = now.Add(time.Duration(rng.IntN(40)) * time.Second)
		case r < 8: // claim
			want := claimable()
			limit := 1 + rng.IntN(6)
			got, err := s.ClaimDeliveries(ctx, now, 45*time.Second, limit)
			require.NoError(t, err)
			require.Len(t, got, min(limit, len(want)), "op %d", op)
			for _, d := range got {
				require.True(t, want[d.ID], "op %d: %s is not claimable", op, d.ID)
				m := byID[d.ID]
				m.LeaseID, m.LeaseUntil = d.LeaseID, d.LeaseUntil
				require.Equal(t, m, d, "op %d", op)
				held = append(held, d)
			}
		case r < 11 && len(held) > 0: // settle a held delivery
			i := rng.IntN(len(held))
			d := held[i]
			held = slices.Delete(held, i, i+1)
			m := byID[d.ID]
			a := invoice.Attempt{At: now, Duration: time.Duration(op)}
			lost := m.LeaseID != d.LeaseID || m.State != invoice.DeliveryPending
			var err error
			switch rng.IntN(3) {
			case 0:
				err = s.AckDelivery(ctx, d.ID, d.LeaseID, a)
				if !lost {
					m.State = invoice.DeliveryDelivered
				}
			case 1:
				next := now.Add(time.Duration(rng.IntN(60)) * time.Second)
				err = s.RescheduleDelivery(ctx, d.ID, d.LeaseID, a, next, false)
				if !lost {
					m.NextAttemptAt = next
				}
			default:
				err = s.RescheduleDelivery(ctx, d.ID, d.LeaseID, a, now, true)
				if !lost {
					m.State = invoice.DeliveryDead
				}
			}
			if lost {
				require.ErrorIs(t, err, invoice.ErrLeaseLost, "op %d", op)
				continue
			}
			require.NoError(t, err, "op %d", op)
			m.Attempts = append(m.Attempts, a)
			m.LeaseID, m.LeaseUntil = uuid.Nil, time.Time{}
		case len(all) > 0: // redeliver
			m := all[rng.IntN(len(all))]
			require.NoError(t, s.RedeliverDelivery(ctx, m.ID, now))
			if m.State != invoice.DeliveryPending {
				m.State, m.NextAttemptAt = invoice.DeliveryPending, now
				m.LeaseID, m.LeaseUntil = uuid.Nil, time.Time{}
			}
		}
	}
	for _, m := range all {
		got, err := s.GetDelivery(ctx, m.ID)
		require.NoError(t, err)
		require.Equal(t, m, got)
	}
	list, err := s.ListDeliveries(ctx, invoice.DeliveryQuery{Limit: len(all) + 1})
	require.NoError(t, err)
	require.Len(t, list, len(all))
	require.True(t, slices.IsSortedFunc(list, func(a, b *invoice.Delivery) int {
		return slices.Compare(a.ID[:], b.ID[:])
	}))
}
