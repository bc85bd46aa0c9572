package storetest

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// RunHostileEngine runs an Engine on stores from newStore and feeds it
// hostile input, as merchants' systems and attackers send it: NUL, invalid
// UTF-8 and control characters in every field, decimals out of bounds,
// contradictory reports and look-ups by keys no store can hold. Every
// store must give the same outcomes: the engine refuses such input with a
// *invoice.ValidationError naming the field before any store sees it, and
// unusual but valid input is kept exactly.
func RunHostileEngine(t *testing.T, newStore func(t *testing.T) invoice.Store) {
	t.Helper()
	for name, fn := range map[string]func(*testing.T, *invoicetest.Harness){
		"CreateRefusesHostileText":     testEngineCreateText,
		"CreateRefusesBadAmounts":      testEngineCreateAmounts,
		"ReportRefusesHostileInput":    testEngineReport,
		"LookupsByHostileKeysNotFound": testEngineLookups,
		"UnusualValidTextIsKept":       testEngineUnusualText,
	} {
		t.Run(name, func(t *testing.T) {
			h := invoicetest.New(t, func(c *invoice.Config) { c.Store = newStore(t) })
			fn(t, h)
		})
	}
}

var bg = context.Background()

func goodRequest(foreignID string) invoice.CreateRequest {
	return invoice.CreateRequest{
		ForeignID: foreignID, Title: "Order", Amount: dec("100"), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
		URLSuccess: "https://shop.example/ok", URLFailed: "https://shop.example/failed",
	}
}

// hostileText are values every single-line field refuses.
var hostileText = map[string]string{
	"NUL":           "a\x00b",
	"invalid UTF-8": "a\xffb",
	"surrogate":     "a\xed\xa0\x80b",
	"control":       "a\x1bb",
	"DEL":           "a\x7fb",
	"C1 control":    "a\u0085b",
	"line separ.":   "a\u2028b",
	"newline":       "a\nb",
}

func requireField(t *testing.T, err error, field, msg string) {
	t.Helper()
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr, msg)
	require.NotEmpty(t, verr.Field(field), "%s: want an error on %s, got %v", msg, field, err)
}

func requireNoInvoices(t *testing.T, h *invoicetest.Harness) {
	t.Helper()
	page, err := h.Engine.List(bg, invoice.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, page.Invoices, "nothing is stored")
}

func testEngineCreateText(t *testing.T, h *invoicetest.Harness) {
	fields := map[string]func(*invoice.CreateRequest, string){
		"foreign_id":         func(r *invoice.CreateRequest, s string) { r.ForeignID = s },
		"end_user_reference": func(r *invoice.CreateRequest, s string) { r.EndUserReference = s },
		"title":              func(r *invoice.CreateRequest, s string) { r.Title = s },
		"currency":           func(r *invoice.CreateRequest, s string) { r.Currency = s },
		"sender_currency":    func(r *invoice.CreateRequest, s string) { r.SenderCurrency = s },
		"url_success":        func(r *invoice.CreateRequest, s string) { r.URLSuccess = "https://shop.example/" + s },
		"url_failed":         func(r *invoice.CreateRequest, s string) { r.URLFailed = "https://shop.example/?q=" + s },
		"email_user":         func(r *invoice.CreateRequest, s string) { r.Email = `"` + s + `"@example.com` },
	}
	for field, set := range fields {
		for kind, s := range hostileText {
			req := goodRequest("o-1")
			set(&req, s)
			_, err := h.Engine.Create(bg, req)
			requireField(t, err, field, field+" with "+kind)
		}
	}
	// The description may hold newlines and tabs, nothing else.
	for kind, s := range hostileText {
		if kind == "newline" {
			continue
		}
		req := goodRequest("o-1")
		req.Description = s
		_, err := h.Engine.Create(bg, req)
		requireField(t, err, "description", "description with "+kind)
	}
	requireNoInvoices(t, h)
	req := goodRequest("o-1")
	req.Description = "line one\nline two\r\n\tindented"
	inv, err := h.Engine.Create(bg, req)
	require.NoError(t, err)
	got, err := h.Engine.Get(bg, "o-1")
	require.NoError(t, err)
	assert.Equal(t, inv.Description, got.Description)
}

