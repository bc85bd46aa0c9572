package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cryptoinvoice/invoice/webhook"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signed returns a body and the headers a Sender would send with it at
// fixedNow.
func signed(t testing.TB, opts webhook.SignOptions) ([]byte, http.Header) {
	t.Helper()
	if opts.Key == "" {
		opts.Key = testKey
	}
	if opts.Secret == "" {
		opts.Secret = testSecret
	}
	if opts.ID == "" {
		opts.ID = "0195f0a0-0000-7000-8000-000000000042"
	}
	if opts.Timestamp.IsZero() {
		opts.Timestamp = fixedNow
	}
	body, h, err := webhook.SignForTest(sampleCallback(), opts)
	require.NoError(t, err)
	return body, h
}

func TestVerifyAcceptsSignedRequest(t *testing.T) {
	body, h := signed(t, webhook.SignOptions{})
	v := &webhook.Verifier{Key: testKey, Secret: testSecret, Now: nowFunc}
	meta, err := v.Verify(h, body)
	require.NoError(t, err)
	assert.Equal(t, webhook.Meta{
		ID:        "0195f0a0-0000-7000-8000-000000000042",
		Timestamp: time.Unix(fixedNow.Unix(), 0),
		Key:       testKey,
		Verified:  webhook.SchemeBoth,
	}, meta)
}

func TestVerifyRejections(t *testing.T) {
	body, h := signed(t, webhook.SignOptions{})
	tampered := []byte(strings.Replace(string(body), `"0.00166667"`, `"0.00000001"`, 1))
	require.NotEqual(t, string(body), string(tampered))

	without := func(name string) http.Header {
		c := h.Clone()
		c.Del(name)
		return c
	}
	with := func(name, value string) http.Header {
		c := h.Clone()
		c.Set(name, value)
		return c
	}
	base := webhook.Verifier{Key: testKey, Secret: testSecret, Now: nowFunc}
	type tc struct {
		v       webhook.Verifier
		headers http.Header
		body    []byte
		want    error
	}
	cases := map[string]tc{
		"tampered body":                {base, h, tampered, webhook.ErrBadSignature},
		"tampered body, standard only": {withRequire(base, webhook.SchemeStandard), h, tampered, webhook.ErrBadSignature},
		"tampered body, coinspaid only": {withRequire(base, webhook.SchemeProcessing), h, tampered,
			webhook.ErrBadSignature},
		"wrong secret":                   {webhook.Verifier{Key: testKey, Secret: "wrong", Now: nowFunc}, h, body, webhook.ErrBadSignature},
		"wrong secret, coinspaid only":   {webhook.Verifier{Secret: "wrong", Require: webhook.SchemeProcessing}, h, body, webhook.ErrBadSignature},
		"wrong standard secrets":         {webhook.Verifier{Secret: testSecret, Secrets: []string{"a", "b"}, Now: nowFunc}, h, body, webhook.ErrBadSignature},
		"stale timestamp":                {base, h, body, webhook.ErrStaleTimestamp},
		"future timestamp":               {base, h, body, webhook.ErrStaleTimestamp},
		"malformed timestamp":            {base, with("webhook-timestamp", "12e3"), body, webhook.ErrStaleTimestamp},
		"negative timestamp":             {base, with("webhook-timestamp", "-1"), body, webhook.ErrStaleTimestamp},
		"missing webhook-id":             {base, without("webhook-id"), body, webhook.ErrMissingHeaders},
		"missing webhook-timestamp":      {base, without("webhook-timestamp"), body, webhook.ErrMissingHeaders},
		"missing webhook-signature":      {base, without("webhook-signature"), body, webhook.ErrMissingSignature},
		"blank webhook-signature":        {base, with("webhook-signature", "  "), body, webhook.ErrMissingSignature},
		"missing X-Processing-Signature": {base, without("X-Processing-Signature"), body, webhook.ErrMissingSignature},
		"missing X-Processing-Key":       {base, without("X-Processing-Key"), body, webhook.ErrMissingHeaders},
		"wrong X-Processing-Key":         {base, with("X-Processing-Key", "pk_other"), body, webhook.ErrBadKey},
		"no headers at all":              {base, http.Header{}, body, webhook.ErrMissingHeaders},
		"no headers, coinspaid only":     {withRequire(base, webhook.SchemeProcessing), http.Header{}, body, webhook.ErrMissingHeaders},
		"no headers, coinspaid, no key": {webhook.Verifier{Secret: testSecret, Require: webhook.SchemeProcessing}, http.Header{}, body,
			webhook.ErrMissingSignature},
		"changed webhook-id":             {base, with("webhook-id", "another-delivery"), body, webhook.ErrBadSignature},
		"garbage signature":              {base, with("webhook-signature", "v1,@@@ v2,abc nonsense"), body, webhook.ErrBadSignature},
		"non-hex X-Processing-Signature": {base, with("X-Processing-Signature", strings.Repeat("zz", 64)), body, webhook.ErrBadSignature},
		"short X-Processing-Signature":   {base, with("X-Processing-Signature", "abcd"), body, webhook.ErrBadSignature},
		"misconfigured verifier":         {webhook.Verifier{}, h, body, webhook.ErrInvalidSecret},
	}
	stale := cases["stale timestamp"]
	stale.v.Now = func() time.Time { return fixedNow.Add(5*time.Minute + time.Second) }
	cases["stale timestamp"] = stale
	future := cases["future timestamp"]
	future.v.Now = func() time.Time { return fixedNow.Add(-5*time.Minute - time.Second) }
	cases["future timestamp"] = future

	sentinels := []error{webhook.ErrMissingHeaders, webhook.ErrMissingSignature, webhook.ErrBadSignature,
		webhook.ErrBadKey, webhook.ErrStaleTimestamp, webhook.ErrInvalidSecret}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.v.Verify(c.headers, c.body)
			require.ErrorIs(t, err, c.want)
			for _, s := range sentinels {
				if s != c.want {
					assert.NotErrorIs(t, err, s, "exactly one sentinel matches")
				}
			}
		})
	}
}

