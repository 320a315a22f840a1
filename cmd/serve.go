package cmd

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	confd "plume/conf.d"
	"plume/config"
	"plume/server"
)

func init() {
	addCommand(newServeCommand)
	if defaultConfig == nil {
		defaultConfig = confd.Unpack
	}
}

func newServeCommand() *cobra.Command {
	o := &httpdOptions{}
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve a configuration (the built-in demo site when no -f is given)",
		Long: `Serve runs an Apache httpd configuration: it binds the Listen addresses,
switches to User/Group when started as root, and serves until SIGTERM or
SIGINT. SIGHUP and SIGUSR1 reload the configuration (the running one stays
if the new one is broken) and reopen the log files.

Without -f it runs the built-in configuration (conf.d/) on
http://127.0.0.1:8080/.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runServe(o, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	addConfigFlags(c.Flags(), o)
	return c
}

// runServe loads the configuration the flags name and serves it.
func runServe(o *httpdOptions, stdout, stderr io.Writer) error {
	file, cleanup, err := o.resolveConfigFile()
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	defer cleanup()
	builtin := o.File == ""
	loadOpts := *o
	loadOpts.File = file
	loadConfig := func() (*config.Config, error) {
		res := load(&loadOpts)
		res.postConfig()
		if res.Err != nil {
			return nil, fmt.Errorf("%s", formatError(res.Err))
		}
		printLoadWarnings(stderr, res)
		return res.Config, nil
	}
	srv, err := server.New(server.Options{Load: loadConfig, Hooks: server.StandardHooks()})
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if err := srv.Listen(); err != nil {
		return &exitError{code: 1, err: err}
	}
	var urls []string
	for _, a := range srv.Addrs() {
		urls = append(urls, "http://"+a.String()+"/")
	}
	what := file
	if builtin {
		what = "the built-in demo site (conf.d)"
	}
	fmt.Fprintf(stdout, "Plume %s serving %s on %s (Ctrl-C to stop)\n", server.Version, what, strings.Join(urls, ", "))
	if err := srv.Serve(); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}

// printLoadWarnings reports a configuration's warnings once per load
// (startup and each reload), as Apache prints its read-time warnings to
// stderr while it reads the configuration, never per request: the same
// lines and closing summary of unsupported directives as configtest.
func printLoadWarnings(w io.Writer, res *loaded) {
	now := time.Now()
	for _, wn := range res.Warnings {
		fmt.Fprintln(w, logLine(wn, now))
	}
	if summary := carryOverSummary(res.unsupported()); summary != "" {
		fmt.Fprintln(w, summary)
	}
}
