package pgstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/shopspring/decimal"

	invoice "github.com/cryptoinvoice/invoice"
)

// TestAppendCallbackMatchesEncodingJSON: the hand-written callback
// encoder gives the document encoding/json gives of the mirror (the same
// JSON value: jsonb stores values, not bytes), and it decodes back to the
// callback; strings with every kind of character, empty fields (null where
// CallbackAddress says so), nil and empty lists, exact decimals.
func TestAppendCallbackMatchesEncodingJSON(t *testing.T) {
	amt := func(s string) invoice.Amount { return invoice.Amount{Decimal: decimal.RequireFromString(s)} }
	odd := "q\"uo\\te\n\r\t\x01\x1f<>&\u2028\u2029 é 😀 end"
	cbs := []*invoice.Callback{
		{ID: 1, ForeignID: "o-1", Type: "invoice", Status: invoice.StatusPending},
		{ID: 2, ForeignID: odd, EndUserReference: odd, Type: "invoice",
			CryptoAddress:    invoice.CallbackAddress{ID: 2, Currency: "BTC", ConvertTo: "EUR", Address: odd, Tag: odd},
			CurrencySent:     invoice.CallbackSent{Currency: "BTC", Amount: amt("0.00166667"), RemainingAmount: amt("-1.50")},
			CurrencyReceived: invoice.CallbackReceived{Currency: "EUR", Amount: amt("100")},
			Transactions: []invoice.CallbackTransaction{
				{ID: 2000001, Currency: "BTC", TransactionType: "blockchain", Type: "deposit", Address: "a", Tag: "",
					Amount: amt("0.000"), TxID: odd, Confirmations: -3, Status: invoice.TxConfirmed},
				{ID: 2000002, Amount: amt("15E2"), Status: invoice.TxStatus(200)},
			},
			Fees:  []invoice.CallbackFee{{Type: "fee_crypto_deposit", Currency: "BTC", Amount: amt("0.00000001")}, {}},
			Error: odd, Status: invoice.StatusFailed, FixedAt: 1767225600, ExpiresAt: -1},
		{ID: 3, ForeignID: "o-3", Type: "invoice", Transactions: []invoice.CallbackTransaction{},
			Fees: []invoice.CallbackFee{}, Status: invoice.Status(99)},
	}
	for i, cb := range cbs {
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkEncoders(t, cb) })
	}
	// Not valid UTF-8 (never storable): encoding/json's document.
	bad := &invoice.Callback{ID: 4, ForeignID: "x\xffy", Type: "invoice"}
	want, _ := jsonCallback(bad)
	got, _ := encodeCallback(bad)
	if string(got) != string(want) {
		t.Errorf("invalid UTF-8: got %s, want %s", got, want)
	}
}

// FuzzAppendCallback: for any strings and decimals, the hand-written
// encoder and encoding/json give the same JSON value (numbers compared as
// written), and both decode to the same callback.
func FuzzAppendCallback(f *testing.F) {
	f.Add("o-1", "bc1qaddr", "", "0.00166667", int64(1))
	f.Add("q\"uo\\te\n\x01<>&\u2028", "é 😀", "expired", "-1.50", int64(-3))
	f.Add("x\xffy", "\x7f", "\u0085", "15E2", int64(0))
	f.Fuzz(func(t *testing.T, s1, s2, s3, amount string, n int64) {
		d, err := decimal.NewFromString(amount)
		if err != nil {
			return
		}
		cb := &invoice.Callback{ID: n, ForeignID: s1, EndUserReference: s2, Type: "invoice", Error: s3,
			CryptoAddress: invoice.CallbackAddress{ID: n, Currency: s2, Address: s1, Tag: s3},
			CurrencySent:  invoice.CallbackSent{Currency: "BTC", Amount: invoice.Amount{Decimal: d}, RemainingAmount: invoice.Amount{Decimal: d}},
			Transactions: []invoice.CallbackTransaction{{ID: n, Currency: s3, TxID: s1, Address: s2,
				Amount: invoice.Amount{Decimal: d}, Confirmations: n, Status: invoice.TxNotConfirmed}},
			Fees: []invoice.CallbackFee{{Type: s1, Currency: s2, Amount: invoice.Amount{Decimal: d}}}, Status: invoice.StatusPending,
			FixedAt: n, ExpiresAt: n}
		checkEncoders(t, cb)
	})
}

// checkEncoders: encodeCallback and encoding/json (jsonCallback) give cb
// as the same JSON value (numbers compared as written), and both
// documents decode to the same callback.
func checkEncoders(t *testing.T, cb *invoice.Callback) {
	t.Helper()
	want, err := jsonCallback(cb)
	if err != nil {
		t.Fatal(err)
	}
	got, err := encodeCallback(cb)
	if err != nil {
		t.Fatal(err)
	}
	unmarshal := func(b []byte) any {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("invalid JSON %q: %v", b, err)
		}
		return v
	}
	if w, g := unmarshal(want), unmarshal(got); !reflect.DeepEqual(w, g) {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	back, err := decodeCallback(got)
	if err != nil {
		t.Fatal(err)
	}
	wantBack, err := decodeCallback(want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, wantBack) {
		t.Fatalf("decodes to %+v, want %+v", back, wantBack)
	}
}
