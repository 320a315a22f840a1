// Package cmd is Plume's command line (cobra): `serve`, `configtest`,
// `dump`, `explain` and the httpd-compatible flags (-t, -f, -d, -D, -C, -c,
// -v, -V, -l, -M, -S) so scripts written for httpd/apache2 keep working.
package cmd

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries a process exit code out of a command without cobra
// printing usage.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

// subcommands are added by the files that define them (serve.go, ...).
var subcommands []func() *cobra.Command

func addCommand(f func() *cobra.Command) { subcommands = append(subcommands, f) }

// NewRoot builds a fresh command tree (tests build their own).
func NewRoot() *cobra.Command {
	root := newRootCommand()
	for _, f := range subcommands {
		root.AddCommand(f())
	}
	return root
}

// Execute runs the command line and returns the process exit code.
func Execute() int {
	return run(NewRoot(), os.Args[1:], os.Stderr)
}

// run executes root with args and maps the outcome to an exit code,
// printing a returned error (never usage) to stderr.
func run(root *cobra.Command, args []string, stderr io.Writer) int {
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "%s: %v\n", argv0(), err)
	return 1
}
