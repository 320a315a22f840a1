package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Engine is a server program under test: Debian's apache2 (the oracle) or
// Plume. Both read the same configuration.
type Engine struct {
	Name  string // "apache2", "plume"
	Bin   string
	Argv0 string // the program name it prints before structural errors
	// TestArgs and ServeArgs give the command lines for a config test and
	// for serving in the foreground.
	TestArgs  func(conf string) []string
	ServeArgs func(conf string) []string
}

// ApacheBin is Debian's apache2, the oracle.
const ApacheBin = "/usr/sbin/apache2"

// Apache is the oracle engine.
func Apache(bin string) Engine {
	return Engine{
		Name: "apache2", Bin: bin, Argv0: filepath.Base(bin),
		TestArgs:  func(conf string) []string { return []string{"-t", "-f", conf} },
		ServeArgs: func(conf string) []string { return []string{"-f", conf, "-DFOREGROUND"} },
	}
}

// Plume is the engine under test.
func Plume(bin string) Engine {
	return Engine{
		Name: "plume", Bin: bin, Argv0: filepath.Base(bin),
		TestArgs:  func(conf string) []string { return []string{"configtest", "-f", conf} },
		ServeArgs: func(conf string) []string { return []string{"serve", "-f", conf} },
	}
}

// Timeouts bound every wait of the harness.
const (
	ConfigtestTimeout = 20 * time.Second
	StartTimeout      = 10 * time.Second
	StopTimeout       = 5 * time.Second
	RequestTimeout    = 5 * time.Second
)

func (e Engine) command(ctx context.Context, args []string, who *runAs) *exec.Cmd {
	cmd := exec.CommandContext(ctx, e.Bin, args...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if who.Root {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(who.UID), Gid: uint32(who.GID), Groups: []uint32{}}
	}
	return cmd
}

// Configtest runs the engine's config test and returns its exit code and
// combined output.
func (e Engine) Configtest(conf string, who *runAs) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ConfigtestTimeout)
	defer cancel()
	cmd := e.command(ctx, e.TestArgs(conf), who)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		return -1, out.String(), fmt.Errorf("%s config test did not finish within %v", e.Name, ConfigtestTimeout)
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String(), nil
	}
	if err != nil {
		return -1, out.String(), err
	}
	return 0, out.String(), nil
}

// Process is a running server.
type Process struct {
	Engine Engine
	Port   int
	cmd    *exec.Cmd
	out    *boundedBuffer
	done   chan struct{}
	err    error
}

// boundedBuffer keeps the first 64 KiB of a process's output.
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := 64<<10 - b.buf.Len(); room > 0 {
		if len(p) < room {
			room = len(p)
		}
		b.buf.Write(p[:room])
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs the engine in the foreground on conf and waits until port
// accepts connections.
func (e Engine) Start(conf string, port int, who *runAs) (*Process, error) {
	p := &Process{Engine: e, Port: port, out: &boundedBuffer{}, done: make(chan struct{})}
	p.cmd = e.command(context.Background(), e.ServeArgs(conf), who)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", e.Name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	deadline := time.Now().Add(StartTimeout)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before listening (%v); output:\n%s", e.Name, p.err, p.out.String())
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			// Someone else's listener on the port would answer too: a
			// server that failed to bind exits at once, so make sure ours
			// is still running a moment later.
			select {
			case <-p.done:
				return nil, fmt.Errorf("%s exited right after start (%v); output:\n%s", e.Name, p.err, p.out.String())
			case <-time.After(50 * time.Millisecond):
			}
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.Stop()
	return nil, fmt.Errorf("%s did not listen on %s within %v; output:\n%s", e.Name, addr, StartTimeout, p.out.String())
}

// Output is what the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop ends the process group it started: SIGTERM, then SIGKILL.
func (p *Process) Stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(StopTimeout):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		select {
		case <-p.done:
		case <-time.After(StopTimeout):
		}
	}
	// Children that outlived the parent (Apache's workers) share its group.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// ports hands out listening ports for the servers of a run. They come
// from below the kernel's ephemeral range (32768-60999 on Linux), which
// the harness's own client connections and other programs' ":0"
// listeners use, and none is given twice in a run: a port freed by one
// case is not handed to another case running beside it.
var ports struct {
	sync.Mutex
	used map[int]bool
	rng  *rand.Rand
}

const portBase, portSpan = 20000, 12000

// freePort returns a loopback port that is free now and was not handed
// out before in this run.
func freePort() (int, error) {
	ports.Lock()
	defer ports.Unlock()
	if ports.used == nil {
		ports.used = map[int]bool{}
		ports.rng = rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(os.Getpid())))
	}
	for try := 0; try < 200; try++ {
		p := portBase + ports.rng.IntN(portSpan)
		if ports.used[p] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		ports.used[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free loopback port in %d-%d after 200 tries", portBase, portBase+portSpan)
}

// fileSize is the current size of a file, 0 when missing.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// readFrom returns the bytes of path from offset on (at most 1 MiB).
func readFrom(path string, off int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n, _ := f.ReadAt(buf, off)
	return string(buf[:n])
}
