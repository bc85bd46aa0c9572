package ethereum

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateAddress(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{firstAddress, true},
		{strings.ToLower(firstAddress), true},                 // no checksum: accepted
		{"0x" + strings.ToUpper(firstAddress[2:]), true},      // no checksum: accepted
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", true},  // EIP-55 examples
		{"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", true},  //
		{"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", true},  //
		{"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb", true},  //
		{"0x9858EfFD232B4033E47d90003D41EC34EcaEda95", false}, // one digit changed: checksum fails
		{"0x9858efFD232B4033E47d90003D41EC34EcaEda94", false}, // one letter's case changed
		{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", false}, // last letter's case changed
		{"0x0000000000000000000000000000000000000000", false}, // burns funds
		{firstAddress[2:], false},                             // no 0x
		{"0X" + firstAddress[2:], false},                      // 0X
		{firstAddress[:41], false},                            // short
		{firstAddress + "0", false},                           // long
		{"0x9858EfFD232B4033E47d90003D41EC34EcaEdaZ4", false}, // not hex
		{" " + firstAddress[1:], false},                       //
		{"", false},                                           //
		{"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", false}, // bitcoin
		{"TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", false},         // tron
	} {
		err := ValidateAddress(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateAddress(%q) = %v, want ok=%v", tc.addr, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrAddress) {
			t.Errorf("ValidateAddress(%q) = %v, want ErrAddress", tc.addr, err)
		}
	}
}
func TestDestinationValidators(t *testing.T) {
	m := DestinationValidators()
	if len(m) != 2 || m["ETH"] == nil || m["USDTE"] == nil {
		t.Fatalf("default validators for %v, want ETH and USDTE", m)
	}
	if err := m["USDTE"](firstAddress); err != nil {
		t.Fatal(err)
	}
	if m := DestinationValidators("USDCE"); len(m) != 1 || m["USDCE"] == nil {
		t.Fatalf("validators %v, want USDCE only", m)
	}
}
