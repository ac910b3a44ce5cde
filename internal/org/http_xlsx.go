package org

import (
	"errors"
	"net/http"
	"strconv"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/web"
)

// ImportBodyLimit bounds an uploaded agency workbook.
const ImportBodyLimit = 8 << 20

// LargerBodies lists the paths whose bodies may exceed the default limit.
func LargerBodies() map[string]int64 {
	return map[string]int64{"/agencies/import": ImportBodyLimit}
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// exportXLSX downloads the register as a workbook, which is also the
// import's template.
func (h *Handlers) exportXLSX(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", `attachment; filename="co-quan.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	return h.s.Export(r.Context(), w)
}

type importView struct {
	Problems []Problem
	Err      *apperr.Error
}

func (h *Handlers) importPage(w http.ResponseWriter, r *http.Request) error {
	return h.pages.Render(w, r, "import", importView{})
}

// importForm applies an uploaded workbook, or lists every problem in it.
func (h *Handlers) importForm(w http.ResponseWriter, r *http.Request) error {
	if err := web.ParseMultipartForm(r, 4<<20); err != nil {
		return err
	}
	defer r.MultipartForm.RemoveAll()
	f, _, err := r.FormFile("file")
	if err != nil {
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "import",
			importView{Err: apperr.New(apperr.Invalid, "org.import.no_file")})
	}
	defer f.Close()
	res, err := h.s.Import(r.Context(), f)
	var ie *ImportError
	var ae *apperr.Error
	switch {
	case errors.As(err, &ie):
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "import", importView{Problems: ie.Problems})
	case errors.As(err, &ae) && ae.Kind == apperr.Invalid:
		return h.pages.RenderStatus(w, r, http.StatusUnprocessableEntity, "import", importView{Err: ae})
	case err != nil:
		return err
	}
	http.Redirect(w, r, "/agencies?ok=flash.agencies_imported&created="+strconv.Itoa(res.Created)+"&updated="+strconv.Itoa(res.Updated), http.StatusSeeOther)
	return nil
}
