package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrSchemaTooNew is returned when the database was migrated by a newer
// Contrail than this binary: running old code against it could write rows the
// new schema does not expect.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// MigrateResult says what Migrate did.
type MigrateResult struct {
	From, To uint32
	Applied  []string
}

// Migrate creates the database and applies every migration not yet recorded.
// It is idempotent: a second run applies nothing.
func Migrate(ctx context.Context, c *Conn, log *slog.Logger) (MigrateResult, error) {
	db := c.Database
	if err := c.Exec(ctx, "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		return MigrateResult{}, fmt.Errorf("create database %s: %w", db, err)
	}
	if err := c.Exec(ctx, render(migrationsTable, c.Dialect, db)); err != nil {
		return MigrateResult{}, fmt.Errorf("create %s.schema_migrations: %w", db, err)
	}
	cur, err := CurrentVersion(ctx, c)
	if err != nil {
		return MigrateResult{}, err
	}
	res := MigrateResult{From: cur, To: cur}
	if latest := LatestVersion(); cur > latest {
		return res, fmt.Errorf("%w: %s is at version %d, this contrail knows up to %d; upgrade contrail", ErrSchemaTooNew, db, cur, latest)
	}
	for _, m := range Migrations {
		if m.Version <= cur {
			continue
		}
		log.Info("applying ClickHouse migration", "migration", m.String(), "dialect", c.Dialect.String(), "database", db)
		for _, s := range m.Statements {
			stmt := render(s, c.Dialect, db)
			if stmt == "" {
				continue // not for this dialect
			}
			if err := c.Exec(ctx, stmt); err != nil {
				return res, fmt.Errorf("apply migration %s: %w", m, err)
			}
		}
		if err := recordMigration(ctx, c, m); err != nil {
			return res, err
		}
		res.Applied = append(res.Applied, m.String())
		res.To = m.Version
	}
	return res, nil
}

// CurrentVersion is the newest recorded migration, 0 on an empty database.
func CurrentVersion(ctx context.Context, c *Conn) (uint32, error) {
	var v uint32
	row := c.QueryRow(ctx, "SELECT toUInt32(max(version)) FROM "+c.Database+".schema_migrations")
	if err := row.Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version of %s: %w", c.Database, err)
	}
	return v, nil
}

// recordMigration inserts the bookkeeping row with a batch: ClickHouse 18.16
// never answers a plain INSERT ... VALUES sent through clickhouse-go's Exec.
func recordMigration(ctx context.Context, c *Conn, m Migration) error {
	b, err := c.PrepareBatch(ctx, "INSERT INTO "+c.Database+".schema_migrations (version, name, dialect, applied_at)")
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m, err)
	}
	defer b.Close()
	if err := b.Append(m.Version, m.Name, c.Dialect.String(), time.Now().UTC().Truncate(time.Second)); err != nil {
		return fmt.Errorf("record migration %s: %w", m, err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record migration %s: %w", m, err)
	}
	return nil
}

// FeedFreshness says how current raw_events is for one feed.
type FeedFreshness struct {
	Feed           string    `json:"feed"`
	Events         uint64    `json:"events"`          // distinct event ids (rows after deduplication)
	LatestIngest   time.Time `json:"latest_ingest"`   // newest ingest time visible in ClickHouse
	LatestProducer time.Time `json:"latest_producer"` // newest producer time visible in ClickHouse
}

// Freshness reads, per feed, the newest record visible in raw_events. The
// age of LatestIngest is how stale the view is from an analyst's side.
func Freshness(ctx context.Context, c *Conn) ([]FeedFreshness, error) {
	rows, err := c.Query(ctx, "SELECT feed, uniqExact(event_id), max(ingest_ts), max(producer_ts) FROM "+c.Database+".raw_events GROUP BY feed ORDER BY feed")
	if err != nil {
		return nil, fmt.Errorf("read freshness from %s.raw_events: %w", c.Database, err)
	}
	defer rows.Close()
	var out []FeedFreshness
	for rows.Next() {
		var f FeedFreshness
		if err := rows.Scan(&f.Feed, &f.Events, &f.LatestIngest, &f.LatestProducer); err != nil {
			return nil, fmt.Errorf("read freshness row: %w", err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}
