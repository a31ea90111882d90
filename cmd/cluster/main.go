// Command cluster manages the local KubeVela control plane of pkg/testenv.
//
//	go run ./cmd/cluster up                   build missing binaries, start (or reuse) the control plane
//	go run ./cmd/cluster down [--wipe]        stop the processes `up` started; --wipe also deletes the state
//	go run ./cmd/cluster restart <component>  restart one component (etcd, kube-apiserver, ..., vela-core)
//	go run ./cmd/cluster status               show every component's PID and health
//	go run ./cmd/cluster kubeconfig           print the admin kubeconfig path
//
// The environment variables of pkg/testenv (VELA, ML_PLATFORM_STATE,
// ML_PLATFORM_CACHE, ML_PLATFORM_BASE_PORT, ML_PLATFORM_START_TIMEOUT,
// ML_PLATFORM_CLUSTERS) apply: VELA=v1.10.9 go run ./cmd/cluster up runs
// KubeVela v1.10.9 (default v1.11.0); ML_PLATFORM_CLUSTERS=3 adds the
// managed clusters dev and prod (components kube-apiserver-dev, ...,
// cluster-gateway). `down` stops whatever release and clusters `up` started.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ml-platform/ml-platform/pkg/testenv"
)

const usage = `usage: go run ./cmd/cluster up | down [--wipe] | restart <component> | status | kubeconfig
components: ` + "etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok, training-operator, vela-core"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	env := &testenv.Environment{Out: os.Stdout}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "up":
		return up(ctx, env)
	case "down":
		flags := flag.NewFlagSet("down", flag.ContinueOnError)
		wipe := flags.Bool("wipe", false, "also delete the state folder (certificates, etcd data, logs)")
		if err := flags.Parse(rest); err != nil {
			return err
		}
		return down(env, *wipe)
	case "restart":
		if len(rest) != 1 {
			return errors.New(usage)
		}
		return env.Restart(ctx, rest[0])
	case "status":
		return status(ctx, env)
	case "kubeconfig":
		fmt.Println(env.Kubeconfig())
		return nil
	default:
		return fmt.Errorf("unknown command %q\n%s", cmd, usage)
	}
}

func up(ctx context.Context, env *testenv.Environment) error {
	began := time.Now()
	release, err := env.KubeVelaRelease()
	if err != nil {
		return err
	}
	fmt.Printf("KubeVela %s (VELA=<release> picks one of %s), Kubernetes %s\n",
		release, strings.Join(testenv.KubeVelaReleases, ", "), testenv.KubernetesVersion)
	if missing := env.MissingBinaries(); len(missing) > 0 {
		fmt.Printf("building missing binaries %v (a cold build takes ~25 min on 2 cores)\n", missing)
		if err := buildBinaries(ctx); err != nil {
			return err
		}
	}
	if allRunning(ctx, env) {
		fmt.Println("control plane already running; checking it")
	}
	if _, err := env.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("control plane ready in %.1fs\nexport KUBECONFIG=%s\n", time.Since(began).Seconds(), env.Kubeconfig())
	return nil
}

func allRunning(ctx context.Context, env *testenv.Environment) bool {
	for _, s := range env.Status(ctx) {
		if s.PID == 0 {
			return false
		}
	}
	return true
}

// buildBinaries runs hack/tools/build.sh, found from the working directory up.
func buildBinaries(ctx context.Context) error {
	dir, err := os.Getwd()
	if err != nil {
		return fmt.Errorf("failed to find the working directory: %w", err)
	}
	for {
		script := filepath.Join(dir, "hack", "tools", "build.sh")
		if _, err := os.Stat(script); err == nil {
			cmd := exec.CommandContext(ctx, script)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("failed to build the binaries with %s: %w", script, err)
			}
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return errors.New("failed to find hack/tools/build.sh above the working directory; run from the ml-platform checkout")
		}
		dir = parent
	}
}

func down(env *testenv.Environment, wipe bool) error {
	if err := env.Stop(); err != nil {
		return err
	}
	fmt.Println("control plane stopped")
	if wipe {
		if err := env.Wipe(); err != nil {
			return err
		}
		fmt.Println("state wiped")
	}
	return nil
}

func mebibytes(n int64) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%d MiB", n>>20)
}

func status(ctx context.Context, env *testenv.Environment) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "COMPONENT\tPID\tHEALTHY\tRSS\tBINARY\tDETAIL")
	var unhealthy []string
	var total int64
	for _, s := range env.Status(ctx) {
		pid, detail, binary := "-", "", "-"
		if s.PID != 0 {
			pid = fmt.Sprint(s.PID)
		}
		if s.Binary != "" {
			binary = filepath.Base(s.Binary)
		}
		if s.Err != nil {
			detail = strings.SplitN(s.Err.Error(), "\n", 2)[0]
			unhealthy = append(unhealthy, s.Name)
		}
		total += s.RSS
		fmt.Fprintf(w, "%s\t%s\t%t\t%s\t%s\t%s\n", s.Name, pid, s.Healthy, mebibytes(s.RSS), binary, detail)
	}
	fmt.Fprintf(w, "total\t\t\t%s\t\t\n", mebibytes(total))
	_ = w.Flush()
	fmt.Println("KUBECONFIG=" + env.Kubeconfig())
	if len(unhealthy) > 0 {
		return fmt.Errorf("not healthy: %s", strings.Join(unhealthy, ", "))
	}
	return nil
}
