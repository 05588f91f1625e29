//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly || windows)

package certs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// lockFile uses exclusive creation of path as a lock on platforms without
// flock. Unlike flock it survives a crash: remove path by hand if a dead
// process left it behind.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%s exists: another process is creating the development chain (remove the file if none is)", path)
	}
	if err != nil {
		return nil, err
	}
	f.Close()
	return func() { os.Remove(path) }, nil
}
