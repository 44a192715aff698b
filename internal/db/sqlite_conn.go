package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
)

// SQLite compiles every statement it is given, and for the short inserts, updates and lookups
// Commons runs most, compiling costs about as much as running. So each SQLite connection keeps
// the statements it has compiled, by their text, and runs a statement it has seen before
// without compiling it again: Commons' own queries and River's alike, on both pools, with no
// change to how they are written. A statement still in use (its rows not yet closed) is not
// shared: a second use of the same text meanwhile compiles a statement of its own.

// maxCachedStatements bounds each connection's statements; past it, the least recently used
// one is released.
const maxCachedStatements = 256

// openSQLite opens a pool of SQLite connections that keep their compiled statements.
func openSQLite(dsn string) (*sql.DB, error) {
	plain, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	drv := plain.Driver()
	plain.Close()
	return sql.OpenDB(sqliteConnector{dsn: dsn, drv: drv}), nil
}

type sqliteConnector struct {
	dsn string
	drv driver.Driver
}

func (c sqliteConnector) Connect(context.Context) (driver.Conn, error) {
	cn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := cn.(sqliteDriverConn)
	if !ok {
		cn.Close()
		return nil, fmt.Errorf("open database: the sqlite driver's connection (%T) lacks a method Commons needs", cn)
	}
	return &sqliteConn{sqliteDriverConn: sc, stmts: map[string]*cachedStmt{}}, nil
}

func (c sqliteConnector) Driver() driver.Driver { return c.drv }

// sqliteDriverConn is what the driver's connection offers, all of which sqliteConn passes on.
type sqliteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteConn is a driver connection that keeps its compiled statements. database/sql never
// calls one connection from two goroutines at once (rows included), so it needs no lock.
type sqliteConn struct {
	sqliteDriverConn
	stmts map[string]*cachedStmt
	uses  uint64
}

type cachedStmt struct {
	stmt     driver.Stmt
	busy     bool   // its rows are open
	lastUsed uint64 // for eviction
	dropped  bool   // evicted while busy: close when the rows are
}

// statement returns a compiled statement for query, and whether it is the connection's own
// (to keep) or a one-off (to close after use).
func (c *sqliteConn) statement(ctx context.Context, query string) (*cachedStmt, bool, error) {
	c.uses++
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			st, err := c.PrepareContext(ctx, query)
			return &cachedStmt{stmt: st}, false, err
		}
		cs.lastUsed = c.uses
		return cs, true, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, false, err
	}
	if len(c.stmts) >= maxCachedStatements {
		c.evict()
	}
	cs := &cachedStmt{stmt: st, lastUsed: c.uses}
	c.stmts[query] = cs
	return cs, true, nil
}

// evict releases the least recently used statement.
func (c *sqliteConn) evict() {
	var oldest string
	var at uint64
	for q, cs := range c.stmts {
		if oldest == "" || cs.lastUsed < at {
			oldest, at = q, cs.lastUsed
		}
	}
	cs := c.stmts[oldest]
	delete(c.stmts, oldest)
	if cs.busy {
		cs.dropped = true
		return
	}
	cs.stmt.Close()
}

// forget releases a kept statement after an error, so that the next use compiles afresh.
func (c *sqliteConn) forget(query string, cs *cachedStmt) {
	if c.stmts[query] == cs {
		delete(c.stmts, query)
	}
	cs.stmt.Close()
}

func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, kept, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := cs.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	switch {
	case !kept:
		cs.stmt.Close()
	case err != nil:
		c.forget(query, cs)
	}
	return res, err
}

func (c *sqliteConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, kept, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := cs.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		if kept {
			c.forget(query, cs)
		} else {
			cs.stmt.Close()
		}
		return nil, err
	}
	cs.busy = true
	return &sqliteRows{Rows: rows, release: func() {
		cs.busy = false
		if !kept || cs.dropped {
			cs.stmt.Close()
		}
	}}, nil
}

// Close releases every kept statement, then the connection.
func (c *sqliteConn) Close() error {
	var errs []error
	for q, cs := range c.stmts {
		if !cs.busy {
			errs = append(errs, cs.stmt.Close())
		}
		delete(c.stmts, q)
	}
	errs = append(errs, c.sqliteDriverConn.Close())
	return errors.Join(errs...)
}

// sqliteRows hands its statement back when closed, and passes on the column type methods the
// driver's rows offer.
type sqliteRows struct {
	driver.Rows
	release func()
}

func (r *sqliteRows) Close() error {
	err := r.Rows.Close()
	if r.release != nil {
		r.release()
		r.release = nil
	}
	return err
}

func (r *sqliteRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *sqliteRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *sqliteRows) ColumnTypeNullable(i int) (bool, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *sqliteRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *sqliteRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
