package mailer_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"mime"
	"net/mail"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/invoicetest"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/mailer/mailertest"
)

// A Mailer is the engine's CustomerNotifier: when an invoice is underpaid
// the engine records a refund claim and the outbox hands its notice, with
// the token, to the mailer, which e-mails the claim link. In production
// the server is your provider's (Security StartTLS or ImplicitTLS, with
// Username and Password); here it is an in-process test server.
func Example() {
	ctx := context.Background()
	smtpd, err := mailertest.Listen(mailertest.Options{})
	if err != nil {
		log.Fatal(err)
	}
	defer smtpd.Close()

	m, err := mailer.New(mailer.Config{
		Host: smtpd.Host, Port: smtpd.Port,
		Security:     mailer.NoTLS, // a local relay; use StartTLS (the default) or ImplicitTLS otherwise
		From:         "Example Shop <refunds@shop.example>",
		ClaimBaseURL: "https://pay.shop.example/refund", // where the claim page is mounted
		Branding: mailer.Branding{
			Name:         "Example Shop",
			LogoURL:      "https://shop.example/logo.png",
			AccentColor:  "#0a7d3b",
			SupportEmail: "support@shop.example",
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	h, err := invoicetest.NewHarness(func(c *invoice.Config) { c.CustomerNotifier = m })
	if err != nil {
		log.Fatal(err)
	}
	e := h.Engine

	// 0.001 BTC paid for a 0.00166667 BTC invoice: it fails, and everything
	// received is to be refunded.
	_, _ = e.Create(ctx, invoice.CreateRequest{ForeignID: "o-1", Title: "Order o-1", Amount: decimal.NewFromInt(100),
		Currency: "EUR", Timer: true, SenderCurrency: "BTC", Email: "customer@example.com"})
	for _, st := range []invoice.TxStatus{invoice.TxNotConfirmed, invoice.TxConfirmed} {
		_, _ = e.ReportTransaction(ctx, "o-1", invoice.TransactionReport{TxID: "tx1", Currency: "BTC",
			Amount: decimal.RequireFromString("0.001"), Confirmations: 3, Status: st})
	}
	if _, err := e.DeliverDue(ctx); err != nil {
		log.Fatal(err)
	}

	for _, msg := range smtpd.Messages() {
		parsed, _ := mail.ReadMessage(bytes.NewReader(msg.Data))
		subject, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		fmt.Println("To:", msg.To)
		fmt.Println("Subject:", subject)
		fmt.Println("has the claim link:", strings.Contains(string(msg.Data), "https://pay.shop.example/refund/rc2_"))
	}
	// Output:
	// To: [customer@example.com]
	// Subject: Example Shop: claim your refund of 0.001 BTC
	// has the claim link: true
}
