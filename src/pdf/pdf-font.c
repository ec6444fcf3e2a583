/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include <hb.h>
#include <hb-subset.h>

#include "pdf/pdf-font.h"
#include "pdf/pdf-text.h"

/* The ToUnicode CMap's bfchar blocks hold at most this many entries. */
#define BFCHAR_MAX 100

struct pdf_glyph {
	unsigned int gid;
	unsigned int cp;		/* the character it shows */
	unsigned int width;		/* thousandths of an em */
};

struct pdf_font {
	hb_blob_t *blob;
	hb_face_t *face;
	hb_font_t *font;
	unsigned int upem;
	char name[64];			/* the PostScript name */
	struct pdf_glyph *glyphs;	/* used, sorted by gid */
	size_t n;
};

struct pdf_font *pdf_font_open(const char *path, char *err, size_t errlen)
{
	struct pdf_font *f = calloc(1, sizeof(*f));
	unsigned int len = sizeof(f->name);
	size_t i;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->blob = hb_blob_create_from_file_or_fail(path);
	f->face = f->blob ? hb_face_create(f->blob, 0) : NULL;
	if (!f->face || !hb_face_get_glyph_count(f->face)) {
		snprintf(err, errlen, "%s is not a font kyso can read", path);
		pdf_font_free(f);
		return NULL;
	}
	f->font = hb_font_create(f->face);
	f->upem = hb_face_get_upem(f->face);
	hb_font_set_scale(f->font, (int)f->upem, (int)f->upem);
	if (!hb_ot_name_get_utf8(f->face, HB_OT_NAME_ID_POSTSCRIPT_NAME, HB_LANGUAGE_INVALID,
				 &len, f->name) || !f->name[0])
		snprintf(f->name, sizeof(f->name), "Font");
	/* a PDF name: no spaces or delimiters */
	for (i = 0; f->name[i]; i++)
		if (f->name[i] <= 0x20 || f->name[i] >= 0x7f || strchr("#()<>[]{}/%", f->name[i]))
			f->name[i] = '-';
	return f;
}

void pdf_font_free(struct pdf_font *f)
{
	if (!f)
		return;
	hb_font_destroy(f->font);
	hb_face_destroy(f->face);
	hb_blob_destroy(f->blob);
	free(f->glyphs);
	free(f);
}

/* Notes glyph gid (showing cp). 0 or -1. */
static int note_glyph(struct pdf_font *f, unsigned int gid, unsigned int cp)
{
	struct pdf_glyph *grown;
	size_t i;

	for (i = 0; i < f->n && f->glyphs[i].gid < gid; i++)
		;
	if (i < f->n && f->glyphs[i].gid == gid)
		return 0;
	grown = realloc(f->glyphs, (f->n + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	f->glyphs = grown;
	memmove(&f->glyphs[i + 1], &f->glyphs[i], (f->n - i) * sizeof(*grown));
	f->glyphs[i].gid = gid;
	f->glyphs[i].cp = cp;
	f->glyphs[i].width = (unsigned int)((double)hb_font_get_glyph_h_advance(f->font, gid) *
					    1000.0 / f->upem + 0.5);
	f->n++;
	return 0;
}

char *pdf_font_text(struct pdf_font *f, const char *s, double *width, char *err,
		    size_t errlen)
{
	size_t len = strlen(s);
	unsigned int *cp = calloc(len + 1, sizeof(*cp)), gid;
	char *hex = NULL;
	int n, i;

	*width = 0;
	n = cp ? pdf_utf8_decode(s, cp, (int)len + 1) : -1;
	if (n < 0) {
		snprintf(err, errlen, "the text is not UTF-8");
		goto out;
	}
	hex = malloc((size_t)n * 4 + 1);
	if (!hex) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (!hb_font_get_nominal_glyph(f->font, cp[i], &gid) || gid > 0xffff ||
		    note_glyph(f, gid, cp[i])) {
			snprintf(err, errlen, "the font %s has no glyph for U+%04X", f->name, cp[i]);
			free(hex);
			hex = NULL;
			goto out;
		}
		snprintf(hex + 4 * i, 5, "%04X", gid);
		*width += (double)hb_font_get_glyph_h_advance(f->font, gid) * 1000.0 / f->upem;
	}
	hex[4 * n] = '\0';
out:
	free(cp);
	return hex;
}

void pdf_font_extent(const struct pdf_font *f, double *ascent, double *descent)
{
	hb_font_extents_t e = { 0 };

	hb_font_get_h_extents(f->font, &e);
	*ascent = e.ascender * 1000.0 / f->upem;
	*descent = e.descender * 1000.0 / f->upem;
}

/* The subset: the glyphs noted, their ids kept, without hinting. */
static hb_blob_t *subset(struct pdf_font *f)
{
	hb_subset_input_t *in = hb_subset_input_create_or_fail();
	hb_face_t *sub = NULL;
	hb_blob_t *blob = NULL;
	size_t i;

	if (!in)
		return NULL;
	for (i = 0; i < f->n; i++)
		hb_set_add(hb_subset_input_glyph_set(in), f->glyphs[i].gid);
	hb_subset_input_set_flags(in, HB_SUBSET_FLAGS_RETAIN_GIDS | HB_SUBSET_FLAGS_NO_HINTING);
	sub = hb_subset_or_fail(f->face, in);
	if (sub)
		blob = hb_face_reference_blob(sub);
	hb_face_destroy(sub);
	hb_subset_input_destroy(in);
	return blob;
}

/* The font's bounding box from its 'head' table, in thousandths of an em. */
static void font_bbox(struct pdf_font *f, int box[4])
{
	hb_blob_t *head = hb_face_reference_table(f->face, HB_TAG('h', 'e', 'a', 'd'));
	unsigned int len = 0;
	const unsigned char *p = (const unsigned char *)hb_blob_get_data(head, &len);
	int i;

	for (i = 0; i < 4; i++)
		box[i] = len >= 44 ? (int)((double)(short)(p[36 + 2 * i] << 8 | p[37 + 2 * i]) *
					   1000.0 / f->upem) : (i < 2 ? -1000 : 1000);
	hb_blob_destroy(head);
}

/* Six capital letters naming this subset (ISO 32000-1 9.6.4). */
static void subset_tag(const struct pdf_font *f, char tag[7])
{
	unsigned long h = 5381;
	size_t i;

	for (i = 0; i < f->n; i++)
		h = h * 33 + f->glyphs[i].gid;
	for (i = 0; i < 6; i++, h /= 26)
		tag[i] = (char)('A' + h % 26);
	tag[6] = '\0';
}

static void write_stream(struct pdf_update *u, const char *dict, const void *data, size_t len)
{
	fprintf(u->out, "<< %s/Length %zu >>\nstream\n", dict, len);
	fwrite(data, 1, len, u->out);
	fputs("\nendstream\nendobj\n", u->out);
}

/* The ToUnicode CMap: glyph id to the character it shows. */
static char *to_unicode(const struct pdf_font *f, size_t *len)
{
	char *text = NULL;
	FILE *m = open_memstream(&text, len);
	size_t i, j, k;
	unsigned int c;

	if (!m)
		return NULL;
	fputs("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
	      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
	      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
	      "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n", m);
	for (i = 0; i < f->n; i += k) {
		k = f->n - i < BFCHAR_MAX ? f->n - i : BFCHAR_MAX;
		fprintf(m, "%zu beginbfchar\n", k);
		for (j = i; j < i + k; j++) {
			c = f->glyphs[j].cp;
			if (c >= 0x10000)
				fprintf(m, "<%04X> <%04X%04X>\n", f->glyphs[j].gid,
					0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff));
			else
				fprintf(m, "<%04X> <%04X>\n", f->glyphs[j].gid, c);
		}
		fputs("endbfchar\n", m);
	}
	fputs("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n", m);
	if (fclose(m)) {
		free(text);
		return NULL;
	}
	return text;
}

