package exchange

import "hopnhat/internal/platform/web"

type Handlers struct{ s *Service }

func NewHandlers(s *Service, ui *web.UI) (*Handlers, error) { return &Handlers{s: s}, nil }
func (h *Handlers) Register(rt *web.Router)                 {}
