package exchange

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// --- the catalogue's pages ---

// serviceRow is a service with what this process knows of its upstreams.
type serviceRow struct {
	ServiceDef
	Primary UpstreamState
	Backup  UpstreamState
}

type servicesView struct {
	Rows      []serviceRow
	CanWrite  bool
	Retention int
}

func (h *Handlers) row(d ServiceDef) serviceRow {
	r := serviceRow{ServiceDef: d, Primary: h.s.State(d.PrimaryURL)}
	if d.BackupURL != "" {
		r.Backup = h.s.State(d.BackupURL)
	}
	return r
}

func (h *Handlers) servicesPage(w http.ResponseWriter, r *http.Request) error {
	defs, err := h.s.Services(r.Context())
	if err != nil {
		return err
	}
	v := servicesView{CanWrite: web.Allowed(r.Context(), managers), Retention: h.s.Retention()}
	for _, d := range defs {
		v.Rows = append(v.Rows, h.row(d))
	}
	return h.pages.Render(w, r, "services", v)
}

// serviceGrant is one consumer's grant on a service.
type serviceGrant struct {
	Consumer Consumer
	Grant    Grant
}

// diffRow is a shadow difference with its consumer's name and time as
// shown.
type diffRow struct {
	ShadowDiff
	Consumer string
	When     string
}

type serviceView struct {
	D        serviceRow
	CallPath string
	Grants   []serviceGrant
	Diffs    []diffRow
	CanWrite bool
}

// shownDiffs is how many of a service's latest shadow differences its page
// shows.
const shownDiffs = 20

// vnTime writes t in Vietnam's time to the second, as the log shows calls.
func vnTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(vnZone).Format("02/01/2006 15:04:05")
}

// grantsOn lists who may call the service id, by consumer name.
func (h *Handlers) grantsOn(ctx context.Context, id string) ([]serviceGrant, error) {
	cs, err := h.s.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	var out []serviceGrant
	for _, c := range cs {
		gs, err := h.s.Grants(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			if g.ServiceID == id {
				out = append(out, serviceGrant{Consumer: c, Grant: g})
			}
		}
	}
	return out, nil
}

func (h *Handlers) consumerNames(ctx context.Context) (map[string]string, error) {
	cs, err := h.s.Consumers(ctx)
	if err != nil {
		return nil, err
	}
	names := make(map[string]string, len(cs))
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	return names, nil
}

func (h *Handlers) servicePage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d, err := h.s.ServiceByID(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := serviceView{D: h.row(d), CallPath: PathPrefix + d.Code + "/", CanWrite: web.Allowed(ctx, managers)}
	if v.Grants, err = h.grantsOn(ctx, d.ID); err != nil {
		return err
	}
	diffs, err := h.s.ShadowDiffs(ctx, d.Code, shownDiffs)
	if err != nil {
		return err
	}
	names, err := h.consumerNames(ctx)
	if err != nil {
		return err
	}
	for _, x := range diffs {
		v.Diffs = append(v.Diffs, diffRow{ShadowDiff: x, Consumer: names[x.ConsumerID], When: vnTime(x.At)})
	}
	return h.pages.Render(w, r, "service", v)
}

// serviceFields are the service form's fields.
var serviceFields = []string{"code", "name", "owner_agency_id", "version_label", "primary_url", "backup_url", "timeout_ms",
	"max_body_bytes", "docs_url", "health_path", "status", "cutover"}

// serviceInputOf builds a ServiceInput from text fields, as forms give
// them. Numbers that cannot be read are refused together with whatever else
// is wrong.
func serviceInputOf(v map[string]string) (ServiceInput, error) {
	in := ServiceInput{Code: v["code"], Name: v["name"], OwnerAgencyID: v["owner_agency_id"], VersionLabel: v["version_label"],
		PrimaryURL: v["primary_url"], BackupURL: v["backup_url"], DocsURL: v["docs_url"], HealthPath: v["health_path"],
		Status: Status(v["status"]), Cutover: Cutover(v["cutover"])}
	bad := map[string]string{}
	var ok bool
	if in.TimeoutMS, ok = parseInt(v["timeout_ms"]); !ok {
		bad["timeout_ms"] = "exchange.timeout_invalid"
	}
	if in.MaxBodyBytes, ok = parseInt(v["max_body_bytes"]); !ok {
		bad["max_body_bytes"] = "exchange.max_body_invalid"
	}
	if len(bad) > 0 {
		probe := in
		f := checkService(&probe)
		maps.Copy(f, bad)
		return in, apperr.InvalidFields(f)
	}
	return in, nil
}

