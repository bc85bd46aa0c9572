package checkout_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/checkout"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/mailer/mailertest"
)

// The refund flow end to end: an underpaid invoice makes a refund claim,
// the mailer e-mails its link, and the customer claims the refund on the
// checkout handler's claim page, once.
func Example_refundClaim() {
	ctx := context.Background()
	smtpd, err := mailertest.Listen(mailertest.Options{}) // your SMTP provider in production
	if err != nil {
		log.Fatal(err)
	}
	defer smtpd.Close()

	mux := http.NewServeMux()
	site := httptest.NewServer(mux)
	defer site.Close()
	base := site.URL + "/i" // the engine's CheckoutBaseURL

	m, err := mailer.New(mailer.Config{Host: smtpd.Host, Port: smtpd.Port, Security: mailer.NoTLS,
		From: "Example Shop <refunds@shop.example>", ClaimBaseURL: base + "/" + checkout.ClaimPath,
		Branding: mailer.Branding{Name: "Example Shop"}})
	if err != nil {
		log.Fatal(err)
	}
	h, err := invoicetest.NewHarness(func(c *invoice.Config) {
		c.CustomerNotifier = m
		c.CheckoutBaseURL = base
	})
	if err != nil {
		log.Fatal(err)
	}
	pages, err := checkout.New(checkout.Config{Engine: h.Engine, MerchantName: "Example Shop", Clock: h.Clock})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/i/", http.StripPrefix("/i", pages))

	// 0.001 BTC paid of 0.00166667 BTC asked: failed, 0.001 BTC to refund.
	_, _ = h.Engine.Create(ctx, invoice.CreateRequest{ForeignID: "o-1", Title: "Order o-1", Amount: decimal.NewFromInt(100),
		Currency: "EUR", Timer: true, SenderCurrency: "BTC", Email: "customer@example.com"})
	for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
		_, _ = h.Engine.ReportTransaction(ctx, "o-1", invoice.TransactionReport{TxID: "tx1", Currency: "BTC",
			Amount: decimal.RequireFromString("0.001"), Confirmations: 3, Status: st})
	}
	_, _ = h.Engine.DeliverDue(ctx) // sends the e-mail
	// The message is quoted-printable: decode it to find the link.
	msg, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(smtpd.Messages()[0].Data)))
	link := regexp.MustCompile(`https?://[^\s"<>]+/refund/rc2_[A-Za-z0-9_-]{64}`).FindString(string(msg))

	// The customer follows the link, enters an address, confirms.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	show := func(res *http.Response) {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		h1 := regexp.MustCompile(`<h[12][^>]*>([^<]+)</h[12]>`).FindAllStringSubmatch(string(b), -1)
		fmt.Println(res.StatusCode, h1[len(h1)-1][1])
	}
	res, _ := client.Get(link)
	show(res)
	post := func(step string) *http.Response {
		res, err := client.PostForm(link, url.Values{"step": {step}, "address": {"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}})
		if err != nil {
			log.Fatal(err)
		}
		return res
	}
	show(post("review"))
	res = post("redeem")
	fmt.Println(res.StatusCode, res.Header.Get("Location") != "")
	res.Body.Close()
	res, _ = client.Get(link + "?done=1")
	show(res)
	show(post("redeem")) // a second submit
	inv, _ := h.Engine.Get(ctx, "o-1")
	fmt.Println(inv.RefundClaims[0].Status, strings.HasPrefix(inv.RefundClaims[0].Destination, "bc1q"))
	// Output:
	// 200 Claim your refund
	// 200 Please check the address
	// 303 true
	// 200 Refund claimed
	// 409 This refund has already been claimed
	// redeemed true
}
