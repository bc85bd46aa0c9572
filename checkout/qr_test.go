package checkout

import (
	"image"
	"image/color"
	"regexp"
	"strconv"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/stretchr/testify/require"
)

// decodeQRImage decodes the QR code in img with gozxing.
func decodeQRImage(t require.TestingT, img image.Image) string {
	if h, ok := t.(interface{ Helper() }); ok {
		h.Helper()
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	require.NoError(t, err)
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	require.NoError(t, err)
	return res.GetText()
}

// rasterizeSVG draws the runs of a qrSVG path at scale pixels per module
// (a test-only renderer that reads the SVG, not the matrix).
func rasterizeSVG(t testing.TB, svg string, scale int) image.Image {
	t.Helper()
	vb := regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`).FindStringSubmatch(svg)
	require.NotNil(t, vb)
	n, _ := strconv.Atoi(vb[1])
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-\d+z`).FindAllStringSubmatch(svg, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+w)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	return img
}

func TestQRSVGDecodes(t *testing.T) {
	for _, uri := range []string{
		"bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq?amount=0.00166667",
		"ethereum:" + USDTMainnetContract + "@1/transfer?address=0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359&uint256=100500000",
	} {
		svg, err := qrSVG(uri, `QR <code> "x"`)
		require.NoError(t, err)
		require.Contains(t, string(svg), `aria-label="QR &lt;code&gt; &#34;x&#34;"`, "label escaped")
		require.Equal(t, uri, decodeQRImage(t, rasterizeSVG(t, string(svg), 4)))
	}
}
