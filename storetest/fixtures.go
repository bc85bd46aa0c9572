package storetest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

// base is the suite's "now": UTC with microsecond precision.
var base = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

// ID kinds: the first two bytes of the suite's IDs, so that IDs of
// different kinds never collide and sort by (kind, n).
const (
	kindInvoice  = 0x1000
	kindDelivery = 0x2000
	kindClaim    = 0x3000
	kindOther    = 0x4000
)

// testID returns a deterministic version-7-shaped UUID that sorts (by
// bytes, as ListInvoices and ListDeliveries order) by kind, then n.
func testID(kind uint16, n int) uuid.UUID {
	var id uuid.UUID
	binary.BigEndian.PutUint16(id[0:2], kind)
	id[6] = 0x70 // version 7
	id[8] = 0x80 // RFC 4122 variant
	var nb [8]byte
	binary.BigEndian.PutUint64(nb[:], uint64(n))
	copy(id[10:], nb[2:])
	return id
}

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// fixture is one subtest's store with builders for its records.
type fixture struct {
	t         *testing.T
	s         invoice.Store
	invoices  int
	delivs    int
	usedOther int
}

func newFixture(t *testing.T, s invoice.Store) *fixture { return &fixture{t: t, s: s} }

// nextInvoiceID returns the next invoice ID in creation order. Tests that
// check ID order choose their IDs explicitly.
func (f *fixture) nextInvoiceID() uuid.UUID {
	f.invoices++
	return testID(kindInvoice, f.invoices)
}

func (f *fixture) nextDeliveryID() uuid.UUID {
	f.delivs++
	return testID(kindDelivery, f.delivs)
}

func (f *fixture) nextOtherID() uuid.UUID {
	f.usedOther++
	return testID(kindOther, f.usedOther)
}

// newInvoice returns a typical, not yet stored invoice: a created
// TypeNoTimer invoice without payment terms, deadline or history.
func (f *fixture) newInvoice(mods ...func(*invoice.Invoice)) *invoice.Invoice {
	id := f.nextInvoiceID()
	inv := &invoice.Invoice{
		ID:        id,
		ForeignID: fmt.Sprintf("order-%d", f.invoices),
		// A checkout token of the engine's shape, unique per fixture.
		CheckoutToken: fmt.Sprintf("CT%024d", f.invoices),
		Type:          invoice.TypeNoTimer,
		Title:         "Order",
		Amount:        dec("100.00"),
		Currency:      "EUR",
		Status:        invoice.StatusCreated,
		CreatedAt:     base,
		UpdatedAt:     base,
	}
	for _, m := range mods {
		m(inv)
	}
	return inv
}

// create stores a new invoice built by newInvoice and returns it (with the
// Version and Number the store set).
func (f *fixture) create(mods ...func(*invoice.Invoice)) *invoice.Invoice {
	f.t.Helper()
	inv := f.newInvoice(mods...)
	require.NoError(f.t, f.s.CreateInvoice(ctx(), inv), "CreateInvoice")
	return inv
}

func (f *fixture) get(id uuid.UUID) *invoice.Invoice {
	f.t.Helper()
	inv, err := f.s.GetInvoice(ctx(), id)
	require.NoError(f.t, err, "GetInvoice %s", id)
	return inv
}

// update stores inv (which must be current) with the given outbox records;
// inv.Version advances.
func (f *fixture) update(inv *invoice.Invoice, outbox ...*invoice.Delivery) {
	f.t.Helper()
	require.NoError(f.t, f.s.UpdateInvoice(ctx(), inv, outbox), "UpdateInvoice %s v%d", inv.ID, inv.Version)
}

func withDeadline(d time.Time) func(*invoice.Invoice) {
	return func(inv *invoice.Invoice) { inv.Deadline = d }
}

func withStatus(s invoice.Status) func(*invoice.Invoice) {
	return func(inv *invoice.Invoice) { inv.Status = s }
}

func withID(id uuid.UUID) func(*invoice.Invoice) {
	return func(inv *invoice.Invoice) { inv.ID = id }
}