func testEngineCreateAmounts(t *testing.T, h *invoicetest.Harness) {
	bad := map[string]decimal.Decimal{
		"10,050 fraction digits":        decimal.New(1, -10050),
		"10,001 trailing zeros":         decimal.NewFromBigInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(10001), nil), -10001),
		"past the precision":            dec("100.001"),
		"at the magnitude bound":        decimal.New(1, invoice.MaxAmountDigits),
		"huge exponent":                 decimal.New(1, 1_000_000),
		"tiny exponent":                 decimal.New(1, -1_000_000_000),
		"negative":                      dec("-1"),
		"zero with many fraction zeros": decimal.New(0, -10050),
	}
	for name, amount := range bad {
		req := goodRequest("o-1")
		req.Amount = amount
		_, err := h.Engine.Create(bg, req)
		requireField(t, err, "amount", name)
	}
	requireNoInvoices(t, h)

	// Trailing zeros past the precision say nothing: dropped.
	req := goodRequest("o-1")
	req.Amount = dec("100.0000")
	inv, err := h.Engine.Create(bg, req)
	require.NoError(t, err)
	assert.Equal(t, "100.00", inv.Amount.StringFixedBank(2))
	assert.GreaterOrEqual(t, inv.Amount.Exponent(), int32(-2), "stored within the precision")

	// The largest amount accepted.
	req = goodRequest("o-2")
	req.Amount = dec(strings.Repeat("9", invoice.MaxAmountDigits) + ".99")
	big, err := h.Engine.Create(bg, req)
	require.NoError(t, err)
	got, err := h.Engine.Get(bg, "o-2")
	require.NoError(t, err)
	assert.True(t, big.Amount.Equal(got.Amount))
	page, err := h.Engine.List(bg, invoice.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, page.Invoices, 2)
}

func testEngineReport(t *testing.T, h *invoicetest.Harness) {
	inv, err := h.Engine.Create(bg, goodRequest("o-1"))
	require.NoError(t, err)
	rep := func(txid, currency string, amount decimal.Decimal, conf int64, st invoice.TxStatus) error {
		_, err := h.Engine.ReportTransaction(bg, "o-1", invoice.TransactionReport{
			TxID: txid, Currency: currency, Amount: amount, Confirmations: conf, Status: st})
		return err
	}
	half := dec("0.00083334")
	for kind, s := range hostileText {
		// Twice, as a chain watcher retrying would: never counted.
		for range 2 {
			requireField(t, rep("tx"+s, "BTC", half, 1, invoice.TxConfirmed), "txid", "txid with "+kind)
		}
	}
	requireField(t, rep("tx", "BTC", decimal.New(1, -10050), 0, invoice.TxNotConfirmed), "amount", "10,050 digits")
	requireField(t, rep("tx", "BTC", dec("0.000000001"), 0, invoice.TxNotConfirmed), "amount", "past BTC precision")
	requireField(t, rep("tx", "BTC", decimal.New(1, invoice.MaxAmountDigits), 0, invoice.TxNotConfirmed), "amount", "too large")
	requireField(t, rep("tx", "EUR", dec("1"), 0, invoice.TxNotConfirmed), "currency", "a fiat currency")
	requireField(t, rep("tx", "BTC\x00", dec("1"), 0, invoice.TxNotConfirmed), "currency", "NUL currency")
	requireField(t, rep("tx", "BTC", half, 0, invoice.TxConfirmed), "confirmations", "confirmed with 0 confirmations")
	requireField(t, rep("tx", "BTC", half, -1, invoice.TxNotConfirmed), "confirmations", "negative confirmations")

	got, err := h.Engine.Get(bg, "o-1")
	require.NoError(t, err)
	assert.Empty(t, got.Transactions, "nothing was recorded")
	assert.Equal(t, inv.Version, got.Version)

	// Trailing zeros are dropped, so a repeat with fewer of them is the
	// same transaction, not a contradiction.
	require.NoError(t, rep("tx-a", "BTC", dec("0.001666670000"), 0, invoice.TxNotConfirmed))
	require.NoError(t, rep("tx-a", "BTC", dec("0.00166667"), 2, invoice.TxConfirmed))
	got, err = h.Engine.Get(bg, "o-1")
	require.NoError(t, err)
	require.Len(t, got.Transactions, 1)
	assert.Equal(t, "0.00166667", got.Transactions[0].Amount.String())
	assert.Equal(t, invoice.StatusConfirmed, got.Status)
}

