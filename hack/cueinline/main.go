// Command cueinline writes the canonical text of the shared CUE helpers in
// hack/cue/ into every definition that carries them between markers
//
//	// ml-platform:inline <helper> begin
//	// ml-platform:inline <helper> end
//
// Run it from the repository root after editing a helper:
//
//	go run ./hack/cueinline          # rewrite drifted copies
//	go run ./hack/cueinline -check   # exit 1 listing drifted copies
//
// It looks at definitions/*.cue, offline/testdata/definitions/*.cue and the
// helpers in hack/cue/*.cue themselves (a helper may carry another).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ml-platform/ml-platform/hack/cueinline/inline"
)

func main() {
	check := flag.Bool("check", false, "only report copies that differ from hack/cue/, exit 1 if any")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	results, err := inline.Run(*root, inline.DefaultDirs, !*check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	drifted := 0
	for _, r := range results {
		for _, d := range r.Drifted {
			drifted++
			if *check {
				fmt.Printf("%s:%d: %s copy differs from hack/cue/%s\n", r.File, d.Begin, d.Helper, inline.HelperFile(d.Helper))
			} else {
				fmt.Printf("%s:%d: rewrote %s\n", r.File, d.Begin, d.Helper)
			}
		}
	}
	if *check && drifted > 0 {
		fmt.Println("run `go run ./hack/cueinline` to rewrite them")
		os.Exit(1)
	}
}
