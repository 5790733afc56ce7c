package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/contrail-atm/contrail/internal/cli"
	"github.com/contrail-atm/contrail/internal/infratest"
)

func TestSchemaRegistrySetting(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "contrail.raw.sbs", "contrail.rejected"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	input := filepath.Join(t.TempDir(), "in.sbs")
	if err := os.WriteFile(input, []byte(strings.Join(infratest.SBSLines(3), "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := []string{"ingest", "file", "--feed", "sbs", "--listen", "127.0.0.1:0", "--brokers", strings.Join(c.ListenAddrs(), ",")}

	t.Run("not a URL", func(t *testing.T) {
		r := runMain(t, nil, append(base, "--schema-registry", "registry:8081", input)...)
		if r.code != cli.ExitConfig || !strings.Contains(r.stderr, "schema-registry") || !strings.Contains(r.stderr, "http://") {
			t.Fatalf("exit %d, stderr %q; want exit 2 naming the setting and the URL form", r.code, r.stderr)
		}
	})
	t.Run("unreachable registry", func(t *testing.T) {
		// Nothing listens on port 1: the first record's schema cannot be
		// registered, so the ingest fails with the registry named rather
		// than writing records no reader could resolve.
		r := runMain(t, nil, append(base, "--schema-registry", "http://127.0.0.1:1", "--connect-timeout", "2s", input)...)
		if r.code != cli.ExitFail || !strings.Contains(r.stderr, "127.0.0.1:1") {
			t.Fatalf("exit %d, stderr %q; want exit 1 naming the registry", r.code, r.stderr)
		}
	})
	t.Run("no registry: single-object", func(t *testing.T) {
		r := runMain(t, nil, append(base, input)...)
		if r.code != cli.ExitOK || !strings.Contains(r.stdout, "read 3, accepted 3, rejected 0") {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
	})
}
