// Command profherald is herald (the same cli.Run as cmd/herald) with a CPU
// profile: when BENCH_HERALD_CPUPROFILE names a file, it profiles the
// whole process and writes the profile there when the command returns
// (for `serve`, at SIGTERM). The delivery bench builds it instead of
// cmd/herald with -cpuprofile, so profiling needs no debug endpoint in
// the real binary. BENCH_HERALD_PPROF=127.0.0.1:PORT also serves
// net/http/pprof there, to profile a phase of a running server.
package main

import (
	"context"
	"fmt"
	"net/http"
	_ "net/http/pprof" // served only when BENCH_HERALD_PPROF is set
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"herald/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	if addr := os.Getenv("BENCH_HERALD_PPROF"); addr != "" {
		go func() {
			if err := http.ListenAndServe(addr, nil); err != nil {
				fmt.Fprintln(os.Stderr, "pprof:", err)
			}
		}()
	}
	if path := os.Getenv("BENCH_HERALD_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			os.Exit(1)
		}
		code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
		}
		os.Exit(code)
	}
	os.Exit(cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
