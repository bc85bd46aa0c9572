package checkout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
)

// requireSecurityHeaders checks the headers every customer page carries
// (see secure): a strict CSP without inline code or nonces, no framing,
// forms posting to the own origin, no referrer, no sniffing, a
// Cache-Control.
func requireSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	h := res.Header
	csp := h.Get("Content-Security-Policy")
	require.Contains(t, csp, "script-src 'self'")
	require.Contains(t, csp, "frame-ancestors 'none'")
	require.Contains(t, csp, "form-action 'self'")
	require.NotContains(t, csp, "unsafe-inline")
	require.NotContains(t, csp, "nonce-")
	require.Equal(t, "DENY", h.Get("X-Frame-Options"))
	require.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	require.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	require.NotEmpty(t, h.Get("Cache-Control"))
}

// inlineCode finds what a strict CSP would block: inline scripts, event
// handler attributes, style attributes and javascript: URLs.
var inlineCode = regexp.MustCompile(`(?i)\son[a-z]+=|\sstyle=|javascript:|<style`)

// requireNoInlineScript checks that every script element loads a file
// and has no content.
func requireNoInlineScript(t *testing.T, body string) {
	t.Helper()
	all := regexp.MustCompile(`(?i)<script`).FindAllStringIndex(body, -1)
	ext := regexp.MustCompile(`<script src="[^"]+" defer></script>`).FindAllStringIndex(body, -1)
	require.Equal(t, len(all), len(ext), "only external scripts")
}

func TestPagesAreStrict(t *testing.T) {
	s := newSite(t)
	created := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	pending := s.create(t, invoice.CreateRequest{ForeignID: "o-2", Timer: true, SenderCurrency: "BTC", Email: "a@example.com"})
	for _, target := range []string{
		"/i/" + created.CheckoutToken, "/i/" + pending.CheckoutToken, "/i/" + pending.CheckoutToken + "/status",
		"/i/NOSUCHTOKEN", "/i/assets/checkout.js", "/i/assets/checkout.css", "/i/assets/logo", "/i/a/b/c",
	} {
		res, body := s.do(t, "GET", target, nil)
		if strings.HasSuffix(target, "/logo") {
			require.Equal(t, "no-referrer", res.Header.Get("Referrer-Policy"))
			continue
		}
		requireSecurityHeaders(t, res)
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			require.NotRegexp(t, inlineCode, body, target)
			requireNoInlineScript(t, body)
			require.Contains(t, body, `<html lang="en">`)
		}
	}
	res, _ := s.do(t, "GET", "/i/assets/logo", nil)
	require.Equal(t, "image/svg+xml", res.Header.Get("Content-Type"))
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "sandbox", "an SVG logo cannot run script")
	res, _ = s.do(t, "GET", "/i/assets/checkout.js", nil, "If-None-Match", res.Header.Get("ETag"))
	require.Equal(t, http.StatusOK, res.StatusCode, "another asset's ETag")
	res, _ = s.do(t, "GET", "/i/assets/checkout.js", nil)
	require.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	res, _ = s.do(t, "GET", "/i/assets/checkout.js", nil, "If-None-Match", res.Header.Get("ETag"))
	require.Equal(t, http.StatusNotModified, res.StatusCode)
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	form := url.Values{"currency": {"BTC"}, "email": {"a@example.com"}}
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		res, _ := s.do(t, "POST", "/i/"+inv.CheckoutToken, form, hdr...)
		require.Equal(t, http.StatusForbidden, res.StatusCode, "%v", hdr)
		requireSecurityHeaders(t, res)
	}
	got, err := s.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Equal(t, invoice.StatusCreated, got.Status, "nothing confirmed")

	res, _ := s.do(t, "POST", "/i/"+inv.CheckoutToken, form, "Sec-Fetch-Site", "same-origin")
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
}

