package offline

import (
	"testing"

	"github.com/ml-platform/ml-platform/pkg/render"
)

// trStatus evaluates the tfjob definition's healthPolicy and customStatus
// against a TFJob status, as the application controller does.
func trStatus(t *testing.T, spec, status map[string]interface{}) (bool, string) {
	t.Helper()
	def := addonRenderer(t).Catalog().Get(render.KindComponent, "tfjob")
	if def == nil {
		t.Fatal("no tfjob component")
	}
	output := map[string]interface{}{"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "metadata": map[string]interface{}{"name": "my-tfjob-v1"}}
	if spec != nil {
		output["spec"] = spec
	}
	if status != nil {
		output["status"] = status
	}
	ctx := map[string]interface{}{"output": output, "outputs": map[string]interface{}{}}
	res, err := def.Status(ctx, nil)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return res.Healthy, res.Message
}

func trCond(typ, status, message string) map[string]interface{} {
	c := map[string]interface{}{"type": typ, "status": status, "reason": "TFJob" + typ}
	if message != "" {
		c["message"] = message
	}
	return c
}

func TestTrainingTFJobHealthAndStatus(t *testing.T) {
	workers3 := map[string]interface{}{"tfReplicaSpecs": map[string]interface{}{
		"PS":     map[string]interface{}{"replicas": int64(1)},
		"Worker": map[string]interface{}{"replicas": int64(3)},
	}}
	chiefOnly := map[string]interface{}{"tfReplicaSpecs": map[string]interface{}{
		"Chief":     map[string]interface{}{},
		"Evaluator": map[string]interface{}{"replicas": int64(1)},
	}}
	cases := []struct {
		name    string
		spec    map[string]interface{}
		status  map[string]interface{}
		healthy bool
		message string
	}{
		{"no status yet", workers3, nil, false, "Waiting for the training operator to pick up TFJob my-tfjob-v1"},
		{"created", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Created", "True", "TFJob my-tfjob-v1 is created.")}},
			false, "Created, waiting for pods"},
		{"running", workers3, map[string]interface{}{
			"conditions":      []interface{}{trCond("Created", "True", ""), trCond("Running", "True", "")},
			"replicaStatuses": map[string]interface{}{"Worker": map[string]interface{}{"active": int64(2)}, "PS": map[string]interface{}{"active": int64(1)}},
		}, false, "Running: 2/3 workers active"},
		{"running without workers", chiefOnly, map[string]interface{}{
			"conditions":      []interface{}{trCond("Running", "True", "")},
			"replicaStatuses": map[string]interface{}{"Chief": map[string]interface{}{"active": int64(1)}},
		}, false, "Running: 1/2 replicas active"},
		{"restarting", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Created", "True", ""), trCond("Running", "False", ""), trCond("Restarting", "True", "worker 1 restarted")}},
			false, "Restarting: worker 1 restarted"},
		{"succeeded", workers3, map[string]interface{}{
			"conditions":     []interface{}{trCond("Created", "True", ""), trCond("Running", "False", ""), trCond("Succeeded", "True", "TFJob my-tfjob-v1 successfully completed.")},
			"startTime":      "2026-02-28T23:58:00Z",
			"completionTime": "2026-03-01T00:02:00Z",
		}, true, "Succeeded in 4m"},
		{"succeeded after hours", workers3, map[string]interface{}{
			"conditions":     []interface{}{trCond("Succeeded", "True", "")},
			"startTime":      "2024-12-31T22:10:05Z",
			"completionTime": "2025-01-01T01:30:50Z",
		}, true, "Succeeded in 3h20m"},
		{"succeeded quickly", workers3, map[string]interface{}{
			"conditions":     []interface{}{trCond("Succeeded", "True", "")},
			"startTime":      "2026-06-01T10:00:00Z",
			"completionTime": "2026-06-01T10:00:42Z",
		}, true, "Succeeded in 42s"},
		{"succeeded without times", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Succeeded", "True", "")}}, true, "Succeeded"},
		{"failed", workers3, map[string]interface{}{"conditions": []interface{}{
			trCond("Created", "True", ""), trCond("Running", "False", ""),
			trCond("Failed", "True", "TFJob team-a/my-tfjob-v1 has failed because 1 Worker replica(s) failed."),
		}}, false, "Failed: TFJob team-a/my-tfjob-v1 has failed because 1 Worker replica(s) failed."},
		{"a False Succeeded is not success", workers3, map[string]interface{}{"conditions": []interface{}{trCond("Succeeded", "False", "")}},
			false, "Created, waiting for pods"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			healthy, msg := trStatus(t, c.spec, c.status)
			if healthy != c.healthy {
				t.Errorf("healthy = %v, want %v", healthy, c.healthy)
			}
			if msg != c.message {
				t.Errorf("message = %q, want %q", msg, c.message)
			}
		})
	}
}
