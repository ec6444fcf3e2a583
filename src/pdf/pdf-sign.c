/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdf/pdf-appearance.h"
#include "pdf/pdf-doc.h"
#include "pdf/pdf-sign.h"
#include "pdf/pdf-text.h"
#include "pdf/pdf-update.h"

/* Room for "[0 A B C]": four numbers of up to 15 digits. */
#define RANGE_WIDTH 64

/* Whether a top-level field of the form is called name. */
static int field_exists(struct pdf_doc *d, qpdf_oh fields, const char *name)
{
	int i, n = qpdf_oh_is_array(d->q, fields) ? qpdf_oh_get_array_n_items(d->q, fields) : 0;
	qpdf_oh t;

	for (i = 0; i < n; i++) {
		t = qpdf_oh_get_key(d->q, qpdf_oh_get_array_item(d->q, fields, i), "/T");
		if (qpdf_oh_is_string(d->q, t) && !strcmp(qpdf_oh_get_utf8_value(d->q, t), name))
			return 1;
	}
	return 0;
}

static int choose_field(struct pdf_doc *d, qpdf_oh fields, const struct pdf_sign_opts *o,
			struct pdf_sig *s, char *err, size_t errlen)
{
	int i;

	if (o->field) {
		if (!*o->field || strlen(o->field) >= sizeof(s->field) || strchr(o->field, '.')) {
			snprintf(err, errlen, "the field name must be 1 to %zu bytes without '.'",
				 sizeof(s->field) - 1);
			return -1;
		}
		if (field_exists(d, fields, o->field)) {
			snprintf(err, errlen, "the PDF has a field called %s already", o->field);
			return -1;
		}
		snprintf(s->field, sizeof(s->field), "%s", o->field);
		return 0;
	}
	for (i = 1; i < 10000; i++) {
		snprintf(s->field, sizeof(s->field), "%s%d",
			 o->doc_timestamp ? "DocTimeStamp" : "Signature", i);
		if (!field_exists(d, fields, s->field))
			return 0;
	}
	snprintf(err, errlen, "no free field name");
	return -1;
}

/* The signature dictionary, its /Contents reserved. */
static int write_sig_dict(struct pdf_update *u, int num, const struct pdf_sign_opts *o,
			  struct pdf_sig *s)
{
	FILE *f = u->out;
	char when[32];
	struct tm tm;
	size_t i;

	if (pdf_update_obj(u, num, 0))
		return -1;
	fprintf(f, "<< /Type /%s /Filter /Adobe.PPKLite /SubFilter /%s\n/ByteRange ",
		o->doc_timestamp ? "DocTimeStamp" : "Sig",
		o->doc_timestamp ? "ETSI.RFC3161" : "ETSI.CAdES.detached");
	s->range[0] = ftello(f);	/* where the /ByteRange text goes, for now */
	fprintf(f, "%-*s\n/Contents ", RANGE_WIDTH, "[0 0 0 0]");
	s->contents_at = ftello(f);
	fputc('<', f);
	for (i = 0; i < 2 * s->contents_size; i++)
		fputc('0', f);
	fputs(">\n", f);
	if (!o->doc_timestamp) {
		gmtime_r(&o->when, &tm);
		strftime(when, sizeof(when), "D:%Y%m%d%H%M%SZ", &tm);
		fprintf(f, "/M (%s)", when);
		if (o->reason) {
			fputs(" /Reason ", f);
			if (pdf_write_text(f, o->reason))
				return -1;
		}
		if (o->location) {
			fputs(" /Location ", f);
			if (pdf_write_text(f, o->location))
				return -1;
		}
		if (o->certify)
			fputs("\n/Reference [<< /Type /SigRef /TransformMethod /DocMDP "
			      "/TransformParams << /Type /TransformParams /P 2 /V /1.2 >> >>]", f);
	}
	fputs(" >>\nendobj\n", f);
	return ferror(f) ? -1 : 0;
}

static int write_widget(struct pdf_update *u, int num, int sig, int ap, qpdf_oh page,
			const struct pdf_sign_opts *o, struct pdf_sig *s)
{
	FILE *f = u->out;
	char *pageref = pdf_unparse(u->doc, page);

	if (!pageref || pdf_update_obj(u, num, 0)) {
		free(pageref);
		return -1;
	}
	fputs("<< /Type /Annot /Subtype /Widget /FT /Sig /T ", f);
	pdf_write_text(f, s->field);
	fprintf(f, " /V %d 0 R /F %d /P %s", sig, o->visible ? 4 : 132, pageref);
	if (o->visible)
		fprintf(f, " /Rect [%.2f %.2f %.2f %.2f]", o->rect[0], o->rect[1],
			o->rect[0] + o->rect[2], o->rect[1] + o->rect[3]);
	else
		fputs(" /Rect [0 0 0 0]", f);
	if (ap)
		fprintf(f, " /AP << /N %d 0 R >>", ap);
	fputs(" >>\nendobj\n", f);
	free(pageref);
	return ferror(f) ? -1 : 0;
}

