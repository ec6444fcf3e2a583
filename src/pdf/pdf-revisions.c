/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <qpdf/qpdf-c.h>

#include "pdf/pdf-revisions.h"

/* Nesting of direct objects followed at most. */
#define MAX_DEPTH 64

static const char *const change_names[PDF_CHANGE_KINDS] = {
	"dss", "document_timestamp", "signature", "form", "annotation", "pages", "other",
};

const char *pdf_change_name(int i)
{
	return i >= 0 && i < PDF_CHANGE_KINDS ? change_names[i] : "?";
}

unsigned pdf_docmdp_allowed(int p)
{
	unsigned ok = PDF_CHANGE_DSS | PDF_CHANGE_DOC_TIMESTAMP;

	if (p >= 2)
		ok |= PDF_CHANGE_SIGNATURE | PDF_CHANGE_FORM;
	if (p >= 3)
		ok |= PDF_CHANGE_ANNOTATION;
	return ok;
}

/* The object's text (indirect ones as "N G R"), a new string, never NULL
 * but for want of memory. */
static char *text_of(qpdf_data q, qpdf_oh oh)
{
	const char *s = qpdf_oh_unparse(q, oh);

	return strdup(s ? s : "null");
}

static int same_text(qpdf_data a, qpdf_oh x, qpdf_data b, qpdf_oh y, int resolved)
{
	char *s = strdup(resolved ? qpdf_oh_unparse_resolved(a, x) : qpdf_oh_unparse(a, x));
	const char *t = resolved ? qpdf_oh_unparse_resolved(b, y) : qpdf_oh_unparse(b, y);
	int same = s && t && !strcmp(s, t);

	free(s);
	return same;
}

/* Whether objects x (of a) and y (of b) are the same: for streams their
 * dictionaries and raw data. */
static int same_object(qpdf_data a, qpdf_oh x, qpdf_data b, qpdf_oh y)
{
	unsigned char *d1 = NULL, *d2 = NULL;
	size_t l1 = 0, l2 = 0;
	int same;

	if (qpdf_oh_is_stream(a, x) != qpdf_oh_is_stream(b, y))
		return 0;
	if (!qpdf_oh_is_stream(a, x))
		return same_text(a, x, b, y, 1);
	if (!same_text(a, qpdf_oh_get_dict(a, x), b, qpdf_oh_get_dict(b, y), 1))
		return 0;
	if (qpdf_oh_get_stream_data(a, x, qpdf_dl_none, NULL, &d1, &l1) ||
	    qpdf_oh_get_stream_data(b, y, qpdf_dl_none, NULL, &d2, &l2))
		same = 0;
	else
		same = l1 == l2 && (!l1 || !memcmp(d1, d2, l1));
	free(d1);
	free(d2);
	return same;
}

/* The keys of dict, a NULL-terminated array of new strings (free_keys). */
static char **keys_of(qpdf_data q, qpdf_oh dict)
{
	char **keys = NULL, **grown;
	size_t n = 0;

	if (qpdf_oh_is_dictionary(q, dict)) {
		qpdf_oh_begin_dict_key_iter(q, dict);
		while (qpdf_oh_dict_more_keys(q)) {
			grown = realloc(keys, (n + 2) * sizeof(*keys));
			if (!grown)
				break;
			keys = grown;
			keys[n] = strdup(qpdf_oh_dict_next_key(q));
			if (keys[n])
				n++;
			keys[n] = NULL;
		}
	}
	return keys ? keys : calloc(1, sizeof(*keys));
}

static void free_keys(char **keys)
{
	size_t i;

	for (i = 0; keys && keys[i]; i++)
		free(keys[i]);
	free(keys);
}

static int type_is(qpdf_data q, qpdf_oh oh, const char *type)
{
	return qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, oh, "/Type"), type);
}

/* A form field or widget being signed: a signature or a document timestamp. */
static unsigned field_kind(qpdf_data q, qpdf_oh field)
{
	qpdf_oh v = qpdf_oh_get_key(q, field, "/V");

	if (qpdf_oh_is_dictionary(q, v))
		return type_is(q, v, "/DocTimeStamp") ? PDF_CHANGE_DOC_TIMESTAMP :
		       qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, field, "/FT"), "/Sig") ?
		       PDF_CHANGE_SIGNATURE : PDF_CHANGE_FORM;
	return qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, field, "/FT"), "/Sig") ?
	       PDF_CHANGE_SIGNATURE : PDF_CHANGE_FORM;
}

