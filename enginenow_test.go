package invoice

import (
	"math/rand/v2"
	"testing"
	"time"
)

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// Engine.now truncates without time.Truncate's division; it must agree
// with it exactly (same instant, UTC, no monotonic reading) for any time:
// before 1970 and year 1, in other zones, with a monotonic reading, on a
// microsecond boundary.
func TestEngineNowIsTruncatedUTC(t *testing.T) {
	zone := time.FixedZone("X", -(3*3600 + 30*60))
	times := []time.Time{
		time.Now(), // with a monotonic reading
		time.Now().In(zone),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 999_999_999, zone),
		time.Date(1969, 12, 31, 23, 59, 59, 123_456_789, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		{},
		time.Unix(-1, 999),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		times = append(times, time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).In(zone))
	}
	for _, tm := range times {
		e := &Engine{cfg: Config{Clock: fixedClock(tm)}}
		got, want := e.now(), tm.UTC().Truncate(time.Microsecond)
		if got != want || got.Location() != time.UTC || got.String() != want.String() {
			t.Fatalf("now() of %v = %v, want %v", tm, got, want)
		}
	}
}
