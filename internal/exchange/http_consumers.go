package exchange

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// defaultOverlapHours is what the rotate form offers: a day for the
// consumer's operators to deploy the new key.
const defaultOverlapHours = 24

// maxOverlapHours is the longest overlap RotateKey accepts (90 days).
const maxOverlapHours = 90 * 24

// --- the consumers' list ---

type consumerRow struct {
	Consumer
	ActiveKeys int
	Grants     int
	Certs      int
}

type consumersView struct {
	Rows []consumerRow
}

func (h *Handlers) consumersPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	cs, err := h.s.Consumers(ctx)
	if err != nil {
		return err
	}
	now := h.s.db.Now()
	var v consumersView
	for _, c := range cs {
		row := consumerRow{Consumer: c}
		keys, err := h.s.Keys(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.Active(now) {
				row.ActiveKeys++
			}
		}
		gs, err := h.s.Grants(ctx, c.ID)
		if err != nil {
			return err
		}
		row.Grants = len(gs)
		certs, err := h.s.Certs(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, x := range certs {
			if !x.Revoked && x.NotAfter.After(now) {
				row.Certs++
			}
		}
		v.Rows = append(v.Rows, row)
	}
	return h.pages.Render(w, r, "consumers", v)
}

// --- a new consumer ---

type consumerNewView struct {
	Form web.Form
}

func (h *Handlers) newConsumerPage(w http.ResponseWriter, r *http.Request) error {
	return h.pages.Render(w, r, "consumer_new", consumerNewView{Form: web.NewForm()})
}

func (h *Handlers) createConsumerForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	in := ConsumerInput{Name: r.PostFormValue("name"), OwnerAgencyID: r.PostFormValue("owner_agency_id")}
	c, err := h.s.CreateConsumer(r.Context(), in)
	if err == nil {
		http.Redirect(w, r, "/gateway/consumers/"+url.PathEscape(c.ID)+"?ok=flash.gateway_consumer_created", http.StatusSeeOther)
		return nil
	}
	f := web.NewForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	f.Values["name"], f.Values["owner_agency_id"] = in.Name, in.OwnerAgencyID
	return h.pages.RenderStatus(w, r, status, "consumer_new", consumerNewView{Form: f})
}

// --- one consumer ---

type keyRow struct {
	Key
	Active bool
}

type grantRow struct {
	Grant
	Service ServiceDef
	Checks  []methodCheck
}

type certRow struct {
	Cert
	Expired bool
}

type consumerView struct {
	C          Consumer
	Keys       []keyRow
	ActiveKeys int
	Grants     []grantRow
	Certs      []certRow
	Services   []ServiceDef // to grant
	Statuses   []Status
	Secret     string // a key just issued: shown this once
	Rotated    bool   // the key was issued by a rotation
	Stored     *Consumer
	Edit       web.Form
	Rotate     web.Form
	GrantForm  web.Form
	AddChecks  []methodCheck
	CertForm   web.Form
}

