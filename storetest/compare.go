package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	invoice "github.com/cryptoinvoice/invoice"
)

var (
	decimalType = reflect.TypeFor[decimal.Decimal]()
	timeType    = reflect.TypeFor[time.Time]()
)

// canonicalizer rewrites a value into a form reflect.DeepEqual compares
// meaningfully: decimals rebuilt from their coefficient and exponent (so
// equal value and exponent compare equal whatever the internal big.Int
// representation, and a different exponent compares unequal), times
// without monotonic reading, empty slices as nil. It records every time
// whose Location is not UTC.
type canonicalizer struct {
	nonUTC []string
}

func (c *canonicalizer) walk(path string, v reflect.Value) reflect.Value {
	switch v.Type() {
	case decimalType:
		d := v.Interface().(decimal.Decimal)
		return reflect.ValueOf(decimal.NewFromBigInt(d.Coefficient(), d.Exponent()))
	case timeType:
		tm := v.Interface().(time.Time)
		if tm.Location() != time.UTC {
			c.nonUTC = append(c.nonUTC, fmt.Sprintf("%s = %s (location %q)", path, tm, tm.Location()))
		}
		return reflect.ValueOf(tm.UTC().Round(0))
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(c.walk(path, v.Elem()))
		return out
	case reflect.Slice:
		if v.Len() == 0 {
			return reflect.Zero(v.Type())
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(c.walk(fmt.Sprintf("%s[%d]", path, i), v.Index(i)))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				out.Field(i).Set(c.walk(path+"."+f.Name, v.Field(i)))
			}
		}
		return out
	}
	return v
}

// canonical returns the canonical form of v and the paths of its times
// that are not in UTC.
func canonical(v any) (any, []string) {
	var c canonicalizer
	return c.walk("", reflect.ValueOf(v)).Interface(), c.nonUTC
}

// requireSame fails unless got equals want field by field: decimals with
// the same value and exponent, times equal and (in got) in UTC, slices
// equal (nil and empty alike; see requireSameJSON for where that matters).
func requireSame(t *testing.T, want, got any, msgAndArgs ...any) {
	t.Helper()
	w, _ := canonical(want)
	g, nonUTC := canonical(got)
	require.Empty(t, nonUTC, append([]any{"times must come back in UTC"}, msgAndArgs...)...)
	require.Equal(t, w, g, msgAndArgs...)
}

// requireSameJSON fails unless want and got have the same JSON encoding.
func requireSameJSON(t *testing.T, want, got any, msgAndArgs ...any) {
	t.Helper()
	wb, err := json.Marshal(want)
	require.NoError(t, err)
	gb, err := json.Marshal(got)
	require.NoError(t, err)
	require.Equal(t, string(wb), string(gb), msgAndArgs...)
}

// requireDecimal fails unless got has want's value and exponent.
func requireDecimal(t *testing.T, want, got decimal.Decimal, field string) {
	t.Helper()
	require.Equal(t, want.Exponent(), got.Exponent(), "%s: exponent of %s (want %s)", field, got.String(), want.String())
	require.Equal(t, want.Coefficient().String(), got.Coefficient().String(), "%s: coefficient (want %s, got %s)", field, want, got)
}

// requireTime fails unless got is the instant want, in UTC.
func requireTime(t *testing.T, want, got time.Time, field string) {
	t.Helper()
	require.True(t, want.Equal(got), "%s: want %s, got %s", field, want, got)
	require.Equal(t, time.UTC, got.Location(), "%s: location", field)
}

// requireDelivery fails unless got equals want apart from the lease fields
// (which the caller checks where the contract defines them), with
// payloads also encoding to the same JSON.
func requireDelivery(t *testing.T, want, got *invoice.Delivery, msgAndArgs ...any) {
	t.Helper()
	require.NotNil(t, got, msgAndArgs...)
	w, g := *want, *got
	w.LeaseID, w.LeaseUntil = g.LeaseID, g.LeaseUntil
	requireSame(t, &w, &g, msgAndArgs...)
	requireSameJSON(t, want.Callback, got.Callback, msgAndArgs...)
	requireSameJSON(t, want.Notice, got.Notice, msgAndArgs...)
	requireSameJSON(t, want.Payout, got.Payout, msgAndArgs...)
}

// stored returns a copy of d as the store should hold it after the given
// changes: the expected value in assertions.
func stored(d *invoice.Delivery, change func(*invoice.Delivery)) *invoice.Delivery {
	cp := d.Clone()
	if change != nil {
		change(cp)
	}
	return cp
}
