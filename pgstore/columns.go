package pgstore

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	invoice "github.com/cryptoinvoice/invoice"
)

// colKind says how an invoice column travels: its parameter cast for one
// row, and how an array parameter (one element per row of a batch) is
// built and cast back.
type colKind uint8

const (
	kText    colKind = iota // string
	kNumeric                // exact decimal text, cast to numeric
	kJSON                   // JSON text or NULL, cast to jsonb
	kTime                   // timestamptz or NULL
)

// updColumns are the invoice columns in the order of invoiceArgs ($1 is
// id, the key, never written by an update).
var updColumns = [...]struct {
	name string
	kind colKind
}{
	{"id", kText}, {"foreign_id", kText}, {"end_user_reference", kText}, {"type", kText}, {"payment_mode", kText},
	{"title", kText}, {"description", kText}, {"amount", kNumeric}, {"currency", kText},
	{"sender_currency", kText}, {"sender_amount", kNumeric}, {"rate", kNumeric}, {"quotes", kJSON},
	{"fixed_at", kTime}, {"expires_at", kTime}, {"deposit_address", kText}, {"deposit_tag", kText},
	{"email", kText}, {"url_success", kText}, {"url_failed", kText}, {"status", kText}, {"error", kText},
	{"transactions", kJSON}, {"refund_claims", kJSON}, {"deadline", kTime}, {"created_at", kTime},
	{"updated_at", kTime}, {"sweep_at", kTime}, {"checkout_token", kText}, {"deposit_path", kText},
}

// Column positions the update paths treat specially.
const (
	colForeignID     = 1
	colQuotes        = 12
	colTransactions  = 22
	colRefundClaims  = 23
	colSweepAt       = 27
	colCheckoutToken = 28
)

// jsonColumns are the columns encoded from the invoice's lists.
const jsonColumns = colMask(1<<colQuotes | 1<<colTransactions | 1<<colRefundClaims)

// colMask is a set of updColumns by position.
type colMask uint64

// allColumns is every column an update may write.
const allColumns = colMask(1<<len(updColumns)-1) &^ 1

func (k colKind) scalarCast() string {
	switch k {
	case kNumeric:
		return "::text::numeric"
	case kJSON:
		return "::text::jsonb"
	case kTime:
		return "::timestamptz"
	}
	return ""
}

func (k colKind) arrayType() string {
	if k == kTime {
		return "timestamptz[]"
	}
	return "text[]"
}

func (k colKind) fromArray() string {
	switch k {
	case kNumeric:
		return "::numeric"
	case kJSON:
		return "::jsonb"
	}
	return ""
}

// changedColumns returns the columns whose argument differs between prev
// (as read, at the version being updated) and next, the arguments of the
// update; sweep_at is always written, since a claim changes it without a
// new version. The JSON columns are compared as lists (prev.unchangedJSON):
// their positions in prev.args are nil, and in next may be nil when
// unchanged (not encoded).
func changedColumns(prev *seenRow, next []any, unchangedJSON colMask) colMask {
	m := colMask(1)<<colSweepAt | jsonColumns&^unchangedJSON
	for i := 1; i < len(next); i++ {
		if jsonColumns&(1<<i) == 0 && !sameArg(prev.args[i], next[i]) {
			m |= 1 << i
		}
	}
	return m
}

func sameArg(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case string:
		b, ok := b.(string)
		return ok && a == b
	case time.Time:
		b, ok := b.(time.Time)
		return ok && a.Equal(b)
	}
	return false
}

// seenCache remembers invoice rows as the Store last read them, by ID and
// version, so that an update from that version writes only the columns
// that changed. It is sound because every write of an invoice row gives it
// a new version (a claim only moves sweep_at, which updates always write):
// the row at (id, version) is the row that was read. It is bounded, and
// used only outside host transactions (whose reads may see their own
// uncommitted writes). A miss means writing every column.
type seenCache struct {
	mu sync.Mutex
	m  map[uuid.UUID]*seenRow
}

// seenRow is a row as read: the arguments of its scalar columns (the JSON
// columns' positions nil) and copies of the lists its JSON columns hold,
// which an update compares with the invoice's lists instead of encoding
// both (the JSON encoding of what was read is never computed).
type seenRow struct {
	version int64
	args    []any
	quotes  []invoice.Quote
	txs     []invoice.Transaction
	claims  []invoice.RefundClaim
}

