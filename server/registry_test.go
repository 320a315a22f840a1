package server

import (
	"testing"

	"plume/directives"
)

// ownDirectives are the directives this package registers.
var ownDirectives = []string{
	"AcceptPathInfo", "FileETag", "EnableSendfile", "EnableMMAP", "DefaultType", "ForceType",
	"SetHandler", "AddDefaultCharset", "ServerSignature", "ServerTokens", "UseCanonicalName",
	"Timeout", "KeepAlive", "MaxKeepAliveRequests", "KeepAliveTimeout", "LimitRequestBody",
	"ErrorDocument", "ErrorLog", "LogLevel", "AllowEncodedSlashes", "MergeSlashes", "PidFile",
	"User", "Group", "TraceEnable",
	"AddCharset", "AddEncoding", "AddHandler", "AddInputFilter", "AddLanguage", "AddOutputFilter",
	"AddType", "DefaultLanguage", "MultiviewsMatch", "RemoveCharset", "RemoveEncoding",
	"RemoveHandler", "RemoveInputFilter", "RemoveLanguage", "RemoveOutputFilter", "RemoveType",
	"TypesConfig", "ModMimeUsePathInfo",
	"DirectoryIndex", "DirectorySlash", "DirectoryCheckHandler", "DirectoryIndexRedirect", "FallbackResource",
	"IndexOptions", "IndexIgnore", "IndexIgnoreReset", "HeaderName", "ReadmeName", "IndexStyleSheet",
	"IndexHeadInsert", "IndexOrderDefault", "AddIcon", "AddIconByType", "AddIconByEncoding",
	"AddAlt", "AddAltByType", "AddAltByEncoding", "DefaultIcon", "AddDescription",
	"Alias", "ScriptAlias", "AliasMatch", "ScriptAliasMatch", "Redirect", "RedirectMatch",
	"RedirectTemp", "RedirectPermanent",
	"LogFormat", "CustomLog", "TransferLog", "BufferedLogs",
}

// TestDirectiveTable checks each directive against Apache's own command
// table (directives/apache-modules.tsv): argument syntax, where it may
// appear and the help text Apache appends to its errors.
func TestDirectiveTable(t *testing.T) {
	for _, name := range ownDirectives {
		spec, ok := directives.Registered(name)
		if !ok || spec.Func == nil {
			t.Errorf("%s: not registered", name)
			continue
		}
		rows := directives.ApacheSpecs(name)
		if len(rows) == 0 {
			t.Errorf("%s: not in Apache's table", name)
			continue
		}
		row := rows[0]
		if row.Syntax != spec.Syntax {
			t.Errorf("%s: syntax %v, Apache %v", name, spec.Syntax, row.Syntax)
		}
		if row.ReqOverride != spec.ReqOverride {
			t.Errorf("%s: req_override %s, Apache %s", name, directives.OverrideString(spec.ReqOverride), directives.OverrideString(row.ReqOverride))
		}
		if row.Help != spec.Help {
			t.Errorf("%s: help %q, Apache %q", name, spec.Help, row.Help)
		}
	}
}
