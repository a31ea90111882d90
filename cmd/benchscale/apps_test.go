package main

import (
	"context"
	"os"
	"testing"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"

	"github.com/ml-platform/ml-platform/pkg/render"
)

func TestMain(m *testing.M) {
	klog.SetLogger(logr.Discard())
	os.Exit(m.Run())
}

// The serving copies are self-contained and distinct, and each webservice
// twin emits the same objects and pods with built-in definitions.
func TestWebserviceTwinsEmitWhatTheServingCopiesEmit(t *testing.T) {
	r, err := render.NewFromDir("../../definitions")
	if err != nil {
		t.Fatal(err)
	}
	example, _, err := render.ReadApplication("../../examples/serving/app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, i := range []int{1, 2} {
		app, err := copyTheServingApp(example, i, appNamespace)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := r.Render(context.Background(), app)
		if err != nil {
			t.Fatalf("copy %d does not render: %v", i, err)
		}
		twin, err := aWebserviceTwinOf(ours, i, appNamespace)
		if err != nil {
			t.Fatal(err)
		}
		theirs, err := renderTheTwin(context.Background(), r, twin)
		if err != nil {
			t.Fatalf("twin %d does not render: %v", i, err)
		}
		if got, want := countKinds(theirs), countKinds(ours); len(theirs.Objects) != len(ours.Objects) ||
			len(theirs.ByKind("Deployment")) != len(ours.ByKind("Deployment")) ||
			len(theirs.ByKind("Service")) != len(ours.ByKind("Service")) ||
			len(theirs.ByKind("HorizontalPodAutoscaler")) != len(ours.ByKind("HorizontalPodAutoscaler")) {
			t.Errorf("twin %d emits %s, the serving copy %s", i, got, want)
		}
		if got, want := replicasOf(theirs), replicasOf(ours); got != want {
			t.Errorf("twin %d asks for %d pods, the serving copy for %d", i, got, want)
		}
		for _, o := range ours.Objects {
			key := o.GetKind() + "/" + o.GetName()
			if names[key] {
				t.Errorf("two copies emit %s", key)
			}
			names[key] = true
		}
	}
}

func TestTheWaitingTrainingAppIsValid(t *testing.T) {
	r, err := render.NewFromDir("../../definitions")
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Render(context.Background(), aTrainingAppThatWaits())
	if err != nil {
		t.Fatal(err)
	}
	job := res.Find("TFJob", "train-v1")
	if job == nil {
		t.Fatalf("no TFJob train-v1 among %s", countKinds(res))
	}
	if suspend, _, _ := unstructured.NestedBool(job.Object, "spec", "runPolicy", "suspend"); !suspend {
		t.Error("the TFJob is not suspended")
	}
}