// consumerView reads the consumer id with its keys, grants and
// certificates, its forms filled with what is stored.
func (h *Handlers) consumerView(ctx context.Context, id string) (consumerView, error) {
	c, err := h.s.Consumer(ctx, id)
	if err != nil {
		return consumerView{}, err
	}
	v := consumerView{C: c, Statuses: []Status{Active, Disabled}, Edit: web.NewForm(), Rotate: web.NewForm(), GrantForm: web.NewForm(),
		CertForm: web.NewForm()}
	v.Edit.Values = map[string]string{"name": c.Name, "owner_agency_id": c.OwnerAgencyID, "status": string(c.Status),
		"version": strconv.FormatInt(c.Version, 10)}
	v.Rotate.Values["overlap"] = strconv.Itoa(defaultOverlapHours)
	v.GrantForm.Checked["GET"] = true
	now := h.s.db.Now()
	keys, err := h.s.Keys(ctx, id)
	if err != nil {
		return v, err
	}
	for _, k := range keys {
		v.Keys = append(v.Keys, keyRow{Key: k, Active: k.Active(now)})
		if k.Active(now) {
			v.ActiveKeys++
		}
	}
	if v.Services, err = h.s.Services(ctx); err != nil {
		return v, err
	}
	grants, err := h.s.Grants(ctx, id)
	if err != nil {
		return v, err
	}
	for _, g := range grants {
		row := grantRow{Grant: g, Checks: methodChecks(func(m string) bool { return slices.Contains(g.Methods, m) })}
		if i := slices.IndexFunc(v.Services, func(d ServiceDef) bool { return d.ID == g.ServiceID }); i >= 0 {
			row.Service = v.Services[i]
		}
		v.Grants = append(v.Grants, row)
	}
	slices.SortFunc(v.Grants, func(a, b grantRow) int { return strings.Compare(a.Service.Code, b.Service.Code) })
	certs, err := h.s.Certs(ctx, id)
	if err != nil {
		return v, err
	}
	for _, x := range certs {
		v.Certs = append(v.Certs, certRow{Cert: x, Expired: !x.NotAfter.After(now)})
	}
	return v, nil
}

// render writes the consumer's page, its grant form's boxes as they were
// ticked.
func (h *Handlers) renderConsumer(w http.ResponseWriter, r *http.Request, status int, v consumerView) error {
	v.AddChecks = methodChecks(func(m string) bool { return v.GrantForm.Checked[m] })
	return h.pages.RenderStatus(w, r, status, "consumer", v)
}

func (h *Handlers) consumerPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.consumerView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.renderConsumer(w, r, http.StatusOK, v)
}

// refuse shows the consumer's page again with a refused form: set fills
// the form of v with the problems and what was typed. Errors a form cannot
// fix (an unknown consumer) are returned as they are.
func (h *Handlers) refuse(w http.ResponseWriter, r *http.Request, id string, err error, set func(v *consumerView, f *web.Form)) error {
	f := web.NewForm()
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.consumerView(r.Context(), id)
	if err != nil {
		return err
	}
	set(&v, &f)
	return h.renderConsumer(w, r, status, v)
}

func consumerURL(id, flash, anchor string) string {
	return "/gateway/consumers/" + url.PathEscape(id) + "?ok=" + flash + anchor
}

func (h *Handlers) updateConsumerForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	in := ConsumerInput{Name: r.PostFormValue("name"), OwnerAgencyID: r.PostFormValue("owner_agency_id")}
	status := Status(r.PostFormValue("status"))
	_, err := h.s.UpdateConsumer(ctx, id, in, status, version)
	if err == nil {
		http.Redirect(w, r, consumerURL(id, "flash.gateway_consumer_saved", ""), http.StatusSeeOther)
		return nil
	}
	return h.refuse(w, r, id, err, func(v *consumerView, f *web.Form) {
		f.Values = map[string]string{"name": in.Name, "owner_agency_id": in.OwnerAgencyID, "status": string(status),
			"version": strconv.FormatInt(v.C.Version, 10)}
		if v.C.Version != version {
			stored := v.C
			v.Stored = &stored
		}
		v.Edit = *f
	})
}

func (h *Handlers) issueKeyForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	plain, _, err := h.s.IssueKey(r.Context(), id)
	if err != nil {
		return err
	}
	return h.showKey(w, r, id, plain, false)
}

// showKey renders the consumer's page with a key just issued. It is the
// only time the key is shown: only its hash is kept.
func (h *Handlers) showKey(w http.ResponseWriter, r *http.Request, id, plain string, rotated bool) error {
	v, err := h.consumerView(r.Context(), id)
	if err != nil {
		return err
	}
	v.Secret, v.Rotated = plain, rotated
	return h.renderConsumer(w, r, http.StatusOK, v)
}

