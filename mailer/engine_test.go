package mailer_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/mailer/mailertest"
)

// underpaid makes an underpaid invoice on an engine whose customer
// notifier is m: it fails with a refund claim of everything received,
// and the notice for it goes to the outbox.
func underpaid(t *testing.T, m *mailer.Mailer, opts ...func(*invoice.Config)) *invoicetest.Harness {
	t.Helper()
	h := invoicetest.New(t, append([]func(*invoice.Config){func(c *invoice.Config) { c.CustomerNotifier = m }}, opts...)...)
	_, err := h.Engine.Create(ctx, invoice.CreateRequest{
		ForeignID: "o-1", Title: "Order o-1", Amount: decimal.RequireFromString("100"), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	})
	require.NoError(t, err)
	for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
		inv, err := h.Engine.ReportTransaction(ctx, "o-1", invoice.TransactionReport{
			TxID: "tx1", Currency: "BTC", Amount: decimal.RequireFromString("0.001"), Confirmations: 3, Status: st,
		})
		require.NoError(t, err)
		if st == invoice.TxConfirmed {
			require.Equal(t, invoice.StatusFailed, inv.Status)
			require.Len(t, inv.RefundClaims, 1)
		}
	}
	return h
}

var linkRe = regexp.MustCompile(`https://pay\.shop\.example/refund/(rc2_[A-Za-z0-9_-]+)`)

func customerDeliveries(t *testing.T, h *invoicetest.Harness) []*invoice.Delivery {
	t.Helper()
	ds, err := h.Engine.Deliveries(ctx, "o-1")
	require.NoError(t, err)
	var out []*invoice.Delivery
	for _, d := range ds {
		if d.Channel == invoice.ChannelCustomer {
			out = append(out, d)
		}
	}
	return out
}

func TestOutboxRetriesATemporaryRefusal(t *testing.T) {
	for name, opts := range map[string][]func(*invoice.Config){
		"deterministic IDs":     nil,
		"default configuration": {invoicetest.DefaultIDs},
	} {
		t.Run(name, func(t *testing.T) {
			srv := mailertest.Start(t, mailertest.Options{})
			m := newMailer(t, config(srv))
			h := underpaid(t, m, opts...)

			srv.Refuse(mailertest.Refusal{Code: 451, EnhancedCode: [3]int{4, 3, 0}, Message: "greylisted"})
			_, err := h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			assert.Empty(t, srv.Messages())
			ds := customerDeliveries(t, h)
			require.Len(t, ds, 1)
			assert.Equal(t, invoice.DeliveryPending, ds[0].State)
			require.Len(t, ds[0].Attempts, 1)
			assert.Equal(t, "mailer: SMTP RCPT TO: reply 451 4.3.0 (temporary)", ds[0].Attempts[0].Error)

			_, err = h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			assert.Empty(t, srv.Messages(), "not due before the retry schedule says")

			h.Clock.Advance(time.Minute) // DefaultRetrySchedule()[0]
			_, err = h.Engine.DeliverDue(ctx)
			require.NoError(t, err)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, invoice.DeliveryDelivered, customerDeliveries(t, h)[0].State)

			p := parse(t, msgs[0].Data)
			match := linkRe.FindStringSubmatch(p.Text)
			require.NotNil(t, match, "the link is in the text part")
			assert.Contains(t, p.HTML, `href="`+match[0]+`"`)
			info, err := h.Engine.LookupRefundClaim(ctx, match[1])
			require.NoError(t, err, "the e-mailed token is the claim's")
			assert.Equal(t, "0.001", info.Amount.String())
			assert.Equal(t, "BTC", info.Currency)
			assert.Equal(t, invoice.RefundOpen, info.Status)
			assert.Equal(t, invoice.ReasonPaidLess, info.Reason)
			assert.Contains(t, p.Text, "Less than the amount asked was paid in time.")
		})
	}
}

func TestOutboxRetriesAPermanentRefusalAndKeepsNoSecret(t *testing.T) {
	srv := mailertest.Start(t, mailertest.Options{})
	var logs logBuffer
	m := newMailer(t, config(srv, func(c *mailer.Config) { c.Logger = logs.logger() }))
	h := underpaid(t, m, func(c *invoice.Config) { c.RetrySchedule = []time.Duration{time.Minute} })

	srv.Refuse(
		mailertest.Refusal{Code: 550, EnhancedCode: [3]int{5, 1, 1}, Message: "no such user"},
		mailertest.Refusal{Code: 550, EnhancedCode: [3]int{5, 1, 1}, Message: "no such user"},
	)
	for range 2 {
		_, err := h.Engine.DeliverDue(ctx)
		require.NoError(t, err)
		h.Clock.Advance(time.Minute)
	}
	ds := customerDeliveries(t, h)
	require.Len(t, ds, 1)
	assert.Equal(t, invoice.DeliveryDead, ds[0].State, "retried per the schedule, then dead")
	require.Len(t, ds[0].Attempts, 2)
	for _, a := range ds[0].Attempts {
		assert.Equal(t, "mailer: SMTP RCPT TO: reply 550 5.1.1 (permanent)", a.Error)
	}
	assert.Equal(t, 2, strings.Count(logs.String(), "level=ERROR"))
	assert.NotContains(t, logs.String(), "rc2_")
	assert.Empty(t, srv.Messages())

	// An operator fixes it and redelivers.
	require.NoError(t, h.Engine.Redeliver(ctx, ds[0].ID))
	_, err := h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	assert.Len(t, srv.Messages(), 1)
}
