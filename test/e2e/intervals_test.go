package e2e

import "time"

// Every wait of the suite, in one place.
const (
	// clusterStartTimeout bounds starting a cluster and enabling the addon.
	clusterStartTimeout = 10 * time.Minute
	// stepTimeout bounds one workflow step reaching its phase.
	stepTimeout = 3 * time.Minute
	// objectTimeout bounds an object appearing or changing.
	objectTimeout = time.Minute
	// poll is how often waits look again.
	poll = time.Second
	// consistently is how long a state must hold to count as stable. Only
	// the apiserver-restart spec uses it, after its end states (see
	// expectAppUnchanged).
	consistently = 5 * time.Second
)

// The step backoff of KubeVela's workflow engine, the same in the three
// supported releases (kubevela/workflow v0.6.1 in KubeVela v1.9.13,
// v0.6.3-0.20250717221743-56b80cee4121 in v1.10.9, v0.7.2 in v1.11.0;
// pkg/executor/workflow.go and pkg/types/types.go). A step that waits is
// executed again after int(2^n × 0.05) seconds, n counting its executions
// with the same message, at least minWorkflowBackoffWaitTime (1 s) and at
// most MaxWorkflowWaitBackoffTime (60 s, vela-core's
// --max-workflow-wait-backoff-time, which pkg/testenv passes as 60).
// A step that fails through its own op.#Fail is not retried: the workflow is
// terminated, the app's phase becomes workflowFailed.
const (
	// minStepBackoff is the shortest time between two executions of a step:
	// two executions never share a second of lastExecuteTime.
	minStepBackoff = time.Second
	// maxWaitBackoff is the longest time a waiting step goes without an
	// execution: a step that fails "at once" on a change fails no later
	// than this after it.
	maxWaitBackoff = 60 * time.Second
	// timestampGrain is the resolution of the API's timestamps
	// (lastExecuteTime, lastTransitionTime, creationTimestamp).
	timestampGrain = time.Second
)
