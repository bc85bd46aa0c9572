package bitcoin_test

import (
	"context"
	"fmt"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/bitcoin"
	"github.com/cryptoinvoice/invoice/memstore"
)

// An engine handing out BIP-84 addresses of an account; the index comes
// from the store's durable sequence.
func ExampleNewAddressSource() {
	acct, err := bitcoin.ParseAccount(
		"zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs",
		bitcoin.Mainnet, bitcoin.SchemeAuto)
	if err != nil {
		fmt.Println(err)
		return
	}
	store := memstore.New() // pgstore in production: the index survives restarts
	src := bitcoin.NewAddressSource(acct, store, bitcoin.SourceOptions{})
	for range 2 {
		a, err := src.DepositAddress(context.Background(), &invoice.Invoice{}, "BTC")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(a.Path, a.Address)
	}
	// Output:
	// m/84'/0'/0'/0/0 bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu
	// m/84'/0'/0'/0/1 bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g
}

// Refund destinations are checked for the network.
func ExampleDestinationValidator() {
	check := bitcoin.DestinationValidator(bitcoin.Mainnet)
	fmt.Println(check("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") == nil)
	fmt.Println(check("tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"))
	// Output:
	// true
	// it is a testnet address; a mainnet address is needed
}
