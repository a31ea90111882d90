package testenv

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/yaml"
)

// crdWaitTimeout bounds how long InstallCRDs waits for discovery.
const crdWaitTimeout = time.Minute

// InstallCRDs creates the CustomResourceDefinitions in files (multi-document
// YAML; documents of other kinds are an error), updates those that exist, and
// waits until discovery serves every served version of each of them. The
// objects are sent as read (unstructured), so fields newer than this client
// library are kept.
func InstallCRDs(ctx context.Context, cfg *rest.Config, files ...string) error {
	var crds []*unstructured.Unstructured
	for _, file := range files {
		objs, err := readObjects(file)
		if err != nil {
			return err
		}
		for _, obj := range objs {
			if obj.GetKind() != "CustomResourceDefinition" {
				return fmt.Errorf("failed to install %s: found a %s %q, not a CustomResourceDefinition", file, obj.GetKind(), obj.GetName())
			}
			crds = append(crds, obj)
		}
	}
	if len(crds) == 0 {
		return errors.New("failed to install CRDs: no CRD in " + strings.Join(files, ", "))
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a dynamic client: %w", err)
	}
	for _, crd := range crds {
		if err := createOrUpdate(ctx, client.Resource(crdResource), crd); err != nil {
			return err
		}
	}
	return waitForCRDs(ctx, cfg, crds)
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// createOrUpdate creates a cluster-scoped obj, or replaces it when it exists.
func createOrUpdate(ctx context.Context, api dynamic.ResourceInterface, obj *unstructured.Unstructured) error {
	_, err := api.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			existing, err := api.Get(ctx, obj.GetName(), metav1.GetOptions{})
			if err != nil {
				return err
			}
			obj.SetResourceVersion(existing.GetResourceVersion())
			_, err = api.Update(ctx, obj, metav1.UpdateOptions{})
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("failed to install %s %s: %w", obj.GetKind(), obj.GetName(), err)
	}
	return nil
}

// waitForCRDs polls discovery until each served group/version lists the plural.
func waitForCRDs(ctx context.Context, cfg *rest.Config, crds []*unstructured.Unstructured) error {
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("failed to create a discovery client: %w", err)
	}
	pending := map[string]bool{} // "group/version plural"
	for _, crd := range crds {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			version, _ := v.(map[string]interface{})
			if served, _ := version["served"].(bool); served {
				pending[fmt.Sprintf("%s/%v %s", group, version["name"], plural)] = true
			}
		}
	}
	err = wait.PollImmediateWithContext(ctx, 100*time.Millisecond, crdWaitTimeout, func(context.Context) (bool, error) {
		for key := range pending {
			gv, plural, _ := strings.Cut(key, " ")
			list, err := dc.ServerResourcesForGroupVersion(gv)
			if err != nil {
				continue
			}
			for _, r := range list.APIResources {
				if r.Name == plural {
					delete(pending, key)
				}
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		var missing []string
		for key := range pending {
			missing = append(missing, key)
		}
		return fmt.Errorf("failed to see CRDs served (%s): %w", strings.Join(missing, ", "), err)
	}
	return nil
}

// CRDsFromModule returns the files matching glob (a filepath.Glob pattern,
// relative to the module root) in module@version, downloading the module into
// the Go module cache first. It is an error when nothing matches.
func CRDsFromModule(module, version, glob string) ([]string, error) {
	dir, err := moduleDir(module, version)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		return nil, fmt.Errorf("failed to match %s in %s@%s: %w", glob, module, version, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("failed to find %s in %s@%s (%s)", glob, module, version, dir)
	}
	return files, nil
}

// moduleDir returns the folder of module@version in the Go module cache,
// running `go mod download` outside any module so no go.mod is touched.
func moduleDir(module, version string) (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", module+"@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false",
		"GONOSUMDB=github.com/oam-dev/kubevela,github.com/kubevela/workflow,github.com/kubevela/pkg")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var info struct{ Dir, Error string }
	if jsonErr := json.Unmarshal(out, &info); jsonErr == nil && info.Error != "" {
		return "", fmt.Errorf("failed to download %s@%s: %s", module, version, info.Error)
	}
	if err != nil || info.Dir == "" {
		return "", fmt.Errorf("failed to download %s@%s: %v %s", module, version, err, strings.TrimSpace(stderr.String()))
	}
	return info.Dir, nil
}

// readObjects reads the Kubernetes objects of a multi-document YAML file.
func readObjects(file string) ([]*unstructured.Unstructured, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", file, err)
	}
	return decodeObjects(file, data)
}

// decodeObjects splits multi-document YAML into objects, skipping empty documents.
func decodeObjects(name string, data []byte) ([]*unstructured.Unstructured, error) {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("failed to split %s into YAML documents: %w", name, err)
		}
		obj := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(doc, &obj.Object); err != nil {
			return nil, fmt.Errorf("failed to decode a document of %s: %w", name, err)
		}
		if len(obj.Object) > 0 {
			objs = append(objs, obj)
		}
	}
}
