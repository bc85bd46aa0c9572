// Command merchant-api serves the CoinsPaid v2 compatible merchant API
// (package merchantapi) on the embedded store, with static rates and test
// deposit addresses: a sandbox to point a CoinsPaid client or a shop
// plugin at.
//
//	go run ./examples/merchant-api -addr 127.0.0.1:8080 -key KEY -secret SECRET
//
// It prints its base URL, logs every callback it would send (no merchant
// URL is configured) and runs until interrupted; SIGINT or SIGTERM stops it
// cleanly with exit status 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/examples/internal/serve"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/merchantapi"
)

func main() {
	serve.Main("merchant-api", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("merchant-api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	key := fs.String("key", "", "the API key clients send as X-Processing-Key (required)")
	secret := fs.String("secret", "", "the secret clients sign request bodies with (required)")
	checkout := fs.String("checkout-base", "https://checkout.example/i", "base URL of the customers' checkout links")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" || *secret == "" {
		fs.Usage()
		return fmt.Errorf("-key and -secret are required: %w", flag.ErrHelp)
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	engine, err := invoice.New(invoice.Config{
		Store:           memstore.New(),
		CheckoutBaseURL: *checkout,
		// A sandbox's claims live as long as the process: a new key each run.
		RefundTokenKeys: [][]byte{invoice.NewRefundTokenKey()},
		Rates: invoice.MustStaticRates("BTC/EUR=60000", "BCH/EUR=400", "LTC/EUR=80", "ETH/EUR=3000", "USDTE/EUR=1",
			"BTC/USD=65000", "BCH/USD=430", "LTC/USD=86", "ETH/USD=3250", "USDTE/USD=1.08"),
		Addresses: invoice.AddressSourceFunc(func(_ context.Context, inv *invoice.Invoice, currency string) (invoice.Address, error) {
			return invoice.Address{Address: fmt.Sprintf("test-%s-%s", strings.ToLower(currency), inv.ForeignID)}, nil
		}),
		Notifier: invoice.NotifierFunc(func(_ context.Context, d *invoice.Delivery) error {
			logger.Info("callback", "foreign_id", d.Callback.ForeignID, "status", d.Callback.Status.String(), "delivery", d.ID)
			return nil
		}),
		CustomerNotifier: invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			logger.Info("refund claim notice", "foreign_id", n.ForeignID, "amount", n.Amount.String(), "currency", n.Currency)
			return nil
		}),
		Logger: logger,
	})
	if err != nil {
		return err
	}
	api, err := merchantapi.New(merchantapi.Config{
		Engine: engine,
		Keys:   []merchantapi.Key{{Key: *key, Secret: *secret}},
		Logger: logger,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: time.Minute}
	fmt.Fprintf(stdout, "merchant API on http://%s/api/v2 (also /v2); OpenAPI at http://%s/api/v2/openapi.json\n", ln.Addr(), ln.Addr())

	// engine.Run sweeps deadlines and delivers callbacks.
	return serve.Run(ctx, srv, ln, engine.Run, stdout)
}
