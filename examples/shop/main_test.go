package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice/examples/internal/exampletest"
	"github.com/stretchr/testify/require"
)

func startShop(t *testing.T, args ...string) (string, *exampletest.Buffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out exampletest.Buffer
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-key", "K", "-secret", "S"}, args...), &out, io.Discard, ready)
	}()
	var base string
	select {
	case base = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("shop did not start")
	}
	stop := func() error { cancel(); return <-done }
	t.Cleanup(func() { cancel() })
	return base, &out, stop
}

// post sends a same-origin form post without following redirects.
func post(t *testing.T, target string, form url.Values) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", target, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	res, err := http.DefaultTransport.RoundTrip(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	return res
}

func get(t *testing.T, target string) string {
	t.Helper()
	res, err := http.Get(target)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode, string(b))
	return string(b)
}

func TestShopFlowWithSimulatedPayments(t *testing.T) {
	base, out, stop := startShop(t, "-simulate")
	require.Contains(t, out.String(), "demo shop on "+base+"/")

	res := post(t, base+"/orders", url.Values{"title": {"Beans"}, "amount": {"25"}, "type": {"3"}, "email": {"a@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	checkoutURL := res.Header.Get("Location")
	require.Regexp(t, `^`+base+`/i/[A-Z2-7]{26}$`, checkoutURL)
	page := get(t, checkoutURL)
	require.Contains(t, page, "0.00041667", "25 EUR in BTC on the checkout page")

	require.Equal(t, http.StatusSeeOther, post(t, base+"/dev/pay", url.Values{"foreign_id": {"order-1"}, "action": {"seen"}}).StatusCode)
	require.Contains(t, get(t, checkoutURL), `data-phase="processing"`)
	require.Equal(t, http.StatusSeeOther, post(t, base+"/dev/pay", url.Values{"foreign_id": {"order-1"}, "action": {"confirm"}}).StatusCode)
	require.Contains(t, get(t, checkoutURL), `data-phase="confirmed"`)
	require.Contains(t, get(t, base+"/"), "confirmed")
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "callback → order-1: confirmed") },
		10*time.Second, 50*time.Millisecond, "callbacks printed")

	// An underpaid order: the refund e-mail lands in the terminal.
	res = post(t, base+"/orders", url.Values{"title": {"Tea"}, "amount": {"10"}, "type": {"3"}, "email": {"b@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	require.Equal(t, http.StatusSeeOther, post(t, base+"/dev/pay", url.Values{"foreign_id": {"order-2"}, "action": {"part"}}).StatusCode)
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "To: b@example.com") },
		10*time.Second, 50*time.Millisecond, "e-mail printed")

	require.Equal(t, http.StatusNotFound, post(t, base+"/dev/pay", url.Values{"foreign_id": {"nope"}, "action": {"seen"}}).StatusCode)
	require.NoError(t, stop(), "a clean stop")
	require.Contains(t, out.String(), "stopped")
}

func TestShopSimulationOffByDefault(t *testing.T) {
	base, out, stop := startShop(t)
	require.NotContains(t, out.String(), "simulated payments")
	res := post(t, base+"/orders", url.Values{"title": {"Beans"}, "amount": {"25"}, "type": {"3"}, "email": {"a@example.com"}})
	require.Equal(t, http.StatusSeeOther, res.StatusCode)
	res = post(t, base+"/dev/pay", url.Values{"foreign_id": {"order-1"}, "action": {"seen"}})
	require.NotEqual(t, http.StatusSeeOther, res.StatusCode, "no simulation without -simulate")
	require.NotContains(t, get(t, base+"/"), "simulate:")
	require.NoError(t, stop())
}

func TestShopMerchantAPI(t *testing.T) {
	base, out, stop := startShop(t)
	require.Contains(t, out.String(), "merchant API on "+base+"/api/v2")
	body := `{"foreign_id":"api-1","title":"Beans","amount":"25","currency":"EUR","timer":true,"sender_currency":"BTC","email_user":"a@example.com"}`
	mac := hmac.New(sha512.New, []byte("S"))
	mac.Write([]byte(body))
	req, err := http.NewRequest("POST", base+"/api/v2/invoices/create", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Processing-Key", "K")
	req.Header.Set("X-Processing-Signature", hex.EncodeToString(mac.Sum(nil)))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var created struct {
		Data struct {
			URL string `json:"url"`
		} `json:"data"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&created))
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Regexp(t, `^`+base+`/i/[A-Z2-7]{26}$`, created.Data.URL, "the checkout link")
	require.Contains(t, get(t, created.Data.URL), "0.00041667", "served by the checkout pages")

	req, err = http.NewRequest("POST", base+"/api/v2/invoices/create", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("X-Processing-Key", "K")
	req.Header.Set("X-Processing-Signature", "00")
	res, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = res.Body.Close()
	require.Equal(t, http.StatusForbidden, res.StatusCode, "a bad signature")
	require.NoError(t, stop())
}

func TestShopFlags(t *testing.T) {
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0"}, io.Discard, io.Discard, nil)
	require.ErrorIs(t, err, flag.ErrHelp, "-key and -secret are required")
}
