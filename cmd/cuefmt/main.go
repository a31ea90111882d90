// Command cuefmt formats every CUE file of the repository with the CUE
// formatter of the KubeVela release this module builds against (go.mod's
// cuelang.org/go, the one vela v1.11.0 ships), so that one style holds.
//
//	go run ./cmd/cuefmt          # rewrite the files that are not formatted
//	go run ./cmd/cuefmt -check   # exit 1 listing them
//
// It walks the tree from -root and skips hidden folders, _output and
// hack/tools. CUE in strings (a health policy, a custom status) is not
// formatted: it is a string to the formatter.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"cuelang.org/go/cue/format"
)

func main() {
	check := flag.Bool("check", false, "only list the files that are not formatted, exit 1 if any")
	root := flag.String("root", ".", "the repository root")
	flag.Parse()
	files, err := cueFiles(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(2)
	}
	changed, failed := 0, false
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(2)
		}
		out, err := format.Source(src)
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s: cannot be formatted: %v\n", f, err)
			failed = true
			continue
		}
		if string(out) == string(src) {
			continue
		}
		changed++
		if *check {
			fmt.Printf("%s: not formatted\n", f)
			continue
		}
		if err := os.WriteFile(f, out, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "error:", err)
			os.Exit(2)
		}
		fmt.Printf("%s: formatted\n", f)
	}
	if failed {
		os.Exit(2)
	}
	if *check && changed > 0 {
		fmt.Println("run `go run ./cmd/cuefmt` (make generate) to format them")
		os.Exit(1)
	}
}

// cueFiles lists the .cue files under root, outside hidden folders, _output
// and hack/tools (Go tool modules).
func cueFiles(root string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || rel == "_output" || rel == filepath.Join("hack", "tools")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(path, ".cue") {
			files = append(files, path)
		}
		return nil
	})
	return files, err
}
