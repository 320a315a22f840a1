package cmd

// Importing a module package registers its directives and hooks, as a
// module compiled into httpd does.
import (
	_ "plume/access"
	_ "plume/config"
	_ "plume/negotiation"
	_ "plume/server"
)
