package merger

import (
	"errors"
	"net/http"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
	"hopnhat/internal/platform/workbook"
)

// workbookXLSX downloads a merger's inventory and roadmap; for an empty
// merger it is the template to fill in.
func (h *Handlers) workbookXLSX(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if _, err := h.s.Merger(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="he-thong-va-lo-trinh.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	return h.s.ExportWorkbook(r.Context(), id, w)
}

type importView struct {
	Merger   Merger
	Problems []workbook.Problem
	Err      *apperr.Error
}

func (h *Handlers) importPage(w http.ResponseWriter, r *http.Request) error {
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "import", importView{Merger: m})
}

// importForm applies an uploaded workbook, or lists every problem in it.
func (h *Handlers) importForm(w http.ResponseWriter, r *http.Request) error {
	m, err := h.s.Merger(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := web.ParseMultipartForm(r, 4<<20); err != nil {
		return err
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("file")
	if err != nil {
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "import",
			importView{Merger: m, Err: apperr.New(apperr.Invalid, "merger.import.no_file")})
	}
	defer f.Close()
	_, err = h.s.ImportWorkbook(r.Context(), m.ID, f)
	var we *workbook.Error
	var ae *apperr.Error
	switch {
	case errors.As(err, &we):
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "import", importView{Merger: m, Problems: we.Problems})
	case errors.As(err, &ae) && ae.Kind == apperr.Invalid:
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "import", importView{Merger: m, Err: ae})
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/mergers/"+m.ID+"?ok=flash.merger_imported", http.StatusSeeOther)
	return nil
}
