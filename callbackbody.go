package invoice

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// BodyForm is the byte form of a callback body: how its JSON strings are
// escaped. Receivers that verify the signature over the raw body accept
// either; receivers that decode the body and verify over their own
// re-encoding accept only the form their encoder produces, so the engine
// sends bodies that are already in that form (a fixed point of
// decode-then-encode). Both forms have no insignificant white space, no
// trailing newline, keys in a fixed order and amounts as strings; they
// differ only in string escapes, and cannot agree on "/" and non-ASCII.
type BodyForm uint8

const (
	// BodyPHP, the default, is what PHP's json_encode with default flags
	// produces, as CoinsPaid's own shop plugins (WooCommerce, VirtueMart)
	// re-encode the decoded body before checking its signature: "/" as
	// "\/", every non-ASCII character as a lowercase \uXXXX escape
	// (surrogate pairs beyond U+FFFF), "<", ">", "&" and "'" as they are,
	// \b \f \n \r \t and \u00XX for other control characters.
	BodyPHP BodyForm = iota
	// BodyJSONStringify is what JavaScript's JSON.stringify produces:
	// "/", "<", ">", "&" and non-ASCII as they are (UTF-8), \b \f \n \r \t
	// and \u00XX for other control characters.
	BodyJSONStringify
)

// String returns "php" or "json_stringify".
func (f BodyForm) String() string {
	switch f {
	case BodyPHP:
		return "php"
	case BodyJSONStringify:
		return "json_stringify"
	}
	return fmt.Sprintf("BodyForm(%d)", uint8(f))
}

// Body returns the exact bytes of the callback's HTTP body in the given
// form: its JSON encoding (see Callback) with strings escaped as the form
// says. Sign and send these bytes unchanged.
func (cb *Callback) Body(form BodyForm) ([]byte, error) {
	if form > BodyJSONStringify {
		return nil, fmt.Errorf("invoice: callback body: unknown form %d: %w", form, ErrUnknownValue)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cb); err != nil {
		return nil, fmt.Errorf("invoice: callback body: %w", err)
	}
	return ReencodeJSON(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), form)
}

// ReencodeJSON rewrites every string of a valid JSON document with the
// escapes of form, leaving everything else byte for byte: the result is
// what that form's encoder makes of the decoded document when the
// document has no white space and no numbers the encoder would rewrite
// (as callback bodies). An invalid document is an error.
func ReencodeJSON(doc []byte, form BodyForm) ([]byte, error) {
	out := make([]byte, 0, len(doc)+len(doc)/8)
	for i := 0; i < len(doc); {
		c := doc[i]
		if c != '"' {
			out = append(out, c)
			i++
			continue
		}
		end := stringEnd(doc, i)
		if end < 0 {
			return nil, fmt.Errorf("invoice: re-encode JSON: unterminated string at offset %d", i)
		}
		var s string
		if err := json.Unmarshal(doc[i:end], &s); err != nil {
			return nil, fmt.Errorf("invoice: re-encode JSON: %w", err)
		}
		out = appendString(out, s, form)
		i = end
	}
	return out, nil
}

// stringEnd returns the offset just past the JSON string starting at
// doc[start] == '"', or -1.
func stringEnd(doc []byte, start int) int {
	for i := start + 1; i < len(doc); i++ {
		switch doc[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped as form says.
func appendString(out []byte, s string, form BodyForm) []byte {
	out = append(out, '"')
	for _, r := range s {
		switch {
		case r == '"':
			out = append(out, '\\', '"')
		case r == '\\':
			out = append(out, '\\', '\\')
		case r == '/' && form == BodyPHP:
			out = append(out, '\\', '/')
		case r == '\b':
			out = append(out, '\\', 'b')
		case r == '\f':
			out = append(out, '\\', 'f')
		case r == '\n':
			out = append(out, '\\', 'n')
		case r == '\r':
			out = append(out, '\\', 'r')
		case r == '\t':
			out = append(out, '\\', 't')
		case r < 0x20:
			out = appendU(out, r)
		case r < utf8.RuneSelf || form == BodyJSONStringify:
			out = utf8.AppendRune(out, r)
		case r <= 0xffff:
			out = appendU(out, r)
		default:
			r -= 0x10000
			out = appendU(out, 0xd800+(r>>10))
			out = appendU(out, 0xdc00+(r&0x3ff))
		}
	}
	return append(out, '"')
}

func appendU(out []byte, r rune) []byte {
	return append(out, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}
