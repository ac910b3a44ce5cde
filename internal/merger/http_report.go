package merger

import (
	"net/http"

	"hopnhat/internal/platform/web"
)

// reportPage is the printable weekly report.
func (h *Handlers) reportPage(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.s.WeeklyReport(r.Context(), r.PathValue("id"), h.s.db.Now())
	if err != nil {
		return err
	}
	return h.pages.Render(w, r, "report", rep)
}

// reportXLSX downloads the weekly report as a workbook, in the reader's language.
func (h *Handlers) reportXLSX(w http.ResponseWriter, r *http.Request) error {
	rep, err := h.s.WeeklyReport(r.Context(), r.PathValue("id"), h.s.db.Now())
	if err != nil {
		return err
	}
	l := h.ui.Catalog.For(web.LangOf(r))
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="bao-cao-tuan.xlsx"`)
	w.Header().Set("Cache-Control", "no-store")
	return WriteReport(w, rep, l.T)
}
