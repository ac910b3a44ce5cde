package procedure

import "hopnhat/internal/platform/web"

// registerCatalogue adds the catalogue's, the calendar's and the
// reassignment's routes.
func (h *Handlers) registerCatalogue(rt *web.Router) {}
