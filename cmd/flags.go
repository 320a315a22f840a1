package cmd

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"plume/directives"
	"plume/parser"
)

// httpdOptions are httpd's configuration flags (-f -d -D -C -c), shared by
// the root command (httpd compatibility), configtest, dump and serve.
type httpdOptions struct {
	File       string   // -f
	ServerRoot string   // -d
	Defines    []string // -D
	Pre        []string // -C
	Post       []string // -c
	Envvars    string   // --envvars
}

// addConfigFlags declares the configuration flags on fs.
func addConfigFlags(fs *pflag.FlagSet, o *httpdOptions) {
	fs.StringVarP(&o.File, "config", "f", "", "configuration file (httpd -f)")
	fs.StringVarP(&o.ServerRoot, "server-root", "d", "", "initial ServerRoot (httpd -d)")
	fs.StringArrayVarP(&o.Defines, "define", "D", nil, "define a name for <IfDefine> (httpd -D), repeatable")
	fs.StringArrayVarP(&o.Pre, "pre-directive", "C", nil, "process this directive before reading the config file (httpd -C)")
	fs.StringArrayVarP(&o.Post, "post-directive", "c", nil, "process this directive after reading the config file (httpd -c)")
	fs.StringVar(&o.Envvars, "envvars", "", "read Debian's /etc/apache2/envvars (as apache2ctl sources it) for ${APACHE_...} variables")
}

// defaultConfig supplies the configuration used when -f is absent (the
// embedded default configuration); the serve helper sets it. cleanup, when
// not nil, removes whatever it unpacked.
var defaultConfig func() (path string, cleanup func(), err error)

// parserOptions turns the flags into parser options; env is the extra
// environment from --envvars.
func (o *httpdOptions) parserOptions(env map[string]string) parser.Options {
	return parser.Options{
		ServerRoot: o.ServerRoot,
		Defines:    append([]string(nil), o.Defines...),
		Getenv: func(name string) (string, bool) {
			if v, ok := env[name]; ok {
				return v, true
			}
			return os.LookupEnv(name)
		},
		Builtin: func(name string) bool {
			if _, ok := directives.Implemented(name); ok {
				return true
			}
			return directives.IsStatic(name)
		},
		KnownDirective: knownDirective,
		KnownSection: func(name string) bool {
			return knownDirective("<" + strings.TrimPrefix(name, "<"))
		},
		Pre:  append([]string(nil), o.Pre...),
		Post: append([]string(nil), o.Post...),
	}
}

// knownDirective answers <IfDirective>: a directive Plume implements or one
// of Apache's compiled-in modules (directives of modules loaded with
// LoadModule cannot be told apart here, so they count as unknown).
func knownDirective(name string) bool {
	if _, ok := directives.Registered(name); ok {
		return true
	}
	for _, s := range directives.ApacheSpecs(name) {
		if directives.IsStatic(s.Module) {
			return true
		}
	}
	return false
}

// resolveConfigFile returns the file to read: -f, else the default
// configuration.
func (o *httpdOptions) resolveConfigFile() (path string, cleanup func(), err error) {
	if o.File != "" {
		// parser.Load resolves a relative path against the ServerRoot.
		return o.File, func() {}, nil
	}
	if defaultConfig == nil {
		return "", nil, fmt.Errorf("no configuration file given (use -f FILE) and no default configuration is built in")
	}
	path, cleanup, err = defaultConfig()
	if cleanup == nil {
		cleanup = func() {}
	}
	return path, cleanup, err
}

// argv0 is the program name Apache prints before structural errors
// ("apache2: Syntax error on line ..."); Plume prints its own.
func argv0() string {
	if argv0Name != "" {
		return argv0Name
	}
	if len(os.Args) > 0 && os.Args[0] != "" {
		return filepath.Base(os.Args[0])
	}
	return "plume"
}

// argv0Name overrides the program name (tests).
var argv0Name string

// rootFlags are the httpd flags of the root command.
type rootFlags struct {
	httpdOptions
	test, version, fullVersion, listCompiled, listDirectives bool
	listModules, vhosts, debug, noDocRootCheck, help         bool
	logLevel, signal, errorLog                               string
}

