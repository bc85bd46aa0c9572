package ethereum

import (
	"errors"

	"github.com/cryptoinvoice/invoice"
	"github.com/ethereum/go-ethereum/common"
)

// ErrAddress is matched (errors.Is) by every error of ValidateAddress.
var ErrAddress = errors.New("ethereum: invalid address")

// addressError says in a customer's words why an address is refused; the
// engine shows its text after "The address is not a valid ETH address: ".
type addressError string

func (e addressError) Error() string { return string(e) }
func (e addressError) Unwrap() error { return ErrAddress }

// ValidateAddress checks a refund destination: "0x" and 40 hex digits, not
// the zero address (funds sent there are lost). The check is
// checksum-aware: an address in a single case (all lower or all upper
// hexadecimal digits) carries no checksum and is accepted; a mixed-case one
// must match its EIP-55 checksum exactly, so a mistyped character is
// caught. It is an invoice.DestinationValidator; its errors match
// ErrAddress.
func ValidateAddress(s string) error {
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' {
		return addressError("it must be 0x followed by 40 hexadecimal digits")
	}
	hex := s[2:]
	lower, upper := false, false
	for i := 0; i < len(hex); i++ {
		switch c := hex[i]; {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return addressError("it must be 0x followed by 40 hexadecimal digits")
		}
	}
	addr := common.HexToAddress(s)
	if addr == (common.Address{}) {
		return addressError("it is the zero address, from which nobody can ever spend")
	}
	if lower && upper && addr.Hex()[2:] != hex {
		return addressError("its upper- and lower-case letters do not match its checksum (EIP-55); check it for a typo")
	}
	return nil
}

var _ invoice.DestinationValidator = ValidateAddress

// DestinationValidators returns ValidateAddress for each currency (default
// ETH and USDTE), for invoice.Config.DestinationValidators; add other
// networks' validators to the map.
func DestinationValidators(currencies ...string) map[string]invoice.DestinationValidator {
	if len(currencies) == 0 {
		currencies = []string{"ETH", "USDTE"}
	}
	m := make(map[string]invoice.DestinationValidator, len(currencies))
	for _, c := range currencies {
		m[c] = ValidateAddress
	}
	return m
}
