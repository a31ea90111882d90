package offline

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kubevela/workflow/api/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/pkg/multicluster"

	"github.com/ml-platform/ml-platform/pkg/render"
)

const multiclusterExample = "examples/multicluster/app.yaml"

// ---- the ml-model-serving step across clusters ----

// servingClustersApp serves into the cluster prod, named by the topology
// policy prod.
const servingClustersApp = `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: pipeline
  namespace: ml
spec:
  components:
    - name: mymodel
      type: tfserving
      properties:
        predictors:
          - name: stable
            modelImage: myrepo/mymodel:mymodel-v1
            modelName: mymodel
  policies:
    - name: prod
      type: topology
      properties:
        clusters: ["prod"]
        namespace: ml-production
  workflow:
    steps:
      - name: serve-model-in-prod
        type: ml-model-serving
        properties:
          component: mymodel
          env: prod
`

const svClustersWaiting = "waiting for predictors to be available: mymodel in ml-production (cluster prod): stable 0/1 ready"

// clusterSecret is the Secret `vela cluster join` writes for cluster name.
func clusterSecret(name string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: multicluster.ClusterGatewaySecretNamespace,
			Labels: map[string]string{"cluster.core.oam.dev/cluster-credential-type": "X509Certificate"},
		},
		Data: map[string][]byte{"endpoint": []byte("https://prod.example:6443")},
	}
}

// unreachableClient fails every read of a Namespace in one cluster the way
// cluster-gateway does while that cluster's apiserver is down.
type unreachableClient struct {
	client.Client
	cluster string
	down    bool
}

func (c *unreachableClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if u, ok := obj.(*unstructured.Unstructured); ok && u.GetKind() == "Namespace" && c.down && multicluster.ClusterNameInContext(ctx) == c.cluster {
		return errors.New("dial tcp 10.0.0.7:6443: connect: connection refused")
	}
	return c.Client.Get(ctx, key, obj, opts...)
}

// svAppliedTo asserts that the step applied the component once, into cluster.
func svAppliedTo(t testing.TB, w *stepWorld, cluster string) {
	t.Helper()
	if got := w.Applied(); len(got) == 0 || got[len(got)-1].Cluster != cluster {
		t.Errorf("the component was applied to %+v, want cluster %q", got, cluster)
	}
	w.wantApplied("mymodel in ml-production")
}

var servingClustersCases = []stepCase{
	{"deploys into the cluster the topology policy names", func(t testing.TB) {
		w := newStepWorld(t, servingClustersApp, clusterSecret("dev"), clusterSecret("prod"))
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning, svClustersWaiting)
		svAppliedTo(t, w, "prod")
	}},
	{"waits, naming a cluster that is not joined, and goes on once it is", func(t testing.TB) {
		w := newStepWorld(t, servingClustersApp)
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning,
			"cluster prod of topology policy prod is not joined to KubeVela (vela cluster list does not show it): waiting until it is joined")
		w.wantApplied()
		if err := w.Client.Create(context.Background(), clusterSecret("prod")); err != nil {
			t.Fatal(err)
		}
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning, svClustersWaiting)
		svAppliedTo(t, w, "prod")
	}},
	{"waits, naming a cluster that does not answer, and goes on once it does", func(t testing.TB) {
		w := newStepWorld(t, servingClustersApp, clusterSecret("prod"))
		down := &unreachableClient{Client: w.Client, cluster: "prod", down: true}
		w.Client = down
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning,
			"cluster prod cannot be reached (reading namespace ml-production: dial tcp 10.0.0.7:6443: connect: connection refused): waiting until it answers")
		w.wantApplied()
		down.down = false
		stepWant(t, w.Run("serve-model-in-prod"), v1alpha1.WorkflowStepPhaseRunning, svClustersWaiting)
		svAppliedTo(t, w, "prod")
	}},
}

func TestServingStepAcrossClusters(t *testing.T) { runStepCases(t, servingClustersCases) }

// The cross-cluster example is the pipeline example plus the topology
// policies dev and prod, which name the clusters dev and prod.
func TestMulticlusterExampleIsThePipelineAcrossClusters(t *testing.T) {
	pipeline, _, err := render.ReadApplication(filepath.Join(repoRoot, "examples/pipeline/app.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	across, _, err := render.ReadApplication(filepath.Join(repoRoot, multiclusterExample))
	if err != nil {
		t.Fatal(err)
	}
	clusters := map[string]interface{}{}
	for _, p := range across.Spec.Policies {
		var props map[string]interface{}
		if err := json.Unmarshal(p.Properties.Raw, &props); err != nil {
			t.Fatal(err)
		}
		clusters[p.Name+" "+p.Type] = props
	}
	assertEqual(t, "policies", clusters, map[string]interface{}{
		"dev topology":  map[string]interface{}{"clusters": []interface{}{"dev"}},
		"prod topology": map[string]interface{}{"clusters": []interface{}{"prod"}},
	})
	pipeline.Spec.Policies = across.Spec.Policies
	if !reflect.DeepEqual(pipeline.Spec, across.Spec) {
		t.Errorf("%s is not examples/pipeline/app.yaml plus its policies: keep the two the same", multiclusterExample)
	}
}

// The example's serving steps deploy into the clusters of the policies
// named like their env, each in <application namespace>-<env>.
func TestMulticlusterExampleServesIntoItsClusters(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot, multiclusterExample))
	if err != nil {
		t.Fatal(err)
	}
	app := strings.Replace(string(data), "metadata:\n  name: ml-pipeline\n", "metadata:\n  name: ml-pipeline\n  namespace: ml\n", 1)
	w := newStepWorld(t, app, clusterSecret("dev"), clusterSecret("prod"), servingRecord("mymodel-v1", "mymodel", ""), servingRecord("mymodel-v2", "mymodel", ""))
	for _, c := range []struct{ step, cluster, namespace string }{
		{"serve-model-in-dev", "dev", "ml-dev"},
		{"serve-model-in-prod", "prod", "ml-prod"},
	} {
		stepWantPhase(t, w.Run(c.step), v1alpha1.WorkflowStepPhaseRunning)
		applied := w.Applied()
		if len(applied) != 1 || applied[0].Cluster != c.cluster || applied[0].Namespace != c.namespace {
			t.Errorf("%s applied %+v, want one component in cluster %s, namespace %s", c.step, applied, c.cluster, c.namespace)
		}
		w.ForgetApplied()
	}
}
