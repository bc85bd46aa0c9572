package merchantapi

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/cryptoinvoice/invoice"
	"github.com/shopspring/decimal"
)

// jsonContent reports whether a request with a body may be read as JSON:
// Content-Type application/json (any parameters), a +json type, or none
// at all (some clients send none).
func jsonContent(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if ct == "" || ct == "application/json" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// members reads the members of a request object leniently, the way
// CoinsPaid's clients send them, collecting a message per bad field.
type members struct {
	errs map[string]string
}

func (p *members) fail(name, msg string) {
	if p.errs == nil {
		p.errs = make(map[string]string)
	}
	if _, ok := p.errs[name]; !ok {
		p.errs[name] = msg
	}
}

// human is a field name as the messages spell it: "foreign_id" → "foreign id".
func human(name string) string { return strings.ReplaceAll(name, "_", " ") }

// raw returns the member's text, or nil when it is absent, null or "".
func raw(v json.RawMessage) json.RawMessage {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" || string(v) == `""` {
		return nil
	}
	return v
}

// str returns a string member: a JSON string (escapes such as \/ decoded),
// or a number taken as its text (clients send foreign_id: 196). Absent,
// null and "" are "". Anything else is a field error.
func (p *members) str(name string, v json.RawMessage) string {
	v = raw(v)
	switch {
	case v == nil:
		return ""
	case v[0] == '"':
		if s, ok := plainString(v); ok {
			return s
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			p.fail(name, "The "+human(name)+" must be a string.")
			return ""
		}
		return s
	case v[0] == '-' || '0' <= v[0] && v[0] <= '9':
		return string(v)
	}
	p.fail(name, "The "+human(name)+" must be a string.")
	return ""
}

// plainString returns the content of a JSON string literal that needs no
// unescaping: no backslash, no control character, valid UTF-8 (what
// json.Unmarshal would return unchanged). Others take the slow path.
func plainString(v json.RawMessage) (string, bool) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	for _, c := range in {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

// timer returns the timer member: true/false, 0/1 or "0"/"1" (and
// "true"/"false"), as Laravel's boolean rule accepts them. It is required.
func (p *members) timer(v json.RawMessage) bool {
	v = raw(v)
	switch string(v) {
	case "true", "1", `"1"`, `"true"`:
		return true
	case "false", "0", `"0"`, `"false"`:
		return false
	case "":
		p.fail("timer", "The timer field is required.")
		return false
	}
	p.fail("timer", "The timer field must be true or false.")
	return false
}

// amount returns the amount member, a JSON number or a numeric string,
// parsed exactly from its text (never through a float).
func (p *members) amount(v json.RawMessage) decimal.Decimal {
	v = raw(v)
	if v == nil {
		p.fail("amount", "The amount field is required.")
		return decimal.Zero
	}
	text := string(v)
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) != nil {
			p.fail("amount", "The amount must be a number.")
			return decimal.Zero
		}
		text = strings.TrimSpace(s)
	}
	d, ok := parseAmount(text)
	if !ok {
		p.fail("amount", "The amount must be a number.")
	}
	return d
}

// maxAmountText bounds the text of an amount (digits, sign, point,
// exponent): far more than any real amount, little enough to parse cheaply.
const maxAmountText = 64

// parseAmount parses a decimal number: an optional minus, digits with an
// optional fraction, and an optional exponent of at most two digits (so
// that "1e999999999" cannot make a huge number).
func parseAmount(s string) (decimal.Decimal, bool) {
	if s == "" || len(s) > maxAmountText {
		return decimal.Zero, false
	}
	i := 0
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		return i - start
	}
	if digits() == 0 {
		return decimal.Zero, false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return decimal.Zero, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if n := digits(); n == 0 || n > 2 {
			return decimal.Zero, false
		}
	}
	if i != len(s) {
		return decimal.Zero, false
	}
	d, err := decimal.NewFromString(s)
	return d, err == nil
}

// createFields are the members of a create request, each kept as its
// exact text (decoded into a struct: cheaper than a map).
type createFields struct {
	Timer            json.RawMessage `json:"timer"`
	Title            json.RawMessage `json:"title"`
	Name             json.RawMessage `json:"name"`
	Description      json.RawMessage `json:"description"`
	Currency         json.RawMessage `json:"currency"`
	SenderCurrency   json.RawMessage `json:"sender_currency"`
	Amount           json.RawMessage `json:"amount"`
	ForeignID        json.RawMessage `json:"foreign_id"`
	URLSuccess       json.RawMessage `json:"url_success"`
	URLFailed        json.RawMessage `json:"url_failed"`
	Email            json.RawMessage `json:"email_user"`
	Type             json.RawMessage `json:"type"`
	EndUserReference json.RawMessage `json:"end_user_reference"`
}

// decodeObject decodes a body that must be one JSON object into v (a
// struct of json.RawMessage members). An empty body is an empty object
// when allowEmpty is set.
func decodeObject(body []byte, allowEmpty bool, v any) *apiError {
	t := bytes.TrimSpace(body)
	if len(t) == 0 && allowEmpty {
		return nil
	}
	if len(t) == 0 || t[0] != '{' || json.Unmarshal(t, v) != nil {
		return errBadContent
	}
	return nil
}

// createRequest reads a create request. Field type errors come back as
// a validation answer; the engine checks everything else.
func createRequest(body []byte) (invoice.CreateRequest, *apiError) {
	var f createFields
	if aerr := decodeObject(body, false, &f); aerr != nil {
		return invoice.CreateRequest{}, aerr
	}
	p := &members{}
	req := invoice.CreateRequest{
		ForeignID:        p.str("foreign_id", f.ForeignID),
		EndUserReference: p.str("end_user_reference", f.EndUserReference),
		Title:            p.str("title", f.Title),
		Description:      p.str("description", f.Description),
		Currency:         p.str("currency", f.Currency),
		SenderCurrency:   p.str("sender_currency", f.SenderCurrency),
		URLSuccess:       p.str("url_success", f.URLSuccess),
		URLFailed:        p.str("url_failed", f.URLFailed),
		Email:            p.str("email_user", f.Email),
	}
	if req.Title == "" {
		// Older clients (and the first documentation) call it name.
		req.Title = p.str("name", f.Name)
	}
	req.Timer = p.timer(f.Timer)
	req.Amount = p.amount(f.Amount)
	if mode := p.str("type", f.Type); mode != "" {
		var err error
		if req.Mode, err = invoice.ParsePaymentMode(mode); err != nil {
			p.fail("type", "The selected type is invalid.")
		}
	}
	if p.errs != nil {
		return invoice.CreateRequest{}, fields(p.errs)
	}
	return req, nil
}
