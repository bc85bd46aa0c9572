package checkout

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice"
)

// fastPoll makes the page poll every 100 ms and reload every second
// without JavaScript, so the tests wait little.
func fastPoll(c *Config) {
	c.PollInterval = 100 * time.Millisecond
	c.NoScriptRefresh = time.Second
}

const (
	urlSuccess = "https://shop.example/thanks"
	urlFailed  = "https://shop.example/sorry"
)

// openInvoice navigates tab to the invoice's page and waits for phase.
func openInvoice(t *testing.T, tab context.Context, base string, inv *invoice.Invoice, phase string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(base+"/i/"+inv.CheckoutToken)))
	waitPhase(t, tab, phase)
}

// checkPayment checks the payment details the page shows against the
// engine's invoice: network, exact amount still due, address, and the QR
// code decoded from a screenshot equal to the payment URI.
func checkPayment(t testingT, tab context.Context, s *testSite, foreignID, network string) *invoice.Invoice {
	helper(t)
	inv, err := s.Engine.Get(ctx, foreignID)
	require.NoError(t, err)
	require.Equal(t, network, text(t, tab, "#pay-network"))
	require.Equal(t, inv.RemainingAmount().String(), text(t, tab, "#pay-amount"))
	require.Equal(t, inv.Deposit.Address, text(t, tab, "#pay-address"))
	want, err := s.Handler.cfg.Networks[inv.SenderCurrency].PaymentURI(inv.Deposit.Address, inv.RemainingAmount())
	require.NoError(t, err)
	require.Equal(t, want, qrFromPage(t, tab), "the QR code on screen is the payment URI")
	return inv
}

func TestBrowserTypeNoTimer(t *testing.T) {
	s := newSite(t, fastPoll)
	base := s.start(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "b-1", URLSuccess: urlSuccess, URLFailed: urlFailed})
	tab := browserTab(t, true)

	openInvoice(t, tab, base, inv, phaseChoose)
	nodes, err := chromedp.Run(tab, chromedp.Nodes(chromedp.CSS("#timer"), chromedp.AtLeast(0)))
	require.NoError(t, err)
	require.Empty(t, nodes, "no timer before the currency is chosen")
	require.Contains(t, text(t, tab, "form.choose"), "about 0.033333333333333334 ETH", "indicative amount from the rate source")
	shot(t, tab, "type1-choose")

	require.NoError(t, chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`input[name=currency][value=ETH]`)),
		chromedp.SendKeys(chromedp.CSS("#email"), "alice@example.com"),
		chromedp.Click(chromedp.CSS("#confirm")),
	))
	waitPhase(t, tab, phasePay)
	got := checkPayment(t, tab, s, "b-1", "Ethereum")
	require.Equal(t, "alice@example.com", got.Email)
	require.True(t, strings.HasPrefix(qrFromPage(t, tab), "ethereum:0x"), "EIP-681")
	require.Equal(t, "900", attr(t, tab, "#timer", "data-seconds-left"), "the payment window starts on confirmation")
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS("button.copy"))), "copy buttons with JavaScript")
	shot(t, tab, "type1-pay")

	s.report(t, "b-1", "0xaa01", "ETH", got.SenderAmount.String(), invoice.TxNotConfirmed)
	waitPhase(t, tab, phaseProcessing)
	require.Contains(t, text(t, tab, "#status"), "Waiting for confirmations")
	shot(t, tab, "type1-processing")

	s.report(t, "b-1", "0xaa01", "ETH", got.SenderAmount.String(), invoice.TxConfirmed)
	waitPhase(t, tab, phaseConfirmed)
	require.Equal(t, "Payment confirmed.", text(t, tab, "#status"))
	require.Equal(t, urlSuccess, attr(t, tab, "#continue", "href"))
	shot(t, tab, "type1-confirmed")
}

