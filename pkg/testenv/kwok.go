package testenv

import (
	"context"
	_ "embed"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Labels that steer the fake pod lifecycle (see kwok-stages.yaml).
const (
	// LabelBuild marks a model image build pod: kwok completes it after ~3 s.
	LabelBuild = "ml-platform.oam.dev/build"
	// LabelSimulate set to SimulateFail makes kwok fail the pod (exit code 1,
	// message "simulated failure") after ~3 s instead of completing it.
	LabelSimulate = "ml-platform.oam.dev/simulate"
	SimulateFail  = "fail"
	// FakeNodeName is the node kwok manages.
	FakeNodeName = "kwok-node-0"
	// GPU resources the fake node offers.
	ResourceNvidiaGPU = corev1.ResourceName("nvidia.com/gpu")
	ResourceAliyunGPU = corev1.ResourceName("aliyun.com/gpu-mem")
)

//go:embed kwok-stages.yaml
var kwokStages []byte

const kwokStagesFile = "kwok-stages.yaml"

func (e *Environment) writeKwokStages() error {
	if err := os.WriteFile(e.path(kwokStagesFile), kwokStages, 0o644); err != nil {
		return fmt.Errorf("failed to write the kwok stages: %w", err)
	}
	return nil
}

// fakeNode is one big node for kwok: 1000 pods, 1000 CPUs, 4 TiB memory and
// GPUs, without taints so that ordinary pods land on it.
func fakeNode() *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("1000"),
		corev1.ResourceMemory:           resource.MustParse("4Ti"),
		corev1.ResourceEphemeralStorage: resource.MustParse("10Ti"),
		corev1.ResourcePods:             resource.MustParse("1000"),
		ResourceNvidiaGPU:               resource.MustParse("64"),
		ResourceAliyunGPU:               resource.MustParse("1024"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        FakeNodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{
				"type":                   "kwok",
				"kubernetes.io/hostname": FakeNodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
			},
		},
		// kwok hands out pod IPs from the node's podCIDR; a /22 covers 1000 pods.
		Spec:   corev1.NodeSpec{PodCIDR: "10.244.0.0/22", PodCIDRs: []string{"10.244.0.0/22"}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

// createFakeNode creates the kwok node unless it exists. Its status is set on
// creation only (the apiserver ignores status in updates of the main resource).
func createFakeNode(ctx context.Context, cs kubernetes.Interface) error {
	_, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create the fake node: %w", err)
	}
	return nil
}

// nodeReady reports whether kwok has marked the fake node Ready.
func nodeReady(ctx context.Context, cs kubernetes.Interface) (bool, error) {
	node, err := cs.CoreV1().Nodes().Get(ctx, FakeNodeName, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue, nil
		}
	}
	return false, nil
}
