package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"plume/config"
	"plume/directives"
	"plume/http1"
	"plume/negotiation"
	"plume/request"
)

// Version is the product token Plume sends in Server: and signatures.
const (
	Product = "Plume"
	Version = "0.1.0"
)

// Walker is the request walk (package walk): given a request whose URI
// and translated Filename are set and whose PerDir holds the server's
// defaults, it runs the Directory (+ .htaccess), Files and final Location
// walks, and fills PerDir, Filename, PathInfo, Finfo and File. It returns
// request.OK or an HTTP status, having logged Apache's line through r.Log.
type Walker interface {
	Walk(r *request.Request) int
}

// LocationWalker is a Walker that can also run the Location walk alone:
// the <Location> sections matching r.URI merged over the server defaults,
// as Apache does before translation (a <Location>'s one-argument Alias
// needs it).
type LocationWalker interface {
	Walker
	LocationWalk(r *request.Request) directives.Vector
}

// WalkFuncs adapts a pair of functions to LocationWalker; Close (optional)
// releases the walker's resources when its generation is retired.
type WalkFuncs struct {
	Dir      func(r *request.Request) int
	Location func(r *request.Request) directives.Vector
	Closer   func() error
	// Watch (optional) is the walker's WatchDir: mod_negotiation's caches
	// are then invalidated by it instead of validated per use.
	Watch func(dir string, onChange func(dir string)) bool
}

// WatchDir calls w.Watch; false (no watch: validate by stat) when unset.
func (w WalkFuncs) WatchDir(dir string, onChange func(dir string)) bool {
	return w.Watch != nil && w.Watch(dir, onChange)
}

// Close calls w.Closer if set.
func (w WalkFuncs) Close() error {
	if w.Closer != nil {
		return w.Closer()
	}
	return nil
}

// Walk calls w.Dir.
func (w WalkFuncs) Walk(r *request.Request) int { return w.Dir(r) }

// LocationWalk calls w.Location.
func (w WalkFuncs) LocationWalk(r *request.Request) directives.Vector { return w.Location(r) }

// WalkerFunc adapts a function to Walker.
type WalkerFunc func(r *request.Request) int

// Walk calls f.
func (f WalkerFunc) Walk(r *request.Request) int { return f(r) }

// Phase is one hook of the pipeline: it returns request.OK,
// request.Declined, request.Done or an HTTP status.
type Phase func(r *request.Request) int

// HandlerFunc produces a response for handler names other packages own.
// It writes through rw; it returns request.OK when done, request.Declined
// to fall through to the next handler, or an HTTP status.
type HandlerFunc func(r *request.Request, rw *ResponseWriter) int

// Hooks are the phases other packages supply; cmd wires them.
type Hooks struct {
	// NewWalker builds the request walk for a configuration generation.
	NewWalker func(cfg *config.Config) (Walker, error)
	// Access is access control and authentication (package access).
	Access Phase
	// TypeCheckers run before mod_mime, first non-Declined wins
	// (mod_negotiation's MultiViews runs at APR_HOOK_FIRST).
	TypeCheckers []Phase
	// Handlers by handler name (e.g. "type-map").
	Handlers map[string]HandlerFunc
}

// generation is one loaded configuration with everything derived from it.
// Requests load it once; a reload swaps the pointer.
type generation struct {
	cfg      *config.Config
	walker   Walker
	hooks    Hooks
	byDir    map[*directives.Server]*config.Server
	vhosts   *vhostTable
	types    MimeTypes
	logs     *logFiles
	errLogs  map[*directives.Server]*ErrorLogger
	access   map[*directives.Server][]*accessLog
	banner   string
	mainCore *CoreServer
	pipeline *Pipeline
	neg      *negotiation.Negotiator
	negHost  *negHost
	// needsSentBytes is set when an access log uses %O or %S.
	needsSentBytes bool
}

