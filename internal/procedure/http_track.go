package procedure

import (
	"errors"
	"hopnhat/internal/platform/ratelimit"
	"maps"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/procedure/workday"
)

// Citizens may look up 10 dossiers a minute from one address, all 10 at
// once; 10,000 addresses are remembered at most (about 2 MB).
const (
	trackPerMinute = 10
	trackClients   = 10000
)

// newTrackLimiter is the tracking rate limit: perMinute lookups a minute
// per client address, as many at once; 0 is the default.
func newTrackLimiter(perMinute int) *ratelimit.Limiter {
	if perMinute <= 0 {
		perMinute = trackPerMinute
	}
	return ratelimit.New(perMinute, perMinute, trackClients, time.Now)
}

func (d *dossierHandlers) registerTrack(rt *web.Router) {
	rt.Handle("GET /tra-cuu", web.Public, d.trackPage)
	rt.Handle("POST /tra-cuu", web.Public, d.trackForm)
	rt.Handle("POST /api/v1/track", web.Public, d.apiTrack)
}

// newCodeLimiter limits the lookups of one dossier code, from wherever they
// come: as many at once as a client may make, then a tenth of that a
// minute. Guessing the four digits of one receipt's code from many
// addresses then takes days.
func newCodeLimiter(perMinute int) *ratelimit.Limiter {
	if perMinute <= 0 {
		perMinute = trackPerMinute
	}
	return ratelimit.New(max(1, perMinute/10), perMinute, trackClients*10, time.Now)
}

// limitTrack counts one lookup against the client's bucket and the code's.
// Every attempt counts, whatever it asks: probing codes is what the limit
// is for; a code that does not exist has a bucket like one that does.
func (d *dossierHandlers) limitTrack(r *http.Request, code string) error {
	ok, wait := d.track.Allow(ratelimit.ClientKey(reqctx.Client(r.Context())))
	if ok {
		if code = NormalizeCode(code); len(code) > 60 {
			code = code[:60]
		}
		if ok, wait = d.trackCode.Allow(code); ok {
			return nil
		}
	}
	return &apperr.Error{Kind: apperr.TooManyRequests, Key: "track.too_many", RetryAfter: max(1, int(math.Ceil(wait.Seconds())))}
}

type trackResult struct {
	Tracking
	State stateBadge
	Due   time.Time
}

type trackView struct {
	Form   dossierForm
	Result *trackResult
}

func (d *dossierHandlers) trackPage(w http.ResponseWriter, r *http.Request) error {
	f := newDossierForm()
	f.Values["code"] = NormalizeCode(r.URL.Query().Get("ma"))
	if len(f.Values["code"]) > 60 {
		f.Values["code"] = ""
	}
	return d.pages.Render(w, r, "track", trackView{Form: f})
}

func (d *dossierHandlers) trackForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	// The factor travels in the body only, and is never shown back.
	f := newDossierForm()
	f.Values["code"] = strings.TrimSpace(r.PostFormValue("code"))
	err := d.limitTrack(r, f.Values["code"])
	var t Tracking
	if err == nil {
		t, err = d.s.Track(r.Context(), f.Values["code"], r.PostFormValue("factor"))
	}
	if err == nil {
		res := &trackResult{Tracking: t, State: badgeOf(t.State), Due: t.Due.Time()}
		f.Values["code"] = t.Code
		return d.pages.Render(w, r, "track", trackView{Form: f, Result: res})
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return err
	}
	status := web.StatusOf(err)
	switch ae.Kind {
	case apperr.Invalid:
		status = http.StatusUnprocessableEntity
	case apperr.NotFound, apperr.TooManyRequests:
	default:
		return err
	}
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(ae.RetryAfter))
	}
	maps.Copy(f.Errors, ae.Field)
	f.Error = ae.Key
	return d.pages.RenderStatus(w, r, status, "track", trackView{Form: f})
}

type trackStepJSON struct {
	Action Action `json:"action"`
	Status Status `json:"status"`
	At     string `json:"at"`
	Agency string `json:"agency"`
	Note   string `json:"note,omitempty"`
}

type trackJSON struct {
	Code       string          `json:"code"`
	Procedure  string          `json:"procedure"`
	Status     Status          `json:"status"`
	State      string          `json:"state"`
	ReceivedAt string          `json:"received_at"`
	DueDate    string          `json:"due_date"`
	DueKnown   bool            `json:"due_known"`
	FinishedAt string          `json:"finished_at,omitempty"`
	ReturnedAt string          `json:"returned_at,omitempty"`
	Steps      []trackStepJSON `json:"steps"`
}

func toTrackJSON(t Tracking) trackJSON {
	j := trackJSON{Code: t.Code, Procedure: t.Procedure, Status: t.Status, State: badgeOf(t.State).Key, ReceivedAt: rfc3339(t.ReceivedAt),
		DueKnown: t.DueKnown, FinishedAt: rfc3339(t.FinishedAt), ReturnedAt: rfc3339(t.ReturnedAt), Steps: []trackStepJSON{}}
	// While paused the due day is not known yet: the earliest it can be is
	// not promised to anyone.
	if t.DueKnown {
		j.DueDate = workday.Day(t.Due).String()
	}
	for _, s := range t.Steps {
		j.Steps = append(j.Steps, trackStepJSON{Action: s.Action, Status: s.Status, At: rfc3339(s.At), Agency: s.Agency, Note: s.Note})
	}
	return j
}

func (d *dossierHandlers) apiTrack(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Code   string `json:"code"`
		Factor string `json:"factor"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := d.limitTrack(r, in.Code); err != nil {
		return err
	}
	t, err := d.s.Track(r.Context(), in.Code, in.Factor)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"tracking": toTrackJSON(t)})
}
