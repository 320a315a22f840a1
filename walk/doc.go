// Package walk computes the configuration that applies to one request, as
// Apache's ap_directory_walk, ap_file_walk and ap_location_walk do:
// <Directory> sections and .htaccess files interleaved per path component,
// regex directory sections, <Files>, then <Location>. It enforces the
// symlink policy (FollowSymLinks, SymLinksIfOwnerMatch) race-free with
// openat2, and caches parsed .htaccess files (and their absence), the stat
// of the files it opens, the absence of names found missing and merged
// results, invalidated by inotify, so a steady-state request costs two
// filesystem syscalls: the non-blocking read that drains inotify and the
// openat2 that opens the file (a missing name, as the main request of a
// MultiViews negotiation: the read only). Walks that continue a client
// request (Walker.WalkSynced: sub-requests, internal redirects) skip the
// drain. The file served is a request.File, which costs no fcntl or
// epoll_ctl as os.NewFile would.
//
// Walker.WatchDir lends the same inotify machinery to other caches (the
// negotiation module's directory listings and type maps).
package walk
