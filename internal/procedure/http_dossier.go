package procedure

import "hopnhat/internal/platform/web"

// registerDossiers adds the dossiers', tracking's and statistics' routes.
func (h *Handlers) registerDossiers(rt *web.Router) {}
