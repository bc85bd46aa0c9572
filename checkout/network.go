package checkout

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/shopspring/decimal"
)

// URIKind is the payment URI standard of a network.
type URIKind uint8

// Payment URI standards.
const (
	// URINone: no standard URI; the page shows the address and amount
	// without a QR code.
	URINone URIKind = iota
	// URIBIP21: "scheme:address?amount=1.5" (BIP-21), for Bitcoin and the
	// coins that copied it (Litecoin, Bitcoin Cash).
	URIBIP21
	// URIEIP681: "ethereum:address@chain?value=wei" for ether, and
	// "ethereum:token@chain/transfer?address=to&uint256=units" for an
	// ERC-20 token (EIP-681).
	URIEIP681
)

// Network is how one payment currency is paid: the network's name, shown
// prominently next to the address (so that a customer does not send USDT
// on the wrong chain), and how its payment URI is built.
type Network struct {
	// Name is shown as "Network: <Name>", e.g. "Bitcoin" or
	// "Ethereum (ERC-20)". Required.
	Name string
	// URI selects the payment URI standard; URINone shows no QR code.
	URI URIKind
	// Scheme is the BIP-21 URI scheme, e.g. "bitcoin", "litecoin",
	// "bitcoincash". An address that already starts with "Scheme:" (Bitcoin
	// Cash's CashAddr) is not prefixed twice. EIP-681 always uses
	// "ethereum".
	Scheme string
	// ChainID is the EIP-681 chain id ("@1" for Ethereum mainnet); 0 leaves
	// it out (wallets then assume the one they are on).
	ChainID int64
	// TokenContract is the ERC-20 contract address for a token; "" for
	// the chain's own coin. Set it for every ERC-20 currency (and to the
	// testnet contract on a testnet): a token without one gets no QR code.
	TokenContract string
	// Decimals is the number of fraction digits of the smallest unit in an
	// EIP-681 URI (ether: 18, USDT: 6). Required for URIEIP681.
	Decimals int32
}

// USDTMainnetContract is Tether USD's ERC-20 contract on Ethereum mainnet,
// the default TokenContract of USDT.
const USDTMainnetContract = "0xdAC17F958D2ee523a2206206994597C13D831ec7"

// DefaultNetworks returns the networks of invoice.DefaultCurrencies on
// their main networks: BTC, BCH and LTC with BIP-21, ETH with EIP-681 on
// chain 1 and USDT as an ERC-20 token on chain 1 (USDTMainnetContract).
func DefaultNetworks() map[string]Network {
	return map[string]Network{
		"BTC":  {Name: "Bitcoin", URI: URIBIP21, Scheme: "bitcoin"},
		"BCH":  {Name: "Bitcoin Cash", URI: URIBIP21, Scheme: "bitcoincash"},
		"LTC":  {Name: "Litecoin", URI: URIBIP21, Scheme: "litecoin"},
		"ETH":  {Name: "Ethereum", URI: URIEIP681, ChainID: 1, Decimals: 18},
		"USDT": {Name: "Ethereum (ERC-20)", URI: URIEIP681, ChainID: 1, TokenContract: USDTMainnetContract, Decimals: 6},
	}
}

func (n Network) validate(code string) error {
	switch {
	case n.Name == "":
		return fmt.Errorf("checkout: network of %s has no Name", code)
	case n.URI == URIBIP21 && (n.Scheme == "" || strings.ContainsAny(n.Scheme, ":/?#")):
		return fmt.Errorf("checkout: network of %s: BIP-21 needs a Scheme without punctuation", code)
	case n.URI == URIEIP681 && (n.Decimals < 0 || n.Decimals > 36):
		return fmt.Errorf("checkout: network of %s: Decimals %d out of [0, 36]", code, n.Decimals)
	case n.URI == URIEIP681 && n.ChainID < 0:
		return fmt.Errorf("checkout: network of %s: negative ChainID", code)
	case n.URI > URIEIP681:
		return fmt.Errorf("checkout: network of %s: unknown URI kind %d", code, n.URI)
	}
	return nil
}

// errNoURI: the address or amount cannot be put into the network's URI.
var errNoURI = errors.New("checkout: no payment URI")

// PaymentURI returns the standard payment URI for sending amount to
// address on network n: BIP-21 or EIP-681. It fails for URINone, for an
// address with characters a URI must not carry, and (EIP-681) for an
// amount finer than the smallest unit.
func (n Network) PaymentURI(address string, amount decimal.Decimal) (string, error) {
	if address == "" || strings.ContainsAny(address, "?&#@/ \t\r\n") || !amount.IsPositive() {
		return "", errNoURI
	}
	switch n.URI {
	case URIBIP21:
		addr := address
		if !strings.HasPrefix(strings.ToLower(addr), n.Scheme+":") {
			addr = n.Scheme + ":" + addr
		}
		if strings.Count(addr, ":") != 1 {
			return "", errNoURI
		}
		return addr + "?amount=" + amount.String(), nil
	case URIEIP681:
		if strings.Contains(address, ":") {
			return "", errNoURI
		}
		units := amount.Shift(n.Decimals)
		if !units.IsInteger() {
			return "", errNoURI
		}
		chain := ""
		if n.ChainID != 0 {
			chain = fmt.Sprintf("@%d", n.ChainID)
		}
		v := units.BigInt()
		if n.TokenContract == "" {
			return "ethereum:" + address + chain + "?value=" + v.String(), nil
		}
		q := url.Values{"address": {address}, "uint256": {v.String()}}
		return "ethereum:" + n.TokenContract + chain + "/transfer?" + q.Encode(), nil
	}
	return "", errNoURI
}
