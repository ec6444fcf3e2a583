/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "pdf/pdf-doc.h"
#include "pdf/pdf-dss.h"
#include "pdf/pdf-update.h"

/* One of the store's arrays: its key, what is to go in, the references to
 * the streams written for it. */
struct dss_list {
	const char *key;
	const struct pdf_der *items;
	size_t n;
	char *refs;
	size_t refs_len;
	FILE *m;
};

/* Whether arr (the store's array) has a stream whose data is item. */
static int stored(struct pdf_doc *d, qpdf_oh arr, const struct pdf_der *item)
{
	int i, n = qpdf_oh_is_array(d->q, arr) ? qpdf_oh_get_array_n_items(d->q, arr) : 0;
	unsigned char *buf;
	size_t len;
	int same;

	for (i = 0; i < n; i++) {
		qpdf_oh s = qpdf_oh_get_array_item(d->q, arr, i);

		buf = NULL;
		if (!qpdf_oh_is_stream(d->q, s) ||
		    qpdf_oh_get_stream_data(d->q, s, qpdf_dl_generalized, NULL, &buf, &len) ||
		    !buf)
			continue;
		same = len == item->len && !memcmp(buf, item->der, len);
		free(buf);
		if (same)
			return 1;
	}
	return 0;
}

/* Whether item k of l came before in l. */
static int repeated(const struct dss_list *l, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++)
		if (l->items[i].len == l->items[k].len &&
		    !memcmp(l->items[i].der, l->items[k].der, l->items[k].len))
			return 1;
	return 0;
}

/* How many items of the lists are new to the store dss. */
static size_t count_new(struct pdf_doc *d, qpdf_oh dss, const struct dss_list *lists)
{
	size_t i, n = 0;
	int k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < lists[k].n; i++)
			n += !repeated(&lists[k], i) &&
			     !stored(d, qpdf_oh_get_key(d->q, dss, lists[k].key), &lists[k].items[i]);
	return n;
}

/* The streams of l not in the store yet, their references in l->refs. */
static int write_streams(struct pdf_update *u, qpdf_oh dss, struct dss_list *l, int *added)
{
	struct pdf_doc *d = u->doc;
	qpdf_oh arr = qpdf_oh_get_key(d->q, dss, l->key);
	size_t i;
	int num;

	l->m = open_memstream(&l->refs, &l->refs_len);
	if (!l->m)
		return -1;
	for (i = 0; i < l->n; i++) {
		if (repeated(l, i) || stored(d, arr, &l->items[i]))
			continue;
		num = pdf_doc_new_num(d);
		if (pdf_update_obj(u, num, 0))
			return -1;
		fprintf(u->out, "<< /Length %zu >>\nstream\n", l->items[i].len);
		fwrite(l->items[i].der, 1, l->items[i].len, u->out);
		fputs("\nendstream\nendobj\n", u->out);
		fprintf(l->m, "%s%d 0 R", ftello(l->m) ? " " : "", num);
		(*added)++;
	}
	if (fclose(l->m)) {
		l->m = NULL;
		return -1;
	}
	l->m = NULL;
	return ferror(u->out) ? -1 : 0;
}

/* The store's dictionary: its other entries, each array with the new references. */
static int write_dss(struct pdf_update *u, qpdf_oh dss, int num, struct dss_list *lists)
{
	static const char *const drop[] = { "/Certs", "/OCSPs", "/CRLs", "/Type", NULL };
	struct pdf_doc *d = u->doc;
	char *extra = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&extra, &len);
	int i, ret = -1;

	if (!m)
		return -1;
	fputs("/Type /DSS", m);
	for (i = 0; i < 3; i++) {
		qpdf_oh arr = qpdf_oh_get_key(d->q, dss, lists[i].key);

		if (!qpdf_oh_is_array(d->q, arr) && !*lists[i].refs)
			continue;
		fprintf(m, " %s ", lists[i].key);
		pdf_write_array(d, m, arr, *lists[i].refs ? lists[i].refs : NULL);
	}
	if (fclose(m))
		goto out;
	if (pdf_update_obj(u, num, qpdf_oh_is_indirect(d->q, dss) ?
			   qpdf_oh_get_generation(d->q, dss) : 0) ||
	    pdf_write_dict(d, u->out, dss, drop, extra))
		goto out;
	fputs("\nendobj\n", u->out);
	ret = ferror(u->out) ? -1 : 0;
out:
	free(extra);
	return ret;
}

/* The catalog again, /DSS naming object num. */
static int write_catalog(struct pdf_update *u, int num)
{
	static const char *const drop[] = { "/DSS", NULL };
	struct pdf_doc *d = u->doc;
	char extra[32];

	snprintf(extra, sizeof(extra), "/DSS %d 0 R", num);
	if (pdf_update_obj(u, qpdf_oh_get_object_id(d->q, d->root),
			   qpdf_oh_get_generation(d->q, d->root)) ||
	    pdf_write_dict(d, u->out, d->root, drop, extra))
		return -1;
	fputs("\nendobj\n", u->out);
	return ferror(u->out) ? -1 : 0;
}

int pdf_dss_append(const char *path, const struct pdf_dss *dss, int *added, char *err,
		   size_t errlen)
{
	struct dss_list lists[3] = {
		{ "/Certs", dss->certs, dss->n_certs, NULL, 0, NULL },
		{ "/OCSPs", dss->ocsps, dss->n_ocsps, NULL, 0, NULL },
		{ "/CRLs", dss->crls, dss->n_crls, NULL, 0, NULL },
	};
	struct pdf_update u = { 0 };
	struct pdf_doc d;
	qpdf_oh old;
	FILE *f = NULL;
	int i, num, own, ret = -1;

	*added = 0;
	if (pdf_doc_open(&d, path, err, errlen))
		return -1;
	old = qpdf_oh_get_key(d.q, d.root, "/DSS");
	own = qpdf_oh_is_indirect(d.q, old) && qpdf_oh_is_dictionary(d.q, old);
	if (!count_new(&d, old, lists)) {
		ret = 0;	/* nothing new: the file stays as it is */
		goto out;
	}
	f = fopen(path, "r+b");
	if (!f) {
		snprintf(err, errlen, "%s cannot be opened for writing", path);
		goto out;
	}
	if (pdf_update_begin(&u, &d, f))
		goto fail;
	for (i = 0; i < 3; i++)
		if (write_streams(&u, old, &lists[i], added))
			goto fail;
	num = own ? qpdf_oh_get_object_id(d.q, old) : pdf_doc_new_num(&d);
	if (write_dss(&u, old, num, lists) || (!own && write_catalog(&u, num)) ||
	    pdf_update_finish(&u))
		goto fail;
	ret = 0;
	goto out;
fail:
	snprintf(err, errlen, "the document security store cannot be appended to %s", path);
out:
	for (i = 0; i < 3; i++) {
		if (lists[i].m)
			fclose(lists[i].m);
		free(lists[i].refs);
	}
	pdf_update_free(&u);
	pdf_doc_close(&d);
	if (f && fclose(f) && !ret) {
		snprintf(err, errlen, "%s cannot be written", path);
		ret = -1;
	}
	return ret;
}

static void free_list(struct pdf_der *items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(items[i].der);
	free(items);
}

void pdf_dss_free(struct pdf_dss *dss)
{
	free_list(dss->certs, dss->n_certs);
	free_list(dss->ocsps, dss->n_ocsps);
	free_list(dss->crls, dss->n_crls);
	memset(dss, 0, sizeof(*dss));
}
