package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

const (
	kubeVelaModule = "github.com/oam-dev/kubevela"
	velaSystem     = "vela-system"
	fieldManager   = "ml-platform-controlplane"
	applyWorkers   = 4
)

// installKubeVelaCRDs creates the vela-system namespace and the CRDs of the
// vela-core Helm chart.
func installKubeVelaCRDs(ctx context.Context, cfg *rest.Config, release string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a client: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: velaSystem}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create namespace %s: %w", velaSystem, err)
	}
	files, err := CRDsFromModule(kubeVelaModule, release, "charts/vela-core/crds/*.yaml")
	if err != nil {
		return err
	}
	return InstallCRDs(ctx, cfg, files...)
}

// applyKubeVelaSystem server-side applies what the vela-core Helm chart puts
// into vela-system besides the controller: the built-in definitions and the
// velaql views. It adds the addon registry ConfigMap (empty: no network) and
// the vela-core placeholder Deployment. It returns the number of objects.
func applyKubeVelaSystem(ctx context.Context, cfg *rest.Config, release string) (int, error) {
	objs, err := kubeVelaSystemObjects(release)
	if err != nil {
		return 0, err
	}
	if err := applyObjects(ctx, cfg, objs); err != nil {
		return 0, err
	}
	if err := createAddonRegistry(ctx, cfg); err != nil {
		return 0, err
	}
	return len(objs) + 1, nil
}

// kubeVelaSystemObjects renders the chart's definition and velaql templates.
// Their only template expression is the system definition namespace.
func kubeVelaSystemObjects(release string) ([]*unstructured.Unstructured, error) {
	dir, err := moduleDir(kubeVelaModule, release)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, glob := range []string{"defwithtemplate/*.yaml", "velaql/*.yaml"} {
		matches, err := filepath.Glob(filepath.Join(dir, "charts/vela-core/templates", glob))
		if err != nil || len(matches) == 0 {
			return nil, fmt.Errorf("failed to find charts/vela-core/templates/%s in %s", glob, dir)
		}
		files = append(files, matches...)
	}
	var objs []*unstructured.Unstructured
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("failed to read %s: %w", file, err)
		}
		data = bytes.ReplaceAll(data, []byte(`{{ include "systemDefinitionNamespace" . }}`), []byte(velaSystem))
		docs, err := decodeObjects(file, data)
		if err != nil {
			return nil, err
		}
		objs = append(objs, docs...)
	}
	placeholder, err := runtime.DefaultUnstructuredConverter.ToUnstructured(velaCorePlaceholder(release))
	if err != nil {
		return nil, fmt.Errorf("failed to convert the vela-core placeholder: %w", err)
	}
	return append(objs, &unstructured.Unstructured{Object: placeholder}), nil
}

// velaCorePlaceholder stands in for the vela-core Deployment of a Helm
// install. KubeVela's addon code reads the core version from the image tag of
// its "kubevela" container to check an addon's `system.vela` requirement.
// vela-core itself runs as a local process, so it has no replicas.
func velaCorePlaceholder(release string) *appsv1.Deployment {
	labels := map[string]string{"controller.oam.dev/name": "vela-core", "app.kubernetes.io/name": "vela-core"}
	return &appsv1.Deployment{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "kubevela-vela-core", Namespace: velaSystem, Labels: labels,
			Annotations: map[string]string{"ml-platform.oam.dev/placeholder": "vela-core runs as a local process (pkg/testenv)"},
		},
		Spec: appsv1.DeploymentSpec{
			Replicas: new(int32),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "kubevela", Image: "oamdev/vela-core:" + release,
				}}},
			},
		},
	}
}

// createAddonRegistry creates the ConfigMap `vela addon` reads its registries
// from, unless it exists (a user may have added registries since).
func createAddonRegistry(ctx context.Context, cfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a client: %w", err)
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "vela-addon-registry", Namespace: velaSystem},
		Data:       map[string]string{"registries": "{}"},
	}
	if _, err := cs.CoreV1().ConfigMaps(velaSystem).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("failed to create the addon registry ConfigMap: %w", err)
	}
	return nil
}

// applyObjects server-side applies objs with a few parallel workers.
func applyObjects(ctx context.Context, cfg *rest.Config, objs []*unstructured.Unstructured) error {
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))

	work := make(chan *unstructured.Unstructured)
	errs := make([]error, applyWorkers)
	var wg sync.WaitGroup
	for i := 0; i < applyWorkers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for obj := range work {
				if err := applyObject(ctx, client, mapper, obj); err != nil && errs[i] == nil {
					errs[i] = err
				}
			}
		}(i)
	}
	for _, obj := range objs {
		work <- obj
	}
	close(work)
	wg.Wait()
	return errors.Join(errs...)
}

func applyObject(ctx context.Context, client dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, obj *unstructured.Unstructured) error {
	gvk := obj.GroupVersionKind()
	mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("failed to map %s: %w", gvk, err)
	}
	api := client.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	_, err = api.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: fieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("failed to apply %s %s/%s: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
