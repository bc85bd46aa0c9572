package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/checkout"
	"github.com/cryptoinvoice/invoice/examples/internal/serve"
	"github.com/cryptoinvoice/invoice/mailer"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/merchantapi"
)

// run starts the shop and serves until ctx ends. When ready is not nil it
// receives the base URL once the server listens.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	base := strings.TrimRight(o.base, "/")
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	out := &lockedWriter{w: stdout}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	mailbox, err := printEmails(out, base+"/i/"+checkout.ClaimPath)
	if err != nil {
		return err
	}
	engine, err := invoice.New(invoice.Config{
		Store:           memstore.New(),
		CheckoutBaseURL: base + "/i",
		Rates: invoice.MustStaticRates("BTC/EUR=60000", "BCH/EUR=400", "LTC/EUR=80", "ETH/EUR=3000", "USDTE/EUR=1",
			"BTC/USD=65000", "BCH/USD=430", "LTC/USD=86", "ETH/USD=3250", "USDTE/USD=1.08"),
		Addresses:        demoAddresses,
		Notifier:         printCallbacks(out),
		CustomerNotifier: mailbox,
		// A fresh key per run: memstore forgets every claim on exit anyway.
		RefundTokenKeys: [][]byte{invoice.NewRefundTokenKey()},
		Logger:          logger,
	})
	if err != nil {
		return err
	}
	pages, err := checkout.New(checkout.Config{Engine: engine, MerchantName: "Demo Shop", Logo: logoSVG,
		LogoType: "image/svg+xml", Logger: logger})
	if err != nil {
		return err
	}
	s := &shop{engine: engine, base: base, simulate: o.simulate, out: out}
	mux := http.NewServeMux()
	mux.Handle("/i/", http.StripPrefix("/i", pages))
	mux.Handle("/", s.handler())
	// The merchant API, as examples/merchant-api serves it: /api/v2 (what
	// CoinsPaid clients call) and /v2, signed with -key and -secret.
	api, err := merchantapi.New(merchantapi.Config{Engine: engine,
		Keys: []merchantapi.Key{{Key: o.key, Secret: o.secret}}, Logger: logger})
	if err != nil {
		return err
	}
	mux.Handle("/api/v2/", api)
	mux.Handle("/v2/", api)

	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	fmt.Fprintf(out, "demo shop on %s/\n", base)
	fmt.Fprintf(out, "checkout pages under %s/i/{token}\n", base)
	fmt.Fprintf(out, "merchant API on %s/api/v2 (also /v2); OpenAPI at %s/api/v2/openapi.json\n", base, base)
	if o.simulate {
		fmt.Fprintln(out, "simulated payments: ON (development only)")
	}

	if ready != nil {
		ready <- base // the listener is bound: requests wait for Serve
	}
	// engine.Run sweeps deadlines, delivers callbacks and e-mails.
	return serve.Run(ctx, srv, ln, engine.Run, out)
}

// demoAddresses hands out made-up addresses in each currency's format,
// derived from the foreign id. Do not send anything to them.
var demoAddresses = invoice.AddressSourceFunc(func(_ context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
	sum := sha256.Sum256([]byte(inv.ForeignID + "/" + currency))
	h := hex.EncodeToString(sum[:])
	switch currency {
	case "ETH", "USDTE":
		return invoice.Address{Address: "0x" + h[:40]}, nil
	case "LTC":
		return invoice.Address{Address: "ltc1q" + h[:38]}, nil
	case "BCH":
		return invoice.Address{Address: "bitcoincash:q" + h[:41]}, nil
	}
	return invoice.Address{Address: "bc1q" + h[:38]}, nil
})

func printCallbacks(w io.Writer) invoice.Notifier {
	return invoice.NotifierFunc(func(_ context.Context, d *invoice.Delivery) error {
		cb := d.Callback
		line := fmt.Sprintf("callback → %s: %s", cb.ForeignID, cb.Status)
		if cb.Error != "" {
			line += fmt.Sprintf(" (%s)", cb.Error)
		}
		fmt.Fprintln(w, line)
		return nil
	})
}

// printEmails is the development mailbox: refund-claim e-mails are
// rendered by package mailer, as they would be sent, and printed instead.
// The printed link carries the claim's token: this is a local demo whose
// terminal stands in for the customer's inbox; a real host sends it with
// mailer.New and never prints it.
func printEmails(w io.Writer, claimBase string) (invoice.CustomerNotifier, error) {
	m, err := mailer.New(mailer.Config{Host: "localhost", From: "Demo Shop <refunds@shop.example>",
		ClaimBaseURL: claimBase, Branding: mailer.Branding{Name: "Demo Shop"}})
	if err != nil {
		return nil, err
	}
	return invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
		msg, err := m.Render(n)
		if err != nil {
			return err
		}
		to := n.Email
		if to == "" {
			to = "(no e-mail address known)"
		}
		fmt.Fprintf(w, "\n--- e-mail (development mailbox, not sent) ---\nTo: %s\nSubject: %s\n\n%s\n--- end of e-mail ---\n\n",
			to, msg.Subject, msg.Text)
		return nil
	}), nil
}

// lockedWriter serializes writes from the engine's delivery goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

var logoSVG = []byte(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40"><rect width="40" height="40" rx="9" fill="#0b57d0"/><path d="M11 15h18l-2 13H13z" fill="#fff"/><path d="M15 15a5 5 0 0 1 10 0" stroke="#fff" stroke-width="2.5" fill="none"/></svg>`)