func withRequire(v webhook.Verifier, s webhook.Scheme) webhook.Verifier {
	v.Require = s
	return v
}

func TestVerifyTolerance(t *testing.T) {
	body, h := signed(t, webhook.SignOptions{})
	for _, d := range []time.Duration{0, time.Minute, -time.Minute, 5 * time.Minute, -5 * time.Minute} {
		v := &webhook.Verifier{Secret: testSecret, Now: func() time.Time { return fixedNow.Add(d) }}
		_, err := v.Verify(h, body)
		assert.NoError(t, err, "now %+v", d)
	}
	v := &webhook.Verifier{Secret: testSecret, Tolerance: 30 * time.Second, Now: func() time.Time { return fixedNow.Add(31 * time.Second) }}
	_, err := v.Verify(h, body)
	assert.ErrorIs(t, err, webhook.ErrStaleTimestamp)

	// The CoinsPaid scheme alone has no timestamp to check.
	v = &webhook.Verifier{Secret: testSecret, Require: webhook.SchemeProcessing, Now: func() time.Time { return fixedNow.Add(time.Hour) }}
	meta, err := v.Verify(h, body)
	require.NoError(t, err)
	assert.Equal(t, webhook.SchemeProcessing, meta.Verified)
	assert.Equal(t, fixedNow.Unix(), meta.Timestamp.Unix(), "the timestamp is still reported")
}

func TestVerifySingleScheme(t *testing.T) {
	body, h := signed(t, webhook.SignOptions{})

	// Standard Webhooks only: the CoinsPaid headers are not needed.
	std := h.Clone()
	std.Del("X-Processing-Signature")
	std.Del("X-Processing-Key")
	v := &webhook.Verifier{Secret: testSecret, Key: testKey, Require: webhook.SchemeStandard, Now: nowFunc}
	meta, err := v.Verify(std, body)
	require.NoError(t, err)
	assert.Equal(t, webhook.SchemeStandard, meta.Verified)

	// CoinsPaid only: what CoinsPaid itself sends.
	cp := http.Header{}
	cp.Set("X-Processing-Key", testKey)
	cp.Set("X-Processing-Signature", webhook.ProcessingSignature(testSecret, body))
	v = &webhook.Verifier{Secret: testSecret, Key: testKey, Require: webhook.SchemeProcessing}
	meta, err = v.Verify(cp, body)
	require.NoError(t, err)
	assert.Equal(t, webhook.SchemeProcessing, meta.Verified)
	assert.Empty(t, meta.ID)

	// Both (the default) refuses either alone.
	v = &webhook.Verifier{Secret: testSecret, Now: nowFunc}
	_, err = v.Verify(cp, body)
	assert.ErrorIs(t, err, webhook.ErrMissingHeaders)
	_, err = v.Verify(std, body)
	assert.ErrorIs(t, err, webhook.ErrMissingSignature)
}

