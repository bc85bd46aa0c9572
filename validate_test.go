package invoice_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/storetest"
)

// The hostile-input scenarios of storetest on the default store, with the
// default configuration (UUIDv7 IDs from crypto/rand, system clock aside).
func TestHostileInputOnMemstore(t *testing.T) {
	storetest.RunHostileEngine(t, func(t *testing.T) invoice.Store { return memstore.New() })
}

func TestRefundDestinationIsValidatedAsText(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx1", "0.002", invoice.TxConfirmed) // overpaid: a refund claim
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	notices := h.Customers.Notices("o-1")
	require.Len(t, notices, 1)
	token := notices[0].Token
	var verr *invoice.ValidationError
	for name, addr := range map[string]string{
		"invalid UTF-8": "bc1q\xffxyz", "NUL": "bc1q\x00xyz", "control": "bc1q\x1bxyz",
		"inner space": "bc1q xyz", "empty": "", "too long": strings.Repeat("a", 256),
		"zero-width space": "bc1q\u200bxyz", "C1": "bc1q\u0085xyz",
	} {
		_, err := h.Engine.RedeemRefundClaim(ctx, token, addr)
		require.ErrorAs(t, err, &verr, name)
		assert.NotEmpty(t, verr.Field("address"), name)
	}
	// Nothing was stored: the claim still redeems, with a valid address kept exactly.
	rc, err := h.Engine.RedeemRefundClaim(ctx, token, "bc1qvalid")
	require.NoError(t, err)
	assert.Equal(t, "bc1qvalid", rc.Destination)

	// The payout reference is text too.
	for _, ref := range []string{"tx\x00", "tx\xff", "tx\n", strings.Repeat("r", 256)} {
		_, err = h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, ref)
		require.ErrorAs(t, err, &verr, "%q", ref)
		assert.NotEmpty(t, verr.Field("payout_ref"))
	}
	paid, err := h.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "payout/é-1")
	require.NoError(t, err)
	assert.Equal(t, "payout/é-1", paid.PayoutRef)
}

func TestTimerInvoiceQuotesTheCurrenciesWithARate(t *testing.T) {
	// No LTC rate: the invoice is created with the other quotes.
	rates := invoice.MustStaticRates("BTC/EUR=60000", "ETH/EUR=3000")
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Rates = rates
		c.AcceptedCurrencies = []string{"LTC", "ETH", "BTC"}
	})
	inv, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o-1", Title: "t", Amount: dec("100"),
		Currency: "EUR", Timer: true})
	require.NoError(t, err)
	var got []string
	for _, q := range inv.Quotes {
		got = append(got, q.Currency)
	}
	assert.Equal(t, []string{"BTC", "ETH"}, got, "sorted by currency, LTC left out")
	_, err = h.Engine.ConfirmPayment(ctx, "o-1", invoice.Confirmation{Currency: "LTC", Email: "c@example.com"})
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr, "no quote for LTC")

	// No rate at all: refused, and the rate error is said once.
	h = invoicetest.New(t, func(c *invoice.Config) { c.Rates = invoice.StaticRates{} })
	_, err = h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o-2", Title: "t", Amount: dec("100"),
		Currency: "EUR", Timer: true})
	require.ErrorIs(t, err, invoice.ErrRate)
	assert.Equal(t, 1, strings.Count(err.Error(), "no rate for BTC/EUR"), err.Error())
	assert.LessOrEqual(t, strings.Count(err.Error(), "no usable rate"), strings.Count(err.Error(), "no rate for"),
		"no doubled prefix: %s", err)
	_, err = h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o-3", Title: "t", Amount: dec("100"),
		Currency: "EUR", Timer: true, SenderCurrency: "BTC"})
	require.ErrorIs(t, err, invoice.ErrRate)
	assert.Equal(t, 1, strings.Count(err.Error(), "no usable rate"), err.Error())
}

func TestIdempotentCreateComparesEveryField(t *testing.T) {
	h := invoicetest.New(t)
	req := typ3("o-1")
	first := create(t, h, req)
	again, err := h.Engine.Create(ctx, req)
	require.NoError(t, err, "an identical retry answers with the invoice")
	assert.Equal(t, first.ID, again.ID)
	for name, mod := range map[string]func(*invoice.CreateRequest){
		"e-mail omitted":     func(r *invoice.CreateRequest) { r.Email = "" },
		"e-mail changed":     func(r *invoice.CreateRequest) { r.Email = "other@example.com" },
		"amount changed":     func(r *invoice.CreateRequest) { r.Amount = dec("100.01") },
		"reference added":    func(r *invoice.CreateRequest) { r.EndUserReference = "u" },
		"description added":  func(r *invoice.CreateRequest) { r.Description = "d" },
		"mode changed":       func(r *invoice.CreateRequest) { r.Mode = invoice.ModeGoodUntilExpired },
		"url changed":        func(r *invoice.CreateRequest) { r.URLSuccess = "https://shop.example/x" },
		"currency changed":   func(r *invoice.CreateRequest) { r.SenderCurrency = "ETH" },
		"timer type changed": func(r *invoice.CreateRequest) { r.SenderCurrency = "" },
	} {
		r := req
		mod(&r)
		_, err := h.Engine.Create(ctx, r)
		require.ErrorIs(t, err, invoice.ErrDuplicate, name)
	}
	// Trailing zeros are the same amount.
	r := req
	r.Amount = dec("100.000")
	_, err = h.Engine.Create(ctx, r)
	require.NoError(t, err)
}

