package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
)

// The node package does not serve /debug/pprof/ yet. Until it does (gated
// by an api config flag), `zwnode bench --profile` starts the profiled node
// with ZWNODE_PPROF=127.0.0.1:<port>, and this hook serves the runtime
// profiles on that loopback address, in whichever zwnode command runs. Only
// loopback addresses are accepted: profiles reveal memory contents.
func init() {
	addr := os.Getenv(benchPprofEnv)
	if addr == "" {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		fmt.Fprintf(os.Stderr, "zwnode: %s=%q ignored: need a loopback host:port\n", benchPprofEnv, addr)
		return
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "zwnode: %s: %v\n", benchPprofEnv, err)
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	go func() { _ = http.Serve(ln, mux) }()
}
