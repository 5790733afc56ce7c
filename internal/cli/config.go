package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// ConfigError is a setting that cannot work: a bad value, an unknown name, a
// missing requirement or an unreachable dependency found at start-up. main
// prints it as one line and exits with status 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...)}
}

// envName is the environment variable of a flag: --flush-interval is
// CONTRAIL_FLUSH_INTERVAL.
func envName(flagName string) string {
	return "CONTRAIL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseSettings fills fs from, in order of precedence: command-line flags,
// CONTRAIL_* environment variables, the YAML file named by --config (or
// CONTRAIL_CONFIG), and the flags' defaults. YAML keys are flag names.
func parseSettings(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return configErr("%v (see 'contrail %s --help')", err, fs.Name())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var file map[string]any
	if cf := fs.Lookup("config"); cf != nil {
		path := cf.Value.String()
		if !set["config"] {
			if v := getenv(envName("config")); v != "" {
				path = v
			}
		}
		if path != "" {
			var err error
			if file, err = readYAML(path); err != nil {
				return err
			}
			var unknown []string
			for k := range file {
				if fs.Lookup(k) == nil || k == "config" {
					unknown = append(unknown, k)
				}
			}
			if len(unknown) > 0 {
				sort.Strings(unknown)
				return configErr("config file %s: unknown setting(s) %s for 'contrail %s' (keys are flag names; see --help)", path, strings.Join(unknown, ", "), fs.Name())
			}
		}
	}

	var firstErr error
	fs.VisitAll(func(f *flag.Flag) {
		if firstErr != nil || set[f.Name] || f.Name == "config" {
			return
		}
		if v, ok := lookupEnv(getenv, envName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil {
				firstErr = configErr("invalid value %q for %s (--%s): %v", v, envName(f.Name), f.Name, err)
			}
			return
		}
		if raw, ok := file[f.Name]; ok {
			v, err := yamlScalar(raw)
			if err == nil {
				err = f.Value.Set(v)
			}
			if err != nil {
				firstErr = configErr("invalid value %q for %s in config file: %v", fmt.Sprint(raw), f.Name, err)
			}
		}
	})
	return firstErr
}

// lookupEnv treats an empty variable as unset, the way shells and compose
// files usually mean it.
func lookupEnv(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	return v, v != ""
}

func readYAML(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, configErr("read config file: %v", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		return nil, configErr("config file %s is not valid YAML: %v", path, err)
	}
	return m, nil
}

// YAMLValue turns a value of a --config YAML file into the string the flag
// of the same name gets; a list becomes a comma-separated value. Exported for
// the deploy tests, which read the same files out of the manifests.
func YAMLValue(v any) (string, error) { return yamlScalar(v) }

// yamlScalar is YAMLValue.
func yamlScalar(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			s, err := yamlScalar(e)
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return strings.Join(parts, ","), nil
	case map[string]any:
		return "", errors.New("want a scalar or a list, got a mapping")
	case time.Time:
		return x.Format(time.RFC3339), nil
	default:
		return fmt.Sprint(x), nil
	}
}

// usage prints a command's help: its synopsis and every flag with its
// default and environment variable.
func usage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "%s\n\nSettings (flag, environment variable; precedence: flag > env > --config YAML file > default):\n", strings.TrimSpace(synopsis))
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	slices.Sort(names)
	for _, n := range names {
		f := fs.Lookup(n)
		def := f.DefValue
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(w, "  --%s  (%s, default %s)\n      %s\n", f.Name, envName(f.Name), def, f.Usage)
	}
}
