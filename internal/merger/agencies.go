package merger

import (
	"context"
	"slices"
	"strings"

	"hopnhat/internal/platform/fold"
)

// AgencyRef names an agency of the agency register.
type AgencyRef struct {
	ID   string
	Name string
}

// Agencies is the agency register as the workspace sees it: the agencies
// of the merged province that can lead a roadmap task. The workspace keeps
// an agency's id on its tasks and asks this for names; it does not own the
// agencies.
type Agencies interface {
	Owners(ctx context.Context, provinceCode string) ([]AgencyRef, error)
}

// UseAgencies connects the workspace to the agency register. Once the
// register has agencies of the merged province, a task's owner agency must
// be one of them, given by id or, in a workbook, by name; before that (or
// with no register) it is free text.
func (s *Service) UseAgencies(a Agencies) { s.agencies = a }

// owners lists the agencies that may lead the tasks of a merger's province,
// nil when the workspace has no register.
func (s *Service) owners(ctx context.Context, provinceCode string) ([]AgencyRef, error) {
	if s.agencies == nil {
		return nil, nil
	}
	return s.agencies.Owners(ctx, provinceCode)
}

// Owners lists the agencies that may lead a merger's tasks, by name.
func (s *Service) Owners(ctx context.Context, m Merger) ([]AgencyRef, error) {
	return s.owners(ctx, m.ProvinceCode)
}

// matchOwner turns what was given for a task's owner agency (an id, or an
// agency's name in any case and with or without diacritics) into the
// agency's id. It reports false for an agency the register does not have.
// With no register every value stands.
func matchOwner(owners []AgencyRef, known bool, given string) (string, bool) {
	given = strings.TrimSpace(given)
	if given == "" || !known {
		return given, true
	}
	if i := slices.IndexFunc(owners, func(a AgencyRef) bool { return a.ID == given }); i >= 0 {
		return owners[i].ID, true
	}
	key := fold.String(given)
	if i := slices.IndexFunc(owners, func(a AgencyRef) bool { return fold.String(a.Name) == key }); i >= 0 {
		return owners[i].ID, true
	}
	return given, false
}

// ownerNames maps agency ids to names for the pages and the report.
func ownerNames(owners []AgencyRef) map[string]string {
	m := make(map[string]string, len(owners))
	for _, a := range owners {
		m[a.ID] = a.Name
	}
	return m
}

// resolveOwner resolves a task's owner agency against the register of its
// merger's province before a save, reporting an agency it does not have.
func (s *Service) resolveOwner(ctx context.Context, mergerID string, t *Task) (unknown bool, err error) {
	m, err := s.Merger(ctx, mergerID)
	if err != nil {
		return false, err
	}
	owners, err := s.owners(ctx, m.ProvinceCode)
	if err != nil {
		return false, err
	}
	var ok bool
	t.OwnerAgency, ok = matchOwner(owners, len(owners) > 0, t.OwnerAgency)
	return !ok, nil
}
