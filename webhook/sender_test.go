package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice"
	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The published test vector of the specification (§7).
const (
	vectorSecret = "AbCdEfG123456"
	vectorBody   = `{"currency":"BTC","foreign_id":"123456"}`
	vectorSig    = "03c25fcf7cd35e7d995e402cd5d51edd72d48e1471e865907967809a0c189ba55b90815f20e2bb10f82c7a9e9d865546fda58989c2ae9e8e2ff7bc29195fa1ec"
)

func TestProcessingSignatureVector(t *testing.T) {
	assert.Equal(t, vectorSig, webhook.ProcessingSignature(vectorSecret, []byte(vectorBody)))
	require.NoError(t, webhook.VerifyProcessingSignature(vectorSecret, []byte(vectorBody), vectorSig))
	require.NoError(t, webhook.VerifyProcessingSignature(vectorSecret, []byte(vectorBody), strings.ToUpper(vectorSig)))

	// The headers Sign produces carry the same signature.
	h, err := webhook.Sign([]byte(vectorBody), webhook.SignOptions{Key: "pk", Secret: vectorSecret})
	require.NoError(t, err)
	assert.Equal(t, vectorSig, h.Get("X-Processing-Signature"))
}

func TestSenderSendsSignedCallback(t *testing.T) {
	rec := newRecorder(t, nil)
	s := mustSender(t, webhook.SenderConfig{
		URL: rec.URL + "/callbacks?shop=1", Key: testKey, Secret: testSecret, Now: nowFunc,
	})
	cb := sampleCallback()
	d := delivery(cb)
	require.NoError(t, s.Notify(context.Background(), d))

	reqs := rec.all()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "/callbacks", r.Path)

	want, err := json.Marshal(cb)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(r.Body), "the body is encoding/json of the Callback")

	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, testKey, r.Header.Get("X-Processing-Key"))
	m := hmac.New(sha512.New, []byte(testSecret))
	m.Write(r.Body)
	assert.Equal(t, hex.EncodeToString(m.Sum(nil)), r.Header.Get("X-Processing-Signature"))

	ts := strconv.FormatInt(fixedNow.Unix(), 10)
	assert.Equal(t, d.ID.String(), r.Header.Get("webhook-id"))
	assert.Equal(t, ts, r.Header.Get("webhook-timestamp"))
	// No SigningSecrets: the CoinsPaid secret signs the Standard scheme too.
	assert.Equal(t, standardSig([]byte(testSecret), d.ID.String(), ts, r.Body), r.Header.Get("webhook-signature"))
	assert.Equal(t, webhook.DefaultUserAgent, r.Header.Get("User-Agent"))

	// And the package's own verifier accepts it.
	v := &webhook.Verifier{Key: testKey, Secret: testSecret, Now: nowFunc}
	meta, err := v.Verify(r.Header, r.Body)
	require.NoError(t, err)
	assert.Equal(t, d.ID.String(), meta.ID)
	assert.Equal(t, fixedNow, meta.Timestamp.UTC())
	assert.Equal(t, webhook.SchemeBoth, meta.Verified)
}

