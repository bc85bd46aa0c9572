package ethereum

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
)

// ErrAddress reports an invalid Ethereum address.
var ErrAddress = errors.New("ethereum: invalid address")

// ValidateAddress checks a refund destination: "0x" and 40 hex digits, not
// the zero address (funds sent there are burnt). The check is
// checksum-aware: an address in a single case (all lower or all upper
// hexadecimal digits) carries no checksum and is accepted; a mixed-case one
// must match its EIP-55 checksum exactly, so a mistyped character is
// caught. It has the signature of invoice.DestinationValidator.
func ValidateAddress(s string) error {
	if len(s) != 42 || s[0] != '0' || s[1] != 'x' {
		return fmt.Errorf("%w: want 0x and 40 hexadecimal digits", ErrAddress)
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
			return fmt.Errorf("%w: want 0x and 40 hexadecimal digits", ErrAddress)
		}
	}
	addr := common.HexToAddress(s)
	if addr == (common.Address{}) {
		return fmt.Errorf("%w: the zero address burns funds", ErrAddress)
	}
	if lower && upper && addr.Hex()[2:] != hex {
		return fmt.Errorf("%w: EIP-55 checksum mismatch (mistyped?)", ErrAddress)
	}
	return nil
}
