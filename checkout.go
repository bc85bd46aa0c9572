package invoice

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
)

// Checkout links: every invoice gets a public token at creation, random
// and unrelated to its Number and ID, so that the customer's link names
// the invoice without revealing or allowing anyone to guess another one.
// The token is not a secret from the merchant (it is in the link the
// merchant hands out) and lets its holder only see the invoice and take the
// customer's steps on it (choose the currency, give the e-mail).

// checkoutTokenLen is the length of a checkout token: rand.Text's 26
// base32 characters, 130 random bits.
const checkoutTokenLen = 26

func newCheckoutToken() string { return rand.Text() }

// validCheckoutToken reports whether s has the shape of a checkout token
// (26 characters of the base32 alphabet), so that nothing else reaches the
// store.
func validCheckoutToken(s string) bool {
	if len(s) != checkoutTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// validBaseURL accepts an absolute http(s) URL with a host and without
// query or fragment.
func validBaseURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.RawQuery == "" && u.Fragment == "" && !u.ForceQuery && !strings.Contains(s, "#")
}

// CheckoutURL returns the customer's checkout link of inv:
// Config.CheckoutBaseURL + "/" + inv.CheckoutToken, or "" when no base URL
// is configured or the invoice has no token.
func (e *Engine) CheckoutURL(inv *Invoice) string {
	if e.cfg.CheckoutBaseURL == "" || inv == nil || inv.CheckoutToken == "" {
		return ""
	}
	return strings.TrimRight(e.cfg.CheckoutBaseURL, "/") + "/" + inv.CheckoutToken
}

// GetByCheckoutToken returns the invoice whose CheckoutToken is token. Any
// token that names no invoice, well-formed or not, yields the same error
// matching ErrNotFound (it does not repeat the token).
func (e *Engine) GetByCheckoutToken(ctx context.Context, token string) (*Invoice, error) {
	if !validCheckoutToken(token) {
		return nil, errUnknownCheckoutToken
	}
	inv, err := e.cfg.Store.GetInvoiceByCheckoutToken(ctx, token)
	if isNotFound(err) {
		return nil, errUnknownCheckoutToken
	}
	if err != nil {
		return nil, fmt.Errorf("invoice: checkout token look-up: %w", err)
	}
	return inv, nil
}

var errUnknownCheckoutToken = fmt.Errorf("invoice: unknown checkout token: %w", ErrNotFound)
