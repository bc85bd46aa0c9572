package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// merchant is a callback receiver built on webhook.Handler. In front of
// the handler a gate may answer an attempt itself (a status code) or hang,
// to simulate outages; attempts it lets through are verified and decoded
// by Handler and recorded when acknowledged.
type merchant struct {
	srv *httptest.Server

	mu       sync.Mutex
	attempts []attemptSeen
	acked    []ackedCallback
	gate     func(r *http.Request, a attemptSeen) int // 0: let Handler answer
}

type attemptSeen struct {
	ForeignID string
	Status    string
	WebhookID string
	N         int // attempt number across the whole receiver, from 1
}

type ackedCallback struct {
	CB   *invoice.Callback
	Meta webhook.Meta
	Raw  []byte
}

func newMerchant(t *testing.T) *merchant {
	t.Helper()
	m := &merchant{}
	inner := webhook.Handler(&webhook.Verifier{Key: testKey, Secret: testSecret},
		func(ctx context.Context, cb *invoice.Callback, meta webhook.Meta) error {
			raw, _ := ctx.Value(rawBodyKey{}).([]byte)
			m.mu.Lock()
			defer m.mu.Unlock()
			m.acked = append(m.acked, ackedCallback{CB: cb, Meta: meta, Raw: raw})
			return nil
		})
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var peek struct {
			ForeignID string `json:"foreign_id"`
			Status    string `json:"status"`
		}
		_ = json.Unmarshal(body, &peek)
		m.mu.Lock()
		a := attemptSeen{ForeignID: peek.ForeignID, Status: peek.Status, WebhookID: r.Header.Get("webhook-id"), N: len(m.attempts) + 1}
		m.attempts = append(m.attempts, a)
		gate := m.gate
		m.mu.Unlock()
		if gate != nil {
			if code := gate(r, a); code != 0 {
				w.WriteHeader(code)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		inner.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rawBodyKey{}, body)))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

type rawBodyKey struct{}

func (m *merchant) setGate(g func(r *http.Request, a attemptSeen) int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gate = g
}

func (m *merchant) allAttempts() []attemptSeen {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]attemptSeen(nil), m.attempts...)
}

// callbacks returns the acknowledged callbacks of one invoice, in order.
func (m *merchant) callbacks(foreignID string) []ackedCallback {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ackedCallback
	for _, a := range m.acked {
		if a.CB.ForeignID == foreignID {
			out = append(out, a)
		}
	}
	return out
}

func (m *merchant) statuses(foreignID string) []invoice.Status {
	var out []invoice.Status
	for _, a := range m.callbacks(foreignID) {
		out = append(out, a.CB.Status)
	}
	return out
}

// harness builds an engine whose Notifier is a webhook.Sender posting to
// m.
func harness(t *testing.T, m *merchant, senderCfg func(*webhook.SenderConfig), opts ...func(*invoice.Config)) *invoicetest.Harness {
	t.Helper()
	cfg := webhook.SenderConfig{URL: m.srv.URL + "/callbacks", Key: testKey, Secret: testSecret}
	if senderCfg != nil {
		senderCfg(&cfg)
	}
	sender := mustSender(t, cfg)
	return invoicetest.New(t, append([]func(*invoice.Config){func(c *invoice.Config) { c.Notifier = sender }}, opts...)...)
}

var bg = context.Background()

func typ3(foreignID string) invoice.CreateRequest {
	return invoice.CreateRequest{
		ForeignID: foreignID, Title: "Order " + foreignID, Amount: dec("100"), Currency: "EUR",
		Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
	}
}

func report(t *testing.T, h *invoicetest.Harness, foreignID, txid, currency, amount string, st invoice.TxStatus) {
	t.Helper()
	conf := int64(0)
	if st == invoice.TxConfirmed {
		conf = 3
	}
	_, err := h.Engine.ReportTransaction(bg, foreignID, invoice.TransactionReport{
		TxID: txid, Currency: currency, Amount: dec(amount), Confirmations: conf, Status: st,
	})
	require.NoError(t, err)
}

func deliverDue(t *testing.T, h *invoicetest.Harness) int {
	t.Helper()
	n, err := h.Engine.DeliverDue(bg)
	require.NoError(t, err)
	return n
}

