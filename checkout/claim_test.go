package checkout

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestClaimRedeemsOnce(t *testing.T) {
	for name, opts := range map[string][]func(*invoice.Config){
		"deterministic IDs":     nil,
		"default configuration": {invoicetest.DefaultIDs},
	} {
		t.Run(name, func(t *testing.T) {
			s := newClaimSite(t, opts)
			page := "/i/refund/" + s.token

			res, body := s.do(t, "GET", page, nil)
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Contains(t, body, `<strong id="claim-amount">0.001 BTC</strong>`)
			assert.Contains(t, body, "Less than the amount asked was paid in time.", "the reason, translated")
			assert.Contains(t, body, "For: Order o-1")
			assert.Contains(t, body, `name="address"`)
			assert.Contains(t, body, `value="review"`)
			assert.Contains(t, body, "on the Bitcoin network")
			assert.Contains(t, body, `action="../refund/`+s.token+`"`)

			// A bad address: the field error next to the input, nothing redeemed.
			res, body = s.do(t, "POST", page, form("step", "review", "address", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"))
			assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
			assert.Contains(t, body, `aria-invalid="true"`)
			assert.Contains(t, body, `<p class="error" id="address-error" role="alert">This is not a valid BTC address. Please check it.</p>`)
			assert.Contains(t, body, `value="1BoatSLRHtKNngkdXEeobR76b53LETtpyT"`, "what was typed is kept")
			res, body = s.do(t, "POST", page, form("step", "review", "address", "  "))
			assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
			assert.Contains(t, body, "Please enter the address the refund should be sent to.")
			// Even redeem with a bad address is refused by the engine.
			res, _ = s.do(t, "POST", page, form("step", "redeem", "address", "nope"))
			assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
			assert.Equal(t, invoice.RefundOpen, s.claim(t).Status)

			// A good address: the confirmation step, still nothing redeemed.
			res, body = s.do(t, "POST", page, form("step", "review", "address", " "+testBTCAddress+" "))
			require.Equal(t, http.StatusOK, res.StatusCode, body)
			assert.Contains(t, body, `<code id="review-address" class="address">`+testBTCAddress+`</code>`)
			assert.Contains(t, body, `<input type="hidden" name="step" value="redeem">`)
			assert.Equal(t, invoice.RefundOpen, s.claim(t).Status)

			// "Change the address" goes back to the form with it filled in.
			res, body = s.do(t, "POST", page, form("step", "edit", "address", testBTCAddress))
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, body, `id="address" name="address"`)
			assert.Contains(t, body, `value="`+testBTCAddress+`"`)

			// Confirm: redeemed, then the page says so.
			res, _ = s.do(t, "POST", page, form("step", "redeem", "address", testBTCAddress))
			require.Equal(t, http.StatusSeeOther, res.StatusCode)
			assert.Equal(t, s.token+"?done=1", res.Header.Get("Location"), "relative to the page, so any mount point works")
			rc := s.claim(t)
			assert.Equal(t, invoice.RefundRedeemed, rc.Status)
			assert.Equal(t, testBTCAddress, rc.Destination)

			res, body = s.do(t, "GET", page+"?done=1", nil)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, body, "Refund claimed")
			assert.Contains(t, body, `<code id="claim-destination" class="address">`+testBTCAddress+`</code>`)

			// A second visit: already claimed, no form.
			res, body = s.do(t, "GET", page, nil)
			assert.Equal(t, http.StatusOK, res.StatusCode)
			assert.Contains(t, body, "This refund has already been claimed")
			assert.NotContains(t, body, `name="address"`)

			// A second submit, to another address: refused, nothing changes.
			other := "bc1q" + strings.Repeat("x", 38)
			for _, step := range []string{"redeem", "review"} {
				res, body = s.do(t, "POST", page, form("step", step, "address", other))
				assert.Equal(t, http.StatusConflict, res.StatusCode)
				assert.Contains(t, body, "It cannot be claimed again.")
			}
			assert.Equal(t, testBTCAddress, s.claim(t).Destination)
			_, err := s.Engine.RedeemRefundClaim(ctx, s.token, other)
			assert.ErrorIs(t, err, invoice.ErrRefundClaimRedeemed)

			// Paid out: the page says so.
			_, err = s.Engine.MarkRefundClaimPaid(ctx, "o-1", rc.ID, "payout-tx-1")
			require.NoError(t, err)
			_, body = s.do(t, "GET", page, nil)
			assert.Contains(t, body, "The refund has been sent to this address.")
		})
	}
}