// newRootCommand is the root command with the httpd-compatible flags.
func newRootCommand() *cobra.Command {
	f := &rootFlags{}
	root := &cobra.Command{
		Use:   "plume",
		Short: "A web server that runs existing Apache httpd configurations",
		Long: `Plume serves existing Apache httpd configurations.

It also accepts httpd's own command line, so scripts written for
apache2/httpd keep working: plume -t -f FILE, plume -f FILE -DFOREGROUND,
plume -v, plume -M, plume -S ...`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return runRoot(c, f)
		},
	}
	fs := root.Flags()
	addConfigFlags(fs, &f.httpdOptions)
	fs.BoolVarP(&f.test, "test", "t", false, "test the configuration (same as plume configtest)")
	fs.BoolVarP(&f.version, "version", "v", false, "show the version")
	fs.BoolVarP(&f.fullVersion, "version-settings", "V", false, "show the version and build settings")
	fs.BoolVarP(&f.listCompiled, "list-compiled", "l", false, "list the modules Plume implements")
	fs.BoolVarP(&f.listDirectives, "list-directives", "L", false, "list the directives Plume implements")
	fs.BoolVarP(&f.listModules, "list-modules", "M", false, "list loaded modules (static and shared)")
	fs.BoolVarP(&f.vhosts, "vhosts", "S", false, "show the virtual host settings")
	fs.BoolVarP(&f.debug, "debug", "X", false, "accepted for httpd compatibility (serve in the foreground)")
	fs.BoolVarP(&f.noDocRootCheck, "no-docroot-check", "T", false, "accepted for httpd compatibility")
	fs.StringVarP(&f.logLevel, "loglevel", "e", "", "startup log level (accepted for httpd compatibility)")
	fs.StringVarP(&f.signal, "signal", "k", "", "httpd -k: only 'start' is supported (runs plume serve)")
	fs.StringVarP(&f.errorLog, "error-log", "E", "", "accepted for httpd compatibility")
	return root
}

// runRoot handles httpd's flags given without a subcommand.
func runRoot(c *cobra.Command, f *rootFlags) error {
	out, errOut := c.OutOrStdout(), c.ErrOrStderr()
	switch {
	case f.version:
		printVersion(out)
		return nil
	case f.fullVersion:
		printFullVersion(out)
		return nil
	case f.listCompiled:
		printCompiled(out)
		return nil
	case f.listDirectives:
		printDirectives(out)
		return nil
	case f.listModules:
		return runListModules(c, &f.httpdOptions)
	case f.vhosts:
		return runVhosts(c, &f.httpdOptions)
	case f.test:
		// httpd -t -D DUMP_VHOSTS / DUMP_MODULES print those before the verdict.
		for _, d := range f.Defines {
			switch d {
			case "DUMP_VHOSTS":
				if err := runVhosts(c, &f.httpdOptions); err != nil {
					return err
				}
			case "DUMP_MODULES":
				if err := runListModules(c, &f.httpdOptions); err != nil {
					return err
				}
			}
		}
		return runConfigtest(out, errOut, &configtestOptions{httpdOptions: f.httpdOptions})
	}
	if f.signal != "" && f.signal != "start" {
		return &exitError{code: 1, err: fmt.Errorf("%s: -k %s is not supported; manage the running server with your service manager (only -k start is accepted)", argv0(), f.signal)}
	}
	if c.Flags().NFlag() == 0 {
		return c.Help()
	}
	return delegateToServe(c)
}

// delegateToServe runs `plume serve` with the root's flags, as httpd
// starts serving when given only -f/-d/-D/-C/-c/-k start.
func delegateToServe(c *cobra.Command) error {
	serve, _, err := c.Root().Find([]string{"serve"})
	if err != nil || serve == nil || serve == c.Root() || (serve.RunE == nil && serve.Run == nil) {
		return &exitError{code: 1, err: fmt.Errorf("%s: this build has no serve command", argv0())}
	}
	var setErr error
	c.Flags().Visit(func(fl *pflag.Flag) {
		target := serve.Flags().Lookup(fl.Name)
		if target == nil && fl.Shorthand != "" {
			target = serve.Flags().ShorthandLookup(fl.Shorthand)
		}
		if target == nil {
			return // httpd flags serve does not need (-k start, -e, -X, -T)
		}
		values := []string{fl.Value.String()}
		if sv, ok := fl.Value.(pflag.SliceValue); ok {
			values = sv.GetSlice()
		}
		for _, v := range values {
			if err := serve.Flags().Set(target.Name, v); err != nil && setErr == nil {
				setErr = err
			}
		}
	})
	if setErr != nil {
		return &exitError{code: 1, err: setErr}
	}
	serve.SetOut(c.OutOrStdout())
	serve.SetErr(c.ErrOrStderr())
	if serve.RunE != nil {
		return serve.RunE(serve, nil)
	}
	serve.Run(serve, nil)
	return nil
}
