package i18n_test

import (
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"

	"github.com/cryptoinvoice/invoice/checkout/i18n"
)

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"l/en.json":    {Data: []byte(`{"hello":"Hello {name}","only_en":"Only English","bye":"Bye"}`)},
		"l/de.json":    {Data: []byte(`{"hello":"Hallo {name}","bye":"Tschüss"}`)},
		"l/fr.json":    {Data: []byte(`{"hello":"Bonjour {nom}","only_en":"x","bye":"Salut"}`)},
		"l/README.txt": {Data: []byte("not a catalog")},
	}
}

func TestMatch(t *testing.T) {
	b, err := i18n.Load(testFS(), "l", "en")
	require.NoError(t, err)
	require.Equal(t, []string{"en", "de", "fr"}, b.Languages())
	for _, tc := range []struct{ override, header, want string }{
		{"", "", "en"},
		{"", "de-DE,de;q=0.9,en;q=0.8", "de"},
		{"", "fr-CH, fr;q=0.9", "fr"},
		{"", "ja, zh;q=0.5", "en"},
		{"", "en-GB;q=0.2, de;q=0.9", "de"},
		{"", "\xff\xfe;;;q=", "en"},
		{"", "*", "en"},
		{"de", "fr", "de"},
		{"xx-invalid-!!", "fr", "fr"},
		{"ja", "", "en"},
	} {
		require.Equal(t, tc.want, b.Match(tc.override, tc.header).Lang(), "override %q header %q", tc.override, tc.header)
	}
}

func TestTAndFallback(t *testing.T) {
	b, err := i18n.Load(testFS(), "l", "en", "de")
	require.NoError(t, err)
	require.Equal(t, []string{"en", "de"}, b.Languages(), "restricted")
	de := b.Lookup("de")
	require.Equal(t, "Hallo <b>", de.T("hello", "name", "<b>"))
	require.Equal(t, "Only English", de.T("only_en"), "falls back to the default")
	require.Equal(t, "no.such.key", de.T("no.such.key"), "unknown keys show as themselves")
	require.Equal(t, "Hallo {name}", de.T("hello"), "no args")
	require.Equal(t, "Hallo X", de.T("hello", "name", "X", "odd"))
	require.Equal(t, "Hallo 5", de.T("hello", "name", 5), "values of any type")
	require.Equal(t, "Hallo {name}", de.T("hello", "other", "X"), "unknown names stay")
	require.Nil(t, b.Lookup("fr"))
}

func TestCheckReportsGaps(t *testing.T) {
	b, err := i18n.Load(testFS(), "l", "en")
	require.NoError(t, err)
	err = b.Check()
	require.ErrorContains(t, err, `de lacks "only_en"`)
	require.ErrorContains(t, err, `fr "hello" names {nom}`)
}

func TestLoadErrors(t *testing.T) {
	_, err := i18n.Load(testFS(), "l", "es")
	require.ErrorContains(t, err, "default language")
	_, err = i18n.Load(testFS(), "l", "en", "es")
	require.ErrorContains(t, err, `"es"`)
	_, err = i18n.Load(fstest.MapFS{"l/en.json": {Data: []byte(`{`)}}, "l", "en")
	require.Error(t, err)
	_, err = i18n.Load(testFS(), "missing", "en")
	require.Error(t, err)
}
