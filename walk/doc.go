// Package walk computes the configuration that applies to one request, as
// Apache's ap_directory_walk, ap_file_walk and ap_location_walk do:
// <Directory> sections and .htaccess files interleaved per path component,
// regex directory sections, <Files>, then <Location>. It enforces the
// symlink policy (FollowSymLinks, SymLinksIfOwnerMatch) race-free with
// openat2, and caches parsed .htaccess files (and their absence) and merged
// results, invalidated by inotify, so a steady-state request costs almost
// no syscalls.
package walk
