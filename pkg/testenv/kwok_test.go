package testenv

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// stage is the part of a kwok Stage these tests look at.
type stage struct {
	Metadata struct{ Name string }
	Spec     struct {
		ResourceRef struct{ Kind string }
		Selector    struct {
			MatchExpressions []struct {
				Key      string
				Operator string
				Values   []string
			}
		}
		Delay *struct{ DurationMilliseconds int64 }
		Next  struct {
			StatusTemplate string
			Delete         bool
		}
	}
}

func loadStages(t *testing.T) []stage {
	t.Helper()
	objs, err := decodeObjects(kwokStagesFile, kwokStages)
	if err != nil {
		t.Fatal(err)
	}
	var stages []stage
	for _, obj := range objs {
		if obj.GetAPIVersion() != "kwok.x-k8s.io/v1alpha1" || obj.GetKind() != "Stage" {
			t.Fatalf("unexpected %s %s in %s", obj.GetAPIVersion(), obj.GetKind(), kwokStagesFile)
		}
		data, _ := yaml.Marshal(obj.Object)
		var s stage
		if err := yaml.Unmarshal(data, &s); err != nil {
			t.Fatal(err)
		}
		stages = append(stages, s)
	}
	return stages
}

var labelKey = regexp.MustCompile(`^\.metadata\.labels\["([^"]+)"\]$`)

// lookup evaluates the few kwok (jq) keys the stages use against a pod.
func lookup(t *testing.T, pod map[string]interface{}, key string) []string {
	t.Helper()
	str := func(fields ...string) []string {
		v, found, _ := unstructured.NestedFieldNoCopy(pod, fields...)
		if !found || v == nil || v == "" {
			return nil
		}
		return []string{fmt.Sprint(v)}
	}
	switch {
	case key == ".metadata.deletionTimestamp":
		return str("metadata", "deletionTimestamp")
	case key == ".status.podIP":
		return str("status", "podIP")
	case key == ".status.phase":
		return str("status", "phase")
	case key == ".metadata.ownerReferences.[].kind":
		refs, _, _ := unstructured.NestedSlice(pod, "metadata", "ownerReferences")
		var kinds []string
		for _, r := range refs {
			kinds = append(kinds, fmt.Sprint(r.(map[string]interface{})["kind"]))
		}
		return kinds
	case labelKey.MatchString(key):
		return str("metadata", "labels", labelKey.FindStringSubmatch(key)[1])
	}
	t.Fatalf("the test does not understand the stage key %q", key)
	return nil
}

func contains(values []string, want []string) bool {
	for _, v := range values {
		for _, w := range want {
			if v == w {
				return true
			}
		}
	}
	return false
}

// matchingStages returns the names of the pod stages whose selector matches pod.
func matchingStages(t *testing.T, stages []stage, pod map[string]interface{}) []string {
	var names []string
	for _, s := range stages {
		matches := true
		for _, expr := range s.Spec.Selector.MatchExpressions {
			values := lookup(t, pod, expr.Key)
			switch expr.Operator {
			case "In":
				matches = matches && contains(values, expr.Values)
			case "NotIn":
				matches = matches && !contains(values, expr.Values)
			case "Exists":
				matches = matches && len(values) > 0
			case "DoesNotExist":
				matches = matches && len(values) == 0
			default:
				t.Fatalf("stage %s: unknown operator %q", s.Metadata.Name, expr.Operator)
			}
		}
		if matches {
			names = append(names, s.Metadata.Name)
		}
	}
	sort.Strings(names)
	return names
}

func pod(phase, ownerKind string, labels map[string]interface{}) map[string]interface{} {
	p := map[string]interface{}{
		"metadata": map[string]interface{}{"name": "p", "labels": labels},
		"status":   map[string]interface{}{},
	}
	if ownerKind != "" {
		p["metadata"].(map[string]interface{})["ownerReferences"] = []interface{}{map[string]interface{}{"kind": ownerKind}}
	}
	if phase != "" {
		p["status"] = map[string]interface{}{"phase": phase, "podIP": "10.244.0.2"}
	}
	return p
}