// unchangedJSON returns the JSON columns whose lists in inv equal those
// read: deeply equal values (nil and empty told apart, decimals by
// coefficient and exponent, times by their representation) encode alike,
// so such a column needs neither encoding nor writing. A false "changed"
// only writes a column again.
func (r *seenRow) unchangedJSON(inv *invoice.Invoice) colMask {
	var m colMask
	if reflect.DeepEqual(r.quotes, inv.Quotes) {
		m |= 1 << colQuotes
	}
	if reflect.DeepEqual(r.txs, inv.Transactions) {
		m |= 1 << colTransactions
	}
	if reflect.DeepEqual(r.claims, inv.RefundClaims) {
		m |= 1 << colRefundClaims
	}
	return m
}

// maxSeen bounds seenCache: an entry holds an invoice's column arguments
// and lists (its strings shared with the invoice read), a few hundred bytes.
const maxSeen = 8192

func newSeenCache() *seenCache { return &seenCache{m: make(map[uuid.UUID]*seenRow)} }

// remember records inv as read. The lists are copied (the caller owns inv
// and may change them in place); decimals and strings are immutable and
// shared.
func (s *Store) remember(inv *invoice.Invoice) {
	if s.inTx || s.seen == nil {
		return
	}
	args, err := rowArgs(inv, jsonColumns) // read from its row: storable
	if err != nil {
		return
	}
	r := &seenRow{version: inv.Version, args: args, quotes: slices.Clone(inv.Quotes), txs: slices.Clone(inv.Transactions)}
	if inv.RefundClaims != nil {
		r.claims = make([]invoice.RefundClaim, len(inv.RefundClaims))
		for i, rc := range inv.RefundClaims {
			rc.TxIDs = slices.Clone(rc.TxIDs)
			r.claims[i] = rc
		}
	}
	c := s.seen
	c.mu.Lock()
	if len(c.m) >= maxSeen {
		for id := range c.m { // an arbitrary entry
			delete(c.m, id)
			break
		}
	}
	c.m[inv.ID] = r
	c.mu.Unlock()
}

// seenArgs returns inv's row as read at inv.Version, or nil.
func (s *Store) seenArgs(id uuid.UUID, version int64) *seenRow {
	if s.inTx || s.seen == nil {
		return nil
	}
	c := s.seen
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.m[id]; ok && r.version == version {
		return r
	}
	return nil
}

// forget drops the entry of an invoice whose version moved on.
func (s *Store) forget(id uuid.UUID) {
	if s.inTx || s.seen == nil {
		return
	}
	s.seen.mu.Lock()
	delete(s.seen.m, id)
	s.seen.mu.Unlock()
}

// stmtCache builds statement texts once per shape.
type stmtCache struct {
	mu sync.Mutex
	m  map[stmtKey]string
}

type stmtKey struct {
	batch  bool
	cols   colMask
	outbox int // single updates: the number of outbox rows
}

func (c *stmtCache) get(k stmtKey, build func() string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[stmtKey]string)
	}
	q, ok := c.m[k]
	if !ok {
		q = build()
		c.m[k] = q
	}
	return q
}

// deliveryInsertColumns are the columns of an inserted outbox row, in the
// order of outboxArgs.
const deliveryInsertColumns = `id, invoice_id, channel, seq, callback, notice, payout, state, created_at,
	next_attempt_at, attempts, lease_id, lease_until, ready_at`

// outboxParams is the number of parameters of one outbox row of a single
// update (deliveryInsertColumns without invoice_id).
const outboxParams = 13

