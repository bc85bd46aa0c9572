package checkout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/checkout"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

// Mount the checkout pages where the engine's checkout links point, and
// follow an invoice through its status endpoint.
func Example() {
	ctx := context.Background()
	h, err := invoicetest.NewHarness(func(c *invoice.Config) { c.CheckoutBaseURL = "https://pay.example.com/i" })
	if err != nil {
		panic(err)
	}
	pages, err := checkout.New(checkout.Config{Engine: h.Engine, MerchantName: "Demo Shop", Clock: h.Clock})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/i/", http.StripPrefix("/i", pages))

	inv, err := h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "order-1", Title: "Coffee", Amount: decimal.NewFromInt(25),
		Currency: "EUR", Timer: true, SenderCurrency: "BTC", Email: "alice@example.com"})
	if err != nil {
		panic(err)
	}
	status := func() {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", "/i/"+inv.CheckoutToken+"/status", nil))
		var st struct {
			Phase       string `json:"phase"`
			SecondsLeft int64  `json:"seconds_left"`
			Amount      string `json:"amount"`
			Currency    string `json:"currency"`
			StatusText  string `json:"status_text"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &st)
		fmt.Printf("%s, %d s left: pay %s %s. %s\n", st.Phase, st.SecondsLeft, st.Amount, st.Currency, st.StatusText)
	}
	status()
	h.Clock.Advance(time.Minute)
	if _, err := h.Engine.ReportTransaction(ctx, "order-1", invoice.TransactionReport{TxID: "tx-1", Currency: "BTC",
		Amount: inv.SenderAmount, Status: invoice.TxNotConfirmed}); err != nil {
		panic(err)
	}
	status()
	// Output:
	// pay, 900 s left: pay 0.00041667 BTC. Waiting for your payment.
	// processing, 0 s left: pay 0.00041667 BTC. Payment seen. Waiting for confirmations on the network.
}
