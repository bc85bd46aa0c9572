package invoice_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateRejectsEveryInvalidFieldAndStoresNothing(t *testing.T) {
	withMin := func(c *invoice.Config) {
		c.Currencies = invoice.DefaultCurrencies()
		c.Currencies[0].MinAmount = dec("10") // EUR
	}
	for _, tc := range []struct {
		name   string
		mutate func(*invoice.CreateRequest)
		field  string
		msg    string
	}{
		{"foreign_id missing", func(r *invoice.CreateRequest) { r.ForeignID = "" }, "foreign_id", "The foreign id field is required."},
		{"foreign_id too long", func(r *invoice.CreateRequest) { r.ForeignID = strings.Repeat("x", 256) }, "foreign_id", "The foreign id may not be greater than 255 characters."},
		{"title missing", func(r *invoice.CreateRequest) { r.Title = "" }, "title", "The title field is required."},
		{"title too long", func(r *invoice.CreateRequest) { r.Title = strings.Repeat("é", 51) }, "title", "The title may not be greater than 50 characters."},
		{"description too long", func(r *invoice.CreateRequest) { r.Description = strings.Repeat("d", 1001) }, "description", "The description may not be greater than 1000 characters."},
		{"end_user_reference too long", func(r *invoice.CreateRequest) { r.EndUserReference = strings.Repeat("u", 256) }, "end_user_reference", "The end user reference may not be greater than 255 characters."},
		{"amount zero", func(r *invoice.CreateRequest) { r.Amount = dec("0") }, "amount", "The amount must be greater than 0."},
		{"amount negative", func(r *invoice.CreateRequest) { r.Amount = dec("-5") }, "amount", "The amount must be greater than 0."},
		{"amount too precise", func(r *invoice.CreateRequest) { r.Amount = dec("10.001") }, "amount", "The amount may not have more than 2 decimal places."},
		{"amount below minimum", func(r *invoice.CreateRequest) { r.Amount = dec("9.99") }, "amount", "The amount is too small. The minimum amount is 10.00 EUR."},
		{"currency missing", func(r *invoice.CreateRequest) { r.Currency = "" }, "currency", "The currency field is required."},
		{"currency unknown", func(r *invoice.CreateRequest) { r.Currency = "XYZ" }, "currency", "The selected currency is invalid."},
		{"sender_currency unknown", func(r *invoice.CreateRequest) { r.SenderCurrency = "DOGE" }, "sender_currency", "The selected sender currency is invalid."},
		{"sender_currency fiat", func(r *invoice.CreateRequest) { r.SenderCurrency = "USD" }, "sender_currency", "The selected sender currency is invalid."},
		{"sender_currency without timer", func(r *invoice.CreateRequest) { r.Timer = false }, "sender_currency", "The sender currency field is prohibited when timer is false."},
		{"mode unknown", func(r *invoice.CreateRequest) { r.Mode = 7 }, "type", "The selected type is invalid."},
		{"url_success relative", func(r *invoice.CreateRequest) { r.URLSuccess = "/ok" }, "url_success", "The url success format is invalid."},
		{"url_success ftp", func(r *invoice.CreateRequest) { r.URLSuccess = "ftp://example.com/ok" }, "url_success", "The url success format is invalid."},
		{"url_failed bad", func(r *invoice.CreateRequest) { r.URLFailed = "http://" }, "url_failed", "The url failed format is invalid."},
		{"email bad", func(r *invoice.CreateRequest) { r.Email = "not-an-email" }, "email_user", "The email user must be a valid email address."},
		{"email with name", func(r *invoice.CreateRequest) { r.Email = "Bob <bob@example.com>" }, "email_user", "The email user must be a valid email address."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := invoicetest.New(t, withMin)
			req := typ3("o-1")
			req.URLSuccess, req.URLFailed = "https://shop.example/ok", "https://shop.example/failed"
			tc.mutate(&req)
			inv, err := h.Engine.Create(ctx, req)
			assert.Nil(t, inv)
			var verr *invoice.ValidationError
			require.ErrorAs(t, err, &verr)
			assert.ErrorIs(t, err, invoice.ErrValidation)
			require.Len(t, verr.Fields, 1, "%v", verr.Fields)
			assert.Equal(t, tc.field, verr.Fields[0].Field)
			assert.Equal(t, tc.msg, verr.Fields[0].Message)
			page, err := h.Engine.List(ctx, invoice.ListOptions{})
			require.NoError(t, err)
			assert.Empty(t, page.Invoices, "nothing stored")
			assert.Zero(t, h.Addresses.Calls(), "no address handed out")
		})
	}
}

func TestCreateReportsAllInvalidFieldsAtOnce(t *testing.T) {
	h := invoicetest.New(t)
	_, err := h.Engine.Create(ctx, invoice.CreateRequest{})
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr)
	for _, f := range []string{"foreign_id", "title", "amount", "currency"} {
		assert.NotEmpty(t, verr.Field(f), f)
	}
}

func TestCreateDuplicateForeignID(t *testing.T) {
	h := invoicetest.New(t)
	first := create(t, h, typ3("o-1"))

	again, err := h.Engine.Create(ctx, typ3("o-1"))
	require.NoError(t, err, "an identical retry is idempotent")
	assert.Equal(t, first.ID, again.ID)

	other := typ3("o-1")
	other.Amount = dec("101")
	_, err = h.Engine.Create(ctx, other)
	var verr *invoice.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "The foreign id has already been taken.", verr.Field("foreign_id"))
	assert.ErrorIs(t, err, invoice.ErrDuplicate)
	got, err := h.Engine.Get(ctx, "o-1")
	require.NoError(t, err)
	assert.Equal(t, "100", got.Amount.String(), "the first invoice is untouched")
}

func TestConfigValidation(t *testing.T) {
	_, err := invoice.New(invoice.Config{})
	assert.ErrorIs(t, err, invoice.ErrConfig)
	for name, mutate := range map[string]func(*invoice.Config){
		"negative spread":  func(c *invoice.Config) { c.RateSpreadPercent = dec("-1") },
		"tolerance 100":    func(c *invoice.Config) { c.UnderpaymentTolerancePercent = dec("100") },
		"unknown accepted": func(c *invoice.Config) { c.AcceptedCurrencies = []string{"DOGE"} },
		"zero retry":       func(c *invoice.Config) { c.RetrySchedule = []time.Duration{0} },
		"lease <= timeout": func(c *invoice.Config) { c.DeliveryLease, c.DeliveryTimeout = time.Second, time.Second },
		"duplicate currency": func(c *invoice.Config) {
			c.Currencies = append(invoice.DefaultCurrencies(), invoice.Currency{Code: "BTC", Precision: 8})
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := invoicetest.New(t)
			cfg := h.Config
			mutate(&cfg)
			_, err := invoice.New(cfg)
			assert.ErrorIs(t, err, invoice.ErrConfig)
		})
	}
}
