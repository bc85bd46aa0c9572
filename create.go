package invoice

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
)

// CreateRequest is what a merchant sends to create an invoice. Field names
// follow the API's ("timer", "sender_currency", "email_user", ...).
type CreateRequest struct {
	ForeignID        string          // required, ≤ 255 characters, unique
	EndUserReference string          // optional, ≤ 255 characters
	Title            string          // required, ≤ 50 characters
	Description      string          // optional, ≤ 1000 characters
	Amount           decimal.Decimal // > 0, within the currency's precision
	Currency         string          // invoice currency, in the currency table
	// Timer and SenderCurrency decide the Type (see TypeOf).
	Timer          bool
	SenderCurrency string
	Mode           PaymentMode // the API's "type"; zero value fill_or_kill
	URLSuccess     string      // optional absolute http(s) URL
	URLFailed      string      // optional absolute http(s) URL
	Email          string      // the API's "email_user"; optional
}

// Create validates req, fixes the rates its type asks for and stores a new
// invoice. No callback is sent for the creation itself: the returned
// invoice is the merchant's confirmation.
//
// Every invalid field comes back at once as a *ValidationError naming the
// fields; nothing is stored. A foreign_id that is taken yields a
// ValidationError on "foreign_id" ("The foreign id has already been
// taken.", also matching ErrDuplicate) unless the existing invoice was
// created from an identical request: then Create is idempotent and returns
// the existing invoice with a nil error, so a merchant may safely retry a
// create whose answer it lost.
func (e *Engine) Create(ctx context.Context, req CreateRequest) (*Invoice, error) {
	return e.CreateIn(ctx, e.cfg.Store, req)
}

