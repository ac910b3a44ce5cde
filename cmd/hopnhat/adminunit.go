package main

import (
	"context"
	"os"

	"hopnhat/internal/adminunit"
	"hopnhat/internal/adminunit/refdata"
	"hopnhat/internal/platform/apperr"
)

// addressIndex returns the index the address commands convert with.
// TODO(issue 4): prefer the register imported into the database, with the
// officers' street rules; the official lists' directory is the fallback.
func addressIndex(ctx context.Context, cfg *config) (*adminunit.Index, error) {
	_ = ctx
	if cfg.AdminUnitsDir == "" {
		return nil, apperr.New(apperr.Unavailable, "adminunit.not_imported")
	}
	reg, _, err := refdata.Load(os.DirFS(cfg.AdminUnitsDir))
	if err != nil {
		return nil, err
	}
	return adminunit.NewIndex(reg)
}
