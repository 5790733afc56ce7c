// Command contrail runs the Contrail pipeline's stages. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/contrail-atm/contrail/internal/cli"
)

// defaultGCPercent trades memory for throughput: the stages allocate a
// short-lived envelope per record, and at Go's default of 100 the collector
// took about a fifth of the ingest CPU (docs/BENCHMARKS.md). GOGC in the
// environment still wins.
const defaultGCPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}