// CreateIn is Create writing through store instead of the engine's own: a
// view of the engine's store bound to the host's database transaction
// (such as pgstore's WithTx), so that the host's order row and its invoice
// commit or roll back together. The store must share the data of the
// engine's store; the engine learns of the invoice when the transaction
// commits.
func (e *Engine) CreateIn(ctx context.Context, store Store, req CreateRequest) (*Invoice, error) {
	typ, amount, err := e.validateCreate(req)
	if err != nil {
		return nil, err
	}
	req.Amount = amount
	if existing, err := store.GetInvoiceByForeignID(ctx, req.ForeignID); err == nil {
		return e.duplicate(existing, req)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("invoice %q: create: %w", req.ForeignID, err)
	}

	id, err := e.newID()
	if err != nil {
		return nil, err
	}
	now := e.now()
	inv := &Invoice{
		ID:               id,
		ForeignID:        req.ForeignID,
		CheckoutToken:    newCheckoutToken(),
		EndUserReference: req.EndUserReference,
		Type:             typ,
		Mode:             req.Mode,
		Title:            req.Title,
		Description:      req.Description,
		Amount:           canonical(req.Amount),
		Currency:         req.Currency,
		Email:            req.Email,
		URLSuccess:       req.URLSuccess,
		URLFailed:        req.URLFailed,
		Status:           StatusCreated,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	switch typ {
	case TypeTimer:
		// A quote for every accepted currency with a usable rate; the
		// others are left out (logged), and only when none has one is the
		// create refused.
		inv.Quotes = make([]Quote, 0, len(e.cfg.AcceptedCurrencies))
		var rateErrs []error
		for _, cur := range e.cfg.AcceptedCurrencies {
			q, err := e.fixQuote(ctx, req.Amount, req.Currency, cur)
			if err != nil {
				if ctx.Err() != nil {
					return nil, fmt.Errorf("invoice %q: create: %w", req.ForeignID, ctx.Err())
				}
				rateErrs = append(rateErrs, err)
				continue
			}
			inv.Quotes = append(inv.Quotes, q)
		}
		if len(inv.Quotes) == 0 {
			return nil, fmt.Errorf("invoice %q: create: no accepted currency has a usable rate: %w",
				req.ForeignID, errors.Join(rateErrs...))
		}
		if len(rateErrs) > 0 {
			e.cfg.Logger.WarnContext(ctx, "invoice created without some quotes", "foreign_id", req.ForeignID,
				"error", errors.Join(rateErrs...))
		}
		slices.SortFunc(inv.Quotes, func(a, b Quote) int { return strings.Compare(a.Currency, b.Currency) })
		e.startPaymentWindow(inv, now)
	case TypeTimerCurrency:
		q, err := e.fixQuote(ctx, req.Amount, req.Currency, req.SenderCurrency)
		if err != nil {
			return nil, fmt.Errorf("invoice %q: create: %w", req.ForeignID, err)
		}
		if err := e.fixPayment(ctx, inv, q); err != nil {
			return nil, err
		}
		e.startPaymentWindow(inv, now)
		if inv.Email != "" {
			inv.Status = StatusPending
		}
	}

	err = store.CreateInvoice(ctx, inv)
	if err != nil && errors.Is(err, ErrDuplicate) {
		// Lost a race with another create of the same foreign_id.
		existing, getErr := store.GetInvoiceByForeignID(ctx, req.ForeignID)
		if getErr != nil {
			return nil, fmt.Errorf("invoice %q: create: %w", req.ForeignID, errors.Join(err, getErr))
		}
		return e.duplicate(existing, req)
	}
	if err != nil {
		return nil, fmt.Errorf("invoice %q: create: %w", req.ForeignID, err)
	}
	if e.cfg.Logger.Enabled(ctx, slog.LevelInfo) {
		e.cfg.Logger.InfoContext(ctx, "invoice created", "foreign_id", inv.ForeignID, "type", inv.Type.String(),
			"status", inv.Status.String())
	}
	return inv, nil
}

// duplicate answers a create whose foreign_id is taken.
func (e *Engine) duplicate(existing *Invoice, req CreateRequest) (*Invoice, error) {
	if sameRequest(existing, req) {
		return existing, nil
	}
	verr := &ValidationError{duplicate: true}
	verr.add("foreign_id", "The foreign id has already been taken.")
	return nil, verr
}

// sameRequest reports whether inv was created from req: every field the
// merchant sends must match. An e-mail the customer supplied later counts
// as a difference (a retry without it is refused as a duplicate): the
// engine cannot tell it from one the merchant sent, and refusing is the
// safe answer; the merchant can read the invoice with Get.
func sameRequest(inv *Invoice, req CreateRequest) bool {
	typ, _ := TypeOf(req.Timer, req.SenderCurrency)
	return inv.Type == typ && inv.Mode == req.Mode && inv.Title == req.Title &&
		inv.Description == req.Description && inv.Amount.Equal(req.Amount) &&
		inv.Currency == req.Currency && inv.EndUserReference == req.EndUserReference &&
		inv.URLSuccess == req.URLSuccess && inv.URLFailed == req.URLFailed &&
		(typ != TypeTimerCurrency || inv.SenderCurrency == req.SenderCurrency) &&
		inv.Email == req.Email
}

// fixPayment sets the payment terms from q and asks for a deposit address.
// The payment window (and FixedAt with it) is the caller's.
func (e *Engine) fixPayment(ctx context.Context, inv *Invoice, q Quote) error {
	addr, err := e.cfg.Addresses.DepositAddress(ctx, inv, q.Currency)
	if err != nil {
		return fmt.Errorf("invoice %q: deposit address for %s: %w", inv.ForeignID, q.Currency, err)
	}
	if addr.Address == "" {
		return fmt.Errorf("invoice %q: deposit address source returned an empty %s address", inv.ForeignID, q.Currency)
	}
	inv.SenderCurrency = q.Currency
	inv.Rate = q.Rate
	inv.SenderAmount = q.Amount
	inv.Deposit = addr
	return nil
}

// startPaymentWindow starts the payment window at now.
func (e *Engine) startPaymentWindow(inv *Invoice, now time.Time) {
	inv.FixedAt = now
	inv.ExpiresAt = now.Add(e.cfg.PaymentWindow)
	inv.Deadline = inv.ExpiresAt
}

// validateCreate checks every field of req and returns the invoice type
// and the amount to store (see amountProblem).
func (e *Engine) validateCreate(req CreateRequest) (Type, decimal.Decimal, error) {
	var v ValidationError
	if v.checkText("foreign_id", "foreign id", req.ForeignID, false) {
		switch n := utf8.RuneCountInString(req.ForeignID); {
		case n == 0:
			v.add("foreign_id", "The foreign id field is required.")
		case n > 255:
			v.add("foreign_id", "The foreign id may not be greater than 255 characters.")
		}
	}
	if v.checkText("end_user_reference", "end user reference", req.EndUserReference, false) &&
		utf8.RuneCountInString(req.EndUserReference) > 255 {
		v.add("end_user_reference", "The end user reference may not be greater than 255 characters.")
	}
	if v.checkText("title", "title", req.Title, false) {
		switch n := utf8.RuneCountInString(req.Title); {
		case n == 0:
			v.add("title", "The title field is required.")
		case n > 50:
			v.add("title", "The title may not be greater than 50 characters.")
		}
	}
	if v.checkText("description", "description", req.Description, true) &&
		utf8.RuneCountInString(req.Description) > 1000 {
		v.add("description", "The description may not be greater than 1000 characters.")
	}
	cur, curOK := e.currencies[req.Currency]
	switch {
	case req.Currency == "":
		v.add("currency", "The currency field is required.")
	case !curOK:
		v.add("currency", "The selected currency is invalid.")
	}
	amount := req.Amount
	switch {
	case !req.Amount.IsPositive():
		v.add("amount", "The amount must be greater than 0.")
	case curOK:
		var msg string
		if amount, msg = amountProblem(req.Amount, cur.Precision); msg != "" {
			v.add("amount", "The amount "+msg+".")
		} else if cur.MinAmount.IsPositive() && amount.LessThan(cur.MinAmount) {
			v.add("amount", fmt.Sprintf("The amount is too small. The minimum amount is %s %s.",
				cur.MinAmount.StringFixed(cur.Precision), cur.Code))
		}
	}
	typ, typeOK := TypeOf(req.Timer, req.SenderCurrency)
	switch {
	case !typeOK:
		v.add("sender_currency", "The sender currency field is prohibited when timer is false.")
	case req.SenderCurrency != "" && !e.accepts(req.SenderCurrency):
		v.add("sender_currency", "The selected sender currency is invalid.")
	}
	if req.Mode > ModeGoodUntilExpired {
		v.add("type", "The selected type is invalid.")
	}
	if req.URLSuccess != "" && (textProblem(req.URLSuccess, false) != "" || !validURL(req.URLSuccess)) {
		v.add("url_success", "The url success format is invalid.")
	}
	if req.URLFailed != "" && (textProblem(req.URLFailed, false) != "" || !validURL(req.URLFailed)) {
		v.add("url_failed", "The url failed format is invalid.")
	}
	if req.Email != "" && !validEmail(req.Email) {
		v.add("email_user", "The email user must be a valid email address.")
	}
	return typ, amount, v.orNil()
}

// accepts reports whether customers may pay in currency.
func (e *Engine) accepts(currency string) bool {
	for _, c := range e.cfg.AcceptedCurrencies {
		if c == currency {
			return true
		}
	}
	return false
}

// validURL accepts absolute http and https URLs with a host.
func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && len(s) <= 2048
}

