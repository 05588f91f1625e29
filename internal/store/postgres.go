package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// postgresPoolSize is how many connections one process keeps: enough to
// overlap the commits of concurrent requests, few enough that several
// instances fit under PostgreSQL's default max_connections (100).
const postgresPoolSize = 16

// openPostgres opens a pool on a postgres:// URL whose connections accept
// the package's ? placeholders and return timestamps in UTC, as SQLite does.
// The connections carry the instance id as their application_name, which
// names the instance in pg_stat_activity and in its work notifications
// (listen.go).
func openPostgres(rawURL, instance string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err) // pgx hides the password
	}
	if instance != "" {
		cfg.RuntimeParams["application_name"] = instance
	}
	inner := stdlib.GetConnector(*cfg, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}))
	db := sql.OpenDB(rebindConnector{inner})
	db.SetMaxOpenConns(postgresPoolSize)
	db.SetMaxIdleConns(postgresPoolSize)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// rebindConnector hands out pgx connections that rebind every query, so
// the SQL of the package is written once for both databases.
type rebindConnector struct{ inner driver.Connector }

func (c rebindConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &rebindConn{conn.(*stdlib.Conn)}, nil
}

func (c rebindConnector) Driver() driver.Driver { return c.inner.Driver() }

// rebindConn is a pgx connection (every optional interface of it promoted)
// whose query entry points rebind.
type rebindConn struct{ *stdlib.Conn }

func (c *rebindConn) Prepare(query string) (driver.Stmt, error) {
	return c.Conn.Prepare(rebind(query))
}

func (c *rebindConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, rebind(query))
}

func (c *rebindConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, rebind(query), args)
}

func (c *rebindConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, rebind(query), args)
}