func TestBadInputNeverFails5xx(t *testing.T) {
	s := newSite(t, func(c *Config) { c.RateLimit = RateLimit{PerMinute: 1000, Burst: 1000} })
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	tok := inv.CheckoutToken
	long := strings.Repeat("A", 5000)
	for _, tc := range []struct {
		method, target string
		form           url.Values
		raw            string
		hdr            []string
		want           int
	}{
		{"GET", "/i/", nil, "", nil, 404},
		{"GET", "/i/x", nil, "", nil, 404},
		{"GET", "/i/" + strings.ToLower(tok), nil, "", nil, 404},
		{"GET", "/i/" + tok + "/", nil, "", nil, 404},
		{"GET", "/i/" + tok + "/status/x", nil, "", nil, 404},
		{"GET", "/i/" + long, nil, "", nil, 404},
		{"GET", "/i/" + long + "/status", nil, "", nil, 404},
		{"GET", "/i/%00%ff", nil, "", nil, 404},
		{"GET", "/i/assets/..%2f..%2fetc%2fpasswd", nil, "", nil, 404},
		{"GET", "/i/assets/", nil, "", nil, 404},
		{"POST", "/i/assets/checkout.js", url.Values{}, "", nil, 405},
		{"PUT", "/i/" + tok, nil, "", nil, 405},
		{"DELETE", "/i/" + tok + "/status", nil, "", nil, 405},
		{"POST", "/i/" + tok + "/status", url.Values{}, "", nil, 405},
		{"POST", "/i/NOSUCH", url.Values{"currency": {"BTC"}}, "", nil, 404},
		{"POST", "/i/" + tok, nil, "currency=%zz&email=%", nil, 400},
		{"POST", "/i/" + tok, nil, "currency=" + strings.Repeat("B", 20000), nil, 400},
		{"POST", "/i/" + tok, url.Values{"currency": {long}}, "", nil, 400},
		{"POST", "/i/" + tok, url.Values{"currency": {"XXX"}, "email": {"a@example.com"}}, "", nil, 422},
		{"POST", "/i/" + tok, url.Values{"currency": {"BTC"}, "email": {"not an email"}}, "", nil, 422},
		{"POST", "/i/" + tok, url.Values{"currency": {""}, "email": {""}}, "", nil, 422},
		{"POST", "/i/" + tok, url.Values{"currency": {"BTC\x00"}, "email": {"\xff@x"}}, "", nil, 422},
		{"GET", "/i/" + tok + "?lang=%ff%fe", nil, "", nil, 200},
		{"GET", "/i/" + tok + "?lang=" + long, nil, "", nil, 200},
		{"GET", "/i/" + tok, nil, "", []string{"Accept-Language", long + ";q=x,,;;"}, 200},
		{"GET", "/i/" + tok + "/status", nil, "", []string{"If-None-Match", long}, 200},
	} {
		var res *http.Response
		var body string
		if tc.raw != "" {
			r, b := s.doRaw(t, tc.method, tc.target, tc.raw)
			res, body = r, b
		} else {
			res, body = s.do(t, tc.method, tc.target, tc.form, tc.hdr...)
		}
		require.Equal(t, tc.want, res.StatusCode, "%s %.80s: %.300s", tc.method, tc.target, body)
		requireSecurityHeaders(t, res)
	}
	got, err := s.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Equal(t, invoice.StatusCreated, got.Status)
}

func TestUnknownTokensGetOneAnswer(t *testing.T) {
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	var first string
	for _, tok := range []string{"AAAAAAAAAAAAAAAAAAAAAAAAAA", strings.ToLower(inv.CheckoutToken), "x", inv.CheckoutToken + "A"} {
		res, body := s.do(t, "GET", "/i/"+tok, nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
		if first == "" {
			first = body
		}
		require.Equal(t, first, body, "same page for %q", tok)
	}
	require.Contains(t, first, "Payment link not valid")
}

func TestUnknownTokensRateLimited(t *testing.T) {
	s := newSite(t, func(c *Config) { c.RateLimit = RateLimit{PerMinute: 6, Burst: 3} })
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	for i := range 3 {
		res, _ := s.do(t, "GET", "/i/AAAAAAAAAAAAAAAAAAAAAAAAA"+string(rune('A'+i)), nil)
		require.Equal(t, http.StatusNotFound, res.StatusCode)
	}
	res, body := s.do(t, "GET", "/i/BBBBBBBBBBBBBBBBBBBBBBBBBB/status", nil)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, body)
	require.Equal(t, "60", res.Header.Get("Retry-After"))
	res, _ = s.do(t, "GET", "/i/"+inv.CheckoutToken, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "known invoices are not limited")
	s.Clock.Advance(10 * time.Second)
	res, _ = s.do(t, "GET", "/i/CCCCCCCCCCCCCCCCCCCCCCCCCC", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode, "refilled")

	// Confirmations have their own bucket.
	for range 3 {
		res, _ = s.do(t, "POST", "/i/"+inv.CheckoutToken, url.Values{"currency": {"XXX"}})
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	}
	res, _ = s.do(t, "POST", "/i/"+inv.CheckoutToken, url.Values{"currency": {"BTC"}, "email": {"a@example.com"}})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
}

