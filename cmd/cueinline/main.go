// Command cueinline writes the canonical text of the shared CUE helpers in
// cue/ into every definition that carries them between markers
//
//	// ml-platform:inline <helper> begin
//	// ml-platform:inline <helper> end
//
// Run it from the repository root after editing a helper:
//
//	go run ./cmd/cueinline          # rewrite drifted copies
//	go run ./cmd/cueinline -check   # exit 1 listing drifted copies
//
// It looks at definitions/*.cue, test/offline/testdata/definitions/*.cue and the
// helpers in cue/*.cue themselves (a helper may carry another).
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/ml-platform/ml-platform/pkg/cueinline"
)

func main() {
	check := flag.Bool("check", false, "only report copies that differ from cue/, exit 1 if any")
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
				fmt.Printf("%s:%d: %s copy differs from cue/%s\n", r.File, d.Begin, d.Helper, inline.HelperFile(d.Helper))
			} else {
				fmt.Printf("%s:%d: rewrote %s\n", r.File, d.Begin, d.Helper)
			}
		}
	}
	if *check && drifted > 0 {
		fmt.Println("run `go run ./cmd/cueinline` to rewrite them")
		os.Exit(1)
	}
}
