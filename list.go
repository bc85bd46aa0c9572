package invoice

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Get returns the invoice with the given foreign_id, or an error matching
// ErrNotFound. It applies nothing: an overdue invoice is failed by the next
// sweep or operation.
func (e *Engine) Get(ctx context.Context, foreignID string) (*Invoice, error) {
	return e.byForeignID(foreignID)(ctx)
}

// ListOptions selects invoices for List.
type ListOptions struct {
	Status Status // 0: every status
	// Cursor is the NextCursor of the previous page; "" for the first page.
	Cursor string
	Limit  int // default 100, at most 1000
	// CreatedFrom, when non-zero, lists only invoices created at or after it.
	CreatedFrom time.Time
	// CreatedBefore, when non-zero, lists only invoices created before it.
	CreatedBefore time.Time
}

// Page is one page of List.
type Page struct {
	Invoices []*Invoice
	// NextCursor continues the listing; "" when this is the last page.
	NextCursor string
}

// List returns invoices in ID order (creation order with the default
// UUIDv7 IDs), optionally of one status and created within a time range,
// one page at a time.
func (e *Engine) List(ctx context.Context, opts ListOptions) (Page, error) {
	q := ListQuery{Status: opts.Status, Limit: opts.Limit,
		CreatedFrom: opts.CreatedFrom.UTC(), CreatedBefore: opts.CreatedBefore.UTC()}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	if opts.Status != 0 && !opts.Status.Valid() {
		return Page{}, fmt.Errorf("invoice: list: status %d: %w", opts.Status, ErrUnknownValue)
	}
	if opts.Cursor != "" {
		id, err := parseCursor(opts.Cursor)
		if err != nil {
			return Page{}, err
		}
		q.After = id
	}
	// Ask for one more to know whether a next page exists.
	q.Limit++
	invs, err := e.cfg.Store.ListInvoices(ctx, q)
	if err != nil {
		return Page{}, fmt.Errorf("invoice: list: %w", err)
	}
	page := Page{Invoices: invs}
	if len(invs) == q.Limit {
		page.Invoices = invs[:q.Limit-1]
		page.NextCursor = page.Invoices[len(page.Invoices)-1].ID.String()
	}
	return page, nil
}

func parseCursor(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, fmt.Errorf("invoice: bad cursor %q: %w", s, ErrValidation)
	}
	return id, nil
}
