package pgstore

import (
	"encoding"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/shopspring/decimal"

	invoice "github.com/cryptoinvoice/invoice"
)

// Decimals travel as exact text: shopspring/decimal's own String and
// MarshalJSON drop trailing zeros ("1.50" becomes "1.5"), which would lose
// the exponent the Store contract asks us to keep.

// exactString renders d so that decimal.NewFromString gives back the same
// coefficient and exponent ("1.50", "0.000", "100", "15E2").
func exactString(d decimal.Decimal) string {
	exp := d.Exponent()
	switch {
	case exp < 0:
		return d.StringFixed(-exp)
	case exp == 0:
		return d.Coefficient().String()
	}
	return d.Coefficient().String() + "E" + strconv.FormatInt(int64(exp), 10)
}

// parseDecimal parses text written by exactString or by PostgreSQL's
// numeric output.
func parseDecimal(s string) (decimal.Decimal, error) {
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("pgstore: bad decimal %q: %w", s, err)
	}
	return d, nil
}

// jdec is a decimal that encodes to JSON as an exact string.
type jdec decimal.Decimal

func (d jdec) MarshalJSON() ([]byte, error) {
	return strconv.AppendQuote(nil, exactString(decimal.Decimal(d))), nil
}

func (d *jdec) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("pgstore: decimal must be a JSON string: %w", err)
	}
	v, err := parseDecimal(s)
	if err != nil {
		return err
	}
	*d = jdec(v)
	return nil
}

// encEnum names a valid enum value ("confirmed"); an invalid one is kept
// as its number so that nothing is lost.
func encEnum[T ~uint8](v T) string {
	if m, ok := any(v).(encoding.TextMarshaler); ok {
		if b, err := m.MarshalText(); err == nil {
			return string(b)
		}
	}
	return strconv.FormatUint(uint64(v), 10)
}

// decEnum reverses encEnum.
func decEnum[T ~uint8, PT interface {
	*T
	encoding.TextUnmarshaler
}](s string) (T, error) {
	if n, err := strconv.ParseUint(s, 10, 8); err == nil {
		return T(n), nil
	}
	var v T
	if err := PT(&v).UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("pgstore: %w", err)
	}
	return v, nil
}

// columnEnum names an enum value for a text column with a CHECK
// constraint: invalid values are refused before they reach the database.
func columnEnum[T ~uint8](field string, v T) (string, error) {
	m, ok := any(v).(encoding.TextMarshaler)
	if !ok {
		return "", fmt.Errorf("pgstore: %s: not a text enum", field)
	}
	b, err := m.MarshalText()
	if err != nil {
		return "", fmt.Errorf("pgstore: %s: %w", field, err)
	}
	return string(b), nil
}

// utc returns t in UTC without a monotonic reading, or the zero time.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Round(0)
}

// tsArg is the argument for a nullable timestamptz column: NULL for the
// zero time.
func tsArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// fromTS reads a nullable timestamptz column, scanned into a
// pgtype.Timestamptz so that no stored value (not even 'infinity') makes
// the scan, and with it the whole result set, fail: an infinite time is a
// decoding error of this row only.
func fromTS(col string, t pgtype.Timestamptz, errp *error) time.Time {
	switch {
	case !t.Valid:
		return time.Time{}
	case t.InfinityModifier != pgtype.Finite:
		if *errp == nil {
			*errp = fmt.Errorf("pgstore: %s is an infinite time", col)
		}
		return time.Time{}
	}
	return utc(t.Time)
}

// JSON mirrors of the nested invoice types, with exact decimals and enum
// names. Field names follow the invoice package's JSON tags so the stored
// documents read naturally in SQL. Slices keep nil (null) apart from empty
// ([]).

type jQuote struct {
	Currency string `json:"currency"`
	Rate     jdec   `json:"rate"`
	Amount   jdec   `json:"amount"`
}

