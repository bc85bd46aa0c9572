// Command shop is a demo shop on the embedded store with the customer's
// checkout pages (package checkout): open it in a browser, create an
// invoice of any type, pay it on its checkout page and watch it move
// through processing to confirmed.
//
//	go run ./examples/shop -addr 127.0.0.1:8080 -key KEY -secret SECRET
//	go run ./examples/shop -addr 127.0.0.1:8080 -key KEY -secret SECRET -simulate
//
// With -simulate (for development only; off by default) the shop's page
// has buttons that report simulated on-chain payments to the engine:
// seen in the mempool, confirmed, or a part. Without it, nothing but a
// real chain watcher calling Engine.ReportTransaction pays an invoice.
//
// E-mails to customers (refund-claim notices) are printed to the terminal
// instead of being sent: this is a development mailbox, and the printed
// claim link carries the customer's secret token, as the real e-mail does.
//
// The merchant API (package merchantapi) is served under /api/v2 and /v2,
// as examples/merchant-api serves it: -key and -secret are its credentials
// (CoinsPaid's X-Processing-Key and the secret request bodies are signed
// with), the same flags. An invoice created through it has its checkout
// link in the answer's "url".
//
// It prints its URLs and runs until interrupted; SIGINT or SIGTERM stops it
// cleanly with exit status 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/cryptoinvoice/invoice/examples/internal/serve"
)

func main() {
	serve.Main("shop", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	})
}

// options are the command's flags.
type options struct {
	addr, key, secret, base string
	simulate                bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.key, "key", "", "merchant API key, X-Processing-Key (required)")
	fs.StringVar(&o.secret, "secret", "", "merchant API signing secret (required)")
	fs.StringVar(&o.base, "base", "", "public base URL of this server (default http://ADDR)")
	fs.BoolVar(&o.simulate, "simulate", false, "development only: show buttons that simulate on-chain payments")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.key == "" || o.secret == "" {
		fs.Usage()
		return o, fmt.Errorf("-key and -secret are required: %w", flag.ErrHelp)
	}
	return o, nil
}
