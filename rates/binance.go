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

// Binance asks Binance's public symbol price ticker (no key needed):
//
//	GET {BaseURL}/api/v3/ticker/price?symbol=BTCEUR
//	{"symbol":"BTCEUR","price":"60123.45000000"}
//
// Errors come as {"code":-1121,"msg":"Invalid symbol."} with a 4xx status;
// 429 (and 418, an IP ban after ignored 429s) carry Retry-After. The zero
// value is ready to use.
type Binance struct {
	// BaseURL defaults to https://api.binance.com.
	BaseURL string
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Timeout bounds one request. Default DefaultTimeout.
	Timeout time.Duration
}

// Name returns "binance".
func (b *Binance) Name() string { return "binance" }

// Rate returns the latest price of one payCurrency in invoiceCurrency.
func (b *Binance) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	e, err := newEndpoint(b.Name(), b.Client, b.Timeout, payCurrency, invoiceCurrency)
	if err != nil {
		return decimal.Decimal{}, err
	}
	symbol := strings.ToUpper(payCurrency + invoiceCurrency)
	u := baseURL(b.BaseURL, "https://api.binance.com") + "/api/v3/ticker/price?symbol=" + url.QueryEscape(symbol)
	a, err := e.get(ctx, u, nil)
	if err != nil {
		return decimal.Decimal{}, err
	}
	var body struct {
		Symbol string `json:"symbol"`
		Price  price  `json:"price"`
		Code   *int   `json:"code"`
		Msg    string `json:"msg"`
	}
	decodeErr := e.decode(a, &body)
	if !isOK(a.status) || body.Code != nil {
		var kind error
		msg := body.Msg
		if body.Code != nil {
			msg = fmt.Sprintf("%d %s", *body.Code, body.Msg)
			switch *body.Code {
			case -1121: // Invalid symbol.
				kind = ErrUnknownPair
			case -1003: // TOO_MANY_REQUESTS
				kind = ErrRateLimited
			}
		}
		if kind == nil && isOK(a.status) {
			kind = ErrUnavailable
		}
		return decimal.Decimal{}, e.fail(a, kind, msg, nil)
	}
	if decodeErr != nil {
		return decimal.Decimal{}, decodeErr
	}
	if body.Symbol != symbol {
		return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf("answer is for symbol %.20q, asked %s", body.Symbol, symbol))
	}
	return e.checkPrice(a, body.Price, "price")
}