func TestSenderWebhookIDStableAcrossRetries(t *testing.T) {
	rec := newRecorder(t, func(n int, _ recorded) int {
		if n < 3 {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	var clock atomic.Int64
	clock.Store(fixedNow.Unix())
	s := mustSender(t, webhook.SenderConfig{
		URL: rec.URL, Key: testKey, Secret: testSecret,
		Now: func() time.Time { return time.Unix(clock.Add(60), 0) },
	})
	d := delivery(sampleCallback())
	for range 2 {
		require.Error(t, s.Notify(context.Background(), d))
	}
	require.NoError(t, s.Notify(context.Background(), d))

	reqs := rec.all()
	require.Len(t, reqs, 3)
	seen := map[string]bool{}
	for _, r := range reqs {
		assert.Equal(t, d.ID.String(), r.Header.Get("webhook-id"))
		seen[r.Header.Get("webhook-timestamp")] = true
	}
	assert.Len(t, seen, 3, "each attempt is signed at its own time")
}

func TestSenderSigningSecretsRotation(t *testing.T) {
	rawKey := []byte("0123456789abcdef0123456789abcdef")
	whsec := "whsec_" + base64.StdEncoding.EncodeToString(rawKey)
	oldSecret := "old-raw-secret"
	rec := newRecorder(t, nil)
	s := mustSender(t, webhook.SenderConfig{
		URL: rec.URL, Key: testKey, Secret: testSecret, Now: nowFunc,
		SigningSecrets: []string{oldSecret, whsec},
	})
	d := delivery(sampleCallback())
	require.NoError(t, s.Notify(context.Background(), d))
	r := rec.all()[0]

	ts := strconv.FormatInt(fixedNow.Unix(), 10)
	sigs := strings.Split(r.Header.Get("webhook-signature"), " ")
	require.Len(t, sigs, 2)
	assert.Equal(t, standardSig([]byte(oldSecret), d.ID.String(), ts, r.Body), sigs[0])
	assert.Equal(t, standardSig(rawKey, d.ID.String(), ts, r.Body), sigs[1], "whsec_ secrets sign with the decoded key")
	// X-Processing-Signature still uses the CoinsPaid secret.
	assert.Equal(t, webhook.ProcessingSignature(testSecret, r.Body), r.Header.Get("X-Processing-Signature"))

	for _, secrets := range [][]string{{oldSecret}, {whsec}, {"unrelated", whsec}} {
		v := &webhook.Verifier{Secret: testSecret, Secrets: secrets, Now: nowFunc}
		_, err := v.Verify(r.Header, r.Body)
		assert.NoError(t, err, "secrets %v", secrets)
	}
	v := &webhook.Verifier{Secret: testSecret, Secrets: []string{"unrelated"}, Now: nowFunc}
	_, err := v.Verify(r.Header, r.Body)
	assert.ErrorIs(t, err, webhook.ErrBadSignature)
}

func TestSenderOnly2xxAcknowledges(t *testing.T) {
	for _, code := range []int{200, 201, 202, 204, 299} {
		rec := newRecorder(t, func(int, recorded) int { return code })
		s := mustSender(t, webhook.SenderConfig{URL: rec.URL, Key: testKey, Secret: testSecret})
		assert.NoError(t, s.Notify(context.Background(), delivery(sampleCallback())), "status %d", code)
	}
	for _, code := range []int{300, 304, 400, 401, 403, 404, 409, 429, 500, 502, 503} {
		rec := newRecorder(t, func(int, recorded) int { return code })
		s := mustSender(t, webhook.SenderConfig{URL: rec.URL, Key: testKey, Secret: testSecret})
		err := s.Notify(context.Background(), delivery(sampleCallback()))
		var se *webhook.StatusError
		require.ErrorAs(t, err, &se, "status %d", code)
		assert.Equal(t, code, se.HTTPStatus())
		assert.ErrorIs(t, err, webhook.ErrNotAcknowledged)
		assert.ErrorIs(t, err, &webhook.StatusError{StatusCode: code})
		assert.NotErrorIs(t, err, &webhook.StatusError{StatusCode: code + 1})
		// What the engine looks for to record the attempt's status code.
		var hs interface{ HTTPStatus() int }
		require.ErrorAs(t, err, &hs)
		assert.Equal(t, code, hs.HTTPStatus())
	}
}

func TestSenderDoesNotFollowRedirects(t *testing.T) {
	var targetHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/cb", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) { targetHits.Add(1) })
	srv := httptest.NewServer(mux)
	defer srv.Close()

	s := mustSender(t, webhook.SenderConfig{URL: srv.URL + "/cb", Key: testKey, Secret: testSecret})
	err := s.Notify(context.Background(), delivery(sampleCallback()))
	var se *webhook.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, http.StatusTemporaryRedirect, se.StatusCode)
	assert.Equal(t, "/elsewhere", se.Location)
	assert.Contains(t, err.Error(), "not followed")
	assert.Zero(t, targetHits.Load())

	// Not with an injected client either.
	s = mustSender(t, webhook.SenderConfig{URL: srv.URL + "/cb", Key: testKey, Secret: testSecret, Client: &http.Client{}})
	require.ErrorAs(t, s.Notify(context.Background(), delivery(sampleCallback())), &se)
	assert.Zero(t, targetHits.Load())
}

func TestSenderAttemptTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)

	s := mustSender(t, webhook.SenderConfig{URL: srv.URL, Key: testKey, Secret: testSecret, Timeout: 100 * time.Millisecond})
	start := time.Now()
	err := s.Notify(context.Background(), delivery(sampleCallback()))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)

	// The engine's own deadline applies too when it is shorter.
	s = mustSender(t, webhook.SenderConfig{URL: srv.URL, Key: testKey, Secret: testSecret})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	require.ErrorIs(t, s.Notify(ctx, delivery(sampleCallback())), context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
}

