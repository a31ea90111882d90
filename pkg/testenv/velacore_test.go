package testenv

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"sigs.k8s.io/yaml"
)

// velaCoreLocalFlags are the chart's controller flags that the local
// vela-core deliberately sets otherwise or leaves out, with the reason.
var velaCoreLocalFlags = map[string]string{
	"--metrics-addr":            "listens on 127.0.0.1 at BasePort+80, not on :8080 of a pod",
	"--health-addr":             "listens on 127.0.0.1 at BasePort+81, not on :9440 of a pod",
	"--enable-leader-election":  "off: one process, restarted by tests; waiting for a lease would slow each restart",
	"--use-webhook":             "off: no webhook Service, certificate or webhook configuration exists for a local process",
	"--webhook-port":            "no webhook (see --use-webhook)",
	"--webhook-cert-dir":        "no webhook (see --use-webhook)",
	"--enable-cluster-gateway":  "off: one cluster; the cluster-gateway aggregated API server is not run",
	"--cluster-gateway-url":     "no cluster-gateway (see --enable-cluster-gateway)",
	"--cluster-gateway-ca-file": "no cluster-gateway (see --enable-cluster-gateway)",
}

// velaCoreLocalEnv are environment variables the local vela-core gets that a
// pod does not.
var velaCoreLocalEnv = map[string]string{
	"KUBECONFIG": "a local process has no in-cluster service account; it uses the admin kubeconfig",
}

// TestVelaCoreRunsWithItsChartDefaults renders the vela-core Helm chart of
// every supported release with its default values (offline, from the module
// cache) and checks that the local vela-core gets the controller's flags and
// environment, except velaCoreLocalFlags and velaCoreLocalEnv.
func TestVelaCoreRunsWithItsChartDefaults(t *testing.T) {
	for _, release := range KubeVelaReleases {
		t.Run(release, func(t *testing.T) {
			if _, ok := velaCoreChartArgs[release]; !ok {
				t.Fatalf("velaCoreChartArgs has no entry for %s", release)
			}
			chartArgs, chartEnv := renderVelaCoreController(t, release)
			e := &Environment{KubeVela: release, StateDir: "/state", BinDir: "/bin", BasePort: 16000}
			e.setDefaults()
			c := mustComponent(VelaCore)
			_, args := e.command(c)
			want, got := flagMap(chartArgs), flagMap(args)
			for _, name := range sortedKeys(want) {
				if _, local := velaCoreLocalFlags[name]; local {
					continue
				}
				if g, ok := got[name]; !ok {
					t.Errorf("the chart sets %s=%s; we do not", name, want[name])
				} else if g != want[name] {
					t.Errorf("the chart sets %s=%s; we set %s", name, want[name], g)
				}
			}
			for _, name := range sortedKeys(got) {
				if _, local := velaCoreLocalFlags[name]; local {
					continue
				}
				if _, ok := want[name]; !ok {
					t.Errorf("we set %s=%s, which the chart does not (add it to velaCoreLocalFlags with a reason, or drop it)", name, got[name])
				}
			}
			var env []string
			for _, kv := range c.env(e) {
				if name, _, _ := strings.Cut(kv, "="); velaCoreLocalEnv[name] == "" {
					env = append(env, kv)
				}
			}
			sort.Strings(env)
			sort.Strings(chartEnv)
			if strings.Join(env, "\n") != strings.Join(chartEnv, "\n") {
				t.Errorf("environment = %v, the chart's = %v", env, chartEnv)
			}
		})
	}
}

// renderVelaCoreController renders release's vela-core chart with its
// default values and returns the args and env ("NAME=value") of the
// controller container.
func renderVelaCoreController(t *testing.T, release string) (args, env []string) {
	t.Helper()
	dir, err := moduleDir(kubeVelaModule, release)
	if err != nil {
		t.Skipf("kubevela %s is not in the module cache and cannot be downloaded: %v", release, err)
	}
	chart, err := loader.Load(filepath.Join(dir, "charts", "vela-core"))
	if err != nil {
		t.Fatal(err)
	}
	const name = "kubevela"
	values, err := chartutil.ToRenderValues(chart, map[string]interface{}{},
		chartutil.ReleaseOptions{Name: name, Namespace: velaSystem, IsInstall: true, Revision: 1}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	out, err := engine.Render(chart, values)
	if err != nil {
		t.Fatalf("failed to render the %s chart: %v", release, err)
	}
	manifest := out["vela-core/templates/kubevela-controller.yaml"]
	objs, err := decodeObjects("kubevela-controller.yaml", []byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	for _, obj := range objs {
		if obj.GetKind() != "Deployment" {
			continue
		}
		var d struct {
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Name string
							Args []string
							Env  []struct{ Name, Value string }
						}
					}
				}
			}
		}
		data, _ := yaml.Marshal(obj.Object)
		if err := yaml.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name != name {
				continue
			}
			for _, e := range c.Env {
				env = append(env, e.Name+"="+e.Value)
			}
			return c.Args, env
		}
	}
	t.Fatalf("no Deployment with a %s container in the %s chart's kubevela-controller.yaml:\n%s", name, release, manifest)
	return nil, nil
}

// flagMap keys flags by name ("--feature-gates=<Gate>" per gate); a flag
// without a value is "true".
func flagMap(args []string) map[string]string {
	m := map[string]string{}
	for _, arg := range args {
		name, value, ok := strings.Cut(arg, "=")
		if !ok {
			value = "true"
		}
		if name == "--feature-gates" {
			gate, v, _ := strings.Cut(value, "=")
			name, value = name+"="+strings.TrimSpace(gate), strings.TrimSpace(v)
		}
		m[name] = value
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestKubeVelaReleasesMatchToolModules(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("..", "..", "hack", "tools", "vela", "v*"))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, dir := range dirs {
		found = append(found, filepath.Base(dir))
	}
	sort.Strings(found)
	want := append([]string(nil), KubeVelaReleases...)
	sort.Strings(want)
	if strings.Join(found, " ") != strings.Join(want, " ") {
		t.Errorf("hack/tools/vela holds %v, KubeVelaReleases (pkg/testenv/vela.Releases) is %v: keep them equal (build.sh accepts the folders)", found, want)
	}
	// build.sh and the Makefile name the default release too.
	for file, pattern := range map[string]string{
		filepath.Join("..", "..", "hack", "tools", "build.sh"): `(?m)^DEFAULT_VELA=(\S+)$`,
		filepath.Join("..", "..", "Makefile"):                  `(?m)^export VELA \?= (\S+)$`,
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		m := regexp.MustCompile(pattern).FindSubmatch(data)
		if m == nil || string(m[1]) != DefaultKubeVelaRelease {
			t.Errorf("%s does not default to KubeVela %s (pattern %s)", file, DefaultKubeVelaRelease, pattern)
		}
	}
	// The Makefile's RELEASES (make clis, make e2e-releases) lists them all.
	data, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	if m := regexp.MustCompile(`(?m)^RELEASES := (.+)$`).FindSubmatch(data); m != nil {
		got = string(m[1])
	}
	if want := strings.Join(KubeVelaReleases, " "); got != want {
		t.Errorf("the Makefile's RELEASES is %q, want %q", got, want)
	}
}
