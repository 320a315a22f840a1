// Command plume is a web server that runs existing Apache httpd
// configurations. All behaviour lives in package cmd and below.
package main

import (
	"os"

	"plume/cmd"
)

func main() { os.Exit(cmd.Execute()) }
