package invoice

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxTextLen bounds refund destinations and payout references, in bytes.
const maxTextLen = 255

// checkText is the default check of a refund destination (and of a payout
// reference): it returns "" for a non-empty string of at most maxTextLen
// bytes of valid UTF-8 without white space, control or other unprintable
// characters, and otherwise the end of a message ("is required.", ...).
func checkText(s string) string {
	switch {
	case s == "":
		return "is required."
	case len(s) > maxTextLen:
		return "may not be greater than 255 characters."
	case !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return "format is invalid."
	}
	return ""
}

// CheckRefundDestination checks a refund destination address for a
// currency as RedeemRefundClaim will: the default check (see
// Config.DestinationValidators), then the currency's validator if one is
// configured. It returns nil or a *ValidationError on field "address". A
// claim page can call it to show the error before redeeming; the address
// is taken trimmed of surrounding white space, as RedeemRefundClaim stores
// it.
func (e *Engine) CheckRefundDestination(currency, address string) error {
	_, err := e.checkDestination(currency, address)
	return err
}

// checkDestination returns the trimmed address or a *ValidationError.
func (e *Engine) checkDestination(currency, address string) (string, error) {
	address = strings.TrimSpace(address)
	msg := checkText(address)
	if msg != "" {
		msg = "The address " + msg
	} else if validate := e.cfg.DestinationValidators[currency]; validate != nil {
		if err := validate(address); err != nil {
			msg = "The address is not a valid " + currency + " address: " + err.Error()
		}
	}
	if msg != "" {
		v := &ValidationError{}
		v.add("address", msg)
		return "", v
	}
	return address, nil
}
