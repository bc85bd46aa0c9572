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
// ErrAddress, or ErrNetwork for a valid address of another network; its
// text is worded for customers (the engine shows it to them).
func ValidateAddress(s string, net Network) error {
	params := net.Params()
	if params == nil {
		return fmt.Errorf("%w: %s", ErrNetwork, net)
	}
	if s == "" || len(s) > maxAddressLen || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return addressError{ErrAddress, "it is empty, too long or contains characters no address has"}
	}
	a, err := address.DecodeAddress(s, params)
	if err == nil && !payable(a) {
		return addressError{ErrAddress, "it cannot receive payments"}
	}
	if err == nil && a.IsForNet(params) {
		return nil
	}
	for _, other := range []Network{Mainnet, Testnet, Regtest, Simnet} {
		if other == net {
			continue
		}
		if o, oerr := address.DecodeAddress(s, other.Params()); oerr == nil && o.IsForNet(other.Params()) && payable(o) {
			return addressError{ErrNetwork, fmt.Sprintf("it is a %s address; a %s address is needed", other, net)}
		}
	}
	if err == nil {
		return addressError{ErrNetwork, fmt.Sprintf("it is not a %s address", net)}
	}
	return addressError{ErrAddress, "its format or checksum is wrong (check it for a typo)"}
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

// addressError says in words for customers why an address was refused
// (the engine shows it after "The address is not a valid BTC address: ");
// it matches ErrAddress or ErrNetwork.
type addressError struct {
	kind error
	msg  string
}

func (e addressError) Error() string { return e.msg }
func (e addressError) Unwrap() error { return e.kind }