func (h *Handlers) rotateKeyForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	typed := r.PostFormValue("overlap")
	hours, ok := parseInt(typed)
	var err error
	if !ok || hours < 0 || hours > maxOverlapHours {
		// The consumer must exist for its page to show the message.
		if _, err = h.s.Consumer(r.Context(), id); err == nil {
			err = apperr.InvalidFields(map[string]string{"overlap": "exchange.overlap_invalid"})
		}
	} else {
		var plain string
		if plain, _, err = h.s.RotateKey(r.Context(), id, time.Duration(hours)*time.Hour); err == nil {
			return h.showKey(w, r, id, plain, true)
		}
	}
	return h.refuse(w, r, id, err, func(v *consumerView, f *web.Form) {
		f.Values["overlap"] = typed
		v.Rotate = *f
	})
}

// ownKey reports whether keyID is one of the consumer's keys, so a form on
// one consumer's page never revokes another's.
func (h *Handlers) ownKey(ctx context.Context, consumerID, keyID string) error {
	keys, err := h.s.Keys(ctx, consumerID)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(keys, func(k Key) bool { return k.ID == keyID }) {
		return apperr.New(apperr.NotFound, "exchange.key_not_found")
	}
	return nil
}

func (h *Handlers) revokeKeyForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id, keyID := r.PathValue("id"), r.PathValue("key")
	if _, err := h.s.Consumer(ctx, id); err != nil {
		return err
	}
	if err := h.ownKey(ctx, id, keyID); err != nil {
		return err
	}
	if err := h.s.RevokeKey(ctx, keyID); err != nil {
		return err
	}
	http.Redirect(w, r, consumerURL(id, "flash.gateway_key_revoked", "#keys"), http.StatusSeeOther)
	return nil
}

func (h *Handlers) grantForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	serviceID := strings.TrimSpace(r.PostFormValue("service_id"))
	methods := r.PostForm["methods"]
	typed := r.PostFormValue("rate_per_minute")
	bad := map[string]string{}
	defs, err := h.s.Services(ctx)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(defs, func(d ServiceDef) bool { return d.ID == serviceID }) {
		bad["service_id"] = "exchange.service_pick"
	}
	rate, ok := parseInt(typed)
	if !ok || rate < 0 || rate > 100_000_000 {
		bad["rate_per_minute"] = "exchange.rate_invalid"
	}
	if _, ok := normMethods(methods); !ok {
		bad["methods"] = "exchange.methods_invalid"
	}
	if len(bad) > 0 {
		// The consumer must exist for its page to show the message.
		if _, err = h.s.Consumer(ctx, id); err == nil {
			err = apperr.InvalidFields(bad)
		}
	} else if _, err = h.s.Grant(ctx, id, serviceID, methods, int(rate)); err == nil {
		http.Redirect(w, r, consumerURL(id, "flash.gateway_grant_saved", "#grants"), http.StatusSeeOther)
		return nil
	}
	return h.refuse(w, r, id, err, func(v *consumerView, f *web.Form) {
		f.Values["service_id"], f.Values["rate_per_minute"] = serviceID, typed
		for _, m := range methods {
			f.Checked[strings.ToUpper(m)] = true
		}
		v.GrantForm = *f
	})
}

func (h *Handlers) revokeGrantForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := h.s.Consumer(r.Context(), id); err != nil {
		return err
	}
	if err := h.s.Revoke(r.Context(), id, r.PathValue("service")); err != nil {
		return err
	}
	http.Redirect(w, r, consumerURL(id, "flash.gateway_grant_removed", "#grants"), http.StatusSeeOther)
	return nil
}

func (h *Handlers) addCertForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	text := r.PostFormValue("cert")
	_, err := h.s.AddCert(r.Context(), id, []byte(text))
	if err == nil {
		http.Redirect(w, r, consumerURL(id, "flash.gateway_cert_added", "#certs"), http.StatusSeeOther)
		return nil
	}
	return h.refuse(w, r, id, err, func(v *consumerView, f *web.Form) {
		f.Values["cert"] = text
		v.CertForm = *f
	})
}