// Options control a Server.
type Options struct {
	// Load reads the configuration (again on reload).
	Load func() (*config.Config, error)
	// Hooks are the other packages' phases.
	Hooks Hooks
	// Stderr receives startup and reload messages (default os.Stderr).
	Stderr *os.File
	// Listeners, when set, are used instead of binding Listen addresses
	// (tests bind 127.0.0.1:0 themselves).
	Listeners []net.Listener
	// NoPrivDrop keeps the current user even when running as root.
	NoPrivDrop bool
}

// Server runs a configuration: listeners, the current generation, signals.
type Server struct {
	opts      Options
	gen       atomic.Pointer[generation]
	listeners []net.Listener
	h1        *http1.Server
	mu        sync.Mutex
	done      chan struct{}
	pidFile   string
}

// New loads the configuration and prepares (but does not start) a server.
func New(opts Options) (*Server, error) {
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	s := &Server{opts: opts, done: make(chan struct{})}
	cfg, err := opts.Load()
	if err != nil {
		return nil, err
	}
	g, err := s.newGeneration(cfg)
	if err != nil {
		return nil, err
	}
	s.gen.Store(g)
	return s, nil
}

// Handler returns the http.Handler of the pipeline (for in-process use).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Addrs lists the bound listener addresses.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []net.Addr
	for _, l := range s.listeners {
		out = append(out, l.Addr())
	}
	return out
}

func (s *Server) newGeneration(cfg *config.Config) (*generation, error) {
	g := &generation{cfg: cfg, hooks: s.opts.Hooks,
		byDir:   map[*directives.Server]*config.Server{},
		errLogs: map[*directives.Server]*ErrorLogger{},
		access:  map[*directives.Server][]*accessLog{}}
	all := append([]*config.Server{cfg.Main}, cfg.VHosts...)
	for _, sv := range all {
		g.byDir[sv.Server] = sv
	}
	g.mainCore = directives.DirOf(cfg.Main.Config, coreModule, &CoreServer{})
	g.banner = serverBanner(g.mainCore.ServerTokens)
	typesPath := "/etc/mime.types"
	if ms := directives.DirOf(cfg.Main.Config, mimeModule, &MimeServer{}); ms.TypesConfig != "" {
		typesPath = serverRootRelative(cfg, ms.TypesConfig)
	}
	types, err := LoadMimeTypes(typesPath)
	if err != nil {
		return nil, err
	}
	g.types = types
	if g.hooks.NewWalker != nil {
		w, err := g.hooks.NewWalker(cfg)
		if err != nil {
			return nil, err
		}
		g.walker = w
	}
	vt, err := buildVhostTable(cfg)
	if err != nil {
		g.close()
		return nil, err
	}
	g.vhosts = vt
	var prev *logFiles
	if old := s.gen.Load(); old != nil {
		prev = old.logs
	}
	g.logs = newLogFiles(serverRoot(cfg), prev)
	if err := g.openLogs(all); err != nil {
		g.logs.giveBack()
		if c, ok := g.walker.(interface{ Close() error }); ok {
			c.Close()
		}
		return nil, err
	}
	g.logs.prev = nil
	for _, lf := range g.logs.files {
		lf.adopted = false
	}
	g.pipeline = &Pipeline{g: g}
	g.negHost = &negHost{}
	dw, _ := g.walker.(negotiation.DirWatcher)
	g.neg = negotiation.NewWatched(g.negHost, dw)
	return g, nil
}

func serverRoot(cfg *config.Config) string {
	if cfg.Tree != nil && cfg.Tree.ServerRoot != "" {
		return cfg.Tree.ServerRoot
	}
	return "/etc/apache2"
}

func serverRootRelative(cfg *config.Config, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return strings.TrimSuffix(serverRoot(cfg), "/") + "/" + p
}

