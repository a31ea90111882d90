// Command gencrd writes resources/crds/tfjob-crd.cue, the TFJob CRD that the
// addon installs, from the CRD YAML of the Kubeflow training operator module
// (manifests/base/crds/kubeflow.org_tfjobs.yaml of
// github.com/kubeflow/training-operator v1.9.4, read from the module cache)
// with every `description` of its schema stripped: the upstream file is 543 KB,
// the stripped one a fraction of that, which keeps the addon Application small.
//
//	go run ./cmd/gencrd            # regenerate resources/crds/tfjob-crd.cue
//	go run ./cmd/gencrd -check     # exit 1 when the committed file differs
//
// The module is fetched with `go mod download` (through the module proxy when
// it is not cached); it is not a dependency of the root module.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ml-platform/ml-platform/pkg/crdgen"
)

func main() {
	check := flag.Bool("check", false, "only compare with the committed file; exit 1 when it differs")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	if err := run(*root, *check); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run(root string, check bool) error {
	out, err := crdgen.Generate()
	if err != nil {
		return err
	}
	path := filepath.Join(root, crdgen.OutputPath)
	if check {
		have, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("failed to read the committed CRD: %w", err)
		}
		if !bytes.Equal(have, out) {
			return fmt.Errorf("%s is out of date: run `go run ./cmd/gencrd`", crdgen.OutputPath)
		}
		return nil
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		return fmt.Errorf("failed to write %s: %w", path, err)
	}
	fmt.Printf("wrote %s (%d bytes)\n", crdgen.OutputPath, len(out))
	return nil
}