func TestKwokStagesSendEachPodToExactlyOneStage(t *testing.T) {
	stages := loadStages(t)
	fail := map[string]interface{}{LabelSimulate: SimulateFail}
	build := map[string]interface{}{LabelBuild: "true"}
	deleting := pod("Running", "ReplicaSet", nil)
	deleting["metadata"].(map[string]interface{})["deletionTimestamp"] = "2026-01-01T00:00:00Z"

	for _, tc := range []struct {
		name string
		pod  map[string]interface{}
		want []string // nil: no stage, the pod stays as it is
	}{
		{"a new pod becomes ready", pod("", "ReplicaSet", nil), []string{"pod-ready"}},
		{"a running Deployment pod stays running", pod("Running", "ReplicaSet", nil), nil},
		{"a running Job pod completes", pod("Running", "Job", nil), []string{"pod-complete"}},
		{"a running TFJob pod completes after a delay", pod("Running", "TFJob", nil), []string{"pod-complete-kubeflow-job"}},
		{"a running PyTorchJob pod completes after a delay", pod("Running", "PyTorchJob", nil), []string{"pod-complete-kubeflow-job"}},
		{"a running build pod completes after a delay", pod("Running", "", build), []string{"pod-complete-model-build"}},
		{"a build pod owned by a Job completes after a delay", pod("Running", "Job", build), []string{"pod-complete-model-build"}},
		{"a TFJob pod labelled simulate=fail fails", pod("Running", "TFJob", fail), []string{"pod-fail-simulated"}},
		{"a Job pod labelled simulate=fail fails", pod("Running", "Job", fail), []string{"pod-fail-simulated"}},
		{"a build pod labelled simulate=fail fails", pod("Running", "", map[string]interface{}{LabelBuild: "true", LabelSimulate: SimulateFail}), []string{"pod-fail-simulated"}},
		{"a succeeded TFJob pod stays succeeded", pod("Succeeded", "TFJob", nil), nil},
		{"a deleted pod is removed", deleting, []string{"pod-delete"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := matchingStages(t, stages, tc.pod)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("stages = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestKwokStagesEndPodsAsDocumented(t *testing.T) {
	byName := map[string]stage{}
	for _, s := range loadStages(t) {
		if s.Spec.ResourceRef.Kind != "Pod" {
			t.Errorf("stage %s acts on %s; node stages should stay kwok's defaults", s.Metadata.Name, s.Spec.ResourceRef.Kind)
		}
		byName[s.Metadata.Name] = s
	}
	for name, want := range map[string][]string{
		"pod-complete-kubeflow-job": {"phase: Succeeded", "exitCode: 0"},
		"pod-complete-model-build":  {"phase: Succeeded", "exitCode: 0"},
		"pod-fail-simulated":        {"phase: Failed", "exitCode: 1", "message: simulated failure"},
	} {
		s, ok := byName[name]
		if !ok {
			t.Errorf("stage %s is missing", name)
			continue
		}
		if s.Spec.Delay == nil || s.Spec.Delay.DurationMilliseconds != 3000 {
			t.Errorf("stage %s: delay = %+v, want 3000 ms", name, s.Spec.Delay)
		}
		for _, w := range want {
			if !strings.Contains(s.Spec.Next.StatusTemplate, w) {
				t.Errorf("stage %s: status template lacks %q", name, w)
			}
		}
	}
	if !byName["pod-delete"].Spec.Next.Delete {
		t.Error("stage pod-delete does not delete the pod")
	}
}

func TestFakeNodeFitsGPUWorkloads(t *testing.T) {
	node := fakeNode()
	if node.Annotations["kwok.x-k8s.io/node"] != "fake" {
		t.Errorf("the node is not selected by kwok's %s", fakeNodeAnnotationSelector)
	}
	if len(node.Spec.Taints) != 0 {
		t.Errorf("the node has taints %v; ordinary pods would not schedule", node.Spec.Taints)
	}
	for name, min := range map[string]int64{"pods": 1000, "cpu": 100, string(ResourceNvidiaGPU): 1, string(ResourceAliyunGPU): 1} {
		q := node.Status.Allocatable[corev1.ResourceName(name)]
		if q.Value() < min {
			t.Errorf("allocatable %s = %s, want at least %d", name, q.String(), min)
		}
	}
}
