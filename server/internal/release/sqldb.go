package release

import (
	"context"
	"database/sql"
)

// sqlDB is the service's database: every query is written with ?
// placeholders and passed through rebind (Config.Rebind) on its way, so the
// same statements run on SQLite and PostgreSQL.
type sqlDB struct {
	*sql.DB
	rebind func(string) string
}

func (d sqlDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, d.rebind(query), args...)
}

func (d sqlDB) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, d.rebind(query), args...)
}

func (d sqlDB) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, d.rebind(query), args...)
}

func (d sqlDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (sqlTx, error) {
	tx, err := d.DB.BeginTx(ctx, opts)
	return sqlTx{tx, d.rebind}, err
}

// sqlTx is a transaction of sqlDB's, rebinding the same way.
type sqlTx struct {
	*sql.Tx
	rebind func(string) string
}

func (t sqlTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, t.rebind(query), args...)
}

func (t sqlTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, t.rebind(query), args...)
}

func (t sqlTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, t.rebind(query), args...)
}

func sameQuery(q string) string { return q }
