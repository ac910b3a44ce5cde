package exchange

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// A shadow call repeats a GET or HEAD that the legacy LGSP answered to the
// new system, after the caller has its answer, and compares the two: the
// status, and the body (as JSON when both are JSON, so key order and spacing
// do not count). At most shadowConcurrency comparisons run at once; a call
// that finds no free slot is served as usual and counted as skipped. Only
// the first replayLimit bytes of each answer are compared, with the lengths.

// sampleLen is how much of each answer a recorded difference keeps.
const sampleLen = 2000

// shadowCapture keeps the legacy answer while it streams to the caller.
type shadowCapture struct {
	status   int
	encoding string // Content-Encoding
	buf      bytes.Buffer
	n        int64
	complete bool // the body was read to its end
}

type captureBody struct {
	io.ReadCloser
	c *shadowCapture
}

func (b captureBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		if room := replayLimit - b.c.buf.Len(); room > 0 {
			b.c.buf.Write(p[:min(n, room)])
		}
		b.c.n += int64(n)
	}
	if err == io.EOF {
		b.c.complete = true
	}
	return n, err
}

// captureForShadow starts keeping resp's body when a comparison slot is free.
// A protocol switch (WebSocket) is not compared: its body is the connection.
func (g *gateway) captureForShadow(resp *http.Response, c *call) {
	if resp.StatusCode == http.StatusSwitchingProtocols || resp.Request.Header.Get("Upgrade") != "" {
		return
	}
	select {
	case g.s.shadowSlots <- struct{}{}:
	default:
		g.s.metrics().shadow.WithLabelValues(c.def.Code, "skipped").Inc()
		return
	}
	c.shadow = &shadowCapture{status: resp.StatusCode, encoding: resp.Header.Get("Content-Encoding")}
	if resp.Request.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		c.shadow.complete = true
		return
	}
	resp.Body = captureBody{resp.Body, c.shadow}
}

// hopHeaders are not repeated to the new system, nor are the caller's
// credentials.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer",
	"Transfer-Encoding", "Upgrade", "Authorization", "X-Api-Key", "Cookie"}

// shadowCall sends the call to the new system in the background and records
// the comparison. It runs after the caller has the legacy answer.
func (g *gateway) shadowCall(r *http.Request, c *call) {
	if !c.shadow.complete { // the caller went away mid-answer: nothing to compare
		<-g.s.shadowSlots
		g.s.metrics().shadow.WithLabelValues(c.def.Code, "skipped").Inc()
		return
	}
	var primary *upstreamTarget
	for i := range c.targets {
		if c.targets[i].role == "primary" {
			primary = &c.targets[i]
		}
	}
	if primary == nil {
		<-g.s.shadowSlots
		return
	}
	h := r.Header.Clone()
	for _, k := range hopHeaders {
		h.Del(k)
	}
	h.Set("X-Request-Id", c.reqID)
	h.Set("X-Hopnhat-Shadow", "1")
	method, target, legacy, def := r.Method, *primary.url, c.shadow, c.def
	d := &ShadowDiff{At: c.rec.At, ServiceCode: def.Code, ConsumerID: c.consumerID, Method: method, Path: c.rec.Path,
		RequestID: c.reqID, LegacyStatus: legacy.status, LegacyBytes: legacy.n}
	g.s.shadowWG.Add(1)
	go func() {
		defer g.s.shadowWG.Done()
		defer func() { <-g.s.shadowSlots }()
		ctx, cancel := context.WithTimeout(context.Background(), def.Timeout())
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, target.String(), nil)
		var got bytes.Buffer
		var newEncoding string
		if err == nil {
			req.Header = h
			var resp *http.Response
			if resp, err = g.shadowTransport.RoundTrip(req); err == nil {
				d.NewStatus = resp.StatusCode
				newEncoding = resp.Header.Get("Content-Encoding")
				_, err = io.Copy(&got, io.LimitReader(resp.Body, replayLimit))
				n, _ := io.Copy(io.Discard, resp.Body)
				d.NewBytes = int64(got.Len()) + n
				resp.Body.Close()
			}
		}
		// Compressed answers are compared, and shown, as what they say.
		legacyBody, newBody := decoded(legacy.buf.Bytes(), legacy.encoding), decoded(got.Bytes(), newEncoding)
		d.Reason = compareAnswers(legacy, legacyBody, d.NewStatus, newBody, d.NewBytes, err)
		if d.Reason != "" {
			d.ID = g.s.msg.nextID(d.At)
			d.LegacySample, d.NewSample = sample(legacyBody), sample(newBody)
			g.s.metrics().shadow.WithLabelValues(def.Code, "differ").Inc()
		} else {
			g.s.metrics().shadow.WithLabelValues(def.Code, "match").Inc()
		}
		g.s.msg.add(entry{shadow: d})
	}()
}

// compareAnswers says how the new system's answer differs from the legacy
// one: "" when it does not, else unreachable, status or body. The bodies are
// decoded; the lengths are those on the wire.
func compareAnswers(legacy *shadowCapture, legacyBody []byte, status int, body []byte, n int64, err error) string {
	switch {
	case err != nil:
		return "unreachable"
	case status != legacy.status:
		return "status"
	case bytes.Equal(legacyBody, body) && (n == legacy.n || legacy.encoding != ""):
		return ""
	case sameJSON(legacyBody, body):
		return ""
	}
	return "body"
}

// decoded is b as sent with Content-Encoding enc: gzip is undone (within
// replayLimit); anything else is left as it is.
func decoded(b []byte, enc string) []byte {
	if !strings.EqualFold(strings.TrimSpace(enc), "gzip") {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return b
	}
	out, err := io.ReadAll(io.LimitReader(zr, replayLimit))
	if err != nil && len(out) == 0 {
		return b
	}
	return out
}

// sameJSON reports whether a and b are both JSON with the same meaning.
// Numbers are compared as written, so large identifiers are not rounded.
func sameJSON(a, b []byte) bool {
	if len(a) >= replayLimit || len(b) >= replayLimit {
		return false // cut short: the text decides
	}
	va, okA := decodeJSON(a)
	vb, okB := decodeJSON(b)
	if !okA || !okB {
		return false
	}
	ea, err1 := json.Marshal(va)
	eb, err2 := json.Marshal(vb)
	return err1 == nil && err2 == nil && bytes.Equal(ea, eb)
}

func decodeJSON(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// sample is the start of an answer as valid UTF-8 text.
func sample(b []byte) string {
	if len(b) > sampleLen {
		b = b[:sampleLen]
		for len(b) > 0 && !utf8.Valid(b) {
			b = b[:len(b)-1]
		}
	}
	return strings.ToValidUTF8(string(b), "�")
}

// waitShadows waits for the comparisons under way, at most until deadline.
func (s *Service) waitShadows(deadline time.Duration) {
	done := make(chan struct{})
	go func() { s.shadowWG.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(deadline):
		s.log.Warn("gateway: shadow comparisons still running at shutdown are not recorded")
	}
}
