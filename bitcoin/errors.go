package bitcoin

import "errors"

// Errors of this package, for errors.Is.
var (
	// ErrNetwork: an unknown network, or a key or address of another network.
	ErrNetwork = errors.New("bitcoin: wrong or unknown network")
	// ErrKey: the extended key is not an account-level extended public key
	// usable with the requested scheme.
	ErrKey = errors.New("bitcoin: unusable extended key")
	// ErrAddress: a refund destination is not a valid address.
	ErrAddress = errors.New("bitcoin: invalid address")
	// ErrCurrency: an address was asked for a currency this source does not serve.
	ErrCurrency = errors.New("bitcoin: currency not served")
	// ErrIndexExhausted: the derivation index passed 2^31-1.
	ErrIndexExhausted = errors.New("bitcoin: derivation index exhausted")
)