func TestVerifyRotation(t *testing.T) {
	const (
		oldSecret = "whsec_b2xkLXNlY3JldC1rZXk=" // "old-secret-key"
		newSecret = "whsec_bmV3LXNlY3JldC1rZXk=" // "new-secret-key"
	)
	// During a rotation the sender signs with both.
	body, h := signed(t, webhook.SignOptions{SigningSecrets: []string{oldSecret, newSecret}})
	require.Len(t, strings.Fields(h.Get("webhook-signature")), 2)
	for _, secrets := range [][]string{{oldSecret}, {newSecret}, {newSecret, oldSecret}} {
		v := &webhook.Verifier{Secret: testSecret, Secrets: secrets, Now: nowFunc}
		_, err := v.Verify(h, body)
		assert.NoError(t, err, "%v", secrets)
	}
	// A receiver holding both accepts a sender that has moved on.
	body, h = signed(t, webhook.SignOptions{SigningSecrets: []string{newSecret}})
	v := &webhook.Verifier{Secret: testSecret, Secrets: []string{oldSecret, newSecret}, Now: nowFunc}
	_, err := v.Verify(h, body)
	assert.NoError(t, err)
	v.Secrets = []string{oldSecret}
	_, err = v.Verify(h, body)
	assert.ErrorIs(t, err, webhook.ErrBadSignature)

	// whsec_ is decoded: the raw remainder string is a different key.
	v.Secrets = []string{strings.TrimPrefix(newSecret, "whsec_")}
	_, err = v.Verify(h, body)
	assert.ErrorIs(t, err, webhook.ErrBadSignature)
}

func TestVerifyIgnoresOtherSignatureVersions(t *testing.T) {
	body, h := signed(t, webhook.SignOptions{})
	h.Set("webhook-signature", "v1a,c29tZXRoaW5n v2,xyz v1,!!! "+h.Get("webhook-signature")+" trailing")
	v := &webhook.Verifier{Secret: testSecret, Now: nowFunc}
	_, err := v.Verify(h, body)
	assert.NoError(t, err)
}

func TestVerifierCheck(t *testing.T) {
	assert.ErrorIs(t, (&webhook.Verifier{}).Check(), webhook.ErrInvalidSecret)
	assert.ErrorIs(t, (&webhook.Verifier{Secrets: []string{"s"}}).Check(), webhook.ErrInvalidSecret,
		"the CoinsPaid scheme (required by default) needs Secret")
	assert.NoError(t, (&webhook.Verifier{Secrets: []string{"s"}, Require: webhook.SchemeStandard}).Check())
	assert.ErrorIs(t, (&webhook.Verifier{Secret: "s", Secrets: []string{"whsec_%%%"}}).Check(), webhook.ErrInvalidSecret)
	assert.ErrorIs(t, (&webhook.Verifier{Secret: "s", Require: 8}).Check(), webhook.ErrInvalidSecret)
	assert.NoError(t, (&webhook.Verifier{Secret: "s"}).Check())
}

func TestVerifyProcessingSignatureErrors(t *testing.T) {
	assert.ErrorIs(t, webhook.VerifyProcessingSignature(vectorSecret, []byte(vectorBody), ""), webhook.ErrMissingSignature)
	assert.ErrorIs(t, webhook.VerifyProcessingSignature(vectorSecret, []byte(vectorBody+" "), vectorSig), webhook.ErrBadSignature)
	assert.ErrorIs(t, webhook.VerifyProcessingSignature("other", []byte(vectorBody), vectorSig), webhook.ErrBadSignature)
	assert.ErrorIs(t, webhook.VerifyProcessingSignature(vectorSecret, []byte(vectorBody), vectorSig[:127]+"g"), webhook.ErrBadSignature)
	assert.NoError(t, webhook.VerifyProcessingSignature(vectorSecret, []byte(vectorBody), " "+vectorSig+" "))
}

func TestStandardSignature(t *testing.T) {
	got, err := webhook.StandardSignature([]string{"raw", "whsec_a2V5"}, "msg_1", 1700000000, []byte(`{}`))
	require.NoError(t, err)
	assert.Equal(t, standardSig([]byte("raw"), "msg_1", "1700000000", []byte(`{}`))+" "+
		standardSig([]byte("key"), "msg_1", "1700000000", []byte(`{}`)), got)
	_, err = webhook.StandardSignature(nil, "msg_1", 1, nil)
	assert.ErrorIs(t, err, webhook.ErrInvalidSecret)
}

// TestStandardWebhooksReferenceVector checks the example of the Standard
// Webhooks specification's reference libraries.
func TestStandardWebhooksReferenceVector(t *testing.T) {
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = int64(1614265330)
		body   = `{"test": 2432232314}`
		want   = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	got, err := webhook.StandardSignature([]string{secret}, id, ts, []byte(body))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", want)
	v := &webhook.Verifier{Secrets: []string{secret}, Require: webhook.SchemeStandard, Now: func() time.Time { return time.Unix(ts, 0) }}
	_, err = v.Verify(h, []byte(body))
	assert.NoError(t, err)
}

