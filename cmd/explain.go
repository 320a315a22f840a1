package cmd

import (
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"plume/config"
	"plume/walk"
)

func init() { addCommand(newExplainCommand) }

type explainOptions struct {
	httpdOptions
	host string
}

func newExplainCommand() *cobra.Command {
	o := &explainOptions{}
	c := &cobra.Command{
		Use:   "explain [-f FILE] [--host H] URL",
		Short: "Show how a request walks the configuration: sections, .htaccess, symlink checks, cost",
		Long: `explain maps a URL to a file under the selected server's DocumentRoot and
walks it the way Apache's ap_directory_walk, ap_file_walk and
ap_location_walk do. It prints the sections applied in merge order with
file:line, the merged Options and AllowOverride, the .htaccess files read,
the symlink checks made, and what the request costs Apache (stat, lstat and
open calls, counted by Apache's algorithm) versus Plume (system calls made,
first and steady-state). Alias and RewriteRule are not applied.`,
		Args:          cobra.ExactArgs(1),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(c *cobra.Command, args []string) error {
			return runExplain(c, o, args[0])
		},
	}
	addConfigFlags(c.Flags(), &o.httpdOptions)
	c.Flags().StringVar(&o.host, "host", "", "Host header used to pick the virtual host (default: the URL's host)")
	return c
}

func runExplain(c *cobra.Command, o *explainOptions, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Path == "" && u.Host == "") {
		return &exitError{code: 1, err: fmt.Errorf("explain: %q is not a URL or path", rawURL)}
	}
	uri := u.Path
	if uri == "" {
		uri = "/"
	}
	if !strings.HasPrefix(uri, "/") {
		return &exitError{code: 1, err: fmt.Errorf("explain: the path %q must start with '/'", uri)}
	}
	host := o.host
	if host == "" {
		host = u.Hostname()
	}
	res, err := loadOrFail(c, &o.httpdOptions)
	if err != nil {
		return err
	}
	cfg := res.Config
	srv, why := pickServer(cfg, host)
	// Normalise as Apache does before mapping (ap_normalize_path).
	norm := path.Clean(uri)
	if strings.HasSuffix(uri, "/") && norm != "/" {
		norm += "/"
	}
	filename := srv.DocumentRoot + norm
	w := walk.New(cfg)
	defer w.Close()
	first := w.Explain(srv, norm, filename)
	first.Close()
	// The stat cache stores on the second walk (the first one only sets
	// up its watches): the third is the steady state.
	w.Walk(srv, norm, filename).Close()
	steady := w.Explain(srv, norm, filename)
	steady.Close()
	walk.WriteExplain(c.OutOrStdout(), srv, why, norm, filename, first, steady)
	return nil
}

// pickServer chooses the server for a Host name without a connection
// address: a vhost whose ServerName or ServerAlias matches, else the first
// vhost (Apache's default for a name-based address), else the main server.
func pickServer(cfg *config.Config, host string) (*config.Server, string) {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host != "" {
		for _, v := range cfg.VHosts {
			if strings.EqualFold(v.Name, host) {
				return v, "ServerName " + v.Name
			}
			for _, a := range v.Aliases {
				if config.FnMatch(strings.ToLower(a), host) {
					return v, "ServerAlias " + a
				}
			}
		}
	}
	if len(cfg.VHosts) > 0 {
		return cfg.VHosts[0], "first virtual host (no name matched; Apache's default for a name-based address)"
	}
	return cfg.Main, "no virtual hosts"
}
