package vela

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReleaseComesFromVELA(t *testing.T) {
	t.Setenv(EnvRelease, "")
	if r, err := Release(); err != nil || r != DefaultRelease {
		t.Errorf("Release() with $VELA unset = %q, %v; want %s", r, err, DefaultRelease)
	}
	t.Setenv(EnvRelease, "v1.10.9")
	if r, err := Release(); err != nil || r != "v1.10.9" {
		t.Errorf("Release() with VELA=v1.10.9 = %q, %v", r, err)
	}
	t.Setenv(EnvRelease, "v1.8.0")
	_, err := Release()
	if err == nil || !strings.Contains(err.Error(), strings.Join(Releases, ", ")) {
		t.Errorf("Release() with VELA=v1.8.0 = %v, want an error listing %v", err, Releases)
	}
}

func TestDefaultReleaseIsSupported(t *testing.T) {
	if err := CheckRelease(DefaultRelease); err != nil {
		t.Error(err)
	}
}

func TestFindBinaryPicksTheReleaseBuild(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("ML_PLATFORM_CACHE", cache)
	t.Setenv(EnvBinary, "")
	t.Setenv("PATH", t.TempDir())
	for _, r := range Releases {
		bin := filepath.Join(cache, "bin", "vela-"+r)
		_ = os.MkdirAll(filepath.Dir(bin), 0o755)
		if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range Releases {
		t.Setenv(EnvRelease, r)
		if got, err := FindBinary(); err != nil || got != filepath.Join(cache, "bin", "vela-"+r) {
			t.Errorf("VELA=%s: FindBinary() = %s, %v", r, got, err)
		}
	}
	t.Setenv(EnvRelease, "")
	if got, _ := FindBinary(); got != filepath.Join(cache, "bin", "vela-"+DefaultRelease) {
		t.Errorf("FindBinary() with $VELA unset = %s, want the default release's build", got)
	}
	t.Setenv(EnvBinary, "/opt/vela")
	if got, _ := FindBinary(); got != "/opt/vela" {
		t.Errorf("FindBinary() with VELA_BIN=/opt/vela = %s", got)
	}
	t.Setenv(EnvBinary, "")
	t.Setenv(EnvRelease, "v1.9.13")
	_ = os.Remove(filepath.Join(cache, "bin", "vela-v1.9.13"))
	if _, err := FindBinary(); err == nil || !strings.Contains(err.Error(), "VELA=v1.9.13 hack/tools/build.sh vela") {
		t.Errorf("FindBinary() without the v1.9.13 build = %v, want an error saying how to build it", err)
	}
}
