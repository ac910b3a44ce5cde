package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"hopnhat/internal/platform/apperr"
)

func TestParseMultipartForm(t *testing.T) {
	upload := func(field, value string) (*bytes.Buffer, string) {
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		_ = mw.WriteField(field, value)
		fw, _ := mw.CreateFormFile("file", "danh-muc.xlsx")
		_, _ = fw.Write([]byte("PK\x03\x04 không phải văn bản \xff"))
		mw.Close()
		return &b, mw.FormDataContentType()
	}
	for _, tc := range []struct {
		name  string
		body  func() (*bytes.Buffer, string)
		limit int64
		kind  apperr.Kind
		key   string
	}{
		{"a good upload", func() (*bytes.Buffer, string) { return upload("cot", "Địa chỉ") }, 1 << 20, 0, ""},
		{"a broken multipart body", func() (*bytes.Buffer, string) {
			return bytes.NewBufferString("--x\r\nnot a part"), "multipart/form-data; boundary=x"
		}, 1 << 20, apperr.Invalid, "error.form_malformed"},
		{"over the body limit", func() (*bytes.Buffer, string) { return upload("cot", strings.Repeat("a", 4096)) }, 1024,
			apperr.TooLarge, "error.too_large"},
		{"a field that is not text", func() (*bytes.Buffer, string) { return upload("cot", "\xff\xfe") }, 1 << 20,
			apperr.Invalid, "error.text_invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, ct := tc.body()
			r := httptest.NewRequest(http.MethodPost, "/import", b)
			r.Header.Set("Content-Type", ct)
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, tc.limit)
			err := ParseMultipartForm(r, 4<<20)
			if r.MultipartForm != nil {
				defer r.MultipartForm.RemoveAll()
			}
			if tc.key == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				if _, _, ferr := r.FormFile("file"); ferr != nil {
					t.Fatalf("the file: %v", ferr)
				}
				return
			}
			e, ok := err.(*apperr.Error)
			if !ok || e.Kind != tc.kind || e.Key != tc.key {
				t.Fatalf("got %v, want %s", err, tc.key)
			}
		})
	}
}