func merchantDeliveries(t *testing.T, h *invoicetest.Harness, foreignID string) []*invoice.Delivery {
	t.Helper()
	all, err := h.Engine.Deliveries(bg, foreignID)
	require.NoError(t, err)
	var out []*invoice.Delivery
	for _, d := range all {
		if d.Channel == invoice.ChannelMerchant {
			out = append(out, d)
		}
	}
	return out
}

// A receiver that fails three times and then recovers gets the callback
// exactly once more, after the scheduled waits of +1, +5 and +15 minutes;
// the invoice's later callback waits for the earlier one.
func TestEngineRetriesAlongSchedule(t *testing.T) {
	m := newMerchant(t)
	h := harness(t, m, nil)
	_, err := h.Engine.Create(bg, typ3("order-1"))
	require.NoError(t, err)
	report(t, h, "order-1", "tx-1", "BTC", "0.00166667", invoice.TxNotConfirmed) // → processing
	report(t, h, "order-1", "tx-1", "BTC", "0.00166667", invoice.TxConfirmed)    // → confirmed

	m.setGate(func(_ *http.Request, a attemptSeen) int {
		if a.N <= 3 {
			return http.StatusServiceUnavailable
		}
		return 0
	})

	assert.Equal(t, 0, deliverDue(t, h))
	require.Len(t, m.allAttempts(), 1)

	for i, wait := range []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute} {
		h.Clock.Advance(wait - time.Second)
		assert.Equal(t, 0, deliverDue(t, h), "retry %d is not due yet", i+1)
		require.Len(t, m.allAttempts(), i+1, "nothing is attempted before the scheduled wait")
		h.Clock.Advance(time.Second)
		n := deliverDue(t, h)
		if i < 2 {
			assert.Equal(t, 0, n)
		} else {
			assert.Equal(t, 2, n, "the retry succeeds and the held-back callback follows")
		}
	}

	attempts := m.allAttempts()
	require.Len(t, attempts, 5)
	for i, a := range attempts[:4] {
		assert.Equal(t, "processing", a.Status, "attempt %d: the confirmed callback is not sent before processing is acknowledged", i+1)
		assert.Equal(t, attempts[0].WebhookID, a.WebhookID, "one delivery id across retries")
	}
	assert.Equal(t, "confirmed", attempts[4].Status)
	assert.NotEqual(t, attempts[0].WebhookID, attempts[4].WebhookID)
	assert.Equal(t, []invoice.Status{invoice.StatusProcessing, invoice.StatusConfirmed}, m.statuses("order-1"),
		"each callback acknowledged exactly once, in order")

	ds := merchantDeliveries(t, h, "order-1")
	require.Len(t, ds, 2)
	assert.Equal(t, invoice.DeliveryDelivered, ds[0].State)
	require.Len(t, ds[0].Attempts, 4)
	for _, a := range ds[0].Attempts[:3] {
		assert.Equal(t, http.StatusServiceUnavailable, a.StatusCode, "the engine records the receiver's status")
		assert.NotEmpty(t, a.Error)
	}
	assert.Empty(t, ds[0].Attempts[3].Error)
	assert.Equal(t, http.StatusOK, ds[0].Attempts[3].StatusCode, "a successful attempt's status is logged too")
	assert.Equal(t, invoicetest.Epoch.Add(21*time.Minute), ds[0].Attempts[3].At)
	assert.Equal(t, ds[0].ID.String(), attempts[0].WebhookID)
	assert.Equal(t, invoice.DeliveryDelivered, ds[1].State)
	assert.Len(t, ds[1].Attempts, 1)
}

