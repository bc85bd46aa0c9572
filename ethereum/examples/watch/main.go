// Command watch takes one invoice payment on an Ethereum node: it creates
// an invoice of 30 EUR payable in ether (or a token), derives its deposit
// address from an account xpub, and runs the engine and the chain watcher
// until the invoice is final, printing the merchant's callbacks.
//
// Against a local anvil node, paying itself from anvil's first (unlocked)
// account and mining a block a second:
//
//	anvil &
//	go run ./examples/watch -selfpay
//
// Against a real node, with your account xpub and Tether's ERC-20 token:
//
//	go run ./examples/watch -rpc wss://node.example.com -xpub xpub6... \
//	    -currency USDTE -token USDTE=0xdAC17F958D2ee523a2206206994597C13D831ec7:6 -finalized
//
// The default xpub is the one of the public test mnemonic "abandon ...
// about": anyone can spend from its addresses. Never pay real money to it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/ethereum"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/ethclient"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/shopspring/decimal"
)

const testXPub = "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt"

type tokenFlags []ethereum.Token

func (t *tokenFlags) String() string { return fmt.Sprint(*t) }

// Set parses CURRENCY=0xCONTRACT:DECIMALS.
func (t *tokenFlags) Set(s string) error {
	cur, rest, ok1 := strings.Cut(s, "=")
	contract, dec, ok2 := strings.Cut(rest, ":")
	d, err := strconv.ParseUint(dec, 10, 8)
	if !ok1 || !ok2 || err != nil || !common.IsHexAddress(contract) {
		return fmt.Errorf("want CURRENCY=0xCONTRACT:DECIMALS, got %q", s)
	}
	*t = append(*t, ethereum.Token{Currency: cur, Contract: common.HexToAddress(contract), Decimals: uint8(d)})
	return nil
}

func main() {
	url := flag.String("rpc", "ws://127.0.0.1:8545", "the node's JSON-RPC endpoint (http:// or ws://)")
	xpub := flag.String("xpub", testXPub, "account extended public key, m/44'/60'/0'")
	currency := flag.String("currency", "ETH", "payment currency: ETH or a -token's currency")
	confirmations := flag.Uint64("confirmations", 3, "confirmations before a payment is final")
	finalized := flag.Bool("finalized", false, "confirm at the node's finalized block instead")
	checkpoint := flag.String("checkpoint", "", "checkpoint file (default: in memory, the program scans from the head)")
	selfpay := flag.Bool("selfpay", false, "anvil only: pay the invoice from the node's first account and mine blocks")
	var tokens tokenFlags
	flag.Var(&tokens, "token", "watch a token: CURRENCY=0xCONTRACT:DECIMALS (repeatable)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *url, *xpub, *currency, *confirmations, *finalized, *checkpoint, *selfpay, tokens); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, url, xpub, currency string, confirmations uint64, finalized bool,
	checkpoint string, selfpay bool, tokens []ethereum.Token) error {
	raw, err := rpc.DialContext(ctx, url)
	if err != nil {
		return err
	}
	defer raw.Close()
	client := ethclient.NewClient(raw)

	store := memstore.New() // pgstore in production: the derivation counter must be durable
	addrs, err := ethereum.NewAddresses(ethereum.AddressConfig{AccountXPub: xpub, Sequences: store})
	if err != nil {
		return err
	}
	engine, err := invoice.New(invoice.Config{
		Store:     store,
		Rates:     invoice.MustStaticRates("ETH/EUR=3000", "USDTE/EUR=1"),
		Addresses: addrs,
		Notifier: invoice.NotifierFunc(func(_ context.Context, d *invoice.Delivery) error {
			cb := d.Callback
			fmt.Printf("callback: %s, received %s %s", cb.Status, cb.CurrencyReceived.Amount.String(), cb.CurrencyReceived.Currency)
			for _, t := range cb.Transactions {
				fmt.Printf("; tx %s… %d confirmations", t.TxID[:10], t.Confirmations)
			}
			fmt.Println()
			return nil
		}),
		CustomerNotifier: invoice.CustomerNotifierFunc(func(_ context.Context, n *invoice.RefundNotice) error {
			fmt.Printf("refund claim for the customer: %s %s (%s)\n", n.Amount, n.Currency, n.Reason)
			return nil
		}),
		AcceptedCurrencies: []string{"ETH", "USDTE"},
		// In a service: the same secret keys on every instance, not in the store.
		RefundTokenKeys:       [][]byte{invoice.NewRefundTokenKey()},
		DestinationValidators: ethereum.DestinationValidators("ETH", "USDTE"),
	})
	if err != nil {
		return err
	}
	inv, err := engine.Create(ctx, invoice.CreateRequest{
		ForeignID: fmt.Sprintf("demo-%d", time.Now().Unix()), Title: "Demo order", Amount: decimal.NewFromInt(30),
		Currency: "EUR", Timer: true, SenderCurrency: currency, Email: "customer@example.com",
	})
	if err != nil {
		return err
	}
	fmt.Printf("invoice %s: pay %s %s to %s (%s)\n", inv.ForeignID, inv.SenderAmount, currency, inv.Deposit.Address, inv.Deposit.Path)

	var cps ethereum.Checkpoints = &ethereum.MemoryCheckpoints{}
	if checkpoint != "" {
		cps = ethereum.FileCheckpoints{Path: checkpoint}
	}
	w, err := ethereum.New(ethereum.Config{
		Client: client, Engine: engine, Checkpoints: cps,
		Tokens: tokens, Confirmations: confirmations, Finalized: finalized, PollInterval: time.Second,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go engine.Run(ctx)
	go w.Run(ctx)

	if selfpay {
		if currency != "ETH" {
			return fmt.Errorf("-selfpay pays ether only")
		}
		if err := payFromAnvil(ctx, raw, inv); err != nil {
			return err
		}
	}
	for tick := time.NewTicker(time.Second); ; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if selfpay {
			_ = raw.CallContext(ctx, nil, "anvil_mine", hexutil.Uint64(1))
		}
		got, err := engine.Get(ctx, inv.ForeignID)
		if err != nil {
			return err
		}
		if got.Status.IsFinal() {
			_, _ = engine.DeliverDue(ctx)
			fmt.Printf("invoice %s is %s\n", got.ForeignID, got.Status)
			return nil
		}
	}
}

// payFromAnvil sends the invoice's amount from anvil's first dev account,
// which anvil keeps unlocked.
func payFromAnvil(ctx context.Context, c *rpc.Client, inv *invoice.Invoice) error {
	var accounts []common.Address
	if err := c.CallContext(ctx, &accounts, "eth_accounts"); err != nil || len(accounts) == 0 {
		return fmt.Errorf("-selfpay needs anvil's unlocked accounts: %v", err)
	}
	wei := inv.SenderAmount.Shift(18).BigInt()
	var h common.Hash
	err := c.CallContext(ctx, &h, "eth_sendTransaction", map[string]any{
		"from": accounts[0], "to": common.HexToAddress(inv.Deposit.Address), "value": (*hexutil.Big)(new(big.Int).Set(wei)),
	})
	if err != nil {
		return err
	}
	fmt.Printf("paid from %s in transaction %s\n", accounts[0].Hex(), h.Hex())
	return nil
}
