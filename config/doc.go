// Package config is Apache's core module as configuration: the section
// directives (<Directory>, <DirectoryMatch>, <Files>, <FilesMatch>,
// <Location>, <LocationMatch>, <VirtualHost>, <Limit>, <LimitExcept>), the
// core per-directory settings (Options, AllowOverride, AccessFileName, ...)
// with Apache's merge rules, and the per-server model built from a parsed
// tree: the main server, its virtual hosts and their sorted section lists.
// Load turns a parsed tree into a Config; package walk uses it per request.
package config
