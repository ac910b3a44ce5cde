package procedure

import (
	"context"

	"hopnhat/internal/platform/apperr"
	"hopnhat/internal/platform/reqctx"
)

// receiveAgency is the agency a dossier for p received by the caller goes to
// when the receiver names none: the caller's own agency when scoped to one;
// for a commune-level procedure received at a ward's desk, that ward's
// people's committee; otherwise "" (the procedure's agency, Receive's
// default).
func (s *Service) receiveAgency(ctx context.Context, p Procedure) (string, error) {
	pr := reqctx.PrincipalOf(ctx)
	if pr == nil {
		return "", nil
	}
	switch pr.Scope.Kind {
	case reqctx.ScopeAgency:
		a, err := s.agencies.ByCode(ctx, pr.Scope.Code)
		if apperr.Is(err, apperr.NotFound) {
			return "", nil
		}
		return a.ID, err
	case reqctx.ScopeWard:
		if p.Level != LevelCommune {
			return "", nil
		}
		list, err := s.agencies.Current(ctx)
		if err != nil {
			return "", err
		}
		found := ""
		for _, a := range list {
			if a.WardCode == pr.Scope.Code {
				if found != "" {
					return "", nil // two committees for one ward: let the officer pick
				}
				found = a.ID
			}
		}
		return found, nil
	}
	return "", nil
}

// dossierNames names agencies, wards and procedures for one page, asking the
// registers once per id.
type dossierNames struct {
	s          *Service
	ctx        context.Context
	agencies   map[string]string
	wards      map[string]string
	procedures map[string]string
	misses     int  // procedures looked up one by one
	catalogue  bool // the catalogue's names are loaded
}

func newDossierNames(ctx context.Context, s *Service) *dossierNames {
	return &dossierNames{s: s, ctx: ctx, agencies: map[string]string{}, wards: map[string]string{}, procedures: map[string]string{}}
}

// agency names an agency, or gives its id when the register does not know it.
func (n *dossierNames) agency(id string) string {
	if id == "" {
		return ""
	}
	if v, ok := n.agencies[id]; ok {
		return v
	}
	v := n.s.AgencyName(n.ctx, id)
	n.agencies[id] = v
	return v
}

// ward names a current ward, or gives its code.
func (n *dossierNames) ward(code string) string {
	if code == "" {
		return ""
	}
	if v, ok := n.wards[code]; ok {
		return v
	}
	v := n.s.WardName(n.ctx, code)
	n.wards[code] = v
	return v
}

// procedure names a procedure, or gives its id when it is gone.
func (n *dossierNames) procedure(id string) string {
	if id == "" {
		return ""
	}
	if v, ok := n.procedures[id]; ok {
		return v
	}
	// A list names many procedures: from the second, the catalogue is read
	// once, in one query, rather than one procedure at a time.
	if n.misses++; n.misses > 1 && !n.catalogue {
		n.catalogue = true
		if ps, err := n.s.Procedures(n.ctx, ProcedureFilter{Limit: 5000}); err == nil {
			for _, p := range ps {
				n.procedures[p.ID] = p.Name
			}
			if v, ok := n.procedures[id]; ok {
				return v
			}
		}
	}
	v := id
	if p, err := n.s.Procedure(n.ctx, id); err == nil {
		v = p.Name
	}
	n.procedures[id] = v
	return v
}

// backlogTotal counts the open dossiers in the caller's scope.
func (s *Service) backlogTotal(ctx context.Context) (Backlog, error) {
	bs, err := s.Backlogs(ctx, "")
	if err != nil || len(bs) == 0 {
		return Backlog{}, err
	}
	return bs[0], nil
}
