package merger

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// registerAssessment adds the routes of the assessment and the decisions.
func (h *Handlers) registerAssessment(rt *web.Router) {
	anyone := web.SignedIn
	rt.Handle("GET /mergers/{id}/compare/{category}", anyone, h.comparePage)
	rt.Handle("POST /mergers/{id}/weights", writers, h.weightsForm)
	rt.Handle("POST /systems/{id}/scores", writers, h.scoreForm)
	rt.Handle("POST /systems/{id}/decision", writers, h.decisionForm)

	rt.Handle("GET /api/v1/mergers/{id}/compare/{category}", anyone, h.apiCompare)
	rt.Handle("PUT /api/v1/mergers/{id}/weights", writers, h.apiWeights)
	rt.Handle("PUT /api/v1/systems/{id}/scores/{criterion}", writers, h.apiScore)
	rt.Handle("GET /api/v1/systems/{id}/decision", anyone, h.apiDecision)
	rt.Handle("PUT /api/v1/systems/{id}/decision", writers, h.apiDecide)
}

// comparePath is the side-by-side page of a merger's category.
func comparePath(mergerID string, c Category) string {
	return "/mergers/" + url.PathEscape(mergerID) + "/compare/" + url.PathEscape(string(c))
}

// pathCategory reads the category of a path; an unknown one is not a page.
func pathCategory(r *http.Request) (Category, error) {
	c := Category(r.PathValue("category"))
	if !c.Valid() {
		return c, apperr.New(apperr.NotFound, "merger.category_not_found")
	}
	return c, nil
}

// --- comparison ---

// missingLine names a candidate's criteria that have no score yet.
type missingLine struct {
	System   System
	Criteria []Criterion
}

type compareView struct {
	Merger      Merger
	Comparison  Comparison
	Criteria    []Criterion
	Points      []int
	Sources     map[string]string // old province code → name
	Recommended *Candidate
	Missing     []missingLine
	CanWrite    bool
	// A refused score form: whose, and what was typed.
	ScoreFor string
	Score    formState
	Weights  formState
}

func (h *Handlers) compareView(ctx context.Context, mergerID string, c Category) (compareView, error) {
	m, err := h.s.Merger(ctx, mergerID)
	if err != nil {
		return compareView{}, err
	}
	cmp, err := h.s.Compare(ctx, m.ID, c)
	if err != nil {
		return compareView{}, err
	}
	v := compareView{Merger: m, Comparison: cmp, Criteria: Criteria, Points: []int{1, 2, 3, 4, 5}, Sources: map[string]string{},
		CanWrite: mayWrite(ctx), Score: newForm(), Weights: newForm()}
	for _, s := range m.Sources {
		v.Sources[s.ProvinceCode] = s.Name
	}
	for i, cand := range cmp.Candidates {
		if cand.System.ID == cmp.Recommended {
			v.Recommended = &cmp.Candidates[i]
		}
		if len(cand.Missing) > 0 {
			v.Missing = append(v.Missing, missingLine{System: cand.System, Criteria: cand.Missing})
		}
	}
	for _, k := range Criteria {
		v.Weights.Values[string(k)] = strconv.Itoa(cmp.Weights[k])
	}
	return v, nil
}

func (h *Handlers) comparePage(w http.ResponseWriter, r *http.Request) error {
	c, err := pathCategory(r)
	if err != nil {
		return err
	}
	v, err := h.compareView(r.Context(), r.PathValue("id"), c)
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "compare", v)
}

func (h *Handlers) scoreForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	x, err := h.s.System(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"criterion", "score", "evidence"} {
		f.Values[k] = r.PostFormValue(k)
	}
	score, perr := strconv.Atoi(strings.TrimSpace(f.Values["score"]))
	if perr != nil {
		score = 0 // refused by the service with the other problems
	}
	err = h.s.SetScore(r.Context(), x.ID, Criterion(f.Values["criterion"]), score, f.Values["evidence"])
	if err == nil {
		http.Redirect(w, r, comparePath(x.MergerID, x.Category)+"?ok=flash.score_saved#cand-"+url.PathEscape(x.ID), http.StatusSeeOther)
		return nil
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.compareView(r.Context(), x.MergerID, x.Category)
	if err != nil {
		return err
	}
	v.ScoreFor, v.Score = x.ID, f
	return h.pages.RenderStatus(w, r, status, "compare", v)
}

// weightsOf reads the six weights of a form, naming those that do not read.
func weightsOf(v url.Values) (map[Criterion]int, map[string]string) {
	w, bad := map[Criterion]int{}, map[string]string{}
	for _, k := range Criteria {
		n, err := strconv.Atoi(strings.TrimSpace(v.Get(string(k))))
		if err != nil {
			bad[string(k)] = "merger.weight_invalid"
		}
		w[k] = n
	}
	return w, bad
}

