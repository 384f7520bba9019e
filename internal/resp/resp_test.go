package resp_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/resp"
	"github.com/tollgate-dev/tollgate/internal/testkit/testenv"
)

func TestAgainstRedis(t *testing.T) {
	srv := testenv.StartRedis(t, testenv.RedisOptions{Password: "s3cret"})
	ctx := context.Background()
	c := resp.New(resp.Options{Addr: srv.Addr, Password: "s3cret", Timeout: time.Second, MaxReplyBytes: 1 << 10})
	defer c.Close()

	big := strings.Repeat("x", 1000) // under the bound, with binary-safe bytes
	value := []byte(big + "\r\n\x00$*")
	if err := c.Set(ctx, "k1", value, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, "k1")
	if err != nil || string(got) != string(value) {
		t.Fatalf("GET k1: %q, %v", got, err)
	}
	if got, err := c.Get(ctx, "absent"); err != nil || got != nil {
		t.Fatalf("GET absent: %q, %v; want nil, nil", got, err)
	}
	vals, err := c.MGet(ctx, "k1", "absent", "k1")
	if err != nil || len(vals) != 3 || string(vals[0]) != string(value) || vals[1] != nil || string(vals[2]) != string(value) {
		t.Fatalf("MGET: %q, %v", vals, err)
	}

	t.Run("PX expires", func(t *testing.T) {
		if err := c.Set(ctx, "short", []byte("v"), 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if got, err := c.Get(ctx, "short"); err != nil || got != nil {
			t.Fatalf("GET after PX: %q, %v; want it gone", got, err)
		}
	})
	t.Run("reply over the bound is refused and the client recovers", func(t *testing.T) {
		if err := c.Set(ctx, "huge", []byte(strings.Repeat("y", 2000)), time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Get(ctx, "huge"); err == nil || !strings.Contains(err.Error(), "over the 1024-byte bound") {
			t.Fatalf("GET huge: %v; want the bound named", err)
		}
		if got, err := c.Get(ctx, "k1"); err != nil || string(got) != string(value) {
			t.Fatalf("GET k1 after the refused reply: %q, %v", got, err)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := resp.New(resp.Options{Addr: srv.Addr, Password: "wrong"})
		var re resp.Error
		if _, err := bad.Get(ctx, "k1"); !errors.As(err, &re) {
			t.Fatalf("GET with a wrong password: %v; want Redis's refusal", err)
		}
	})
	t.Run("SELECT keeps databases apart", func(t *testing.T) {
		db3 := resp.New(resp.Options{Addr: srv.Addr, Password: "s3cret", DB: 3})
		if got, err := db3.Get(ctx, "k1"); err != nil || got != nil {
			t.Fatalf("GET k1 in db 3: %q, %v; want nil", got, err)
		}
	})
}

// A server that accepts but never answers costs the command's timeout,
// not a hang.
func TestTimeoutOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	c := resp.New(resp.Options{Addr: ln.Addr().String(), Timeout: 100 * time.Millisecond})
	start := time.Now()
	if _, err := c.Get(context.Background(), "k"); err == nil {
		t.Fatal("GET from a silent server succeeded")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("GET took %s with a 100ms timeout", d)
	}
}
