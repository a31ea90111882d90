// Package appflow reads and follows an Application's workflow: which step
// runs, which gate waits, and how it ended.
package appflow

import (
	"context"
	"fmt"
	"time"

	workflowv1alpha1 "github.com/kubevela/workflow/api/v1alpha1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
	"github.com/oam-dev/kubevela/apis/core.oam.dev/v1beta1"
)

// Get reads an Application.
func Get(ctx context.Context, c client.Reader, namespace, name string) (*v1beta1.Application, error) {
	app := &v1beta1.Application{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, app); err != nil {
		return nil, fmt.Errorf("failed to read application %s/%s: %w", namespace, name, err)
	}
	return app, nil
}

// Step returns the status of a named workflow step, or nil before it starts.
func Step(app *v1beta1.Application, name string) *workflowv1alpha1.WorkflowStepStatus {
	if app.Status.Workflow == nil {
		return nil
	}
	for i := range app.Status.Workflow.Steps {
		if app.Status.Workflow.Steps[i].Name == name {
			return &app.Status.Workflow.Steps[i]
		}
	}
	return nil
}

// SuspendedAt returns the name of the suspend step the workflow waits at, or "".
func SuspendedAt(app *v1beta1.Application) string {
	if app.Status.Workflow == nil || !app.Status.Workflow.Suspend {
		return ""
	}
	for _, s := range app.Status.Workflow.Steps {
		if s.Phase == workflowv1alpha1.WorkflowStepPhaseSuspending {
			return s.Name
		}
	}
	return ""
}

// Ended reports whether the workflow can make no more progress by itself:
// running (finished), failed or terminated.
func Ended(app *v1beta1.Application) bool {
	switch app.Status.Phase {
	case common.ApplicationRunning, common.ApplicationWorkflowFailed, common.ApplicationWorkflowTerminated:
		return app.Status.Workflow == nil || app.Status.Workflow.Finished || app.Status.Workflow.Terminated ||
			app.Status.Phase != common.ApplicationRunning
	}
	return false
}

// Event is one change seen while following a workflow.
type Event struct {
	Step    string
	Type    string
	Phase   workflowv1alpha1.WorkflowStepPhase
	Message string
	Reason  string
}

func (e Event) String() string {
	s := fmt.Sprintf("%-22s %-22s %s", e.Step, "("+e.Type+")", e.Phase)
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Follower polls an Application and reports each step's changes.
type Follower struct {
	Client    client.Reader
	Namespace string
	Name      string
	// Interval between polls. Default 1s.
	Interval time.Duration
	// OnEvent is called for every new step phase or message.
	OnEvent func(Event)
	// OnSuspend is called once each time the workflow waits at a suspend
	// step; it returns an error to stop following.
	OnSuspend func(step string) error

	seen map[string]string
}

// Follow polls until the workflow ends (and returns the final Application),
// ctx is done, or OnSuspend returns an error.
func (f *Follower) Follow(ctx context.Context) (*v1beta1.Application, error) {
	if f.Interval == 0 {
		f.Interval = time.Second
	}
	f.seen = map[string]string{}
	handled := ""
	for {
		app, err := Get(ctx, f.Client, f.Namespace, f.Name)
		if err == nil {
			f.report(app)
			if step := SuspendedAt(app); step != "" && step != handled && f.OnSuspend != nil {
				handled = step
				if err := f.OnSuspend(step); err != nil {
					return app, err
				}
			}
			if Ended(app) {
				return app, nil
			}
		}
		select {
		case <-ctx.Done():
			return app, fmt.Errorf("stopped following %s/%s: %w", f.Namespace, f.Name, ctx.Err())
		case <-time.After(f.Interval):
		}
	}
}

func (f *Follower) report(app *v1beta1.Application) {
	if app.Status.Workflow == nil || f.OnEvent == nil {
		return
	}
	for _, s := range app.Status.Workflow.Steps {
		key := string(s.Phase) + "|" + s.Message
		if f.seen[s.Name] == key {
			continue
		}
		f.seen[s.Name] = key
		f.OnEvent(Event{Step: s.Name, Type: s.Type, Phase: s.Phase, Message: s.Message, Reason: s.Reason})
	}
}