func TestBrowserTypeTimerERC20(t *testing.T) {
	s := newSite(t, fastPoll)
	base := s.start(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "b-2", Timer: true, URLSuccess: urlSuccess})
	tab := browserTab(t, true)

	require.NoError(t, chromedp.Do(tab, chromedp.Navigate(base+"/i/"+inv.CheckoutToken+"?lang=de")))
	waitPhase(t, tab, phaseChoose)
	require.Contains(t, text(t, tab, "legend"), "Wählen Sie eine Währung")
	require.Contains(t, text(t, tab, "form.choose"), "100 USDT", "the fixed quote")
	require.Equal(t, "900", attr(t, tab, "#timer", "data-seconds-left"))
	shot(t, tab, "type2-choose-de")

	require.NoError(t, chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`input[name=currency][value=USDT]`)),
		chromedp.SendKeys(chromedp.CSS("#email"), "bob@example.com"),
		chromedp.Click(chromedp.CSS("#confirm")),
	))
	waitPhase(t, tab, phasePay)
	require.Contains(t, text(t, tab, "#status"), "Wir warten", "the language carries over the form")
	got := checkPayment(t, tab, s, "b-2", "Ethereum (ERC-20)")
	require.True(t, strings.HasPrefix(qrFromPage(t, tab), "ethereum:"+USDTMainnetContract+"@1/transfer?address="+got.Deposit.Address),
		"ERC-20 transfer of the configured token contract")
	shot(t, tab, "type2-pay-erc20")

	s.report(t, "b-2", "0xbb01", "USDT", "100", invoice.TxNotConfirmed)
	waitPhase(t, tab, phaseProcessing)
	s.report(t, "b-2", "0xbb01", "USDT", "100", invoice.TxConfirmed)
	waitPhase(t, tab, phaseConfirmed)
	require.Equal(t, urlSuccess, attr(t, tab, "#continue", "href"))
}

func TestBrowserTypeTimerCurrencyInstallments(t *testing.T) {
	s := newSite(t, fastPoll)
	base := s.start(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "b-3", Timer: true, SenderCurrency: "BTC",
		Mode: invoice.ModeGoodUntilExpired, URLSuccess: urlSuccess})
	tab := browserTab(t, true)

	openInvoice(t, tab, base, inv, phaseChoose)
	require.Contains(t, text(t, tab, "p.fixed"), "0.00166667 BTC")
	require.NoError(t, chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS("#email"), "carol@example.com"),
		chromedp.Click(chromedp.CSS("#confirm")),
	))
	waitPhase(t, tab, phasePay)
	checkPayment(t, tab, s, "b-3", "Bitcoin")
	require.True(t, strings.HasPrefix(qrFromPage(t, tab), "bitcoin:bc1q"), "BIP-21")
	shot(t, tab, "type3-pay")

	// A first installment: the page shows what is paid and what is due,
	// and the QR code asks for the rest.
	s.report(t, "b-3", "btc-1", "BTC", "0.001", invoice.TxConfirmed)
	require.NoError(t, chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS("#paid-received"))))
	require.Equal(t, "0.001 BTC", text(t, tab, "#paid-received"))
	require.Equal(t, "0.00066667 BTC", text(t, tab, "#paid-due"))
	require.Contains(t, text(t, tab, "#status"), "Received 0.001 of 0.00166667 BTC")
	checkPayment(t, tab, s, "b-3", "Bitcoin")
	shot(t, tab, "type3-installment")

	s.report(t, "b-3", "btc-2", "BTC", "0.00066667", invoice.TxNotConfirmed)
	waitPhase(t, tab, phaseProcessing)
	shot(t, tab, "type3-processing")
	s.report(t, "b-3", "btc-2", "BTC", "0.00066667", invoice.TxConfirmed)
	waitPhase(t, tab, phaseConfirmed)
	shot(t, tab, "type3-confirmed")
}

func TestBrowserTimerExpiry(t *testing.T) {
	s := newSite(t, fastPoll)
	base := s.start(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "b-4", Timer: true, SenderCurrency: "BTC",
		Email: "dave@example.com", URLFailed: urlFailed})
	tab := browserTab(t, true)

	openInvoice(t, tab, base, inv, phasePay)
	require.Equal(t, "900", attr(t, tab, "#timer", "data-seconds-left"))

	// The countdown is the server's: 14 minutes later by the engine's
	// clock, a fresh page has one minute left whatever the browser thinks.
	s.Clock.Advance(14 * time.Minute)
	openInvoice(t, tab, base, inv, phasePay)
	require.Equal(t, "60", attr(t, tab, "#timer", "data-seconds-left"))
	require.Regexp(t, `^(1:00|0:5\d)$`, text(t, tab, "#timer"))
	shot(t, tab, "timer-last-minute")

	// Past the deadline the live page says so before the sweep runs...
	s.Clock.Advance(2 * time.Minute)
	waitPhase(t, tab, phaseExpired)
	require.Contains(t, text(t, tab, "#status"), "Time is up")
	shot(t, tab, "timer-expired")

	// ...and shows the failure once the sweep has failed the invoice.
	_, err := s.Engine.Sweep(ctx)
	require.NoError(t, err)
	waitPhase(t, tab, phaseFailed)
	require.Equal(t, "The time ran out before a payment arrived.", text(t, tab, "#reason"))
	require.Equal(t, urlFailed, attr(t, tab, "#back", "href"))
	shot(t, tab, "timer-failed")
}