/* The page again, its /Annots with the widget. */
static int write_page(struct pdf_update *u, qpdf_oh page, int widget)
{
	static const char *const drop[] = { "/Annots", NULL };
	struct pdf_doc *d = u->doc;
	char ref[32], *annots = NULL;
	size_t len = 0;
	FILE *m;
	int ret = -1;

	snprintf(ref, sizeof(ref), "%d 0 R", widget);
	m = open_memstream(&annots, &len);
	if (!m)
		return -1;
	fputs("/Annots ", m);
	ret = pdf_write_array(d, m, qpdf_oh_get_key(d->q, page, "/Annots"), ref);
	if (fclose(m) || ret) {
		ret = -1;
		goto out;
	}
	ret = -1;
	if (pdf_update_obj(u, qpdf_oh_get_object_id(d->q, page),
			   qpdf_oh_get_generation(d->q, page)) ||
	    pdf_write_dict(d, u->out, page, drop, annots))
		goto out;
	fputs("\nendobj\n", u->out);
	ret = ferror(u->out) ? -1 : 0;
out:
	free(annots);
	return ret;
}

/* The form's dictionary as PDF text, the widget in /Fields, /SigFlags 3. */
static char *form_text(struct pdf_doc *d, qpdf_oh af, int widget)
{
	static const char *const drop[] = { "/Fields", "/SigFlags", NULL };
	char ref[32], *fields = NULL, *text = NULL;
	size_t len = 0;
	FILE *m;

	snprintf(ref, sizeof(ref), "%d 0 R", widget);
	m = open_memstream(&fields, &len);
	if (!m)
		return NULL;
	fputs("/Fields ", m);
	pdf_write_array(d, m, qpdf_oh_get_key(d->q, af, "/Fields"), ref);
	fputs(" /SigFlags 3", m);
	if (fclose(m))
		goto out;
	m = open_memstream(&text, &len);
	if (!m)
		goto out;
	if (pdf_write_dict(d, m, af, drop, fields)) {
		fclose(m);
		free(text);
		text = NULL;
		goto out;
	}
	if (fclose(m)) {
		free(text);
		text = NULL;
	}
out:
	free(fields);
	return text;
}

/* The form (its own object when it is one, else in the catalog) and the
 * catalog when it changes. */
static int write_form(struct pdf_update *u, qpdf_oh af, int widget, int sig,
		      const struct pdf_sign_opts *o)
{
	static const char *const drop[] = { "/AcroForm", "/Perms", NULL };
	struct pdf_doc *d = u->doc;
	int af_own = qpdf_oh_is_indirect(d->q, af) && qpdf_oh_is_dictionary(d->q, af);
	char *form = form_text(d, af, widget), *extra = NULL;
	size_t len = 0;
	FILE *m = NULL;
	int ret = -1, closed;

	if (!form)
		return -1;
	if (af_own) {
		if (pdf_update_obj(u, qpdf_oh_get_object_id(d->q, af),
				   qpdf_oh_get_generation(d->q, af)))
			goto out;
		fprintf(u->out, "%s\nendobj\n", form);
	}
	if (af_own && !o->certify) {
		ret = 0;
		goto out;
	}
	m = open_memstream(&extra, &len);
	if (!m)
		goto out;
	if (af_own) {
		char *ref = pdf_unparse(d, af);

		fprintf(m, "/AcroForm %s", ref ? ref : "null");
		free(ref);
	} else {
		fprintf(m, "/AcroForm %s", form);
	}
	if (o->certify)
		fprintf(m, " /Perms << /DocMDP %d 0 R >>", sig);
	else if (qpdf_oh_has_key(d->q, d->root, "/Perms"))
		fprintf(m, " /Perms %s", qpdf_oh_unparse(d->q, qpdf_oh_get_key(d->q, d->root,
									      "/Perms")));
	closed = fclose(m);
	m = NULL;
	if (closed)
		goto out;
	if (pdf_update_obj(u, qpdf_oh_get_object_id(d->q, d->root),
			   qpdf_oh_get_generation(d->q, d->root)) ||
	    pdf_write_dict(d, u->out, d->root, drop, extra))
		goto out;
	fputs("\nendobj\n", u->out);
	ret = ferror(u->out) ? -1 : 0;
out:
	if (m)
		fclose(m);
	free(extra);
	free(form);
	return ret;
}

/* Writes the /ByteRange now that the file's length is known. */
static int write_range(struct pdf_sig *s, off_t at)
{
	char text[RANGE_WIDTH + 1];
	int n;

	s->range[0] = 0;
	s->range[1] = s->contents_at;
	s->range[2] = s->contents_at + 2 + 2 * (off_t)s->contents_size;
	s->range[3] = s->end - s->range[2];
	n = snprintf(text, sizeof(text), "[0 %lld %lld %lld]", s->range[1], s->range[2],
		     s->range[3]);
	if (n < 0 || n > RANGE_WIDTH)
		return -1;
	memset(text + n, ' ', RANGE_WIDTH - (size_t)n);
	if (fseeko(s->f, at, SEEK_SET) || fwrite(text, 1, RANGE_WIDTH, s->f) != RANGE_WIDTH ||
	    fflush(s->f))
		return -1;
	return 0;
}

