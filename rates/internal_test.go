package rates

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	for _, tt := range []struct {
		retry, date string
		want        time.Duration
	}{
		{"", "", 0},
		{"30", "", 30 * time.Second},
		{" 5 ", "", 5 * time.Second},
		{"0", "", 0},
		{"-3", "", 0},
		{"soon", "", 0},
		{"999999999", "", 0}, // more than a day: ignored
		{"Thu, 01 Jan 2026 00:01:00 GMT", "Thu, 01 Jan 2026 00:00:00 GMT", time.Minute},
		{"Thu, 01 Jan 2026 00:01:00 GMT", "", 0},                              // no Date to measure from
		{"Thu, 01 Jan 2026 00:00:00 GMT", "Thu, 01 Jan 2026 00:01:00 GMT", 0}, // in the past
	} {
		h := http.Header{}
		if tt.retry != "" {
			h.Set("Retry-After", tt.retry)
		}
		if tt.date != "" {
			h.Set("Date", tt.date)
		}
		if got := retryAfter(h); got != tt.want {
			t.Errorf("retryAfter(%q, Date %q) = %s, want %s", tt.retry, tt.date, got, tt.want)
		}
	}
}

func TestPriceJSON(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" when unset; "error" when refused
	}{
		{`"60123.45"`, "60123.45"},
		{`60123.4512345678901234567`, "60123.4512345678901234567"},
		{`1.663e-05`, "0.00001663"},
		{`"1.5E3"`, "1500"},
		{`-1`, "-1"}, // parsed; refused later as not positive
		{`null`, ""},
		{`""`, "error"},
		{`" 1"`, "error"},
		{`"1 "`, "error"},
		{`"0x10"`, "error"},
		{`"NaN"`, "error"},
		{`"Infinity"`, "error"},
		{`true`, "error"},
		{`{}`, "error"},
		{`["1"]`, "error"},
		{`1e-999999`, "error"},
		{`"1e99"`, "error"},
	} {
		var p price
		err := json.Unmarshal([]byte(tt.in), &p)
		switch {
		case tt.want == "error":
			if err == nil {
				t.Errorf("%s: parsed as %s, want an error", tt.in, p.d)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.want == "":
			if p.set {
				t.Errorf("%s: set to %s, want unset", tt.in, p.d)
			}
		case !p.set || p.d.String() != tt.want:
			t.Errorf("%s = %s (set %v), want %s", tt.in, p.d, p.set, tt.want)
		}
	}
}
