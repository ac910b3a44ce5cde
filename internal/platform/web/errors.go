package web

import (
	"reflect"
	"strings"
	"unicode/utf8"

	"encoding/json"
	"errors"
	"fmt"
	"hopnhat/internal/platform/db"
	"io"
	"mime"
	"net/http"
	"sort"
	"strconv"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
)

var (
	errRouteNotFound    = apperr.New(apperr.NotFound, "error.page_not_found")
	errMethodNotAllowed = &apperr.Error{Kind: apperr.Invalid, Key: "error.method_not_allowed"}
	errSignInRequired   = apperr.New(apperr.Unauthenticated, "error.sign_in_required")
	errForbidden        = apperr.New(apperr.Forbidden, "error.forbidden")
)

// StatusOf maps an error to its HTTP status; the one place that does.
func StatusOf(err error) int {
	var e *apperr.Error
	if errors.As(err, &e) {
		if e == errMethodNotAllowed {
			return http.StatusMethodNotAllowed
		}
		switch e.Kind {
		case apperr.NotFound:
			return http.StatusNotFound
		case apperr.Invalid:
			return http.StatusBadRequest
		case apperr.Conflict:
			return http.StatusConflict
		case apperr.Forbidden:
			return http.StatusForbidden
		case apperr.Unauthenticated:
			return http.StatusUnauthorized
		case apperr.Unavailable:
			return http.StatusServiceUnavailable
		case apperr.TooLarge:
			return http.StatusRequestEntityTooLarge
		case apperr.TooManyRequests:
			return http.StatusTooManyRequests
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem document with hopnhat's extensions.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	Code      string         `json:"code"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem is one invalid input field.
type FieldProblem struct {
	Field  string `json:"field"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// ErrorView is what the error page shows.
type ErrorView struct {
	Status  int
	Message string
	Fields  []FieldProblem
}

// Fail renders err: problem+json for the API, the Vietnamese (or English) error
// page otherwise. Unclassified errors are logged with the request id and shown
// as a generic 500; their text never reaches the client.
func (u *UI) Fail(w http.ResponseWriter, r *http.Request, err error) {
	if apperr.KindOf(err) == apperr.Internal {
		// A store may return an engine's error unclassified (from a Scan);
		// input-caused ones still become a 4xx.
		err = db.Translate(err)
	}
	status := StatusOf(err)
	l := u.Catalog.For(LangOf(r))
	key := "error.internal"
	var ae *apperr.Error
	var args []any
	if errors.As(err, &ae) && status != http.StatusInternalServerError {
		key, args = ae.Key, ae.Args
		if ae.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
		}
	} else if status == http.StatusRequestEntityTooLarge {
		key = "error.too_large"
	}
	reqID := reqctx.RequestID(r.Context())
	if status >= 500 {
		u.Log.ErrorContext(r.Context(), "request failed", "request_id", reqID, "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var fields []FieldProblem
	if ae != nil && status < 500 {
		names := make([]string, 0, len(ae.Field))
		for f := range ae.Field {
			names = append(names, f)
		}
		sort.Strings(names)
		for _, f := range names {
			fields = append(fields, FieldProblem{Field: f, Code: ae.Field[f], Detail: l.T(ae.Field[f])})
		}
	}
	msg := l.T(key, args...)
	if IsAPI(r) || wantsProblem(r) {
		p := Problem{
			Type: "urn:hopnhat:problem:" + key, Title: l.T("status." + strconv.Itoa(status)), Status: status,
			Detail: msg, Instance: r.URL.Path, Code: key, RequestID: reqID, Errors: fields,
		}
		if p.Title == "status."+strconv.Itoa(status) {
			p.Title = http.StatusText(status)
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(p)
		return
	}
	v := u.NewView(r, ErrorView{Status: status, Message: msg, Fields: fields})
	v.Status = status
	if werr := writeTemplate(w, u.errPage, status, v); werr != nil {
		u.Log.ErrorContext(r.Context(), "render error page", "request_id", reqID, "err", werr)
	}
}

func wantsProblem(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Accept"))
	return mt == "application/json" || mt == "application/problem+json"
}

// DecodeJSON reads r's body (already limited by the body-size middleware) into
// v, refusing unknown fields, trailing data and a wrong content type with
// Invalid errors whose text people can read.
func DecodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return apperr.New(apperr.Invalid, "error.json_content_type")
		}
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.Wrapf(apperr.TooLarge, "error.too_large", err)
		}
		if errors.Is(err, io.EOF) {
			return apperr.Wrapf(apperr.Invalid, "error.json_empty", err)
		}
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return &apperr.Error{Kind: apperr.Invalid, Key: "error.json_field_type", Field: map[string]string{ute.Field: "error.json_field_type"}, Err: err}
		}
		return apperr.Wrapf(apperr.Invalid, "error.json_malformed", err)
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "error.json_trailing")
	}
	// JSON can spell a NUL ("\u0000"); no text field may hold one (PostgreSQL
	// refuses it, and nothing a person types contains it).
	if hasNUL(reflect.ValueOf(v)) {
		return apperr.New(apperr.Invalid, "error.text_invalid")
	}
	return nil
}

// hasNUL reports whether any string reachable from v holds a NUL byte.
func hasNUL(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		return strings.IndexByte(v.String(), 0) >= 0
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasNUL(v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && hasNUL(v.Field(i)) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if hasNUL(v.Index(i)) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if hasNUL(it.Key()) || hasNUL(it.Value()) {
				return true
			}
		}
	}
	return false
}

// ParseForm parses r's form; a body that cannot be read (too large, broken
// encoding) is an Invalid or TooLarge error, never a 500.
func ParseForm(r *http.Request) error {
	return checkForm(r, r.ParseForm())
}

// ParseMultipartForm is ParseForm for an upload: parts up to maxMemory stay
// in memory, larger files go to temporary files (remove them with
// r.MultipartForm.RemoveAll once done).
func ParseMultipartForm(r *http.Request, maxMemory int64) error {
	return checkForm(r, r.ParseMultipartForm(maxMemory))
}

// checkForm classifies a parse error and refuses values that are not text.
func checkForm(r *http.Request, err error) error {
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.Wrapf(apperr.TooLarge, "error.too_large", err)
		}
		return apperr.Wrapf(apperr.Invalid, "error.form_malformed", err)
	}
	for _, vs := range r.Form {
		for _, v := range vs {
			if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
				return apperr.New(apperr.Invalid, "error.text_invalid")
			}
		}
	}
	return nil
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode json: %w", err)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	return err
}
