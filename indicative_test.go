package invoice_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

func TestIndicativeQuoteMatchesConfirmation(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.RateSpreadPercent = dec("1")
		c.AcceptedCurrencies = []string{"BTC", "ETH"}
	})
	inv := create(t, h, invoice.CreateRequest{ForeignID: "o-1", Title: "T", Amount: dec("100"), Currency: "EUR"})
	q, err := h.Engine.IndicativeQuote(ctx, inv, "ETH")
	require.NoError(t, err)
	require.Equal(t, "2970", q.Rate.String(), "spread applied")

	again, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Empty(t, again.SenderCurrency, "nothing fixed")
	require.Equal(t, inv.Version, again.Version, "nothing stored")

	got, err := h.Engine.ConfirmPayment(ctx, "o-1", invoice.Confirmation{Currency: "ETH", Email: "a@example.com"})
	require.NoError(t, err)
	require.True(t, q.Amount.Equal(got.SenderAmount), "indicative %s, fixed %s", q.Amount, got.SenderAmount)

	_, err = h.Engine.IndicativeQuote(ctx, inv, "LTC")
	require.ErrorIs(t, err, invoice.ErrRate, "not accepted")
	require.Equal(t, []string{"BTC", "ETH"}, h.Engine.AcceptedCurrencies())
	cur, ok := h.Engine.Currency("ETH")
	require.True(t, ok)
	require.EqualValues(t, 18, cur.Precision)
	_, ok = h.Engine.Currency("XXX")
	require.False(t, ok)
}