func TestSenderReadsBoundedResponse(t *testing.T) {
	const limit = 1 << 20
	var written atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusInternalServerError)
		}
		chunk := []byte(strings.Repeat("x", 32<<10))
		for written.Load() < 256*limit {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
	}))
	defer srv.Close()

	s := mustSender(t, webhook.SenderConfig{URL: srv.URL, Key: testKey, Secret: testSecret, MaxResponseBytes: limit})
	require.NoError(t, s.Notify(context.Background(), delivery(sampleCallback())))
	<-done
	assert.Less(t, written.Load(), int64(256*limit), "the sender hung up instead of reading everything")

	done = make(chan struct{})
	written.Store(0)
	s = mustSender(t, webhook.SenderConfig{URL: srv.URL + "/fail", Key: testKey, Secret: testSecret, MaxResponseBytes: limit})
	err := s.Notify(context.Background(), delivery(sampleCallback()))
	var se *webhook.StatusError
	require.ErrorAs(t, err, &se)
	assert.LessOrEqual(t, len(se.Body), 256)
	assert.Less(t, len(err.Error()), 1024)
	<-done
	assert.Less(t, written.Load(), int64(256*limit))
}

func TestSenderRejectsDeliveryWithoutCallback(t *testing.T) {
	rec := newRecorder(t, nil)
	s := mustSender(t, webhook.SenderConfig{URL: rec.URL, Key: testKey, Secret: testSecret})
	assert.Error(t, s.Notify(context.Background(), &invoice.Delivery{Channel: invoice.ChannelCustomer, Notice: &invoice.RefundNotice{}}))
	assert.Empty(t, rec.all())
}

func TestSenderTransportInjection(t *testing.T) {
	var got *http.Request
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		return &http.Response{StatusCode: http.StatusNoContent, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
	})
	s := mustSender(t, webhook.SenderConfig{URL: "https://merchant.example/cb", Key: testKey, Secret: testSecret, Transport: rt})
	require.NoError(t, s.Notify(context.Background(), delivery(sampleCallback())))
	require.NotNil(t, got)
	assert.Equal(t, "merchant.example", got.URL.Host)
	assert.NotEmpty(t, got.Header.Get("X-Processing-Signature"))
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewSenderValidation(t *testing.T) {
	ok := webhook.SenderConfig{URL: "https://merchant.example/cb", Key: testKey, Secret: testSecret}
	_, err := webhook.NewSender(ok)
	require.NoError(t, err)

	bad := map[string]func(*webhook.SenderConfig){
		"no URL":            func(c *webhook.SenderConfig) { c.URL = "" },
		"relative URL":      func(c *webhook.SenderConfig) { c.URL = "/callbacks" },
		"no scheme":         func(c *webhook.SenderConfig) { c.URL = "merchant.example/cb" },
		"ftp":               func(c *webhook.SenderConfig) { c.URL = "ftp://merchant.example/cb" },
		"javascript":        func(c *webhook.SenderConfig) { c.URL = "javascript:alert(1)" },
		"opaque http":       func(c *webhook.SenderConfig) { c.URL = "http:merchant.example" },
		"no host":           func(c *webhook.SenderConfig) { c.URL = "https:///cb" },
		"port only":         func(c *webhook.SenderConfig) { c.URL = "https://:443/cb" },
		"unparseable":       func(c *webhook.SenderConfig) { c.URL = "https://merchant.example/%zz" },
		"no key":            func(c *webhook.SenderConfig) { c.Key = "" },
		"no secret":         func(c *webhook.SenderConfig) { c.Secret = "" },
		"negative timeout":  func(c *webhook.SenderConfig) { c.Timeout = -time.Second },
		"negative max":      func(c *webhook.SenderConfig) { c.MaxResponseBytes = -1 },
		"bad whsec":         func(c *webhook.SenderConfig) { c.SigningSecrets = []string{"whsec_!!not base64!!"} },
		"empty signing":     func(c *webhook.SenderConfig) { c.SigningSecrets = []string{""} },
		"guard with client": func(c *webhook.SenderConfig) { c.BlockPrivateNetworks, c.Client = true, &http.Client{} },
		"guard with rt":     func(c *webhook.SenderConfig) { c.BlockPrivateNetworks, c.Transport = true, http.DefaultTransport },
		"client and rt":     func(c *webhook.SenderConfig) { c.Client, c.Transport = &http.Client{}, http.DefaultTransport },
	}
	for name, mod := range bad {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			mod(&cfg)
			s, err := webhook.NewSender(cfg)
			assert.ErrorIs(t, err, webhook.ErrConfig)
			assert.Nil(t, s)
		})
	}
	for _, u := range []string{"http://merchant.example", "https://merchant.example:8443/a/b?x=1", "http://127.0.0.1:8080/cb", "https://[::1]/cb"} {
		cfg := ok
		cfg.URL = u
		_, err := webhook.NewSender(cfg)
		assert.NoError(t, err, u)
	}
}

