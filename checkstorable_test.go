package invoice_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
)

// TestCheckStorableSince: the incremental checks a store makes against
// its stored copy give exactly CheckStorable's answer, for every field an
// update can break, whether the stored copy had the field or not.
func TestCheckStorableSince(t *testing.T) {
	tx := invoice.Transaction{TxID: "tx", Currency: "BTC", Amount: dec("0.001")}
	stored := &invoice.Invoice{ForeignID: "o-1", Title: "t", Amount: dec("100"), Currency: "EUR",
		SenderCurrency: "BTC", SenderAmount: dec("0.001"), Rate: dec("60000"),
		Quotes:       []invoice.Quote{{Currency: "BTC", Rate: dec("60000"), Amount: dec("0.001")}},
		Deposit:      invoice.Address{Address: "bc1q", Tag: "7"},
		Transactions: []invoice.Transaction{tx}}
	require.NoError(t, stored.CheckStorable())
	bad := decimal.New(1, 1) // a positive exponent
	cases := map[string]func(*invoice.Invoice){
		"foreign_id":          func(i *invoice.Invoice) { i.ForeignID = "a\x00" },
		"title":               func(i *invoice.Invoice) { i.Title = "\xff" },
		"amount":              func(i *invoice.Invoice) { i.Amount = bad },
		"sender_amount":       func(i *invoice.Invoice) { i.SenderAmount = bad },
		"quotes.rate":         func(i *invoice.Invoice) { i.Quotes[0].Rate = bad },
		"quotes.currency new": func(i *invoice.Invoice) { i.Quotes = append(i.Quotes, invoice.Quote{Currency: "\xff"}) },
		"deposit.address":     func(i *invoice.Invoice) { i.Deposit.Address = "\x00" },
		"email_user":          func(i *invoice.Invoice) { i.Email = "\xfe" },
		"error":               func(i *invoice.Invoice) { i.Error = "\x00" },
		"transactions.txid":   func(i *invoice.Invoice) { i.Transactions[0].TxID = "\xff" },
		"transactions.amount": func(i *invoice.Invoice) { i.Transactions[0].Amount = bad },
		"transactions new": func(i *invoice.Invoice) {
			i.Transactions = append(i.Transactions, invoice.Transaction{TxID: "\x00"})
		},
		"refund_claims": func(i *invoice.Invoice) { i.RefundClaims = []invoice.RefundClaim{{Reason: "\xff"}} },
		"two fields":    func(i *invoice.Invoice) { i.Title, i.Error = "\xff", "\x00" },
		"valid change":  func(i *invoice.Invoice) { i.Title, i.Status = "new title", invoice.StatusPending },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			inv := stored.Clone()
			change(inv)
			want := inv.CheckStorable()
			require.Equal(t, want, inv.CheckStorableSince(stored))
			require.Equal(t, want, inv.CheckStorableSince(nil))
			if name != "valid change" {
				require.ErrorIs(t, inv.CheckStorableSince(stored), invoice.ErrValidation)
			}
		})
	}
}

// TestDeliveryCheckStorableFor: the same for an outbox record checked
// against the invoice its callback is rendered from.
func TestDeliveryCheckStorableFor(t *testing.T) {
	inv := &invoice.Invoice{ForeignID: "o-1", Currency: "EUR", Amount: dec("100"), SenderCurrency: "BTC",
		SenderAmount: dec("0.001"), Deposit: invoice.Address{Address: "bc1q"},
		Transactions: []invoice.Transaction{{TxID: "tx", Currency: "BTC", Amount: dec("0.001")}}}
	cb := func() *invoice.Callback {
		return &invoice.Callback{ForeignID: inv.ForeignID, Type: "invoice",
			CryptoAddress: invoice.CallbackAddress{Currency: "BTC", Address: "bc1q"},
			CurrencySent:  invoice.CallbackSent{Currency: "BTC", Amount: invoice.Amount{Decimal: inv.SenderAmount}},
			Transactions: []invoice.CallbackTransaction{{Currency: "BTC", TransactionType: "blockchain", Type: "deposit",
				Address: "bc1q", Amount: invoice.Amount{Decimal: inv.Transactions[0].Amount}, TxID: "tx"}}}
	}
	cases := map[string]func(*invoice.Callback){
		"valid":      func(*invoice.Callback) {},
		"foreign_id": func(c *invoice.Callback) { c.ForeignID = "\x00" },
		"type":       func(c *invoice.Callback) { c.Type = "\xff" },
		"remaining":  func(c *invoice.Callback) { c.CurrencySent.RemainingAmount = invoice.Amount{Decimal: decimal.New(1, 2)} },
		"tx.txid":    func(c *invoice.Callback) { c.Transactions[0].TxID = "\xff" },
		"tx.type":    func(c *invoice.Callback) { c.Transactions[0].Type = "\x00" },
		"tx.amount":  func(c *invoice.Callback) { c.Transactions[0].Amount = invoice.Amount{Decimal: decimal.New(5, 3)} },
		"tx extra": func(c *invoice.Callback) {
			c.Transactions = append(c.Transactions, invoice.CallbackTransaction{TxID: "\x00"})
		},
		"error":       func(c *invoice.Callback) { c.Error = "\xff" },
		"fees":        func(c *invoice.Callback) { c.Fees = []invoice.CallbackFee{{Type: "\x00"}} },
		"convert_to":  func(c *invoice.Callback) { c.CryptoAddress.ConvertTo = "\xff" },
		"tag":         func(c *invoice.Callback) { c.CryptoAddress.Tag = "\x00" },
		"received":    func(c *invoice.Callback) { c.CurrencyReceived.Currency = "\xff" },
		"sent amount": func(c *invoice.Callback) { c.CurrencySent.Amount = invoice.Amount{Decimal: decimal.New(1, 1)} },
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			c := cb()
			change(c)
			d := &invoice.Delivery{Channel: invoice.ChannelMerchant, Callback: c}
			want := d.CheckStorable()
			require.Equal(t, want, d.CheckStorableFor(inv))
			if name != "valid" {
				require.ErrorIs(t, d.CheckStorableFor(inv), invoice.ErrValidation)
			}
		})
	}
}

// TestValidStoredKeyMatchesTheDefinition: the word-at-a-time ASCII pass
// of the storable-string check answers exactly "valid UTF-8 without NUL"
// for a bad byte at every position of strings of every length around the
// eight-byte word, and for multi-byte runes after ASCII.
func TestValidStoredKeyMatchesTheDefinition(t *testing.T) {
	want := func(s string) bool { return !strings.Contains(s, "\x00") && utf8.ValidString(s) }
	for n := 0; n <= 25; n++ {
		base := []byte(strings.Repeat("a~", n)[:n])
		check := func(s string) {
			t.Helper()
			require.Equal(t, want(s), invoice.ValidStoredKey(s), "%q", s)
		}
		check(string(base))
		for i := 0; i < n; i++ {
			for _, b := range []byte{0x00, 0x01, 0x7f, 0x80, 0xc3, 0xe2, 0xff} {
				s := []byte(string(base))
				s[i] = b
				check(string(s))
			}
			for _, r := range []string{"é", "€", "😀", "\u2028"} {
				check(string(base[:i]) + r + string(base[i:]))
				check(string(base[:i]) + r[:len(r)-1] + string(base[i:])) // truncated rune
			}
		}
	}
}
