package storetest

import (
	"errors"
	"strings"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

// Hostile input: what no store can keep exactly (NUL, invalid UTF-8,
// decimals out of bounds) is refused by every store alike, with an error
// matching invoice.ErrValidation and nothing stored; unusual but valid text
// comes back byte for byte.

func hostileCases() []testCase {
	return []testCase{
		{"CreateRefusesUnstorableText", testCreateRefusesUnstorableText},
		{"CreateRefusesDecimalsOutOfBounds", testCreateRefusesDecimalsOutOfBounds},
		{"UpdateRefusesUnstorable", testUpdateRefusesUnstorable},
		{"LookupByUnstorableKeyIsNotFound", testLookupByUnstorableKey},
		{"SettleRefusesUnstorableAttempt", testSettleRefusesUnstorableAttempt},
		{"UnusualTextRoundTrips", testUnusualTextRoundTrips},
		{"DecimalsAtTheBoundsRoundTrip", testDecimalsAtTheBounds},
	}
}

// unstorable are strings PostgreSQL text and jsonb cannot hold and JSON
// encoders alter: NUL, a stray byte, a surrogate half, a truncated rune.
var unstorable = map[string]string{
	"nul":       "a\x00b",
	"bad byte":  "a\xffb",
	"surrogate": "\xed\xa0\x80",
	"truncated": "caf\xc3",
}

// textFields set one string of an invoice, nested ones included.
var textFields = map[string]func(inv *invoice.Invoice, s string){
	"foreign_id":         func(inv *invoice.Invoice, s string) { inv.ForeignID = s },
	"end_user_reference": func(inv *invoice.Invoice, s string) { inv.EndUserReference = s },
	"title":              func(inv *invoice.Invoice, s string) { inv.Title = s },
	"description":        func(inv *invoice.Invoice, s string) { inv.Description = s },
	"email":              func(inv *invoice.Invoice, s string) { inv.Email = s },
	"url_success":        func(inv *invoice.Invoice, s string) { inv.URLSuccess = s },
	"deposit.address":    func(inv *invoice.Invoice, s string) { inv.Deposit.Address = s },
	"deposit.tag":        func(inv *invoice.Invoice, s string) { inv.Deposit.Tag = s },
	"deposit.path":       func(inv *invoice.Invoice, s string) { inv.Deposit.Path = s },
	"checkout_token":     func(inv *invoice.Invoice, s string) { inv.CheckoutToken = s },
	"error":              func(inv *invoice.Invoice, s string) { inv.Error = s },
	"transactions.txid": func(inv *invoice.Invoice, s string) {
		inv.Transactions = []invoice.Transaction{{Number: 1, TxID: s, Currency: "BTC", Amount: dec("0.1"),
			Status: invoice.TxNotConfirmed, SeenAt: base, UpdatedAt: base}}
	},
	"refund_claims.destination": func(inv *invoice.Invoice, s string) {
		inv.RefundClaims = []invoice.RefundClaim{{ID: testID(kindClaim, 1), Amount: dec("0.1"), Currency: "BTC",
			Reason: "r", TokenHash: "h", Status: invoice.RefundRedeemed, Destination: s, CreatedAt: base}}
	},
}

func requireValidation(f *fixture, err error, msg string) {
	f.t.Helper()
	require.Error(f.t, err, msg)
	assert.True(f.t, errors.Is(err, invoice.ErrValidation), "%s: want an error matching ErrValidation, got %v", msg, err)
}

func (f *fixture) requireNothingStored() {
	f.t.Helper()
	all, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 100})
	require.NoError(f.t, err)
	require.Empty(f.t, all, "a refused invoice is not stored")
}

func testCreateRefusesUnstorableText(f *fixture) {
	for field, set := range textFields {
		for kind, s := range unstorable {
			inv := f.newInvoice()
			set(inv, s)
			err := f.s.CreateInvoice(ctx(), inv)
			requireValidation(f, err, field+" with "+kind)
			assert.Zero(f.t, inv.Number, "%s with %s: Number unchanged", field, kind)
			assert.Zero(f.t, inv.Version, "%s with %s: Version unchanged", field, kind)
		}
	}
	f.requireNothingStored()
	// The store still works.
	f.create()
}