int pdf_sig_prepare(const char *path, const struct pdf_sign_opts *o, struct pdf_sig *s,
		    char *err, size_t errlen)
{
	struct pdf_update u = { 0 };
	struct pdf_doc d;
	qpdf_oh page, af;
	int sig, widget, ap = 0, npages, ret = -1;
	off_t range_at;

	memset(s, 0, sizeof(*s));
	err[0] = '\0';
	s->contents_size = o->contents_size;
	if (pdf_doc_open(&d, path, err, errlen))
		return -1;
	npages = qpdf_get_num_pages(d.q);
	if (npages <= 0 || o->page < 0 || o->page >= npages) {
		snprintf(err, errlen, "%s has %d pages: no page %d", path, npages < 0 ? 0 : npages,
			 o->page + 1);
		goto out;
	}
	page = qpdf_get_page_n(d.q, (size_t)o->page);
	af = qpdf_oh_get_key(d.q, d.root, "/AcroForm");
	if (choose_field(&d, qpdf_oh_get_key(d.q, af, "/Fields"), o, s, err, errlen))
		goto out;
	s->f = fopen(path, "r+b");
	if (!s->f) {
		snprintf(err, errlen, "%s cannot be opened for writing", path);
		goto out;
	}
	sig = pdf_doc_new_num(&d);
	widget = pdf_doc_new_num(&d);
	if (o->visible)
		ap = pdf_doc_new_num(&d);
	if (pdf_update_begin(&u, &d, s->f) || write_sig_dict(&u, sig, o, s) ||
	    write_widget(&u, widget, sig, ap, page, o, s) ||
	    (ap && pdf_appearance_write(&u, ap, o->ap, o->rect[2], o->rect[3], err, errlen)) ||
	    write_page(&u, page, widget) || write_form(&u, af, widget, sig, o) ||
	    pdf_update_finish(&u)) {
		if (!err[0])
			snprintf(err, errlen, "the signature cannot be appended to %s", path);
		goto out;
	}
	s->end = ftello(s->f);
	range_at = (off_t)s->range[0];
	if (write_range(s, range_at)) {
		snprintf(err, errlen, "the /ByteRange cannot be written");
		goto out;
	}
	ret = 0;
out:
	pdf_update_free(&u);
	pdf_doc_close(&d);
	if (ret && s->f) {
		fclose(s->f);
		s->f = NULL;
	}
	return ret;
}

int pdf_hash_ranges(FILE *f, const long long range[4], const EVP_MD *md, unsigned char *out,
		    unsigned int *len)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536];
	long long left;
	size_t n;
	int i, ret = -1;

	if (!ctx || !EVP_DigestInit_ex(ctx, md, NULL))
		goto out;
	for (i = 0; i < 4; i += 2) {
		if (fseeko(f, (off_t)range[i], SEEK_SET))
			goto out;
		for (left = range[i + 1]; left > 0; left -= (long long)n) {
			n = fread(buf, 1, left < (long long)sizeof(buf) ? (size_t)left : sizeof(buf),
				  f);
			if (!n || !EVP_DigestUpdate(ctx, buf, n))
				goto out;
		}
	}
	ret = EVP_DigestFinal_ex(ctx, out, len) ? 0 : -1;
out:
	EVP_MD_CTX_free(ctx);
	return ret;
}

int pdf_sig_digest(struct pdf_sig *s, const EVP_MD *md, unsigned char *out, unsigned int *len)
{
	return pdf_hash_ranges(s->f, s->range, md, out, len);
}

int pdf_sig_put(struct pdf_sig *s, const unsigned char *der, size_t len, char *err,
		size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	char buf[4096];
	size_t i, k = 0;

	if (len > s->contents_size) {
		snprintf(err, errlen, "the signature is %zu bytes, more than the %zu reserved", len,
			 s->contents_size);
		return -1;
	}
	if (fseeko(s->f, s->contents_at + 1, SEEK_SET))
		goto fail;
	for (i = 0; i < len; i++) {
		buf[k++] = hex[der[i] >> 4];
		buf[k++] = hex[der[i] & 15];
		if (k == sizeof(buf) || i + 1 == len) {
			if (fwrite(buf, 1, k, s->f) != k)
				goto fail;
			k = 0;
		}
	}
	if (fflush(s->f) == 0)
		return 0;
fail:
	snprintf(err, errlen, "the signature cannot be written into the PDF");
	return -1;
}

int pdf_sig_close(struct pdf_sig *s)
{
	int ret = 0;

	if (s->f && (fsync(fileno(s->f)), fclose(s->f)))
		ret = -1;
	s->f = NULL;
	return ret;
}
