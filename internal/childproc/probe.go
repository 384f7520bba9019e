package childproc

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
)

// ProbeHTTP asks url once with GET. ready is whether it answered 200;
// status is the start of its body on one line ("Ingester not ready: ..."),
// the server's explanation when it is not.
func ProbeHTTP(ctx context.Context, client *http.Client, url string) (ready bool, status string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	return resp.StatusCode == http.StatusOK, strings.Join(strings.Fields(string(body)), " "), nil
}

// FreePort returns a loopback TCP port that was free a moment ago, for a
// child server to listen on. It is not reserved: another process may take
// it first, which the server then reports as "address already in use".
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