func testCreateRefusesDecimalsOutOfBounds(f *fixture) {
	huge := decimal.RequireFromString(strings.Repeat("9", invoice.MaxStoredDigits+1))
	cases := map[string]func(*invoice.Invoice){
		"10,050 fraction digits": func(inv *invoice.Invoice) { inv.Amount = decimal.New(1, -10050) },
		"scale past the bound":   func(inv *invoice.Invoice) { inv.SenderAmount = decimal.New(1, -invoice.MaxStoredScale-1) },
		"too many digits":        func(inv *invoice.Invoice) { inv.Rate = huge },
		"positive exponent":      func(inv *invoice.Invoice) { inv.Amount = decimal.New(15, 2) },
		"transaction amount":     textAndAmount(decimal.New(1, -10050)),
		"huge positive exponent": func(inv *invoice.Invoice) { inv.Amount = decimal.New(1, 100000) },
		"quote with a bad amount": func(inv *invoice.Invoice) {
			inv.Quotes = []invoice.Quote{{Currency: "BTC", Rate: dec("1"), Amount: huge}}
		},
	}
	for name, mod := range cases {
		inv := f.newInvoice(mod)
		requireValidation(f, f.s.CreateInvoice(ctx(), inv), name)
	}
	f.requireNothingStored()
}

func textAndAmount(d decimal.Decimal) func(*invoice.Invoice) {
	return func(inv *invoice.Invoice) {
		inv.Transactions = []invoice.Transaction{{Number: 1, TxID: "tx", Currency: "BTC", Amount: d,
			Status: invoice.TxNotConfirmed, SeenAt: base, UpdatedAt: base}}
	}
}

func testUpdateRefusesUnstorable(f *fixture) {
	inv := f.create()
	for field, set := range textFields {
		if field == "foreign_id" {
			continue // checked below: a rename
		}
		cp := inv.Clone()
		set(cp, "x\x00y")
		requireValidation(f, f.s.UpdateInvoice(ctx(), cp, nil), field)
		assert.Equal(f.t, inv.Version, cp.Version, "%s: Version unchanged", field)
	}
	cp := inv.Clone()
	cp.ForeignID = "\xff"
	requireValidation(f, f.s.UpdateInvoice(ctx(), cp, nil), "foreign_id")
	cp = inv.Clone()
	cp.Amount = decimal.New(1, -10050)
	requireValidation(f, f.s.UpdateInvoice(ctx(), cp, nil), "amount")

	// An outbox record that cannot be stored refuses the whole update.
	cp = inv.Clone()
	cp.Title = "changed"
	d := f.newDelivery(cp, invoice.ChannelMerchant, 1, base)
	d.Callback.ForeignID = "a\xffb"
	requireValidation(f, f.s.UpdateInvoice(ctx(), cp, []*invoice.Delivery{d}), "callback")
	d2 := f.newDelivery(cp, invoice.ChannelMerchant, 2, base)
	d2.Callback.CurrencySent.Amount = invoice.Amount{Decimal: decimal.New(1, -10050)}
	requireValidation(f, f.s.UpdateInvoice(ctx(), cp, []*invoice.Delivery{d2}), "callback amount")

	got := f.get(inv.ID)
	assert.Equal(f.t, inv.Version, got.Version, "nothing was stored")
	assert.Equal(f.t, "Order", got.Title)
	ds, err := f.s.ListDeliveries(ctx(), invoice.DeliveryQuery{InvoiceID: inv.ID, Limit: 10})
	require.NoError(f.t, err)
	assert.Empty(f.t, ds, "no outbox record was stored")
	f.update(inv) // and a valid update still works
}

func testLookupByUnstorableKey(f *fixture) {
	f.create()
	for kind, s := range unstorable {
		_, err := f.s.GetInvoiceByForeignID(ctx(), s)
		assert.True(f.t, errors.Is(err, invoice.ErrNotFound), "by foreign_id, %s: want ErrNotFound, got %v", kind, err)
		_, err = f.s.GetInvoiceByCheckoutToken(ctx(), s)
		assert.True(f.t, errors.Is(err, invoice.ErrNotFound), "by checkout token, %s: want ErrNotFound, got %v", kind, err)
		_, err = f.s.GetInvoiceByAddress(ctx(), s)
		assert.True(f.t, errors.Is(err, invoice.ErrNotFound), "by address, %s: want ErrNotFound, got %v", kind, err)
		_, err = f.s.NextSequence(ctx(), s)
		assert.True(f.t, errors.Is(err, invoice.ErrValidation), "sequence named with %s: want ErrValidation, got %v", kind, err)
	}
}

func testSettleRefusesUnstorableAttempt(f *fixture) {
	inv := f.create()
	d := f.newDelivery(inv, invoice.ChannelMerchant, 1, base)
	f.update(inv, d)
	held := f.claimOne(base, d)
	bad := attempt(1, "receiver said \x00")
	requireValidation(f, f.s.AckDelivery(ctx(), held.ID, held.LeaseID, bad), "ack")
	requireValidation(f, f.s.RescheduleDelivery(ctx(), held.ID, held.LeaseID, attempt(1, "\xff"), base, false), "reschedule")
	// Nothing happened: the lease still holds and a good attempt settles it.
	require.NoError(f.t, f.s.AckDelivery(ctx(), held.ID, held.LeaseID, attempt(1, "")))
	got := f.getDelivery(d.ID)
	assert.Equal(f.t, invoice.DeliveryDelivered, got.State)
	assert.Len(f.t, got.Attempts, 1)
}

