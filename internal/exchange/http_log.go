package exchange

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// logPerPage is how many calls the log page shows at a time.
const logPerPage = 50

// logFilterFields are the log's filters, as query parameters.
var logFilterFields = []string{"service", "consumer", "method", "status", "request_id", "from", "to"}

// logFilterOf reads the log's filters. Values that cannot be read are named
// by field rather than answered with an empty log.
func logFilterOf(q url.Values) (MessageFilter, map[string]string) {
	f := MessageFilter{Service: strings.TrimSpace(q.Get("service")), ConsumerID: strings.TrimSpace(q.Get("consumer")),
		Method: strings.ToUpper(strings.TrimSpace(q.Get("method"))), RequestID: strings.TrimSpace(q.Get("request_id")),
		After: q.Get("after")}
	bad := map[string]string{}
	if f.Method != "" && !slices.Contains(allMethods, f.Method) {
		bad["method"] = "exchange.method_filter_invalid"
	}
	if s := strings.ToLower(strings.TrimSpace(q.Get("status"))); s != "" {
		c, err := strconv.Atoi(strings.TrimSuffix(s, "xx"))
		if err != nil || c < 1 || c > 5 {
			bad["status"] = "exchange.status_class_invalid"
		}
		f.StatusClass = c
	}
	var ok bool
	if f.From, ok = logTime(q.Get("from"), false); !ok {
		bad["from"] = "error.date_invalid"
	}
	if f.To, ok = logTime(q.Get("to"), true); !ok {
		bad["to"] = "error.date_invalid"
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) && bad["to"] == "" {
		bad["to"] = "exchange.dates_order"
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			bad["limit"] = "exchange.limit_invalid"
		}
		f.Limit = n
	}
	return f, bad
}

// logTime reads a bound of the log's window: a day (dd/mm/yyyy, or
// yyyy-mm-dd) in Vietnam's time, or an instant in RFC 3339 for the API. A day
// given as the end is included whole.
func logTime(s string, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	t, err := web.ParseDate(s)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t, true
}

// messageRow is a call as the log page shows it.
type messageRow struct {
	Message
	When      string
	Consumer  string
	LatencyMS float64
}

type logView struct {
	Form      web.Form
	Rows      []messageRow
	Services  []ServiceDef
	Consumers []Consumer
	Methods   []string
	Classes   []string
	Next      string // the next page's address
	First     string // the first page's address, when this is not it
	Filtered  bool
	Retention int
}

// logURL is the log page's address with q's filters and the cursor after.
func logURL(q url.Values, after string) string {
	v := url.Values{}
	for _, k := range logFilterFields {
		if s := strings.TrimSpace(q.Get(k)); s != "" {
			v.Set(k, s)
		}
	}
	if after != "" {
		v.Set("after", after)
	}
	if len(v) == 0 {
		return "/gateway/log"
	}
	return "/gateway/log?" + v.Encode()
}

func (h *Handlers) logPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	q := r.URL.Query()
	f, bad := logFilterOf(q)
	delete(bad, "limit") // the page has its own size
	v := logView{Form: web.NewForm(), Methods: methodOrder, Classes: []string{"2xx", "3xx", "4xx", "5xx"}, Retention: h.s.Retention()}
	for _, k := range logFilterFields {
		v.Form.Values[k] = q.Get(k)
	}
	// Past the last page is an empty result, not an empty log.
	for _, k := range append(logFilterFields, "after") {
		if q.Get(k) != "" {
			v.Filtered = true
		}
	}
	var err error
	if v.Services, err = h.s.Services(ctx); err != nil {
		return err
	}
	if v.Consumers, err = h.s.Consumers(ctx); err != nil {
		return err
	}
	if len(bad) > 0 {
		v.Form.Errors, v.Form.Error = bad, "error.invalid_input"
		return h.pages.RenderStatus(w, r, http.StatusBadRequest, "log", v)
	}
	f.Limit = logPerPage
	msgs, next, err := h.s.Messages(ctx, f)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, c := range v.Consumers {
		names[c.ID] = c.Name
	}
	for _, m := range msgs {
		v.Rows = append(v.Rows, messageRow{Message: m, When: vnTime(m.At), Consumer: names[m.ConsumerID],
			LatencyMS: float64(m.Latency.Microseconds()) / 1000})
	}
	if next != "" {
		v.Next = logURL(q, next)
	}
	if f.After != "" {
		v.First = logURL(q, "")
	}
	return h.pages.Render(w, r, "log", v)
}

type messageJSON struct {
	ID          string  `json:"id"`
	At          string  `json:"at"`
	ConsumerID  string  `json:"consumer_id,omitempty"`
	Consumer    string  `json:"consumer,omitempty"`
	ServiceCode string  `json:"service,omitempty"`
	Method      string  `json:"method"`
	Path        string  `json:"path"`
	Status      int     `json:"status"`
	LatencyMS   float64 `json:"latency_ms"`
	BytesIn     int64   `json:"bytes_in"`
	BytesOut    int64   `json:"bytes_out"`
	RequestID   string  `json:"request_id"`
	Upstream    string  `json:"upstream,omitempty"` // primary (the new system), backup (the legacy LGSP)
	Problem     string  `json:"problem,omitempty"`
}

