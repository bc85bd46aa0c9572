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

// Coinbase asks Coinbase's public spot price endpoint (no key needed):
//
//	GET {BaseURL}/v2/prices/BTC-EUR/spot
//	{"data":{"amount":"60123.45","base":"BTC","currency":"EUR"}}
//
// Errors come as {"errors":[{"id":"not_found","message":"..."}]} with a 4xx
// status. The zero value is ready to use.
type Coinbase struct {
	// BaseURL defaults to https://api.coinbase.com.
	BaseURL string
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Timeout bounds one request. Default DefaultTimeout.
	Timeout time.Duration
}

// Name returns "coinbase".
func (c *Coinbase) Name() string { return "coinbase" }

// Rate returns the spot price of one payCurrency in invoiceCurrency.
func (c *Coinbase) Rate(ctx context.Context, payCurrency, invoiceCurrency string) (decimal.Decimal, error) {
	e, err := newEndpoint(c.Name(), c.Client, c.Timeout, payCurrency, invoiceCurrency)
	if err != nil {
		return decimal.Decimal{}, err
	}
	u := baseURL(c.BaseURL, "https://api.coinbase.com") + "/v2/prices/" +
		url.PathEscape(payCurrency+"-"+invoiceCurrency) + "/spot"
	a, err := e.get(ctx, u, nil)
	if err != nil {
		return decimal.Decimal{}, err
	}
	var body struct {
		Data struct {
			Amount   price  `json:"amount"`
			Base     string `json:"base"`
			Currency string `json:"currency"`
		} `json:"data"`
		Errors []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	if !isOK(a.status) {
		_ = e.decode(a, &body) // the error text, if the body has one
		var kind error
		msg := ""
		if len(body.Errors) > 0 {
			msg = body.Errors[0].ID + ": " + body.Errors[0].Message
			switch body.Errors[0].ID {
			case "not_found", "invalid_request":
				kind = ErrUnknownPair
			case "rate_limit_exceeded":
				kind = ErrRateLimited
			}
		}
		if kind == nil && a.status == http.StatusNotFound {
			kind = ErrUnknownPair
		}
		return decimal.Decimal{}, e.fail(a, kind, msg, nil)
	}
	if err := e.decode(a, &body); err != nil {
		return decimal.Decimal{}, err
	}
	d := body.Data
	if (d.Base != "" && !strings.EqualFold(d.Base, payCurrency)) || (d.Currency != "" && !strings.EqualFold(d.Currency, invoiceCurrency)) {
		return decimal.Decimal{}, e.fail(a, ErrMalformed, "", fmt.Errorf("answer is for %s-%s", d.Base, d.Currency))
	}
	return e.checkPrice(a, d.Amount, "data.amount")
}
