package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

//go:embed catalog/*.json
var catalogFS embed.FS

// languages lists the page languages in order of preference: the first is the default.
var languages = [...]string{"ko", "en"}

// catalogs parses the embedded catalogues once. The result is never modified after loading,
// so sharing it between goroutines and Renderers is safe.
var catalogs = sync.OnceValues(loadCatalogs)

// loadCatalogs reads catalog/<lang>.json for every supported language and checks that each
// catalogue has the same keys as the default one and no empty texts.
func loadCatalogs() (map[string]map[string]string, error) {
	all := make(map[string]map[string]string, len(languages))
	for _, lang := range languages {
		b, err := catalogFS.ReadFile("catalog/" + lang + ".json")
		if err != nil {
			return nil, fmt.Errorf("read %s catalogue: %w", lang, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("parse %s catalogue: %w", lang, err)
		}
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				return nil, fmt.Errorf("%s catalogue: key %q has an empty text", lang, k)
			}
		}
		all[lang] = m
	}
	def := all[languages[0]]
	for _, lang := range languages[1:] {
		for k := range def {
			if _, ok := all[lang][k]; !ok {
				return nil, fmt.Errorf("%s catalogue: key %q is missing", lang, k)
			}
		}
		for k := range all[lang] {
			if _, ok := def[k]; !ok {
				return nil, fmt.Errorf("%s catalogue: key %q is not in the %s catalogue", lang, k, languages[0])
			}
		}
	}
	return all, nil
}

// lookup returns the text of key in lang and whether the key exists. An unsupported lang
// is treated as the default language.
func lookup(lang, key string) (string, bool) {
	all, err := catalogs()
	if err != nil {
		return "", false
	}
	m, ok := all[lang]
	if !ok {
		m = all[languages[0]]
	}
	s, ok := m[key]
	return s, ok
}

// Message returns the text of key in lang ("ko" or "en"; anything else means Korean). The
// server uses it for the error_description of JSON errors, with keys "err.<code>" for every
// error code of package auth. A missing key returns the key itself, so a forgotten text shows
// up in tests and logs instead of as an empty string.
func Message(lang, key string) string {
	if s, ok := lookup(lang, key); ok {
		return s
	}
	return key
}

// messagef is Message with "{name}" placeholders replaced by the given name/value pairs.
func messagef(lang, key string, pairs ...string) string {
	s := Message(lang, key)
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}