func (h *Handlers) apiMessages(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	f, bad := logFilterOf(r.URL.Query())
	if len(bad) > 0 {
		return apperr.InvalidFields(bad)
	}
	msgs, next, err := h.s.Messages(ctx, f)
	if err != nil {
		return err
	}
	names, err := h.consumerNames(ctx)
	if err != nil {
		return err
	}
	out := make([]messageJSON, len(msgs))
	for i, m := range msgs {
		out[i] = messageJSON{ID: m.ID, At: m.At.UTC().Format(time.RFC3339Nano), ConsumerID: m.ConsumerID, Consumer: names[m.ConsumerID],
			ServiceCode: m.ServiceCode, Method: m.Method, Path: m.Path, Status: m.Status,
			LatencyMS: float64(m.Latency.Microseconds()) / 1000, BytesIn: m.BytesIn, BytesOut: m.BytesOut, RequestID: m.RequestID,
			Upstream: m.Upstream, Problem: m.Problem}
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"messages": out, "next": next, "retention_days": h.s.Retention()})
}

// --- the migration board ---

// defaultBoardDays is the board's window when none is asked for.
const defaultBoardDays = 7

// boardDays reads ?days=; the board itself keeps it within 1–366.
func boardDays(q url.Values) (int, bool) {
	s := strings.TrimSpace(q.Get("days"))
	if s == "" {
		return defaultBoardDays, true
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= 366
}

type boardView struct {
	B         Board
	Since     string // the window's first day, dd/mm/yyyy
	Left      int    // services that still need the legacy LGSP
	Form      web.Form
	Choices   []int
	CanManage bool
}

// stillLegacy reports whether a service keeps the legacy LGSP in use: the
// same rule as Board.CanRetire.
func stillLegacy(bs BoardService) bool {
	return !bs.Moved && (bs.Service.BackupURL != "" || bs.Service.Cutover != CutoverNew)
}

func (h *Handlers) boardPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := boardView{Form: web.NewForm(), Choices: []int{1, 7, 30, 90}, CanManage: web.Allowed(r.Context(), managers)}
	v.Form.Values["days"] = q.Get("days")
	days, ok := boardDays(q)
	status := http.StatusOK
	if !ok {
		v.Form.Errors["days"], v.Form.Error = "exchange.days_invalid", "error.invalid_input"
		status, days = http.StatusBadRequest, defaultBoardDays
	}
	if v.Form.Values["days"] == "" {
		v.Form.Values["days"] = strconv.Itoa(days)
	}
	b, err := h.s.MigrationBoard(r.Context(), days)
	if err != nil {
		return err
	}
	v.B = b
	// Since is the window's first day at Vietnam's clock, written as UTC.
	v.Since = b.Since.UTC().Format("02/01/2006")
	for _, s := range b.Services {
		if stillLegacy(s) {
			v.Left++
		}
	}
	return h.pages.RenderStatus(w, r, status, "board", v)
}

type boardConsumerJSON struct {
	ConsumerID     string `json:"consumer_id"`
	Name           string `json:"name"`
	Calls          int64  `json:"calls"`
	LegacyCalls    int64  `json:"legacy_calls"`
	Errors         int64  `json:"errors"`
	LastCall       string `json:"last_call,omitempty"`
	LastLegacyCall string `json:"last_legacy_call,omitempty"`
}

type boardServiceJSON struct {
	ID          string              `json:"id"`
	Code        string              `json:"code"`
	Name        string              `json:"name"`
	Cutover     Cutover             `json:"cutover"`
	Calls       int64               `json:"calls"`
	LegacyCalls int64               `json:"legacy_calls"`
	Compared    int64               `json:"shadow_compared"`
	Differed    int64               `json:"shadow_differed"`
	Moved       bool                `json:"moved"`
	Consumers   []boardConsumerJSON `json:"consumers"`
}

func (h *Handlers) apiBoard(w http.ResponseWriter, r *http.Request) error {
	days, ok := boardDays(r.URL.Query())
	if !ok {
		return apperr.InvalidFields(map[string]string{"days": "exchange.days_invalid"})
	}
	b, err := h.s.MigrationBoard(r.Context(), days)
	if err != nil {
		return err
	}
	services := make([]boardServiceJSON, len(b.Services))
	left := 0
	for i, s := range b.Services {
		j := boardServiceJSON{ID: s.Service.ID, Code: s.Service.Code, Name: s.Service.Name, Cutover: s.Service.Cutover, Calls: s.Calls,
			LegacyCalls: s.LegacyCalls, Compared: s.Compared, Differed: s.Differed, Moved: s.Moved, Consumers: []boardConsumerJSON{}}
		for _, c := range s.Consumers {
			j.Consumers = append(j.Consumers, boardConsumerJSON{ConsumerID: c.ConsumerID, Name: c.Name, Calls: c.Calls,
				LegacyCalls: c.LegacyCalls, Errors: c.Errors, LastCall: rfc3339(c.LastCall), LastLegacyCall: rfc3339(c.LastLegacy)})
		}
		services[i] = j
		if stillLegacy(s) {
			left++
		}
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"days": b.Days, "since": b.Since.UTC().Format(time.DateOnly),
		"can_retire": b.CanRetire, "moved": b.Moved, "still_on_legacy": left, "services": services})
}
