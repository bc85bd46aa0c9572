// Package i18n holds translated message catalogs and picks one for a
// request by its Accept-Language header. The customer-facing packages
// (checkout pages, customer e-mails) share it.
//
// A catalog is one JSON file per language, named by its BCP 47 tag
// ("en.json", "de.json", "pt-BR.json"), an object from message key to
// text. Texts may name placeholders in braces, "Pay {amount} {currency}",
// filled by Messages.T. A key missing from a catalog falls back to the
// default language's text, and a key missing there too shows as the key
// itself, so a missing translation degrades visibly but never breaks a
// page; Bundle.Check reports every catalog that lacks a key of the
// default one, for a test to fail on.
package i18n

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Bundle is a set of catalogs, one per language. It is read-only once
// loaded and safe for concurrent use.
type Bundle struct {
	def     string
	tags    []language.Tag
	names   []string // BCP 47 names, same order as tags
	cats    map[string]*Messages
	matcher language.Matcher
}

// Messages is one language's catalog.
type Messages struct {
	lang     string
	msgs     map[string]string
	fallback *Messages // the default language's catalog; nil for it
}

// Load reads every "*.json" file in dir of fsys as a catalog. defaultLang
// names the catalog used when nothing matches and for missing keys; it
// must be among the files. langs, when not empty, restricts the offered
// languages to these (each must have a file; the default is always
// offered).
func Load(fsys fs.FS, dir, defaultLang string, langs ...string) (*Bundle, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("i18n: %w", err)
	}
	all := map[string]map[string]string{}
	for _, ent := range entries {
		name, ok := strings.CutSuffix(ent.Name(), ".json")
		if ent.IsDir() || !ok {
			continue
		}
		tag, err := language.Parse(name)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: file name is not a language tag: %w", ent.Name(), err)
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, ent.Name()))
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", ent.Name(), err)
		}
		all[tag.String()] = m
	}
	defTag, err := language.Parse(defaultLang)
	if err != nil {
		return nil, fmt.Errorf("i18n: default language %q: %w", defaultLang, err)
	}
	def := defTag.String()
	if all[def] == nil {
		return nil, fmt.Errorf("i18n: no catalog for the default language %q in %s", def, dir)
	}
	offered := []string{def}
	if len(langs) == 0 {
		for name := range all {
			if name != def {
				offered = append(offered, name)
			}
		}
		slices.Sort(offered[1:])
	} else {
		for _, l := range langs {
			tag, err := language.Parse(l)
			if err != nil {
				return nil, fmt.Errorf("i18n: language %q: %w", l, err)
			}
			name := tag.String()
			if all[name] == nil {
				return nil, fmt.Errorf("i18n: no catalog for language %q in %s", name, dir)
			}
			if !slices.Contains(offered, name) {
				offered = append(offered, name)
			}
		}
	}
	b := &Bundle{def: def, cats: map[string]*Messages{}}
	defCat := &Messages{lang: def, msgs: all[def]}
	for _, name := range offered {
		b.names = append(b.names, name)
		b.tags = append(b.tags, language.MustParse(name))
		if name == def {
			b.cats[name] = defCat
		} else {
			b.cats[name] = &Messages{lang: name, msgs: all[name], fallback: defCat}
		}
	}
	b.matcher = language.NewMatcher(b.tags)
	return b, nil
}

// Languages returns the offered languages, the default first.
func (b *Bundle) Languages() []string { return slices.Clone(b.names) }

// Default returns the default language's catalog.
func (b *Bundle) Default() *Messages { return b.cats[b.def] }

// Lookup returns the catalog of exactly lang (as Languages names it), or
// nil.
func (b *Bundle) Lookup(lang string) *Messages { return b.cats[lang] }

// Match returns the catalog for a request: override when it names an
// offered language (a "lang" query parameter, say), else the best match
// for the Accept-Language header value, else the default. Malformed input
// yields the default, never an error.
func (b *Bundle) Match(override, acceptLanguage string) *Messages {
	if override != "" && len(override) <= 35 {
		if tag, err := language.Parse(override); err == nil {
			if m := b.cats[tag.String()]; m != nil {
				return m
			}
		}
	}
	if acceptLanguage == "" || len(acceptLanguage) > 1024 {
		return b.Default()
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return b.Default()
	}
	_, i, conf := b.matcher.Match(tags...)
	if conf == language.No || i < 0 || i >= len(b.names) {
		return b.Default()
	}
	return b.cats[b.names[i]]
}

// Check reports every key of the default catalog that another catalog
// lacks, and every placeholder a translation names that its default text
// does not.
func (b *Bundle) Check() error {
	var errs []error
	def := b.cats[b.def]
	for _, name := range b.names[1:] {
		m := b.cats[name]
		for key, text := range def.msgs {
			tr, ok := m.msgs[key]
			if !ok {
				errs = append(errs, fmt.Errorf("i18n: %s lacks %q", name, key))
				continue
			}
			for _, p := range placeholders(tr) {
				if !slices.Contains(placeholders(text), p) {
					errs = append(errs, fmt.Errorf("i18n: %s %q names {%s}, unknown in %s", name, key, p, b.def))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func placeholders(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
}

// Lang returns the catalog's BCP 47 language tag, e.g. "de".
func (m *Messages) Lang() string { return m.lang }

// Has reports whether the catalog (or its fallback) has key.
func (m *Messages) Has(key string) bool {
	_, ok := m.text(key)
	return ok
}

func (m *Messages) text(key string) (string, bool) {
	if s, ok := m.msgs[key]; ok {
		return s, true
	}
	if m.fallback != nil {
		return m.fallback.text(key)
	}
	return "", false
}

// T returns the text of key with its placeholders filled from args, which
// are name, value pairs: T("pay", "amount", "0.1", "currency", "BTC").
// Values are inserted as they are (html/template escapes the result); a
// placeholder without a value stays as written. An odd trailing argument
// is ignored.
func (m *Messages) T(key string, args ...any) string {
	s, ok := m.text(key)
	if !ok {
		return key
	}
	if len(args) < 2 || !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		name, ok := s[i+1:i+j], false
		for k := 0; k+1 < len(args); k += 2 {
			if n, isStr := args[k].(string); isStr && n == name {
				b.WriteString(argString(args[k+1]))
				ok = true
				break
			}
		}
		if !ok {
			b.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

func argString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}