func TestConfirmForm(t *testing.T) {
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	target := "/i/" + inv.CheckoutToken

	res, body := s.do(t, "POST", target, url.Values{"currency": {"BTC"}, "email": {"nope"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, body, "Please enter a valid e-mail address")
	require.Contains(t, body, `aria-invalid="true"`)
	require.Contains(t, body, `value="nope"`, "what was typed stays")

	res, body = s.do(t, "POST", target, url.Values{"email": {"a@example.com"}})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Contains(t, body, "Please choose a currency.")

	res, _ = s.do(t, "POST", target+"?lang=de", url.Values{"currency": {"BTC"}, "email": {"a@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, inv.CheckoutToken+"?lang=de", res.Header.Get("Location"), "relative to the page, language kept")
	got, err := s.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Equal(t, invoice.StatusPending, got.Status)
	require.Equal(t, "BTC", got.SenderCurrency)

	res, _ = s.do(t, "POST", target, url.Values{"currency": {"ETH"}, "email": {"b@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode, "a repeated post shows the page")
	got, err = s.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	require.Equal(t, "BTC", got.SenderCurrency, "nothing changed")
}

func TestAcceptLanguage(t *testing.T) {
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1", Amount: dec("1234.5")})
	res, body := s.do(t, "GET", "/i/"+inv.CheckoutToken, nil, "Accept-Language", "de-AT,de;q=0.9,en;q=0.5")
	require.Equal(t, "de", res.Header.Get("Content-Language"))
	require.Contains(t, res.Header.Get("Vary"), "Accept-Language")
	require.Contains(t, body, `<html lang="de">`)
	require.Contains(t, body, "1234,50 EUR")
	require.Contains(t, body, "Wählen Sie, wie Sie bezahlen möchten.")

	_, body = s.do(t, "GET", "/i/"+inv.CheckoutToken+"?lang=en", nil, "Accept-Language", "de")
	require.Contains(t, body, `<html lang="en">`, "an explicit choice wins")
	_, body = s.do(t, "GET", "/i/"+inv.CheckoutToken, nil, "Accept-Language", "ja")
	require.Contains(t, body, "1234.50 EUR", "default English")
}

func TestStatusEndpoint(t *testing.T) {
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1", Timer: true, SenderCurrency: "BTC", Email: "a@example.com"})
	target := "/i/" + inv.CheckoutToken + "/status"
	res, body := s.do(t, "GET", target, nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	var st statusResponse
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Equal(t, "pending", st.Status)
	require.Equal(t, phasePay, st.Phase)
	require.EqualValues(t, 900, st.SecondsLeft)
	require.Equal(t, "0.00166667", st.Amount)
	require.Contains(t, st.HTML, `id="qr"`)
	require.Contains(t, st.HTML, `id="pay"`)
	require.NotContains(t, st.HTML, "../", "links relative to the page")
	etag := res.Header.Get("ETag")

	s.Clock.Advance(time.Minute)
	res, _ = s.do(t, "GET", target, nil, "If-None-Match", etag)
	require.Equal(t, http.StatusNotModified, res.StatusCode, "nothing the customer sees changed")

	s.report(t, "o-1", "tx1", "BTC", "0.00166667", invoice.TxNotConfirmed)
	res, body = s.do(t, "GET", target, nil, "If-None-Match", etag)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	require.Equal(t, phaseProcessing, st.Phase)
	require.Equal(t, "0.00166667", st.Received)
	require.Equal(t, "Payment seen. Waiting for confirmations on the network.", st.StatusText)

	res, body = s.do(t, "GET", "/i/AAAAAAAAAAAAAAAAAAAAAAAAAA/status", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	require.JSONEq(t, `{"error":"not_found"}`, body)
}

func TestRefundAndLateExplanations(t *testing.T) {
	s := newSite(t)
	over := s.create(t, invoice.CreateRequest{ForeignID: "over", Timer: true, SenderCurrency: "BTC", Email: "alice@example.com"})
	s.report(t, "over", "t1", "BTC", "0.002", invoice.TxConfirmed)
	_, body := s.do(t, "GET", "/i/"+over.CheckoutToken, nil)
	require.Contains(t, body, "Payment confirmed.")
	require.Contains(t, body, "Refund of 0.00033333 BTC: You paid more than asked. We have sent a link to claim it to a***@example.com.")

	late := s.create(t, invoice.CreateRequest{ForeignID: "late", Timer: true, SenderCurrency: "BTC", Email: "bob@example.com"})
	s.Clock.Advance(16 * time.Minute)
	_, err := s.Engine.Sweep(ctx)
	require.NoError(t, err)
	s.report(t, "late", "t2", "BTC", "0.00166667", invoice.TxNotConfirmed)
	_, body = s.do(t, "GET", "/i/"+late.CheckoutToken, nil)
	require.Contains(t, body, "The time ran out before a payment arrived.")
	require.Contains(t, body, "A payment of 0.00166667 BTC arrived after this invoice was closed")
	require.Contains(t, body, "Payments still waiting for confirmations will be refunded once they are confirmed.")
	s.report(t, "late", "t2", "BTC", "0.00166667", invoice.TxConfirmed)
	_, body = s.do(t, "GET", "/i/"+late.CheckoutToken, nil)
	require.Contains(t, body, "Refund of 0.00166667 BTC: The payment arrived after the invoice was closed.")
	require.NotContains(t, body, "still waiting for confirmations")

	// The customer redeems the claim: the page says so.
	_, err = s.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	notices := s.Customers.Notices("late")
	require.Len(t, notices, 1)
	_, err = s.Engine.RedeemRefundClaim(ctx, notices[0].Token, "bc1qdestination")
	require.NoError(t, err)
	_, body = s.do(t, "GET", "/i/"+late.CheckoutToken+"?lang=de", nil)
	require.Contains(t, body, "Sie haben sie angefordert; sie wird ausgezahlt.")
}

// failingStore fails the checkout look-up as a broken database would.
type failingStore struct{ invoice.Store }

func (failingStore) GetInvoiceByCheckoutToken(context.Context, string) (*invoice.Invoice, error) {
	return nil, errors.New("connection refused")
}

func TestStoreFailureIs503AndTokensAreNotLogged(t *testing.T) {
	var logs bytes.Buffer
	s := newSite(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "o-1"})
	broken := invoiceEngine(t, s, failingStore{s.Store})
	h, err := New(Config{Engine: broken, Clock: s.Clock, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	s.Handler = h
	for _, target := range []string{"/i/" + inv.CheckoutToken, "/i/" + inv.CheckoutToken + "/status"} {
		res, _ := s.do(t, "GET", target, nil)
		require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	}
	res, _ := s.do(t, "POST", "/i/"+inv.CheckoutToken, url.Values{"currency": {"BTC"}, "email": {"a@example.com"}})
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Contains(t, logs.String(), "connection refused")
	require.NotContains(t, logs.String(), inv.CheckoutToken)
}

// invoiceEngine builds a second engine like s's on another store.
func invoiceEngine(t *testing.T, s *testSite, store invoice.Store) *invoice.Engine {
	t.Helper()
	cfg := s.Config
	cfg.Store = store
	e, err := invoice.New(cfg)
	require.NoError(t, err)
	return e
}

func TestCatalogsCoverEveryKey(t *testing.T) {
	s := newSite(t)
	b := s.Handler.cfg.Catalogs
	require.NoError(t, b.Check(), "every language has every key")
	require.Equal(t, []string{"en", "de"}, b.Languages())
	keyRe := regexp.MustCompile(`(?:\.T|T\(|p\.T\(|m\.T\(|errorPage\([^"]*)\s*"([a-z_]+(?:\.[a-z_]+)+)"`)
	files, err := filepath.Glob("templates/*.html")
	require.NoError(t, err)
	goFiles, err := filepath.Glob("*.go")
	require.NoError(t, err)
	used := map[string]bool{}
	for _, f := range append(files, goFiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".html") {
				used[m[1]] = true
			}
		}
		for _, m := range regexp.MustCompile(`"((?:error|reason|form)\.[a-z_.]+)"`).FindAllStringSubmatch(string(b), -1) {
			if !strings.HasSuffix(m[1], ".html") {
				used[m[1]] = true
			}
		}
	}
	for _, st := range []string{"not_confirmed", "confirmed", "cancelled"} {
		used["tx."+st] = true
	}
	require.Greater(t, len(used), 40)
	en := b.Default()
	for key := range used {
		require.True(t, en.Has(key), "en.json lacks %q", key)
	}
}

func TestConfigValidation(t *testing.T) {
	s := newSite(t)
	for _, cfg := range []Config{
		{},
		{Engine: s.Engine, Logo: []byte("x"), LogoType: "text/html"},
		{Engine: s.Engine, Languages: []string{"fr"}},
		{Engine: s.Engine, DefaultLanguage: "fr"},
		{Engine: s.Engine, Networks: map[string]Network{"BTC": {}}},
		{Engine: s.Engine, PollInterval: -time.Second},
		{Engine: s.Engine, RateLimit: RateLimit{PerMinute: 1}},
	} {
		_, err := New(cfg)
		require.Error(t, err, "%+v", cfg)
	}
	h, err := New(Config{Engine: s.Engine, Languages: []string{"de"}})
	require.NoError(t, err)
	require.Equal(t, []string{"en", "de"}, h.cfg.Catalogs.Languages())
}

func TestTagAndUnknownNetwork(t *testing.T) {
	s := newSiteWith(t, func(c *invoice.Config) {
		c.Currencies = append(invoice.DefaultCurrencies(), invoice.Currency{Code: "XRP", Precision: 6, Crypto: true})
		c.AcceptedCurrencies = []string{"BTC", "XRP"}
		c.Rates = invoice.MustStaticRates("BTC/EUR=60000", "XRP/EUR=0.5")
		c.Addresses = invoice.AddressSourceFunc(func(_ context.Context, inv *invoice.Invoice, cur string) (invoice.Address, error) {
			return invoice.Address{Address: "rDsbeomae4FXwgQTJp9Rs64Qg9vDiTCdBv", Tag: "123456"}, nil
		})
	}, func(c *Config) {
		c.Networks = map[string]Network{"XRP": {Name: "XRP Ledger"}}
	})
	inv := s.create(t, invoice.CreateRequest{ForeignID: "x-1", Timer: true, SenderCurrency: "XRP", Email: "a@example.com"})
	_, body := s.do(t, "GET", "/i/"+inv.CheckoutToken, nil)
	require.Contains(t, body, `<strong id="pay-network">XRP Ledger</strong>`)
	require.Contains(t, body, `<code id="pay-tag">123456</code>`)
	require.Contains(t, body, "Include the tag (memo) exactly as shown")
	require.NotContains(t, body, `id="qr"`, "no URI standard carries the tag: no QR code")

	btc := s.create(t, invoice.CreateRequest{ForeignID: "x-2", Timer: true, SenderCurrency: "BTC", Email: "a@example.com"})
	_, body = s.do(t, "GET", "/i/"+btc.CheckoutToken, nil)
	require.Contains(t, body, `<strong id="pay-network">BTC</strong>`, "a currency without a network entry shows its code")
	require.NotContains(t, body, `id="qr"`)
}