func (h *Handlers) weightsForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	// The form is on a category's page; it goes back there.
	c := Category(r.PostFormValue("category"))
	back := "/mergers/" + url.PathEscape(m.ID)
	if c.Valid() {
		back = comparePath(m.ID, c)
	}
	weights, bad := weightsOf(r.PostForm)
	if len(bad) > 0 {
		err = apperr.InvalidFields(bad)
	} else if err = h.s.SetWeights(r.Context(), m.ID, weights); err == nil {
		http.Redirect(w, r, back+"?ok=flash.weights_saved", http.StatusSeeOther)
		return nil
	}
	if !c.Valid() {
		return err
	}
	f := newForm()
	for _, k := range Criteria {
		f.Values[string(k)] = r.PostFormValue(string(k))
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.compareView(r.Context(), m.ID, c)
	if err != nil {
		return err
	}
	v.Weights = f
	return h.pages.RenderStatus(w, r, status, "compare", v)
}

// --- decisions ---

// decisionOf returns the decision on a system and whether there is one.
func (h *Handlers) decisionOf(ctx context.Context, systemID string) (Decision, bool, error) {
	d, err := h.s.Decision(ctx, systemID)
	if apperr.Is(err, apperr.NotFound) {
		return Decision{}, false, nil
	}
	return d, err == nil, err
}

// decisionForm fills the decision form from a stored decision.
func decisionFormOf(d Decision, decided bool) formState {
	f := newForm()
	f.Values["version"] = "0"
	if decided {
		f.Values = map[string]string{"outcome": string(d.Outcome), "until": web.FormDay(d.Until), "doc_number": d.DocNumber,
			"doc_date": web.FormDay(d.DocDate), "signer": d.Signer, "rationale": d.Rationale, "version": strconv.FormatInt(d.Version, 10)}
	}
	return f
}

// decisionInput builds a decision from text fields, naming the dates that
// do not read.
func decisionInput(systemID, outcome, until, docNumber, docDate, signer, rationale string) (Decision, map[string]string) {
	d := Decision{SystemID: systemID, Outcome: Outcome(outcome), DocNumber: docNumber, Signer: signer, Rationale: rationale}
	bad := map[string]string{}
	var ok bool
	if d.Until, ok = web.ParseOptionalDate(until); !ok {
		bad["until"] = "error.date_invalid"
	}
	if d.DocDate, ok = web.ParseOptionalDate(docDate); !ok {
		bad["doc_date"] = "error.date_invalid"
	}
	return d, bad
}

func (h *Handlers) decisionForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseForm(r); err != nil {
		return err
	}
	id := r.PathValue("id")
	if _, err := h.s.System(r.Context(), id); err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"outcome", "until", "doc_number", "doc_date", "signer", "rationale", "version"} {
		f.Values[k] = r.PostFormValue(k)
	}
	version, _ := strconv.ParseInt(f.Values["version"], 10, 64)
	d, bad := decisionInput(id, f.Values["outcome"], f.Values["until"], f.Values["doc_number"], f.Values["doc_date"], f.Values["signer"], f.Values["rationale"])
	var err error
	if len(bad) > 0 {
		err = apperr.InvalidFields(bad)
	} else if _, err = h.s.Decide(r.Context(), d, version); err == nil {
		http.Redirect(w, r, "/systems/"+url.PathEscape(id)+"?ok=flash.decision_saved#decision", http.StatusSeeOther)
		return nil
	}
	status, err := f.Take(err)
	if err != nil {
		return err
	}
	v, err := h.systemView(r.Context(), id)
	if err != nil {
		return err
	}
	if status == http.StatusConflict {
		// What is stored now is on the page; the form keeps what was typed,
		// with the stored version, so saving again is a choice.
		f.Values["version"] = strconv.FormatInt(v.Decision.Version, 10)
		v.DecisionConflict = true
	}
	v.DecisionForm = f
	return h.pages.RenderStatus(w, r, status, "system", v)
}

// --- JSON ---

type scoreJSON struct {
	Score     int    `json:"score"`
	Evidence  string `json:"evidence"`
	ScoredBy  string `json:"scored_by"`
	UpdatedAt string `json:"updated_at"`
}

type candidateJSON struct {
	System  systemJSON           `json:"system"`
	Scores  map[string]scoreJSON `json:"scores"`
	Missing []Criterion          `json:"missing"`
	Total   float64              `json:"total"`
}