func serviceValues(d ServiceDef) map[string]string {
	return map[string]string{"code": d.Code, "name": d.Name, "owner_agency_id": d.OwnerAgencyID, "version_label": d.VersionLabel,
		"primary_url": d.PrimaryURL, "backup_url": d.BackupURL, "timeout_ms": strconv.FormatInt(d.TimeoutMS, 10),
		"max_body_bytes": strconv.FormatInt(d.MaxBodyBytes, 10), "docs_url": d.DocsURL, "health_path": d.HealthPath,
		"status": string(d.Status), "cutover": string(d.Cutover), "version": strconv.FormatInt(d.Version, 10)}
}

func postedService(r *http.Request) map[string]string {
	v := map[string]string{}
	for _, k := range serviceFields {
		v[k] = r.PostFormValue(k)
	}
	return v
}

type serviceFormView struct {
	D        ServiceDef // the stored service, when editing
	IsNew    bool
	Form     web.Form
	Stored   *ServiceDef // what another person saved meanwhile
	Statuses []Status
	Cutovers []Cutover
	Action   string
}

func serviceForm(d ServiceDef, isNew bool, f web.Form) serviceFormView {
	v := serviceFormView{D: d, IsNew: isNew, Form: f, Statuses: []Status{Active, Disabled},
		Cutovers: []Cutover{CutoverOld, CutoverShadow, CutoverNew}, Action: "/gateway/services"}
	if !isNew {
		v.Action = "/gateway/services/" + url.PathEscape(d.ID)
	}
	return v
}

func (h *Handlers) newServicePage(w http.ResponseWriter, r *http.Request) error {
	f := web.NewForm()
	// A service moving off a legacy LGSP starts on it; one that never had a
	// legacy counterpart switches its mode to "new" here.
	f.Values = map[string]string{"status": string(Active), "cutover": string(CutoverOld),
		"timeout_ms": strconv.Itoa(DefaultTimeoutMS), "max_body_bytes": strconv.Itoa(DefaultMaxBodyBytes)}
	return h.pages.Render(w, r, "service_form", serviceForm(ServiceDef{}, true, f))
}

func (h *Handlers) createServiceForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	vals := postedService(r)
	in, err := serviceInputOf(vals)
	if err == nil {
		var d ServiceDef
		if d, err = h.s.CreateService(r.Context(), in); err == nil {
			http.Redirect(w, r, "/gateway/services/"+url.PathEscape(d.ID)+"?ok=flash.gateway_service_created", http.StatusSeeOther)
			return nil
		}
	}
	f := web.NewForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	f.Values = vals
	return h.pages.RenderStatus(w, r, status, "service_form", serviceForm(ServiceDef{}, true, f))
}

func (h *Handlers) editServicePage(w http.ResponseWriter, r *http.Request) error {
	d, err := h.s.ServiceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := web.NewForm()
	f.Values = serviceValues(d)
	return h.pages.Render(w, r, "service_form", serviceForm(d, false, f))
}

func (h *Handlers) updateServiceForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	vals := postedService(r)
	in, err := serviceInputOf(vals)
	if err == nil {
		if _, err = h.s.UpdateService(ctx, id, in, version); err == nil {
			http.Redirect(w, r, "/gateway/services/"+url.PathEscape(id)+"?ok=flash.gateway_service_saved", http.StatusSeeOther)
			return nil
		}
	}
	f := web.NewForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	// The form again with what the editor typed, against the stored record:
	// after a conflict its version is the new one, so saving again is a
	// choice made after seeing the other person's change.
	cur, err := h.s.ServiceByID(ctx, id)
	if err != nil {
		return err
	}
	f.Values = vals
	f.Values["version"] = strconv.FormatInt(cur.Version, 10)
	v := serviceForm(cur, false, f)
	if cur.Version != version {
		v.Stored = &cur
	}
	return h.pages.RenderStatus(w, r, status, "service_form", v)
}

// --- the catalogue's API ---

type upstreamJSON struct {
	Role        string `json:"role"` // primary (the new system) or backup (the legacy LGSP)
	URL         string `json:"url"`
	CircuitOpen bool   `json:"circuit_open"`
	Unhealthy   bool   `json:"unhealthy"`
	Fails       int    `json:"consecutive_failures"`
	CheckedAt   string `json:"checked_at,omitempty"`
}

