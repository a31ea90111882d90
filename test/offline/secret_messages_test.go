package offline

import (
	"strings"
	"testing"
)

// The offline validator never prints a value given where a credential may
// go, also in the properties where KubeVela's own dry-run still prints it
// (CUE's type conflict on the cluster path, which only the definition can
// avoid): so these are not cases of the corpus, whose every case the
// cluster path must refuse without printing the credential.
func TestOfflineMessagesNeverPrintACredentialOfTheWrongKind(t *testing.T) {
	cases := map[string]struct {
		typ, props, want, secret string
	}{
		"k8s-cluster keyPair object": {
			"k8s-cluster", "provider: alibaba\n        resource: ACK\n        region: cn-hangzhou\n        keyPair: {privateKey: hunter2PrivateKey}",
			`component "c" (k8s-cluster): properties.keyPair: must be a string, got an object`, "hunter2PrivateKey"},
		"k8s-cluster keyPair list": {
			"k8s-cluster", "provider: alibaba\n        resource: ACK\n        region: cn-hangzhou\n        keyPair: [hunter2PrivateKey]",
			`component "c" (k8s-cluster): properties.keyPair: must be a string, got a list`, "hunter2PrivateKey"},
		"k8s-cluster providerRef string": {
			"k8s-cluster", "provider: alibaba\n        resource: ACK\n        region: cn-hangzhou\n        providerRef: 'LTAI5t:hunter2Secret'",
			`component "c" (k8s-cluster): properties.providerRef: must be an object, got a string`, "hunter2Secret"},
		"k8s-cluster providerRef.name object": {
			"k8s-cluster", "provider: alibaba\n        resource: ACK\n        region: cn-hangzhou\n        providerRef: {name: {accessKeySecret: hunter2Secret}}",
			`component "c" (k8s-cluster): properties.providerRef.name: must be a string, got an object`, "hunter2Secret"},
		"s3-bucket providerRef string": {
			"s3-bucket", "provider: alibaba\n        bucket: ml-example\n        region: cn-hangzhou\n        providerRef: 'LTAI5t:hunter2Key'",
			`component "c" (s3-bucket): properties.providerRef: must be an object, got a string`, "hunter2Key"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			app := "apiVersion: core.oam.dev/v1beta1\nkind: Application\nmetadata:\n  name: secret-messages\nspec:\n  components:\n    - name: c\n      type: " +
				c.typ + "\n      properties:\n        " + c.props + "\n"
			err := renderCorpusCase(t, []byte(app))
			if err == nil {
				t.Fatalf("rendered; want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("the error lacks %q:\n%v", c.want, err)
			}
			if strings.Contains(err.Error(), c.secret) {
				t.Errorf("the error prints the credential %q:\n%v", c.secret, err)
			}
		})
	}
}
