package invoice

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// redacted replaces secrets in URLs.
const redacted = "REDACTED"

// RedactURL returns raw with every secret a URL commonly carries removed:
// the userinfo ("user:password@") and every query value become REDACTED
// (keys are kept), and the fragment is dropped. Use it wherever a URL may
// reach a log, an error or a stored attempt: a merchant's callback URL
// often carries a token in its query. Text that does not parse as a URL
// with a host comes back as REDACTED.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return redacted
	}
	if u.User != nil {
		u.User = url.User(redacted)
	}
	if u.RawQuery != "" || u.ForceQuery {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			if k, _, ok := strings.Cut(p, "="); ok {
				parts[i] = k + "=" + redacted
			} else if p != "" {
				parts[i] = redacted
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	u.Fragment, u.RawFragment = "", ""
	return u.String()
}

// RedactURLs returns s with every URL in it ("scheme://...", up to white
// space or a quote) passed through RedactURL: for error texts that may
// quote a URL.
func RedactURLs(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		start := i
		for start > 0 && schemeByte(s[start-1]) {
			start--
		}
		end := i + 3
		for end < len(s) && !urlStop(s[end]) {
			end++
		}
		token := s[start:end]
		trail := len(token) - len(strings.TrimRight(token, ".,:;)]}!?"))
		b.WriteString(s[:start])
		if start == i {
			b.WriteString(token) // no scheme: not a URL
		} else {
			b.WriteString(RedactURL(token[:len(token)-trail]))
			b.WriteString(token[len(token)-trail:])
		}
		s = s[end:]
	}
}

func schemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func urlStop(c byte) bool {
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == '\\'
}

// maxAttemptError bounds the error text kept with an attempt.
const maxAttemptError = 1000

// attemptError is the text of a failed attempt as it is logged and
// stored: URLs redacted, valid UTF-8 without control characters (every
// store keeps it), at most maxAttemptError bytes.
func attemptError(err error) string {
	s := RedactURLs(err.Error())
	s = strings.ToValidUTF8(s, "\ufffd")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxAttemptError {
		cut := maxAttemptError
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
