package invoice_test

import (
	"context"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

var ctx = context.Background()

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// typ3 is a timer invoice with a pre-selected BTC currency and an e-mail:
// pending at creation. 100 EUR at 60,000 EUR/BTC = 0.00166667 BTC.
func typ3(foreignID string) invoice.CreateRequest {
	return invoice.CreateRequest{
		ForeignID:      foreignID,
		Title:          "Order " + foreignID,
		Amount:         dec("100"),
		Currency:       "EUR",
		Timer:          true,
		SenderCurrency: "BTC",
		Email:          "customer@example.com",
	}
}

func create(t *testing.T, h *invoicetest.Harness, req invoice.CreateRequest) *invoice.Invoice {
	t.Helper()
	inv, err := h.Engine.Create(ctx, req)
	require.NoError(t, err)
	return inv
}

func report(t *testing.T, h *invoicetest.Harness, foreignID, txid, amount string, st invoice.TxStatus) *invoice.Invoice {
	t.Helper()
	return reportIn(t, h, foreignID, txid, "BTC", amount, st)
}

func reportIn(t *testing.T, h *invoicetest.Harness, foreignID, txid, currency, amount string, st invoice.TxStatus) *invoice.Invoice {
	t.Helper()
	conf := int64(0)
	if st == invoice.TxConfirmed {
		conf = 3
	}
	inv, err := h.Engine.ReportTransaction(ctx, foreignID, invoice.TransactionReport{
		TxID: txid, Currency: currency, Amount: dec(amount), Confirmations: conf, Status: st,
	})
	require.NoError(t, err)
	return inv
}

// deliver delivers everything due and returns the statuses the merchant
// received for the invoice so far.
func deliver(t *testing.T, h *invoicetest.Harness, foreignID string) []invoice.Status {
	t.Helper()
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	return h.Merchant.Statuses(foreignID)
}

func sweepAfter(t *testing.T, h *invoicetest.Harness, d time.Duration) int {
	t.Helper()
	h.Clock.Advance(d)
	n, err := h.Engine.Sweep(ctx)
	require.NoError(t, err)
	return n
}

func statuses(s ...invoice.Status) []invoice.Status { return s }

const (
	created    = invoice.StatusCreated
	pending    = invoice.StatusPending
	processing = invoice.StatusProcessing
	confirmed  = invoice.StatusConfirmed
	failed     = invoice.StatusFailed
)
