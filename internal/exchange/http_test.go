package exchange

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"hopnhat/internal/platform/web"
)

// catalogue reads one language's file as the keys in their written order
// and the texts.
func catalogue(t *testing.T, lang string) ([]string, map[string]string) {
	t.Helper()
	b, err := fs.ReadFile(Catalog(), lang+".json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s.json: %v", lang, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if _, err := dec.Token(); err != nil {
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		if _, err := dec.Token(); err != nil {
			t.Fatal(err)
		}
	}
	return keys, m
}

func TestCatalogueSortedAndComplete(t *testing.T) {
	viKeys, vi := catalogue(t, "vi")
	enKeys, en := catalogue(t, "en")
	for lang, keys := range map[string][]string{"vi": viKeys, "en": enKeys} {
		if !slices.IsSorted(keys) {
			t.Errorf("%s.json: keys are not sorted", lang)
		}
		if len(keys) != len(slices.Compact(slices.Clone(keys))) {
			t.Errorf("%s.json: a key is written twice", lang)
		}
	}
	for k, v := range vi {
		if strings.TrimSpace(v) == "" || strings.TrimSpace(en[k]) == "" {
			t.Errorf("%s: vi %q, en %q; want both", k, v, en[k])
		}
	}
	for k := range en {
		if _, ok := vi[k]; !ok {
			t.Errorf("%s is in en.json, not in vi.json", k)
		}
	}
}

// i18nKeyRE finds the i18n keys a Go file or a page names literally.
var i18nKeyRE = regexp.MustCompile(`"((?:exchange|flash|nav)\.[a-z0-9_.]+)"`)

// flashRE finds the confirmations a redirect names.
var flashRE = regexp.MustCompile(`ok=(flash\.[a-z0-9_]+)`)

// printfRE finds the keys a page builds: (printf "exchange.cutover.%s" .Cutover).
var printfRE = regexp.MustCompile(`printf "(exchange\.[a-z0-9_.]*)%s([a-z_]*)"`)

// TestEveryKeyHasText fails when the package or its pages name a key the
// catalogue lacks: a missing text shows as the key itself.
func TestEveryKeyHasText(t *testing.T) {
	_, vi := catalogue(t, "vi")
	want := map[string]string{} // key → where it is named
	files, _ := filepath.Glob("*.go")
	pages, _ := filepath.Glob("pages/*.html")
	for _, f := range append(files, pages...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range i18nKeyRE.FindAllStringSubmatch(string(b), -1) {
			want[m[1]] = f
		}
		// Flashes are named in redirects: "?ok=flash.…".
		for _, m := range flashRE.FindAllStringSubmatch(string(b), -1) {
			want[m[1]] = f
		}
		// The values a built key takes.
		values := map[string][]string{
			"exchange.cutover.":       {string(CutoverOld), string(CutoverShadow), string(CutoverNew)},
			"exchange.status.":        {string(Active), string(Disabled)},
			"exchange.shadow.reason.": {"status", "body", "unreachable"},
			"exchange.log.class.":     {"2xx", "3xx", "4xx", "5xx"},
		}
		for _, m := range printfRE.FindAllStringSubmatch(string(b), -1) {
			vs, ok := values[m[1]]
			if !ok {
				t.Errorf("%s builds %s%%s%s: say which values it takes", f, m[1], m[2])
			}
			for _, v := range vs {
				want[m[1]+v+m[2]] = f
			}
		}
	}
	for k, f := range want {
		if _, ok := vi[k]; !ok {
			t.Errorf("%s names %s, which the catalogue lacks", f, k)
		}
	}
	for _, k := range []string{"exchange.service_not_found", "exchange.key_missing", "flash.gateway_service_created"} {
		if _, ok := want[k]; !ok {
			t.Errorf("the scan missed %s: the patterns are wrong", k)
		}
	}
	// Audit actions and object types read as text on the audit trail.
	actions := regexp.MustCompile(`(Action|ObjectType): "([a-z_.]+)"`)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, m := range actions.FindAllStringSubmatch(string(b), -1) {
			k := "audit.action." + m[2]
			if m[1] == "ObjectType" {
				k = "audit.type." + m[2]
			}
			if _, ok := vi[k]; !ok {
				t.Errorf("%s records %s, and the catalogue lacks %s", f, m[2], k)
			}
		}
	}
}

func TestPagesLoad(t *testing.T) {
	ui, err := web.NewUI(slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewHandlers(nil, ui); err != nil {
		t.Fatalf("pages or catalogue: %v", err)
	}
	if m := ui.Catalog.Missing(); len(m) > 0 {
		t.Errorf("keys without a translation: %v", m)
	}
}
