package offline

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ml-platform/ml-platform/pkg/render"
	"github.com/ml-platform/ml-platform/pkg/testenv/vela"
)

// Every bad Application of the corpus is also given to KubeVela's own
// dry-run, the code vela-core runs when it renders an Application, so that
// the cluster path is known to refuse what the offline validator refuses.
// A case that only the offline validator can refuse carries a line
//
//	# only-offline: <why KubeVela cannot refuse it when it renders>
//
// (a workflow step, which the dry-run does not run; a cross-reference; a
// value only the API server checks). Every other case must be refused.
func TestInvalidCorpusIsRefusedByKubeVelaToo(t *testing.T) {
	cases := corpusCases(t)
	var refused, offlineOnly int
	for _, c := range cases {
		data, name := c.data, c.name
		why := ""
		if reasons := headerValues(data, "# only-offline:"); len(reasons) > 0 {
			why = reasons[0]
		}
		app, _, err := render.ParseApplication(data)
		if err != nil {
			// Not an Application at all: the API server refuses it.
			refused++
			continue
		}
		_, dryErr := addonRenderer(t).DryRun(context.Background(), app)
		switch {
		case dryErr == nil && why == "":
			t.Errorf("%s: KubeVela's dry-run renders it, so vela-core would apply it; refuse it in the definition, or add `# only-offline: <why>`", name)
		case dryErr != nil && why != "":
			t.Errorf("%s: says only-offline (%s), but KubeVela's dry-run refuses it too: %v", name, why, dryErr)
		case dryErr != nil:
			refused++
			for _, secret := range headerValues(data, "# secret:") {
				if strings.Contains(dryErr.Error(), secret) {
					t.Errorf("%s: KubeVela's message prints the credential %q:\n%v", name, secret, dryErr)
				}
			}
		default:
			offlineOnly++
		}
	}
	t.Logf("%d cases: %d refused by KubeVela's dry-run as by the offline validator, %d by the offline validator only", len(cases), refused, offlineOnly)
}

// Every message of the corpus is in the user's words: no regular
// expression, no helper field of a definition, no CUE definition name, and
// no value given on a case's `# secret: <value>` line (a credential the user
// put where a Secret's name belongs).
func TestInvalidCorpusMessagesAreInWords(t *testing.T) {
	helper := regexp.MustCompile(`(^|[\s.])_[A-Za-z]\w*[:.]`)
	var secrets int
	for _, c := range corpusCases(t) {
		err := renderCorpusCase(t, c.data)
		if err == nil {
			continue // TestInvalidCorpusIsRejectedWithFieldNamedErrors says so
		}
		msg, name := err.Error(), c.name
		if strings.Contains(msg, "=~") || strings.Contains(msg, "^[") {
			t.Errorf("%s: the message shows a regular expression:\n%s", name, msg)
		}
		if m := helper.FindString(msg); m != "" {
			t.Errorf("%s: the message names a helper field (%q):\n%s", name, strings.TrimSpace(m), msg)
		}
		if strings.Contains(msg, "#Parameter") || strings.Contains(msg, "mlpPropertiesUnderCheck") {
			t.Errorf("%s: the message names a CUE definition:\n%s", name, msg)
		}
		for _, secret := range headerValues(c.data, "# secret:") {
			secrets++
			if strings.Contains(msg, secret) {
				t.Errorf("%s: the message prints the credential %q:\n%s", name, secret, msg)
			}
		}
	}
	if secrets == 0 {
		t.Fatal("no case carries a `# secret:` line: the credential check checks nothing")
	}
}

// The `# secret:` check above runs the dry-run code of the KubeVela release
// linked into this test binary (v1.11.0). Each release words its errors its
// own way: v1.11.0 lists every CUE error of the parameter, v1.9.13 and
// v1.10.9 print the first one and "(and N more errors)". So every case with
// a `# secret:` line that the cluster path sees (no `# only-offline:`) is
// also given to each release's own `vela dry-run --offline` (the CLIs `make
// clis` builds; a release whose CLI is missing is skipped): it must refuse
// the case and print no credential, on stdout or stderr.
func TestInvalidCorpusSecretsAreNotPrintedByAnyRelease(t *testing.T) {
	defs, err := filepath.Abs(definitionsDir())
	if err != nil {
		t.Fatal(err)
	}
	type secretCase struct {
		name, path string
		secrets    []string
	}
	var cases []secretCase
	for _, c := range corpusCases(t) {
		secrets := headerValues(c.data, "# secret:")
		if len(secrets) == 0 || len(headerValues(c.data, "# only-offline:")) > 0 {
			continue
		}
		abs, err := filepath.Abs(c.path)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, secretCase{c.name, abs, secrets})
	}
	if len(cases) == 0 {
		t.Fatal("no case with a `# secret:` line reaches the cluster path: the check checks nothing")
	}
	for _, release := range vela.Releases {
		release := release
		t.Run(release, func(t *testing.T) {
			bin := vela.BuiltBinary(release)
			if _, err := os.Stat(bin); err != nil {
				t.Skipf("vela %s: no CLI at %s (make clis builds it)", release, bin)
			}
			t.Parallel()
			for _, c := range cases {
				out, err := releaseDryRun(t, bin, defs, c.path)
				if err == nil {
					t.Errorf("vela %s dry-run renders %s: vela-core would apply it", release, c.name)
					continue
				}
				for _, secret := range c.secrets {
					if strings.Contains(out, secret) {
						t.Errorf("vela %s dry-run prints the credential %q of %s:\n%s", release, secret, c.name, out)
					}
				}
			}
		})
	}
}

// releaseDryRun runs the release CLI bin's `vela dry-run --offline -d defs
// -f app` with nothing of the machine's configuration (vela.DryRunOffline)
// and returns what it printed on stdout and stderr.
func releaseDryRun(t *testing.T, bin, defs, app string) (string, error) {
	t.Helper()
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res := vela.DryRunOffline(ctx, bin, home, home, defs, app)
	if ctx.Err() != nil {
		t.Fatalf("vela dry-run of %s timed out: %v", filepath.Base(app), res.Err)
	}
	return res.Output(), res.Err
}
