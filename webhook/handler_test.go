package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type handled struct {
	cb   *invoice.Callback
	meta webhook.Meta
}

func serve(h http.Handler, method string, body []byte, headers http.Header) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "/callbacks", bytes.NewReader(body))
	for k, vs := range headers {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestHandlerAcceptsVerifiedCallback(t *testing.T) {
	var got []handled
	h := webhook.Handler(&webhook.Verifier{Key: testKey, Secret: testSecret, Now: nowFunc},
		func(ctx context.Context, cb *invoice.Callback, meta webhook.Meta) error {
			got = append(got, handled{cb, meta})
			return nil
		})
	body, headers := signed(t, webhook.SignOptions{})
	w := serve(h, http.MethodPost, body, headers)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.JSONEq(t, `{"ok":true}`, w.Body.String())

	require.Len(t, got, 1)
	want := sampleCallback()
	cb := got[0].cb
	assert.Equal(t, want.ForeignID, cb.ForeignID)
	assert.Equal(t, invoice.StatusProcessing, cb.Status)
	assert.True(t, cb.CurrencySent.Amount.Equal(dec("0.00166667")))
	assert.True(t, cb.CurrencyReceived.Amount.Equal(dec("100")))
	require.Len(t, cb.Transactions, 1)
	assert.Equal(t, int64(1), cb.Transactions[0].Confirmations)
	assert.Equal(t, invoice.TxNotConfirmed, cb.Transactions[0].Status)
	assert.Equal(t, "0195f0a0-0000-7000-8000-000000000042", got[0].meta.ID)
	assert.Equal(t, fixedNow.Unix(), got[0].meta.Timestamp.Unix())
}

func TestHandlerRejections(t *testing.T) {
	calls := 0
	v := &webhook.Verifier{Key: testKey, Secret: testSecret, Now: nowFunc, MaxBodyBytes: 4096}
	h := webhook.Handler(v, func(ctx context.Context, cb *invoice.Callback, meta webhook.Meta) error {
		calls++
		if cb.ForeignID == "refuse-me" {
			return errors.New("database down")
		}
		return nil
	})
	body, headers := signed(t, webhook.SignOptions{})

	signBody := func(b string) ([]byte, http.Header) {
		hd, err := webhook.Sign([]byte(b), webhook.SignOptions{Key: testKey, Secret: testSecret, ID: "d1", Timestamp: fixedNow})
		require.NoError(t, err)
		return []byte(b), hd
	}
	refuse := sampleCallback()
	refuse.ForeignID = "refuse-me"
	refuseBody, refuseHeaders, err := webhook.SignForTest(refuse, webhook.SignOptions{Key: testKey, Secret: testSecret, Timestamp: fixedNow})
	require.NoError(t, err)

	del := func(name string) http.Header {
		c := headers.Clone()
		c.Del(name)
		return c
	}
	tampered := bytes.Replace(body, []byte(`"processing"`), []byte(`"confirmed"`), 1)
	staleHeaders, err := webhook.Sign(body, webhook.SignOptions{Key: testKey, Secret: testSecret, ID: "d", Timestamp: fixedNow.Add(-10 * 60e9)})
	require.NoError(t, err)

	cases := []struct {
		name    string
		method  string
		body    []byte
		headers http.Header
		code    int
	}{
		{"GET", http.MethodGet, nil, headers, http.StatusMethodNotAllowed},
		{"missing signature", http.MethodPost, body, del("webhook-signature"), http.StatusUnauthorized},
		{"missing processing signature", http.MethodPost, body, del("X-Processing-Signature"), http.StatusUnauthorized},
		{"missing id", http.MethodPost, body, del("webhook-id"), http.StatusUnauthorized},
		{"tampered", http.MethodPost, tampered, headers, http.StatusForbidden},
		{"stale", http.MethodPost, body, staleHeaders, http.StatusForbidden},
		{"too large", http.MethodPost, append(body, bytes.Repeat([]byte(" "), 5000)...), headers, http.StatusRequestEntityTooLarge},
		{"bad json", http.MethodPost, nil, nil, http.StatusBadRequest},
		{"unknown status", http.MethodPost, nil, nil, http.StatusBadRequest},
		{"no foreign_id", http.MethodPost, nil, nil, http.StatusBadRequest},
		{"amount not a number", http.MethodPost, nil, nil, http.StatusBadRequest},
		{"handler fails", http.MethodPost, refuseBody, refuseHeaders, http.StatusInternalServerError},
	}
	cases[7].body, cases[7].headers = signBody(`{"foreign_id":`)
	cases[8].body, cases[8].headers = signBody(`{"foreign_id":"a","status":"refunded"}`)
	cases[9].body, cases[9].headers = signBody(`{"status":"confirmed"}`)
	cases[10].body, cases[10].headers = signBody(`{"foreign_id":"a","status":"confirmed","currency_sent":{"amount":"lots"}}`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := calls
			w := serve(h, c.method, c.body, c.headers)
			assert.Equal(t, c.code, w.Code, w.Body.String())
			var answer map[string]string
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &answer))
			assert.NotEmpty(t, answer["error"])
			if c.code == http.StatusInternalServerError {
				assert.Equal(t, before+1, calls)
				assert.NotContains(t, w.Body.String(), "database down", "internal errors are not shown to the sender")
			} else {
				assert.Equal(t, before, calls, "fn is only called for verified callbacks")
			}
		})
	}
}

