package rates_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/rates"
)

// newFeed builds each adapter against a local server.
var newFeed = map[string]func(base string, c *http.Client) invoice.RateSource{
	"coinbase": func(base string, c *http.Client) invoice.RateSource { return &rates.Coinbase{BaseURL: base, Client: c} },
	"kraken":   func(base string, c *http.Client) invoice.RateSource { return &rates.Kraken{BaseURL: base, Client: c} },
	"binance":  func(base string, c *http.Client) invoice.RateSource { return &rates.Binance{BaseURL: base, Client: c} },
	"coingecko": func(base string, c *http.Client) invoice.RateSource {
		return &rates.CoinGecko{BaseURL: base, Client: c, Clock: invoicetest.NewClock(invoicetest.Epoch.Add(time.Minute))}
	},
}

// feedCase is one replayed answer and what the adapter must make of it.
type feedCase struct {
	name, feed, pay, inv, uri string
	reply                     reply
	want                      string // the rate, exactly; "" when an error is expected
	kind                      error
	status                    int
	retryAfter                time.Duration
	message                   string // part of FeedError.Message
}

// TestFeeds replays each feed's documented answers and error shapes.
func TestFeeds(t *testing.T) {
	tests := []feedCase{
		{name: "coinbase spot", feed: "coinbase", pay: "BTC", inv: "EUR", uri: coinbaseBTCEUR,
			reply: reply{file: "coinbase/spot_btc_eur.json"}, want: "60123.45"},
		{name: "coinbase unknown pair", feed: "coinbase", pay: "XYZ", inv: "EUR", uri: "/v2/prices/XYZ-EUR/spot",
			reply: reply{status: 404, file: "coinbase/error_not_found.json"}, kind: rates.ErrUnknownPair, status: 404, message: "not_found: Invalid currency"},
		{name: "coinbase rate limit", feed: "coinbase", pay: "BTC", inv: "EUR", uri: coinbaseBTCEUR,
			reply: reply{status: 429, file: "coinbase/error_rate_limit.json", header: map[string]string{"Retry-After": "12"}},
			kind:  rates.ErrRateLimited, status: 429, retryAfter: 12 * time.Second, message: "rate_limit_exceeded"},
		{name: "coinbase answers another pair", feed: "coinbase", pay: "BTC", inv: "USD", uri: "/v2/prices/BTC-USD/spot",
			reply: reply{file: "coinbase/spot_btc_eur.json"}, kind: rates.ErrMalformed, status: 200},

		{name: "kraken ticker, XXBTZEUR key", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{file: "kraken/ticker_xbteur.json"}, want: "60125.30000"},
		{name: "kraken unknown pair with HTTP 200", feed: "kraken", pay: "BTC", inv: "XYZ", uri: "/0/public/Ticker?pair=XBTXYZ",
			reply: reply{file: "kraken/error_unknown_pair.json"}, kind: rates.ErrUnknownPair, status: 200, message: "EQuery:Unknown asset pair"},
		{name: "kraken rate limit with HTTP 200", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{file: "kraken/error_rate_limit.json"}, kind: rates.ErrRateLimited, status: 200, message: "EAPI:Rate limit exceeded"},
		{name: "kraken service unavailable with HTTP 200", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{file: "kraken/error_unavailable.json"}, kind: rates.ErrUnavailable, status: 200, message: "EService:Unavailable"},
		{name: "kraken empty result", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{body: `{"error":[],"result":{}}`}, kind: rates.ErrUnknownPair, status: 200},
		{name: "kraken two results, none asked", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{body: `{"error":[],"result":{"A":{"c":["1","1"]},"B":{"c":["2","1"]}}}`}, kind: rates.ErrMalformed, status: 200},
		{name: "kraken no last trade", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{body: `{"error":[],"result":{"XXBTZEUR":{"a":["1","1","1"]}}}`}, kind: rates.ErrMalformed, status: 200},
		{name: "kraken warning only", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{body: `{"error":["WGeneral:Something"],"result":{"XXBTZEUR":{"c":["60000.1","1"]}}}`}, want: "60000.1"},
		{name: "kraken 520 from its CDN", feed: "kraken", pay: "BTC", inv: "EUR", uri: krakenBTCEUR,
			reply: reply{status: 520, body: `<html>error</html>`, header: map[string]string{"Content-Type": "text/html"}}, kind: rates.ErrUnavailable, status: 520},

		{name: "binance price", feed: "binance", pay: "BTC", inv: "EUR", uri: binanceBTCEUR,
			reply: reply{file: "binance/price_btceur.json"}, want: "60120.01000000"},
		{name: "binance invalid symbol", feed: "binance", pay: "BTC", inv: "XYZ", uri: "/api/v3/ticker/price?symbol=BTCXYZ",
			reply: reply{status: 400, file: "binance/error_invalid_symbol.json"}, kind: rates.ErrUnknownPair, status: 400, message: "-1121 Invalid symbol."},
		{name: "binance 429 with Retry-After", feed: "binance", pay: "BTC", inv: "EUR", uri: binanceBTCEUR,
			reply: reply{status: 429, file: "binance/error_too_many_requests.json", header: map[string]string{"Retry-After": "30"}},
			kind:  rates.ErrRateLimited, status: 429, retryAfter: 30 * time.Second, message: "-1003 Too much request weight"},
		{name: "binance 418 IP ban", feed: "binance", pay: "BTC", inv: "EUR", uri: binanceBTCEUR,
			reply: reply{status: 418, body: `{"code":-1003,"msg":"Way too much request weight used; IP banned until 1767229200000."}`, header: map[string]string{"Retry-After": "3600"}},
			kind:  rates.ErrRateLimited, status: 418, retryAfter: time.Hour},
		{name: "binance answers another symbol", feed: "binance", pay: "BTC", inv: "EUR", uri: binanceBTCEUR,
			reply: reply{body: `{"symbol":"ETHEUR","price":"3000.00"}`}, kind: rates.ErrMalformed, status: 200},

		{name: "coingecko JSON number, exactly", feed: "coingecko", pay: "BTC", inv: "EUR", uri: coingeckoBTCEUR,
			reply: reply{file: "coingecko/simple_price_btc_eur.json"}, want: "60123.4512345678901234"},
		{name: "coingecko exponent number", feed: "coingecko", pay: "USDT", inv: "BTC",
			uri:   "/api/v3/simple/price?ids=tether&include_last_updated_at=true&precision=full&vs_currencies=btc",
			reply: reply{file: "coingecko/simple_price_usdt_btc.json"}, want: "0.00001663"},
		{name: "coingecko unknown id", feed: "coingecko", pay: "BTC", inv: "EUR", uri: coingeckoBTCEUR,
			reply: reply{file: "coingecko/empty.json"}, kind: rates.ErrUnknownPair, status: 200},
		{name: "coingecko 429", feed: "coingecko", pay: "BTC", inv: "EUR", uri: coingeckoBTCEUR,
			reply: reply{status: 429, file: "coingecko/error_rate_limit.json", header: map[string]string{"Retry-After": "60"}},
			kind:  rates.ErrRateLimited, status: 429, retryAfter: time.Minute, message: "exceeded the Rate Limit"},
		{name: "coingecko null price", feed: "coingecko", pay: "BTC", inv: "EUR", uri: coingeckoBTCEUR,
			reply: reply{body: `{"bitcoin":{"eur":null,"last_updated_at":1767225600}}`}, kind: rates.ErrMalformed, status: 200},
		{name: "coingecko stale price", feed: "coingecko", pay: "BTC", inv: "EUR", uri: coingeckoBTCEUR,
			reply: reply{body: `{"bitcoin":{"eur":60000,"last_updated_at":1767224000}}`}, kind: rates.ErrStale, status: 200},
		{name: "coingecko no last_updated_at", feed: "coingecko", pay: "BTC", inv: "EUR", uri: coingeckoBTCEUR,
			reply: reply{body: `{"bitcoin":{"eur":60000}}`}, kind: rates.ErrMalformed, status: 200},
	}
	for _, feed := range []string{"coinbase", "kraken", "binance", "coingecko"} {
		uri := map[string]string{"coinbase": coinbaseBTCEUR, "kraken": krakenBTCEUR, "binance": binanceBTCEUR, "coingecko": coingeckoBTCEUR}[feed]
		field := map[string]string{
			"coinbase":  `{"data":{"amount":%s,"base":"BTC","currency":"EUR"}}`,
			"kraken":    `{"error":[],"result":{"XXBTZEUR":{"c":[%s,"1"]}}}`,
			"binance":   `{"symbol":"BTCEUR","price":%s}`,
			"coingecko": `{"bitcoin":{"eur":%s,"last_updated_at":1767225600}}`,
		}[feed]
		for _, c := range []struct {
			name, value string
			kind        error
			want        string
		}{
			{"zero", `"0.00"`, rates.ErrNonPositive, ""},
			{"zero number", `0`, rates.ErrNonPositive, ""},
			{"negative", `"-60000.5"`, rates.ErrNonPositive, ""},
			{"not a number", `"sixty thousand"`, rates.ErrMalformed, ""},
			{"empty string", `""`, rates.ErrMalformed, ""},
			{"boolean", `true`, rates.ErrMalformed, ""},
			{"huge exponent", `"1e-999999"`, rates.ErrMalformed, ""},
			{"JSON number", `60000.123456789012345678`, nil, "60000.123456789012345678"},
			{"string", `"60000.10"`, nil, "60000.10"},
		} {
			tests = append(tests, feedCase{name: feed + " price " + c.name, feed: feed, pay: "BTC", inv: "EUR", uri: uri,
				reply: reply{body: strings.Replace(field, "%s", c.value, 1)}, want: c.want, kind: c.kind, status: 200})
		}
		tests = append(tests, feedCase{name: feed + " not JSON", feed: feed, pay: "BTC", inv: "EUR", uri: uri,
			reply: reply{body: `<html>maintenance</html>`}, kind: rates.ErrMalformed, status: 200},
			feedCase{name: feed + " 503 with an HTTP-date Retry-After", feed: feed, pay: "BTC", inv: "EUR", uri: uri,
				reply: reply{status: 503, body: `upstream down`, header: map[string]string{
					"Retry-After": "Thu, 01 Jan 2026 00:02:00 GMT", "Date": "Thu, 01 Jan 2026 00:00:30 GMT"}},
				kind: rates.ErrUnavailable, status: 503, retryAfter: 90 * time.Second})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newFeedServer(t, map[string]reply{tt.uri: tt.reply})
			src := newFeed[tt.feed](srv.URL, srv.Client())
			got, err := src.Rate(context.Background(), tt.pay, tt.inv)
			if srv.count(tt.uri) != 1 {
				t.Errorf("feed asked %d times for %s, want 1", srv.count(tt.uri), tt.uri)
			}
			if tt.want != "" {
				if err != nil {
					t.Fatalf("Rate: %v", err)
				}
				if !got.Equal(dec(tt.want)) {
					t.Fatalf("Rate = %s, want exactly %s", got, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("Rate = %s, want an error", got)
			}
			if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, tt.kind) {
				t.Fatalf("error %v does not match invoice.ErrRate and %v", err, tt.kind)
			}
			var fe *rates.FeedError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *rates.FeedError", err)
			}
			if fe.Feed != tt.feed || fe.Pair != tt.pay+"/"+tt.inv || fe.StatusCode != tt.status || fe.RetryAfter != tt.retryAfter {
				t.Errorf("FeedError{Feed %q, Pair %q, StatusCode %d, RetryAfter %s}, want {%q, %q, %d, %s}",
					fe.Feed, fe.Pair, fe.StatusCode, fe.RetryAfter, tt.feed, tt.pay+"/"+tt.inv, tt.status, tt.retryAfter)
			}
			if !strings.Contains(fe.Message, tt.message) {
				t.Errorf("FeedError.Message %q does not contain %q", fe.Message, tt.message)
			}
			if !got.IsZero() {
				t.Errorf("Rate returned %s with its error", got)
			}
		})
	}
}

