package invoice

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// Input rules shared by every entry point. They run before any store sees
// the data, so every store gets (and answers) the same thing.
//
// Text: every string the engine stores must be valid UTF-8 without NUL or
// control characters (C0, DEL, C1, U+2028 and U+2029); a multi-line field
// (the description) may also hold tab, line feed and carriage return.
//
// Amounts: positive, below 10^MaxAmountDigits, with no more fraction
// digits than their currency's precision. Trailing zeros past the
// precision are dropped ("1.500" EUR is stored as "1.50"), since they say
// nothing; a significant digit past it is refused.

// MaxAmountDigits bounds the magnitude of every amount the engine accepts
// or computes: each is below 10^MaxAmountDigits units of its currency
// (100 quintillion), far above any real payment and small enough for every
// store to keep exactly.
const MaxAmountDigits = 20

// maxCoefficientDigits bounds the digits of a decimal given to the
// engine before any arithmetic on it (a coefficient with a million digits
// is refused without being looked at further).
const maxCoefficientDigits = 200

// Bounds of the decimals a Store must keep exactly: exponent between
// -MaxStoredScale and 0, at most MaxStoredDigits coefficient digits.
// Invoice.CheckStorable refuses any other, so every store answers such a
// decimal the same way. What the engine stores is well inside them.
const (
	MaxStoredScale  = 64
	MaxStoredDigits = 128
)

// textProblem returns why s may not be stored as a field's value, or "".
// multiline allows tab, line feed and carriage return.
func textProblem(s string, multiline bool) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				if !multiline || (c != '\t' && c != '\n' && c != '\r') {
					if c == 0 {
						return "contains a NUL character"
					}
					return "contains a control character"
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "is not valid UTF-8"
		case r >= 0x80 && r <= 0x9f, r == '\u2028', r == '\u2029':
			return "contains a control character"
		}
		i += size
	}
	return ""
}

// ValidText reports whether s is acceptable for a single-line text field
// the engine stores (an address, a reference, a code): valid UTF-8 without
// NUL or control characters.
func ValidText(s string) bool { return textProblem(s, false) == "" }

// checkText adds a field error when s is not acceptable text. human is the
// field's name in messages ("foreign id").
func (v *ValidationError) checkText(field, human, s string, multiline bool) bool {
	if p := textProblem(s, multiline); p != "" {
		v.add(field, "The "+human+" "+p+".")
		return false
	}
	return true
}

// isSpace reports white space, including the invisible separators a
// pasted code could carry.
func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r', 0x85, 0xa0, 0x1680, 0x180e, 0x200b, 0x202f, 0x205f, 0x3000, 0xfeff:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}

// amountProblem checks a positive amount against a precision and the
// magnitude bound. It returns the amount to store (trailing zeros past the
// precision dropped, canonical), or a message.
func amountProblem(d decimal.Decimal, precision int32) (decimal.Decimal, string) {
	if !d.IsPositive() {
		return d, "must be greater than 0"
	}
	digits := d.NumDigits()
	if digits > maxCoefficientDigits {
		return d, "has too many digits"
	}
	exp := int64(d.Exponent())
	if int64(digits)+exp > MaxAmountDigits {
		return d, "must be less than 10^" + strconv.Itoa(MaxAmountDigits)
	}
	if exp < -int64(precision) {
		tooPrecise := fmt.Sprintf("may not have more than %d decimal places", precision)
		k := -exp - int64(precision) // digits past the precision
		if k >= int64(digits) {
			return d, tooPrecise // a non-zero coefficient below 10^k
		}
		if new(big.Int).Rem(d.Coefficient(), new(big.Int).Exp(big.NewInt(10), big.NewInt(k), nil)).Sign() != 0 {
			return d, tooPrecise
		}
		d = d.Truncate(precision) // exact: only zeros go
	}
	return canonical(d), ""
}

// storableDecimal reports whether d is within the bounds every store keeps
// exactly.
func storableDecimal(d decimal.Decimal) bool {
	exp := d.Exponent()
	return exp <= 0 && exp >= -MaxStoredScale && d.NumDigits() <= MaxStoredDigits
}

// storableString reports whether every store keeps s exactly: valid UTF-8
// without NUL (PostgreSQL text and jsonb refuse NUL and invalid UTF-8, and
// JSON encoders replace invalid bytes).
func storableString(s string) bool {
	// Most stored strings are short and ASCII: one pass over them, eight
	// bytes at a time, before the general checks. A byte b passes when
	// b-1 < 0x7f, that is 1 ≤ b ≤ 0x7f: for a word whose bytes all pass,
	// neither x nor x-0x0101… has a high bit set (no byte borrows), and a
	// word with a failing byte sets the high bit of its lowest one.
	for w := s; ; w = w[8:] {
		if len(w) < 8 {
			for i := 0; i < len(w); i++ {
				if w[i]-1 >= utf8.RuneSelf-1 { // NUL or not ASCII
					return storableRest(w[i:])
				}
			}
			return true
		}
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		if (x|(x-0x0101010101010101))&0x8080808080808080 != 0 {
			return storableRest(w)
		}
	}
}

