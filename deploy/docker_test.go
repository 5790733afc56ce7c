package deploy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	op, args string
	stage    int // index of the FROM it belongs to
}

func parseDockerfile(data []byte) []instruction {
	var out []instruction
	var cur strings.Builder
	stage := -1
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		op, args, _ := strings.Cut(line, " ")
		op = strings.ToUpper(op)
		if op == "FROM" {
			stage++
		}
		out = append(out, instruction{op: op, args: strings.TrimSpace(args), stage: stage})
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		l := sc.Text()
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") {
			continue
		}
		if s, ok := strings.CutSuffix(strings.TrimRight(l, " \t"), "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(l)
		flush()
	}
	flush()
	return out
}

// shellWords splits a shell command line: whitespace outside quotes
// separates words; quotes group.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteByte(c)
		case c == '"' || c == '\'':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words = append(words, w.String())
				w.Reset()
				in = false
			}
		default:
			w.WriteByte(c)
			in = true
		}
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// goBuild is the `go build` of the Dockerfile's RUN: its environment
// assignments and arguments, with ${VAR} left in place.
type goBuild struct {
	env  []string
	args []string
}

func dockerGoBuild(insts []instruction) (goBuild, error) {
	for _, in := range insts {
		if in.op != "RUN" || !strings.Contains(in.args, "go build") {
			continue
		}
		words := shellWords(in.args)
		for len(words) > 0 && strings.HasPrefix(words[0], "--mount") {
			words = words[1:]
		}
		var gb goBuild
		i := 0
		for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
			gb.env = append(gb.env, words[i])
		}
		if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
			return gb, fmt.Errorf("RUN %q: want [VAR=value ...] go build ...", in.args)
		}
		gb.args = words[i+2:]
		return gb, nil
	}
	return goBuild{}, fmt.Errorf("no RUN ... go build in the Dockerfile")
}

