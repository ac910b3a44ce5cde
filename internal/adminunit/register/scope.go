package register

import (
	"context"
	"errors"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/platform/reqctx"
)

// CheckScope checks a ward scope's code against the current wards: an account
// scoped to a ward must name one that exists today. Until the register is
// imported any code is accepted (and checked once it is); other scope kinds
// belong to other registers.
func (s *Service) CheckScope(ctx context.Context, sc reqctx.Scope) string {
	if sc.Kind != reqctx.ScopeWard {
		return ""
	}
	idx, err := s.Index(ctx)
	if err != nil {
		if !errors.Is(err, ErrNotImported) {
			s.log.WarnContext(ctx, "ward scope not checked", "err", err)
		}
		return ""
	}
	if _, ok := idx.Unit(adminunit.LevelWard, sc.Code); !ok {
		return "adminunit.scope_unknown_ward"
	}
	return ""
}

// ScopeName names a ward scope's ward; "" for other kinds or unknown codes.
func (s *Service) ScopeName(ctx context.Context, sc reqctx.Scope) string {
	if sc.Kind != reqctx.ScopeWard {
		return ""
	}
	idx, err := s.Index(ctx)
	if err != nil {
		return ""
	}
	if u, ok := idx.Unit(adminunit.LevelWard, sc.Code); ok {
		if p, ok := idx.Unit(adminunit.LevelProvince, u.ProvinceCode); ok {
			return u.Name + ", " + p.Name
		}
		return u.Name
	}
	return ""
}
