// Command contrail runs the Contrail pipeline's stages. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/contrail-atm/contrail/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}