// FuzzVerify feeds arbitrary header values to Verify: it must never panic,
// must fail with exactly one of the documented sentinels, and must accept
// only what was signed.
func FuzzVerify(f *testing.F) {
	body, h := signed(f, webhook.SignOptions{})
	f.Add(h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature"), h.Get("X-Processing-Signature"), string(body))
	f.Add("", "", "", "", "")
	f.Add("id", "1772366400", "v1,", "", "{}")
	f.Add("id", "99999999999999999999", "v1,AAAA", "00", "{}")
	f.Add("id", "-1", "v1,"+strings.Repeat("A", 44), strings.Repeat("0", 128), "{}")
	f.Add("id", " 1772366400", ",,, v1 v1,, ,v1", "zz", "null")
	f.Add("id", "1772366400", strings.Repeat("v1,x ", 100), strings.Repeat("f", 129), "{\"a\":1}")
	f.Add("i\x00d", "+1772366400", "v1,"+strings.Repeat("/", 3), "\xff\xfe", "\x00")

	sentinels := []error{webhook.ErrMissingHeaders, webhook.ErrMissingSignature, webhook.ErrBadSignature,
		webhook.ErrBadKey, webhook.ErrStaleTimestamp}
	f.Fuzz(func(t *testing.T, id, ts, sig, psig, b string) {
		hdr := http.Header{}
		hdr["Webhook-Id"] = []string{id}
		hdr["Webhook-Timestamp"] = []string{ts}
		hdr["Webhook-Signature"] = []string{sig}
		hdr["X-Processing-Signature"] = []string{psig}
		hdr["X-Processing-Key"] = []string{testKey}
		for _, scheme := range []webhook.Scheme{webhook.SchemeStandard, webhook.SchemeProcessing, webhook.SchemeBoth} {
			v := &webhook.Verifier{Key: testKey, Secret: testSecret, Secrets: []string{testSecret, "whsec_c2Vjb25k"},
				Require: scheme, Now: nowFunc}
			meta, err := v.Verify(hdr, []byte(b))
			if err != nil {
				n := 0
				for _, s := range sentinels {
					if errors.Is(err, s) {
						n++
					}
				}
				if n != 1 {
					t.Fatalf("scheme %s: error %q matches %d sentinels", scheme, err, n)
				}
				continue
			}
			if meta.Verified != scheme {
				t.Fatalf("verified %s, required %s", meta.Verified, scheme)
			}
			// Success is only possible for what was really signed.
			if scheme&webhook.SchemeProcessing != 0 && psig != webhook.ProcessingSignature(testSecret, []byte(b)) &&
				!strings.EqualFold(strings.TrimSpace(psig), webhook.ProcessingSignature(testSecret, []byte(b))) {
				t.Fatalf("accepted a CoinsPaid signature that does not match")
			}
			if scheme&webhook.SchemeStandard != 0 {
				mustAtoi(t, ts)
				want := standardSig([]byte(testSecret), id, ts, []byte(b))
				want2 := standardSig([]byte("second"), id, ts, []byte(b))
				if !strings.Contains(sig, want) && !strings.Contains(sig, want2) {
					t.Fatalf("accepted a Standard Webhooks signature that does not match")
				}
			}
		}
	})
}

func mustAtoi(t *testing.T, s string) {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		t.Fatalf("accepted timestamp %q: %v", s, err)
	}
}

// TestStandardSecretForReferenceLibraries signs with a raw (CoinsPaid)
// secret and verifies as the reference libraries do: strip "whsec_",
// base64-decode, HMAC. StandardSecret is the form they must be given.
func TestStandardSecretForReferenceLibraries(t *testing.T) {
	body, h := signed(t, webhook.SignOptions{Secret: testSecret})
	reference := func(secret string) bool {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			return false
		}
		want := standardSig(key, h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
		return strings.Contains(h.Get("webhook-signature"), want)
	}
	assert.False(t, reference(testSecret), "given as it is, a raw secret is misread")
	assert.True(t, reference(webhook.StandardSecret(testSecret)))
	assert.Equal(t, "whsec_abc", webhook.StandardSecret("whsec_abc"), "already in that form")

	s := webhook.NewSigningSecret()
	require.True(t, strings.HasPrefix(s, "whsec_"))
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
	require.NoError(t, err)
	assert.Len(t, key, 32)
	assert.NotEqual(t, s, webhook.NewSigningSecret())
	body, h = signed(t, webhook.SignOptions{SigningSecrets: []string{s}})
	assert.Contains(t, h.Get("webhook-signature"), standardSig(key, h.Get("webhook-id"), h.Get("webhook-timestamp"), body))
}
