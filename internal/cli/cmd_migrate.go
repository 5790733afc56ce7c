package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/contrail-atm/contrail/sinks/clickhouse"
)

const migrateSynopsis = `Usage: contrail migrate [flags]

Creates the ClickHouse database and tables, or upgrades them, recording each
applied step in <database>.schema_migrations. Running it again changes
nothing; it refuses a database migrated by a newer contrail. The DDL is chosen
by server version (legacy for 18.x-20.x, modern for 21.x and later).
With --print it prints the DDL of --dialect without connecting.`

func migrateCmd(ctx context.Context, env Env, args []string) error {
	var (
		o       obsSettings
		c       chSettings
		k       kafkaSettings
		print   bool
		dialect = "legacy"
	)
	fs := newFlagSet("migrate", migrateSynopsis, env, &o)
	c.add(fs, "127.0.0.1:9000")
	fs.BoolVar(&print, "print", false, "print the DDL instead of applying it")
	fs.Var(choiceValue{&dialect, []string{"legacy", "modern"}}, "dialect", "DDL dialect printed by --print")
	timeout := &k.timeout
	k.timeout = 10e9
	fs.Var(durationValue{timeout}, "connect-timeout", "how long to wait for ClickHouse")
	if err := parse(fs, env, args); err != nil {
		return err
	}
	if print {
		d := clickhouse.Legacy
		if dialect == "modern" {
			d = clickhouse.Modern
		}
		fmt.Fprintln(env.Stdout, strings.Join(clickhouse.DDL(d, c.database), ";\n\n")+";")
		return nil
	}
	log, err := o.logger(env)
	if err != nil {
		return err
	}
	conn, err := c.open(ctx, env, *timeout, log)
	if err != nil {
		return err
	}
	defer conn.Close()
	res, err := clickhouse.Migrate(ctx, conn, log)
	if err != nil {
		return err
	}
	if len(res.Applied) == 0 {
		fmt.Fprintf(env.Stdout, "ClickHouse %s (%s DDL): database %s is up to date at version %d\n", conn.Version, conn.Dialect, conn.Database, res.To)
		return nil
	}
	fmt.Fprintf(env.Stdout, "ClickHouse %s (%s DDL): database %s migrated from version %d to %d (%s)\n",
		conn.Version, conn.Dialect, conn.Database, res.From, res.To, strings.Join(res.Applied, ", "))
	return nil
}
