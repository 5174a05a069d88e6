package main

import "testing"

func TestCompactLogLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`time=2026-11-24T12:04:27.123Z level=INFO msg="node started" department=tax height=0`, `12:04:27 INFO node started department=tax height=0`},
		{`time=2026-11-24T12:04:27.123Z level=WARN msg=listening addr=/ip4/127.0.0.1/tcp/1`, `12:04:27 WARN listening addr=/ip4/127.0.0.1/tcp/1`},
		{`zwnode: node.toml:3: p2p.listen: bad`, `zwnode: node.toml:3: p2p.listen: bad`},
		{`time=broken`, `time=broken`},
	} {
		if got := compactLogLine(tc.in); got != tc.want {
			t.Errorf("compactLogLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