// A feed that does not answer is cut off by the adapter's Timeout.
func TestFeedTimeout(t *testing.T) {
	for feed, uri := range map[string]string{"coinbase": coinbaseBTCEUR, "kraken": krakenBTCEUR, "binance": binanceBTCEUR, "coingecko": coingeckoBTCEUR} {
		t.Run(feed, func(t *testing.T) {
			srv := newFeedServer(t, map[string]reply{uri: {hang: true}})
			var src invoice.RateSource
			switch feed {
			case "coinbase":
				src = &rates.Coinbase{BaseURL: srv.URL, Client: srv.Client(), Timeout: 50 * time.Millisecond}
			case "kraken":
				src = &rates.Kraken{BaseURL: srv.URL, Client: srv.Client(), Timeout: 50 * time.Millisecond}
			case "binance":
				src = &rates.Binance{BaseURL: srv.URL, Client: srv.Client(), Timeout: 50 * time.Millisecond}
			case "coingecko":
				src = &rates.CoinGecko{BaseURL: srv.URL, Client: srv.Client(), Timeout: 50 * time.Millisecond}
			}
			start := time.Now()
			_, err := src.Rate(context.Background(), "BTC", "EUR")
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("Rate took %s with a 50ms timeout", took)
			}
			if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("error %v, want ErrRate, ErrUnavailable and DeadlineExceeded", err)
			}
		})
	}
}

