package cmd

import "github.com/spf13/cobra"

// newRootCommand is the root command with the httpd-compatible flags.
func newRootCommand() *cobra.Command {
	return &cobra.Command{
		Use:           "plume",
		Short:         "A web server that runs existing Apache httpd configurations",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
}
