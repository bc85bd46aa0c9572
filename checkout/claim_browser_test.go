package checkout

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/mailer/mailertest"
)

// TestBrowserRefundClaim follows the refund flow in headless Chromium
// (the harness of browser_test.go): an underpaid invoice, the refund
// e-mail sent by package mailer to an SMTP server in this process, the
// link from it opened in the browser, a wrong address refused next to the
// field, a good one confirmed and redeemed; a second submit from another
// tab (with JavaScript off: the page needs none) is refused, and a later
// visit says the refund is already claimed. Screenshots of each state go
// to testdata/screenshots/claim-*.png.
func TestBrowserRefundClaim(t *testing.T) {
	// The wrong address is refused with 422, the second submit with 409.
	tab := browserTab(t, true, http.StatusUnprocessableEntity, http.StatusConflict)
	tab2 := browserTab(t, false, http.StatusUnprocessableEntity, http.StatusConflict)

	mux := http.NewServeMux()
	site := httptest.NewServer(mux)
	t.Cleanup(site.Close)
	smtpd := mailertest.Start(t, mailertest.Options{})
	m, err := mailer.New(mailer.Config{
		Host: smtpd.Host, Port: smtpd.Port, Security: mailer.NoTLS,
		From: "Demo Shop <refunds@shop.example>", ClaimBaseURL: site.URL + "/i/" + ClaimPath,
		Branding: mailer.Branding{Name: "Demo Shop", SupportEmail: "support@shop.example"},
	})
	require.NoError(t, err)
	h := invoicetest.New(t, func(c *invoice.Config) {
		c.CustomerNotifier = m
		c.CheckoutBaseURL = site.URL + "/i"
		c.DestinationValidators = map[string]invoice.DestinationValidator{"BTC": btcValidator}
	})
	hd, err := New(Config{Engine: h.Engine, MerchantName: "Demo Shop", Clock: h.Clock, Logo: testLogo, LogoType: "image/svg+xml"})
	require.NoError(t, err)
	mux.Handle("/i/", http.StripPrefix("/i", hd))
	s := &testSite{Harness: h, Handler: hd, Server: site}

	// Underpaid: 0.001 of 0.00166667 BTC. The e-mail goes out.
	s.create(t, invoice.CreateRequest{ForeignID: "r-1", Timer: true, SenderCurrency: "BTC", Email: "erin@example.com"})
	s.report(t, "r-1", "btc-r1", "BTC", "0.001", invoice.TxNotConfirmed)
	require.Equal(t, invoice.StatusFailed, s.report(t, "r-1", "btc-r1", "BTC", "0.001", invoice.TxConfirmed).Status)
	_, err = h.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	msgs, err := smtpd.Wait(tab, 1)
	require.NoError(t, err)
	require.Equal(t, []string{"erin@example.com"}, msgs[0].To)
	body, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(msgs[0].Data)))
	require.NoError(t, err)
	link := regexp.MustCompile(regexp.QuoteMeta(site.URL) + `/i/refund/rc2_[A-Za-z0-9_-]{64}`).Find(body)
	require.NotNil(t, link, "the e-mail has the claim link")
	// What the customer sees in a mail client.
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate("data:text/html;base64,"+base64.StdEncoding.EncodeToString(htmlPart(t, msgs[0].Data)))))
	shot(t, tab, "claim-email")

	// The customer follows it.
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(string(link)), chromedp.WaitVisible(chromedp.CSS("#claim-form"))))
	require.Equal(t, "0.001 BTC", text(t, tab, "#claim-amount"))
	require.Equal(t, "Less than the amount asked was paid in time.", text(t, tab, "#claim-reason"))
	shot(t, tab, "claim-form")

	// A wrong address: the error next to the field.
	require.NoError(t, chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS("#address"), "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
		chromedp.Click(chromedp.CSS("#review")),
		chromedp.WaitVisible(chromedp.CSS("#address-error")),
	))
	require.Equal(t, "This is not a valid BTC address. Please check it.", text(t, tab, "#address-error"))
	invalid, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS("#address"), "aria-invalid"))
	require.NoError(t, err)
	require.Equal(t, "true", invalid.Value)
	shot(t, tab, "claim-invalid-address")

	// A good one: shown again to confirm.
	require.NoError(t, chromedp.Do(tab,
		chromedp.Clear(chromedp.CSS("#address")),
		chromedp.SendKeys(chromedp.CSS("#address"), testBTCAddress),
		chromedp.Click(chromedp.CSS("#review")),
		chromedp.WaitVisible(chromedp.CSS("#claim-review")),
	))
	require.Equal(t, testBTCAddress, text(t, tab, "#review-address"))
	require.Equal(t, "Bitcoin", text(t, tab, "#review-network"))
	shot(t, tab, "claim-review")

	// A second tab reaches the same confirmation (no JavaScript).
	require.NoError(t, chromedp.Do(tab2,
		chromedp.Navigate(string(link)),
		chromedp.SendKeys(chromedp.CSS("#address"), testBTCAddress),
		chromedp.Click(chromedp.CSS("#review")),
		chromedp.WaitVisible(chromedp.CSS("#claim-review")),
	))
	rc := func() invoice.RefundClaim {
		inv, err := h.Engine.Get(ctx, "r-1")
		require.NoError(t, err)
		return inv.RefundClaims[0]
	}
	require.Equal(t, invoice.RefundOpen, rc().Status, "nothing redeemed before the confirmation")

	// Confirm: redeemed.
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.CSS("#redeem")), chromedp.WaitVisible(chromedp.CSS("#claim-done"))))
	require.Equal(t, "Refund claimed", text(t, tab, "#claim-status"))
	require.Equal(t, testBTCAddress, text(t, tab, "#claim-destination"))
	shot(t, tab, "claim-done")
	claim := rc()
	require.Equal(t, invoice.RefundRedeemed, claim.Status)
	require.Equal(t, testBTCAddress, claim.Destination)
	redeemedAt := claim.RedeemedAt

	// The second submit is refused.
	h.Clock.Advance(time.Minute)
	require.NoError(t, chromedp.Do(tab2, chromedp.Click(chromedp.CSS("#redeem")), chromedp.WaitVisible(chromedp.CSS("#claim-refused"))))
	require.Equal(t, "This refund has already been claimed", text(t, tab2, "#claim-status"))
	shot(t, tab2, "claim-second-submit")
	require.Equal(t, redeemedAt, rc().RedeemedAt, "redeemed once")

	// A later visit says so.
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(string(link)), chromedp.WaitVisible(chromedp.CSS("#claim-done"))))
	require.Equal(t, "This refund has already been claimed", text(t, tab, "#claim-status"))
	shot(t, tab, "claim-revisit")
	awaiting, err := h.Engine.RefundClaimsAwaitingPayout(ctx, invoice.PayoutListOptions{})
	require.NoError(t, err)
	require.Len(t, awaiting.Payouts, 1)
	require.Equal(t, testBTCAddress, awaiting.Payouts[0].Destination)
}

// htmlPart returns the decoded text/html part of a multipart/alternative
// message.
func htmlPart(t *testing.T, raw []byte) []byte {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	require.NoError(t, err)
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(t, err)
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable itself
		require.NoError(t, err, "no text/html part")
		if ct, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type")); ct == "text/html" {
			b, err := io.ReadAll(part)
			require.NoError(t, err)
			return b
		}
	}
}
