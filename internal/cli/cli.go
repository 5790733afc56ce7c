// Package cli implements the contrail command: one binary whose subcommands
// run the pipeline's stages together (run) or apart (ingest, sink), provision
// topics and ClickHouse tables, and print the version. cmd/contrail only wires
// it to the process.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Env is the outside world a command sees; tests substitute every part.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

type command struct {
	name, summary string
	run           func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"run", "run every stage in one process (embedded broker unless --brokers)", runCmd},
		{"ingest", "read a feed from a source into its raw Kafka topic", ingestCmd},
		{"process", "run the track and flight steps (Kafka transactions, GUFIs, invariants)", processCmd},
		{"sink", "write the raw, rejected, event, state and outcome topics into ClickHouse", sinkCmd},
		{"topics", "create or check the Kafka topics (idempotent)", topicsCmd},
		{"migrate", "create or upgrade the ClickHouse tables (idempotent)", migrateCmd},
		{"replay", "re-derive events and state from the raw log into a new topic prefix (--reprocess)", replayCmd},
		{"state", "rebuild one flight's state at a time from the domain-event log (--gufi, --at; --callsign lists GUFIs)", stateCmd},
		{"status", "print each stage's lag (processors, sink) and the views' freshness (--wait until caught up)", statusCmd},
		{"simulate", "write deterministic synthetic traffic and its ground truth to files", simulateCmd},
		{"version", "print the version", versionCmd},
	}
}

// Exit statuses.
const (
	ExitOK     = 0
	ExitFail   = 1 // the work failed
	ExitConfig = 2 // the configuration cannot work; nothing was done
)

// Main runs the command line args (without the program name) and returns the
// process exit status. Errors are printed as one line on env.Stderr.
func Main(ctx context.Context, env Env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		topUsage(env.Stdout)
		if len(args) == 0 {
			return ExitConfig
		}
		return ExitOK
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, env, args[1:])
		switch {
		case err == nil:
			return ExitOK
		case errors.Is(err, flag.ErrHelp):
			return ExitOK
		case ctx.Err() != nil && errors.Is(err, context.Canceled):
			// SIGTERM during start-up is a normal stop, not a failure.
			fmt.Fprintf(env.Stderr, "contrail %s: stopped before start-up finished\n", c.name)
			return ExitOK
		}
		fmt.Fprintf(env.Stderr, "contrail %s: %s\n", c.name, oneLine(err.Error()))
		var ce *ConfigError
		if errors.As(err, &ce) {
			return ExitConfig
		}
		return ExitFail
	}
	fmt.Fprintf(env.Stderr, "contrail: unknown command %q; commands are %s (see 'contrail --help')\n", args[0], strings.Join(names(), ", "))
	return ExitConfig
}

func names() []string {
	var n []string
	for _, c := range commands() {
		n = append(n, c.name)
	}
	sort.Strings(n)
	return n
}

func topUsage(w io.Writer) {
	fmt.Fprintln(w, "contrail turns air-traffic feeds into an event-sourced flight picture on Kafka and SQL views in ClickHouse.")
	fmt.Fprintln(w, "\nUsage: contrail <command> [flags]\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nEvery setting is a flag, a CONTRAIL_* environment variable or a key of the YAML file named by --config.")
	fmt.Fprintln(w, "Run 'contrail <command> --help' for a command's settings and defaults.")
}

// oneLine keeps an error on one line: operators grep logs line by line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
