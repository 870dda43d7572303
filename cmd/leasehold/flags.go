package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// envPrefix prefixes the environment variable of every flag:
// --lease-duration is LEASEHOLD_LEASE_DURATION. A flag on the command line
// wins over its variable.
const envPrefix = "LEASEHOLD_"

// envName is the environment variable of flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// secretFlags are the flags whose values no message may quote.
var secretFlags = map[string]bool{"connection-string": true}

// durationValue is a duration flag that wants a unit: "15" is refused (15
// what?), "0" is allowed.
type durationValue time.Duration

func (d *durationValue) String() string { return time.Duration(*d).String() }

func (d *durationValue) Set(s string) error {
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = durationValue(v)
	return nil
}

// parseDuration parses a duration with a unit ("15s", "1m30s", "500ms"); a
// bare number other than 0 is ambiguous and refused with the reason.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty: want a duration with a unit, e.g. 15s")
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		if f == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("a number without a unit is ambiguous: want a unit, e.g. %ss", t)
	}
	v, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("not a duration: want a number with a unit (ms, s, m, h), e.g. 15s")
	}
	return v, nil
}

// durationVar defines a duration flag that wants a unit.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fs.Var((*durationValue)(p), name, usage)
}

// flagError rewrites a flag package error in the one flag style of
// leasehold's help: --name, not -name.
func flagError(err error) string {
	s := err.Error()
	for _, from := range []string{"flag provided but not defined: -", "for flag -", "flag needs an argument: -", "bad flag syntax: -"} {
		if strings.Contains(s, from) && !strings.Contains(s, from+"-") {
			s = strings.Replace(s, from, from+"-", 1)
		}
	}
	return s
}

// printFlags writes fs's flags in the style of the help text: --name,
// sorted, each with its environment variable.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		typ, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if typ != "" {
			line += " " + typ
		}
		fmt.Fprintln(w, line)
		fmt.Fprintf(w, "        %s\n", strings.ReplaceAll(usage, "\n", "\n        "))
		def := f.DefValue
		env := envName(f.Name)
		switch {
		case def == "" || def == "false" || def == "0" || def == "0s":
			fmt.Fprintf(w, "        ($%s)\n", env)
		default:
			fmt.Fprintf(w, "        (default %s; $%s)\n", def, env)
		}
	})
}

// applyEnv sets every flag that the command line did not set from its
// LEASEHOLD_* variable, if that is set. It returns which flags came from
// the environment (name -> variable). A value the flag refuses is a usage
// error naming the variable (and quoting the value unless it is secret).
func applyEnv(cmd string, fs *flag.FlagSet) (map[string]string, error) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fromEnv := map[string]string{}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		env := envName(f.Name)
		v, ok := os.LookupEnv(env)
		if !ok {
			return
		}
		if f.Name == "container" && os.Getenv("LEASEHOLD_TERM") != "" {
			// Inside a command that leasehold runs, LEASEHOLD_CONTAINER
			// is what leasehold told the command, not a setting.
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			shown := strconv.Quote(v)
			if secretFlags[f.Name] {
				shown = "(value not shown)"
			}
			err = fail(exitUsage, "%s: $%s %s: %v (it sets --%s)", cmd, env, shown, serr, f.Name)
			return
		}
		fromEnv[f.Name] = env
	})
	return fromEnv, err
}

// versionText is what --version prints: the module version (or the VCS
// revision of a build from a checkout) and the Go version.
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fmt.Sprintf("leasehold (unknown version) %s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, when, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			when = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	out := "leasehold " + v
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " revision " + rev
		if modified == "true" {
			out += " (modified)"
		}
		if when != "" {
			out += " " + when
		}
	}
	return fmt.Sprintf("%s %s %s/%s", out, bi.GoVersion, runtime.GOOS, runtime.GOARCH)
}