func TestHandlerPanicsOnMisconfiguration(t *testing.T) {
	fn := func(context.Context, *invoice.Callback, webhook.Meta) error { return nil }
	assert.Panics(t, func() { webhook.Handler(nil, fn) })
	assert.Panics(t, func() { webhook.Handler(&webhook.Verifier{}, fn) })
	assert.Panics(t, func() { webhook.Handler(&webhook.Verifier{Secret: "s"}, nil) })
	assert.NotPanics(t, func() { webhook.Handler(&webhook.Verifier{Secret: "s"}, fn) })
}

// TestCallbackWireFormat pins the JSON the Sender posts: the CoinsPaid
// invoice callback format of the specification (§7).
func TestCallbackWireFormat(t *testing.T) {
	cb := sampleCallback()
	cb.EndUserReference = "user-7"
	cb.Transactions[0].Confirmations = 0
	body, err := json.Marshal(cb)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"id": 12,
		"foreign_id": "order-12",
		"end_user_reference": "user-7",
		"type": "invoice",
		"crypto_address": {"id": 12, "currency": "BTC", "address": "BTC-order-12", "tag": null},
		"currency_sent": {"currency": "BTC", "amount": "0.00166667", "remaining_amount": "0.00000000"},
		"currency_received": {"currency": "EUR", "amount": "100.00000000"},
		"transactions": [{
			"id": 12000001, "currency": "BTC", "transaction_type": "blockchain", "type": "deposit",
			"address": "BTC-order-12", "tag": null, "amount": "0.00166667", "txid": "tx-1",
			"confirmations": "0", "status": "not_confirmed"
		}],
		"fees": [],
		"error": "",
		"status": "processing",
		"fixed_at": 1772366400,
		"expires_at": 1772367300
	}`, string(body))

	// Raw token checks beyond JSONEq (which compares values, not types).
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &raw))
	assert.Equal(t, "12", string(raw["id"]), "numeric id")
	assert.Equal(t, `""`, string(raw["error"]))
	assert.Equal(t, "[]", string(raw["fees"]))
	assert.Equal(t, "1772366400", string(raw["fixed_at"]), "unix seconds")
	assert.Contains(t, string(raw["transactions"]), `"confirmations":"0"`)

	// A decimal with more than 8 digits is not rounded on the wire.
	cb.CurrencySent.Amount = invoice.Amount{Decimal: dec("0.123456789012345678")}
	body, err = json.Marshal(cb)
	require.NoError(t, err)
	assert.Contains(t, string(body), `"amount":"0.123456789012345678"`)

	// And it decodes back into the same typed values.
	back, err := webhook.DecodeCallback(body)
	require.NoError(t, err)
	assert.True(t, back.CurrencySent.Amount.Equal(cb.CurrencySent.Amount.Decimal))
	assert.Equal(t, cb.Status, back.Status)
	assert.Equal(t, cb.FixedAt, back.FixedAt)

	// Amounts sent as JSON numbers by other senders still decode.
	back, err = webhook.DecodeCallback([]byte(`{"foreign_id":"x","status":"confirmed","currency_received":{"amount":12.5}}`))
	require.NoError(t, err)
	assert.True(t, back.CurrencyReceived.Amount.Equal(dec("12.5")))
	assert.True(t, strings.HasPrefix(webhook.SchemeBoth.String(), "standard"))
}

// TestDecodeCallbackReadsNulls decodes every pinned callback body, nulls
// included (absent values come back as zero values).
func TestDecodeCallbackReadsNulls(t *testing.T) {
	files, err := filepath.Glob("../testdata/callbacks/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		body, err := os.ReadFile(f)
		require.NoError(t, err)
		cb, err := webhook.DecodeCallback(body)
		require.NoError(t, err, f)
		again, err := cb.Body(invoice.BodyPHP)
		require.NoError(t, err)
		assert.Equal(t, string(body), string(again), "%s decodes and encodes back", f)
	}
	cb, err := webhook.DecodeCallback([]byte(`{"id":1,"foreign_id":"o","type":"invoice","crypto_address":{"id":1,"currency":null,"address":null,"tag":null},"currency_sent":{"currency":null,"amount":null,"remaining_amount":null},"currency_received":{"currency":"EUR","amount":"5.00000000"},"transactions":[],"fees":[],"error":"","status":"failed","fixed_at":null,"expires_at":null}`))
	require.NoError(t, err)
	assert.Empty(t, cb.CurrencySent.Currency)
	assert.True(t, cb.CurrencySent.Amount.IsZero())
	assert.Zero(t, cb.FixedAt)
}
