package checkout

// The browser-test harness, shared by every real-browser test of this
// package (the refund-claim page's tests too):
//
//   - one headless Chromium for the whole package, started on first use and
//     stopped by TestMain; each test gets its own tab (browserTab), with
//     JavaScript on or off;
//   - without Chromium the tests skip with a one-line how-to, unless
//     CI=true, when they fail;
//   - shot saves a full-page screenshot under testdata/screenshots/ (or
//     $CHECKOUT_SCREENSHOTS), qrFromPage decodes the QR code of a page from a
//     screenshot of its element.

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"
)

var browser struct {
	once sync.Once
	ctx  context.Context
	stop context.CancelFunc
	dir  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.stop != nil {
		browser.stop()
	}
	if browser.dir != "" {
		_ = os.RemoveAll(browser.dir)
	}
	os.Exit(code)
}

// chromiumPath finds the browser: $CHROMIUM, else Debian's chromium.
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func startBrowser(path string) {
	dir, err := os.MkdirTemp("", "checkout-chromium-")
	if err != nil {
		browser.err = err
		return
	}
	browser.dir = dir
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(dir),
		chromedp.WindowSize(412, 915), // a phone
	}
	alloc, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, stopBrowser := chromedp.NewContext(alloc)
	browser.ctx = ctx
	browser.stop = func() { stopBrowser(); stopAlloc() }
	// The first Run starts the browser; it lives as long as ctx.
	browser.err = chromedp.Do(ctx)
}

// browserTab opens a tab of the shared browser for one test, closed when
// the test ends. Every action on it must finish within 45 seconds.
func browserTab(t *testing.T, javascript bool) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("browser test: Chromium not found (CI=true requires it; .ci/run installs it)")
		}
		t.Skip("browser test skipped: install Chromium (apt-get install chromium) or set CHROMIUM=/path/to/chrome")
	}
	browser.once.Do(func() { startBrowser(path) })
	require.NoError(t, browser.err, "start Chromium")
	tab, closeTab := chromedp.NewContext(browser.ctx)
	t.Cleanup(closeTab)
	require.NoError(t, chromedp.Do(tab), "open a tab")
	if !javascript {
		require.NoError(t, chromedp.Do(tab, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
			return err
		})))
	}
	ctx, cancel := context.WithTimeout(tab, 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// shot saves a full-page screenshot as testdata/screenshots/<name>.png.
func shot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	b, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	dir := os.Getenv("CHECKOUT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644))
}

// qrFromPage screenshots the page's QR code element and decodes it.
func qrFromPage(t *testing.T, tab context.Context) string {
	t.Helper()
	b, err := chromedp.Run(tab, chromedp.Screenshot(chromedp.CSS("#qr svg")))
	require.NoError(t, err)
	img, err := png.Decode(bytes.NewReader(b))
	require.NoError(t, err)
	return decodeQRImage(t, img)
}

// text returns the text of the first element matching a CSS selector.
func text(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(t, err, "text of %s", sel)
	return s
}

// waitPhase waits until the page shows phase (live update or reload).
func waitPhase(t *testing.T, tab context.Context, phase string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(`#live[data-phase="`+phase+`"]`))), "phase %s", phase)
}
