// Package addon enables the ml-platform addon on a cluster as a platform
// engineer does: it stages the addon's files into a folder named
// ml-platform (pkg/stage), optionally packs them with `vela addon package`
// and unpacks the archive (what an addon registry serves), and runs
// `vela addon enable` on that folder, which returns once the addon
// application runs.
//
// cmd/demo, cmd/benchscale and the e2e suite all enable the addon with it.
package addon

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ml-platform/ml-platform/pkg/stage"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// Options say where the addon comes from and how it is enabled.
type Options struct {
	// CLI runs vela against the cluster. When its Home is empty, vela runs
	// with the work folder as HOME, so that the user's ~/.vela is untouched.
	CLI *vela.CLI
	// RepoRoot is the addon's root folder; "." when empty.
	RepoRoot string
	// Params are the addon parameters as key=value, for example
	// installTrainingOperator=false.
	Params []string
	// FromArchive enables the unpacked `vela addon package` archive instead
	// of the staged folder.
	FromArchive bool
	// WorkDir holds the staged folder, the archive and the unpacked archive.
	// When empty, a temporary folder is used and removed before Enable
	// returns.
	WorkDir string
	// Logf, when set, is told each vela command before it runs.
	Logf func(format string, args ...interface{})
}

// Enabled is what Enable did.
type Enabled struct {
	// Dir is the folder vela enabled.
	Dir string
	// Archive is the archive `vela addon package` wrote (FromArchive only).
	Archive string
	// Output is what `vela addon enable` printed.
	Output string
}

// Enable stages the addon of o.RepoRoot and enables it with o.Params (see
// the package doc). Dir and Archive are gone on return unless o.WorkDir is
// set.
func Enable(ctx context.Context, o Options) (*Enabled, error) {
	if o.CLI == nil {
		return nil, fmt.Errorf("failed to enable the addon: no vela CLI")
	}
	root := o.RepoRoot
	if root == "" {
		root = "."
	}
	work := o.WorkDir
	if work == "" {
		tmp, err := os.MkdirTemp("", "ml-platform-addon")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	cli := *o.CLI
	if cli.Home == "" {
		cli.Home = work
	}
	logf := o.Logf
	if logf == nil {
		logf = func(string, ...interface{}) {}
	}

	res := &Enabled{Dir: filepath.Join(work, "staged", stage.AddonName)}
	if err := stage.Stage(root, res.Dir); err != nil {
		return nil, err
	}
	if o.FromArchive {
		out := filepath.Join(work, "archive")
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, err
		}
		logf("vela addon package %s", res.Dir)
		archive, err := cli.PackageAddon(ctx, res.Dir, out)
		if err != nil {
			return nil, err
		}
		unpacked := filepath.Join(work, "unpacked")
		if err := untar(archive, unpacked); err != nil {
			return nil, fmt.Errorf("failed to unpack %s: %w", archive, err)
		}
		res.Archive, res.Dir = archive, filepath.Join(unpacked, stage.AddonName)
	}
	logf("vela addon enable %s", strings.Join(append([]string{res.Dir}, o.Params...), " "))
	out, err := cli.EnableAddon(ctx, res.Dir, o.Params...)
	if err != nil {
		return nil, err
	}
	res.Output = out
	return res, nil
}

// untar unpacks a .tgz archive into dir; no entry lands outside dir.
func untar(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
			continue
		case tar.TypeReg:
		default:
			return fmt.Errorf("%s: unexpected entry type %q in an addon archive", h.Name, h.Typeflag)
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o644); err != nil {
			return err
		}
	}
}
