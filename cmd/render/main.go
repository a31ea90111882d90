// Command render prints every object an Application's components and traits
// emit, rendered offline with the addon's definitions through KubeVela's own
// dry-run code. It prints a warning on stderr for every key KubeVela ignores
// (a trait's name), and exits 1, printing every problem found, on invalid
// input.
//
//	go run ./cmd/render -f examples/pipeline/app.yaml [-d definitions]
//
// Without -d it uses the definitions/ of the addon it is run in: the current
// folder or the nearest one above it that holds the addon (metadata.yaml or
// this module's go.mod, next to definitions/).
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// module is this repository's Go module, which marks the addon's root.
const module = "github.com/ml-platform/ml-platform"

func main() {
	klog.SetLogger(logr.Discard())
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: its exit code is 0 when the Application rendered
// (warnings or not), 1 when it is invalid, 2 on a usage error.
func run(args []string, stdout, stderr io.Writer) int {
	// A flag set of its own: imported packages (controller-runtime's
	// -kubeconfig) register flags on flag.CommandLine that render never uses.
	fs := flag.NewFlagSet("render", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("f", "", "the Application YAML file to render")
	defs := fs.String("d", "", "the folder of the addon's definitions (default: definitions/ of the addon this is run in)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: render -f APP.yaml [-d DEFINITIONS_DIR]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *file == "" || fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	if *defs == "" {
		wd, err := os.Getwd()
		if err == nil {
			*defs, err = findDefinitions(wd)
		}
		if err != nil {
			fmt.Fprintln(stderr, "error:", err)
			return 2
		}
	}
	app, warnings, err := render.ReadApplication(*file)
	for _, w := range warnings {
		fmt.Fprintln(stderr, "warning:", w)
	}
	if err == nil {
		err = renderTo(stdout, app, *defs)
	}
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

func renderTo(w io.Writer, app *v1beta1.Application, defs string) error {
	r, err := render.NewFromDir(defs)
	if err != nil {
		return err
	}
	res, err := r.Render(context.Background(), app)
	if err != nil {
		return err
	}
	out, err := res.YAML()
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// findDefinitions returns the definitions/ folder of the addon that dir is
// in: dir or the nearest folder above it with definitions/ next to the
// addon's metadata.yaml or this module's go.mod.
func findDefinitions(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		defs := filepath.Join(d, "definitions")
		if st, err := os.Stat(defs); err == nil && st.IsDir() && isAddonRoot(d) {
			return defs, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("cannot find the addon's definitions: neither %s nor a folder above it holds definitions/ next to metadata.yaml or the go.mod of %s; run render inside the ml-platform checkout, or give the folder with -d", dir, module)
		}
	}
}

func isAddonRoot(dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "metadata.yaml")); err == nil {
		return true
	}
	f, err := os.Open(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if name, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(name), `"`) == module
		}
	}
	return false
}
