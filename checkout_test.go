package invoice_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
)

func TestCheckoutURLAndToken(t *testing.T) {
	h := invoicetest.New(t, func(c *invoice.Config) { c.CheckoutBaseURL = "https://pay.example/i/" })
	inv := create(t, h, typ3("order-1"))
	other := create(t, h, typ3("order-2"))

	require.Regexp(t, regexp.MustCompile(`^[A-Z2-7]{26}$`), inv.CheckoutToken, "130 random bits as base32")
	require.NotEqual(t, inv.CheckoutToken, other.CheckoutToken)
	url := h.Engine.CheckoutURL(inv)
	require.Equal(t, "https://pay.example/i/"+inv.CheckoutToken, url, "one slash between base and token")
	require.NotContains(t, url, inv.ID.String())

	got, err := h.Engine.GetByCheckoutToken(ctx, inv.CheckoutToken)
	require.NoError(t, err)
	require.Equal(t, inv.ID, got.ID)

	// Every token that names no invoice gets the same error, whatever its shape.
	var first error
	for _, token := range []string{"", "x", strings.ToLower(inv.CheckoutToken), inv.CheckoutToken[:25] + "A\x00",
		"AAAAAAAAAAAAAAAAAAAAAAAAAA", inv.CheckoutToken + "A", "\xff\xfe"} {
		_, err := h.Engine.GetByCheckoutToken(ctx, token)
		require.ErrorIs(t, err, invoice.ErrNotFound, "token %q", token)
		if first == nil {
			first = err
		}
		require.Equal(t, first.Error(), err.Error(), "uniform answer for %q", token)
		require.NotContains(t, err.Error(), inv.CheckoutToken[:10])
	}
}

func TestCheckoutURLWithoutBase(t *testing.T) {
	h := invoicetest.New(t)
	inv := create(t, h, typ3("order-1"))
	require.NotEmpty(t, inv.CheckoutToken, "every invoice has a token, with or without a base URL")
	require.Empty(t, h.Engine.CheckoutURL(inv))
}

func TestCheckoutBaseURLValidated(t *testing.T) {
	for _, base := range []string{"pay.example/i", "ftp://pay.example", "https://pay.example/i?x=1", "https://pay.example/#f", "https://"} {
		_, err := invoicetest.NewHarness(func(c *invoice.Config) { c.CheckoutBaseURL = base })
		require.ErrorIs(t, err, invoice.ErrConfig, "base %q", base)
	}
}

func TestGetByAddress(t *testing.T) {
	h := invoicetest.New(t)
	inv := create(t, h, typ3("order-1"))
	require.NotEmpty(t, inv.Deposit.Address)
	got, err := h.Engine.GetByAddress(ctx, inv.Deposit.Address)
	require.NoError(t, err)
	require.Equal(t, inv.ID, got.ID)
	for _, addr := range []string{"", "bc1qunknown", "\x00", "\xff", strings.Repeat("a", 300)} {
		_, err := h.Engine.GetByAddress(ctx, addr)
		require.True(t, errors.Is(err, invoice.ErrNotFound), "address %q: %v", addr, err)
	}
	require.Same(t, h.Store, h.Engine.Store())
}