func (h *Handlers) apiCompare(w http.ResponseWriter, r *http.Request) error {
	c, err := pathCategory(r)
	if err != nil {
		return err
	}
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	cmp, err := h.s.Compare(r.Context(), m.ID, c)
	if err != nil {
		return err
	}
	weights := map[string]int{}
	for k, v := range cmp.Weights {
		weights[string(k)] = v
	}
	cands := []candidateJSON{}
	for _, cand := range cmp.Candidates {
		j := candidateJSON{System: systemToJSON(cand.System), Scores: map[string]scoreJSON{}, Missing: append([]Criterion{}, cand.Missing...),
			Total: cand.Total}
		for k, s := range cand.Scores {
			j.Scores[string(k)] = scoreJSON{Score: s.Score, Evidence: s.Evidence, ScoredBy: s.ScoredBy, UpdatedAt: s.UpdatedAt.UTC().Format(time.RFC3339)}
		}
		cands = append(cands, j)
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"category": c, "weights": weights, "candidates": cands,
		"recommended": cmp.Recommended, "tie": cmp.Tie, "incomplete": cmp.Incomplete})
}

func (h *Handlers) apiWeights(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Weights map[string]int `json:"weights"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	weights := map[Criterion]int{}
	for k, v := range in.Weights {
		weights[Criterion(k)] = v
	}
	id := r.PathValue("id")
	if err := h.s.SetWeights(r.Context(), id, weights); err != nil {
		return err
	}
	got, err := h.s.Weights(r.Context(), id)
	if err != nil {
		return err
	}
	out := map[string]int{}
	for k, v := range got {
		out[string(k)] = v
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"weights": out})
}

func (h *Handlers) apiScore(w http.ResponseWriter, r *http.Request) error {
	c := Criterion(r.PathValue("criterion"))
	if !slices.Contains(Criteria, c) {
		return apperr.New(apperr.NotFound, "merger.criterion_not_found")
	}
	var in struct {
		Score    int    `json:"score"`
		Evidence string `json:"evidence"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := h.s.SetScore(r.Context(), id, c, in.Score, in.Evidence); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"system_id": id, "criterion": c, "score": in.Score,
		"evidence": strings.TrimSpace(in.Evidence)})
}

type decisionJSON struct {
	SystemID  string  `json:"system_id"`
	Outcome   Outcome `json:"outcome"`
	Until     string  `json:"until,omitempty"`
	DocNumber string  `json:"doc_number"`
	DocDate   string  `json:"doc_date,omitempty"`
	Signer    string  `json:"signer"`
	Rationale string  `json:"rationale"`
	Version   int64   `json:"version"`
	DecidedBy string  `json:"decided_by"`
	DecidedAt string  `json:"decided_at"`
}

func decisionToJSON(d Decision) decisionJSON {
	return decisionJSON{SystemID: d.SystemID, Outcome: d.Outcome, Until: web.ISODay(d.Until), DocNumber: d.DocNumber, DocDate: web.ISODay(d.DocDate),
		Signer: d.Signer, Rationale: d.Rationale, Version: d.Version, DecidedBy: d.DecidedBy, DecidedAt: d.DecidedAt.UTC().Format(time.RFC3339)}
}

func (h *Handlers) apiDecision(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.s.System(r.Context(), id); err != nil {
		return err
	}
	d, decided, err := h.decisionOf(r.Context(), id)
	if err != nil {
		return err
	}
	hist, err := h.s.History(r.Context(), id)
	if err != nil {
		return err
	}
	out := map[string]any{"decision": nil, "history": []decisionJSON{}}
	if decided {
		out["decision"] = decisionToJSON(d)
	}
	list := make([]decisionJSON, len(hist))
	for i, x := range hist {
		list[i] = decisionToJSON(x)
	}
	out["history"] = list
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) apiDecide(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Outcome   string `json:"outcome"`
		Until     string `json:"until"`
		DocNumber string `json:"doc_number"`
		DocDate   string `json:"doc_date"`
		Signer    string `json:"signer"`
		Rationale string `json:"rationale"`
		Version   *int64 `json:"version"`
	}
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Version == nil {
		// Without it a change could silently overwrite another person's.
		return apperr.InvalidFields(map[string]string{"version": "merger.version_required"})
	}
	id := r.PathValue("id")
	d, bad := decisionInput(id, in.Outcome, in.Until, in.DocNumber, in.DocDate, in.Signer, in.Rationale)
	if len(bad) > 0 {
		return apperr.InvalidFields(bad)
	}
	d, err := h.s.Decide(r.Context(), d, *in.Version)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, map[string]any{"decision": decisionToJSON(d)})
}