// A cancelled caller stops the request at once.
func TestFeedCancelled(t *testing.T) {
	srv := newFeedServer(t, map[string]reply{coinbaseBTCEUR: {hang: true}})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := (&rates.Coinbase{BaseURL: srv.URL, Client: srv.Client()}).Rate(ctx, "BTC", "EUR")
	if !errors.Is(err, context.Canceled) || !errors.Is(err, invoice.ErrRate) {
		t.Fatalf("error %v, want context.Canceled and invoice.ErrRate", err)
	}
}

// Nothing but letters and digits reaches a feed's URL.
func TestFeedRefusesOddCodes(t *testing.T) {
	srv := newFeedServer(t, map[string]reply{})
	for feed, mk := range newFeed {
		for _, code := range []string{"", "BTC/../x", "BTC?x=1", "BT C", strings.Repeat("A", 17)} {
			_, err := mk(srv.URL, srv.Client()).Rate(context.Background(), code, "EUR")
			if !errors.Is(err, rates.ErrUnknownPair) || !errors.Is(err, invoice.ErrRate) {
				t.Errorf("%s %q: error %v, want ErrUnknownPair", feed, code, err)
			}
		}
	}
	if n := srv.total(); n != 0 {
		t.Errorf("%d requests reached the feed", n)
	}
}