// A receiver that hangs on some invoices costs each of their attempts the
// Sender's timeout, not more: other invoices' callbacks go through, even
// with one delivery at a time.
func TestEngineHangingReceiverDoesNotBlockOthers(t *testing.T) {
	m := newMerchant(t)
	release := make(chan struct{})
	var once sync.Once
	releaseAll := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseAll) // before the server closes (cleanups run last-in first-out)
	m.setGate(func(r *http.Request, a attemptSeen) int {
		if a.ForeignID == "slow-1" || a.ForeignID == "slow-2" {
			select {
			case <-r.Context().Done():
				return http.StatusServiceUnavailable
			case <-release:
			}
		}
		return 0
	})
	const timeout = 200 * time.Millisecond
	h := harness(t, m, func(c *webhook.SenderConfig) { c.Timeout = timeout },
		func(c *invoice.Config) { c.DeliveryConcurrency = 1 })

	for _, id := range []string{"slow-1", "fast-1", "slow-2", "fast-2"} {
		_, err := h.Engine.Create(bg, typ3(id))
		require.NoError(t, err)
		_, err = h.Engine.Cancel(bg, id)
		require.NoError(t, err)
	}
	start := time.Now()
	assert.Equal(t, 2, deliverDue(t, h))
	elapsed := time.Since(start)
	assert.Less(t, elapsed, 10*timeout, "two hung attempts cost about two timeouts")
	assert.GreaterOrEqual(t, elapsed, 2*timeout)

	assert.Len(t, m.statuses("fast-1"), 1)
	assert.Len(t, m.statuses("fast-2"), 1)
	assert.Empty(t, m.statuses("slow-1"))
	ds := merchantDeliveries(t, h, "slow-1")
	require.Len(t, ds, 1)
	assert.Equal(t, invoice.DeliveryPending, ds[0].State)
	require.Len(t, ds[0].Attempts, 1)
	assert.Contains(t, ds[0].Attempts[0].Error, "deadline exceeded")
	assert.Less(t, ds[0].Attempts[0].Duration, 10*timeout)

	// The receiver recovers; the retry a minute later delivers them.
	releaseAll()
	h.Clock.Advance(time.Minute)
	assert.Equal(t, 2, deliverDue(t, h))
	assert.Len(t, m.statuses("slow-1"), 1)
	assert.Len(t, m.statuses("slow-2"), 1)
}

// After the last scheduled retry a callback is dead: listed by
// DeadDeliveries, and Redeliver sends it again with the same delivery id.
func TestEngineDeadDeliveryAndRedeliver(t *testing.T) {
	m := newMerchant(t)
	m.setGate(func(_ *http.Request, a attemptSeen) int {
		if a.ForeignID == "dead-1" {
			return http.StatusInternalServerError
		}
		return 0
	})
	h := harness(t, m, nil)
	_, err := h.Engine.Create(bg, typ3("dead-1"))
	require.NoError(t, err)
	_, err = h.Engine.Cancel(bg, "dead-1")
	require.NoError(t, err)

	schedule := invoice.DefaultRetrySchedule()
	deliverDue(t, h)
	for _, wait := range schedule {
		dead, err := h.Engine.DeadDeliveries(bg, uuid.Nil, 10)
		require.NoError(t, err)
		require.Empty(t, dead, "not dead before the last retry")
		h.Clock.Advance(wait)
		deliverDue(t, h)
	}
	require.Len(t, m.allAttempts(), len(schedule)+1)

	dead, err := h.Engine.DeadDeliveries(bg, uuid.Nil, 10)
	require.NoError(t, err)
	require.Len(t, dead, 1)
	d := dead[0]
	assert.Equal(t, invoice.DeliveryDead, d.State)
	assert.Equal(t, "dead-1", d.Callback.ForeignID)
	assert.Len(t, d.Attempts, len(schedule)+1)
	for _, a := range d.Attempts {
		assert.Equal(t, http.StatusInternalServerError, a.StatusCode)
	}

	// Nothing more happens on its own.
	h.Clock.Advance(24 * time.Hour)
	assert.Equal(t, 0, deliverDue(t, h))
	require.Len(t, m.allAttempts(), len(schedule)+1)

	// The merchant fixes the endpoint; an operator redelivers.
	m.setGate(nil)
	require.NoError(t, h.Engine.Redeliver(bg, d.ID))
	assert.Equal(t, 1, deliverDue(t, h))
	got := m.callbacks("dead-1")
	require.Len(t, got, 1)
	assert.Equal(t, d.ID.String(), got[0].Meta.ID, "the same delivery id, so the receiver can dedupe")
	assert.Equal(t, invoice.StatusFailed, got[0].CB.Status)
	assert.Equal(t, invoice.ReasonCancelled, got[0].CB.Error)

	d, err = h.Engine.Delivery(bg, d.ID)
	require.NoError(t, err)
	assert.Equal(t, invoice.DeliveryDelivered, d.State)
	assert.Len(t, d.Attempts, len(schedule)+2)
	dead, err = h.Engine.DeadDeliveries(bg, uuid.Nil, 10)
	require.NoError(t, err)
	assert.Empty(t, dead)
}

