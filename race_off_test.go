//go:build !race

package invoice_test

// raceDetector is true when the tests run under the race detector, which
// makes the large property tests many times slower.
const raceDetector = false