func (g *generation) openLogs(all []*config.Server) error {
	for _, sv := range all {
		cs := directives.DirOf(sv.Config, coreModule, &CoreServer{})
		target := cs.ErrorLog
		if target == "" {
			target = "logs/error_log"
		}
		lf, err := g.logs.open(target)
		if err != nil {
			return err
		}
		g.errLogs[sv.Server] = &ErrorLogger{out: lf, levels: cs.LogLevel, pid: os.Getpid()}
		lc := directives.DirOf(sv.Config, logConfigModule, &LogConfigServer{})
		specs := lc.Logs
		if len(specs) == 0 {
			specs = lc.Inherited
		}
		for _, spec := range specs {
			al, err := g.openAccessLog(lc, spec)
			if err != nil {
				return err
			}
			g.access[sv.Server] = append(g.access[sv.Server], al)
			if al.format.usesSentBytes() {
				g.needsSentBytes = true
			}
		}
	}
	return nil
}

func (g *generation) openAccessLog(lc *LogConfigServer, spec CustomLogSpec) (*accessLog, error) {
	format := spec.Format
	if spec.Default {
		format = lc.DefaultFormat
		if format == "" {
			format = commonLogFormat
		}
	} else if f, ok := lc.Formats[format]; ok {
		format = f
	}
	compiled, err := compileLogFormat(format)
	if err != nil {
		return nil, err
	}
	lf, err := g.logs.open(spec.Target)
	if err != nil {
		return nil, err
	}
	if lc.Buffered == On && lf.path != "" {
		lf.bufMax = 4096
	}
	return &accessLog{out: lf, format: compiled, spec: spec}, nil
}

// close releases a retired generation: its log files (those the next
// generation did not take over) and its walker.
func (g *generation) close() {
	if g.logs != nil {
		g.logs.closeAll()
	}
	if c, ok := g.walker.(interface{ Close() error }); ok {
		c.Close()
	}
}

// errorLog returns the error logger for a server.
func (g *generation) errorLog(s *directives.Server) *ErrorLogger {
	if l, ok := g.errLogs[s]; ok {
		return l
	}
	return g.errLogs[g.cfg.Main.Server]
}

// serverBanner is ap_get_server_banner for ServerTokens.
func serverBanner(tokens string) string {
	major := Version[:strings.IndexByte(Version, '.')]
	minor := Version[:strings.LastIndexByte(Version, '.')]
	switch tokens {
	case "prod", "productonly":
		return Product
	case "major":
		return Product + "/" + major
	case "minor":
		return Product + "/" + minor
	case "min", "minimal":
		return Product + "/" + Version
	}
	return Product + "/" + Version + " (Unix)"
}

// Listen binds every Listen address of the configuration (Apache exits with
// AH00072/AH00451 when one fails; so does this).
func (s *Server) Listen() error {
	if s.opts.Listeners != nil {
		s.listeners = s.opts.Listeners
		return nil
	}
	g := s.gen.Load()
	if len(g.cfg.Listen) == 0 {
		return errors.New("AH00526: no listening sockets available, shutting down\nAH00015: Unable to open logs")
	}
	seen := map[string]bool{}
	for _, l := range g.cfg.Listen {
		addr := normaliseListen(l.Addr)
		if seen[addr] {
			continue
		}
		// Apache's protocol for a Listen is its argument, else "https" for
		// port 443. Plume has no TLS: it does not answer in plain HTTP
		// where clients expect TLS.
		_, port, _ := net.SplitHostPort(addr)
		if strings.EqualFold(l.Proto, "https") || (l.Proto == "" && port == "443") {
			msg := fmt.Sprintf("%s:%d: Listen %s is for https; Plume does not serve TLS and does not listen there", l.Pos.File, l.Pos.Line, l.Addr)
			g.errorLog(g.cfg.Main.Server).Log("core", LevelWarn, "", "", msg)
			fmt.Fprintln(s.opts.Stderr, msg)
			continue
		}
		seen[addr] = true
		network := "tcp"
		ln, err := net.Listen(network, addr)
		if err != nil {
			for _, o := range s.listeners {
				o.Close()
			}
			s.listeners = nil
			reason := err.Error()
			var errno syscall.Errno
			if errors.As(err, &errno) {
				reason = fmt.Sprintf("(%d)%s", int(errno), strings.ToUpper(errno.Error()[:1])+errno.Error()[1:])
			}
			return fmt.Errorf("%s: AH00072: make_sock: could not bind to address %s\nno listening sockets available, shutting down\nAH00015: Unable to open logs", reason, addr)
		}
		s.listeners = append(s.listeners, ln)
	}
	if len(s.listeners) == 0 {
		return errors.New("no listening sockets available, shutting down\nAH00015: Unable to open logs")
	}
	return nil
}

