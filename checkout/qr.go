package checkout

import (
	"fmt"
	"html/template"
	"strings"
	"sync"

	qrcode "github.com/yeqown/go-qrcode/v2"
)

// qrQuietZone is the margin of light modules around a QR code that the
// standard asks for (4 modules).
const qrQuietZone = 4

// qrMatrix encodes text as a QR code (error correction level M) and
// returns its modules, true for dark, without the quiet zone.
func qrMatrix(text string) ([][]bool, error) {
	q, err := qrcode.NewWith(text, qrcode.WithErrorCorrectionLevel(qrcode.ErrorCorrectionMedium))
	if err != nil {
		return nil, fmt.Errorf("checkout: qr encode: %w", err)
	}
	var w matrixWriter
	if err := q.Save(&w); err != nil {
		return nil, fmt.Errorf("checkout: qr encode: %w", err)
	}
	return w.bits, nil
}

// matrixWriter is a qrcode.Writer that keeps the module matrix.
type matrixWriter struct{ bits [][]bool }

func (w *matrixWriter) Write(m qrcode.Matrix) error { w.bits = m.Bitmap(); return nil }
func (w *matrixWriter) Close() error                { return nil }

// qrSVG renders text as an inline SVG QR code: one path of horizontal runs
// of dark modules on a white square with the quiet zone, scaled by CSS.
// label is the accessible name of the image.
func qrSVG(text, label string) (template.HTML, error) {
	bits, err := qrMatrix(text)
	if err != nil {
		return "", err
	}
	size := len(bits) + 2*qrQuietZone
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges">`,
		size, size, template.HTMLEscapeString(label))
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, size, size)
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start+qrQuietZone, y+qrQuietZone, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // #nosec: built from numbers and an escaped label
}

// qrCache keeps the SVGs of recent payment URIs: an invoice's URI stays
// the same while it is awaited and its page is polled and reloaded, and
// encoding is the most expensive part of a page. Bounded: when full it
// starts over.
type qrCache struct {
	mu  sync.Mutex
	max int
	m   map[string]template.HTML // key: label + "\x00" + URI
}

func newQRCache(max int) *qrCache { return &qrCache{max: max, m: map[string]template.HTML{}} }

func (c *qrCache) svg(uri, label string) (template.HTML, error) {
	key := label + "\x00" + uri
	c.mu.Lock()
	s, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	s, err := qrSVG(uri, label)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = s
	c.mu.Unlock()
	return s, nil
}
