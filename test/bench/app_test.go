package bench

import (
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/oam-dev/kubevela/apis/core.oam.dev/common"
)

func componentJSON(name, props string) common.ApplicationComponent {
	return common.ApplicationComponent{Name: name, Type: "webservice", Properties: &runtime.RawExtension{Raw: []byte(props)}}
}

func traitJSON(typ, props string) common.ApplicationTrait {
	return common.ApplicationTrait{Type: typ, Properties: &runtime.RawExtension{Raw: []byte(props)}}
}
