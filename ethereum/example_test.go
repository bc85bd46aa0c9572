package ethereum_test

import (
	"context"
	"fmt"
	"log"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/ethereum"
	"github.com/cryptoinvoice/invoice/memstore"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/ethclient"
)

// Deposit addresses from an account xpub (here the one of the BIP-39 test
// mnemonic "abandon ... about"), indexes from the store's counter.
func ExampleNewAddresses() {
	store := memstore.New()
	addrs, err := ethereum.NewAddresses(ethereum.AddressConfig{
		AccountXPub: "xpub6DCoCpSuQZB2jawqnGMEPS63ePKWkwWPH4TU45Q7LPXWuNd8TMtVxRrgjtEshuqpK3mdhaWHPFsBngh5GFZaM6si3yZdUsT8ddYM3PwnATt",
		Sequences:   store,
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 2 {
		a, err := addrs.DepositAddress(context.Background(), &invoice.Invoice{}, "USDTE")
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(a.Address, a.Path)
	}
	// Output:
	// 0x9858EfFD232B4033E47d90003D41EC34EcaEda94 m/44'/60'/0'/0/0
	// 0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0 m/44'/60'/0'/0/1
}

// A watcher for ether and Tether's ERC-20 token on mainnet, over
// WebSocket, reporting to the engine.
func ExampleNew() {
	ctx := context.Background()
	var engine *invoice.Engine // built with Addresses: the ethereum.Addresses above
	client, err := ethclient.DialContext(ctx, "wss://node.example.com")
	if err != nil {
		log.Fatal(err)
	}
	w, err := ethereum.New(ethereum.Config{
		Client:      client,
		Engine:      engine,
		Checkpoints: ethereum.FileCheckpoints{Path: "/var/lib/shop/eth-checkpoint.json"},
		Tokens: []ethereum.Token{{
			Currency: "USDTE",
			Contract: common.HexToAddress("0xdAC17F958D2ee523a2206206994597C13D831ec7"),
			Decimals: 6,
		}},
		Finalized:     true,                                                                                // confirm at the finalized block (about 13 minutes)
		IgnoreSenders: []common.Address{common.HexToAddress("0x1111111111111111111111111111111111111111")}, // the gas wallet
	})
	if err != nil {
		log.Fatal(err)
	}
	go w.Run(ctx)
}