func TestDockerfile(t *testing.T) {
	insts := parseDockerfile(mustRead(t, "docker/Dockerfile"))
	last := insts[len(insts)-1].stage
	var from []string
	args := map[string]string{}
	final := map[string][]string{}
	for _, in := range insts {
		switch in.op {
		case "FROM":
			from = append(from, in.args)
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			if _, seen := args[k]; !seen || v != "" {
				args[k] = v
			}
		}
		if in.stage == last {
			final[in.op] = append(final[in.op], in.args)
		}
	}

	// Builder: the Go release go.mod asks for.
	gomod := string(mustRead(t, "../go.mod"))
	goLine := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(gomod)
	if len(from) < 2 || !strings.Contains(from[0], "golang:${GO_VERSION}") {
		t.Errorf("first stage %q: want a golang:${GO_VERSION} builder and a separate final stage", from)
	}
	if goLine == nil || !strings.HasPrefix(args["GO_VERSION"], goLine[1]) {
		t.Errorf("ARG GO_VERSION=%s, but go.mod wants go %v", args["GO_VERSION"], goLine)
	}

	// Final stage: minimal base, non-root numeric user, the binary as entrypoint.
	base := from[len(from)-1]
	if !strings.HasPrefix(base, "gcr.io/distroless/static") && base != "scratch" {
		t.Errorf("final stage FROM %s, want distroless static or scratch", base)
	}
	users := final["USER"]
	if len(users) == 0 {
		t.Error("final stage has no USER: the container would run as root")
	} else {
		uid, _, _ := strings.Cut(users[len(users)-1], ":")
		if uid == "0" || uid == "root" || !regexp.MustCompile(`^[1-9][0-9]*$`).MatchString(uid) {
			t.Errorf("USER %s: want a numeric non-root uid (Kubernetes' runAsNonRoot can only verify numbers)", users[len(users)-1])
		}
		if uid != "65532" {
			t.Errorf("USER %s, but the Kubernetes manifests run as 65532", uid)
		}
	}
	var entry []string
	if e := final["ENTRYPOINT"]; len(e) != 1 || json.Unmarshal([]byte(e[0]), &entry) != nil || len(entry) != 1 {
		t.Fatalf("ENTRYPOINT %q: want the exec form with the binary alone", final["ENTRYPOINT"])
	}
	if !slices.ContainsFunc(final["COPY"], func(c string) bool { return strings.HasSuffix(c, " "+entry[0]) && strings.HasPrefix(c, "--from=") }) {
		t.Errorf("final stage copies nothing to %s, its ENTRYPOINT", entry[0])
	}
	// EXPOSE is --listen's port, the one compose and Kubernetes use.
	c, _, err := cliM().resolve([]string{"sink"})
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(c.flags["listen"].def)
	if e := final["EXPOSE"]; len(e) != 1 || e[0] != port {
		t.Errorf("EXPOSE %q, want %s, the port of --listen's default", e, port)
	}

	gb, err := dockerGoBuild(insts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(gb.env, "CGO_ENABLED=0") {
		t.Errorf("go build without CGO_ENABLED=0: %v", gb.env)
	}
	for _, want := range []string{"-trimpath", "./cmd/contrail"} {
		if !slices.Contains(gb.args, want) {
			t.Errorf("go build lacks %s: %v", want, gb.args)
		}
	}
	ld := ""
	for i, a := range gb.args {
		if a == "-ldflags" && i+1 < len(gb.args) {
			ld = gb.args[i+1]
		}
	}
	if !strings.Contains(ld, "-X github.com/contrail-atm/contrail/internal/cli.version=${VERSION}") {
		t.Errorf("-ldflags %q does not stamp ${VERSION} into internal/cli.version", ld)
	}
	if _, ok := args["VERSION"]; !ok {
		t.Error("no ARG VERSION")
	}

	// compose's build args are ARGs of the Dockerfile.
	cf := loadComposeFile(t)
	for _, name := range sortedKeys(cf.services()) {
		b, _ := cf.services()[name]["build"].(map[string]any)
		ba, _ := b["args"].(map[string]any)
		for k := range ba {
			if _, ok := args[k]; !ok {
				t.Errorf("compose service %s passes build arg %s, which the Dockerfile does not declare", name, k)
			}
		}
	}
}

// TestDockerBuildStampsVersion builds the binary with the Dockerfile's own
// go build line (no Docker needed for that part) and checks what the image
// promises: `contrail version` shows the stamped version, the binary is
// static, and two builds are identical.
func TestDockerBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary twice; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	gb, err := dockerGoBuild(parseDockerfile(mustRead(t, "docker/Dockerfile")))
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.0.0-deploytest"
	vars := map[string]string{"VERSION": version, "TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH}
	expand := func(s string) string { return os.Expand(s, func(k string) string { return vars[k] }) }
	build := func(out string) []byte {
		t.Helper()
		var args []string
		for i := 0; i < len(gb.args); i++ {
			if gb.args[i] == "-o" {
				i++
				continue
			}
			args = append(args, expand(gb.args[i]))
		}
		args = append([]string{"build", "-o", out}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goBin, args...)
		cmd.Dir = ".."
		cmd.Env = os.Environ()
		for _, e := range gb.env {
			cmd.Env = append(cmd.Env, expand(e))
		}
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, o)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "a", "contrail")
	first := build(bin)
	second := build(filepath.Join(dir, "b", "contrail"))
	if sha256.Sum256(first) != sha256.Sum256(second) {
		t.Error("two builds with the Dockerfile's flags differ: the image is not reproducible")
	}

	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("contrail version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "contrail "+version+" ") {
		t.Errorf("contrail version printed %q, want it to start with %q", out, "contrail "+version+" ")
	}

	f, err := elf.Open(bin)
	if err != nil {
		t.Skipf("not an ELF binary here (%v): static check skipped", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is dynamically linked and will not start on distroless/static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %v", libs)
	}
}

// dockerignore is a .dockerignore: patterns, later ones win, ! re-includes.
type dockerignore []struct {
	re     *regexp.Regexp
	negate bool
}

func parseDockerignore(data []byte) dockerignore {
	var di dockerignore
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		neg := strings.HasPrefix(l, "!")
		l = strings.Trim(strings.TrimPrefix(l, "!"), "/")
		var re strings.Builder
		re.WriteString("^")
		for i := 0; i < len(l); i++ {
			switch {
			case strings.HasPrefix(l[i:], "**/"):
				re.WriteString("(?:.*/)?")
				i += 2
			case strings.HasPrefix(l[i:], "**"):
				re.WriteString(".*")
				i++
			case l[i] == '*':
				re.WriteString("[^/]*")
			case l[i] == '?':
				re.WriteString("[^/]")
			default:
				re.WriteString(regexp.QuoteMeta(l[i : i+1]))
			}
		}
		re.WriteString("$")
		di = append(di, struct {
			re     *regexp.Regexp
			negate bool
		}{regexp.MustCompile(re.String()), neg})
	}
	return di
}

// excluded says whether a path (slash-separated, relative to the context)
// is left out of the build context, directly or through a parent directory.
func (di dockerignore) excluded(p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		ex := false
		for _, pat := range di {
			if pat.re.MatchString(prefix) {
				ex = !pat.negate
			}
		}
		if ex && i < len(parts) {
			return true
		}
		if i == len(parts) {
			return ex
		}
	}
	return false
}

// TestDockerignoreKeepsBuildInputs: every file `go build ./cmd/contrail`
// reads (Go files and embedded files of the module's packages, go.mod,
// go.sum) is in the build context the Dockerfile gets.
func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go on PATH")
	}
	di := parseDockerignore(mustRead(t, "docker/Dockerfile.dockerignore"))
	for _, p := range []string{".git/config", "bin/contrail", "deploy/compose.yaml", "ingest/adapter_test.go"} {
		if !di.excluded(p) {
			t.Errorf("%s is in the build context; the ignore file should leave it out", p)
		}
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-json", "./cmd/contrail")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	files := []string{"go.mod", "go.sum"}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			Dir                         string
			Module                      *struct{ Main bool }
			GoFiles, EmbedFiles, SFiles []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, err := filepath.Rel(root, p.Dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range slices.Concat(p.GoFiles, p.EmbedFiles, p.SFiles) {
			files = append(files, filepath.ToSlash(filepath.Join(rel, f)))
		}
	}
	if len(files) < 10 {
		t.Fatalf("go list found only %v", files)
	}
	for _, f := range files {
		if di.excluded(f) {
			t.Errorf("%s is needed by go build ./cmd/contrail but docker/Dockerfile.dockerignore leaves it out of the build context", f)
		}
	}
}