/* What the items of array b (of f) that array a (of p) lacks are, each
 * kind(f, item); kind_other for items removed. */
static unsigned array_added(qpdf_data p, qpdf_oh a, qpdf_data f, qpdf_oh b,
			    unsigned (*kind)(qpdf_data, qpdf_oh), unsigned kind_other)
{
	int i, j, na = qpdf_oh_is_array(p, a) ? qpdf_oh_get_array_n_items(p, a) : 0;
	int nb = qpdf_oh_is_array(f, b) ? qpdf_oh_get_array_n_items(f, b) : 0, found = 0;
	unsigned changes = 0;
	char *s;

	for (j = 0; j < nb; j++) {
		qpdf_oh y = qpdf_oh_get_array_item(f, b, j);

		s = text_of(f, y);
		for (i = 0; s && i < na; i++)
			if (!strcmp(s, qpdf_oh_unparse(p, qpdf_oh_get_array_item(p, a, i))))
				break;
		if (!s || i == na)
			changes |= kind(f, y);
		else
			found++;
		free(s);
	}
	if (found < na)
		changes |= kind_other;
	return changes;
}

static unsigned annot_kind(qpdf_data q, qpdf_oh annot)
{
	if (qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, annot, "/FT"), "/Sig"))
		return field_kind(q, annot);
	return PDF_CHANGE_ANNOTATION;
}

/* Changes of the keys of dictionaries x (of p) and y (of f), each key's by key_kind. */
static unsigned dict_changes(qpdf_data p, qpdf_oh x, qpdf_data f, qpdf_oh y,
			     unsigned (*key_kind)(qpdf_data, qpdf_oh, qpdf_data, qpdf_oh,
						  const char *))
{
	char **kp = keys_of(p, x), **kf = keys_of(f, y), **k;
	unsigned changes = 0;
	int pass;

	for (pass = 0; pass < 2; pass++)
		for (k = pass ? kf : kp; k && *k; k++) {
			if (pass && qpdf_oh_has_key(p, x, *k))
				continue;
			if (!same_text(p, qpdf_oh_get_key(p, x, *k), f, qpdf_oh_get_key(f, y, *k), 0))
				changes |= key_kind(p, x, f, y, *k);
		}
	free_keys(kp);
	free_keys(kf);
	return changes;
}

static unsigned form_key(qpdf_data p, qpdf_oh x, qpdf_data f, qpdf_oh y, const char *key)
{
	if (!strcmp(key, "/Fields"))
		return array_added(p, qpdf_oh_get_key(p, x, key), f, qpdf_oh_get_key(f, y, key),
				   field_kind, PDF_CHANGE_FORM);
	if (!strcmp(key, "/SigFlags"))
		return 0;	/* set with the first signature field */
	return PDF_CHANGE_FORM;
}

static unsigned catalog_key(qpdf_data p, qpdf_oh x, qpdf_data f, qpdf_oh y, const char *key)
{
	qpdf_oh a = qpdf_oh_get_key(p, x, key), b = qpdf_oh_get_key(f, y, key);

	if (!strcmp(key, "/DSS"))
		return PDF_CHANGE_DSS;
	if (!strcmp(key, "/AcroForm")) {
		/* the same indirect form is compared as an object of its own */
		if (qpdf_oh_is_indirect(p, a) && same_text(p, a, f, b, 0))
			return 0;
		return dict_changes(p, a, f, b, form_key);
	}
	return PDF_CHANGE_OTHER;
}

static unsigned page_key(qpdf_data p, qpdf_oh x, qpdf_data f, qpdf_oh y, const char *key)
{
	if (!strcmp(key, "/Annots"))
		return array_added(p, qpdf_oh_get_key(p, x, key), f, qpdf_oh_get_key(f, y, key),
				   annot_kind, PDF_CHANGE_ANNOTATION);
	return PDF_CHANGE_PAGES;
}

struct walk {
	qpdf_data p, f;
	int root_id, form_id, dss_id;
	unsigned char *seen;		/* by object number, below size */
	int size;
	unsigned changes;
};

