package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/google/uuid"
	"github.com/shopspring/decimal"
)

// A merchant's callback endpoint: Handler verifies the signatures, decodes
// the callback and acknowledges it only when the function returns nil.
// SignForTest builds the same request a Sender would, for tests.
func ExampleHandler() {
	verifier := &webhook.Verifier{Key: "pk_live_shop", Secret: "merchant-secret"}
	handler := webhook.Handler(verifier, func(ctx context.Context, cb *invoice.Callback, meta webhook.Meta) error {
		// Dedupe on meta.ID: a callback can arrive more than once.
		fmt.Printf("%s is %s: received %s %s\n", cb.ForeignID, cb.Status,
			cb.CurrencySent.Amount.Sub(cb.CurrencySent.RemainingAmount.Decimal).String(), cb.CurrencySent.Currency)
		return nil
	})

	cb := &invoice.Callback{
		ID: 1, ForeignID: "order-1001", Type: "invoice", Status: invoice.StatusConfirmed,
		CurrencySent: invoice.CallbackSent{
			Currency:        "BTC",
			Amount:          invoice.Amount{Decimal: decimal.RequireFromString("0.00166667")},
			RemainingAmount: invoice.Amount{Decimal: decimal.Zero},
		},
		Transactions: []invoice.CallbackTransaction{}, Fees: []invoice.CallbackFee{},
	}
	body, headers, err := webhook.SignForTest(cb, webhook.SignOptions{Key: "pk_live_shop", Secret: "merchant-secret"})
	if err != nil {
		panic(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/callbacks", bytes.NewReader(body))
	req.Header = headers
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Println(w.Code)

	// The same request with a forged body is refused.
	req = httptest.NewRequest(http.MethodPost, "/callbacks", bytes.NewReader(bytes.Replace(body, []byte("0.00166667"), []byte("9.00000000"), 1)))
	req.Header = headers
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, req)
	fmt.Println(w.Code)
	// Output:
	// order-1001 is confirmed: received 0.00166667 BTC
	// 200
	// 403
}

// A Sender is the engine's Notifier: set it as invoice.Config.Notifier.
// Here it posts one callback directly to a receiver that checks the
// signatures.
func ExampleSender() {
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		v := &webhook.Verifier{Key: "pk_live_shop", Secret: "merchant-secret"}
		meta, err := v.Verify(r.Header, body.Bytes())
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		fmt.Println("verified", meta.Verified, "delivery", meta.ID)
	}))
	defer receiver.Close()

	sender, err := webhook.NewSender(webhook.SenderConfig{
		URL:    receiver.URL + "/callbacks",
		Key:    "pk_live_shop",
		Secret: "merchant-secret",
		// In production, when merchants configure the URL:
		// BlockPrivateNetworks: true,
	})
	if err != nil {
		panic(err)
	}
	// cfg := invoice.Config{Notifier: sender, ...}; the engine calls
	// Notify for each due callback.
	err = sender.Notify(context.Background(), &invoice.Delivery{
		ID:      uuid.MustParse("0195f0a0-0000-7000-8000-000000000001"),
		Channel: invoice.ChannelMerchant,
		Callback: &invoice.Callback{
			ID: 1, ForeignID: "order-1001", Type: "invoice", Status: invoice.StatusPending,
			Transactions: []invoice.CallbackTransaction{}, Fees: []invoice.CallbackFee{},
		},
	})
	fmt.Println("acknowledged:", err == nil)
	// Output:
	// verified standard+processing delivery 0195f0a0-0000-7000-8000-000000000001
	// acknowledged: true
}
