package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"hopnhat/internal/platform/apperr"
)

// FuzzDecodeJSON: any body gives a value or an Invalid/TooLarge error, never a
// panic or an unclassified error (which would become a 500).
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"username":"a"}`, `{"username":`, `{} {}`, `[]`, `null`, "\xff\xfe", `{"role":5}`, `{"a":{"b":[1,2,{"c":null}]}}`, strings.Repeat("[", 10000)} {
		f.Add(s, "application/json")
	}
	f.Add(`{}`, "text/plain")
	f.Add(`{}`, "application/json; charset=utf-8")
	f.Add(`{}`, ";;;")
	f.Fuzz(func(t *testing.T, body, ct string) {
		type in struct {
			Username string         `json:"username"`
			Role     string         `json:"role"`
			Extra    map[string]any `json:"a"`
		}
		r := httptest.NewRequest("POST", "/api/x", strings.NewReader(body))
		r.Header.Set("Content-Type", ct)
		var v in
		err := DecodeJSON(r, &v)
		if err != nil {
			k := apperr.KindOf(err)
			if k != apperr.Invalid && k != apperr.TooLarge {
				t.Fatalf("body %q: unclassified error %v", body, err)
			}
			if StatusOf(err) >= 500 {
				t.Fatalf("body %q: status %d", body, StatusOf(err))
			}
		}
	})
}

// FuzzParseDate: any text parses to a date or errors; never panics.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"01/07/2025", "2025-07-01", "31/02/2025", "", "1/1/1", "99/99/9999", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := ParseDate(s); err == nil && d.IsZero() {
			t.Fatalf("%q: zero date without an error", s)
		}
	})
}

// FuzzLocalPath: whatever a form or link carries as "next", the Location the
// redirect actually sends stays on this site, as a browser would read it.
func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "/users?x=1", "//evil.example", "/\\evil.example", "https://evil.example", "javascript:alert(1)",
		"/%2F%2Fevil", "", " /x", "\t//x", "/./%5Cevil.example", "/.//evil", "/a/../..//evil", "/%5C%5Cevil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		rec := httptest.NewRecorder()
		http.Redirect(rec, httptest.NewRequest("GET", "/lang", nil), LocalPath(next), http.StatusSeeOther)
		loc := rec.Header().Get("Location")
		// Browsers treat a backslash like a slash.
		seen := strings.ReplaceAll(loc, "\\", "/")
		base, _ := url.Parse("https://hopnhat.example/lang")
		u, err := base.Parse(seen)
		if err != nil || u.Host != "hopnhat.example" || u.Scheme != "https" {
			t.Fatalf("next %q: redirect to %q leaves the site", next, loc)
		}
	})
}
