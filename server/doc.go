// Package server is Plume's serving core: listeners and virtual-host
// selection, the request pipeline in Apache's order (URI normalisation,
// Location walk, translation, the request walk, access control, type
// checking, fixups, handler), static files, mod_mime types, mod_dir,
// mod_autoindex, mod_alias, error documents and mod_log_config logging.
package server