// fullInvoice returns an invoice with every field set, decimals of many
// exponents and times with microseconds.
func (f *fixture) fullInvoice() *invoice.Invoice {
	inv := f.newInvoice()
	inv.EndUserReference = "user-4711"
	inv.Type = invoice.TypeTimerCurrency
	inv.Mode = invoice.ModeGoodUntilExpired
	inv.Title = "Order #42 — café ☕, \"quoted\" & <tagged>"
	inv.Description = "line one\nline two\ttabbed; ünïcödé"
	inv.Amount = dec("1.50")
	inv.Currency = "EUR"
	inv.SenderCurrency = "ETH"
	inv.SenderAmount = dec("0.123456789012345678")
	inv.Rate = dec("2512.34567891")
	inv.Quotes = []invoice.Quote{
		{Currency: "BTC", Rate: dec("91234.56"), Amount: dec("0.00001645")},
		{Currency: "ETH", Rate: dec("2512.34567891"), Amount: dec("0.123456789012345678")},
		{Currency: "USDT", Rate: dec("0.999800"), Amount: dec("123456789012.12")},
	}
	inv.FixedAt = base.Add(time.Microsecond)
	inv.ExpiresAt = base.Add(15*time.Minute + 999999*time.Microsecond)
	inv.Deposit = invoice.Address{Address: "0x52908400098527886E0F7030069857D2E4169EE7", Tag: "memo-7",
		Path: "m/44'/60'/0'/0/7"}
	inv.Email = "buyer@example.com"
	inv.URLSuccess = "https://shop.example/ok?order=42&x=%20"
	inv.URLFailed = "https://shop.example/failed"
	inv.Status = invoice.StatusProcessing
	inv.Error = "some reason"
	inv.Transactions = []invoice.Transaction{
		{
			Number: 42_000_001, TxID: "0xaaa1", Currency: "ETH", Amount: dec("0.100000000000000000"),
			Confirmations: 12, Status: invoice.TxConfirmed, Accounted: true, Flagged: true, Settled: true,
			SeenAt: base.Add(time.Minute), UpdatedAt: base.Add(2*time.Minute + time.Microsecond),
		},
		{
			Number: 42_000_002, TxID: "0xaaa2", Currency: "ETH", Amount: dec("0.023456789012345678"),
			Confirmations: 0, Status: invoice.TxNotConfirmed,
			SeenAt: base.Add(3 * time.Minute), UpdatedAt: base.Add(3 * time.Minute),
		},
		{
			Number: 42_000_003, TxID: "bc1qwrong", Currency: "BTC", Amount: dec("0.00000001"),
			Confirmations: 3, Status: invoice.TxCancelled, Accounted: false,
			SeenAt: time.Date(1999, 12, 31, 23, 59, 59, 999999000, time.UTC), UpdatedAt: base.Add(4 * time.Minute),
		},
	}
	inv.RefundClaims = []invoice.RefundClaim{
		{
			ID: testID(kindClaim, 1), Amount: dec("0.00000001"), Currency: "BTC", Reason: "wrong currency",
			TxIDs: []string{"bc1qwrong"}, TokenHash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
			Status: invoice.RefundPaid, Destination: "bc1qcustomer", PayoutRef: "payout-1",
			CreatedAt: base.Add(5 * time.Minute), RedeemedAt: base.Add(6 * time.Minute), PaidAt: base.Add(7 * time.Minute),
		},
		{
			ID: testID(kindClaim, 2), Amount: dec("0.023456789012345678"), Currency: "ETH", Reason: "overpaid",
			TxIDs: []string{"0xaaa1", "0xaaa2"}, TokenHash: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
			Status: invoice.RefundOpen, CreatedAt: base.Add(8 * time.Minute),
		},
	}
	inv.Deadline = base.Add(24 * time.Hour)
	inv.CreatedAt = base
	inv.UpdatedAt = base.Add(9*time.Minute + 123*time.Microsecond)
	return inv
}

