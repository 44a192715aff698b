package e2e

import (
	"os"
	"path/filepath"
)

// filepathGlob lists everything under dir.
func filepathGlob(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && path != dir {
			out = append(out, path)
		}
		return err
	})
	return out, err
}
