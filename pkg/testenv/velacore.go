package testenv

import "github.com/ml-platform/ml-platform/pkg/render/cueenv"

// vela-core runs with the flags and environment that its release's Helm chart
// (charts/vela-core/templates/kubevela-controller.yaml with the chart's
// default values.yaml) gives the controller, so that the addon is tested
// against the behaviour a `helm install` of that release has.
// TestVelaCoreRunsWithItsChartDefaults renders each chart and compares; the
// flags replaced by local-only settings (components.go) are listed there with
// the reason.

// velaCoreChartCommonArgs are the chart defaults every supported release sets.
var velaCoreChartCommonArgs = []string{
	"--optimize-mark-with-prob=0.1",
	"--optimize-disable-component-revision",
	"--system-definition-namespace=" + velaSystem,
	"--application-revision-limit=2",
	"--definition-revision-limit=2",
	"--application-re-sync-period=5m",
	"--concurrent-reconciles=4",
	"--kube-api-qps=400",
	"--kube-api-burst=600",
	"--max-workflow-wait-backoff-time=60",
	"--max-workflow-failed-backoff-time=300",
	"--max-workflow-step-error-retry-times=10",
	"--feature-gates=EnableSuspendOnFailure=false",
	"--feature-gates=AuthenticateApplication=false",
	"--feature-gates=GzipResourceTracker=false",
	"--feature-gates=ZstdResourceTracker=true",
	"--feature-gates=ApplyOnce=false",
	"--feature-gates=MultiStageComponentApply=true",
	"--feature-gates=GzipApplicationRevision=false",
	"--feature-gates=ZstdApplicationRevision=true",
	"--feature-gates=PreDispatchDryRun=true",
	"--feature-gates=DisableBootstrapClusterInfo=false",
	"--feature-gates=InformerCacheFilterUnnecessaryFields=true",
	"--feature-gates=SharedDefinitionStorageForApplicationRevision=true",
	"--feature-gates=DisableWorkflowContextConfigMapCache=true",
}

// velaCoreChartArgs1_10 are the chart defaults that 1.10 added and 1.11 kept.
var velaCoreChartArgs1_10 = []string{
	"--enable-external-package-for-default-compiler=true",
	"--enable-external-package-watch-for-default-compiler=false",
	"--feature-gates=EnableCueValidation=false",
	"--feature-gates=EnableApplicationStatusMetrics=false",
	"--feature-gates=ValidateResourcesExist=false",
	"--feature-gates=ValidateDefinitionPermissions=false",
	"--dev-logs=false",
}

// velaCoreChartArgs1_11 are the chart defaults that 1.11 added: the CUE
// compatibility layer for definitions written for CUE v0.5-v0.9 and the
// render-time rewrite passes (only list concatenation and `error` labels on
// by default) and two policy feature gates.
var velaCoreChartArgs1_11 = []string{
	"--enable-cue-version-compatibility=true",
	"--cue-compatibility-cache-size=512",
	"--cue-upgrade-list-concat-enabled=true",
	"--cue-upgrade-error-field-label-enabled=true",
	"--cue-upgrade-bool-default-guard-enabled=false",
	"--cue-upgrade-generic-default-guard-enabled=false",
	"--cue-upgrade-keepvalidators-singleton-enabled=false",
	"--cue-upgrade-evalv3-selfref-guard-enabled=false",
	"--feature-gates=EnableApplicationScopedPolicies=false",
	"--feature-gates=EnableGlobalPolicies=false",
}

// velaCoreChartArgs are the chart's controller flags of each release, less
// those components.go replaces with local-only settings.
var velaCoreChartArgs = map[string][]string{
	"v1.9.13": velaCoreChartCommonArgs,
	"v1.10.9": concat(velaCoreChartCommonArgs, velaCoreChartArgs1_10),
	"v1.11.0": concat(velaCoreChartCommonArgs, velaCoreChartArgs1_10, velaCoreChartArgs1_11),
}

// velaCoreChartEnv is the controller's environment in each release's chart:
// 1.11 runs CUE v0.14 with the evalv3 evaluator and the keepvalidators
// behaviour switched off (featureGates.enableCueExpVariable, default true),
// the setting the offline renderer evaluates with too (pkg/render/cueenv), so
// the chart comparison keeps both right.
var velaCoreChartEnv = map[string][]string{
	"v1.11.0": {"CUE_EXPERIMENT=" + cueenv.Experiment},
}

func concat(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}
