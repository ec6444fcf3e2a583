/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>
#include <strings.h>

#include "kysod/conns.h"
#include "kysod/http-strict.h"

size_t http_strict_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	const union MHD_ConnectionInfo *ci;
	struct kyso_conn *k;
	const char *p;

	for (p = strchr(s, '%'); p; p = strchr(p + 1, '%')) {
		if (p[1] != '0' || p[2] != '0')
			continue;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		k = ci ? ci->socket_context : NULL;
		if (k)
			k->bad_target = 1;
		break;
	}
	return MHD_http_unescape(s);
}

struct framing {
	int lengths;		/* Content-Length headers */
	int differ;		/* ... with different values */
	int bad;		/* ... with a value that is not digits */
	int transfer;		/* Transfer-Encoding headers */
	const char *first;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct framing *f = cls;

	if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
		f->transfer++;
		return MHD_YES;
	}
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
		return MHD_YES;
	value = value ? value : "";
	if (!*value || strspn(value, "0123456789") != strlen(value))
		f->bad = 1;
	if (f->lengths++ && strcmp(f->first, value))
		f->differ = 1;
	else if (!f->first)
		f->first = value;
	return MHD_YES;
}

const char *http_strict_framing(struct MHD_Connection *conn)
{
	struct framing f = { 0 };

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &f);
	if (f.bad)
		return "Content-Length must be a number";
	if (f.differ)
		return "Content-Length headers that differ";
	if (f.lengths && f.transfer)
		return "Content-Length beside Transfer-Encoding";
	if (f.transfer > 1)
		return "more than one Transfer-Encoding header";
	return NULL;
}

struct sizes {
	size_t query;
	size_t headers;
};

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct sizes *z = cls;

	(void)kind;
	/* "key=value&" as sent, before decoding */
	z->query += strlen(key) + (value ? strlen(value) + 1 : 0) + 1;
	return MHD_YES;
}

static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind, const char *key,
				  const char *value)
{
	struct sizes *z = cls;

	(void)kind;
	/* "Key: value\r\n" */
	z->headers += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

int http_strict_sizes(struct MHD_Connection *conn, const char *url)
{
	struct sizes z = { 0 };

	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query, &z);
	if (strlen(url) + z.query > HTTP_URI_MAX)
		return 414;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, add_header, &z);
	if (z.headers > HTTP_HEADERS_MAX)
		return 431;
	return 0;
}
