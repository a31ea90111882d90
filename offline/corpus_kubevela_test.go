package offline

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
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
			// `# kubevela-prints-secret: <why>` names a known gap, reported in
			// the log: a value of the wrong type (a string where an object
			// belongs), which CUE itself prints on the cluster path.
			if gap := headerValues(data, "# kubevela-prints-secret:"); len(gap) > 0 {
				t.Logf("%s: KubeVela's own message prints the value: %s", name, gap[0])
				continue
			}
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
