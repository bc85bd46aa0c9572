package invoice_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFailedDeliveriesFollowTheRetryScheduleThenDie(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	h.Merchant.FailNext(1000)

	schedule := invoice.DefaultRetrySchedule()
	deliver(t, h, "o-1")
	assert.Equal(t, 1, h.Merchant.Attempts())
	for i, wait := range schedule {
		h.Clock.Advance(wait - time.Second)
		deliver(t, h, "o-1")
		assert.Equal(t, i+1, h.Merchant.Attempts(), "not before the scheduled wait")
		h.Clock.Advance(time.Second)
		deliver(t, h, "o-1")
		assert.Equal(t, i+2, h.Merchant.Attempts(), "retry %d after %s", i+1, wait)
	}
	h.Clock.Advance(24 * time.Hour)
	deliver(t, h, "o-1")
	assert.Equal(t, len(schedule)+1, h.Merchant.Attempts(), "dead after the last retry")

	dead, err := h.Engine.DeadDeliveries(ctx, [16]byte{}, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	assert.Len(t, dead[0].Attempts, len(schedule)+1)
	assert.Equal(t, invoice.DeliveryDead, dead[0].State)
	assert.Contains(t, dead[0].Attempts[0].Error, "refused")

	h.Merchant.FailNext(0)
	require.NoError(t, h.Engine.Redeliver(ctx, dead[0].ID))
	assert.Equal(t, statuses(failed), deliver(t, h, "o-1"))
	got, err := h.Engine.Delivery(ctx, dead[0].ID)
	require.NoError(t, err)
	assert.Equal(t, invoice.DeliveryDelivered, got.State)
	assert.Equal(t, dead[0].ID, h.Merchant.Deliveries()[0].ID, "the same delivery id")
}

func TestDeliveriesKeepOrderPerInvoiceAcrossRetries(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	report(t, h, "o-1", "tx", "0.00166667", invoice.TxNotConfirmed)
	report(t, h, "o-1", "tx", "0.00166667", invoice.TxConfirmed)
	h.Merchant.FailNext(3)
	for range 3 {
		deliver(t, h, "o-1")
		h.Clock.Advance(time.Hour)
	}
	assert.Equal(t, statuses(processing, confirmed), deliver(t, h, "o-1"))
	assert.Equal(t, 5, h.Merchant.Attempts(), "3 failures, then each callback once")
}

func TestDeliveryLogRecordsAttempts(t *testing.T) {
	h := invoicetest.New(t)
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	h.Merchant.FailNext(1)
	deliver(t, h, "o-1")
	h.Clock.Advance(time.Minute)
	deliver(t, h, "o-1")
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Len(t, ds[0].Attempts, 2)
	assert.Equal(t, invoicetest.Epoch, ds[0].Attempts[0].At)
	assert.NotEmpty(t, ds[0].Attempts[0].Error)
	assert.Equal(t, invoicetest.Epoch.Add(time.Minute), ds[0].Attempts[1].At)
	assert.Empty(t, ds[0].Attempts[1].Error)
	assert.Equal(t, invoice.DeliveryDelivered, ds[0].State)
}

func TestNotifierPanicIsAFailedAttempt(t *testing.T) {
	calls := 0
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.Notifier = invoice.NotifierFunc(func(context.Context, *invoice.Delivery) error {
			calls++
			if calls == 1 {
				panic("boom")
			}
			return nil
		})
	})
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	_, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	h.Clock.Advance(time.Minute)
	n, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

func TestRunDeliversAndStopsWithContext(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) { c.PollInterval = 10 * time.Millisecond })
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- h.Engine.Run(runCtx) }()
	create(t, h, typ3("o-1"))
	_, err := h.Engine.Cancel(ctx, "o-1")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(h.Merchant.Statuses("o-1")) == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	assert.NoError(t, <-done)
}

func TestCallbackWireFormat(t *testing.T) {
	h := invoicetest.New(t)
	req := typ3("o-1")
	req.EndUserReference = "user-7"
	create(t, h, req)
	report(t, h, "o-1", "tx1", "0.00166667", invoice.TxNotConfirmed)
	deliver(t, h, "o-1")
	cb := h.Merchant.Callbacks("o-1")[0]
	b, err := json.Marshal(cb)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, float64(1), m["id"])
	assert.Equal(t, "o-1", m["foreign_id"])
	assert.Equal(t, "user-7", m["end_user_reference"])
	assert.Equal(t, "invoice", m["type"])
	assert.Equal(t, "", m["error"])
	assert.Equal(t, "processing", m["status"])
	assert.Equal(t, float64(invoicetest.Epoch.Unix()), m["fixed_at"])
	// The current deadline: BTC's mempool is visible, so processing
	// extended it to the 24-hour processing window.
	assert.Equal(t, float64(invoicetest.Epoch.Add(24*time.Hour).Unix()), m["expires_at"])
	assert.Equal(t, map[string]any{"id": float64(1), "currency": "BTC", "address": "BTC-o-1", "tag": nil}, m["crypto_address"])
	assert.Equal(t, map[string]any{"currency": "BTC", "amount": "0.00166667", "remaining_amount": "0.00000000"}, m["currency_sent"])
	assert.Equal(t, map[string]any{"currency": "EUR", "amount": "100.00000000"}, m["currency_received"])
	assert.Equal(t, []any{}, m["fees"])
	txs := m["transactions"].([]any)
	require.Len(t, txs, 1)
	tx := txs[0].(map[string]any)
	assert.Equal(t, float64(1_000_001), tx["id"])
	assert.Equal(t, "0", tx["confirmations"])
	assert.Equal(t, "blockchain", tx["transaction_type"])
	assert.Equal(t, "deposit", tx["type"])
	assert.Equal(t, "0.00166667", tx["amount"])
	assert.Equal(t, "tx1", tx["txid"])
	assert.Equal(t, "BTC-o-1", tx["address"])

	var back invoice.Callback
	require.NoError(t, json.Unmarshal(b, &back))
	assert.True(t, back.CurrencySent.Amount.Equal(dec("0.00166667")))
	assert.Equal(t, processing, back.Status)
}

func TestAmountKeepsDigitsBeyondEight(t *testing.T) {
	b, err := json.Marshal(invoice.Amount{Decimal: dec("0.033333333333333334")})
	require.NoError(t, err)
	assert.Equal(t, `"0.033333333333333334"`, string(b))
	var a invoice.Amount
	require.NoError(t, json.Unmarshal([]byte(`12.5`), &a))
	assert.Equal(t, "12.5", a.String())
	assert.Error(t, json.Unmarshal([]byte(`"x"`), &a))
}

func TestCallbackTransactionAcceptsNumericConfirmations(t *testing.T) {
	var tx invoice.CallbackTransaction
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"txid":"a","amount":"1.5","confirmations":3}`), &tx))
	assert.Equal(t, int64(3), tx.Confirmations)
	require.NoError(t, json.Unmarshal([]byte(`{"id":1,"txid":"a","amount":"1.5","confirmations":"4"}`), &tx))
	assert.Equal(t, int64(4), tx.Confirmations)
	assert.Equal(t, "a", tx.TxID)
	b, err := json.Marshal(tx)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"confirmations":"4"`)
	assert.Error(t, json.Unmarshal([]byte(`{"confirmations":"x"}`), &tx))
}