// unusual is valid text that stores must keep byte for byte: controls
// (the engine refuses most of them, a store does not), escapes JSON
// encoders treat specially, non-BMP runes, U+FFFD itself, combining
// marks (no normalization) and right-to-left text.
var unusual = []string{
	"tab\there\nnew line\r\x01\x1f\x7f",
	`quote " backslash \ slash / <tag> & amp`,
	"emoji 😀 é e\u0301 \ufffd \u2028\u2029 \u200b",
	"عربى עברית",
	"\\u0000 not a NUL",
}

func testUnusualTextRoundTrips(f *fixture) {
	for i, s := range unusual {
		want := f.newInvoice(func(inv *invoice.Invoice) {
			inv.ForeignID = s + string(rune('A'+i))
			inv.Title, inv.Description, inv.EndUserReference, inv.Email = s, s, s, s
			inv.Deposit = invoice.Address{Address: s, Tag: s}
			inv.Transactions = []invoice.Transaction{{Number: 1, TxID: s, Currency: "BTC", Amount: dec("0.1"),
				Status: invoice.TxNotConfirmed, SeenAt: base, UpdatedAt: base}}
		})
		require.NoError(f.t, f.s.CreateInvoice(ctx(), want))
		got, err := f.s.GetInvoiceByForeignID(ctx(), want.ForeignID)
		require.NoError(f.t, err, "look-up by %q", want.ForeignID)
		assert.Equal(f.t, want.ID, got.ID)
		for name, pair := range map[string][2]string{
			"title": {want.Title, got.Title}, "description": {want.Description, got.Description},
			"end_user_reference": {want.EndUserReference, got.EndUserReference}, "email": {want.Email, got.Email},
			"address": {want.Deposit.Address, got.Deposit.Address}, "tag": {want.Deposit.Tag, got.Deposit.Tag},
		} {
			assert.Equal(f.t, []byte(pair[0]), []byte(pair[1]), "%s of %q", name, s)
		}
		require.Len(f.t, got.Transactions, 1)
		assert.Equal(f.t, []byte(s), []byte(got.Transactions[0].TxID), "txid %q", s)
		if got.Transaction(s) == nil {
			f.t.Errorf("transaction %q is not found by its txid after a round trip", s)
		}
		// A callback with the same text comes back the same.
		d := f.newDelivery(got, invoice.ChannelMerchant, int64(i+1), base)
		d.Callback.ForeignID, d.Callback.EndUserReference = s, s
		d.Callback.Transactions = []invoice.CallbackTransaction{{ID: 1, Currency: "BTC", TransactionType: "blockchain",
			Type: "deposit", Address: s, Tag: s, Amount: invoice.Amount{Decimal: dec("0.1")}, TxID: s}}
		f.update(got, d)
		back := f.getDelivery(d.ID)
		assert.Equal(f.t, []byte(s), []byte(back.Callback.ForeignID))
		assert.Equal(f.t, []byte(s), []byte(back.Callback.Transactions[0].TxID))
	}
}

func testDecimalsAtTheBounds(f *fixture) {
	long := strings.Repeat("7", invoice.MaxStoredDigits)
	edge := []decimal.Decimal{
		decimal.New(1, -invoice.MaxStoredScale),
		decimal.RequireFromString(long),
		decimal.RequireFromString(long[:invoice.MaxStoredDigits-invoice.MaxStoredScale] + "." + long[:invoice.MaxStoredScale]),
		decimal.RequireFromString("0." + strings.Repeat("0", invoice.MaxStoredScale-1)),
	}
	for _, d := range edge {
		want := f.newInvoice(func(inv *invoice.Invoice) {
			inv.Amount, inv.SenderAmount, inv.Rate = d, d, d
			inv.Transactions = []invoice.Transaction{{Number: 1, TxID: "tx", Currency: "BTC", Amount: d,
				Status: invoice.TxNotConfirmed, SeenAt: base, UpdatedAt: base}}
		})
		require.NoError(f.t, f.s.CreateInvoice(ctx(), want), "amount %s", d)
		got := f.get(want.ID)
		for name, g := range map[string]decimal.Decimal{"amount": got.Amount, "sender_amount": got.SenderAmount,
			"rate": got.Rate, "transaction": got.Transactions[0].Amount} {
			assert.True(f.t, d.Equal(g) && d.Exponent() == g.Exponent(), "%s: stored %s (exp %d), got %s (exp %d)",
				name, d, d.Exponent(), g, g.Exponent())
		}
	}
	// A listing reads them all.
	all, err := f.s.ListInvoices(ctx(), invoice.ListQuery{Limit: 100})
	require.NoError(f.t, err)
	assert.Len(f.t, all, len(edge))
}