func TestBrowserUnderpaymentRefund(t *testing.T) {
	s := newSite(t, fastPoll)
	base := s.start(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "b-5", Timer: true, SenderCurrency: "BTC",
		Email: "erin@example.com", URLFailed: urlFailed})
	tab := browserTab(t, true)

	openInvoice(t, tab, base, inv, phasePay)
	s.report(t, "b-5", "btc-5", "BTC", "0.001", invoice.TxNotConfirmed)
	waitPhase(t, tab, phaseProcessing)
	s.report(t, "b-5", "btc-5", "BTC", "0.001", invoice.TxConfirmed)
	waitPhase(t, tab, phaseFailed)
	require.Equal(t, "Less than the amount asked was paid in time.", text(t, tab, "#reason"))
	refunds := text(t, tab, "#refunds")
	require.Contains(t, refunds, "Refund of 0.001 BTC")
	require.Contains(t, refunds, "We have sent a link to claim it to e***@example.com.")
	shot(t, tab, "underpaid-refund")

	// The link itself goes out by e-mail (the customer notifier).
	_, err := s.Engine.DeliverDue(ctx)
	require.NoError(t, err)
	notices := s.Customers.Notices("b-5")
	require.Len(t, notices, 1)
	require.Equal(t, "erin@example.com", notices[0].Email)
	require.Equal(t, "0.001", notices[0].Amount.String())
}

func TestBrowserWithoutJavaScript(t *testing.T) {
	s := newSite(t, fastPoll)
	base := s.start(t)
	inv := s.create(t, invoice.CreateRequest{ForeignID: "b-6"})
	tab := browserTab(t, false)

	openInvoice(t, tab, base, inv, phaseChoose)
	require.NoError(t, chromedp.Do(tab,
		chromedp.Click(chromedp.CSS(`input[name=currency][value=BTC]`)),
		chromedp.SendKeys(chromedp.CSS("#email"), "frank@example.com"),
		chromedp.Click(chromedp.CSS("#confirm")),
	))
	waitPhase(t, tab, phasePay)
	// The page reloads itself every second: a check that meets a reload
	// is repeated.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		checkPayment(c, tab, s, "b-6", "Bitcoin")
		require.Equal(c, "15:00", text(c, tab, "#timer"), "the server's countdown, not ticking")
		html, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS("#pay")))
		require.NoError(c, err)
		require.Contains(c, html, `class="copy"`)
		require.Regexp(c, `aria-label="Copy the amount" hidden(="")?>`, html, "copy buttons stay hidden")
		require.NoError(c, chromedp.Do(tab, chromedp.WaitNotVisible(chromedp.CSS("button.copy"))), "and are not shown")
	}, 30*time.Second, 10*time.Millisecond)
	shot(t, tab, "nojs-pay")

	// Without a script the page reloads itself and so still follows the
	// payment.
	s.report(t, "b-6", "btc-6", "BTC", "0.00166667", invoice.TxNotConfirmed)
	waitPhase(t, tab, phaseProcessing)
	s.report(t, "b-6", "btc-6", "BTC", "0.00166667", invoice.TxConfirmed)
	waitPhase(t, tab, phaseConfirmed)
	shot(t, tab, "nojs-confirmed")
}

// attr returns an attribute of the first element matching sel.
func attr(t testingT, tab context.Context, sel, name string) string {
	helper(t)
	res, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS(sel), name))
	require.NoError(t, err, "%s[%s]", sel, name)
	return res.Value
}
