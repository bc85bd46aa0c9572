package merchantapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/merchantapi"
	"github.com/cryptoinvoice/invoice/webhook"
)

func fuzzHandler(tb testing.TB) *merchantapi.Handler {
	h := invoicetest.New(tb, func(c *invoice.Config) { c.CheckoutBaseURL = checkoutURL })
	api, err := merchantapi.New(merchantapi.Config{Engine: h.Engine, Clock: h.Clock, MaxBodyBytes: 4096,
		Keys: []merchantapi.Key{{Key: testKey, Secret: testSecret}}})
	if err != nil {
		tb.Fatal(err)
	}
	return api
}

// checkAnswer fails unless the answer is below 500 and a JSON object.
func checkAnswer(t *testing.T, w *httptest.ResponseRecorder, what string) {
	t.Helper()
	if w.Code >= 500 {
		t.Fatalf("%s: %d %s", what, w.Code, w.Body)
	}
	var v map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil && w.Body.Len() > 0 {
		t.Fatalf("%s: answer %d is not a JSON object: %v: %q", what, w.Code, err, w.Body)
	}
}

// FuzzCreateBody posts correctly signed bodies to create: any body gets a
// 2xx or 4xx JSON answer, never a panic or a 5xx.
func FuzzCreateBody(f *testing.F) {
	for _, c := range goldenCases {
		f.Add([]byte(c.request))
	}
	for _, s := range []string{
		fmt.Sprintf(type1, "x"), fmt.Sprintf(type3, "y"), `{}`, `[]`, `null`, `{"timer":"1","amount":"1e99"}`,
		`{"timer":1,"title":"T","currency":"EUR","amount":"0.000000001","foreign_id":"z"}`,
		`{"timer":true,"title":"T","currency":"ETH","sender_currency":"ETH","amount":1,"foreign_id":"e"}`,
		`{"timer":0,"title":"\u0000","currency":"EUR","amount":-1,"foreign_id":"` + strings.Repeat("f", 300) + `"}`,
		`{"timer":false,"title":"T","currency":"EUR","amount":10,"foreign_id":"u","url_success":"javascript:alert(1)"}`,
	} {
		f.Add([]byte(s))
	}
	api := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v2/invoices/create", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sign(req, testKey, testSecret, body)
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		checkAnswer(t, w, "create")
		if w.Code == http.StatusForbidden {
			t.Fatalf("a correctly signed body was refused: %s", w.Body)
		}
	})
}

// FuzzRequest varies the method, path, headers and body: never a panic or
// a 5xx, and nothing is served without a valid signature.
func FuzzRequest(f *testing.F) {
	f.Add("POST", "/api/v2/invoices/create", testKey, "", "application/json", []byte(fmt.Sprintf(type1, "x")), true)
	f.Add("POST", "/api/v2/invoices/x/cancel/", testKey, "", "", []byte(`{}`), true)
	f.Add("GET", "/v2/invoices?status=pending&limit=5&created_from=0", testKey, "", "", []byte(nil), true)
	f.Add("GET", "/api/v2/callbacks/dead?cursor=00000000-0000-7000-8000-000000000001", testKey, "", "", []byte(nil), true)
	f.Add("POST", "/api/v2/callbacks/00000000-0000-7000-8000-000000000001/redeliver", testKey, "", "", []byte(nil), true)
	f.Add("GET", "/api/v2/refund-claims/awaiting-payout?limit=1000", testKey, "", "", []byte(nil), true)
	f.Add("POST", "/api/v2/invoices/x/refund-claims/00000000-0000-7000-8000-000000000001/paid", testKey, "", "text/plain",
		[]byte(`{"payout_ref":"tx"}`), true)
	f.Add("PUT", "/api/v2/invoices/%2F/cancel", "other", "deadbeef", "application/json; charset=x", []byte(`{`), false)
	f.Add("GET", "/api/v2/openapi.json", "", "", "", []byte(nil), false)
	api := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, method, path, key, sig, contentType string, body []byte, signed bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		req, err := http.NewRequest(method, "http://api.test"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request any client can send
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set(webhook.HeaderProcessingKey, key)
		req.Header.Set(webhook.HeaderProcessingSignature, sig)
		if signed {
			req.Header.Set(webhook.HeaderProcessingSignature, webhook.ProcessingSignature(testSecret, body))
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, req)
		checkAnswer(t, w, method+" "+path)
		authentic := strings.TrimSpace(key) == testKey &&
			webhook.VerifyProcessingSignature(testSecret, body, req.Header.Get(webhook.HeaderProcessingSignature)) == nil
		if w.Code < 300 && !authentic && !strings.HasSuffix(req.URL.Path, "/openapi.json") {
			t.Fatalf("%s %s answered %d without a valid signature", method, path, w.Code)
		}
	})
}
