package server

import (
	"plume/access"
	"plume/config"
	"plume/directives"
	"plume/request"
	"plume/walk"
)

// StandardHooks wires Plume's own request walk (package walk) and access
// control (package access) into the pipeline. `plume serve` and the tests
// use it; a different walker or access phase plugs in through Hooks.
func StandardHooks() Hooks {
	return Hooks{
		NewWalker: func(cfg *config.Config) (Walker, error) {
			w := walk.New(cfg)
			return WalkFuncs{Location: func(r *request.Request) directives.Vector {
				v, _ := w.LocationWalk(cfg.ServerOf(r.Server), r.URI, nil)
				return v
			}, Dir: func(r *request.Request) int {
				var res *walk.Result
				if r.FSSynced { // a sub-request or internal redirect
					res = w.WalkSynced(cfg.ServerOf(r.Server), r.URI, r.Filename)
				} else {
					res = w.Walk(cfg.ServerOf(r.Server), r.URI, r.Filename)
				}
				r.FSSynced = true
				res.Apply(r)
				if res.Status != 0 {
					res.Close()
					r.File = nil
					return res.Status
				}
				if res.OpenErr != nil {
					r.LogError("core", "error", "AH00132", "file permissions deny server access: "+r.Filename)
					return 403
				}
				return request.OK
			}, Closer: w.Close, Watch: w.WatchDir}, nil
		},
		Access: access.Check,
	}
}
