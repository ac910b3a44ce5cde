//go:build !unix

package db

// lockFile is a no-op where flock is not available; run one migrating
// process at a time there.
func lockFile(string) (func(), error) { return func() {}, nil }

var errLocked error

func holdInUse(string) (func(), error) { return func() {}, nil }

func exclusiveIfUnused(string) (func(), error) { return func() {}, nil }