func (h *Handlers) revokeCertForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	id, certID := r.PathValue("id"), r.PathValue("cert")
	certs, err := h.s.Certs(ctx, id)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(certs, func(c Cert) bool { return c.ID == certID }) {
		if _, err := h.s.Consumer(ctx, id); err != nil {
			return err
		}
		return apperr.New(apperr.NotFound, "exchange.cert_not_found")
	}
	if err := h.s.RevokeCert(ctx, certID); err != nil {
		return err
	}
	http.Redirect(w, r, consumerURL(id, "flash.gateway_cert_revoked", "#certs"), http.StatusSeeOther)
	return nil
}

// --- the consumers' API ---

type consumerJSON struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	OwnerAgencyID string `json:"owner_agency_id"`
	Status        Status `json:"status"`
	Version       int64  `json:"version"`
	CreatedAt     string `json:"created_at"`
	UpdatedAt     string `json:"updated_at"`
}

func toConsumerJSON(c Consumer) consumerJSON {
	return consumerJSON{ID: c.ID, Name: c.Name, OwnerAgencyID: c.OwnerAgencyID, Status: c.Status, Version: c.Version,
		CreatedAt: rfc3339(c.CreatedAt), UpdatedAt: rfc3339(c.UpdatedAt)}
}

type keyJSON struct {
	ID         string `json:"id"`
	ConsumerID string `json:"consumer_id"`
	Prefix     string `json:"prefix"`
	CreatedAt  string `json:"created_at"`
	ExpiresAt  string `json:"expires_at,omitempty"`
	RevokedAt  string `json:"revoked_at,omitempty"`
	Active     bool   `json:"active"`
	Key        string `json:"key,omitempty"` // the plaintext, only in the answer that issued it
}

func toKeyJSON(k Key, now time.Time) keyJSON {
	return keyJSON{ID: k.ID, ConsumerID: k.ConsumerID, Prefix: k.Prefix, CreatedAt: rfc3339(k.CreatedAt), ExpiresAt: rfc3339(k.ExpiresAt),
		RevokedAt: rfc3339(k.RevokedAt), Active: k.Active(now)}
}

type grantJSON struct {
	ConsumerID    string   `json:"consumer_id"`
	ServiceID     string   `json:"service_id"`
	ServiceCode   string   `json:"service_code,omitempty"`
	Methods       []string `json:"methods"`
	RatePerMinute int      `json:"rate_per_minute"`
}

type certJSON struct {
	ID          string `json:"id"`
	ConsumerID  string `json:"consumer_id"`
	Fingerprint string `json:"fingerprint_sha256"`
	Subject     string `json:"subject"`
	NotAfter    string `json:"not_after"`
	CreatedAt   string `json:"created_at"`
	Revoked     bool   `json:"revoked"`
}

func toCertJSON(c Cert) certJSON {
	return certJSON{ID: c.ID, ConsumerID: c.ConsumerID, Fingerprint: c.Fingerprint, Subject: c.Subject, NotAfter: rfc3339(c.NotAfter),
		CreatedAt: rfc3339(c.CreatedAt), Revoked: c.Revoked}
}

func (h *Handlers) apiConsumers(w http.ResponseWriter, r *http.Request) error {
	cs, err := h.s.Consumers(r.Context())
	if err != nil {
		return err
	}
	out := make([]consumerJSON, len(cs))
	for i, c := range cs {
		out[i] = toConsumerJSON(c)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"consumers": out})
}

func (h *Handlers) apiConsumer(w http.ResponseWriter, r *http.Request) error {
	v, err := h.consumerView(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	now := h.s.db.Now()
	keys := make([]keyJSON, len(v.Keys))
	for i, k := range v.Keys {
		keys[i] = toKeyJSON(k.Key, now)
	}
	grants := make([]grantJSON, len(v.Grants))
	for i, g := range v.Grants {
		grants[i] = grantJSON{ConsumerID: g.ConsumerID, ServiceID: g.ServiceID, ServiceCode: g.Service.Code, Methods: g.Methods,
			RatePerMinute: g.RatePerMinute}
	}
	certs := make([]certJSON, len(v.Certs))
	for i, c := range v.Certs {
		certs[i] = toCertJSON(c.Cert)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"consumer": toConsumerJSON(v.C), "keys": keys, "grants": grants, "certs": certs})
}