/* What the change of object x (p) to y (f) is. */
static unsigned classify(struct walk *w, int id, qpdf_oh x, qpdf_oh y)
{
	qpdf_data p = w->p, f = w->f;

	if (!qpdf_oh_is_initialized(f, y) || qpdf_oh_is_null(f, y))
		return PDF_CHANGE_OTHER;
	if (id == w->root_id)
		return dict_changes(p, x, f, y, catalog_key);
	if (id == w->dss_id)
		return PDF_CHANGE_DSS;
	if (id == w->form_id)
		return dict_changes(p, x, f, y, form_key);
	if (qpdf_oh_is_dictionary(p, x) && type_is(p, x, "/Pages"))
		return PDF_CHANGE_PAGES;
	if (qpdf_oh_is_dictionary(p, x) && type_is(p, x, "/Page"))
		return dict_changes(p, x, f, y, page_key);
	if (qpdf_oh_is_dictionary(p, x) && (qpdf_oh_has_key(p, x, "/FT") ||
					    qpdf_oh_has_key(p, x, "/T")))
		return field_kind(f, y) == PDF_CHANGE_SIGNATURE &&
		       !qpdf_oh_has_key(p, x, "/V") ? PDF_CHANGE_SIGNATURE : PDF_CHANGE_FORM;
	return PDF_CHANGE_OTHER;
}

/* Compares every object reachable from oh (of p) with its namesake in f. */
static void walk(struct walk *w, qpdf_oh oh, int depth)
{
	qpdf_data p = w->p;
	char **keys, **k;
	int i, n, id;

	if (depth > MAX_DEPTH)
		return;
	if (qpdf_oh_is_indirect(p, oh)) {
		id = qpdf_oh_get_object_id(p, oh);
		if (id <= 0 || id >= w->size || w->seen[id])
			return;
		w->seen[id] = 1;
		{
			qpdf_oh y = qpdf_get_object_by_id(w->f, id, qpdf_oh_get_generation(p, oh));

			if (!same_object(p, oh, w->f, y))
				w->changes |= classify(w, id, oh, y);
		}
	}
	if (qpdf_oh_is_stream(p, oh))
		oh = qpdf_oh_get_dict(p, oh);
	if (qpdf_oh_is_array(p, oh)) {
		n = qpdf_oh_get_array_n_items(p, oh);
		for (i = 0; i < n; i++)
			walk(w, qpdf_oh_get_array_item(p, oh, i), depth + 1);
	} else if (qpdf_oh_is_dictionary(p, oh)) {
		keys = keys_of(p, oh);
		for (k = keys; k && *k; k++)
			if (strcmp(*k, "/Parent") && strcmp(*k, "/P"))
				walk(w, qpdf_oh_get_key(p, oh, *k), depth + 1);
		free_keys(keys);
	}
}

static qpdf_data open_q(void)
{
	qpdf_data q = qpdf_init();

	if (q) {
		qpdf_silence_errors(q);
		qpdf_set_suppress_warnings(q, QPDF_TRUE);
	}
	return q;
}

/* The changes from the revision of the first len bytes of map to f. */
static int changes_after(const unsigned char *map, off_t len, qpdf_data f, struct pdf_sig_info *s)
{
	struct walk w = { .f = f };
	qpdf_oh root, v;
	int ret = -1;

	w.p = open_q();
	if (!w.p || qpdf_read_memory(w.p, "revision", (const char *)map,
				     (unsigned long long)len, NULL) & QPDF_ERRORS)
		goto out;
	root = qpdf_get_root(w.p);
	v = qpdf_oh_get_key(w.p, qpdf_get_trailer(w.p), "/Size");
	w.size = qpdf_oh_is_integer(w.p, v) ? qpdf_oh_get_int_value_as_int(w.p, v) : 0;
	if (w.size <= 0 || w.size > 1 << 24 || !(w.seen = calloc((size_t)w.size, 1)))
		goto out;
	w.root_id = qpdf_oh_get_object_id(w.p, root);
	if (w.root_id != qpdf_oh_get_object_id(f, qpdf_get_root(f)))
		w.changes |= PDF_CHANGE_OTHER;
	v = qpdf_oh_get_key(w.p, root, "/AcroForm");
	w.form_id = qpdf_oh_is_indirect(w.p, v) ? qpdf_oh_get_object_id(w.p, v) : -1;
	v = qpdf_oh_get_key(w.p, root, "/DSS");
	w.dss_id = qpdf_oh_is_indirect(w.p, v) ? qpdf_oh_get_object_id(w.p, v) : -1;
	s->dss = qpdf_oh_is_dictionary(w.p, v);
	walk(&w, root, 0);
	s->changes = w.changes;
	ret = 0;
out:
	free(w.seen);
	if (w.p)
		qpdf_cleanup(&w.p);
	return ret;
}