type serviceJSON struct {
	ID            string         `json:"id"`
	Code          string         `json:"code"`
	Name          string         `json:"name"`
	OwnerAgencyID string         `json:"owner_agency_id"`
	VersionLabel  string         `json:"version_label"`
	PrimaryURL    string         `json:"primary_url"`
	BackupURL     string         `json:"backup_url"`
	TimeoutMS     int64          `json:"timeout_ms"`
	MaxBodyBytes  int64          `json:"max_body_bytes"`
	DocsURL       string         `json:"docs_url"`
	HealthPath    string         `json:"health_path"`
	Status        Status         `json:"status"`
	Cutover       Cutover        `json:"cutover"`
	CallPath      string         `json:"call_path"`
	Upstreams     []upstreamJSON `json:"upstreams"`
	Version       int64          `json:"version"`
	CreatedAt     string         `json:"created_at"`
	UpdatedAt     string         `json:"updated_at"`
}

func upstreamOf(role string, st UpstreamState) upstreamJSON {
	return upstreamJSON{Role: role, URL: st.URL, CircuitOpen: st.Open, Unhealthy: st.Unhealthy, Fails: st.Fails, CheckedAt: rfc3339(st.Checked)}
}

func (h *Handlers) serviceJSON(d ServiceDef) serviceJSON {
	row := h.row(d)
	ups := []upstreamJSON{upstreamOf("primary", row.Primary)}
	if d.BackupURL != "" {
		ups = append(ups, upstreamOf("backup", row.Backup))
	}
	return serviceJSON{ID: d.ID, Code: d.Code, Name: d.Name, OwnerAgencyID: d.OwnerAgencyID, VersionLabel: d.VersionLabel,
		PrimaryURL: d.PrimaryURL, BackupURL: d.BackupURL, TimeoutMS: d.TimeoutMS, MaxBodyBytes: d.MaxBodyBytes, DocsURL: d.DocsURL,
		HealthPath: d.HealthPath, Status: d.Status, Cutover: d.Cutover, CallPath: PathPrefix + d.Code + "/", Upstreams: ups,
		Version: d.Version, CreatedAt: rfc3339(d.CreatedAt), UpdatedAt: rfc3339(d.UpdatedAt)}
}

// serviceInputJSON is a service as the API takes it, every field at once;
// a zero timeout, body limit, status or cutover takes the default.
type serviceInputJSON struct {
	Code          string `json:"code"`
	Name          string `json:"name"`
	OwnerAgencyID string `json:"owner_agency_id"`
	VersionLabel  string `json:"version_label"`
	PrimaryURL    string `json:"primary_url"`
	BackupURL     string `json:"backup_url"`
	TimeoutMS     int64  `json:"timeout_ms"`
	MaxBodyBytes  int64  `json:"max_body_bytes"`
	DocsURL       string `json:"docs_url"`
	HealthPath    string `json:"health_path"`
	Status        string `json:"status"`
	Cutover       string `json:"cutover"`
}

func (j serviceInputJSON) input() ServiceInput {
	return ServiceInput{Code: j.Code, Name: j.Name, OwnerAgencyID: j.OwnerAgencyID, VersionLabel: j.VersionLabel, PrimaryURL: j.PrimaryURL,
		BackupURL: j.BackupURL, TimeoutMS: j.TimeoutMS, MaxBodyBytes: j.MaxBodyBytes, DocsURL: j.DocsURL, HealthPath: j.HealthPath,
		Status: Status(j.Status), Cutover: Cutover(j.Cutover)}
}

func (h *Handlers) apiServices(w http.ResponseWriter, r *http.Request) error {
	defs, err := h.s.Services(r.Context())
	if err != nil {
		return err
	}
	out := make([]serviceJSON, len(defs))
	for i, d := range defs {
		out[i] = h.serviceJSON(d)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"services": out})
}

func (h *Handlers) apiService(w http.ResponseWriter, r *http.Request) error {
	d, err := h.s.ServiceByID(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"service": h.serviceJSON(d)})
}

func (h *Handlers) apiCreateService(w http.ResponseWriter, r *http.Request) error {
	var in serviceInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	d, err := h.s.CreateService(r.Context(), in.input())
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/gateway/services/"+d.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"service": h.serviceJSON(d)})
}

func (h *Handlers) apiUpdateService(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		serviceInputJSON
		Version *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it a save could silently overwrite another person's.
		return apperr.InvalidFields(map[string]string{"version": "exchange.version_required"})
	}
	d, err := h.s.UpdateService(r.Context(), r.PathValue("id"), in.input(), *in.Version)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"service": h.serviceJSON(d)})
}