type jTransaction struct {
	Number        int64     `json:"id"`
	TxID          string    `json:"txid"`
	Currency      string    `json:"currency"`
	Amount        jdec      `json:"amount"`
	Confirmations int64     `json:"confirmations"`
	Status        string    `json:"status"`
	Accounted     bool      `json:"accounted"`
	Flagged       bool      `json:"flagged,omitempty"`
	Settled       bool      `json:"settled,omitempty"`
	SeenAt        time.Time `json:"seen_at,omitzero"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

type jRefundClaim struct {
	ID          uuid.UUID `json:"id"`
	Amount      jdec      `json:"amount"`
	Currency    string    `json:"currency"`
	Reason      string    `json:"reason"`
	TxIDs       []string  `json:"txids"`
	TokenHash   string    `json:"token_hash"`
	Status      string    `json:"status"`
	Destination string    `json:"destination,omitempty"`
	PayoutRef   string    `json:"payout_ref,omitempty"`
	CreatedAt   time.Time `json:"created_at,omitzero"`
	RedeemedAt  time.Time `json:"redeemed_at,omitzero"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
}

// encodeList marshals a slice through a mirror; a nil slice gives SQL NULL
// (nil), an empty one "[]".
func encodeList[S any, M any](in []S, conv func(S) M) ([]byte, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]M, len(in))
	for i, v := range in {
		out[i] = conv(v)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("pgstore: encode: %w", err)
	}
	return b, nil
}

