package checkout

import (
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cryptoinvoice/invoice"
)

// Benchmarks of the refund-claim page, per request, in process (no
// network): the page (look-up and render) and the review step (look-up,
// address check and render), against a minimal hand-written handler that
// does the same look-up and renders the same facts with one small
// html/template and no layout, catalogs or security middleware. See
// BENCHMARKS.md.

func claimBenchSite(b *testing.B) *claimSite {
	s := newClaimSite(b, nil, func(c *Config) { c.RateLimit = RateLimit{PerMinute: 1 << 30, Burst: 1 << 30} })
	return s
}

func benchServe(b *testing.B, h http.Handler, newReq func() *http.Request, want int) {
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, newReq())
		if w.Code != want {
			b.Fatalf("status %d, want %d", w.Code, want)
		}
	}
}

func BenchmarkClaimPage(b *testing.B) {
	s := claimBenchSite(b)
	mux := s.mux()
	target := "/i/refund/" + s.token
	benchServe(b, mux, func() *http.Request {
		r := httptest.NewRequest("GET", target, nil)
		r.Header.Set("Accept-Language", "de-DE,de;q=0.9,en;q=0.8")
		return r
	}, http.StatusOK)
}

func BenchmarkClaimReview(b *testing.B) {
	s := claimBenchSite(b)
	mux := s.mux()
	target := "/i/refund/" + s.token
	body := url.Values{"step": {"review"}, "address": {testBTCAddress}}.Encode()
	benchServe(b, mux, func() *http.Request {
		r := httptest.NewRequest("POST", target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}, http.StatusOK)
}

func BenchmarkClaimBadToken(b *testing.B) {
	s := claimBenchSite(b)
	mux := s.mux()
	target := "/i/refund/rc2_" + strings.Repeat("A", 64)
	benchServe(b, mux, func() *http.Request { return httptest.NewRequest("GET", target, nil) }, http.StatusNotFound)
}

// baselineClaim is the minimal hand-written equivalent of the claim page.
var baselineClaim = template.Must(template.New("claim").Parse(`<!doctype html><html lang="en"><head><meta charset="utf-8">` +
	`<title>Claim your refund</title><link rel="stylesheet" href="../assets/checkout.css"></head><body><main>` +
	`<h1>Claim your refund</h1><p>For: {{.Title}}</p><p>Refund <strong>{{.Amount}} {{.Currency}}</strong></p>` +
	`<p>Reason: {{.Reason}}</p><form method="post"><input type="hidden" name="step" value="review">` +
	`<label for="address">Your {{.Currency}} address</label><input id="address" name="address" required>` +
	`<button>Continue</button></form></main></body></html>`))

func BenchmarkClaimPageBaseline(b *testing.B) {
	s := claimBenchSite(b)
	h := http.StripPrefix("/i/refund/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info, err := s.Engine.LookupRefundClaim(r.Context(), r.URL.Path)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if info.Status != invoice.RefundOpen {
			http.Error(w, "claimed", http.StatusConflict)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = baselineClaim.Execute(w, info)
	}))
	target := "/i/refund/" + s.token
	benchServe(b, h, func() *http.Request { return httptest.NewRequest("GET", target, nil) }, http.StatusOK)
}
