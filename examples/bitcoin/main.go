// Command bitcoin runs the invoice engine with deposit addresses derived
// from an account's extended public key and a watcher that follows a
// Bitcoin node, and prints the callbacks a merchant would receive.
//
// What must run beside it: a full node with its JSON-RPC enabled (btcd, or
// Bitcoin Core; pruning is fine, no transaction index is needed), its RPC
// credentials, and — somewhere else, never on this server — the wallet
// that holds the account's private key (a hardware wallet, Sparrow,
// Electrum, Bitcoin Core), imported with a gap limit above the number of
// invoices that may stay unpaid in a row (see the bitcoin package docs).
//
//	export BTC_RPCPASS=... BTC_XPUB=zpub6r... REFUND_TOKEN_KEY=$(openssl rand -base64 32)
//	go run . -rpc 127.0.0.1:8334 -rpcuser shop -rpccert ~/.btcd/rpc.cert \
//	    -database postgres://user@127.0.0.1:5432/shop -demo 25
//
// With -database the invoices and the derivation index live in PostgreSQL
// (pgstore); without it they live in memory and the index starts at 0 again
// on every start, reusing addresses: for trying it out on regtest only.
// -demo creates one invoice of that many EUR, pre-selected BTC, and prints
// its address.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/shopspring/decimal"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/bitcoin"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/cryptoinvoice/invoice/pgstore"
)

type flags struct {
	rpc, rpcUser, rpcCert, network, scheme, database, checkpoint string
	confirmations, startHeight                                   int64
	rate, demo                                                   string
	notls                                                        bool
}

