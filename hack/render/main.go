// Command render prints every object an Application's components and traits
// emit, rendered offline with the addon's definitions through KubeVela's own
// dry-run code. It exits 1, printing every problem found, on invalid input.
//
//	go run ./hack/render -f examples/pipeline/app.yaml [-d definitions]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/go-logr/logr"
	"k8s.io/klog/v2"

	"github.com/ml-platform/ml-platform/pkg/render"
)

func main() {
	file := flag.String("f", "", "the Application YAML file to render")
	defs := flag.String("d", "definitions", "the directory of the addon's definitions")
	flag.Parse()
	if *file == "" {
		fmt.Fprintln(os.Stderr, "usage: render -f APP.yaml [-d DEFINITIONS_DIR]")
		os.Exit(2)
	}
	klog.SetLogger(logr.Discard())
	if err := run(*file, *defs); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(file, defs string) error {
	app, err := render.ReadApplication(file)
	if err != nil {
		return err
	}
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
	_, err = os.Stdout.Write(out)
	return err
}