// An answer over 64 KiB is refused, not read to the end.
func TestFeedAnswerTooLong(t *testing.T) {
	srv := newFeedServer(t, map[string]reply{binanceBTCEUR: {body: `{"symbol":"BTCEUR","price":"1` + strings.Repeat("0", 70<<10) + `"}`}})
	_, err := (&rates.Binance{BaseURL: srv.URL, Client: srv.Client()}).Rate(context.Background(), "BTC", "EUR")
	if !errors.Is(err, rates.ErrMalformed) {
		t.Fatalf("error %v, want ErrMalformed", err)
	}
}

// Kraken's asset names are configurable; CoinGecko's ids too, and a
// currency without one never reaches the feed.
func TestAssetNames(t *testing.T) {
	srv := newFeedServer(t, map[string]reply{
		"/0/public/Ticker?pair=XDGEUR": {body: `{"error":[],"result":{"XDGZEUR":{"c":["0.1234","1"]}}}`},
		"/0/public/Ticker?pair=BTCEUR": {body: `{"error":[],"result":{"XXBTZEUR":{"c":["60000","1"]}}}`},
	})
	if r, err := (&rates.Kraken{BaseURL: srv.URL, Client: srv.Client()}).Rate(context.Background(), "DOGE", "EUR"); err != nil || !r.Equal(dec("0.1234")) {
		t.Errorf("DOGE/EUR = %s, %v", r, err)
	}
	k := &rates.Kraken{BaseURL: srv.URL, Client: srv.Client(), Assets: map[string]string{}}
	if r, err := k.Rate(context.Background(), "BTC", "EUR"); err != nil || !r.Equal(dec("60000")) {
		t.Errorf("BTC/EUR without asset names = %s, %v", r, err)
	}
	_, err := (&rates.CoinGecko{BaseURL: srv.URL, Client: srv.Client()}).Rate(context.Background(), "XMR", "EUR")
	if !errors.Is(err, rates.ErrUnknownPair) {
		t.Errorf("XMR without a CoinGecko id: %v, want ErrUnknownPair", err)
	}
}

// CoinGecko's API key travels in a header, never in the URL, and never
// shows in an error.
func TestCoinGeckoAPIKey(t *testing.T) {
	const key = "CG-secret-key-123"
	srv := newFeedServer(t, map[string]reply{coingeckoBTCEUR: {status: 401, body: `{"status":{"error_code":10002,"error_message":"API Key Missing"}}`}})
	for _, tt := range []struct{ header, want string }{{"", "X-Cg-Demo-Api-Key"}, {"x-cg-pro-api-key", "X-Cg-Pro-Api-Key"}} {
		g := &rates.CoinGecko{BaseURL: srv.URL, Client: srv.Client(), APIKey: key, APIKeyHeader: tt.header}
		_, err := g.Rate(context.Background(), "BTC", "EUR")
		if !errors.Is(err, rates.ErrUnavailable) || strings.Contains(err.Error(), key) {
			t.Errorf("error %v: want ErrUnavailable without the key", err)
		}
		srv.mu.Lock()
		h := srv.header[len(srv.header)-1]
		srv.mu.Unlock()
		if h.Get(tt.want) != key {
			t.Errorf("header %s = %q, want the key", tt.want, h.Get(tt.want))
		}
	}
}

// Adapters' errors print the feed, the pair, the status and the wait.
func TestFeedErrorText(t *testing.T) {
	err := &rates.FeedError{Feed: "binance", Pair: "BTC/EUR", StatusCode: 429, RetryAfter: 30 * time.Second,
		Message: "-1003 Too much request weight used", Kind: rates.ErrRateLimited}
	want := `rates: binance BTC/EUR: rate limited (HTTP 429, retry after 30s): "-1003 Too much request weight used"`
	if err.Error() != want {
		t.Errorf("Error() = %s\nwant      %s", err.Error(), want)
	}
	if !errors.Is(err, invoice.ErrRate) || !errors.Is(err, rates.ErrRateLimited) || errors.Is(err, rates.ErrMalformed) {
		t.Error("FeedError matches the wrong sentinels")
	}
}