// normaliseListen turns Listen's forms ("80", "1.2.3.4:80", "[::1]:80")
// into a Go address.
func normaliseListen(a string) string {
	if _, err := strconv.Atoi(a); err == nil {
		return ":" + a
	}
	return a
}

// DropPrivileges switches to User/Group when running as root, after the
// listeners are bound, as Apache's children do.
func (s *Server) DropPrivileges() error {
	if s.opts.NoPrivDrop || os.Geteuid() != 0 {
		return nil
	}
	g := s.gen.Load()
	u := directives.DirOf(g.cfg.Main.Config, unixdModule, &UnixdConfig{})
	userName, groupName := u.User, u.Group
	if userName == "" {
		userName = "#-1"
	}
	if groupName == "" {
		groupName = "#-1"
	}
	uid, err := lookupID(userName, true)
	if err != nil {
		return err
	}
	gid, err := lookupID(groupName, false)
	if err != nil {
		return err
	}
	if uid == 0 {
		return nil
	}
	// Go applies setgroups/setgid/setuid to every thread (Linux, Go ≥ 1.16).
	if err := syscall.Setgroups([]int{gid}); err != nil {
		return fmt.Errorf("AH02155: setgroups: unable to set groups for User %s and Group %d: %v", userName, gid, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("AH02155: setgid: unable to set group id to Group %d: %v", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("AH02157: setuid: unable to change to uid: %d: %v", uid, err)
	}
	return nil
}

// lookupID resolves a user or group name, or "#n"; Apache's default is
// #-1 (nobody/nogroup on most systems, which we map to 65534).
func lookupID(name string, isUser bool) (int, error) {
	if strings.HasPrefix(name, "#") {
		n, err := strconv.Atoi(name[1:])
		if err != nil {
			return 0, fmt.Errorf("invalid id %s", name)
		}
		if n < 0 {
			n = 65534
		}
		return n, nil
	}
	if isUser {
		u, err := user.Lookup(name)
		if err != nil {
			return 0, fmt.Errorf("AH00543: %s: bad user name %s", "plume", name)
		}
		return strconv.Atoi(u.Uid)
	}
	gr, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("AH00544: %s: bad group name %s", "plume", name)
	}
	return strconv.Atoi(gr.Gid)
}

type connKey struct{}

// connState counts requests on one connection (MaxKeepAliveRequests).
type connState struct {
	requests atomic.Int64
	local    netip.AddrPort
	remote   netip.AddrPort
	counter  *countingConn // nil when the connection is not counted
}

// Start serves on the bound listeners (Listen first) until Shutdown.
func (s *Server) Start() error {
	s.h1 = &http1.Server{
		Handler: s.Handler(),
		Config:  s.connConfig,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			st := &connState{}
			if a, ok := c.LocalAddr().(*net.TCPAddr); ok {
				st.local = a.AddrPort()
			}
			if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
				st.remote = a.AddrPort()
			}
			st.counter, _ = c.(*countingConn)
			return context.WithValue(ctx, connKey{}, st)
		},
	}
	for _, ln := range s.listeners {
		go s.h1.Serve(countingListener{ln})
	}
	return nil
}

// connConfig is the connection layer's view of the core settings of the
// server a connection was accepted for (its base server, selected by the
// local address before any Host is read), read per request so a reload
// applies to open connections.
func (s *Server) connConfig(local net.Addr) http1.Config {
	cs := s.baseCore(local)
	c := http1.Config{
		Timeout:              orDuration(cs.Timeout, 60*time.Second),
		KeepAlive:            cs.KeepAlive != Off,
		KeepAliveTimeout:     orDuration(cs.KeepAliveTimeout, 5*time.Second),
		MaxKeepAliveRequests: 100,
		Limits:               cs.Limits.http1Limits(),
	}
	c.Limits.Protocol = cs.Protocol.http1Options()
	if cs.maxKASet {
		c.MaxKeepAliveRequests = cs.MaxKeepAliveRequests
	}
	return c
}

