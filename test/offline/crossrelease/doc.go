// Package crossrelease checks that the addon renders to the same Kubernetes
// objects on every KubeVela release it supports (v1.9.13, v1.10.9, v1.11.0),
// using each release's own vela CLI and nothing else: no cluster, no network.
//
// The tests run `vela-<release> dry-run --offline -d DEFS -f APP` for every
// example (examples/**/*.yaml) and every test Application under
// test/offline/testdata/apps, parse the multi-document output, key the objects by
// kind/namespace/name (each release prints them in its own order) and diff
// them field by field against the newest release present. A difference fails
// the test with the app, the object and the field path, unless it is one of
// the differences listed by name in allowedDifferences (crossrelease_test.go),
// each with the reason it is a release's own and not the addon's.
// TestDefinitionsVetOnEveryRelease runs `vela def vet` of every definition
// (workflow steps included, which dry-run does not render) and
// TestAddonPackagesOnEveryRelease `vela addon package` of the staged addon
// with every release's CLI. The addon's own template.cue, parameter.cue and
// resources/ are evaluated only by `vela addon enable`, which needs an API
// server on every release (even with --dry-run), so the e2e suite covers them.
//
// The CLIs are the ones `make tools` builds (hack/tools/vela/<release>):
// $ML_PLATFORM_CACHE/bin/vela-<release>, ~/.cache/ml-platform/bin by default.
// A release whose CLI is missing is skipped with one line; the render
// comparison needs two releases and is skipped with fewer. With
// ML_PLATFORM_REQUIRE_RELEASES=1 fewer than two make every test fail instead.
//
// What each run sees:
//   - The addon is staged once per test binary (pkg/stage) into a temporary
//     folder, and every release renders that one snapshot: definitions edited
//     while the tests run cannot make the releases disagree.
//   - DEFS is the staged definitions/ plus, for test/offline/testdata/apps, the
//     test doubles of test/offline/testdata/definitions, plus the KubeVela built-in
//     definitions an Application uses (webservice, sidecar, cron-task, ...),
//     taken from that release's own module in the Go module cache
//     (vela-templates/definitions/internal): `dry-run --offline` knows only
//     the definitions it is given, and on a cluster each release installs its
//     own built-ins. A release whose module is not in the cache skips the
//     Applications that need built-ins.
//   - HOME is an empty temporary folder and KUBECONFIG names a cluster at
//     https://127.0.0.1:1, where nothing listens, so no kubeconfig or vela
//     environment of the machine takes part. A kubeconfig is needed: without
//     one v1.11.0's `dry-run --offline` and `def vet` exit 1 without a
//     message; with this one they work and log on stderr that they cannot
//     load cuex packages (connection refused).
//   - An Application with metadata.namespace is rendered with `-n` that
//     namespace. v1.9.13's dry-run otherwise renders every object into the
//     CLI's namespace ("default") whatever the Application says, which makes
//     every object and every reference built from context.namespace differ
//     from v1.10.9 and v1.11.0 (and from what each release's controller
//     does). With `-n` the three agree; an Application without a namespace
//     is rendered into "default" by all three.
//
// Differences found and allowed (allowedDifferences): v1.11.0 stamps
// app.oam.dev/trait-restart-hash-<trait> annotations onto the pod template
// of a workload with spec.template for each podDisruptive trait that renders
// outputs (arms-logging, arms-metrics on a webservice); v1.9.13 and v1.10.9
// do not. Everything else renders identically on the three releases.
//
// Timing: about 0.5-2 s per CLI call, 10-30 s for the package with three
// releases on two cores.
//
// Only components and traits are rendered: dry-run does not run workflow
// steps, so the workflow-step definitions are checked for each release by
// the e2e suite, not here.
package crossrelease
