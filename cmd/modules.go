package cmd

// Importing a module package registers its directives and hooks, as a
// module compiled into httpd does.
import (
	"plume/access"
	"plume/config"
	_ "plume/negotiation"
	_ "plume/server"
)

func init() {
	// Relative AuthUserFile/AuthGroupFile paths are relative to ServerRoot,
	// which only the core module knows while loading.
	access.ServerRootRelative = config.ServerRootRelative
}
