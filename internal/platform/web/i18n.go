package web

import (
	"context"
	"encoding/json"
	"fmt"
	"hopnhat/internal/platform/reqctx"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Lang is a UI language. Vietnamese is the default; English is the toggle.
type Lang string

// The languages the UI speaks.
const (
	Vietnamese Lang = "vi"
	English    Lang = "en"
)

// LangCookie holds the language a person chose.
const LangCookie = "lang"

// Catalog holds every UI string, by key and language.
type Catalog struct {
	msgs map[Lang]map[string]string
}

// NewCatalog returns an empty catalogue.
func NewCatalog() *Catalog {
	return &Catalog{msgs: map[Lang]map[string]string{Vietnamese: {}, English: {}}}
}

// Load adds the files vi.json and en.json found at the root of fsys; a key
// defined twice is an error, so modules cannot silently override each other.
func (c *Catalog) Load(fsys fs.FS) error {
	for _, lang := range []Lang{Vietnamese, English} {
		b, err := fs.ReadFile(fsys, string(lang)+".json")
		if err != nil {
			return fmt.Errorf("catalogue %s: %w", lang, err)
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("catalogue %s: %w", lang, err)
		}
		for k, v := range m {
			if _, dup := c.msgs[lang][k]; dup {
				return fmt.Errorf("catalogue %s: key %q defined twice", lang, k)
			}
			c.msgs[lang][k] = v
		}
	}
	return nil
}

// Missing lists keys present in one language and not the other.
func (c *Catalog) Missing() []string {
	var out []string
	for k := range c.msgs[Vietnamese] {
		if _, ok := c.msgs[English][k]; !ok {
			out = append(out, "en:"+k)
		}
	}
	for k := range c.msgs[English] {
		if _, ok := c.msgs[Vietnamese][k]; !ok {
			out = append(out, "vi:"+k)
		}
	}
	return out
}

// Has reports whether key exists.
func (c *Catalog) Has(key string) bool {
	_, ok := c.msgs[Vietnamese][key]
	return ok
}

// vnZone is Vietnam's time (UTC+7, no daylight saving), fixed so no tzdata is needed.
var vnZone = time.FixedZone("ICT", 7*3600)

// Localizer renders keys and dates in one language.
type Localizer struct {
	Lang Lang
	c    *Catalog
}

// For returns the localizer of lang.
func (c *Catalog) For(lang Lang) *Localizer {
	if lang != English {
		lang = Vietnamese
	}
	return &Localizer{Lang: lang, c: c}
}

// T returns the text of key, formatted with args when given. An unknown key is
// shown as itself, so a missing string is visible rather than blank.
func (l *Localizer) T(key string, args ...any) string {
	s, ok := l.c.msgs[l.Lang][key]
	if !ok {
		s, ok = l.c.msgs[Vietnamese][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Ta is T with the arguments in a slice, for templates showing an error's
// Key and Args.
func (l *Localizer) Ta(key string, args []any) string { return l.T(key, args...) }

// Has reports whether key has a text, for templates that fall back to a code.
func (l *Localizer) Has(key string) bool { return l.c.Has(key) }

// Number writes an integer with its thousands grouped: 3.321 in Vietnamese,
// 3,321 in English. Templates pass int or int64.
func (l *Localizer) Number(n any) string {
	switch v := n.(type) {
	case int:
		return l.Decimal(float64(v), 0)
	case int64:
		return l.Decimal(float64(v), 0)
	case int32:
		return l.Decimal(float64(v), 0)
	}
	return fmt.Sprint(n)
}

// Decimal writes f with prec decimals and grouped thousands: 3,04 and
// 3.359,80 in Vietnamese; 3.04 and 3,359.80 in English.
func (l *Localizer) Decimal(f float64, prec int) string {
	group, point := ".", ","
	if l.Lang == English {
		group, point = ",", "."
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	b.WriteString(sign)
	for i := range len(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteByte(whole[i])
	}
	if frac != "" {
		b.WriteString(point)
		b.WriteString(frac)
	}
	return b.String()
}

// Date formats t as dd/mm/yyyy in Vietnam's time; the zero time is "".
func (l *Localizer) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnZone).Format("02/01/2006")
}

// DateTime formats t as dd/mm/yyyy HH:MM in Vietnam's time.
func (l *Localizer) DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnZone).Format("02/01/2006 15:04")
}

// ISODay writes t as YYYY-MM-DD in Vietnam's time, as the JSON APIs give
// days; the zero time is "".
func ISODay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnZone).Format(time.DateOnly)
}

// FormDay writes t as dd/mm/yyyy in Vietnam's time, as forms show days; the
// zero time is "".
func FormDay(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnZone).Format("02/01/2006")
}

// ParseOptionalDate reads a day as ParseDate does; an empty field is the
// zero time. false when the text is not a date.
func ParseOptionalDate(s string) (time.Time, bool) {
	if strings.TrimSpace(s) == "" {
		return time.Time{}, true
	}
	t, err := ParseDate(s)
	return t, err == nil
}

// Allowed reports whether the principal in ctx passes rule, for pages that
// show or hide forms.
func Allowed(ctx context.Context, rule Rule) bool {
	p := reqctx.PrincipalOf(ctx)
	return p != nil && rule.Admits(p)
}

// ParseDate reads dd/mm/yyyy (or yyyy-mm-dd, as date inputs send it) as the
// start of that day in Vietnam's time.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"02/01/2006", "2006-01-02", "2/1/2006"} {
		if t, err := time.ParseInLocation(layout, s, vnZone); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a date: %q", s)
}

// LangOf returns the language of r: the cookie a person set, else Vietnamese.
func LangOf(r *http.Request) Lang {
	if c, err := r.Cookie(LangCookie); err == nil && c.Value == string(English) {
		return English
	}
	return Vietnamese
}