func TestClaimEveryBadTokenGetsTheSameAnswer(t *testing.T) {
	s := newClaimSite(t, nil)
	second := underpay(t, s.testSite, "o-2")
	flipped := []byte(s.token)
	flipped[len(flipped)-3] ^= 1 // still base64url, wrong tag
	// A token of o-2 with o-1's invoice ID: the IDs do not match the tag.
	mixed := s.token[:4+22] + second[4+22:]
	tokens := map[string]string{
		"empty":             "",
		"short":             "x",
		"checkout-like":     "abcdefghijklmnopqrstuvwxyz234567",
		"right shape":       "rc2_" + strings.Repeat("A", 64),
		"flipped tag":       string(flipped),
		"mixed":             mixed,
		"with suffix":       s.token + "x",
		"legacy shape":      "rc_" + strings.Repeat("A", 43) + "_secret",
		"too long":          "rc2_" + strings.Repeat("A", 400),
		"percent-encoded":   "rc2_%00%ff",
		"unicode":           "rc2_ü",
		"query-looking":     "rc2_a%3Fb",
		"another's prefix":  strings.Repeat("_", 68),
		"lower-cased token": strings.ToLower(s.token),
	}
	var want string
	for name, tok := range tokens {
		for _, method := range []string{"GET", "POST", "HEAD"} {
			t.Run(name+"/"+method, func(t *testing.T) {
				var body url.Values
				if method == "POST" {
					body = form("step", "redeem", "address", testBTCAddress)
				}
				res, got := s.do(t, method, "/i/refund/"+tok, body)
				assert.Equal(t, http.StatusNotFound, res.StatusCode)
				if method == "HEAD" {
					return
				}
				if want == "" {
					want = got
					assert.Contains(t, want, "Refund link not valid")
				}
				assert.Equal(t, want, got, "the same body for every bad token")
			})
		}
	}
	// Another depth under /refund/ is not found either (its relative asset
	// links differ, so only the status and text are compared).
	for _, path := range []string{"/i/refund/" + s.token + "/x", "/i/refund/" + s.token + "/", "/i/refund/a/b/c"} {
		res, got := s.do(t, "GET", path, nil)
		assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
		assert.Contains(t, got, "Refund link not valid")
	}
	assert.Equal(t, invoice.RefundOpen, s.claim(t).Status, "nothing redeemed")
	res, _ := s.do(t, "GET", "/i/refund/"+second, nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, "the real tokens still work")
}

func TestClaimRateLimit(t *testing.T) {
	s := newClaimSite(t, nil, func(c *Config) { c.RateLimit = RateLimit{PerMinute: 6, Burst: 3} })
	get := func(tok, ip string) *http.Response {
		t.Helper()
		res, _ := s.do(t, "GET", "/i/refund/"+tok, nil, "X-Test-IP", ip)
		return res
	}
	s.Handler.cfg.ClientIP = func(r *http.Request) string { return r.Header.Get("X-Test-IP") }
	for i := range 3 {
		assert.Equal(t, http.StatusNotFound, get("bad"+string(rune('a'+i)), "192.0.2.1").StatusCode)
	}
	res := get(s.token, "192.0.2.1")
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the bucket is per client and counts every claim request")
	assert.Equal(t, "60", res.Header.Get("Retry-After"))
	res, body := s.do(t, "POST", "/i/refund/"+s.token, form("step", "redeem", "address", testBTCAddress), "X-Test-IP", "192.0.2.1")
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode, body)
	assert.Equal(t, invoice.RefundOpen, s.claim(t).Status)

	assert.Equal(t, http.StatusOK, get(s.token, "192.0.2.2").StatusCode, "another client has its own bucket")
	s.Clock.Advance(10 * time.Second) // one token per 10 s
	assert.Equal(t, http.StatusOK, get(s.token, "192.0.2.1").StatusCode)
	assert.Equal(t, http.StatusTooManyRequests, get(s.token, "192.0.2.1").StatusCode)
}

