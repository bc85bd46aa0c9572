package rates

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// CoinGecko asks CoinGecko's simple price endpoint:
//
//	GET {BaseURL}/api/v3/simple/price?ids=bitcoin&vs_currencies=eur&include_last_updated_at=true&precision=full
//	{"bitcoin":{"eur":60123.4512,"last_updated_at":1767225600}}
//
// Prices are JSON numbers: they are read from their text, never through
// float64. An unknown coin id or currency gives an empty object
// (ErrUnknownPair). Errors come as {"status":{"error_code":429,
// "error_message":"..."}} or {"error":"..."} with a 4xx status. A price
// older than MaxAge by its last_updated_at is ErrStale. The zero value is
// ready to use (keyless, rate-limited by IP).
type CoinGecko struct {
	// BaseURL defaults to https://api.coingecko.com; paid plans use
	// https://pro-api.coingecko.com.
	BaseURL string
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Timeout bounds one request. Default DefaultTimeout.
	Timeout time.Duration
	// APIKey, if set, is sent in the APIKeyHeader header (never in the
	// URL, so it never shows in errors or logs).
	APIKey string
	// APIKeyHeader defaults to "x-cg-demo-api-key"; paid plans use
	// "x-cg-pro-api-key".
	APIKeyHeader string
	// IDs maps currency codes to CoinGecko coin ids. Default CoinGeckoIDs().
	IDs map[string]string
	// MaxAge is the oldest price accepted, by the answer's last_updated_at.
	// Default 10 minutes; negative disables the check.
	MaxAge time.Duration
	// Clock tells the time for MaxAge. Default invoice.SystemClock.
	Clock invoice.Clock
}

// CoinGeckoIDs returns the default coin ids: BTC bitcoin, BCH
// bitcoin-cash, LTC litecoin, ETH ethereum, USDT tether.
func CoinGeckoIDs() map[string]string {
	return map[string]string{
		"BTC": "bitcoin", "BCH": "bitcoin-cash", "LTC": "litecoin", "ETH": "ethereum", "USDT": "tether",
	}
}

// Name returns "coingecko".
func (g *CoinGecko) Name() string { return "coingecko" }

// Rate returns the price of one payCurrency in invoiceCurrency.
func (g *CoinGecko) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	e, err := newEndpoint(g.Name(), g.Client, g.Timeout, payCurrency, invoiceCurrency)
	if err != nil {
		return decimal.Decimal{}, err
	}
	ids := g.IDs
	if ids == nil {
		ids = CoinGeckoIDs()
	}
	id, ok := ids[strings.ToUpper(payCurrency)]
	if !ok {
		return decimal.Decimal{}, &FeedError{Feed: e.feed, Pair: e.pair, Kind: ErrUnknownPair, Err: fmt.Errorf("no CoinGecko id for %s", payCurrency)}
	}
	vs := strings.ToLower(invoiceCurrency)
	q := url.Values{"ids": {id}, "vs_currencies": {vs}, "include_last_updated_at": {"true"}, "precision": {"full"}}
	u := baseURL(g.BaseURL, "https://api.coingecko.com") + "/api/v3/simple/price?" + q.Encode()
	var header http.Header
	if g.APIKey != "" {
		name := g.APIKeyHeader
		if name == "" {
			name = "x-cg-demo-api-key"
		}
		header = http.Header{http.CanonicalHeaderKey(name): {g.APIKey}}
	}
	a, err := e.get(ctx, u, header)
	if err != nil {
		return decimal.Decimal{}, err
	}
	if !isOK(a.status) {
		var body struct {
			Status struct {
				ErrorCode    int    `json:"error_code"`
				ErrorMessage string `json:"error_message"`
			} `json:"status"`
			Error any `json:"error"`
		}
		_ = e.decode(a, &body)
		msg := body.Status.ErrorMessage
		if s, ok := body.Error.(string); ok && msg == "" {
			msg = s
		}
		return decimal.Decimal{}, e.fail(a, nil, msg, nil)
	}
	var body map[string]map[string]price
	if err := e.decode(a, &body); err != nil {
		return decimal.Decimal{}, err
	}
	coin, ok := body[id]
	if !ok {
		return decimal.Decimal{}, e.fail(a, ErrUnknownPair, "", fmt.Errorf("no %s in the answer", id))
	}
	p, ok := coin[vs]
	if !ok {
		return decimal.Decimal{}, e.fail(a, ErrUnknownPair, "", fmt.Errorf("no %s price of %s in the answer", vs, id))
	}
	rate, err := e.checkPrice(a, p, id+"."+vs)
	if err != nil {
		return decimal.Decimal{}, err
	}
	if maxAge := g.maxAge(); maxAge >= 0 {
		upd, ok := coin["last_updated_at"]
		if !ok || !upd.set || !upd.d.IsInteger() {
			return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf("no last_updated_at in the answer"))
		}
		clock := g.Clock
		if clock == nil {
			clock = invoice.SystemClock{}
		}
		at := time.Unix(upd.d.IntPart(), 0)
		if age := clock.Now().Sub(at); age > maxAge {
			return decimal.Decimal{}, e.fail(a, ErrStale, "", fmt.Errorf("price from %s is %s old, more than %s", at.UTC().Format(time.RFC3339), age.Round(time.Second), maxAge))
		}
	}
	return rate, nil
}

func (g *CoinGecko) maxAge() time.Duration {
	if g.MaxAge == 0 {
		return 10 * time.Minute
	}
	return g.MaxAge
}
