// Package inline keeps the copies of the shared CUE helpers in cue/
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
// cue/<helper>.cue (the lines after its `// ml-platform:inline-text`
// line), indented like the begin marker. Check reports the copies that differ.
//
// Two extensions keep the same markers:
//   - a helper's text may itself carry regions of other helpers (the
//     applyandwait helper carries validproperties); they are expanded when the
//     helper is read, and the helper files in cue are checked like the
//     definitions;
//   - a Terraform file cue/terraform/<name>.tf is the helper
//     `terraform/<name>.tf`: its text (after its `# ml-platform:inline-text`
//     line) is inlined as a CUE field `"<name>.tf": #"""...."""#` whose string
//     value is exactly that text, so the .tf file stays what `terraform fmt`
//     checks and the definition gets the same bytes.
package inline

import (
	"cuelang.org/go/cue/format"
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

// TerraformTextMarker is TextMarker in a Terraform helper (cue/terraform/*.tf).
const TerraformTextMarker = "# ml-platform:inline-text"

// DefaultDirs are the folders, relative to the repository root, whose *.cue
// files carry inlined helpers.
var DefaultDirs = []string{"definitions", filepath.Join("test", "offline", "testdata", "definitions"), "cue"}

var markerRE = regexp.MustCompile(`^([ \t]*)// ml-platform:inline ([a-z0-9-]+|terraform/[a-z0-9-]+\.tf) (begin|end)[ \t]*$`)

// Helpers reads the canonical text of every helper in dir (cue), keyed
// by helper name: the file name without .cue, and terraform/<name>.tf for
// the Terraform files of dir/terraform. Regions of other helpers inside a
// helper's text are expanded.
func Helpers(dir string) (map[string]string, error) {
	raw := map[string]string{}
	files, err := filepath.Glob(filepath.Join(dir, "*.cue"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		text, err := helperText(f, TextMarker)
		if err != nil {
			return nil, err
		}
		raw[strings.TrimSuffix(filepath.Base(f), ".cue")] = text
	}
	tfFiles, err := filepath.Glob(filepath.Join(dir, "terraform", "*.tf"))
	if err != nil {
		return nil, err
	}
	for _, f := range tfFiles {
		text, err := helperText(f, TerraformTextMarker)
		if err != nil {
			return nil, err
		}
		field, err := TerraformField(filepath.Base(f), text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		raw["terraform/"+filepath.Base(f)] = field
	}
	helpers := map[string]string{}
	for name := range raw {
		text, err := expand(name, raw, helpers, nil)
		if err != nil {
			return nil, err
		}
		helpers[name] = text
	}
	return helpers, nil
}

func helperText(file, marker string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("failed to read helper: %w", err)
	}
	src := string(data)
	i := strings.Index(src, marker+"\n")
	if i < 0 {
		return "", fmt.Errorf("%s: no %q line before the text to inline", file, marker)
	}
	return src[i+len(marker)+1:], nil
}

// expand returns the text of helper name with the regions of other helpers
// it carries rewritten.
func expand(name string, raw, done map[string]string, stack []string) (string, error) {
	if t, ok := done[name]; ok {
		return t, nil
	}
	for _, s := range stack {
		if s == name {
			return "", fmt.Errorf("helper %s includes itself (%s)", name, strings.Join(append(stack, name), " -> "))
		}
	}
	text, ok := raw[name]
	if !ok {
		return "", fmt.Errorf("unknown helper %q", name)
	}
	nested := map[string]string{}
	for _, l := range strings.Split(text, "\n") {
		if m := markerRE.FindStringSubmatch(l); m != nil && m[3] == "begin" {
			t, err := expand(m[2], raw, done, append(stack, name))
			if err != nil {
				return "", err
			}
			nested[m[2]] = t
		}
	}
	if len(nested) == 0 {
		done[name] = text
		return text, nil
	}
	res, err := Process("cue/"+name, text, nested)
	if err != nil {
		return "", err
	}
	done[name] = res.Output
	return res.Output, nil
}

// TerraformField is the CUE text that carries the Terraform text of the
// helper file base: a field named after the file whose value, a raw
// multi-line string, is exactly text.
func TerraformField(base, text string) (string, error) {
	if !strings.HasSuffix(text, "\n") {
		return "", fmt.Errorf("the text does not end with a newline")
	}
	if strings.Contains(text, `"""#`) || strings.Contains(text, `\#`) {
		return "", fmt.Errorf(`the text holds """# or \#, which a CUE raw string cannot carry`)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// Generated from cue/terraform/%s by `go run ./cmd/cueinline`: edit there, not here.\n", base)
	fmt.Fprintf(&b, "%q: #\"\"\"\n", base)
	b.WriteString(Indent(text, "\t"))
	// The line before the closing quotes ends the string: an empty one keeps
	// the text's final newline.
	b.WriteString("\n\t\"\"\"#\n")
	return b.String(), nil
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
			return nil, fmt.Errorf("%s:%d: unknown helper %q (no cue/%s)", file, i+1, name, HelperFile(name))
		}
		end := -1
		for j := i + 1; j < len(lines); j++ {
			if em := markerRE.FindStringSubmatch(strings.TrimRight(lines[j], "\n")); em != nil {
				// Regions of other helpers belong to this helper's text.
				if em[2] != name {
					continue
				}
				if em[3] != "end" {
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
	// A .cue file is written as the CUE formatter (cmd/cuefmt) writes it,
	// which may put a blank line or alignment into a region depending on
	// its neighbours: a copy that differs from the helper only so is no
	// drift.
	if strings.HasSuffix(file, ".cue") {
		if formatted, err := format.Source([]byte(res.Output)); err == nil {
			res.Output = string(formatted)
			if res.Output == src {
				res.Drifted = nil
			}
		}
	}
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
// root/cue. With write, it rewrites the files whose regions drifted.
func Run(root string, dirs []string, write bool) ([]*Result, error) {
	helpers, err := Helpers(filepath.Join(root, "cue"))
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

// HelperFile is the file of helper name, relative to cue.
func HelperFile(name string) string {
	if strings.HasPrefix(name, "terraform/") {
		return name
	}
	return name + ".cue"
}
