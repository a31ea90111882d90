// Package stage copies the addon's own files (and nothing else: no Go code,
// tests or examples) into a folder named after the addon, which is what
// `vela addon enable DIR` and `vela addon package DIR` expect.
package stage

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// AddonName is the addon's name; a staged folder must carry it.
const AddonName = "ml-platform"

// AddonPaths are the paths below the repo root that the addon reader reads.
var AddonPaths = []string{
	"metadata.yaml", "template.cue", "parameter.cue", "NOTES.cue", "README.md",
	"definitions", "resources", "schemas", "views", "config-templates",
}

// Stage copies the addon files of repoRoot into dst, which must end in
// AddonName. dst is emptied first.
func Stage(repoRoot, dst string) error {
	if filepath.Base(dst) != AddonName {
		return fmt.Errorf("failed to stage: the folder must be named %s (vela names the addon after it), got %s", AddonName, dst)
	}
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("failed to clear %s: %w", dst, err)
	}
	for _, p := range AddonPaths {
		src := filepath.Join(repoRoot, p)
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		if err := CopyTree(src, filepath.Join(dst, p)); err != nil {
			return fmt.Errorf("failed to stage %s: %w", p, err)
		}
	}
	return nil
}

// CopyTree copies the folder src to dst, creating the folders it needs.
func CopyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