// buildUpdate returns the single-invoice update of the columns in cols
// with n outbox rows: $1 id, $2 the expected version, then the columns'
// values in order, then outboxParams per outbox row. It returns the new
// version, or no row when the version did not match. One outbox row (the
// common case: a transition's callback) is inserted straight from the
// updated row, as a hand-written statement would; several are joined to it
// from a VALUES list.
func buildUpdate(schema string, cols colMask, n int) string {
	var b strings.Builder
	p := 2
	param := func(cast string) string {
		p++
		return "$" + strconv.Itoa(p) + cast
	}
	b.WriteString("UPDATE " + schema + ".invoices SET ")
	for i, c := range updColumns {
		if cols&(1<<i) != 0 {
			b.WriteString(c.name + " = " + param(c.kind.scalarCast()) + ", ")
		}
	}
	b.WriteString("version = version + 1 WHERE id = $1 AND version = $2 RETURNING ")
	if n == 0 {
		return b.String() + "version"
	}
	b.WriteString("id, version")
	upd := b.String()
	b.Reset()
	b.WriteString("WITH upd AS (" + upd + "),\nins AS (INSERT INTO " + schema + ".deliveries (" + deliveryInsertColumns + ")\n")
	if n == 1 {
		// The row's parameters, typed, in the order of
		// deliveryInsertColumns; invoice_id is the updated row's.
		b.WriteString("\tSELECT " + strings.Join([]string{param("::uuid"), "upd.id", param("::text"), param("::bigint"),
			param("::text::jsonb"), param("::text::jsonb"), param("::text::jsonb"), param("::text"), param("::timestamptz"),
			param("::timestamptz"), "COALESCE(" + param("::text::jsonb") + ", '[]')", param("::uuid"),
			param("::timestamptz"), param("::timestamptz")}, ", ") + " FROM upd)\nSELECT version FROM upd")
		return b.String()
	}
	b.WriteString("\tSELECT o.id, upd.id, o.channel, o.seq, o.callback::jsonb, o.notice::jsonb, o.payout::jsonb, o.state, o.created_at, " +
		"o.next_attempt_at, COALESCE(o.attempts::jsonb, '[]'), o.lease_id, o.lease_until, o.ready_at\n\tFROM upd CROSS JOIN (VALUES ")
	for r := range n {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + param("::uuid") + ", " + param("::text") + ", " + param("::bigint") + ", " + param("::text") +
			", " + param("::text") + ", " + param("::text") + ", " + param("::text") + ", " + param("::timestamptz") + ", " + param("::timestamptz") +
			", " + param("::text") + ", " + param("::uuid") + ", " + param("::timestamptz") + ", " + param("::timestamptz") + ")")
	}
	b.WriteString(") AS o(id, channel, seq, callback, notice, payout, state, created_at, next_attempt_at, attempts, lease_id, " +
		"lease_until, ready_at))\nSELECT version FROM upd")
	return b.String()
}

// buildBatchUpdate returns the batched update of the columns in cols: $1
// ids, $2 expected versions, $3 foreign_ids and $4 checkout tokens (which
// must match the stored ones), then one array per column in cols, then
// the outbox rows as 14 arrays (deliveryInsertColumns). It returns the id
// and new version of each invoice it updated.
func buildBatchUpdate(schema string, cols colMask) string {
	var (
		arrays = []string{"$1::uuid[]", "$2::bigint[]", "$3::text[]", "$4::text[]"}
		names  = []string{"id", "version", "fid", "tok"}
		sets   []string
	)
	for i, c := range updColumns {
		if cols&(1<<i) == 0 {
			continue
		}
		arrays = append(arrays, "$"+strconv.Itoa(len(arrays)+1)+"::"+c.kind.arrayType())
		names = append(names, "c"+strconv.Itoa(i))
		sets = append(sets, c.name+" = v.c"+strconv.Itoa(i)+c.kind.fromArray())
	}
	o := len(arrays)
	oa := func(k int, typ string) string { return "$" + strconv.Itoa(o+k) + "::" + typ }
	return "WITH v AS (SELECT * FROM unnest(" + strings.Join(arrays, ", ") + ") AS v(" + strings.Join(names, ", ") + ")),\n" +
		"upd AS (UPDATE " + schema + ".invoices i SET " + strings.Join(append(sets, "version = i.version + 1"), ", ") +
		"\n\tFROM v WHERE i.id = v.id AND i.version = v.version AND i.foreign_id = v.fid AND i.checkout_token = v.tok" +
		"\n\tRETURNING i.id, i.version),\n" +
		"ins AS (INSERT INTO " + schema + ".deliveries (" + deliveryInsertColumns + ")\n" +
		"\tSELECT o.id, o.invoice_id, o.channel, o.seq, o.callback::jsonb, o.notice::jsonb, o.payout::jsonb, o.state, o.created_at, " +
		"o.next_attempt_at, COALESCE(o.attempts::jsonb, '[]'), o.lease_id, o.lease_until, o.ready_at\n" +
		"\tFROM unnest(" + strings.Join([]string{oa(1, "uuid[]"), oa(2, "uuid[]"), oa(3, "text[]"), oa(4, "bigint[]"),
		oa(5, "text[]"), oa(6, "text[]"), oa(7, "text[]"), oa(8, "text[]"), oa(9, "timestamptz[]"), oa(10, "timestamptz[]"),
		oa(11, "text[]"), oa(12, "uuid[]"), oa(13, "timestamptz[]"), oa(14, "timestamptz[]")}, ", ") +
		") AS o(id, invoice_id, channel, seq, callback, notice, payout, state, created_at, next_attempt_at, attempts, lease_id, " +
		"lease_until, ready_at)\n\tJOIN upd ON upd.id = o.invoice_id\n\tRETURNING 1)\nSELECT id, version FROM upd"
}
