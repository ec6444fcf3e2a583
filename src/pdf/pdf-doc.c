/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pdf/pdf-doc.h"

/* The offset after the last "startxref" in the file's last 1 KiB, and
 * whether the section there is a classic table. */
static int find_startxref(FILE *f, off_t size, struct pdf_doc *d)
{
	char tail[1025], head[16];
	size_t n, want = size < 1024 ? (size_t)size : 1024;
	char *p = NULL, *q;
	long long v;

	if (fseeko(f, size - (off_t)want, SEEK_SET) || fread(tail, 1, want, f) != want)
		return -1;
	tail[want] = 0;
	for (q = tail; q < tail + want; q++)
		if (!strncmp(q, "startxref", 9))
			p = q;
	if (!p)
		return -1;
	v = strtoll(p + 9, &q, 10);
	if (q == p + 9 || v <= 0 || v >= size)
		return -1;
	d->prev_xref = (off_t)v;
	if (fseeko(f, d->prev_xref, SEEK_SET))
		return -1;
	n = fread(head, 1, sizeof(head) - 1, f);
	head[n] = 0;
	d->xref_stream = strncmp(head, "xref", 4) != 0;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int pdf_doc_open(struct pdf_doc *d, const char *path, char *err, size_t errlen)
{
	qpdf_oh trailer, v;
	struct stat st;
	FILE *f = NULL;
	int ret = -1;

	memset(d, 0, sizeof(*d));
	d->q = qpdf_init();
	if (!d->q) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	qpdf_silence_errors(d->q);
	qpdf_set_suppress_warnings(d->q, QPDF_TRUE);
	qpdf_set_attempt_recovery(d->q, QPDF_FALSE);
	if (qpdf_read(d->q, path, NULL) & QPDF_ERRORS) {
		snprintf(err, errlen, "%s is not a PDF kyso can read: %s", path,
			 qpdf_get_error_full_text(d->q, qpdf_get_error(d->q)));
		goto out;
	}
	if (qpdf_is_encrypted(d->q)) {
		snprintf(err, errlen, "%s is encrypted: kyso does not sign encrypted PDFs", path);
		goto out;
	}
	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st) || find_startxref(f, st.st_size, d)) {
		snprintf(err, errlen, "%s: no startxref at its end", path);
		goto out;
	}
	d->size = st.st_size;
	trailer = qpdf_get_trailer(d->q);
	v = qpdf_oh_get_key(d->q, trailer, "/Size");
	d->next_num = qpdf_oh_is_integer(d->q, v) ? qpdf_oh_get_int_value_as_int(d->q, v) : 0;
	d->root = qpdf_get_root(d->q);
	if (d->next_num <= 0 || !qpdf_oh_is_dictionary(d->q, d->root) ||
	    !qpdf_oh_is_indirect(d->q, d->root)) {
		snprintf(err, errlen, "%s: its trailer has no /Size or /Root", path);
		goto out;
	}
	v = qpdf_oh_get_key(d->q, trailer, "/ID");
	if (qpdf_oh_is_array(d->q, v))
		d->id = dup_or_null(qpdf_oh_unparse(d->q, v));
	v = qpdf_oh_get_key(d->q, trailer, "/Info");
	if (qpdf_oh_is_indirect(d->q, v))
		d->info = dup_or_null(qpdf_oh_unparse(d->q, v));
	ret = 0;
out:
	if (f)
		fclose(f);
	if (ret)
		pdf_doc_close(d);
	return ret;
}

void pdf_doc_close(struct pdf_doc *d)
{
	if (d->q)
		qpdf_cleanup(&d->q);
	free(d->id);
	free(d->info);
	memset(d, 0, sizeof(*d));
}

int pdf_doc_new_num(struct pdf_doc *d)
{
	return d->next_num++;
}

char *pdf_unparse(struct pdf_doc *d, qpdf_oh oh)
{
	const char *s = qpdf_oh_unparse(d->q, oh);

	return strdup(s ? s : "null");
}

/* A name as PDF text: # escapes for what is not a regular character. */
static void write_name(FILE *out, const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	fputc('/', out);
	for (p += *p == '/'; *p; p++) {
		if (*p < 0x21 || *p > 0x7e || strchr("#()<>[]{}/%", *p))
			fprintf(out, "#%02X", *p);
		else
			fputc(*p, out);
	}
}

int pdf_write_dict(struct pdf_doc *d, FILE *out, qpdf_oh dict, const char *const *drop,
		   const char *extra)
{
	char **keys = NULL, **grown;
	size_t n = 0, i, j;
	const char *k;
	int ret = -1, skip;
	char *v;

	if (qpdf_oh_is_dictionary(d->q, dict)) {
		qpdf_oh_begin_dict_key_iter(d->q, dict);
		while (qpdf_oh_dict_more_keys(d->q)) {
			k = qpdf_oh_dict_next_key(d->q);
			grown = realloc(keys, (n + 1) * sizeof(*keys));
			if (!grown)
				goto out;
			keys = grown;
			keys[n] = strdup(k);
			if (!keys[n])
				goto out;
			n++;
		}
	}
	fputs("<<", out);
	for (i = 0; i < n; i++) {
		skip = 0;
		for (j = 0; drop && drop[j]; j++)
			skip |= !strcmp(keys[i], drop[j]);
		if (skip)
			continue;
		v = pdf_unparse(d, qpdf_oh_get_key(d->q, dict, keys[i]));
		if (!v)
			goto out;
		fputc(' ', out);
		write_name(out, keys[i]);
		fprintf(out, " %s", v);
		free(v);
	}
	if (extra)
		fprintf(out, " %s", extra);
	fputs(" >>", out);
	ret = ferror(out) ? -1 : 0;
out:
	for (i = 0; i < n; i++)
		free(keys[i]);
	free(keys);
	return ret;
}

int pdf_write_array(struct pdf_doc *d, FILE *out, qpdf_oh arr, const char *extra)
{
	int i, n = qpdf_oh_is_array(d->q, arr) ? qpdf_oh_get_array_n_items(d->q, arr) : 0;
	char *v;

	fputc('[', out);
	for (i = 0; i < n; i++) {
		v = pdf_unparse(d, qpdf_oh_get_array_item(d->q, arr, i));
		if (!v)
			return -1;
		fprintf(out, "%s%s", i ? " " : "", v);
		free(v);
	}
	if (extra)
		fprintf(out, "%s%s", n ? " " : "", extra);
	fputc(']', out);
	return ferror(out) ? -1 : 0;
}