// decodeList reverses encodeList: SQL NULL gives a nil slice.
func decodeList[S any, M any](b []byte, conv func(M) (S, error)) ([]S, error) {
	if b == nil {
		return nil, nil
	}
	var ms []M
	if err := json.Unmarshal(b, &ms); err != nil {
		return nil, fmt.Errorf("pgstore: decode: %w", err)
	}
	if ms == nil {
		return nil, nil
	}
	out := make([]S, len(ms))
	for i, m := range ms {
		v, err := conv(m)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func toJQuote(q invoice.Quote) jQuote {
	return jQuote{Currency: q.Currency, Rate: jdec(q.Rate), Amount: jdec(q.Amount)}
}

func fromJQuote(q jQuote) (invoice.Quote, error) {
	return invoice.Quote{Currency: q.Currency, Rate: decimal.Decimal(q.Rate), Amount: decimal.Decimal(q.Amount)}, nil
}

func toJTransaction(t invoice.Transaction) jTransaction {
	return jTransaction{
		Number: t.Number, TxID: t.TxID, Currency: t.Currency, Amount: jdec(t.Amount),
		Confirmations: t.Confirmations, Status: encEnum(t.Status), Accounted: t.Accounted,
		Flagged: t.Flagged, Settled: t.Settled, SeenAt: utc(t.SeenAt), UpdatedAt: utc(t.UpdatedAt),
	}
}

func fromJTransaction(t jTransaction) (invoice.Transaction, error) {
	st, err := decEnum[invoice.TxStatus](t.Status)
	if err != nil {
		return invoice.Transaction{}, err
	}
	return invoice.Transaction{
		Number: t.Number, TxID: t.TxID, Currency: t.Currency, Amount: decimal.Decimal(t.Amount),
		Confirmations: t.Confirmations, Status: st, Accounted: t.Accounted,
		Flagged: t.Flagged, Settled: t.Settled, SeenAt: utc(t.SeenAt), UpdatedAt: utc(t.UpdatedAt),
	}, nil
}

func toJRefundClaim(c invoice.RefundClaim) jRefundClaim {
	return jRefundClaim{
		ID: c.ID, Amount: jdec(c.Amount), Currency: c.Currency, Reason: c.Reason, TxIDs: c.TxIDs,
		TokenHash: c.TokenHash, Status: encEnum(c.Status), Destination: c.Destination, PayoutRef: c.PayoutRef,
		CreatedAt: utc(c.CreatedAt), RedeemedAt: utc(c.RedeemedAt), PaidAt: utc(c.PaidAt),
	}
}

func fromJRefundClaim(c jRefundClaim) (invoice.RefundClaim, error) {
	st, err := decEnum[invoice.RefundClaimStatus](c.Status)
	if err != nil {
		return invoice.RefundClaim{}, err
	}
	return invoice.RefundClaim{
		ID: c.ID, Amount: decimal.Decimal(c.Amount), Currency: c.Currency, Reason: c.Reason, TxIDs: c.TxIDs,
		TokenHash: c.TokenHash, Status: st, Destination: c.Destination, PayoutRef: c.PayoutRef,
		CreatedAt: utc(c.CreatedAt), RedeemedAt: utc(c.RedeemedAt), PaidAt: utc(c.PaidAt),
	}, nil
}

// Outbox payloads. The callback document keeps the CoinsPaid field names
// but stores amounts exactly (the wire format pads them to 8 digits, which
// would change their exponent).

type jCallback struct {
	ID               int64                   `json:"id"`
	ForeignID        string                  `json:"foreign_id"`
	EndUserReference string                  `json:"end_user_reference,omitempty"`
	Type             string                  `json:"type"`
	CryptoAddress    invoice.CallbackAddress `json:"crypto_address"`
	CurrencySent     jCallbackSent           `json:"currency_sent"`
	CurrencyReceived jCallbackReceived       `json:"currency_received"`
	Transactions     []jCallbackTransaction  `json:"transactions"`
	Fees             []jCallbackFee          `json:"fees"`
	Error            string                  `json:"error"`
	Status           string                  `json:"status"`
	FixedAt          int64                   `json:"fixed_at"`
	ExpiresAt        int64                   `json:"expires_at"`
}

type jCallbackSent struct {
	Currency        string `json:"currency"`
	Amount          jdec   `json:"amount"`
	RemainingAmount jdec   `json:"remaining_amount"`
}

type jCallbackReceived struct {
	Currency string `json:"currency"`
	Amount   jdec   `json:"amount"`
}

type jCallbackTransaction struct {
	ID              int64  `json:"id"`
	Currency        string `json:"currency"`
	TransactionType string `json:"transaction_type"`
	Type            string `json:"type"`
	Address         string `json:"address"`
	Tag             string `json:"tag"`
	Amount          jdec   `json:"amount"`
	TxID            string `json:"txid"`
	Confirmations   int64  `json:"confirmations"`
	Status          string `json:"status"`
}

type jCallbackFee struct {
	Type     string `json:"type"`
	Currency string `json:"currency"`
	Amount   jdec   `json:"amount"`
}

type jNotice struct {
	ClaimID   uuid.UUID `json:"claim_id"`
	InvoiceID uuid.UUID `json:"invoice_id"`
	ForeignID string    `json:"foreign_id"`
	Email     string    `json:"email"`
	Amount    jdec      `json:"amount"`
	Currency  string    `json:"currency"`
	Reason    string    `json:"reason"`
	// No token: the engine never stores one (a notice of an older schema
	// had one; migration 0003 removed it).
}

// encodeCallback returns the jsonb document of cb, or nil for no callback:
// the document json.Marshal gives of its mirror (jsonCallback), written by
// hand (appendCallback) because a callback is encoded on every transition
// and encoding/json's reflection cost about 20 µs of it. Strings that are
// not valid UTF-8 (never storable: the Store refuses them first) go
// through encoding/json, which replaces their bad bytes.
func encodeCallback(cb *invoice.Callback) ([]byte, error) {
	if cb == nil {
		return nil, nil
	}
	if !callbackUTF8(cb) {
		return jsonCallback(cb)
	}
	return appendCallback(make([]byte, 0, 512), cb), nil
}

// jsonCallback is encodeCallback through encoding/json and jCallback.
func jsonCallback(cb *invoice.Callback) ([]byte, error) {
	j := jCallback{
		ID: cb.ID, ForeignID: cb.ForeignID, EndUserReference: cb.EndUserReference, Type: cb.Type,
		CryptoAddress: cb.CryptoAddress,
		CurrencySent: jCallbackSent{Currency: cb.CurrencySent.Currency, Amount: jdec(cb.CurrencySent.Amount.Decimal),
			RemainingAmount: jdec(cb.CurrencySent.RemainingAmount.Decimal)},
		CurrencyReceived: jCallbackReceived{Currency: cb.CurrencyReceived.Currency, Amount: jdec(cb.CurrencyReceived.Amount.Decimal)},
		Error:            cb.Error, Status: encEnum(cb.Status), FixedAt: cb.FixedAt, ExpiresAt: cb.ExpiresAt,
	}
	if cb.Transactions != nil {
		j.Transactions = make([]jCallbackTransaction, len(cb.Transactions))
		for i, t := range cb.Transactions {
			j.Transactions[i] = jCallbackTransaction{
				ID: t.ID, Currency: t.Currency, TransactionType: t.TransactionType, Type: t.Type,
				Address: t.Address, Tag: t.Tag, Amount: jdec(t.Amount.Decimal), TxID: t.TxID,
				Confirmations: t.Confirmations, Status: encEnum(t.Status),
			}
		}
	}
	if cb.Fees != nil {
		j.Fees = make([]jCallbackFee, len(cb.Fees))
		for i, f := range cb.Fees {
			j.Fees[i] = jCallbackFee{Type: f.Type, Currency: f.Currency, Amount: jdec(f.Amount.Decimal)}
		}
	}
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("pgstore: encode callback: %w", err)
	}
	return b, nil
}

// callbackUTF8 reports whether every string of cb is valid UTF-8.
func callbackUTF8(cb *invoice.Callback) bool {
	ok := utf8.ValidString(cb.ForeignID) && utf8.ValidString(cb.EndUserReference) && utf8.ValidString(cb.Type) &&
		utf8.ValidString(cb.CryptoAddress.Currency) && utf8.ValidString(cb.CryptoAddress.ConvertTo) &&
		utf8.ValidString(cb.CryptoAddress.Address) && utf8.ValidString(cb.CryptoAddress.Tag) &&
		utf8.ValidString(cb.CurrencySent.Currency) && utf8.ValidString(cb.CurrencyReceived.Currency) &&
		utf8.ValidString(cb.Error)
	for _, t := range cb.Transactions {
		ok = ok && utf8.ValidString(t.Currency) && utf8.ValidString(t.TransactionType) && utf8.ValidString(t.Type) &&
			utf8.ValidString(t.Address) && utf8.ValidString(t.Tag) && utf8.ValidString(t.TxID)
	}
	for _, f := range cb.Fees {
		ok = ok && utf8.ValidString(f.Type) && utf8.ValidString(f.Currency)
	}
	return ok
}

// appendCallback appends the JSON of jCallback for cb, as json.Marshal
// writes it (same keys and order; strings escaped as JSON requires; the
// document is stored as jsonb, so escapes that json.Marshal adds for HTML,
// \u003c and the like, make no difference). cb's strings must be valid
// UTF-8.
func appendCallback(b []byte, cb *invoice.Callback) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, cb.ID, 10)
	b = appendKeyString(b, `,"foreign_id":`, cb.ForeignID)
	if cb.EndUserReference != "" {
		b = appendKeyString(b, `,"end_user_reference":`, cb.EndUserReference)
	}
	b = appendKeyString(b, `,"type":`, cb.Type)
	// invoice.CallbackAddress.MarshalJSON: null for an empty currency,
	// address or tag; convert_to omitted when empty.
	a := cb.CryptoAddress
	b = append(b, `,"crypto_address":{"id":`...)
	b = strconv.AppendInt(b, a.ID, 10)
	b = appendKeyNullable(b, `,"currency":`, a.Currency)
	if a.ConvertTo != "" {
		b = appendKeyString(b, `,"convert_to":`, a.ConvertTo)
	}
	b = appendKeyNullable(b, `,"address":`, a.Address)
	b = appendKeyNullable(b, `,"tag":`, a.Tag)
	b = appendKeyString(b, `},"currency_sent":{"currency":`, cb.CurrencySent.Currency)
	b = appendKeyDecimal(b, `,"amount":`, cb.CurrencySent.Amount.Decimal)
	b = appendKeyDecimal(b, `,"remaining_amount":`, cb.CurrencySent.RemainingAmount.Decimal)
	b = appendKeyString(b, `},"currency_received":{"currency":`, cb.CurrencyReceived.Currency)
	b = appendKeyDecimal(b, `,"amount":`, cb.CurrencyReceived.Amount.Decimal)
	b = append(b, `},"transactions":`...)
	if cb.Transactions == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, t := range cb.Transactions {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = strconv.AppendInt(b, t.ID, 10)
			b = appendKeyString(b, `,"currency":`, t.Currency)
			b = appendKeyString(b, `,"transaction_type":`, t.TransactionType)
			b = appendKeyString(b, `,"type":`, t.Type)
			b = appendKeyString(b, `,"address":`, t.Address)
			b = appendKeyString(b, `,"tag":`, t.Tag)
			b = appendKeyDecimal(b, `,"amount":`, t.Amount.Decimal)
			b = appendKeyString(b, `,"txid":`, t.TxID)
			b = append(b, `,"confirmations":`...)
			b = strconv.AppendInt(b, t.Confirmations, 10)
			b = appendKeyString(b, `,"status":`, encEnum(t.Status))
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"fees":`...)
	if cb.Fees == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, f := range cb.Fees {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendKeyString(b, `{"type":`, f.Type)
			b = appendKeyString(b, `,"currency":`, f.Currency)
			b = appendKeyDecimal(b, `,"amount":`, f.Amount.Decimal)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = appendKeyString(b, `,"error":`, cb.Error)
	b = appendKeyString(b, `,"status":`, encEnum(cb.Status))
	b = append(b, `,"fixed_at":`...)
	b = strconv.AppendInt(b, cb.FixedAt, 10)
	b = append(b, `,"expires_at":`...)
	b = strconv.AppendInt(b, cb.ExpiresAt, 10)
	return append(b, '}')
}

func appendKeyString(b []byte, key, s string) []byte {
	return appendJSONString(append(b, key...), s)
}

// appendKeyNullable writes null for an empty s.
func appendKeyNullable(b []byte, key, s string) []byte {
	if s == "" {
		return append(append(b, key...), "null"...)
	}
	return appendKeyString(b, key, s)
}

// appendKeyDecimal writes d as jdec does: its exact string.
func appendKeyDecimal(b []byte, key string, d decimal.Decimal) []byte {
	return appendJSONString(append(b, key...), exactString(d))
}

// appendJSONString appends s (valid UTF-8) as a JSON string: quote,
// backslash and control characters escaped, everything else as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// decodeCallback reverses encodeCallback.
func decodeCallback(b []byte) (*invoice.Callback, error) {
	if b == nil {
		return nil, nil
	}
	var j jCallback
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("pgstore: decode callback: %w", err)
	}
	st, err := decEnum[invoice.Status](j.Status)
	if err != nil {
		return nil, err
	}
	cb := &invoice.Callback{
		ID: j.ID, ForeignID: j.ForeignID, EndUserReference: j.EndUserReference, Type: j.Type,
		CryptoAddress: j.CryptoAddress,
		CurrencySent: invoice.CallbackSent{Currency: j.CurrencySent.Currency,
			Amount:          invoice.Amount{Decimal: decimal.Decimal(j.CurrencySent.Amount)},
			RemainingAmount: invoice.Amount{Decimal: decimal.Decimal(j.CurrencySent.RemainingAmount)}},
		CurrencyReceived: invoice.CallbackReceived{Currency: j.CurrencyReceived.Currency,
			Amount: invoice.Amount{Decimal: decimal.Decimal(j.CurrencyReceived.Amount)}},
		Error: j.Error, Status: st, FixedAt: j.FixedAt, ExpiresAt: j.ExpiresAt,
	}
	if j.Transactions != nil {
		cb.Transactions = make([]invoice.CallbackTransaction, len(j.Transactions))
		for i, t := range j.Transactions {
			ts, err := decEnum[invoice.TxStatus](t.Status)
			if err != nil {
				return nil, err
			}
			cb.Transactions[i] = invoice.CallbackTransaction{
				ID: t.ID, Currency: t.Currency, TransactionType: t.TransactionType, Type: t.Type,
				Address: t.Address, Tag: t.Tag, Amount: invoice.Amount{Decimal: decimal.Decimal(t.Amount)},
				TxID: t.TxID, Confirmations: t.Confirmations, Status: ts,
			}
		}
	}
	if j.Fees != nil {
		cb.Fees = make([]invoice.CallbackFee, len(j.Fees))
		for i, f := range j.Fees {
			cb.Fees[i] = invoice.CallbackFee{Type: f.Type, Currency: f.Currency, Amount: invoice.Amount{Decimal: decimal.Decimal(f.Amount)}}
		}
	}
	return cb, nil
}

// encodeNotice returns the jsonb document of n, or nil for no notice.
func encodeNotice(n *invoice.RefundNotice) ([]byte, error) {
	if n == nil {
		return nil, nil
	}
	b, err := json.Marshal(jNotice{
		ClaimID: n.ClaimID, InvoiceID: n.InvoiceID, ForeignID: n.ForeignID, Email: n.Email,
		Amount: jdec(n.Amount), Currency: n.Currency, Reason: n.Reason,
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: encode notice: %w", err)
	}
	return b, nil
}

// decodeNotice reverses encodeNotice.
func decodeNotice(b []byte) (*invoice.RefundNotice, error) {
	if b == nil {
		return nil, nil
	}
	var j jNotice
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("pgstore: decode notice: %w", err)
	}
	return &invoice.RefundNotice{
		ClaimID: j.ClaimID, InvoiceID: j.InvoiceID, ForeignID: j.ForeignID, Email: j.Email,
		Amount: decimal.Decimal(j.Amount), Currency: j.Currency, Reason: j.Reason,
	}, nil
}

// jAttempt is one delivery attempt in the attempts jsonb array.
type jAttempt struct {
	At         time.Time `json:"at,omitzero"`
	DurationNS int64     `json:"duration_ns"`
	StatusCode int       `json:"status_code,omitempty"`
	Error      string    `json:"error,omitempty"`
}

func encodeAttempt(a invoice.Attempt) ([]byte, error) {
	if err := a.CheckStorable(); err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	b, err := json.Marshal(jAttempt{At: utc(a.At), DurationNS: int64(a.Duration), StatusCode: a.StatusCode, Error: a.Error})
	if err != nil {
		return nil, fmt.Errorf("pgstore: encode attempt: %w", err)
	}
	return b, nil
}

func encodeAttempts(as []invoice.Attempt) ([]byte, error) {
	js := make([]jAttempt, len(as))
	for i, a := range as {
		js[i] = jAttempt{At: utc(a.At), DurationNS: int64(a.Duration), StatusCode: a.StatusCode, Error: a.Error}
	}
	b, err := json.Marshal(js)
	if err != nil {
		return nil, fmt.Errorf("pgstore: encode attempts: %w", err)
	}
	return b, nil
}

// decodeAttempts reads the attempts array; an empty one gives nil.
func decodeAttempts(b []byte) ([]invoice.Attempt, error) {
	var js []jAttempt
	if len(b) > 0 {
		if err := json.Unmarshal(b, &js); err != nil {
			return nil, fmt.Errorf("pgstore: decode attempts: %w", err)
		}
	}
	if len(js) == 0 {
		return nil, nil
	}
	out := make([]invoice.Attempt, len(js))
	for i, j := range js {
		out[i] = invoice.Attempt{At: utc(j.At), Duration: time.Duration(j.DurationNS), StatusCode: j.StatusCode, Error: j.Error}
	}
	return out, nil
}