/* The length of the DER value at the start of buf (its padding after). */
static size_t der_len(const unsigned char *buf, size_t n)
{
	size_t len = 0, i, k;

	if (n < 2 || buf[0] != 0x30)
		return n;
	if (buf[1] < 0x80)
		return 2 + (size_t)buf[1] <= n ? 2 + (size_t)buf[1] : n;
	k = buf[1] & 0x7f;
	if (k == 0 || k > 4 || 2 + k > n)
		return n;
	for (i = 0; i < k; i++)
		len = len << 8 | buf[2 + i];
	return 2 + k + len <= n ? 2 + k + len : n;
}

static int add_sig(struct pdf_revisions *r, qpdf_data q, qpdf_oh v, const char *name)
{
	struct pdf_sig_info *grown, *s;
	qpdf_oh br = qpdf_oh_get_key(q, v, "/ByteRange"), c = qpdf_oh_get_key(q, v, "/Contents");
	const char *str;
	size_t len = 0;
	int i;

	grown = realloc(r->sigs, (r->n + 1) * sizeof(*r->sigs));
	if (!grown)
		return -1;
	r->sigs = grown;
	s = &r->sigs[r->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->field, sizeof(s->field), "%s", name);
	s->doc_timestamp = type_is(q, v, "/DocTimeStamp");
	str = qpdf_oh_get_name(q, qpdf_oh_get_key(q, v, "/SubFilter"));
	snprintf(s->subfilter, sizeof(s->subfilter), "%s", str ? str : "");
	if (qpdf_oh_is_string(q, qpdf_oh_get_key(q, v, "/M")))
		snprintf(s->when, sizeof(s->when), "%s",
			 qpdf_oh_get_utf8_value(q, qpdf_oh_get_key(q, v, "/M")));
	s->range_ok = qpdf_oh_is_array(q, br) && qpdf_oh_get_array_n_items(q, br) == 4;
	for (i = 0; s->range_ok && i < 4; i++) {
		qpdf_oh n = qpdf_oh_get_array_item(q, br, i);

		s->range_ok = qpdf_oh_is_integer(q, n) && qpdf_oh_get_int_value(q, n) >= 0;
		s->range[i] = s->range_ok ? qpdf_oh_get_int_value(q, n) : 0;
	}
	s->range_ok = s->range_ok && s->range[0] == 0 && s->range[2] > s->range[1] &&
		      s->range[2] + s->range[3] <= (long long)r->size;
	s->end = s->range_ok ? (off_t)(s->range[2] + s->range[3]) : 0;
	str = qpdf_oh_is_string(q, c) ? qpdf_oh_get_binary_string_value(q, c, &len) : NULL;
	if (str && len) {
		len = der_len((const unsigned char *)str, len);
		s->contents = malloc(len);
		if (!s->contents)
			return -1;
		memcpy(s->contents, str, len);
		s->contents_len = len;
	}
	/* a certification signature: /Reference [<< /TransformMethod /DocMDP ... >>] */
	c = qpdf_oh_get_key(q, v, "/Reference");
	for (i = 0; qpdf_oh_is_array(q, c) && i < qpdf_oh_get_array_n_items(q, c); i++) {
		qpdf_oh ref = qpdf_oh_get_array_item(q, c, i), p;

		if (!qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, ref, "/TransformMethod"),
						"/DocMDP"))
			continue;
		p = qpdf_oh_get_key(q, qpdf_oh_get_key(q, ref, "/TransformParams"), "/P");
		s->docmdp = qpdf_oh_is_integer(q, p) ? qpdf_oh_get_int_value_as_int(q, p) : 2;
	}
	return 0;
}

/* The signature fields under fields (an array of fields with /Kids). */
static int find_sigs(struct pdf_revisions *r, qpdf_data q, qpdf_oh fields, const char *prefix,
		     int ft_sig, int depth)
{
	int i, n = qpdf_oh_is_array(q, fields) ? qpdf_oh_get_array_n_items(q, fields) : 0;
	char name[128];
	qpdf_oh fld, t, v;
	int sig;

	for (i = 0; i < n && depth < 32; i++) {
		fld = qpdf_oh_get_array_item(q, fields, i);
		t = qpdf_oh_get_key(q, fld, "/T");
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "",
			 qpdf_oh_is_string(q, t) ? qpdf_oh_get_utf8_value(q, t) : "");
		sig = qpdf_oh_has_key(q, fld, "/FT") ?
		      qpdf_oh_is_name_and_equals(q, qpdf_oh_get_key(q, fld, "/FT"), "/Sig") : ft_sig;
		v = qpdf_oh_get_key(q, fld, "/V");
		if (sig && qpdf_oh_is_dictionary(q, v) && add_sig(r, q, v, name))
			return -1;
		if (find_sigs(r, q, qpdf_oh_get_key(q, fld, "/Kids"), name, sig, depth + 1))
			return -1;
	}
	return 0;
}

