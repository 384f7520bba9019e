package testenv

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/childproc"
)

// Redis is a running redis-server.
type Redis struct {
	Addr string
	p    *childproc.Process
}

// RedisOptions configure StartRedis.
type RedisOptions struct {
	// Password, when set, is required of clients (requirepass).
	Password string
}

// StartRedis starts the Debian redis-server on a free loopback port,
// without persistence, and waits until it answers PING. It is stopped
// when the test ends.
func StartRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	bin := Binary(t, "TOLLGATE_REDIS", "redis-server")
	dir := t.TempDir()
	port := freePort(t)
	args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir}
	if opts.Password != "" {
		args = append(args, "--requirepass", opts.Password)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	p, err := childproc.Start(cmd, childproc.Options{Name: "redis-server"})
	if err != nil {
		t.Fatalf("starting redis-server: %v", err)
	}
	t.Cleanup(func() {
		_ = p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("redis-server log:\n%s", p.Output())
		}
	})
	r := &Redis{Addr: "127.0.0.1:" + strconv.Itoa(port), p: p}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, 50*time.Millisecond, r.answers, 0, nil); err != nil {
		t.Fatalf("redis-server did not become ready: %v\n%s", err, p.Output())
	}
	return r
}

// answers reports whether the server answers PING (a refusal for want of
// a password counts: it is up).
func (r *Redis) answers(ctx context.Context) bool {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", r.Addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 64)
	n, _ := c.Read(buf)
	reply := string(buf[:n])
	return strings.HasPrefix(reply, "+PONG") || strings.HasPrefix(reply, "-NOAUTH")
}

// Kill stops the server at once (SIGTERM, then SIGKILL), in the middle of
// whatever it was doing.
func (r *Redis) Kill() { _ = r.p.Stop(time.Second) }