// storableRest is storableString for the rest of a string from a rune
// boundary (what precedes it is ASCII without NUL).
func storableRest(s string) bool {
	return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s)
}

// ValidStoredKey reports whether a string can be stored at all (valid
// UTF-8 without NUL). A store answers a look-up by a key that is not, such
// as GetInvoiceByForeignID, with ErrNotFound without asking its database.
func ValidStoredKey(s string) bool { return storableString(s) }

// storageCheck collects the first field a store could not keep exactly.
type storageCheck struct{ field string }

func (c *storageCheck) str(field, s string) {
	if c.field == "" && !storableString(s) {
		c.field = field
	}
}

func (c *storageCheck) dec(field string, d decimal.Decimal) {
	if c.field == "" && !storableDecimal(d) {
		c.field = field
	}
}

// strKnown is str for a string that is storable when it equals known, a
// string already checked (or a fixed text): only a different one is
// examined.
func (c *storageCheck) strKnown(field, s, known string) {
	if s != known {
		c.str(field, s)
	}
}

// decKnown is dec for a decimal that is storable when it has the
// representation of known, a decimal already checked: the same coefficient
// (decimals never change theirs) and exponent. Any other is examined.
func (c *storageCheck) decKnown(field string, d, known decimal.Decimal) {
	if d != known {
		c.dec(field, d)
	}
}

func (c *storageCheck) err(what string) error {
	if c.field == "" {
		return nil
	}
	v := &ValidationError{}
	v.add(c.field, "The "+what+" field "+c.field+" cannot be stored: invalid UTF-8, a NUL character or a decimal out of bounds.")
	return v
}

// nothingKnown, nothingKnownQuote and nothingKnownTx stand for "no stored
// copy" in CheckStorableSince and CheckStorableFor: zero values every
// field is compared with (a non-empty field differs and is examined).
// They are only ever read. Package variables, so that a check does not
// zero a 512-byte Invoice on the stack on every call.
var (
	nothingKnown      Invoice
	nothingKnownQuote Quote
	nothingKnownTx    Transaction
)

// CheckStorable reports whether every string of the invoice is valid UTF-8
// without NUL and every decimal is within MaxStoredScale and
// MaxStoredDigits with a non-positive exponent: what every Store must keep
// exactly. Stores call it before storing and refuse the invoice with its
// error (a *ValidationError naming the field, matching ErrValidation), so
// that all of them answer such input alike. The engine never produces such
// an invoice: it validates its input first.
func (inv *Invoice) CheckStorable() error { return inv.CheckStorableSince(nil) }

// CheckStorableSince is CheckStorable for an update of stored, a copy of
// the invoice that passed CheckStorable (a store's own record): a field
// equal to stored's (a string of the same value, a decimal of the same
// representation) is storable and is not examined again. The result is
// CheckStorable's, at a fraction of its cost for an update that changes a
// few fields. A nil stored checks everything.
func (inv *Invoice) CheckStorableSince(stored *Invoice) error {
	var c storageCheck
	p := stored
	if p == nil {
		p = &nothingKnown
	}
	c.strKnown("foreign_id", inv.ForeignID, p.ForeignID)
	c.strKnown("end_user_reference", inv.EndUserReference, p.EndUserReference)
	c.strKnown("title", inv.Title, p.Title)
	c.strKnown("description", inv.Description, p.Description)
	c.decKnown("amount", inv.Amount, p.Amount)
	c.strKnown("currency", inv.Currency, p.Currency)
	c.strKnown("sender_currency", inv.SenderCurrency, p.SenderCurrency)
	c.decKnown("sender_amount", inv.SenderAmount, p.SenderAmount)
	c.decKnown("rate", inv.Rate, p.Rate)
	for i := range inv.Quotes {
		q := &inv.Quotes[i]
		pq := &nothingKnownQuote
		if i < len(p.Quotes) {
			pq = &p.Quotes[i]
		}
		c.strKnown("quotes.currency", q.Currency, pq.Currency)
		c.decKnown("quotes.rate", q.Rate, pq.Rate)
		c.decKnown("quotes.amount", q.Amount, pq.Amount)
	}
	c.strKnown("deposit.address", inv.Deposit.Address, p.Deposit.Address)
	c.strKnown("deposit.tag", inv.Deposit.Tag, p.Deposit.Tag)
	c.strKnown("deposit.path", inv.Deposit.Path, p.Deposit.Path)
	c.strKnown("checkout_token", inv.CheckoutToken, p.CheckoutToken)
	c.strKnown("email_user", inv.Email, p.Email)
	c.strKnown("url_success", inv.URLSuccess, p.URLSuccess)
	c.strKnown("url_failed", inv.URLFailed, p.URLFailed)
	c.strKnown("error", inv.Error, p.Error)
	for i := range inv.Transactions {
		t := &inv.Transactions[i]
		pt := &nothingKnownTx
		if i < len(p.Transactions) {
			pt = &p.Transactions[i]
		}
		c.strKnown("transactions.txid", t.TxID, pt.TxID)
		c.strKnown("transactions.currency", t.Currency, pt.Currency)
		c.decKnown("transactions.amount", t.Amount, pt.Amount)
	}
	for i := range inv.RefundClaims { // rare: always examined
		rc := &inv.RefundClaims[i]
		c.dec("refund_claims.amount", rc.Amount)
		c.str("refund_claims.currency", rc.Currency)
		c.str("refund_claims.reason", rc.Reason)
		for _, id := range rc.TxIDs {
			c.str("refund_claims.txids", id)
		}
		c.str("refund_claims.token_hash", rc.TokenHash)
		c.str("refund_claims.destination", rc.Destination)
		c.str("refund_claims.payout_ref", rc.PayoutRef)
	}
	return c.err("invoice")
}

