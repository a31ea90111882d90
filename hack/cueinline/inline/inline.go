// Package inline keeps the copies of the shared CUE helpers in hack/cue/
// identical to their canonical text.
//
// KubeVela compiles every definition file on its own, so a definition cannot
// import a helper. Instead a definition carries a copy between two markers:
//
//	// ml-platform:inline <helper> begin
//	...
//	// ml-platform:inline <helper> end
//
// and Rewrite replaces everything between them with the canonical text of
// hack/cue/<helper>.cue (the lines after its `// ml-platform:inline-text`
// line), indented like the begin marker. Check reports the copies that differ.
package inline

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// TextMarker separates a canonical helper file's header (not inlined) from
// the text that is inlined.
const TextMarker = "// ml-platform:inline-text"

// DefaultDirs are the folders, relative to the repository root, whose *.cue
// files carry inlined helpers.
var DefaultDirs = []string{"definitions", filepath.Join("offline", "testdata", "definitions")}

var markerRE = regexp.MustCompile(`^([ \t]*)// ml-platform:inline ([a-z0-9-]+) (begin|end)[ \t]*$`)

// Helpers reads the canonical text of every helper in dir (hack/cue), keyed
// by helper name (the file name without .cue).
func Helpers(dir string) (map[string]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.cue"))
	if err != nil {
		return nil, err
	}
	helpers := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("failed to read helper: %w", err)
		}
		src := string(data)
		i := strings.Index(src, TextMarker+"\n")
		if i < 0 {
			return nil, fmt.Errorf("%s: no %q line before the text to inline", f, TextMarker)
		}
		helpers[strings.TrimSuffix(filepath.Base(f), ".cue")] = src[i+len(TextMarker)+1:]
	}
	return helpers, nil
}

// Region is one inlined copy of a helper in a file.
type Region struct {
	Helper string
	// Begin and End are the 1-based line numbers of the markers.
	Begin, End int
}

// Result is what Process did to one file.
type Result struct {
	File    string
	Regions []Region
	// Drifted lists the regions whose text differs from the canonical text.
	Drifted []Region
	// Output is the file with every region rewritten.
	Output string
}

// Process finds the regions of src and computes its rewritten text.
func Process(file, src string, helpers map[string]string) (*Result, error) {
	lines := strings.SplitAfter(src, "\n")
	res := &Result{File: file}
	var out strings.Builder
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		out.WriteString(line)
		m := markerRE.FindStringSubmatch(strings.TrimRight(line, "\n"))
		if m == nil {
			continue
		}
		indent, name, kind := m[1], m[2], m[3]
		if kind == "end" {
			return nil, fmt.Errorf("%s:%d: `end` marker of %s without a `begin`", file, i+1, name)
		}
		text, ok := helpers[name]
		if !ok {
			return nil, fmt.Errorf("%s:%d: unknown helper %q (no hack/cue/%s.cue)", file, i+1, name, name)
		}
		end := -1
		for j := i + 1; j < len(lines); j++ {
			if em := markerRE.FindStringSubmatch(strings.TrimRight(lines[j], "\n")); em != nil {
				if em[2] != name || em[3] != "end" {
					return nil, fmt.Errorf("%s:%d: marker %q inside the %s region that begins on line %d", file, j+1, strings.TrimSpace(lines[j]), name, i+1)
				}
				end = j
				break
			}
		}
		if end < 0 {
			return nil, fmt.Errorf("%s:%d: %s region has no `end` marker", file, i+1, name)
		}
		want := Indent(text, indent)
		have := strings.Join(lines[i+1:end], "")
		region := Region{Helper: name, Begin: i + 1, End: end + 1}
		res.Regions = append(res.Regions, region)
		if have != want {
			res.Drifted = append(res.Drifted, region)
		}
		out.WriteString(want)
		out.WriteString(lines[end])
		i = end
	}
	res.Output = out.String()
	return res, nil
}

// Indent prefixes every non-empty line of text with indent.
func Indent(text, indent string) string {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	return b.String()
}

// Files lists the *.cue files directly inside dirs (relative to root) that
// exist, sorted.
func Files(root string, dirs []string) ([]string, error) {
	var files []string
	for _, d := range dirs {
		matches, err := filepath.Glob(filepath.Join(root, d, "*.cue"))
		if err != nil {
			return nil, err
		}
		files = append(files, matches...)
	}
	sort.Strings(files)
	return files, nil
}

// Run processes every file of dirs below root with the helpers of
// root/hack/cue. With write, it rewrites the files whose regions drifted.
func Run(root string, dirs []string, write bool) ([]*Result, error) {
	helpers, err := Helpers(filepath.Join(root, "hack", "cue"))
	if err != nil {
		return nil, err
	}
	files, err := Files(root, dirs)
	if err != nil {
		return nil, err
	}
	var results []*Result
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		res, err := Process(f, string(data), helpers)
		if err != nil {
			return nil, err
		}
		if write && len(res.Drifted) > 0 {
			info, err := os.Stat(f)
			if err != nil {
				return nil, err
			}
			if err := os.WriteFile(f, []byte(res.Output), info.Mode().Perm()); err != nil {
				return nil, fmt.Errorf("failed to rewrite %s: %w", f, err)
			}
		}
		results = append(results, res)
	}
	return results, nil
}