func orDuration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func (s *Server) writePidFile(g *generation) {
	p := g.mainCore.PidFile
	if p == "" || s.pidFile != "" {
		return
	}
	p = serverRootRelative(g.cfg, p)
	if err := os.WriteFile(p, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		g.errorLog(g.cfg.Main.Server).Log("core", LevelError, "", "AH00099", "could not create "+p)
		return
	}
	s.pidFile = p
}

// Reload loads the configuration again and swaps it in atomically; on
// failure the running generation stays and the error is returned.
// Listeners are kept (a changed Listen set needs a restart).
func (s *Server) Reload() error {
	cfg, err := s.opts.Load()
	if err != nil {
		return err
	}
	g, err := s.newGeneration(cfg)
	if err != nil {
		return err
	}
	old := s.gen.Swap(g)
	// Requests in flight keep the old generation's log files; close them
	// after a grace period.
	go func() {
		time.Sleep(5 * time.Second)
		old.close()
	}()
	return nil
}

// ReopenLogs reopens every log file of the current generation.
func (s *Server) ReopenLogs() { s.gen.Load().logs.reopenAll() }

// Shutdown stops accepting, waits for requests in flight (bounded by ctx),
// flushes and closes logs and removes the PidFile.
func (s *Server) Shutdown(ctx context.Context) error {
	var first error
	if s.h1 != nil {
		first = s.h1.Shutdown(ctx)
	}
	g := s.gen.Load()
	g.close()
	if s.pidFile != "" {
		os.Remove(s.pidFile)
	}
	return first
}

// Run binds the listeners and serves (Listen, then Serve).
func (s *Server) Run() error {
	if err := s.Listen(); err != nil {
		return err
	}
	return s.Serve()
}

// Serve writes the PidFile, drops privileges, starts serving on the bound
// listeners and handles signals until SIGTERM/SIGINT: SIGHUP and SIGUSR1
// reload the configuration and reopen the logs.
func (s *Server) Serve() error {
	s.writePidFile(s.gen.Load())
	if err := s.DropPrivileges(); err != nil {
		return err
	}
	if err := s.Start(); err != nil {
		return err
	}
	g := s.gen.Load()
	g.errorLog(g.cfg.Main.Server).Log("mpm_event", LevelNotice, "", "AH00489", s.gen.Load().banner+" configured -- resuming normal operations")
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(sigs)
	for sig := range sigs {
		g := s.gen.Load()
		el := g.errorLog(g.cfg.Main.Server)
		switch sig {
		case syscall.SIGHUP, syscall.SIGUSR1:
			if sig == syscall.SIGHUP {
				el.Log("mpm_event", LevelNotice, "", "AH00494", "SIGHUP received.  Attempting to restart")
			} else {
				el.Log("mpm_event", LevelNotice, "", "AH00493", "SIGUSR1 received.  Doing graceful restart")
			}
			if err := s.Reload(); err != nil {
				el.Log("core", LevelError, "", "", "reload failed, keeping the running configuration: "+err.Error())
				fmt.Fprintln(s.opts.Stderr, err)
				continue
			}
			g = s.gen.Load()
			// Rotated logs: reopen by name where still permitted (after
			// the switch to User/Group a file may keep its old descriptor).
			g.logs.reopenAll()
			g.errorLog(g.cfg.Main.Server).Log("mpm_event", LevelNotice, "", "AH00489", g.banner+" configured -- resuming normal operations")
		default:
			el.Log("mpm_event", LevelNotice, "", "AH00491", "caught SIGTERM, shutting down")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := s.Shutdown(ctx)
			cancel()
			return err
		}
	}
	return nil
}