// validEmail accepts a bare address ("a@b.example"), no display name, and
// no control characters even where RFC 5322 quoting would allow them.
func validEmail(s string) bool {
	if len(s) > 254 {
		return false
	}
	if plainEmail(s) {
		// What net/mail accepts as it is, without parsing; printable
		// ASCII only, so textProblem has nothing to find.
		return true
	}
	if textProblem(s, false) != "" {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// plainEmail reports whether s is local@domain with both parts dot-atoms
// of ASCII atext (RFC 5322 §3.2.3: no leading, trailing or doubled dots):
// the common shape of an address, which mail.ParseAddress accepts and
// returns unchanged. Anything else is left to mail.ParseAddress.
func plainEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && dotAtom(local) && dotAtom(domain)
}

func dotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case c < 64 && atextLow&(1<<c) != 0, 64 <= c && c < 128 && atextHigh&(1<<(c-64)) != 0:
		default:
			return false
		}
	}
	return true
}

// atextLow and atextHigh are the set of RFC 5322 atext characters (ASCII
// letters, digits and !#$%&'*+-/=?^_`{|}~) as bits: character c is bit c of
// atextLow when c < 64, else bit c-64 of atextHigh.
const (
	atextLow uint64 = 1<<'!' | 1<<'#' | 1<<'$' | 1<<'%' | 1<<'&' | 1<<'\'' | 1<<'*' | 1<<'+' | 1<<'-' | 1<<'/' |
		1<<'0' | 1<<'1' | 1<<'2' | 1<<'3' | 1<<'4' | 1<<'5' | 1<<'6' | 1<<'7' | 1<<'8' | 1<<'9' | 1<<'=' | 1<<'?'
	// A-Z (65-90), ^ _ ` (94-96), a-z (97-122), { | } ~ (123-126).
	atextHigh uint64 = (1<<26-1)<<('A'-64) | 1<<('^'-64) | 1<<('_'-64) | 1<<('`'-64) |
		(1<<26-1)<<('a'-64) | 1<<('{'-64) | 1<<('|'-64) | 1<<('}'-64) | 1<<('~'-64)
)
