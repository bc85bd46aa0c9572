package memstore

import (
	"testing"
	"unsafe"
)

// TestRecordSize: a record, with its buffer for the first deliveries,
// stays within the 640-byte size class (above 576): growing it past 640
// would cost every stored invoice 64 more bytes.
func TestRecordSize(t *testing.T) {
	if n := unsafe.Sizeof(record{}); n > 640 {
		t.Fatalf("record is %d bytes, more than its 640-byte size class", n)
	}
}