func TestConfigRefusesUnprintableCurrencyCodes(t *testing.T) {
	for _, code := range []string{"B\x00TC", "BT C", "\xff", "B\nTC"} {
		_, err := invoicetest.NewHarness(func(c *invoice.Config) {
			c.Currencies = append(invoice.DefaultCurrencies(), invoice.Currency{Code: code, Precision: 8, Crypto: true})
		})
		require.ErrorIs(t, err, invoice.ErrConfig, "%q", code)
	}
}

// FuzzCreateText feeds arbitrary text to every create field: the engine
// either refuses it with a ValidationError naming fields, or stores it and
// gives back exactly what was sent.
func FuzzCreateText(f *testing.F) {
	for _, s := range []string{"order-1", "a\x00b", "a\xffb", "é/😀", "line\nbreak", "\u2028", "<&>\"\\", ""} {
		f.Add(s, s, s)
	}
	h := invoicetest.New(f)
	f.Fuzz(func(t *testing.T, foreignID, title, reference string) {
		req := invoice.CreateRequest{ForeignID: foreignID, Title: title, EndUserReference: reference,
			Description: reference, Amount: dec("10"), Currency: "EUR"}
		inv, err := h.Engine.Create(ctx, req)
		if err != nil {
			var verr *invoice.ValidationError
			require.ErrorAs(t, err, &verr)
			require.NotEmpty(t, verr.Fields)
			return
		}
		for _, s := range []string{foreignID, title, reference} {
			require.True(t, utf8.ValidString(s) && invoice.ValidText(s), "accepted %q", s)
		}
		require.NoError(t, inv.CheckStorable())
		got, err := h.Engine.Get(ctx, foreignID)
		require.NoError(t, err)
		require.Equal(t, []byte(foreignID), []byte(got.ForeignID))
		require.Equal(t, []byte(title), []byte(got.Title))
		require.Equal(t, []byte(reference), []byte(got.EndUserReference))
		require.Equal(t, inv.ID, got.ID)
	})
}

// FuzzAmount feeds arbitrary decimals (coefficient text and exponent) as
// invoice amounts in EUR (2 places) and as BTC transaction amounts (8):
// accepted amounts keep their value, fit the precision and the magnitude
// bound, and can be stored; the rest are refused on "amount".
func FuzzAmount(f *testing.F) {
	f.Add("100", int32(0))
	f.Add("1", int32(-10050))
	f.Add("15", int32(2))
	f.Add("1000", int32(-5))
	f.Add("99999999999999999999", int32(-2))
	f.Add("-5", int32(0))
	f.Add("123456789", int32(-1_000_000_000))
	h := invoicetest.New(f)
	n := 0
	f.Fuzz(func(t *testing.T, coef string, exp int32) {
		c, err := decimal.NewFromString(coef)
		if err != nil || len(coef) > 300 {
			return
		}
		amount := decimal.NewFromBigInt(c.Coefficient(), exp)
		n++
		req := invoice.CreateRequest{ForeignID: "f-" + decimal.NewFromInt(int64(n)).String(), Title: "t",
			Amount: amount, Currency: "EUR"}
		inv, err := h.Engine.Create(ctx, req)
		if err != nil {
			var verr *invoice.ValidationError
			require.ErrorAs(t, err, &verr)
			require.NotEmpty(t, verr.Field("amount"), "%s: %v", amount, err)
			return
		}
		require.True(t, inv.Amount.Equal(amount), "value kept")
		require.GreaterOrEqual(t, inv.Amount.Exponent(), int32(-2))
		require.LessOrEqual(t, inv.Amount.Exponent(), int32(0))
		require.True(t, inv.Amount.LessThan(decimal.New(1, invoice.MaxAmountDigits)))
		require.NoError(t, inv.CheckStorable())
	})
}

// FuzzTransactionReport feeds arbitrary txids and amounts to a report:
// refused ones change nothing; accepted ones are recorded once, however
// often repeated.
func FuzzTransactionReport(f *testing.F) {
	f.Add("tx1", "0.001", int64(0), uint8(1))
	f.Add("a\xffb", "0.001", int64(1), uint8(2))
	f.Add("tx\x00", "0.000000001", int64(0), uint8(2))
	f.Add("é", "0.00100000000", int64(3), uint8(2))
	f.Fuzz(func(t *testing.T, txid, amount string, conf int64, status uint8) {
		a, err := decimal.NewFromString(amount)
		if err != nil || len(amount) > 300 {
			return
		}
		h := invoicetest.New(t)
		create(t, h, typ3("o-1"))
		r := invoice.TransactionReport{TxID: txid, Currency: "BTC", Amount: a, Confirmations: conf,
			Status: invoice.TxStatus(status)}
		_, err = h.Engine.ReportTransaction(ctx, "o-1", r)
		got, getErr := h.Engine.Get(ctx, "o-1")
		require.NoError(t, getErr)
		if err != nil {
			var verr *invoice.ValidationError
			require.ErrorAs(t, err, &verr)
			require.Empty(t, got.Transactions, "a refused report records nothing")
			return
		}
		require.True(t, invoice.ValidText(txid))
		require.Len(t, got.Transactions, 1)
		require.True(t, got.Transactions[0].Amount.Equal(a))
		_, err = h.Engine.ReportTransaction(ctx, "o-1", r)
		require.NoError(t, err, "a repeat is no contradiction")
		got, err = h.Engine.Get(ctx, "o-1")
		require.NoError(t, err)
		require.Len(t, got.Transactions, 1, "a repeat is not counted again")
	})
}