type consumerInputJSON struct {
	Name          string `json:"name"`
	OwnerAgencyID string `json:"owner_agency_id"`
}

func (h *Handlers) apiCreateConsumer(w http.ResponseWriter, r *http.Request) error {
	var in consumerInputJSON
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	c, err := h.s.CreateConsumer(r.Context(), ConsumerInput(in))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/gateway/consumers/"+c.ID)
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"consumer": toConsumerJSON(c)})
}

func (h *Handlers) apiUpdateConsumer(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		consumerInputJSON
		Status  string `json:"status"`
		Version *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it a save could silently overwrite another person's.
		return apperr.InvalidFields(map[string]string{"version": "exchange.version_required"})
	}
	ctx := r.Context()
	id := r.PathValue("id")
	cur, err := h.s.Consumer(ctx, id)
	if err != nil {
		return err
	}
	status := Status(in.Status)
	if status == "" {
		status = cur.Status // left out: unchanged
	}
	c, err := h.s.UpdateConsumer(ctx, id, ConsumerInput(in.consumerInputJSON), status, *in.Version)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"consumer": toConsumerJSON(c)})
}

// apiIssueKey issues a key, or rotates the consumer's keys when the body
// gives rotate_overlap_hours. The answer is the only one that holds the key.
func (h *Handlers) apiIssueKey(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RotateOverlapHours *int64 `json:"rotate_overlap_hours"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		// No body at all is a plain issue.
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Key != "error.json_empty" {
			return err
		}
	}
	ctx := r.Context()
	id := r.PathValue("id")
	var plain string
	var k Key
	var err error
	if in.RotateOverlapHours == nil {
		plain, k, err = h.s.IssueKey(ctx, id)
	} else {
		hours := *in.RotateOverlapHours
		if hours < 0 || hours > maxOverlapHours {
			return apperr.InvalidFields(map[string]string{"rotate_overlap_hours": "exchange.overlap_invalid"})
		}
		plain, k, err = h.s.RotateKey(ctx, id, time.Duration(hours)*time.Hour)
		err = renameField(err, "overlap", "rotate_overlap_hours")
	}
	if err != nil {
		return err
	}
	j := toKeyJSON(k, h.s.db.Now())
	j.Key = plain
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"key": j})
}

func (h *Handlers) apiRevokeKey(w http.ResponseWriter, r *http.Request) error {
	if err := h.s.RevokeKey(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiGrant(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Methods       []string `json:"methods"`
		RatePerMinute int      `json:"rate_per_minute"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	ctx := r.Context()
	g, err := h.s.Grant(ctx, r.PathValue("id"), r.PathValue("service"), in.Methods, in.RatePerMinute)
	if err != nil {
		return err
	}
	j := grantJSON{ConsumerID: g.ConsumerID, ServiceID: g.ServiceID, Methods: g.Methods, RatePerMinute: g.RatePerMinute}
	if d, err := h.s.ServiceByID(ctx, g.ServiceID); err == nil {
		j.ServiceCode = d.Code
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"grant": j})
}

func (h *Handlers) apiRevokeGrant(w http.ResponseWriter, r *http.Request) error {
	if err := h.s.Revoke(r.Context(), r.PathValue("id"), r.PathValue("service")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handlers) apiAddCert(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		PEM string `json:"pem"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	c, err := h.s.AddCert(r.Context(), r.PathValue("id"), []byte(in.PEM))
	if err != nil {
		return renameField(err, "cert", "pem")
	}
	return web.WriteJSON(w, http.StatusCreated, map[string]any{"cert": toCertJSON(c)})
}

func (h *Handlers) apiRevokeCert(w http.ResponseWriter, r *http.Request) error {
	if err := h.s.RevokeCert(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