static int read_dss(struct pdf_revisions *r, qpdf_data q)
{
	qpdf_oh dss = qpdf_oh_get_key(q, qpdf_get_root(q), "/DSS"), a;
	unsigned char *buf;
	size_t len;
	int i, n;

	if (!qpdf_oh_is_dictionary(q, dss))
		return 0;
	a = qpdf_oh_get_key(q, dss, "/Certs");
	n = qpdf_oh_is_array(q, a) ? qpdf_oh_get_array_n_items(q, a) : 0;
	r->dss_certs = calloc((size_t)n + 1, sizeof(*r->dss_certs));
	r->dss_cert_lens = calloc((size_t)n + 1, sizeof(*r->dss_cert_lens));
	if (!r->dss_certs || !r->dss_cert_lens)
		return -1;
	for (i = 0; i < n; i++) {
		buf = NULL;
		if (qpdf_oh_get_stream_data(q, qpdf_oh_get_array_item(q, a, i), qpdf_dl_generalized,
					    NULL, &buf, &len) || !buf)
			continue;
		r->dss_certs[r->n_dss_certs] = buf;
		r->dss_cert_lens[r->n_dss_certs++] = len;
	}
	a = qpdf_oh_get_key(q, dss, "/OCSPs");
	r->n_dss_revocation = qpdf_oh_is_array(q, a) ? (size_t)qpdf_oh_get_array_n_items(q, a) : 0;
	a = qpdf_oh_get_key(q, dss, "/CRLs");
	r->n_dss_revocation += qpdf_oh_is_array(q, a) ? (size_t)qpdf_oh_get_array_n_items(q, a) : 0;
	return 0;
}

static int by_end(const void *a, const void *b)
{
	const struct pdf_sig_info *x = a, *y = b;

	return x->end < y->end ? -1 : x->end > y->end;
}

int pdf_revisions_read(const char *path, struct pdf_revisions *r, char *err, size_t errlen)
{
	unsigned char *map = MAP_FAILED;
	qpdf_data q = NULL;
	struct stat st;
	int fd, ret = -1;
	size_t i;

	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) || st.st_size <= 0) {
		snprintf(err, errlen, "%s cannot be read", path);
		goto out;
	}
	r->size = st.st_size;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	q = open_q();
	if (map == MAP_FAILED || !q) {
		snprintf(err, errlen, "%s cannot be read", path);
		goto out;
	}
	if (qpdf_read_memory(q, path, (const char *)map, (unsigned long long)st.st_size, NULL) &
	    QPDF_ERRORS) {
		snprintf(err, errlen, "%s is not a PDF kyso can read: %s", path,
			 qpdf_get_error_full_text(q, qpdf_get_error(q)));
		goto out;
	}
	if (find_sigs(r, q, qpdf_oh_get_key(q, qpdf_oh_get_key(q, qpdf_get_root(q), "/AcroForm"),
					    "/Fields"), "", 0, 0) || read_dss(r, q)) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	qsort(r->sigs, r->n, sizeof(*r->sigs), by_end);
	for (i = 0; i < r->n; i++) {
		struct pdf_sig_info *s = &r->sigs[i];

		if (!s->range_ok)
			continue;
		if (s->end == r->size) {
			s->dss = r->dss_certs != NULL;
			continue;
		}
		if (changes_after(map, s->end, q, s))
			s->changes = PDF_CHANGE_OTHER;	/* its revision cannot be read alone */
	}
	ret = 0;
out:
	if (q)
		qpdf_cleanup(&q);
	if (map != MAP_FAILED)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	if (ret)
		pdf_revisions_free(r);
	return ret;
}

void pdf_revisions_free(struct pdf_revisions *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->sigs[i].contents);
	for (i = 0; i < r->n_dss_certs; i++)
		free(r->dss_certs[i]);
	free(r->sigs);
	free(r->dss_certs);
	free(r->dss_cert_lens);
	memset(r, 0, sizeof(*r));
}
