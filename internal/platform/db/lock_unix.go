//go:build unix

package db

import (
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path (created if needed) and
// returns its release. Two processes migrating one SQLite file take turns.
func lockFile(path string) (func(), error) {
	return flock(path, syscall.LOCK_EX)
}

// errLocked is returned by a non-blocking lock someone else holds.
var errLocked = fmt.Errorf("locked by another process")

func flock(path string, how int) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, errLocked
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// holdInUse marks the database at path as in use by a long-running process
// (serve) until release; several may hold it at once.
func holdInUse(path string) (func(), error) { return flock(path+".in-use", syscall.LOCK_SH) }

// exclusiveIfUnused takes the in-use mark exclusively, or fails at once with
// errLocked when a server holds it.
func exclusiveIfUnused(path string) (func(), error) {
	return flock(path+".in-use", syscall.LOCK_EX|syscall.LOCK_NB)
}
