// Package resp is a minimal Redis client: RESP2 over TCP with GET, SET
// with PX, MGET, AUTH and SELECT, a small connection pool, a deadline on
// every command and a bound on every reply. It exists because
// github.com/redis/go-redis/v9 v9.23.0, whose client type keeps every one
// of its hundreds of commands reachable, grew bin/tollgate from 23.3 to
// 31.4 MB stripped, past the 25 MB lean-binary bound; the results cache
// needs four commands.
package resp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// Options configure a Client.
type Options struct {
	// Addr is Redis's host:port.
	Addr string
	// Password, when set, is sent with AUTH on every new connection.
	Password string
	// DB is selected on every new connection (SELECT) when not 0.
	DB int
	// Timeout bounds each command, dial included (default 100ms), unless
	// the context ends sooner.
	Timeout time.Duration
	// MaxReplyBytes bounds one bulk reply (default 8 MiB): a longer one
	// is an error, and the connection is dropped unread.
	MaxReplyBytes int64
	// MaxIdle is how many idle connections are kept (default 16).
	MaxIdle int
}

// maxArrayLen bounds the elements of an array reply (MGET of many keys).
const maxArrayLen = 4096

// Error is an error reply of Redis itself (-ERR ...): the connection is
// fine, the command was refused.
type Error string

func (e Error) Error() string { return "redis: " + string(e) }

// Client is a Redis client safe for concurrent use.
type Client struct {
	o    Options
	mu   sync.Mutex
	idle []*conn
}

type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

// New returns a Client; it connects on first use.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 100 * time.Millisecond
	}
	if o.MaxReplyBytes <= 0 {
		o.MaxReplyBytes = 8 << 20
	}
	if o.MaxIdle <= 0 {
		o.MaxIdle = 16
	}
	return &Client{o: o}
}

// Get returns a key's value, nil if it is absent.
func (c *Client) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := c.Do(ctx, "GET", key)
	if err != nil {
		return nil, err
	}
	b, ok := v.([]byte)
	if v != nil && !ok {
		return nil, fmt.Errorf("redis GET: unexpected reply %T", v)
	}
	return b, nil
}

// MGet returns the values of keys, nil where absent.
func (c *Client) MGet(ctx context.Context, keys ...string) ([][]byte, error) {
	args := append([]string{"MGET"}, keys...)
	v, err := c.Do(ctx, args...)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok || len(arr) != len(keys) {
		return nil, fmt.Errorf("redis MGET: unexpected reply %T of %d", v, len(arr))
	}
	out := make([][]byte, len(arr))
	for i, e := range arr {
		out[i], _ = e.([]byte)
	}
	return out, nil
}

// Set stores a value that expires after ttl (whole milliseconds, at least
// one).
func (c *Client) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	ms := max(ttl.Milliseconds(), 1)
	v, err := c.Do(ctx, "SET", key, string(value), "PX", strconv.FormatInt(ms, 10))
	if err != nil {
		return err
	}
	if s, _ := v.(string); s != "OK" {
		return fmt.Errorf("redis SET: unexpected reply %v", v)
	}
	return nil
}

// Do sends one command and returns its reply: string (simple), int64,
// []byte (bulk; nil for a nil bulk), []any (array) or nil. An error reply
// is an Error; any other error drops the connection.
func (c *Client) Do(ctx context.Context, args ...string) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	cn, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	v, err := cn.roundTrip(ctx, c.o.MaxReplyBytes, args)
	var re Error
	if err != nil && !errors.As(err, &re) {
		_ = cn.nc.Close()
		return nil, fmt.Errorf("redis %s on %s: %w", args[0], c.o.Addr, err)
	}
	c.put(cn)
	return v, err
}

// Close closes the idle connections.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cn := range c.idle {
		_ = cn.nc.Close()
	}
	c.idle = nil
	return nil
}

func (c *Client) get(ctx context.Context) (*conn, error) {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		cn := c.idle[n-1]
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return cn, nil
	}
	c.mu.Unlock()
	return c.dial(ctx)
}

func (c *Client) put(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idle) >= c.o.MaxIdle {
		_ = cn.nc.Close()
		return
	}
	c.idle = append(c.idle, cn)
}

// dial connects, authenticates and selects the database.
func (c *Client) dial(ctx context.Context) (*conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.o.Addr)
	if err != nil {
		return nil, fmt.Errorf("redis: connecting to %s: %w", c.o.Addr, err)
	}
	cn := &conn{nc: nc, r: bufio.NewReader(nc), w: bufio.NewWriter(nc)}
	var setup [][]string
	if c.o.Password != "" {
		setup = append(setup, []string{"AUTH", c.o.Password})
	}
	if c.o.DB != 0 {
		setup = append(setup, []string{"SELECT", strconv.Itoa(c.o.DB)})
	}
	for _, args := range setup {
		if _, err := cn.roundTrip(ctx, c.o.MaxReplyBytes, args); err != nil {
			_ = nc.Close()
			return nil, fmt.Errorf("redis %s on %s: %w", args[0], c.o.Addr, err)
		}
	}
	return cn, nil
}

func (cn *conn) roundTrip(ctx context.Context, maxBulk int64, args []string) (any, error) {
	if dl, ok := ctx.Deadline(); ok {
		_ = cn.nc.SetDeadline(dl)
	}
	// A context cancelled before its deadline unblocks the I/O too.
	stop := context.AfterFunc(ctx, func() { _ = cn.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := writeCommand(cn.w, args); err != nil {
		return nil, err
	}
	return readReply(cn.r, maxBulk, 0)
}

// writeCommand writes args as a RESP array of bulk strings.
func writeCommand(w *bufio.Writer, args []string) error {
	w.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		w.WriteString("$" + strconv.Itoa(len(a)) + "\r\n")
		w.WriteString(a)
		w.WriteString("\r\n")
	}
	return w.Flush()
}