func main() {
	var f flags
	flag.StringVar(&f.rpc, "rpc", "127.0.0.1:8334", "node JSON-RPC host:port")
	flag.StringVar(&f.rpcUser, "rpcuser", os.Getenv("BTC_RPCUSER"), "node RPC user (default $BTC_RPCUSER); the password is read from $BTC_RPCPASS")
	flag.StringVar(&f.rpcCert, "rpccert", "", "node RPC TLS certificate (btcd's rpc.cert)")
	flag.BoolVar(&f.notls, "notls", false, "plain HTTP to the node (btcd --notls, loopback only)")
	flag.StringVar(&f.network, "network", "mainnet", "mainnet, testnet, regtest or simnet")
	flag.StringVar(&f.scheme, "scheme", "auto", "bip84, bip49, bip44 or auto (from the key's prefix); the key is read from $BTC_XPUB")
	flag.StringVar(&f.database, "database", "", "PostgreSQL URL (pgstore); empty: in memory, for trials only")
	flag.StringVar(&f.checkpoint, "checkpoint", "bitcoin-watcher.json", "watcher checkpoint file")
	flag.Int64Var(&f.confirmations, "confirmations", bitcoin.DefaultConfirmations, "confirmations that make a payment final")
	flag.Int64Var(&f.startHeight, "start-height", 0, "first block to scan when there is no checkpoint (0: the current tip)")
	flag.StringVar(&f.rate, "rate", "60000", "static BTC/EUR rate for the demo (use a real RateSource in production)")
	flag.StringVar(&f.demo, "demo", "", "create a demo invoice of this many EUR and print its address")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, f); err != nil && !errors.Is(err, context.Canceled) {
		log.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, f flags) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	net, err := bitcoin.ParseNetwork(f.network)
	if err != nil {
		return err
	}
	scheme, err := bitcoin.ParseScheme(f.scheme)
	if err != nil {
		return err
	}
	acct, err := bitcoin.ParseAccount(os.Getenv("BTC_XPUB"), net, scheme)
	if err != nil {
		return fmt.Errorf("$BTC_XPUB: %w", err)
	}

	var store invoice.Store = memstore.New()
	if f.database != "" {
		pool, err := pgxpool.New(ctx, f.database)
		if err != nil {
			return fmt.Errorf("connect: %w", err)
		}
		defer pool.Close()
		pg, err := pgstore.New(pool)
		if err != nil {
			return err
		}
		if err := pg.Migrate(ctx); err != nil {
			return err
		}
		store = pg
	} else {
		logger.Warn("no -database: invoices and the derivation index are in memory; addresses repeat after a restart")
	}
	addresses := bitcoin.NewAddressSource(acct, store, bitcoin.SourceOptions{})

	// Refund links are derived from this key: every instance on the
	// database must load the same one, from a secret store, never from the
	// database (REFUND_TOKEN_KEY, base64, at least 32 bytes).
	refundKey, err := base64.StdEncoding.DecodeString(os.Getenv("REFUND_TOKEN_KEY"))
	if err != nil {
		return fmt.Errorf("REFUND_TOKEN_KEY: %w", err)
	}
	if len(refundKey) == 0 {
		refundKey = invoice.NewRefundTokenKey()
		logger.Warn("REFUND_TOKEN_KEY is not set: using a key made now (refund links of this run die with it)")
	}

	engine, err := invoice.New(invoice.Config{
		Store:     store,
		Rates:     invoice.MustStaticRates("BTC/EUR=" + f.rate),
		Addresses: addresses,
		Notifier: invoice.NotifierFunc(func(_ context.Context, d *invoice.Delivery) error {
			cb := d.Callback
			fmt.Printf("callback %s: %s, received %s BTC, remaining %s\n", cb.ForeignID, cb.Status,
				cb.CurrencyReceived.Amount.String(), cb.CurrencySent.RemainingAmount.String())
			return nil
		}),
		CustomerNotifier: invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			// Production: e-mail the customer a link carrying n.Token.
			fmt.Printf("refund claim for %s: %s %s (%s)\n", n.ForeignID, n.Amount, n.Currency, n.Reason)
			return nil
		}),
		RefundTokenKeys:       [][]byte{refundKey},
		DestinationValidators: map[string]invoice.DestinationValidator{"BTC": bitcoin.DestinationValidator(net)},
		Logger:                logger,
	})
	if err != nil {
		return err
	}

	var cert []byte
	if !f.notls {
		if f.rpcCert == "" {
			return errors.New("-rpccert is required unless -notls")
		}
		if cert, err = os.ReadFile(f.rpcCert); err != nil {
			return err
		}
	}
	node, err := bitcoin.DialRPC(f.rpc, f.rpcUser, os.Getenv("BTC_RPCPASS"), cert)
	if err != nil {
		return err
	}
	defer node.Close()
	watcher, err := bitcoin.NewWatcher(bitcoin.WatcherConfig{
		Engine:        engine,
		Node:          node,
		Checkpoints:   bitcoin.FileCheckpoints{Path: f.checkpoint},
		Network:       net,
		Confirmations: f.confirmations,
		StartHeight:   f.startHeight,
		Logger:        logger,
	})
	if err != nil {
		return err
	}

	if f.demo != "" {
		amount, err := decimal.NewFromString(f.demo)
		if err != nil {
			return fmt.Errorf("-demo: %w", err)
		}
		inv, err := engine.Create(ctx, invoice.CreateRequest{
			ForeignID: "demo-" + strconv.FormatInt(time.Now().Unix(), 10), Title: "Demo order",
			Amount: amount, Currency: "EUR", Timer: true, SenderCurrency: "BTC", Email: "customer@example.com",
		})
		if err != nil {
			return err
		}
		fmt.Printf("invoice %s: pay %s BTC to %s (%s)\n", inv.ForeignID, inv.SenderAmount, inv.Deposit.Address, inv.Deposit.Path)
	}

	errc := make(chan error, 2)
	go func() { errc <- engine.Run(ctx) }()  // sweeps deadlines, delivers callbacks
	go func() { errc <- watcher.Run(ctx) }() // follows the node
	err = <-errc
	stopErr := <-errc
	return errors.Join(err, stopErr)
}