func testEngineLookups(t *testing.T, h *invoicetest.Harness) {
	_, err := h.Engine.Create(bg, goodRequest("o-1"))
	require.NoError(t, err)
	for kind, s := range unstorable {
		_, err := h.Engine.Get(bg, s)
		assert.True(t, errors.Is(err, invoice.ErrNotFound), "Get %s: %v", kind, err)
		_, err = h.Engine.Cancel(bg, s)
		assert.True(t, errors.Is(err, invoice.ErrNotFound), "Cancel %s: %v", kind, err)
		_, err = h.Engine.ConfirmPayment(bg, s, invoice.Confirmation{Currency: "BTC"})
		assert.True(t, errors.Is(err, invoice.ErrNotFound), "ConfirmPayment %s: %v", kind, err)
		_, err = h.Engine.ReportTransaction(bg, s, invoice.TransactionReport{TxID: "t", Currency: "BTC",
			Amount: dec("1"), Confirmations: 1, Status: invoice.TxConfirmed})
		assert.True(t, errors.Is(err, invoice.ErrNotFound), "ReportTransaction %s: %v", kind, err)
		_, err = h.Engine.FlagTransaction(bg, "o-1", s)
		assert.True(t, errors.Is(err, invoice.ErrNotFound), "FlagTransaction %s: %v", kind, err)
	}
	// The store still serves everything else: a sweep, a delivery round.
	h.Clock.Advance(time.Hour)
	n, err := h.Engine.Sweep(bg)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = h.Engine.DeliverDue(bg)
	require.NoError(t, err)
}

func testEngineUnusualText(t *testing.T, h *invoicetest.Harness) {
	values := []string{
		`slash / quote " backslash \ <b>&amp;</b>`,
		"é ü ß 😀 e\u0301 عربى",
		"\ufffd replacement char, zero\u200bwidth",
	}
	for i, s := range values {
		req := goodRequest(s)
		req.Title = string([]rune(s)[:min(50, len([]rune(s)))])
		req.EndUserReference = s
		req.Description = s
		_, err := h.Engine.Create(bg, req)
		require.NoError(t, err, "value %d", i)
		got, err := h.Engine.Get(bg, s)
		require.NoError(t, err, "value %d", i)
		assert.Equal(t, []byte(s), []byte(got.ForeignID))
		assert.Equal(t, []byte(s), []byte(got.EndUserReference))
		_, err = h.Engine.ReportTransaction(bg, s, invoice.TransactionReport{TxID: s, Currency: "BTC",
			Amount: dec("0.001"), Status: invoice.TxNotConfirmed})
		require.NoError(t, err)
		// The same txid again is a repeat, never a second payment.
		_, err = h.Engine.ReportTransaction(bg, s, invoice.TransactionReport{TxID: s, Currency: "BTC",
			Amount: dec("0.001"), Status: invoice.TxNotConfirmed})
		require.NoError(t, err)
		got, err = h.Engine.Get(bg, s)
		require.NoError(t, err)
		require.Len(t, got.Transactions, 1)
		assert.Equal(t, []byte(s), []byte(got.Transactions[0].TxID))
	}
	_, err := h.Engine.DeliverDue(bg)
	require.NoError(t, err)
	for _, s := range values {
		cbs := h.Merchant.Callbacks(s)
		require.NotEmpty(t, cbs)
		assert.Equal(t, []byte(s), []byte(cbs[len(cbs)-1].ForeignID))
	}
}
