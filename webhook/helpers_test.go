package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"
)

const (
	testKey    = "pk_test_merchant"
	testSecret = "AbCdEfG123456"
)

// fixedNow is the wall-clock time tests sign and verify at.
var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func nowFunc() time.Time { return fixedNow }

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// sampleCallback is a processing BTC callback with one transaction.
func sampleCallback() *invoice.Callback {
	return &invoice.Callback{
		ID:        12,
		ForeignID: "order-12",
		Type:      "invoice",
		CryptoAddress: invoice.CallbackAddress{
			ID: 12, Currency: "BTC", Address: "BTC-order-12",
		},
		CurrencySent: invoice.CallbackSent{
			Currency:        "BTC",
			Amount:          invoice.Amount{Decimal: dec("0.00166667")},
			RemainingAmount: invoice.Amount{Decimal: dec("0")},
		},
		CurrencyReceived: invoice.CallbackReceived{Currency: "EUR", Amount: invoice.Amount{Decimal: dec("100")}},
		Transactions: []invoice.CallbackTransaction{{
			ID: 12000001, Currency: "BTC", TransactionType: "blockchain", Type: "deposit",
			Address: "BTC-order-12", Amount: invoice.Amount{Decimal: dec("0.00166667")},
			TxID: "tx-1", Confirmations: 1, Status: invoice.TxNotConfirmed,
		}},
		Fees:      []invoice.CallbackFee{},
		Status:    invoice.StatusProcessing,
		FixedAt:   fixedNow.Unix(),
		ExpiresAt: fixedNow.Add(15 * time.Minute).Unix(),
	}
}

func delivery(cb *invoice.Callback) *invoice.Delivery {
	return &invoice.Delivery{
		ID:       uuid.MustParse("0195f0a0-0000-7000-8000-000000000042"),
		Channel:  invoice.ChannelMerchant,
		Callback: cb,
	}
}

// standardSig computes one Standard Webhooks signature independently of
// the package.
func standardSig(key []byte, id, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// recorded is one request a recorder server saw.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// recorder is an httptest server that records requests and answers with
// the status its answer function returns (200 by default).
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	status   func(n int, r recorded) int // n counts from 1
}

func newRecorder(t *testing.T, status func(n int, r recorded) int) *recorder {
	t.Helper()
	rec := &recorder{status: status}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
		rec.mu.Lock()
		rec.requests = append(rec.requests, req)
		n := len(rec.requests)
		rec.mu.Unlock()
		code := http.StatusOK
		if rec.status != nil {
			code = rec.status(n, req)
		}
		w.WriteHeader(code)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) all() []recorded {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]recorded(nil), rec.requests...)
}

func mustSender(t *testing.T, cfg webhook.SenderConfig) *webhook.Sender {
	t.Helper()
	s, err := webhook.NewSender(cfg)
	require.NoError(t, err)
	return s
}
