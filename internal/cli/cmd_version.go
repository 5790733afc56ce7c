package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is stamped at build time: -ldflags "-X github.com/contrail-atm/contrail/internal/cli.version=v0.1.0".
var version = "dev"

// Version is the stamped version, with the VCS revision when the build has one.
func Version() string {
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}

func versionCmd(_ context.Context, env Env, args []string) error {
	var o obsSettings
	fs := newFlagSet("version", "Usage: contrail version\n\nPrints the version of this binary.", env, &o)
	if err := parse(fs, env, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "contrail %s %s %s/%s\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