// CheckStorable is Invoice.CheckStorable for an outbox record: its
// callback or notice and its attempts.
func (d *Delivery) CheckStorable() error { return d.CheckStorableFor(nil) }

// CheckStorableFor is CheckStorable for an outbox record of inv, an
// invoice that passed CheckStorable: callback fields equal to the
// invoice's fields they are rendered from (and the fixed texts of the
// callback format) are storable and are not examined again. The result is
// CheckStorable's. A nil inv checks everything.
func (d *Delivery) CheckStorableFor(inv *Invoice) error {
	var c storageCheck
	if cb := d.Callback; cb != nil {
		p := inv
		if p == nil {
			p = &nothingKnown
		}
		c.strKnown("callback.foreign_id", cb.ForeignID, p.ForeignID)
		c.strKnown("callback.end_user_reference", cb.EndUserReference, p.EndUserReference)
		c.strKnown("callback.type", cb.Type, "invoice")
		c.strKnown("callback.crypto_address.currency", cb.CryptoAddress.Currency, p.SenderCurrency)
		c.str("callback.crypto_address.convert_to", cb.CryptoAddress.ConvertTo)
		c.strKnown("callback.crypto_address.address", cb.CryptoAddress.Address, p.Deposit.Address)
		c.strKnown("callback.crypto_address.tag", cb.CryptoAddress.Tag, p.Deposit.Tag)
		c.strKnown("callback.currency_sent.currency", cb.CurrencySent.Currency, p.SenderCurrency)
		c.decKnown("callback.currency_sent.amount", cb.CurrencySent.Amount.Decimal, p.SenderAmount)
		c.decKnown("callback.currency_sent.remaining_amount", cb.CurrencySent.RemainingAmount.Decimal, p.SenderAmount)
		c.strKnown("callback.currency_received.currency", cb.CurrencyReceived.Currency, p.Currency)
		c.decKnown("callback.currency_received.amount", cb.CurrencyReceived.Amount.Decimal, p.Amount)
		for i := range cb.Transactions {
			t := &cb.Transactions[i]
			pt := &nothingKnownTx
			if i < len(p.Transactions) {
				pt = &p.Transactions[i]
			}
			c.strKnown("callback.transactions.currency", t.Currency, pt.Currency)
			c.strKnown("callback.transactions.transaction_type", t.TransactionType, "blockchain")
			c.strKnown("callback.transactions.type", t.Type, "deposit")
			c.strKnown("callback.transactions.address", t.Address, p.Deposit.Address)
			c.strKnown("callback.transactions.tag", t.Tag, p.Deposit.Tag)
			c.decKnown("callback.transactions.amount", t.Amount.Decimal, pt.Amount)
			c.strKnown("callback.transactions.txid", t.TxID, pt.TxID)
		}
		for i := range cb.Fees {
			f := &cb.Fees[i]
			c.str("callback.fees.type", f.Type)
			c.str("callback.fees.currency", f.Currency)
			c.dec("callback.fees.amount", f.Amount.Decimal)
		}
		c.strKnown("callback.error", cb.Error, p.Error)
	}
	if n := d.Notice; n != nil {
		c.str("notice.foreign_id", n.ForeignID)
		c.str("notice.email", n.Email)
		c.dec("notice.amount", n.Amount)
		c.str("notice.currency", n.Currency)
		c.str("notice.reason", n.Reason)
		c.str("notice.token", n.Token)
	}
	if p := d.Payout; p != nil {
		c.str("payout.foreign_id", p.ForeignID)
		c.dec("payout.amount", p.Amount)
		c.str("payout.currency", p.Currency)
		c.str("payout.destination", p.Destination)
		c.str("payout.reason", p.Reason)
	}
	for i := range d.Attempts {
		c.str("attempts.error", d.Attempts[i].Error)
	}
	return c.err("delivery")
}

// CheckStorable is Invoice.CheckStorable for one attempt.
func (a Attempt) CheckStorable() error {
	var c storageCheck
	c.str("attempts.error", a.Error)
	return c.err("attempt")
}