func TestSenderErrorDoesNotLeakURLSecrets(t *testing.T) {
	// Nothing listens on port 1 of the loopback address.
	s := mustSender(t, webhook.SenderConfig{URL: "http://user:hunter2@127.0.0.1:1/cb?token=s3cr3t&shop=7", Key: testKey, Secret: testSecret})
	err := s.Notify(context.Background(), delivery(sampleCallback()))
	require.Error(t, err)
	for _, secret := range []string{"hunter2", "user", "s3cr3t", "shop=7"} {
		assert.NotContains(t, err.Error(), secret)
	}
	assert.Contains(t, err.Error(), "127.0.0.1:1/cb?token=REDACTED&shop=REDACTED")

	// A redirect's Location with a token is redacted too.
	rec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://other.example/login?session=s3cr3t", http.StatusFound)
	}))
	defer rec.Close()
	err = mustSender(t, webhook.SenderConfig{URL: rec.URL, Key: testKey, Secret: testSecret}).
		Notify(context.Background(), delivery(sampleCallback()))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
	assert.Contains(t, err.Error(), "other.example/login?session=REDACTED")
}

func TestSenderReadsRetryAfter(t *testing.T) {
	for name, c := range map[string]struct {
		status int
		header string
		want   time.Duration
	}{
		"429 seconds":    {429, "120", 2 * time.Minute},
		"503 HTTP date":  {503, fixedNow.Add(90 * time.Second).UTC().Format(http.TimeFormat), 90 * time.Second},
		"500 is ignored": {500, "120", 0},
		"garbage":        {429, "soon", 0},
		"negative":       {429, "-5", 0},
		"past date":      {503, fixedNow.Add(-time.Hour).UTC().Format(http.TimeFormat), 0},
		"absurdly large": {429, "999999999", 7 * 24 * time.Hour},
		"absent":         {429, "", 0},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.header != "" {
					w.Header().Set("Retry-After", c.header)
				}
				w.WriteHeader(c.status)
			}))
			defer srv.Close()
			s := mustSender(t, webhook.SenderConfig{URL: srv.URL, Key: testKey, Secret: testSecret, Now: nowFunc})
			err := s.Notify(context.Background(), delivery(sampleCallback()))
			var se *webhook.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.want, se.RetryAfter())
		})
	}
}

func TestBlockPrivateNetworks(t *testing.T) {
	rec := newRecorder(t, nil)
	_, port, err := net.SplitHostPort(rec.Listener.Addr().String())
	require.NoError(t, err)

	for _, u := range []string{
		rec.URL,                             // literal 127.0.0.1
		"http://localhost:" + port + "/cb",  // a name resolving to loopback
		"http://[::ffff:127.0.0.1]:" + port, // IPv4-mapped loopback
	} {
		s := mustSender(t, webhook.SenderConfig{URL: u, Key: testKey, Secret: testSecret, BlockPrivateNetworks: true})
		err := s.Notify(context.Background(), delivery(sampleCallback()))
		require.ErrorIs(t, err, webhook.ErrBlockedAddress, u)
		var se *webhook.StatusError
		assert.False(t, errors.As(err, &se))
	}
	assert.Empty(t, rec.all(), "no request may reach a blocked address")

	// The same server is reachable without the guard.
	s := mustSender(t, webhook.SenderConfig{URL: rec.URL, Key: testKey, Secret: testSecret})
	require.NoError(t, s.Notify(context.Background(), delivery(sampleCallback())))
	assert.Len(t, rec.all(), 1)
}

func TestBlockedAddress(t *testing.T) {
	blocked := []string{
		"127.0.0.1", "127.1.2.3", "::1", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
		"fc00::1", "fd12:3456::1", "169.254.169.254", "fe80::1", "fe80::1%eth0", "0.0.0.0", "::",
		"224.0.0.1", "239.255.255.250", "ff02::1", "ff05::2", "100.64.0.1", "100.127.255.255",
		"255.255.255.255", "240.0.0.1", "0.1.2.3", "198.18.0.1", "192.0.0.8",
		"::ffff:127.0.0.1", "::ffff:10.1.1.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "64:ff9b::7f00:1",
		"2002:7f00:1::1", "2001:db8::1",
	}
	allowed := []string{
		"8.8.8.8", "1.1.1.1", "93.184.216.34", "100.63.255.255", "100.128.0.0", "172.32.0.1",
		"192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "64:ff9b::808:808", "::ffff:8.8.8.8",
	}
	for _, s := range blocked {
		assert.True(t, webhook.BlockedAddress(netip.MustParseAddr(s)), s)
	}
	for _, s := range allowed {
		assert.False(t, webhook.BlockedAddress(netip.MustParseAddr(s)), s)
	}
	assert.True(t, webhook.BlockedAddress(netip.Addr{}))
}
