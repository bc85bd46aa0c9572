package merchantapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/merchantapi"
	"github.com/cryptoinvoice/invoice/webhook"
)

// A CoinsPaid client creates an invoice: the body is signed with the
// secret, and the answer carries the customer's checkout link.
func Example() {
	h, _ := invoicetest.NewHarness(func(c *invoice.Config) { c.CheckoutBaseURL = "https://pay.example.com/i" })
	api, err := merchantapi.New(merchantapi.Config{
		Engine: h.Engine,
		Keys:   []merchantapi.Key{{Key: "KEY", Secret: "SECRET"}},
		Clock:  h.Clock,
	})
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()

	body := `{"timer":false,"title":"Order 42","currency":"EUR","amount":106.75,"foreign_id":"42"}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v2/invoices/create", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Processing-Key", "KEY")
	req.Header.Set("X-Processing-Signature", webhook.ProcessingSignature("SECRET", []byte(body)))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	answer, _ := io.ReadAll(res.Body)
	fmt.Println(res.Status)
	fmt.Println(strings.Contains(string(answer), `"url":"https://pay.example.com/i/`))
	fmt.Println(strings.Contains(string(answer), `"amount":"106.75000000","sender_currency":null`))
	// Output:
	// 200 OK
	// true
	// true
}
