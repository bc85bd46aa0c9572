package invoice

import (
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// paymentAmountBig is PaymentAmount in decimal's arbitrary precision: the
// definition the 64-bit fast path must agree with.
func paymentAmountBig(amount, rate decimal.Decimal, precision int32) decimal.Decimal {
	q, rem := amount.QuoRem(rate, precision)
	if !rem.IsZero() {
		q = q.Add(decimal.New(1, -precision))
	}
	return q
}

func checkPaymentAmount64(t *testing.T, amount, rate decimal.Decimal, precision int32) {
	t.Helper()
	got, ok := paymentAmount64(amount, rate, precision)
	if !ok {
		return // left to the big path
	}
	want := paymentAmountBig(amount, rate, precision)
	if !got.Equal(want) || got.Exponent() != want.Exponent() {
		t.Fatalf("paymentAmount64(%s, %s, %d) = %s (exp %d), want %s (exp %d)",
			amount, rate, precision, got, got.Exponent(), want, want.Exponent())
	}
}

func TestPaymentAmount64(t *testing.T) {
	for _, tc := range []struct {
		amount, rate string
		precision    int32
		fast         bool // the fast path must take it
	}{
		{"100", "60000", 8, true},
		{"100.00", "59999.99", 8, true},
		{"0.01", "3000", 18, true},
		{"1", "1", 2, true},
		{"1", "3", 0, true},
		{"123456789012345678", "0.000000000000000001", 0, false}, // quotient overflows
		{"1e-10", "1", 8, true},                                  // k < 0
		{"1", "1e30", 8, false},                                  // 10^k too large
		{"1234567890123456789", "1", 2, false},                   // 19 digits
		{"-1", "2", 2, false},
		{"1", "-2", 2, false},
		{"0", "2", 2, false},
		{"15E2", "3", 4, true}, // positive exponent
	} {
		amount, rate := decimal.RequireFromString(tc.amount), decimal.RequireFromString(tc.rate)
		if _, ok := paymentAmount64(amount, rate, tc.precision); ok != tc.fast {
			t.Errorf("paymentAmount64(%s, %s, %d): fast = %v, want %v", tc.amount, tc.rate, tc.precision, ok, tc.fast)
		}
		checkPaymentAmount64(t, amount, rate, tc.precision)
		got, want := PaymentAmount(amount, rate, tc.precision), paymentAmountBig(amount, rate, tc.precision)
		if tc.amount[0] != '-' && tc.amount != "0" && tc.rate[0] != '-' && (!got.Equal(want) || got.Exponent() != want.Exponent()) {
			t.Errorf("PaymentAmount(%s, %s, %d) = %s, want %s", tc.amount, tc.rate, tc.precision, got, want)
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 200_000 {
		amount := decimal.New(rng.Int64N(1_000_000_000_000)+1, -rng.Int32N(12))
		rate := decimal.New(rng.Int64N(1_000_000_000_000)+1, rng.Int32N(20)-14)
		checkPaymentAmount64(t, amount, rate, rng.Int32N(19))
	}
}

func FuzzPaymentAmount64(f *testing.F) {
	f.Add(int64(100), int32(0), int64(60000), int32(0), int32(8))
	f.Add(int64(999999999999999999), int32(-18), int64(3), int32(5), int32(18))
	f.Fuzz(func(t *testing.T, a int64, ea int32, r int64, er int32, precision int32) {
		if ea < -40 || ea > 40 || er < -40 || er > 40 || precision < 0 || precision > 30 || r == 0 {
			return
		}
		checkPaymentAmount64(t, decimal.New(a, ea), decimal.New(r, er), precision)
	})
}