var (
	inlineScript  = regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	inlineHandler = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
)

func TestClaimSecurity(t *testing.T) {
	s := newClaimSite(t, nil)
	page := "/i/refund/" + s.token
	for _, step := range []url.Values{nil, form("step", "review", "address", testBTCAddress), form("step", "review", "address", "bad")} {
		method := "GET"
		if step != nil {
			method = "POST"
		}
		res, body := s.do(t, method, page, step)
		requireSecurityHeaders(t, res)
		assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		assert.NotRegexp(t, inlineScript, body, "no inline script")
		assert.NotRegexp(t, inlineHandler, body, "no inline event handler")
		assert.NotContains(t, body, "style=", "no inline style")
	}

	// A cross-origin form post (CSRF) is refused before it reaches the page.
	for _, hdr := range [][]string{
		{"Sec-Fetch-Site", "cross-site"},
		{"Origin", "https://evil.example"},
	} {
		res, _ := s.do(t, "POST", page, form("step", "redeem", "address", testBTCAddress), hdr...)
		assert.Equal(t, http.StatusForbidden, res.StatusCode, hdr)
	}
	assert.Equal(t, invoice.RefundOpen, s.claim(t).Status)
	res, _ := s.do(t, "POST", page, form("step", "redeem", "address", testBTCAddress), "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusSeeOther, res.StatusCode, "a same-origin post is allowed")

	// Escaping: the reason and title come from the merchant and engine.
	s2 := newClaimSite(t, nil)
	res, body := s2.do(t, "POST", "/i/refund/"+s2.token, form("step", "review", "address", `"><script>alert(1)</script>`))
	assert.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	assert.NotContains(t, body, "<script>alert(1)")
	assert.Contains(t, body, `value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
}

func TestClaimBadInputIsNever5xx(t *testing.T) {
	s := newClaimSite(t, nil)
	page := "/i/refund/" + s.token
	cases := map[string]struct {
		method, ctype, body string
		want                int
	}{
		"unknown step":       {"POST", "application/x-www-form-urlencoded", "step=launch&address=" + testBTCAddress, http.StatusOK},
		"no step":            {"POST", "application/x-www-form-urlencoded", "address=" + testBTCAddress, http.StatusOK},
		"bad encoding":       {"POST", "application/x-www-form-urlencoded", "step=review&address=%zz", http.StatusBadRequest},
		"body too large":     {"POST", "application/x-www-form-urlencoded", "address=" + strings.Repeat("a", 9000), http.StatusBadRequest},
		"address too long":   {"POST", "application/x-www-form-urlencoded", "address=" + strings.Repeat("a", 600), http.StatusUnprocessableEntity},
		"control characters": {"POST", "application/x-www-form-urlencoded", "address=bc1q%00%0a", http.StatusUnprocessableEntity},
		"invalid UTF-8":      {"POST", "application/x-www-form-urlencoded", "address=%ff%fe", http.StatusUnprocessableEntity},
		"json body":          {"POST", "application/json", `{"address":"x"}`, http.StatusUnprocessableEntity},
		"multipart garbage":  {"POST", "multipart/form-data; boundary=x", "--x\r\nbroken", http.StatusUnprocessableEntity},
		"PUT":                {"PUT", "", "", http.StatusMethodNotAllowed},
		"DELETE":             {"DELETE", "", "", http.StatusMethodNotAllowed},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRequest(tc.method, page, tc.body, tc.ctype)
			res, body := s.serve(r)
			assert.Equal(t, tc.want, res.StatusCode, body)
			assert.Less(t, res.StatusCode, 500)
		})
	}
	assert.Equal(t, invoice.RefundOpen, s.claim(t).Status)
}

func TestClaimStoreFailureIs503AndLogsNoToken(t *testing.T) {
	var logs bytes.Buffer
	s := newClaimSite(t, nil, func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	s.store.fail.Store(true)
	res, body := s.do(t, "GET", "/i/refund/"+s.token, nil)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode, body)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
	res, _ = s.do(t, "POST", "/i/refund/"+s.token, form("step", "redeem", "address", testBTCAddress))
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	s.store.fail.Store(false)
	res, _ = s.do(t, "POST", "/i/refund/"+s.token, form("step", "redeem", "address", testBTCAddress))
	assert.Equal(t, http.StatusSeeOther, res.StatusCode)
	assert.Contains(t, logs.String(), "store down")
	assert.NotContains(t, logs.String(), s.token)
	assert.NotContains(t, logs.String(), s.token[4:20])
	assert.NotContains(t, logs.String(), "/refund/")
}

func TestClaimTranslated(t *testing.T) {
	s := newClaimSite(t, nil)
	page := "/i/refund/" + s.token
	_, body := s.do(t, "GET", page, nil, "Accept-Language", "de-DE,de;q=0.9,en;q=0.5")
	assert.Contains(t, body, `<html lang="de">`)
	assert.Contains(t, body, "Rückerstattung anfordern")
	assert.Contains(t, body, "Ihre BTC-Adresse")
	_, body = s.do(t, "POST", page+"?lang=de", form("step", "review", "address", "bad"))
	assert.Contains(t, body, "Dies ist keine gültige BTC-Adresse.")
	assert.Contains(t, body, `action="../refund/`+s.token+`?lang=de"`, "the chosen language is kept")
	res, _ := s.do(t, "POST", page+"?lang=de", form("step", "redeem", "address", testBTCAddress))
	assert.Equal(t, s.token+"?done=1&lang=de", res.Header.Get("Location"))
	_, body = s.do(t, "GET", page+"?done=1&lang=de", nil)
	assert.Contains(t, body, "Rückerstattung angefordert")
	_, body = s.do(t, "GET", "/i/refund/nope", nil, "Accept-Language", "de")
	assert.Contains(t, body, "Rückerstattungslink ungültig")

	// Every claim key exists in every catalog.
	require.NoError(t, s.Handler.cfg.Catalogs.Check())
	for _, lang := range s.Handler.cfg.Catalogs.Languages() {
		m := s.Handler.cfg.Catalogs.Lookup(lang)
		for _, key := range claimKeys(t) {
			assert.True(t, m.Has(key), "%s lacks %s", lang, key)
		}
	}
}

// claimKeys are the catalog keys claim.html and claim*.go use.
func claimKeys(t *testing.T) []string {
	t.Helper()
	var keys []string
	re := regexp.MustCompile(`"(claim\.[a-z_.]+)"`)
	for _, name := range []string{"templates/claim.html"} {
		b, err := siteFS.ReadFile(name)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
	}
	require.NotEmpty(t, keys)
	return keys
}

func TestClaimConcurrentRedeemsSucceedOnce(t *testing.T) {
	s := newClaimSite(t, []func(*invoice.Config){invoicetest.DefaultIDs})
	page := "/i/refund/" + s.token
	const n = 16
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			addr := testBTCAddress
			if i%2 == 1 {
				addr = "bc1q" + strings.Repeat(string(rune('a'+i)), 38)
			}
			res, _ := s.do(t, "POST", page, form("step", "redeem", "address", addr))
			codes <- res.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	assert.Equal(t, map[int]int{http.StatusSeeOther: 1, http.StatusConflict: n - 1}, count)
	assert.Equal(t, invoice.RefundRedeemed, s.claim(t).Status)
}
