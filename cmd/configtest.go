package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"plume/config"
	"plume/directives"
	"plume/parser"
	"plume/server"
)

func init() { addCommand(newConfigtestCommand) }

// nowFunc is the clock for log-line timestamps (tests fix it).
var nowFunc = time.Now

type configtestOptions struct {
	httpdOptions
	Strict bool
	JSON   bool
}

func newConfigtestCommand() *cobra.Command {
	o := &configtestOptions{}
	c := &cobra.Command{
		Use:   "configtest",
		Short: "Check a configuration as apache2 -t does",
		Long: `Check a configuration as apache2 -t does: print "Syntax OK" and exit 0 when
Apache would accept it, else Apache's error and exit 1. Directives of loaded
modules Plume does not implement are reported as warnings (errors with
--strict), with a summary of what will not carry over.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runConfigtest(c.OutOrStdout(), c.ErrOrStderr(), o)
		},
	}
	addConfigFlags(c.Flags(), &o.httpdOptions)
	c.Flags().BoolVar(&o.Strict, "strict", false, "treat directives Plume does not support as errors")
	c.Flags().BoolVar(&o.JSON, "json", false, "print the verdict, errors and warnings as JSON on stdout")
	return c
}

// loaded is a configuration read for a command, with what went wrong.
type loaded struct {
	File   string
	Tree   *parser.Tree
	Config *config.Config
	// Warnings are in the order Apache prints them: read-time (parser)
	// warnings, then walk-time ones.
	Warnings []parser.Warning
	Err      error
}

// load reads and applies the configuration the flags name. It never
// panics on bad input: a panic in a handler becomes an error.
func load(o *httpdOptions) (res *loaded) {
	res = &loaded{}
	defer func() {
		if r := recover(); r != nil {
			res.Err = fmt.Errorf("internal error while reading the configuration: %v", r)
		}
	}()
	file, cleanup, err := o.resolveConfigFile()
	if err != nil {
		res.Err = err
		return res
	}
	defer cleanup()
	res.File = file
	var env map[string]string
	if o.Envvars != "" {
		if env, err = parser.LoadEnvvars(o.Envvars); err != nil {
			res.Err = err
			return res
		}
	}
	opts := o.parserOptions(env)
	tree, err := parser.Load(file, opts)
	if tree != nil {
		res.Tree = tree
		res.Warnings = append(res.Warnings, tree.Warnings...)
	}
	if pe := (*parser.Error)(nil); errors.As(err, &pe) {
		res.Warnings = append(res.Warnings, pe.Warnings...)
	}
	if err != nil {
		res.Err = err
		return res
	}
	cfg, err := config.FromTree(tree)
	if err != nil {
		if pe := (*parser.Error)(nil); errors.As(err, &pe) {
			res.Warnings = mergeWarnings(res.Warnings, pe.Warnings)
		}
		res.Err = err
		return res
	}
	cfg.Options = opts
	res.Config = cfg
	res.Warnings = mergeWarnings(res.Warnings, cfg.Warnings)
	return res
}

// postConfig runs the modules' check_config hooks, as Apache does after
// reading the configuration for -t, -S, -M and startup (not for Plume's
// own dump and explain): a failure is AH00014 and exit 1.
func (res *loaded) postConfig() {
	if res.Err == nil && res.Config != nil {
		res.Err = server.CheckConfig(res.Config)
	}
}

// mergeWarnings returns the read-time warnings followed by the walk-time
// ones; package config may already have copied the read-time ones to the
// front of its list.
func mergeWarnings(read, all []parser.Warning) []parser.Warning {
	if len(all) >= len(read) {
		same := true
		for i := range read {
			if read[i] != all[i] {
				same = false
				break
			}
		}
		if same {
			return append([]parser.Warning(nil), all...)
		}
	}
	return append(append([]parser.Warning(nil), read...), all...)
}

// unsupported returns the directives the configuration uses that Plume
// ignores.
func (l *loaded) unsupported() []directives.IgnoredDirective {
	if l.Config == nil || l.Config.Dirs == nil {
		return nil
	}
	return l.Config.Dirs.Unsupported
}

// carryOverSummary is the closing line of configtest: what Plume will
// ignore, by module.
func carryOverSummary(list []directives.IgnoredDirective) string {
	if len(list) == 0 {
		return ""
	}
	count := map[string]int{}
	for _, d := range list {
		count[d.Module]++
	}
	mods := make([]string, 0, len(count))
	for m := range count {
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool {
		if count[mods[i]] != count[mods[j]] {
			return count[mods[i]] > count[mods[j]]
		}
		return mods[i] < mods[j]
	})
	parts := make([]string, len(mods))
	for i, m := range mods {
		parts[i] = fmt.Sprintf("%s (%d)", moduleDisplayName(m), count[m])
	}
	return fmt.Sprintf("%d %s of %d %s will not carry over: %s",
		len(list), plural(len(list), "directive", "directives"),
		len(mods), plural(len(mods), "module", "modules"), strings.Join(parts, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// moduleDisplayName names a module as admins know it: "mod_rewrite" for
// rewrite_module.
func moduleDisplayName(id string) string {
	if src, ok := directives.ModuleSource(id); ok && strings.HasPrefix(src, "mod_") {
		return strings.TrimSuffix(src, ".c")
	}
	return id
}

// startupMessages are Apache messages logged with APLOG_STARTUP, which
// print without the error-log prefix: "AH00112: Warning: DocumentRoot [/x]
// does not exist". A warning with an empty Module prints the same way.
var startupMessages = map[string]bool{"AH00112": true, "AH00548": true, "AH00558": true}

// logLine formats a warning as Apache's error log does during startup:
// [time] [module:warn] [pid N:tid N] AHnnnnn: message. Plume's own
// warnings carry their file:line, since Apache's text has no position.
func logLine(w parser.Warning, now time.Time) string {
	if w.Code != "" && (w.Module == "" || startupMessages[w.Code]) {
		// APLOG_STARTUP: Apache prints these bare.
		return parser.EscapeLog(w.Code + ": " + w.Msg)
	}
	module := w.Module
	if module == "" {
		module = "core"
	}
	msg := w.Msg
	if w.Code != "" {
		msg = w.Code + ": " + msg
	} else if w.Pos.File != "" {
		msg = fmt.Sprintf("%s:%d: %s", w.Pos.File, w.Pos.Line, msg)
	}
	if w.Errno != "" {
		msg = w.Errno + ": " + msg
	}
	level := w.Level
	if level == "" {
		level = "warn"
	}
	pid := os.Getpid()
	return fmt.Sprintf("[%s] [%s:%s] [pid %d:tid %d] %s", now.Format("Mon Jan 02 15:04:05.000000 2006"),
		module, level, pid, pid, parser.EscapeLog(msg))
}

// formatError renders a load error in Apache's words, escaped as Apache's
// log escapes it (parser.Error.Format escapes).
func formatError(err error) string {
	var pe *parser.Error
	if errors.As(err, &pe) {
		return pe.Format(argv0())
	}
	var ce *server.CheckError
	if errors.As(err, &ce) {
		// One startup line per failed check, each escaped on its own.
		lines := strings.Split(ce.Error(), "\n")
		for i, l := range lines {
			lines[i] = parser.EscapeLog(l)
		}
		return strings.Join(lines, "\n")
	}
	return parser.EscapeLog(err.Error())
}

type jsonPos struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

type jsonMessage struct {
	jsonPos
	Module  string `json:"module,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
	Hint    string `json:"hint,omitempty"`
	Text    string `json:"text,omitempty"` // as printed without --json
}

type jsonVerdict struct {
	OK          bool           `json:"ok"`
	File        string         `json:"file,omitempty"`
	Errors      []jsonMessage  `json:"errors"`
	Warnings    []jsonMessage  `json:"warnings"`
	Unsupported map[string]int `json:"unsupported"`
	Summary     string         `json:"summary,omitempty"`
}

// runConfigtest is plume configtest and plume -t.
func runConfigtest(out, errOut io.Writer, o *configtestOptions) error {
	res := load(&o.httpdOptions)
	res.postConfig()
	var errs []jsonMessage
	if res.Err != nil {
		m := jsonMessage{Message: res.Err.Error(), Text: formatError(res.Err)}
		var pe *parser.Error
		if errors.As(res.Err, &pe) {
			m.Message, m.Hint, m.jsonPos = pe.Msg, pe.Hint, jsonPos{pe.Pos.File, pe.Pos.Line}
		}
		errs = append(errs, m)
	} else if o.Strict {
		for _, d := range res.unsupported() {
			pe := &parser.Error{Pos: d.Pos, Msg: d.Label() + " is not supported by Plume"}
			errs = append(errs, jsonMessage{jsonPos: jsonPos{d.Pos.File, d.Pos.Line}, Module: d.Module,
				Message: pe.Msg, Text: formatError(pe)})
		}
	}
	summary := carryOverSummary(res.unsupported())
	now := nowFunc()
	if o.JSON {
		v := jsonVerdict{OK: len(errs) == 0, File: res.File, Errors: errs, Warnings: []jsonMessage{}, Unsupported: map[string]int{}, Summary: summary}
		if v.Errors == nil {
			v.Errors = []jsonMessage{}
		}
		for _, w := range res.Warnings {
			v.Warnings = append(v.Warnings, jsonMessage{jsonPos: jsonPos{w.Pos.File, w.Pos.Line}, Module: w.Module, Code: w.Code, Message: w.Msg, Text: logLine(w, now)})
		}
		for _, d := range res.unsupported() {
			v.Unsupported[moduleDisplayName(d.Module)]++
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
		if !v.OK {
			return &exitError{code: 1}
		}
		return nil
	}
	for _, w := range res.Warnings {
		if o.Strict && res.Err == nil && w.Module == "plume" && w.Code == "" {
			continue // printed below as errors
		}
		fmt.Fprintln(errOut, logLine(w, now))
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(errOut, e.Text)
		}
		return &exitError{code: 1}
	}
	if summary != "" {
		fmt.Fprintln(errOut, summary)
	}
	fmt.Fprintln(errOut, "Syntax OK")
	return nil
}
