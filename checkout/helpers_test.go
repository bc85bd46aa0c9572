package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

var ctx = context.Background()

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

// testSite is an engine harness with the checkout handler mounted at /i/.
type testSite struct {
	*invoicetest.Harness
	Handler *Handler
	Server  *httptest.Server // nil until started
}

// newSite builds the harness and the handler; opts change the checkout
// configuration.
func newSite(t testing.TB, opts ...func(*Config)) *testSite {
	t.Helper()
	return newSiteWith(t, nil, opts...)
}

// newSiteWith is newSite with a change to the engine's configuration.
func newSiteWith(t testing.TB, engineOpt func(*invoice.Config), opts ...func(*Config)) *testSite {
	t.Helper()
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.CheckoutBaseURL = "http://127.0.0.1/i"
		c.AcceptedCurrencies = []string{"BTC", "ETH", "USDTE"}
		c.Addresses = testAddresses
		if engineOpt != nil {
			engineOpt(c)
		}
	})
	cfg := Config{Engine: h.Engine, MerchantName: "Demo Shop", Clock: h.Clock, Logo: testLogo, LogoType: "image/svg+xml"}
	for _, o := range opts {
		o(&cfg)
	}
	hd, err := New(cfg)
	require.NoError(t, err)
	return &testSite{Harness: h, Handler: hd}
}

// testAddresses hands out realistic-looking deposit addresses, derived
// from the foreign id: bech32-like for BTC, 0x-hex for ETH and USDTE.
var testAddresses = invoice.AddressSourceFunc(func(_ context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
	sum := sha256.Sum256([]byte(inv.ForeignID + "/" + currency))
	switch currency {
	case "ETH", "USDTE":
		return invoice.Address{Address: "0x" + hex.EncodeToString(sum[:20])}, nil
	}
	return invoice.Address{Address: "bc1q" + hex.EncodeToString(sum[:19])}, nil
})

var testLogo = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><circle cx="20" cy="20" r="18" fill="#0b57d0"/></svg>`)

func (s *testSite) mux() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/i/", http.StripPrefix("/i", s.Handler))
	return mux
}

// start serves the site on a loopback port.
func (s *testSite) start(t testing.TB) string {
	t.Helper()
	s.Server = httptest.NewServer(s.mux())
	t.Cleanup(s.Server.Close)
	return s.Server.URL
}

// do runs one request through the handler in process.
func (s *testSite) do(t testing.TB, method, target string, body url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	r := httptest.NewRequest(method, target, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return s.serve(r)
}

// doRaw sends a raw form body.
func (s *testSite) doRaw(t testing.TB, method, target, body string) (*http.Response, string) {
	t.Helper()
	return s.serve(newRequest(method, target, body, "application/x-www-form-urlencoded"))
}

// newRequest is a request with a raw body and, unless ctype is empty, a
// Content-Type.
func newRequest(method, target, body, ctype string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return r
}

// serve runs one prepared request through the handler in process and
// returns the response with its body read.
func (s *testSite) serve(r *http.Request) (*http.Response, string) {
	w := httptest.NewRecorder()
	s.mux().ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (s *testSite) create(t testing.TB, req invoice.CreateRequest) *invoice.Invoice {
	t.Helper()
	if req.Title == "" {
		req.Title = "Order " + req.ForeignID
	}
	if req.Amount.IsZero() {
		req.Amount = dec("100")
	}
	if req.Currency == "" {
		req.Currency = "EUR"
	}
	inv, err := s.Engine.Create(ctx, req)
	require.NoError(t, err)
	return inv
}

func (s *testSite) report(t testing.TB, foreignID, txid, currency, amount string, st invoice.TxStatus) *invoice.Invoice {
	t.Helper()
	conf := int64(0)
	if st == invoice.TxConfirmed {
		conf = 1 // a confirmed transaction has at least one confirmation
	}
	inv, err := s.Engine.ReportTransaction(ctx, foreignID, invoice.TransactionReport{
		TxID: txid, Currency: currency, Amount: dec(amount), Confirmations: conf, Status: st,
	})
	require.NoError(t, err)
	return inv
}