int pdf_font_write(struct pdf_font *f, struct pdf_update *u, int *num)
{
	struct pdf_doc *d = u->doc;
	int type0 = pdf_doc_new_num(d), cid = pdf_doc_new_num(d), desc = pdf_doc_new_num(d),
	    file = pdf_doc_new_num(d), tounicode = pdf_doc_new_num(d), box[4], ret = -1;
	hb_blob_t *blob = subset(f);
	const char *data;
	unsigned int len = 0;
	char tag[7], dict[64], *cmap = NULL;
	size_t cmap_len = 0, i;
	double ascent, descent;

	data = blob ? hb_blob_get_data(blob, &len) : NULL;
	cmap = to_unicode(f, &cmap_len);
	if (!data || !len || !cmap)
		goto out;
	subset_tag(f, tag);
	font_bbox(f, box);
	pdf_font_extent(f, &ascent, &descent);
	if (pdf_update_obj(u, type0, 0))
		goto out;
	fprintf(u->out, "<< /Type /Font /Subtype /Type0 /BaseFont /%s+%s /Encoding /Identity-H "
		"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>\nendobj\n", tag, f->name, cid,
		tounicode);
	if (pdf_update_obj(u, cid, 0))
		goto out;
	fprintf(u->out, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s+%s "
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
		"/FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 1000\n/W [", tag, f->name, desc);
	for (i = 0; i < f->n; i++)
		fprintf(u->out, "%s%u [%u]", i ? " " : "", f->glyphs[i].gid, f->glyphs[i].width);
	fputs("] >>\nendobj\n", u->out);
	if (pdf_update_obj(u, desc, 0))
		goto out;
	fprintf(u->out, "<< /Type /FontDescriptor /FontName /%s+%s /Flags 32 "
		"/FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %.0f /Descent %.0f "
		"/CapHeight %.0f /StemV 80 /FontFile2 %d 0 R >>\nendobj\n", tag, f->name, box[0],
		box[1], box[2], box[3], ascent, descent, ascent, file);
	if (pdf_update_obj(u, file, 0))
		goto out;
	snprintf(dict, sizeof(dict), "/Length1 %u ", len);
	write_stream(u, dict, data, len);
	if (pdf_update_obj(u, tounicode, 0))
		goto out;
	write_stream(u, "", cmap, cmap_len);
	*num = type0;
	ret = ferror(u->out) ? -1 : 0;
out:
	free(cmap);
	hb_blob_destroy(blob);
	return ret;
}
