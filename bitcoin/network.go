package bitcoin

import (
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/v2"
)

// Network is a Bitcoin network. The zero value is not a network.
type Network uint8

// Networks. Testnet stands for every public test network that shares
// testnet3's address formats (testnet3, testnet4, signet): "tb1…"
// bech32 addresses, "m…"/"n…"/"2…" base58 addresses and tpub keys.
const (
	Mainnet Network = iota + 1
	Testnet
	Regtest
	Simnet
)

var networkNames = [...]string{Mainnet: "mainnet", Testnet: "testnet", Regtest: "regtest", Simnet: "simnet"}

// String returns "mainnet", "testnet", "regtest" or "simnet".
func (n Network) String() string {
	if n >= Mainnet && n <= Simnet {
		return networkNames[n]
	}
	return fmt.Sprintf("Network(%d)", uint8(n))
}

// ParseNetwork parses a network name as String returns it; "main",
// "testnet3", "testnet4" and "signet" are accepted too.
func ParseNetwork(s string) (Network, error) {
	switch s {
	case "mainnet", "main":
		return Mainnet, nil
	case "testnet", "testnet3", "testnet4", "signet":
		return Testnet, nil
	case "regtest":
		return Regtest, nil
	case "simnet":
		return Simnet, nil
	}
	return 0, fmt.Errorf("bitcoin: unknown network %q: %w", s, ErrNetwork)
}

// Params returns the btcsuite chain parameters of the network, or nil for
// an invalid Network.
func (n Network) Params() *chaincfg.Params {
	switch n {
	case Mainnet:
		return &chaincfg.MainNetParams
	case Testnet:
		return &chaincfg.TestNet3Params
	case Regtest:
		return &chaincfg.RegressionNetParams
	case Simnet:
		return &chaincfg.SimNetParams
	}
	return nil
}
