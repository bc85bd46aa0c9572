package bitcoin

import (
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/address/v2"
)

// maxAddressLen bounds an address: bech32 strings are at most 90 characters.
const maxAddressLen = 90

// ValidateAddress checks that s is a Bitcoin address a payment can be sent
// to on the network: base58check P2PKH or P2SH with the network's version
// byte, bech32 (BIP-173) witness version 0 P2WPKH or P2WSH, or bech32m
// (BIP-350) witness version 1 Taproot, with the network's prefix (bc, tb,
// bcrt, sb). Checksums are verified; mixed-case bech32, raw public keys,
// pay-to-anchor outputs and future witness versions (which no wallet can
// spend yet) are refused. Testnet addresses also validate on regtest when
// base58 (the two networks share version bytes). The error matches
// ErrAddress, or ErrNetwork for a valid address of another network.
func ValidateAddress(s string, net Network) error {
	params := net.Params()
	if params == nil {
		return fmt.Errorf("%w: %s", ErrNetwork, net)
	}
	if s == "" || len(s) > maxAddressLen || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return ErrAddress
	}
	a, err := address.DecodeAddress(s, params)
	if err == nil && !payable(a) {
		return fmt.Errorf("%w: it cannot receive a payment", ErrAddress)
	}
	if err == nil && a.IsForNet(params) {
		return nil
	}
	for _, other := range []Network{Mainnet, Testnet, Regtest, Simnet} {
		if other == net {
			continue
		}
		if o, oerr := address.DecodeAddress(s, other.Params()); oerr == nil && o.IsForNet(other.Params()) && payable(o) {
			return fmt.Errorf("%w: this is a %s address; a %s address is needed", ErrNetwork, other, net)
		}
	}
	if err == nil {
		return fmt.Errorf("%w: a %s address is needed", ErrNetwork, net)
	}
	return fmt.Errorf("%w (check it for a typo)", ErrAddress)
}

// payable reports whether a is a standard payment destination.
func payable(a address.Address) bool {
	switch a.(type) {
	case *address.AddressPubKeyHash, *address.AddressScriptHash,
		*address.AddressWitnessPubKeyHash, *address.AddressWitnessScriptHash, *address.AddressTaproot:
		return true
	}
	return false
}

// DestinationValidator returns a refund destination check for the network,
// for invoice.Config.DestinationValidators (keyed by the currency code,
// e.g. "BTC"): it calls ValidateAddress.
func DestinationValidator(net Network) func(address string) error {
	return func(s string) error { return ValidateAddress(s, net) }
}
