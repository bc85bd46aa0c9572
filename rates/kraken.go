package rates

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Kraken asks Kraken's public ticker (no key needed) and returns the last
// trade price:
//
//	GET {BaseURL}/0/public/Ticker?pair=XBTEUR
//	{"error":[],"result":{"XXBTZEUR":{"a":[...],"b":[...],"c":["60123.40000","0.0008"],...}}}
//
// The answer's key is Kraken's own name of the pair (XXBTZEUR for XBTEUR),
// so Kraken asks for one pair and takes the one entry of the result. Kraken
// reports errors in the "error" array, usually with HTTP 200:
// "EQuery:Unknown asset pair" is ErrUnknownPair, "EAPI:Rate limit exceeded"
// and "EGeneral:Too many requests" are ErrRateLimited, others
// ErrUnavailable. The zero value is ready to use.
type Kraken struct {
	// BaseURL defaults to https://api.kraken.com.
	BaseURL string
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Timeout bounds one request. Default DefaultTimeout.
	Timeout time.Duration
	// Assets maps currency codes to Kraken's asset names where they differ.
	// Default KrakenAssets().
	Assets map[string]string
}

// KrakenAssets returns the default Kraken asset names that differ from the
// usual codes: BTC is XBT, DOGE is XDG.
func KrakenAssets() map[string]string {
	return map[string]string{"BTC": "XBT", "DOGE": "XDG"}
}

// Name returns "kraken".
func (k *Kraken) Name() string { return "kraken" }

// Rate returns the last trade price of one payCurrency in invoiceCurrency.
func (k *Kraken) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	e, err := newEndpoint(k.Name(), k.Client, k.Timeout, payCurrency, invoiceCurrency)
	if err != nil {
		return decimal.Decimal{}, err
	}
	assets := k.Assets
	if assets == nil {
		assets = KrakenAssets()
	}
	asset := func(c string) string {
		c = strings.ToUpper(c)
		if a, ok := assets[c]; ok {
			return a
		}
		return c
	}
	want := asset(payCurrency) + asset(invoiceCurrency)
	u := baseURL(k.BaseURL, "https://api.kraken.com") + "/0/public/Ticker?pair=" + url.QueryEscape(want)
	a, err := e.get(ctx, u, nil)
	if err != nil {
		return decimal.Decimal{}, err
	}
	var body struct {
		Error  []string `json:"error"`
		Result map[string]struct {
			C []price `json:"c"` // last trade closed: [price, lot volume]
		} `json:"result"`
	}
	decodeErr := e.decode(a, &body)
	for _, msg := range body.Error {
		if !strings.HasPrefix(msg, "E") {
			continue // "W..." is a warning
		}
		var kind error
		switch {
		case strings.HasPrefix(msg, "EQuery:Unknown asset pair"):
			kind = ErrUnknownPair
		case strings.Contains(msg, "Rate limit exceeded"), strings.Contains(msg, "Too many requests"):
			kind = ErrRateLimited
		case isOK(a.status):
			kind = ErrUnavailable
		}
		return decimal.Decimal{}, e.fail(a, kind, msg, nil)
	}
	if !isOK(a.status) {
		return decimal.Decimal{}, e.fail(a, nil, "", nil)
	}
	if decodeErr != nil {
		return decimal.Decimal{}, decodeErr
	}
	if body.Error == nil {
		return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf(`no "error" array in the answer`))
	}
	var ticker []price
	switch {
	case len(body.Result) == 0:
		return decimal.Decimal{}, e.fail(a, ErrUnknownPair, "", fmt.Errorf("empty result for %s", want))
	case len(body.Result) == 1:
		for _, t := range body.Result {
			ticker = t.C
		}
	default: // asked for one pair: only an exact key is trustworthy
		t, ok := body.Result[want]
		if !ok {
			return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf("%d pairs in the result, none named %s", len(body.Result), want))
		}
		ticker = t.C
	}
	if len(ticker) == 0 {
		return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf(`no last trade ("c") in the answer`))
	}
	return e.checkPrice(a, ticker[0], "last trade price")
}
