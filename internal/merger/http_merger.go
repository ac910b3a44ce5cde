package merger

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// registerMergerEdit adds the routes that change or remove a merger itself.
func (h *Handlers) registerMergerEdit(rt *web.Router) {
	rt.Handle("GET /mergers/{id}/edit", writers, h.editMergerPage)
	rt.Handle("POST /mergers/{id}", writers, h.updateMergerForm)
	rt.Handle("POST /mergers/{id}/delete", writers, h.deleteMergerForm)
	rt.Handle("PUT /api/v1/mergers/{id}", writers, h.apiUpdateMerger)
	rt.Handle("DELETE /api/v1/mergers/{id}", writers, h.apiDeleteMerger)
}

type mergerFormView struct {
	Merger Merger // as stored now
	Form   formState
	Stale  bool // another person saved meanwhile: show what is stored
	Empty  bool // nothing recorded yet, so it may be deleted
}

// mergerForm fills the merger form from a stored merger.
func mergerForm(m Merger) formState {
	f := newForm()
	lines := make([]string, len(m.Sources))
	for i, s := range m.Sources {
		lines[i] = s.ProvinceCode + " " + s.Name
	}
	f.Values = map[string]string{"name": m.Name, "province_code": m.ProvinceCode, "effective_on": web.FormDay(m.EffectiveOn),
		"sources": strings.Join(lines, "\n")}
	return f
}

func (h *Handlers) mergerFormView(ctx context.Context, id string, f *formState) (mergerFormView, error) {
	m, err := h.s.Merger(ctx, id)
	if err != nil {
		return mergerFormView{}, err
	}
	if f == nil {
		mf := mergerForm(m)
		f = &mf
	}
	xs, err := h.s.Systems(ctx, id, "")
	if err != nil {
		return mergerFormView{}, err
	}
	ts, err := h.s.Tasks(ctx, id)
	if err != nil {
		return mergerFormView{}, err
	}
	return mergerFormView{Merger: m, Form: *f, Empty: len(xs) == 0 && len(ts) == 0}, nil
}

func (h *Handlers) editMergerPage(w http.ResponseWriter, r *http.Request) error {
	v, err := h.mergerFormView(r.Context(), r.PathValue("id"), nil)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "merger_form", v)
}

func (h *Handlers) updateMergerForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	f := newForm()
	for _, k := range []string{"name", "province_code", "effective_on", "sources"} {
		f.Values[k] = r.PostFormValue(k)
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	in, err := mergerInputOf(f.Values["name"], f.Values["province_code"], f.Values["effective_on"], sourcesOf(f.Values["sources"]))
	if err == nil {
		if _, err = h.s.UpdateMerger(r.Context(), id, in, version); err == nil {
			http.Redirect(w, r, "/mergers/"+url.PathEscape(id)+"?ok=flash.merger_saved", http.StatusSeeOther)
			return nil
		}
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.mergerFormView(r.Context(), id, &f)
	if err != nil {
		return err
	}
	// What was typed stays in the form; a stale save shows what is stored
	// now beside it, and the next save is against the stored version.
	v.Stale = status == http.StatusConflict
	return h.pages.RenderStatus(w, r, status, "merger_form", v)
}

func (h *Handlers) deleteMergerForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	err := h.s.DeleteMerger(r.Context(), id, version)
	if err == nil {
		http.Redirect(w, r, "/mergers?ok=flash.merger_deleted", http.StatusSeeOther)
		return nil
	}
	if !apperr.Is(err, apperr.Conflict) {
		return err
	}
	v, verr := h.mergerFormView(r.Context(), id, nil)
	if verr != nil {
		return verr
	}
	if _, err := v.Form.Take(err); err != nil {
		return err
	}
	v.Stale = v.Form.Error == "merger.merger_stale"
	return h.pages.RenderStatus(w, r, http.StatusConflict, "merger_form", v)
}

func (h *Handlers) apiUpdateMerger(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		mergerInputJSON
		Version *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		return apperr.InvalidFields(map[string]string{"version": "merger.version_required"})
	}
	input, err := in.input()
	if err != nil {
		return err
	}
	m, err := h.s.UpdateMerger(r.Context(), r.PathValue("id"), input, *in.Version)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"merger": toJSON(m)})
}

func (h *Handlers) apiDeleteMerger(w http.ResponseWriter, r *http.Request) error {
	return apiDelete(w, r, h.s.DeleteMerger)
}
