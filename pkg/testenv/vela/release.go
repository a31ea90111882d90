package vela

import (
	"fmt"
	"os"
	"strings"
)

// The KubeVela releases the project builds and tests with. Each has a tool
// module hack/tools/vela/<release> that builds its vela-core and vela CLI
// (pkg/testenv's TestKubeVelaReleasesMatchToolModules keeps the two
// lists equal; hack/tools/build.sh accepts exactly those folders).
var Releases = []string{"v1.9.13", "v1.10.9", "v1.11.0"}

// DefaultRelease is the release used when $VELA is not set.
const DefaultRelease = "v1.11.0"

// EnvRelease names the environment variable that picks the release
// (`make demo VELA=v1.10.9`); EnvBinary overrides the CLI binary itself.
const (
	EnvRelease = "VELA"
	EnvBinary  = "VELA_BIN"
)

// CheckRelease fails unless release is one of Releases.
func CheckRelease(release string) error {
	for _, r := range Releases {
		if r == release {
			return nil
		}
	}
	return fmt.Errorf("unsupported KubeVela release %q (supported: %s)", release, strings.Join(Releases, ", "))
}

// Release returns the release $VELA names, else DefaultRelease; an
// unsupported value is an error naming the supported ones.
func Release() (string, error) {
	release := os.Getenv(EnvRelease)
	if release == "" {
		return DefaultRelease, nil
	}
	if err := CheckRelease(release); err != nil {
		return "", fmt.Errorf("$%s: %w", EnvRelease, err)
	}
	return release, nil
}