// newDelivery returns a pending outbox record of inv on ch, due at `at`:
// a merchant callback with empty (non-nil) transaction and fee lists, a
// customer refund notice, or a refund payout.
func (f *fixture) newDelivery(inv *invoice.Invoice, ch invoice.Channel, seq int64, at time.Time) *invoice.Delivery {
	d := &invoice.Delivery{
		ID:            f.nextDeliveryID(),
		InvoiceID:     inv.ID,
		Channel:       ch,
		Seq:           seq,
		State:         invoice.DeliveryPending,
		CreatedAt:     at,
		NextAttemptAt: at,
	}
	switch ch {
	case invoice.ChannelMerchant:
		d.Callback = &invoice.Callback{
			ID:               inv.Number,
			ForeignID:        inv.ForeignID,
			Type:             "invoice",
			CryptoAddress:    invoice.CallbackAddress{ID: inv.Number},
			CurrencySent:     invoice.CallbackSent{Amount: invoice.Amount{Decimal: dec("0")}, RemainingAmount: invoice.Amount{Decimal: dec("0")}},
			CurrencyReceived: invoice.CallbackReceived{Currency: inv.Currency, Amount: invoice.Amount{Decimal: inv.Amount}},
			Transactions:     []invoice.CallbackTransaction{},
			Fees:             []invoice.CallbackFee{},
			Status:           inv.Status,
		}
	case invoice.ChannelPayout:
		d.Payout = &invoice.RefundPayout{
			ClaimID: testID(kindClaim, int(seq)), InvoiceID: inv.ID, ForeignID: inv.ForeignID,
			Amount: dec("0.50"), Currency: "BTC", Destination: "bc1qcustomer", Reason: "overpaid",
			RedeemedAt: at.Add(-time.Minute),
		}
	default:
		// No Token: the engine never gives one to a store.
		d.Notice = &invoice.RefundNotice{
			ClaimID: testID(kindClaim, int(seq)), InvoiceID: inv.ID, ForeignID: inv.ForeignID,
			Email: "buyer@example.com", Amount: dec("0.50"), Currency: "BTC", Reason: "overpaid",
		}
	}
	return d
}

// fullCallback is a merchant callback with every field and list set.
func fullCallback(inv *invoice.Invoice) *invoice.Callback {
	return &invoice.Callback{
		ID: inv.Number, ForeignID: inv.ForeignID, EndUserReference: "user-4711", Type: "invoice",
		CryptoAddress: invoice.CallbackAddress{ID: inv.Number, Currency: "ETH", ConvertTo: "EUR", Address: "0x5290", Tag: "7"},
		CurrencySent: invoice.CallbackSent{
			Currency:        "ETH",
			Amount:          invoice.Amount{Decimal: dec("0.123456789012345678")},
			RemainingAmount: invoice.Amount{Decimal: dec("0.00100000")},
		},
		CurrencyReceived: invoice.CallbackReceived{Currency: "EUR", Amount: invoice.Amount{Decimal: dec("123456789012.12")}},
		Transactions: []invoice.CallbackTransaction{
			{ID: 42_000_001, Currency: "ETH", TransactionType: "blockchain", Type: "deposit", Address: "0x5290", Tag: "7",
				Amount: invoice.Amount{Decimal: dec("0.1")}, TxID: "0xaaa1", Confirmations: 12, Status: invoice.TxConfirmed},
			{ID: 42_000_002, Currency: "ETH", TransactionType: "blockchain", Type: "deposit", Address: "0x5290",
				Amount: invoice.Amount{Decimal: dec("0.023456789012345678")}, TxID: "0xaaa2", Status: invoice.TxNotConfirmed},
		},
		Fees:      []invoice.CallbackFee{{Type: "network", Currency: "ETH", Amount: invoice.Amount{Decimal: dec("0.000021")}}},
		Error:     "Underpaid",
		Status:    invoice.StatusProcessing,
		FixedAt:   base.Unix(),
		ExpiresAt: base.Add(15 * time.Minute).Unix(),
	}
}

// attempt returns a distinct delivery attempt (microsecond durations, as
// every store can keep them).
func attempt(n int, err string) invoice.Attempt {
	a := invoice.Attempt{
		At:       base.Add(time.Duration(n) * time.Second),
		Duration: time.Duration(n)*time.Millisecond + 250*time.Microsecond,
	}
	if err != "" {
		a.StatusCode = 500
		a.Error = err
	}
	return a
}

// deliveryIDs returns the IDs of ds, sorted.
func deliveryIDs(ds []*invoice.Delivery) []uuid.UUID {
	ids := idsOf(ds)
	slices.SortFunc(ids, compareIDs)
	return ids
}

// idsOf returns the IDs of ds in the given order (nil when there are none).
func idsOf(ds []*invoice.Delivery) []uuid.UUID {
	var ids []uuid.UUID
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// invoiceIDs returns the IDs of invs in the given order (nil when there
// are none).
func invoiceIDs(invs []*invoice.Invoice) []uuid.UUID {
	var ids []uuid.UUID
	for _, inv := range invs {
		ids = append(ids, inv.ID)
	}
	return ids
}

func sortedIDs(ids ...uuid.UUID) []uuid.UUID {
	out := slices.Clone(ids)
	slices.SortFunc(out, compareIDs)
	return out
}

func compareIDs(a, b uuid.UUID) int { return bytes.Compare(a[:], b[:]) }