// End to end: the engine's callbacks for every invoice type and outcome
// reach a receiver built on webhook.Handler, verified and decoded.
func TestEngineEndToEndFlows(t *testing.T) {
	m := newMerchant(t)
	h := harness(t, m, func(c *webhook.SenderConfig) {
		c.SigningSecrets = []string{"whsec_cm90YXRlZC1vdXQ=", testSecret} // mid-rotation
	})
	confirm := func(id, currency, email string) {
		_, err := h.Engine.ConfirmPayment(bg, id, invoice.Confirmation{Currency: currency, Email: email})
		require.NoError(t, err)
	}
	create := func(req invoice.CreateRequest) {
		_, err := h.Engine.Create(bg, req)
		require.NoError(t, err)
	}

	// Type 1 (no timer), paid in LTC (80 EUR/LTC: 1.25 LTC), e-mail given by
	// the customer.
	create(invoice.CreateRequest{ForeignID: "t1-paid", Title: "T1", Amount: dec("100"), Currency: "EUR"})
	confirm("t1-paid", "LTC", "payer@example.com")
	report(t, h, "t1-paid", "ltc-1", "LTC", "1.25", invoice.TxNotConfirmed)
	report(t, h, "t1-paid", "ltc-1", "LTC", "1.25", invoice.TxConfirmed)

	// Type 2 (timer, quote table), paid in USDT.
	create(invoice.CreateRequest{ForeignID: "t2-paid", Title: "T2", Amount: dec("100"), Currency: "EUR",
		Timer: true, Email: "payer@example.com"})
	confirm("t2-paid", "USDT", "")
	report(t, h, "t2-paid", "usdt-1", "USDT", "100", invoice.TxNotConfirmed)
	report(t, h, "t2-paid", "usdt-1", "USDT", "100", invoice.TxConfirmed)

	// Type 3 (timer + BTC), paid: pending at creation, so no callback until
	// funds arrive.
	create(typ3("t3-paid"))
	report(t, h, "t3-paid", "btc-1", "BTC", "0.00166667", invoice.TxNotConfirmed)
	report(t, h, "t3-paid", "btc-1", "BTC", "0.00166667", invoice.TxConfirmed)

	// Type 3 underpaid.
	create(typ3("t3-under"))
	report(t, h, "t3-under", "btc-2", "BTC", "0.001", invoice.TxNotConfirmed)
	report(t, h, "t3-under", "btc-2", "BTC", "0.001", invoice.TxConfirmed)

	// Type 1 cancelled before anything was paid.
	create(invoice.CreateRequest{ForeignID: "t1-cancel", Title: "T1", Amount: dec("100"), Currency: "EUR"})
	_, err := h.Engine.Cancel(bg, "t1-cancel")
	require.NoError(t, err)

	// Type 2 expired: nobody confirmed or paid within 15 minutes.
	create(invoice.CreateRequest{ForeignID: "t2-expired", Title: "T2", Amount: dec("100"), Currency: "EUR", Timer: true})
	deliverDue(t, h)
	assert.Empty(t, m.statuses("t2-expired"))
	h.Clock.Advance(16 * time.Minute)
	n, err := h.Engine.Sweep(bg)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	deliverDue(t, h)

	P, C, F := invoice.StatusPending, invoice.StatusConfirmed, invoice.StatusFailed
	Pr := invoice.StatusProcessing
	assert.Equal(t, []invoice.Status{P, Pr, C}, m.statuses("t1-paid"))
	assert.Equal(t, []invoice.Status{P, Pr, C}, m.statuses("t2-paid"))
	assert.Equal(t, []invoice.Status{Pr, C}, m.statuses("t3-paid"))
	assert.Equal(t, []invoice.Status{Pr, F}, m.statuses("t3-under"))
	assert.Equal(t, []invoice.Status{F}, m.statuses("t1-cancel"))
	assert.Equal(t, []invoice.Status{F}, m.statuses("t2-expired"))

	last := func(id string) *invoice.Callback {
		cbs := m.callbacks(id)
		require.NotEmpty(t, cbs)
		return cbs[len(cbs)-1].CB
	}
	// Typed values of the final callbacks.
	cb := last("t1-paid")
	assert.Equal(t, "LTC", cb.CurrencySent.Currency)
	assert.True(t, cb.CurrencySent.Amount.Equal(dec("1.25")))
	assert.True(t, cb.CurrencySent.RemainingAmount.IsZero())
	assert.Equal(t, "EUR", cb.CurrencyReceived.Currency)
	assert.True(t, cb.CurrencyReceived.Amount.Equal(dec("100")))
	require.Len(t, cb.Transactions, 1)
	assert.Equal(t, "ltc-1", cb.Transactions[0].TxID)
	assert.Equal(t, int64(3), cb.Transactions[0].Confirmations)
	assert.Equal(t, invoice.TxConfirmed, cb.Transactions[0].Status)
	assert.Equal(t, "LTC-t1-paid", cb.CryptoAddress.Address)
	assert.Empty(t, cb.Error)
	assert.NotZero(t, cb.FixedAt)
	// LTC's mempool is visible: entering processing extended the deadline
	// to the 24-hour processing window, and expires_at shows it.
	assert.Equal(t, cb.FixedAt+24*3600, cb.ExpiresAt)

	assert.Equal(t, "USDT", last("t2-paid").CurrencySent.Currency)
	assert.True(t, last("t2-paid").CurrencySent.Amount.Equal(dec("100")))
	assert.True(t, last("t3-paid").CurrencySent.Amount.Equal(dec("0.00166667")))

	cb = last("t3-under")
	assert.Equal(t, invoice.ReasonPaidLess, cb.Error)
	assert.True(t, cb.CurrencySent.RemainingAmount.Equal(dec("0.00066667")))
	assert.Equal(t, invoice.ReasonCancelled, last("t1-cancel").Error)
	assert.Equal(t, invoice.ReasonNotPaid, last("t2-expired").Error)

	// Every callback has its own delivery id, the engine's Delivery.ID.
	ids := map[string]bool{}
	for _, fid := range []string{"t1-paid", "t2-paid", "t3-paid", "t3-under", "t1-cancel", "t2-expired"} {
		ds := merchantDeliveries(t, h, fid)
		cbs := m.callbacks(fid)
		require.Len(t, cbs, len(ds))
		for i, d := range ds {
			assert.Equal(t, invoice.DeliveryDelivered, d.State)
			assert.Equal(t, d.ID.String(), cbs[i].Meta.ID)
			assert.False(t, ids[d.ID.String()])
			ids[d.ID.String()] = true
		}
	}

	// The wire format of what the engine really sent (§7).
	raw := m.callbacks("t1-paid")[0].Raw // pending: no transactions yet
	var obj map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &obj))
	assert.Equal(t, "[]", string(obj["transactions"]), "an empty list, not null")
	assert.Equal(t, "[]", string(obj["fees"]))
	assert.Equal(t, `""`, string(obj["error"]))
	assert.Equal(t, `"pending"`, string(obj["status"]))
	assert.Equal(t, `"invoice"`, string(obj["type"]))
	assert.Regexp(t, `^[1-9][0-9]*$`, string(obj["id"]), "numeric id")
	assert.Regexp(t, `^[1-9][0-9]{9}$`, string(obj["fixed_at"]), "unix seconds")
	assert.Regexp(t, `^[1-9][0-9]{9}$`, string(obj["expires_at"]), "unix seconds")
	var sent map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(obj["currency_sent"], &sent))
	assert.Equal(t, `"1.25000000"`, string(sent["amount"]), "8 fraction digits")
	assert.Equal(t, `"1.25000000"`, string(sent["remaining_amount"]))
	var received map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(obj["currency_received"], &received))
	assert.Equal(t, `"100.00000000"`, string(received["amount"]))

	raw = m.callbacks("t1-paid")[2].Raw
	require.NoError(t, json.Unmarshal(raw, &obj))
	var txs []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(obj["transactions"], &txs))
	require.Len(t, txs, 1)
	assert.Equal(t, `"3"`, string(txs[0]["confirmations"]), "confirmations as a string")
	assert.Equal(t, `"1.25000000"`, string(txs[0]["amount"]))
	assert.Regexp(t, `^[1-9][0-9]*$`, string(txs[0]["id"]))
	assert.Equal(t, `"blockchain"`, string(txs[0]["transaction_type"]))
	assert.Equal(t, `"deposit"`, string(txs[0]["type"]))
}
