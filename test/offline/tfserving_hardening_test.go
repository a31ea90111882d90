package offline

import (
	"testing"
)

// Pods pass the "restricted" Pod Security Standard by default, and a key the
// template sets replaces just that default.
func TestServingPodsAreHardened(t *testing.T) {
	res, err := renderYAML(t, `
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: sec}
spec:
  components:
    - name: srv
      type: tfserving
      properties:
        predictors:
          - name: default
            modelImage: myrepo/mymodel:v1
            trafficPercentage: 50
            template:
              spec:
                containers:
                  - name: logger
                    image: busybox
                initContainers:
                  - name: warmup
                    image: busybox
          - name: custom
            modelBasePath: s3://bucket/models/model
            trafficPercentage: 50
            template:
              metadata:
                labels: {team: a}
                annotations: {note: x}
              spec:
                serviceAccountName: s3-reader
                securityContext: {runAsUser: 2000}
                containers:
                  - name: tensorflow
                    image: tensorflow/serving:2.18.0-gpu
                    args: ["--file_system_poll_wait_seconds=0"]
                    env: [{name: AWS_REGION, value: eu-west-1}]
                    resources: {limits: {nvidia.com/gpu: 1}}
                    securityContext: {readOnlyRootFilesystem: false}
`)
	if err != nil {
		t.Fatal(err)
	}
	wantPod := map[string]interface{}{
		"runAsNonRoot": true, "runAsUser": int64(1000), "runAsGroup": int64(1000), "fsGroup": int64(1000),
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"},
	}
	wantModel := map[string]interface{}{
		"allowPrivilegeEscalation": false, "readOnlyRootFilesystem": true, "runAsNonRoot": true,
		"capabilities":   map[string]interface{}{"drop": []interface{}{"ALL"}},
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"},
	}
	wantSidecar := map[string]interface{}{
		"allowPrivilegeEscalation": false, "runAsNonRoot": true,
		"capabilities":   map[string]interface{}{"drop": []interface{}{"ALL"}},
		"seccompProfile": map[string]interface{}{"type": "RuntimeDefault"},
	}
	t.Run("the default predictor: restricted defaults on every container", func(t *testing.T) {
		spec := servingPodSpec(t, mustFind(t, res, "Deployment", "srv-default"))
		assertEqual(t, "pod securityContext", spec["securityContext"], wantPod)
		for name, want := range map[string]interface{}{"tensorflow": wantModel, "model-loader": wantModel, "logger": wantSidecar, "warmup": wantSidecar} {
			assertEqual(t, name+" securityContext", container(t, spec, name)["securityContext"], want)
		}
		assertEqual(t, "tmp mount", container(t, spec, "tensorflow")["volumeMounts"].([]interface{})[0],
			map[string]interface{}{"name": "tmp", "mountPath": "/tmp"})
		assertEqual(t, "init containers (loader first)", len(spec["initContainers"].([]interface{})), 2)
		assertEqual(t, "default resources", container(t, spec, "tensorflow")["resources"],
			map[string]interface{}{"requests": map[string]interface{}{"cpu": "500m", "memory": "512Mi"}})
	})

	t.Run("the custom predictor: a key the template sets replaces just that default", func(t *testing.T) {
		d := mustFind(t, res, "Deployment", "srv-custom")
		spec := servingPodSpec(t, d)
		assertEqual(t, "overridden runAsUser", spec["securityContext"].(map[string]interface{})["runAsUser"], int64(2000))
		assertEqual(t, "kept runAsNonRoot", spec["securityContext"].(map[string]interface{})["runAsNonRoot"], true)
		assertEqual(t, "serviceAccountName kept", spec["serviceAccountName"], "s3-reader")
		tf := container(t, spec, "tensorflow")
		assertEqual(t, "overridden readOnlyRootFilesystem", tf["securityContext"].(map[string]interface{})["readOnlyRootFilesystem"], false)
		assertEqual(t, "kept drop ALL", tf["securityContext"].(map[string]interface{})["capabilities"], map[string]interface{}{"drop": []interface{}{"ALL"}})
		assertEqual(t, "image", tf["image"], "tensorflow/serving:2.18.0-gpu")
		assertEqual(t, "args (user args last)", servingStrings(tf["args"]), []string{
			"--port=8500", "--rest_api_port=8501", "--model_name=model", "--model_base_path=s3://bucket/models/model", "--file_system_poll_wait_seconds=0",
		})
		assertEqual(t, "env kept", tf["env"], []interface{}{map[string]interface{}{"name": "AWS_REGION", "value": "eu-west-1"}})
		assertEqual(t, "resources kept", tf["resources"], map[string]interface{}{"limits": map[string]interface{}{"nvidia.com/gpu": int64(1)}})
		if _, ok := spec["initContainers"]; ok {
			t.Error("modelBasePath predictor has an init container")
		}
		labels := field(t, d, "spec", "template", "metadata", "labels").(map[string]interface{})
		assertEqual(t, "user pod label", labels["team"], "a")
		assertEqual(t, "predictor pod label", labels["ml-platform.oam.dev/predictor"], "custom")
		assertEqual(t, "user pod annotation", field(t, d, "spec", "template", "metadata", "annotations"), map[string]interface{}{"note": "x"})
	})
}
