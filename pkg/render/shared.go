package render

import (
	"strings"
	"sync"
)

var shared struct {
	mu        sync.Mutex
	renderers map[string]*sharedRenderer
}

type sharedRenderer struct {
	once sync.Once
	r    *Renderer
	err  error
}

// Shared returns one Renderer over the definitions of dirs (loaded in that
// order) per process, built on first use: the tests and benchmarks of a
// test binary share it, as vela-core's informer holds the definitions once.
func Shared(dirs ...string) (*Renderer, error) {
	key := strings.Join(dirs, "\x00")
	shared.mu.Lock()
	if shared.renderers == nil {
		shared.renderers = map[string]*sharedRenderer{}
	}
	s, ok := shared.renderers[key]
	if !ok {
		s = &sharedRenderer{}
		shared.renderers[key] = s
	}
	shared.mu.Unlock()
	s.once.Do(func() {
		var defs []*Definition
		for _, dir := range dirs {
			d, err := LoadDefinitionDir(dir)
			if err != nil {
				s.err = err
				return
			}
			defs = append(defs, d...)
		}
		s.r, s.err = New(defs)
	})
	return s.r, s.err
}
