package db

import (
	"database/sql"
	"errors"
	"io/fs"
)

// SubFS returns the named folder of an embedded file system, for a platform's Migrations.
// It panics on a bad name, which only a typo in the source can cause.
func SubFS(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// IsNoRows reports whether err means a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
